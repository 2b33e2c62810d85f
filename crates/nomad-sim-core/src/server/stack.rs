//! The generic scheduler's stack: feasibility, ranking, the limit and max score over a lazy shuffle.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::placement::{job_anti_affinity, FitnessScorer, Scorer};
use crate::resources::Dimension;

/// Where the lazy shuffle of one evaluation stands (Nomad's `StaticIterator` offset).
#[derive(Clone, Debug, Default)]
pub(crate) struct Scan {
    pub(crate) offset: usize,
    pub(crate) shuffled: usize,
    /// Computed classes found ineligible in this eval (Nomad's `EvalEligibility`).
    pub(crate) ineligible_classes: Vec<u32>,
    /// The spread iterator's lowest boost seen in this eval; `None` is its start, -1.
    pub(crate) lowest_spread_boost: Option<f64>,
}

/// A ranked option during a Select.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RankedOption {
    pub(crate) node: NodeId,
    pub(crate) parts: ScoreParts,
    pub(crate) score: f64,
}

/// Nomad's limit iterator, with its skip rule, feeding the max-score iterator: options are
/// offered in scan order; one scoring at most `SKIP_SCORE_THRESHOLD` is held back (up to
/// `MAX_SKIP` of them) and returned only if the scan ends under the limit. Both Select paths
/// use it, the full one with its ranked options and the plain one with a node alone.
struct LimitMax<T: Copy> {
    limit: usize,
    returned: usize,
    skipped: [Option<(T, f64)>; MAX_SKIP],
    n_skipped: usize,
    best: Option<(T, f64)>,
}

impl<T: Copy> LimitMax<T> {
    #[inline]
    fn new(limit: usize) -> Self {
        LimitMax {
            limit,
            returned: 0,
            skipped: [None; MAX_SKIP],
            n_skipped: 0,
            best: None,
        }
    }

    /// True while the limit wants more options.
    #[inline]
    fn wants_more(&self) -> bool {
        self.returned < self.limit
    }

    /// Offers an option with its final score; true when it was returned now (not held back).
    #[inline]
    fn offer(&mut self, option: T, score: f64) -> bool {
        if self.n_skipped < MAX_SKIP && score <= SKIP_SCORE_THRESHOLD {
            self.skipped[self.n_skipped] = Some((option, score));
            self.n_skipped += 1;
            return false;
        }
        self.take(option, score);
        true
    }

    /// The max-score iterator's step: the first of equal scores stays best.
    #[inline]
    fn take(&mut self, option: T, score: f64) {
        if self.best.is_none_or(|(_, b)| score > b) {
            self.best = Some((option, score));
        }
        self.returned += 1;
    }

    /// Returns held-back options, in the order they were held, while under the limit
    /// (`returned` sees each), then the best option.
    #[inline]
    fn finish(mut self, mut returned: impl FnMut(T)) -> Option<T> {
        for i in 0..self.n_skipped {
            if !self.wants_more() {
                break;
            }
            if let Some((option, score)) = self.skipped[i] {
                self.take(option, score);
                returned(option);
            }
        }
        self.best.map(|(option, _)| option)
    }
}

impl Simulation {
    /// Adds the node affinity and spread scores of a job that has affinities or spreads.
    fn score_preferences(
        &self,
        prefs: &mut crate::server::spread::Preferences,
        job: JobId,
        node: NodeId,
        input: &ScoreInput,
        parts: &mut ScoreParts,
        lowest: &std::cell::Cell<f64>,
    ) {
        let props = self.node_properties(node);
        if let Some(a) = prefs.affinity.as_mut() {
            let class_id = self.state.nodes[node.index()].class_id;
            parts.node_affinity = Some(a.score(class_id, &props, input));
        }
        if let Some(s) = prefs.spread.as_mut() {
            s.resolve(node, &props);
            let counts = self.state.jobs[job]
                .spread_counts
                .as_deref()
                .expect("a job with spreads keeps counts");
            parts.allocation_spread = s.scorer(counts, lowest).score(input);
        }
    }

    pub(crate) fn constraint_check(&mut self, constraint_set: u32, node: NodeId) -> Option<usize> {
        // Most jobs have no constraints: answer before touching the node's properties.
        if self.server.constraint_sets[constraint_set as usize]
            .constraints
            .is_empty()
        {
            return None;
        }
        let n = &self.state.nodes[node.index()];
        let pool = &self.config.pools[n.pool as usize];
        let props = NodeProperties::of_pool(pool, &n.id, &n.name);
        self.server.constraint_sets[constraint_set as usize].check(n.class_id, &props)
    }

    /// True when `node` is a candidate for the job and passes every check: constraints,
    /// `distinct_hosts` and resources.
    pub(crate) fn fits(&mut self, job: JobId, node: NodeId) -> bool {
        let j = &self.state.jobs[job];
        let ws = &self.sources.workloads[j.workload as usize];
        let distinct = self.config.workloads[j.workload as usize]
            .distinct_hosts
            .then_some(job);
        let hardware = ws.hardware.then_some(j.workload);
        let (set, cs, ask) = (ws.candidate_set, ws.constraint_set, j.ask);
        self.node_fits(set, cs, ask, distinct, hardware, node)
    }

