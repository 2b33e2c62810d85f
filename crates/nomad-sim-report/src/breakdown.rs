//! Figures per pool and per workload, and the run over time: pending times, placements and
//! work stopped, read from the run's trace events (a job's workload is the workload name its
//! ID starts with, a node's pool the pool it was created in), plus queue depth and live nodes
//! sampled every simulated minute.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use nomad_sim_core::config::SimConfig;
use nomad_sim_core::metrics::{round_to, Histogram, PendingStats};
use nomad_sim_core::time::{SimTime, HOUR_MS, MINUTE_MS};
use nomad_sim_core::{Simulation, TraceEvent, TraceSink};

/// What one pool or workload saw.
#[derive(Clone, Debug, Default)]
pub struct Group {
    /// The pool's or workload's name.
    pub name: String,
    /// Every placement, replacements included.
    pub placements: u64,
    /// Pending time of original placements (job submission to placement); system jobs left out,
    /// as in the report.
    pub pending: Histogram,
    /// Allocations stopped by the server (drain deadlines, migrations, preemption).
    pub stopped: u64,
    /// Allocations lost with their node.
    pub lost: u64,
    /// Allocations that failed.
    pub failed: u64,
}

/// The share of the pending times above zero: the placements that waited for capacity.
pub fn waited_fraction(pending: &Histogram) -> f64 {
    if pending.count() == 0 {
        0.0
    } else {
        round_to(pending.count_above(0) as f64 / pending.count() as f64, 6)
    }
}

impl Group {
    fn named(name: &str) -> Group {
        Group {
            name: name.to_string(),
            ..Group::default()
        }
    }

    /// Mean and percentiles of pending time, in seconds.
    pub fn pending_stats(&self) -> PendingStats {
        self.pending.pending_stats()
    }

    /// The share of original placements that waited for capacity.
    pub fn waited_fraction(&self) -> f64 {
        waited_fraction(&self.pending)
    }

    /// A figure by name, for targets (`p95_pending_s`, `waited_fraction`, ...); `None` for a
    /// name that is not a per-group figure.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let p = self.pending_stats();
        Some(match name {
            "mean_pending_s" => p.mean,
            "p50_pending_s" => p.p50,
            "p90_pending_s" => p.p90,
            "p95_pending_s" => p.p95,
            "p99_pending_s" => p.p99,
            "max_pending_s" => p.max,
            "waited_fraction" => self.waited_fraction(),
            "placements" => self.placements as f64,
            "stopped_or_lost" => (self.stopped + self.lost) as f64,
            _ => return None,
        })
    }
}

/// The figures a target may name for one pool or workload.
pub const GROUP_METRICS: [&str; 9] = [
    "mean_pending_s",
    "p50_pending_s",
    "p90_pending_s",
    "p95_pending_s",
    "p99_pending_s",
    "max_pending_s",
    "waited_fraction",
    "placements",
    "stopped_or_lost",
];

/// The running tally behind [`Sink`].
#[derive(Debug, Default)]
pub struct Tally {
    /// One group per pool, in the configuration's order.
    pub pools: Vec<Group>,
    /// One group per reported workload name, in the configuration's order.
    pub workloads: Vec<Group>,
    /// (workload name as job IDs start, reported group, is a system job), longest name first.
    prefixes: Vec<(String, usize, bool)>,
    /// Node name to pool.
    node_pool: HashMap<String, usize>,
    /// Pool names, longest first, for nodes created during the run (`<pool>-<index>`).
    pool_prefixes: Vec<(String, usize)>,
    /// Live allocations: alloc ID to alloc name.
    live: HashMap<String, Box<str>>,
    /// Names of allocations that ended unfinished, whose next placement is a replacement.
    unfinished: HashSet<Box<str>>,
}

