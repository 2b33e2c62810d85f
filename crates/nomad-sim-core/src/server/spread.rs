//! Nomad's spread iterator: percent targets, the implicit even spread, and per-job counts of
//! allocs per attribute value, kept incrementally as allocs are placed and end.

use std::cell::Cell;

#[allow(unused_imports)]
use crate::prelude::*;

use crate::config::Spread;
use crate::placement::Scorer;
use crate::server::affinity::AffinitySet;

/// A node's bucket not looked up yet.
const UNRESOLVED: u32 = u32::MAX;
/// The node lacks the spread's attribute.
pub(crate) const MISSING: u32 = u32::MAX - 1;

/// Allocs of one job per spread block and bucket (a target, `*`, or a value when even).
pub type SpreadCounts = Vec<Vec<u32>>;

/// One spread block, compiled for scoring.
#[derive(Clone, Debug)]
pub(crate) struct SpreadRule {
    attribute: String,
    /// The block whose weight and desired counts score this one: Nomad keeps one per
    /// attribute, so two blocks on one attribute share the first's.
    info: usize,
    weight: u8,
    /// Target values; a value not listed counts under `*` (bucket `targets.len()`). Empty
    /// for an even spread, whose buckets are the values themselves.
    targets: Vec<String>,
    /// Desired count per bucket (targets, then `*`); `None`: no target and no implicit one.
    desired: Vec<Option<f64>>,
    /// Values met so far (even spread): the bucket is the index.
    values: Vec<String>,
    /// Each node's bucket, looked up once (a node's attributes do not change).
    node_bucket: Vec<u32>,
}

impl SpreadRule {
    fn new(spread: &Spread, count: u32) -> SpreadRule {
        let mut targets: Vec<String> = Vec::new();
        let mut desired: Vec<Option<f64>> = Vec::new();
        let mut sum = 0.0;
        for t in &spread.targets {
            let d = (f64::from(t.percent) / 100.0) * f64::from(count);
            match targets.iter().position(|v| v == &t.value) {
                Some(i) => desired[i] = Some(d),
                None => {
                    targets.push(t.value.clone());
                    desired.push(Some(d));
                }
            }
            sum += d;
        }
        // The implicit `*` target takes what the listed targets leave of the count.
        let implicit = (sum > 0.0 && sum < f64::from(count)).then(|| f64::from(count) - sum);
        if !targets.is_empty() {
            desired.push(implicit);
        }
        SpreadRule {
            attribute: spread.attribute.clone(),
            info: 0,
            weight: spread.weight,
            targets,
            desired,
            values: Vec::new(),
            node_bucket: Vec::new(),
        }
    }

    /// The node's bucket, looked up on first use.
    fn bucket(&mut self, node: NodeId, props: &NodeProperties<'_>) -> u32 {
        if let Some(&b) = self.node_bucket.get(node.index()) {
            if b != UNRESOLVED {
                return b;
            }
        } else {
            self.node_bucket.resize(node.index() + 1, UNRESOLVED);
        }
        let b = match props.resolve(&self.attribute) {
            None => MISSING,
            Some(v) if !self.targets.is_empty() => {
                self.targets
                    .iter()
                    .position(|t| t == v)
                    .unwrap_or(self.targets.len()) as u32
            }
            Some(v) => match self.values.iter().position(|x| x == v) {
                Some(i) => i as u32,
                None => {
                    self.values.push(v.to_string());
                    (self.values.len() - 1) as u32
                }
            },
        };
        self.node_bucket[node.index()] = b;
        b
    }

    /// The bucket of a node already looked up.
    fn known_bucket(&self, node: NodeId) -> Option<u32> {
        self.node_bucket
            .get(node.index())
            .copied()
            .filter(|&b| b != UNRESOLVED)
    }
}

/// A workload's spread blocks, with the sum of their weights.
#[derive(Clone, Debug)]
pub(crate) struct SpreadSet {
    rules: Vec<SpreadRule>,
    sum_weights: i32,
    /// The buckets of the node being scored, one per rule (reused between nodes).
    scratch: Vec<u32>,
}