    /// One Select: Nomad's iterator chain over the lazily shuffled candidates. Its metrics are
    /// left in `self.server.metric`, whether a node is chosen or not.
    pub(crate) fn select_inner(
        &mut self,
        job: JobId,
        scan: &mut Scan,
        penalty: Option<NodeId>,
        record_scores: bool,
    ) -> Option<NodeId> {
        let j = &self.state.jobs[job];
        let workload = &self.config.workloads[j.workload as usize];
        let job_type = workload.job_type;
        let distinct = workload.distinct_hosts;
        let algorithm = self.config.algorithm;
        let ask = j.ask;
        let count = j.count;
        let w = j.workload as usize;
        let ws = &self.sources.workloads[w];
        let (set_id, cs_id) = (ws.candidate_set as usize, ws.constraint_set);
        let hardware = ws.hardware;
        // Spreads and affinities, if the job has any, are taken out for the Select (their
        // caches fill as nodes are scored) and put back at the end.
        let mut prefs = self.server.preferences[w].take();
        // The limit follows the whole candidate set; a woken eval scans only the nodes whose
        // capacity grew (`restrict`), since no other node can fit its bucket's ask.
        let limit = if prefs.is_some() {
            preference_limit(count)
        } else {
            select_limit(job_type, self.server.candidate_sets[set_id].members.len())
        };
        let lowest = std::cell::Cell::new(scan.lowest_spread_boost.unwrap_or(-1.0));
        let n = match &self.server.restrict {
            Some(nodes) => nodes.len(),
            None => self.server.candidate_sets[set_id].members.len(),
        };
        let collect = record_scores && self.observe.collect_scores;
        self.server.metric.reset();
        self.server.tally.clear();
        let plain = prefs.is_none()
            && !hardware
            && !distinct
            && !collect
            && !self.server.preempting
            && penalty.is_none()
            && self.server.penalty_nodes.is_empty()
            && self.server.constraint_sets[cs_id as usize]
                .constraints
                .is_empty();
        if plain {
            return self.select_plain(job, scan, set_id, n, limit);
        }
        let mut options = LimitMax::new(limit);
        let mut ranked: Vec<RankedOption> = Vec::new();
        let mut seen = 0usize;
        while seen < n && options.wants_more() {
            let node = self.next_candidate(scan, set_id, n);
            seen += 1;
            if let Some(i) = self.constraint_check(cs_id, node) {
                // issue 12: a node whose computed class already failed in this eval is
                // filtered as `computed class ineligible` (unless a constraint escapes the
                // class cache), and filtered nodes are counted by class too.
                let cs = &self.server.constraint_sets[cs_id as usize];
                let nd = &self.state.nodes[node.index()];
                let reason = if cs.escaped {
                    cs.constraints[i].describe()
                } else if scan.ineligible_classes.contains(&nd.class_id) {
                    "computed class ineligible".to_string()
                } else {
                    scan.ineligible_classes.push(nd.class_id);
                    cs.constraints[i].describe()
                };
                self.server.tally.filtered(nd.pool);
                self.server.metric.filter(&reason);
                continue;
            }
            // Nomad's `DeviceChecker` runs with the task group's feasibility checks, so its
            // verdict is per computed class too.
            if hardware && !self.devices_present(w, node) {
                let nd = &self.state.nodes[node.index()];
                let reason = if scan.ineligible_classes.contains(&nd.class_id) {
                    "computed class ineligible"
                } else {
                    scan.ineligible_classes.push(nd.class_id);
                    crate::hardware::MISSING_DEVICES
                };
                self.server.tally.filtered(nd.pool);
                self.server.metric.filter(reason);
                continue;
            }
            let collisions = self.state.jobs[job]
                .node_counts
                .as_ref()
                .map_or(0, |c| c.get(node.0));
            if distinct && collisions > 0 {
                self.server
                    .tally
                    .filtered(self.state.nodes[node.index()].pool);
                self.server.metric.filter("distinct_hosts");
                continue;
            }
            // Ports, then devices, then cores, before CPU, memory and disk, as Nomad's binpack
            // iterator checks them; reserved cores also take their CPU.
            let mut device_score = None;
            let mut ask = ask;
            if hardware {
                match self.hardware_offer(w, node) {
                    Ok(offer) => {
                        device_score = offer.device_score;
                        ask = ask.plus(Resources::new(offer.core_cpu_mhz, 0, 0));
                    }
                    Err(short) => {
                        let pool = self.state.nodes[node.index()].pool;
                        self.server.tally.exhausted(pool);
                        self.server.metric.nodes_exhausted += 1;
                        self.server
                            .metric
                            .dimension_exhausted
                            .add_named(&short.dimension());
                        continue;
                    }
                }
            }
            let nd = &self.state.nodes[node.index()];
            let (allocatable, pool) = (nd.allocatable, nd.pool);
            let used_after = nd.used.plus(ask);
            let mut preemption = None;
            if let Some(dim) = allocatable.first_short(used_after) {
                // Only the Select that runs after a failed one may preempt (issue 11).
                match self
                    .server
                    .preempting
                    .then(|| self.find_victims(job, node))
                    .flatten()
                {
                    Some((victims, score)) => {
                        self.server.preempt_options.push((node, victims));
                        preemption = Some(score);
                    }
                    None => {
                        self.note_exhausted(pool, dim);
                        continue;
                    }
                }
            }
            let input = ScoreInput {
                allocatable,
                used_after,
                collisions,
                count,
                penalized: penalty == Some(node) || self.server.penalty_nodes.contains(&node),
            };
            let fitness = FitnessScorer {
                algorithm,
                memo: &self.server.pow10,
            };
            let mut parts = ScoreParts::rank(fitness, &input);
            parts.devices = device_score;
            parts.preemption = preemption;
            if let Some(p) = prefs.as_deref_mut() {
                self.score_preferences(p, job, node, &input, &mut parts, &lowest);
            }
            let opt = RankedOption {
                node,
                parts,
                score: parts.final_score(),
            };
            if options.offer(opt, opt.score) && collect {
                ranked.push(opt);
            }
        }
        let best = options.finish(|opt| {
            if collect {
                ranked.push(opt);
            }
        });
        if prefs.is_some() {
            scan.lowest_spread_boost = Some(lowest.get());
            self.server.preferences[w] = prefs;
        }
        if collect {
            // The reset left the list empty with its room.
            self.server
                .metric
                .scores
                .extend(ranked.iter().map(|o| NodeScore {
                    node: self.state.nodes[o.node.index()].name.clone(),
                    scores: o.parts,
                    norm_score: o.score,
                }));
        }
        best.map(|opt| opt.node)
    }