impl Tally {
    /// A tally for a simulation about to run. `aliases` maps a workload name of the
    /// configuration to the name it is reported under (a split workload's parts, say).
    pub fn new(sim: &Simulation, aliases: &[(String, String)]) -> Tally {
        let c = sim.config();
        let mut workloads: Vec<Group> = Vec::new();
        let mut prefixes = Vec::new();
        for w in &c.workloads {
            // The groups of a job file with several task groups are one job, reported under
            // the job's ID, which its job IDs start with.
            let name = match &w.identity {
                Some(id) if id.group_count > 1 => id.job_id.as_str(),
                _ => w.name.as_str(),
            };
            let shown = aliases
                .iter()
                .find(|(from, _)| *from == name)
                .map_or(name, |(_, to)| to.as_str());
            let index = match workloads.iter().position(|g| g.name == shown) {
                Some(i) => i,
                None => {
                    workloads.push(Group::named(shown));
                    workloads.len() - 1
                }
            };
            prefixes.push((name.to_string(), index, w.job_type.is_per_node()));
        }
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        let mut pool_prefixes: Vec<(String, usize)> = c
            .pools
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), i))
            .collect();
        pool_prefixes.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        Tally {
            pools: c.pools.iter().map(|p| Group::named(&p.name)).collect(),
            workloads,
            prefixes,
            node_pool: sim
                .nodes()
                .iter()
                .map(|n| (n.name.clone(), n.pool as usize))
                .collect(),
            pool_prefixes,
            live: HashMap::new(),
            unfinished: HashSet::new(),
        }
    }

    /// The workload group a job ID belongs to, and whether it is a system job.
    fn workload_of(&self, job: &str) -> Option<(usize, bool)> {
        self.prefixes
            .iter()
            .find(|(name, _, _)| {
                job.strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '/', '.']))
            })
            .map(|(_, g, system)| (*g, *system))
    }

    /// The pool a node belongs to.
    fn pool_of(&mut self, node: &str) -> Option<usize> {
        if let Some(p) = self.node_pool.get(node) {
            return Some(*p);
        }
        let found = self.pool_prefixes.iter().find(|(name, _)| {
            node.strip_prefix(name.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })?;
        let pool = found.1;
        self.node_pool.insert(node.to_string(), pool);
        Some(pool)
    }

    fn each(&mut self, job: &str, node: &str, f: impl Fn(&mut Group)) {
        if let Some((w, _)) = self.workload_of(job) {
            f(&mut self.workloads[w]);
        }
        if let Some(p) = self.pool_of(node) {
            f(&mut self.pools[p]);
        }
    }

    /// Records one trace event.
    pub fn record(&mut self, event: &TraceEvent) {
        match event {
            TraceEvent::AllocPlaced {
                job,
                alloc,
                name,
                node,
                pending_ms,
                ..
            } => {
                let replacement = self.unfinished.remove(name.as_str());
                let system = self.workload_of(job).is_some_and(|(_, s)| s);
                let pending = (!replacement && !system).then_some(*pending_ms);
                self.each(job, node, |g| {
                    g.placements += 1;
                    if let Some(ms) = pending {
                        g.pending.record(ms);
                    }
                });
                self.live.insert(alloc.clone(), name.as_str().into());
            }
            TraceEvent::AllocCompleted { alloc, .. } => {
                self.live.remove(alloc);
            }
            TraceEvent::AllocFailed { job, alloc, node } => {
                self.each(job, node, |g| g.failed += 1);
                self.ended_unfinished(alloc);
            }
            TraceEvent::AllocStopped {
                job, alloc, node, ..
            } => {
                self.each(job, node, |g| g.stopped += 1);
                self.ended_unfinished(alloc);
            }
            TraceEvent::AllocLost {
                job, alloc, node, ..
            } => {
                self.each(job, node, |g| g.lost += 1);
                self.ended_unfinished(alloc);
            }
            _ => {}
        }
    }

    fn ended_unfinished(&mut self, alloc: &str) {
        if let Some(name) = self.live.remove(alloc) {
            self.unfinished.insert(name);
        }
    }
}

/// A trace sink that keeps a [`Tally`] and passes every event on to another sink, if any.
pub struct Sink {
    tally: Rc<RefCell<Tally>>,
    inner: Option<Box<dyn TraceSink>>,
}

impl TraceSink for Sink {
    fn record(&mut self, t_ms: SimTime, event: &TraceEvent) {
        self.tally.borrow_mut().record(event);
        if let Some(inner) = self.inner.as_mut() {
            inner.record(t_ms, event);
        }
    }
}

/// One simulated hour.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hour {
    /// The most allocations waiting for placement, sampled each minute.
    pub peak_queue: u64,
    /// Fewest and most live nodes (all pools), sampled each minute.
    pub nodes: (u32, u32),
}

/// What [`observe`] saw.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// Per pool and per workload, when asked for.
    pub groups: Option<(Vec<Group>, Vec<Group>)>,
    /// Hour by hour, from the start to the end of the run.
    pub hours: Vec<Hour>,
    /// Fewest and most live nodes per pool over the run, sampled each minute.
    pub pool_nodes: Vec<(u32, u32)>,
    /// Node-hours per pool.
    pub pool_node_hours: Vec<f64>,
}

impl Observed {
    /// A pool's figures, by name.
    pub fn pool(&self, name: &str) -> Option<&Group> {
        self.groups.as_ref()?.0.iter().find(|g| g.name == name)
    }

    /// A workload's figures, by name.
    pub fn workload(&self, name: &str) -> Option<&Group> {
        self.groups.as_ref()?.1.iter().find(|g| g.name == name)
    }
}

/// True when per-pool and per-workload figures would say more than the totals (more than one
/// pool or workload): the tally costs a trace event per allocation, so it is kept only then.
pub fn worth_breaking_down(config: &SimConfig) -> bool {
    config.pools.len() > 1 || config.workloads.len() > 1
}

/// How [`observe`] runs a simulation.
pub struct Options {
    /// Keep per-pool and per-workload figures.
    pub breakdown: bool,
    /// Workload name aliases (see [`Tally::new`]).
    pub aliases: Vec<(String, String)>,
    /// Another sink that gets every trace event (the `--trace` file).
    pub trace: Option<Box<dyn TraceSink>>,
    /// How often to sample the queue and the nodes (default: every simulated minute).
    pub sample_every_ms: SimTime,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            breakdown: false,
            aliases: Vec::new(),
            trace: None,
            sample_every_ms: MINUTE_MS,
        }
    }
}