impl SpreadSet {
    fn new(spreads: &[Spread], count: u32) -> SpreadSet {
        let mut rules: Vec<SpreadRule> =
            spreads.iter().map(|s| SpreadRule::new(s, count)).collect();
        for i in 0..rules.len() {
            rules[i].info = rules
                .iter()
                .position(|r| r.attribute == rules[i].attribute)
                .expect("a rule finds itself");
        }
        SpreadSet {
            sum_weights: spreads.iter().map(|s| i32::from(s.weight)).sum(),
            rules,
            scratch: Vec::new(),
        }
    }

    /// Looks up the node's bucket for every rule into the scratch list.
    pub(crate) fn resolve(&mut self, node: NodeId, props: &NodeProperties<'_>) {
        self.scratch.clear();
        for r in &mut self.rules {
            let b = r.bucket(node, props);
            self.scratch.push(b);
        }
    }

    /// The spread scorer for the node last resolved.
    pub(crate) fn scorer<'a>(
        &'a self,
        counts: &'a SpreadCounts,
        lowest: &'a Cell<f64>,
    ) -> SpreadScorer<'a> {
        SpreadScorer {
            set: self,
            counts,
            lowest,
        }
    }

    /// Counts allocs per bucket for a job of this set.
    pub(crate) fn new_counts(&self) -> SpreadCounts {
        vec![Vec::new(); self.rules.len()]
    }
}

/// Nomad's even-spread boost for a node whose value has `current` allocs, given the alloc
/// counts of the values in use (zero counts are values not in use): 0 when nothing is
/// placed, +1 for a value without allocs, `(min - current) / min` above the minimum, -1 when
/// every value is at the minimum, `(max - min) / min` at the minimum below the maximum.
pub fn even_spread_boost(current: u32, counts: &[u32]) -> f64 {
    let mut used = counts.iter().copied().filter(|&c| c > 0).peekable();
    if used.peek().is_none() {
        return 0.0;
    }
    let (mut min, mut max) = (u32::MAX, 0u32);
    for c in used {
        min = min.min(c);
        max = max.max(c);
    }
    if current != min {
        return (f64::from(min) - f64::from(current)) / f64::from(min);
    }
    if min == max {
        return -1.0;
    }
    f64::from(max - min) / f64::from(min)
}

/// Nomad's boost for a spread with targets: `(desired - used) / desired` times the spread's
/// share of the weights, where `used` counts the placement being scored.
pub fn target_spread_boost(desired: f64, used: u32, weight_share: f64) -> f64 {
    ((desired - f64::from(used)) / desired) * weight_share
}

/// The `allocation-spread` scorer: the sum of each spread block's boost for one node (-1 for
/// a block whose attribute the node lacks or whose value has no target); it applies only when
/// the sum is not 0. `lowest` is Nomad's running lowest boost of the eval, which a target of
/// 0 % scores.
#[derive(Clone, Copy)]
pub struct SpreadScorer<'a> {
    set: &'a SpreadSet,
    counts: &'a SpreadCounts,
    lowest: &'a Cell<f64>,
}

impl Scorer for SpreadScorer<'_> {
    const NAME: &'static str = "allocation-spread";

    fn score(&self, _input: &crate::placement::ScoreInput) -> Option<f64> {
        let mut total = 0.0;
        for (i, rule) in self.set.rules.iter().enumerate() {
            let b = self.set.scratch[i];
            if b == MISSING {
                total -= 1.0;
                continue;
            }
            let counts = &self.counts[i];
            let info = &self.set.rules[rule.info];
            if info.targets.is_empty() {
                let current = counts.get(b as usize).copied().unwrap_or(0);
                total += even_spread_boost(current, counts);
                continue;
            }
            // The node's bucket under the scoring block's own targets.
            let bucket = if rule.info == i {
                b as usize
            } else {
                rule.targets
                    .get(b as usize)
                    .and_then(|v| info.targets.iter().position(|t| t == v))
                    .unwrap_or(info.targets.len())
            };
            let Some(desired) = info.desired.get(bucket).copied().flatten() else {
                total -= 1.0;
                continue;
            };
            if desired == 0.0 {
                total += self.lowest.get();
                continue;
            }
            let used = counts.get(b as usize).copied().unwrap_or(0) + 1;
            let share = if self.set.sum_weights == 0 {
                0.0
            } else {
                f64::from(info.weight) / f64::from(self.set.sum_weights)
            };
            let boost = target_spread_boost(desired, used, share);
            total += boost;
            if boost < self.lowest.get() {
                self.lowest.set(boost);
            }
        }
        (total != 0.0).then_some(total)
    }
}