    /// The scan's next node. The lazy shuffle draws one more position when the scan reaches
    /// the part not yet shuffled, and a scan past the end starts again from the front.
    #[inline(always)]
    fn next_candidate(&mut self, scan: &mut Scan, set_id: usize, n: usize) -> NodeId {
        if scan.offset >= n {
            scan.offset = 0;
        }
        if scan.offset == scan.shuffled {
            let pick = self.server.placement_rng.gen_range(scan.offset..n);
            match self.server.restrict.as_mut() {
                Some(nodes) => nodes.swap(scan.offset, pick),
                None => self.server.candidate_sets[set_id].swap(scan.offset, pick),
            }
            scan.shuffled += 1;
        }
        let node = match &self.server.restrict {
            Some(nodes) => nodes[scan.offset],
            None => self.server.candidate_sets[set_id].members[scan.offset],
        };
        scan.offset += 1;
        self.server.metric.nodes_evaluated += 1;
        node
    }

    /// Counts a node the ask does not fit, short in `dim`.
    fn note_exhausted(&mut self, pool: u32, dim: Dimension) {
        self.server.tally.exhausted(pool);
        self.server.metric.nodes_exhausted += 1;
        self.server.metric.dimension_exhausted.add(dim);
    }

    /// The Select of a job scored by binpack and job anti-affinity alone: no constraints,
    /// devices, `distinct_hosts`, affinities, spreads, penalties or preemption, and no scores
    /// kept. It runs the same iterator chain as [`Simulation::select_inner`] (same draws,
    /// nodes, metrics and floating-point sums), with a ranked option that is only a node and
    /// its final score; most Selects are of this kind.
    fn select_plain(
        &mut self,
        job: JobId,
        scan: &mut Scan,
        set_id: usize,
        n: usize,
        limit: usize,
    ) -> Option<NodeId> {
        let j = &self.state.jobs[job];
        let (ask, count, algorithm) = (j.ask, j.count, self.config.algorithm);
        let mut options = LimitMax::new(limit);
        let mut seen = 0usize;
        while seen < n && options.wants_more() {
            let node = self.next_candidate(scan, set_id, n);
            seen += 1;
            let collisions = self.state.jobs[job]
                .node_counts
                .as_ref()
                .map_or(0, |c| c.get(node.0));
            let nd = &self.state.nodes[node.index()];
            let (allocatable, pool) = (nd.allocatable, nd.pool);
            let used_after = nd.used.plus(ask);
            if let Some(dim) = allocatable.first_short(used_after) {
                self.note_exhausted(pool, dim);
                continue;
            }
            let binpack = self.server.pow10.score(algorithm, allocatable, used_after);
            // The final score is the mean of the scores that apply, as `final_score` sums it.
            let score = match job_anti_affinity(collisions, count) {
                None => binpack,
                Some(anti) => (binpack + anti) / 2.0,
            };
            options.offer(node, score);
        }
        options.finish(|_| {})
    }
}