/// Runs `sim` to its end, sampling every `options.sample_every_ms` of simulated time, and
/// returns what it saw. `each_sample` is called at every sample with the simulation.
/// The run itself is the same as `Simulation::run`: sampling only reads.
pub fn observe(
    sim: &mut Simulation,
    options: Options,
    mut each_sample: impl FnMut(&Simulation),
) -> Observed {
    let tally = options
        .breakdown
        .then(|| Rc::new(RefCell::new(Tally::new(sim, &options.aliases))));
    match (&tally, options.trace) {
        (Some(t), inner) => sim.set_trace_sink(Box::new(Sink {
            tally: Rc::clone(t),
            inner,
        })),
        (None, Some(inner)) => sim.set_trace_sink(inner),
        (None, None) => {}
    }
    let pools = sim.config().pools.len();
    let mut pool_nodes = vec![(u32::MAX, 0u32); pools];
    let mut hours: Vec<Hour> = Vec::new();
    let step = options.sample_every_ms.max(1);
    // The run stops where `Simulation::run` stops: `limits.max_time_past_horizon` after the
    // horizon, with work left that never ends (a task failing forever in restart mode delay).
    let limit = sim.time_limit();
    let mut t: SimTime = 0;
    loop {
        if t >= limit {
            sim.run();
        }
        // The clock never passes the last event (the report's time integrals end there, as
        // in `Simulation::run`).
        let done = sim.run_through(t);
        let queue = sim.queued_allocs_total();
        let live = sim.live_nodes_by_pool();
        let total: u32 = live.iter().sum();
        for (range, n) in pool_nodes.iter_mut().zip(live) {
            range.0 = range.0.min(*n);
            range.1 = range.1.max(*n);
        }
        let hour = (if done { sim.now() } else { t } / HOUR_MS) as usize;
        if hours.len() <= hour {
            hours.resize(
                hour + 1,
                Hour {
                    peak_queue: 0,
                    nodes: (u32::MAX, 0),
                },
            );
        }
        let h = &mut hours[hour];
        h.peak_queue = h.peak_queue.max(queue);
        h.nodes = (h.nodes.0.min(total), h.nodes.1.max(total));
        each_sample(sim);
        if done || t >= limit {
            break;
        }
        t = t.saturating_add(step).min(limit);
    }
    for r in &mut pool_nodes {
        if r.0 == u32::MAX {
            r.0 = 0;
        }
    }
    let groups = tally.map(|t| {
        let t = std::mem::take(&mut *t.borrow_mut());
        (t.pools, t.workloads)
    });
    Observed {
        groups,
        hours,
        pool_nodes,
        pool_node_hours: sim.node_hours_by_pool(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally_for(workloads: &[&str]) -> Tally {
        let mut prefixes: Vec<(String, usize, bool)> = workloads
            .iter()
            .enumerate()
            .map(|(i, w)| (w.to_string(), i, false))
            .collect();
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        Tally {
            workloads: workloads.iter().map(|w| Group::named(w)).collect(),
            pools: vec![Group::named("linux"), Group::named("linux-big")],
            prefixes,
            pool_prefixes: vec![("linux-big".into(), 1), ("linux".into(), 0)],
            ..Tally::default()
        }
    }

    #[test]
    fn jobs_and_nodes_find_their_groups_by_the_longest_name() {
        let mut t = tally_for(&["pr", "pr-medium"]);
        assert_eq!(t.workload_of("pr-medium-17-3"), Some((1, false)));
        assert_eq!(t.workload_of("pr-17"), Some((0, false)));
        assert_eq!(t.workload_of("prx-1"), None);
        assert_eq!(t.pool_of("linux-big-3"), Some(1));
        assert_eq!(t.pool_of("linux-12"), Some(0));
        assert_eq!(t.pool_of("linuxx-1"), None);
    }

    #[test]
    fn replacements_do_not_count_as_waiting() {
        let mut t = tally_for(&["w"]);
        let placed = |alloc: &str, pending_ms| TraceEvent::AllocPlaced {
            job: "w-1".into(),
            alloc: alloc.into(),
            name: "w-1.w[0]".into(),
            node: "linux-0".into(),
            pending_ms,
            metrics: Default::default(),
        };
        t.record(&placed("a", 0));
        t.record(&TraceEvent::AllocLost {
            job: "w-1".into(),
            alloc: "a".into(),
            node: "linux-0".into(),
            reason: "node_down".into(),
        });
        t.record(&placed("b", 3_600_000));
        assert_eq!(t.workloads[0].placements, 2);
        assert_eq!(t.workloads[0].pending.count(), 1);
        assert_eq!(t.workloads[0].lost, 1);
        assert_eq!(t.pools[0].metric("p99_pending_s"), Some(0.0));
        assert!(t.live.contains_key("b") && t.unfinished.is_empty());
    }
}