/// A workload's spread and affinity blocks, compiled: what makes its Selects score more.
#[derive(Clone, Debug)]
pub(crate) struct Preferences {
    pub(crate) spread: Option<SpreadSet>,
    pub(crate) affinity: Option<AffinitySet>,
}

impl Preferences {
    /// The workload's preferences, or `None` when it has neither spreads nor affinities (or
    /// is a system job: Nomad's system stack scores neither).
    pub(crate) fn of(w: &WorkloadConfig) -> Option<Box<Preferences>> {
        if w.job_type.is_per_node() || (w.spreads.is_empty() && w.affinities.is_empty()) {
            return None;
        }
        Some(Box::new(Preferences {
            spread: (!w.spreads.is_empty()).then(|| SpreadSet::new(&w.spreads, w.count)),
            affinity: (!w.affinities.is_empty()).then(|| AffinitySet::new(&w.affinities)),
        }))
    }
}

impl Simulation {
    /// The properties of a node that constraints, affinities and spreads name.
    pub(crate) fn node_properties(&self, node: NodeId) -> NodeProperties<'_> {
        let n = &self.state.nodes[node.index()];
        let pool = &self.config.pools[n.pool as usize];
        NodeProperties::of_pool(pool, &n.id, &n.name)
    }

    /// Adds (`up`) or removes an alloc of `job` on `node` in the job's spread counts.
    pub(crate) fn count_spread(&mut self, job: JobId, node: NodeId, up: bool) {
        let w = self.state.jobs[job].workload as usize;
        let Some(mut prefs) = self.server.preferences[w].take() else {
            return;
        };
        if let Some(set) = prefs.spread.as_mut() {
            let props = self.node_properties(node);
            set.resolve(node, &props);
            let counts = self.state.jobs[job]
                .spread_counts
                .as_mut()
                .expect("a job with spreads keeps counts");
            for (i, &b) in set.scratch.iter().enumerate() {
                // Nodes without the attribute are not counted, as in Nomad's property sets.
                if b == MISSING {
                    continue;
                }
                let c = &mut counts[i];
                if c.len() <= b as usize {
                    c.resize(b as usize + 1, 0);
                }
                if up {
                    c[b as usize] += 1;
                } else {
                    c[b as usize] = c[b as usize]
                        .checked_sub(1)
                        .expect("an ending alloc was counted in its spread bucket");
                }
            }
        }
        self.server.preferences[w] = Some(prefs);
    }

    /// Spread counts that disagree with a recount of the live allocs.
    pub(crate) fn spread_count_violations(&self) -> Vec<String> {
        let mut want: BTreeMap<JobId, SpreadCounts> = BTreeMap::new();
        let mut out = Vec::new();
        for (_, a) in self.state.allocs.iter() {
            if a.ended_ms().is_some() {
                continue;
            }
            let Some(j) = self.state.jobs.get(a.job) else {
                continue;
            };
            let Some(set) = self.server.preferences[j.workload as usize]
                .as_ref()
                .and_then(|p| p.spread.as_ref())
            else {
                continue;
            };
            let counts = want.entry(a.job).or_insert_with(|| set.new_counts());
            for (i, rule) in set.rules.iter().enumerate() {
                match rule.known_bucket(a.node) {
                    None => out.push(format!(
                        "spread {:?}: the node of a live alloc was never looked up",
                        rule.attribute
                    )),
                    Some(MISSING) => {}
                    Some(b) => {
                        let c = &mut counts[i];
                        if c.len() <= b as usize {
                            c.resize(b as usize + 1, 0);
                        }
                        c[b as usize] += 1;
                    }
                }
            }
        }
        for (id, j) in self.state.jobs.iter() {
            let Some(have) = j.spread_counts.as_deref() else {
                continue;
            };
            let empty = vec![Vec::new(); have.len()];
            let want = want.get(&id).unwrap_or(&empty);
            for (i, (h, w)) in have.iter().zip(want).enumerate() {
                let n = h.len().max(w.len());
                let at = |v: &Vec<u32>, k: usize| v.get(k).copied().unwrap_or(0);
                if (0..n).any(|k| at(h, k) != at(w, k)) {
                    out.push(format!(
                        "job {}: spread {i} counts {h:?}, live allocs give {w:?}",
                        j.serial
                    ));
                }
            }
        }
        out
    }
}
