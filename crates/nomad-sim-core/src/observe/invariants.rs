//! Checks that must hold for every run: of the cluster state, and of the trace against the contract.
//!
//! Both checks return a list of violations (empty when all is well), so property tests can
//! print everything that went wrong with a shrunk input.

use std::collections::BTreeMap;

use crate::config::JobType;
use crate::engine::Simulation;
use crate::hardware::{HardwareOffer, NodeHardwareUse};
use crate::model::NodeStatus;
use crate::ops::DEADLINE_COALESCE_WINDOW_MS as WINDOW;
use crate::resources::Resources;
use crate::time::SimTime;
use crate::trace::TraceEvent;

/// Checks the cluster state now: no node over-committed, resource accounting consistent,
/// live allocs only on nodes that are up, nothing on a terminated node, and no drain waiting
/// for nothing (see [`drain_violations`]).
pub fn state_violations(sim: &Simulation) -> Vec<String> {
    let mut out = Vec::new();
    let mut live_per_node: Vec<Resources> = vec![Resources::default(); sim.nodes().len()];
    let mut live_count = vec![0usize; sim.nodes().len()];
    let mut running = 0u64;
    let mut held: Vec<Vec<(crate::ids::AllocId, &HardwareOffer)>> =
        vec![Vec::new(); sim.nodes().len()];
    let mut per_node_seen = std::collections::BTreeSet::new();
    for (id, a) in sim.allocs() {
        let live = a.ended_ms().is_none();
        if live == a.client().is_terminal() {
            out.push(format!(
                "alloc {}: ended_ms and client status {:?} disagree",
                sim.alloc_uuid(id),
                a.client()
            ));
        }
        if live {
            let Some(job) = sim.job(a.job) else {
                out.push(format!(
                    "alloc {}: its job was collected",
                    sim.alloc_uuid(id)
                ));
                continue;
            };
            let per_node = sim.config().workloads[job.workload as usize]
                .job_type
                .is_per_node();
            if per_node && !per_node_seen.insert((a.job, a.node)) {
                out.push(format!(
                    "job {}: two live allocs on {} (system and sysbatch jobs place one per node)",
                    sim.job_name_of(job),
                    sim.node_name(a.node)
                ));
            }
            let extra = sim.alloc_extra(id);
            live_per_node[a.node.index()] =
                live_per_node[a.node.index()].plus(extra.resources(job.ask));
            if let Some(h) = &extra.hardware {
                held[a.node.index()].push((id, h));
            }
            live_count[a.node.index()] += 1;
            running += 1;
        }
    }
    for (i, n) in sim.nodes().iter().enumerate() {
        hardware_violations(sim, n, &held[i], &mut out);
    }
    let (mut used_ready, mut avail_ready) = (Resources::default(), Resources::default());
    for (i, n) in sim.nodes().iter().enumerate() {
        if !n.allocatable.covers(n.used) {
            out.push(format!(
                "node {} over-committed: uses {:?} of {:?}",
                n.name, n.used, n.allocatable
            ));
        }
        if n.used != live_per_node[i] {
            out.push(format!(
                "node {}: used {:?} but its live allocs ask {:?}",
                n.name, n.used, live_per_node[i]
            ));
        }
        if n.allocs.len() != live_count[i] {
            out.push(format!(
                "node {}: lists {} allocs but {} are live on it",
                n.name,
                n.allocs.len(),
                live_count[i]
            ));
        }
        if matches!(n.status, NodeStatus::Down | NodeStatus::Terminated)
            && live_count[i] > 0
            && !sim.node_is_disconnected(crate::ids::NodeId(i as u32))
        {
            out.push(format!(
                "node {} is {:?} but holds {} live allocs",
                n.name, n.status, live_count[i]
            ));
        }
        if n.status == NodeStatus::Ready {
            used_ready = used_ready.plus(n.used);
            avail_ready = avail_ready.plus(n.allocatable);
        }
    }
    if (used_ready, avail_ready) != sim.ready_totals() {
        out.push(format!(
            "cluster totals {:?} disagree with the ready nodes' sum {:?}",
            sim.ready_totals(),
            (used_ready, avail_ready)
        ));
    }
    let mut queued = 0u64;
    for (_, job) in sim.jobs() {
        queued += u64::from(job.queued);
        let total = job.queued + job.live + job.complete + job.failed + job.lost;
        // A stopped job's queued allocs were dropped.
        if total < job.count && !job.stopped {
            out.push(format!(
                "job {}: {} slots accounted for, count is {}",
                sim.job_name_of(job),
                total,
                job.count
            ));
        }
    }
    if (queued, running) != sim.alloc_counters() {
        out.push(format!(
            "queued and running counters {:?} disagree with the jobs and allocs {:?}",
            sim.alloc_counters(),
            (queued, running)
        ));
    }
    out.extend(drain_violations(sim));
    // Spread counts kept as allocs come and go agree with a recount.
    out.extend(sim.spread_count_violations());
    out
}

/// Checks one node's ports, devices and cores against its live allocs: no port held twice or
/// reserved by the node, no device instance held twice or beyond the pool's count, no core
/// held twice or beyond the pool's cores, and the node's record equal to what its allocs hold.
fn hardware_violations(
    sim: &Simulation,
    n: &crate::model::Node,
    held: &[(crate::ids::AllocId, &HardwareOffer)],
    out: &mut Vec<String>,
) {
    let pool = &sim.config().pools[n.pool as usize].hardware;
    let mut expect = NodeHardwareUse::new(pool);
    for (id, h) in held {
        for (label, p) in &h.ports {
            if pool.reserved_ports.binary_search(p).is_ok() {
                out.push(format!(
                    "node {}: alloc {} holds reserved port {label}={p}",
                    n.name,
                    sim.alloc_uuid(*id)
                ));
            }
            if !expect.ports.insert(*p) {
                out.push(format!("node {}: port {p} is used twice", n.name));
            }
        }
        for (g, instances) in &h.devices {
            for &i in instances {
                match expect
                    .devices
                    .get_mut(*g as usize)
                    .and_then(|d| d.get_mut(i as usize))
                {
                    Some(slot) if *slot => {
                        out.push(format!("node {}: device {g}/{i} is over-committed", n.name))
                    }
                    Some(slot) => *slot = true,
                    None => out.push(format!(
                        "node {}: device {g}/{i} does not exist on the node",
                        n.name
                    )),
                }
            }
        }
        for &c in &h.cores {
            match expect.cores.get_mut(c as usize) {
                Some(slot) if *slot => {
                    out.push(format!("node {}: core {c} is reserved twice", n.name))
                }
                Some(slot) => *slot = true,
                None => out.push(format!(
                    "node {}: core {c} is beyond its {} cores",
                    n.name, pool.cores
                )),
            }
        }
    }
    let recorded = n
        .hardware
        .as_deref()
        .cloned()
        .unwrap_or_else(|| NodeHardwareUse::new(pool));
    if recorded != expect {
        out.push(format!(
            "node {}: holds {recorded:?} but its live allocs hold {expect:?}",
            n.name
        ));
    }
}

/// Checks that no drain waits on a condition that already holds: a draining node still holds
/// work other than system allocs (else its drain is complete), and no service job with allocs
/// on draining nodes could migrate more of them now (the job watcher reacts to every alloc
/// update at once, so `healthy - (count - max_parallel)` is never left positive).
pub fn drain_violations(sim: &Simulation) -> Vec<String> {
    let mut out = Vec::new();
    let system = |job: crate::ids::JobId| {
        sim.job(job).is_some_and(|j| {
            sim.config().workloads[j.workload as usize].job_type == JobType::System
        })
    };
    for n in sim.nodes() {
        if n.drain.is_some()
            && n.allocs.slots().iter().all(|&s| {
                sim.state
                    .allocs
                    .at_slot(s)
                    .is_none_or(|(_, a)| system(a.job))
            })
        {
            out.push(format!(
                "{} is draining but holds only system allocs: its drain is done",
                n.name
            ));
        }
    }
    // Live allocs are the ones listed on nodes.
    let mut by_job: BTreeMap<crate::ids::JobId, (i64, usize)> = BTreeMap::new();
    for n in sim.nodes() {
        for &slot in n.allocs.slots() {
            let Some((id, a)) = sim.state.allocs.at_slot(slot) else {
                out.push(format!(
                    "{} lists alloc slot {slot}, which is empty",
                    n.name
                ));
                continue;
            };
            let Some(j) = sim.job(a.job) else { continue };
            if sim.config().workloads[j.workload as usize].job_type != JobType::Service {
                continue;
            }
            let e = by_job.entry(a.job).or_insert((0, 0));
            if sim.alloc_healthy(id).is_some() {
                e.0 += 1;
            }
            if n.drain.is_some() {
                e.1 += 1;
            }
        }
    }
    for (job, (healthy, drainable)) in by_job {
        let Some(j) = sim.job(job) else { continue };
        let max_parallel = sim.config().workloads[j.workload as usize]
            .max_parallel
            .max(1);
        let allowed = healthy - (i64::from(j.count) - i64::from(max_parallel));
        if drainable > 0 && allowed > 0 {
            out.push(format!(
                "job {}: {drainable} allocs on draining nodes and {allowed} may migrate now, but none does",
                sim.job_name_of(j)
            ));
        }
    }
    out
}

#[derive(Clone, Copy, Debug, Default)]
struct NodeView {
    ready: bool,
    eligible: bool,
    draining: bool,
    deadline_ms: Option<SimTime>,
    no_deadline: bool,
    gone: bool,
}

#[derive(Clone, Debug)]
struct AllocView {
    job: String,
    node: String,
    placed_ms: SimTime,
    ended: bool,
}

/// Replays a trace and checks Nomad's drain and placement rules against it:
/// placements only on ready, eligible, non-draining nodes; batch allocs on a draining node
/// stopped only at (or after) the deadline and drains complete no later than it, both give or
/// take the drainer's 5 s coalescing window;
/// a drain without deadline stops nothing; service migrations respect `max_parallel`;
/// every alloc is placed once and ends at most once; the report's counts match the trace.
pub fn trace_violations(sim: &Simulation, events: &[(SimTime, TraceEvent)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut nodes: BTreeMap<String, NodeView> = BTreeMap::new();
    let mut allocs: BTreeMap<String, AllocView> = BTreeMap::new();
    let mut last_t = 0;
    let mut ended = [0u64; 4];
    // A replacement has a health value no sooner than the shorter of `min_healthy_time` (it
    // must have run that long) and `healthy_deadline` (then it is unhealthy), after placement.
    let job_types: BTreeMap<&str, (JobType, u32, u32, SimTime)> = sim
        .config()
        .workloads
        .iter()
        .map(|w| {
            (
                w.name.as_str(),
                (
                    w.job_type,
                    w.count,
                    w.max_parallel.max(1),
                    w.min_healthy_time_ms.min(w.healthy_deadline_ms),
                ),
            )
        })
        .collect();
    let workload_of = |job: &str| -> Option<(JobType, u32, u32, SimTime)> {
        job_types
            .iter()
            .filter(|(name, _)| {
                job.starts_with(&format!("{name}-")) || job.starts_with(&format!("{name}/"))
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(_, v)| *v)
    };
    for (t, ev) in events {
        if *t < last_t {
            out.push(format!("t={t}: trace goes back in time from {last_t}"));
        }
        last_t = *t;
        match ev {
            TraceEvent::NodeReady { node } => {
                let v = nodes.entry(node.clone()).or_default();
                v.ready = true;
                v.eligible = true;
            }
            TraceEvent::NodeEligibility { node, eligible } => {
                let v = nodes.entry(node.clone()).or_default();
                v.eligible = *eligible;
                v.draining = false;
            }
            TraceEvent::NodeDrainStarted { node, deadline_ms } => {
                let v = nodes.entry(node.clone()).or_default();
                v.draining = true;
                v.eligible = false;
                v.deadline_ms = *deadline_ms;
                v.no_deadline = deadline_ms.is_none();
            }
            TraceEvent::NodeDrainUpdated { node, deadline_ms } => {
                let v = nodes.entry(node.clone()).or_default();
                v.deadline_ms = *deadline_ms;
                v.no_deadline = deadline_ms.is_none();
            }
            TraceEvent::NodeDrainComplete {
                node,
                deadline_reached,
            } => {
                let v = nodes.entry(node.clone()).or_default();
                // The drainer forces deadlines less than one coalescing window apart
                // together, so a drain may be forced up to a window before or after its own.
                if let Some(d) = v.deadline_ms {
                    if *t >= d + WINDOW {
                        out.push(format!(
                            "t={t}: drain of {node} completed after its deadline {d}"
                        ));
                    }
                    if *deadline_reached && *t + WINDOW < d {
                        out.push(format!(
                            "t={t}: drain of {node} says deadline reached before {d}"
                        ));
                    }
                }
                v.draining = false;
                if v.eligible {
                    out.push(format!("t={t}: {node} eligible after its drain"));
                }
            }
            TraceEvent::NodeDisconnected { node } => {
                // Out of the ready nodes; its unknown allocs stay until they are lost.
                let v = nodes.entry(node.clone()).or_default();
                v.ready = false;
                v.draining = false;
            }
            TraceEvent::NodeDown { node } | TraceEvent::NodeTerminated { node } => {
                let v = nodes.entry(node.clone()).or_default();
                v.gone = true;
                v.ready = false;
                v.draining = false;
                let still: Vec<&String> = allocs
                    .iter()
                    .filter(|(_, a)| !a.ended && &a.node == node)
                    .map(|(id, _)| id)
                    .collect();
                if !still.is_empty() {
                    out.push(format!(
                        "t={t}: {node} went away holding live allocs {still:?}"
                    ));
                }
            }
            TraceEvent::AllocPlaced {
                job, alloc, node, ..
            } => {
                let v = nodes.get(node).copied().unwrap_or_default();
                let schedulable = v.ready && v.eligible && !v.draining && !v.gone;
                if !schedulable {
                    out.push(format!(
                        "t={t}: {alloc} placed on {node}, which is not schedulable ({v:?})"
                    ));
                }
                if allocs.contains_key(alloc) {
                    out.push(format!("t={t}: {alloc} placed twice"));
                }
                allocs.insert(
                    alloc.clone(),
                    AllocView {
                        job: job.clone(),
                        node: node.clone(),
                        placed_ms: *t,
                        ended: false,
                    },
                );
            }
            TraceEvent::AllocCompleted { alloc, .. }
            | TraceEvent::AllocFailed { alloc, .. }
            | TraceEvent::AllocLost { alloc, .. }
            | TraceEvent::AllocStopped { alloc, .. } => {
                let kind = match ev {
                    TraceEvent::AllocCompleted { .. } => 0,
                    TraceEvent::AllocFailed { .. } => 1,
                    TraceEvent::AllocStopped { .. } => 2,
                    _ => 3,
                };
                ended[kind] += 1;
                match allocs.get(alloc).cloned() {
                    None => out.push(format!("t={t}: {alloc} ended without being placed")),
                    Some(a) if a.ended => out.push(format!("t={t}: {alloc} ended twice")),
                    Some(a) => {
                        if let TraceEvent::AllocStopped {
                            reason, node, job, ..
                        } = ev
                        {
                            let v = nodes.get(node).copied().unwrap_or_default();
                            let wl = workload_of(job);
                            if v.no_deadline && reason != "migrate" && reason != "job_stopped" {
                                out.push(format!(
                                    "t={t}: {alloc} stopped ({reason}) by a drain without deadline"
                                ));
                            }
                            if reason == "drain_deadline" {
                                if let Some(d) = v.deadline_ms {
                                    if *t + WINDOW < d {
                                        out.push(format!(
                                            "t={t}: {alloc} stopped before the drain deadline {d}"
                                        ));
                                    }
                                }
                            }
                            if reason == "migrate" {
                                match wl {
                                    Some((JobType::Service, count, max_parallel, health_ms)) => {
                                        // Healthy allocs of the job before this stop.
                                        let healthy = allocs
                                            .values()
                                            .filter(|b| {
                                                !b.ended
                                                    && b.job == a.job
                                                    && b.placed_ms + health_ms <= *t
                                            })
                                            .count()
                                            as i64;
                                        if healthy - 1 < i64::from(count) - i64::from(max_parallel)
                                        {
                                            out.push(format!(
                                                "t={t}: migrating {alloc} leaves {} healthy of {count} (max_parallel {max_parallel})",
                                                healthy - 1
                                            ));
                                        }
                                    }
                                    Some((JobType::System, ..)) => {
                                        // System allocs go last: nothing else may remain on the node.
                                        let others = allocs
                                            .iter()
                                            .filter(|(id, b)| {
                                                *id != alloc && !b.ended && b.node == a.node
                                            })
                                            .filter(|(_, b)| {
                                                workload_of(&b.job)
                                                    .is_none_or(|w| w.0 != JobType::System)
                                            })
                                            .count();
                                        if others > 0 {
                                            out.push(format!("t={t}: system alloc {alloc} stopped while {others} other allocs remain"));
                                        }
                                    }
                                    _ => out.push(format!(
                                        "t={t}: {alloc} of a batch job migrated early"
                                    )),
                                }
                            }
                        }
                        allocs.get_mut(alloc).expect("present").ended = true;
                    }
                }
            }
            _ => {}
        }
    }
    // Every alloc the trace saw placed and not ended must be live in the state, and vice versa.
    let live_in_trace = allocs.values().filter(|a| !a.ended).count();
    let live_in_state = sim
        .allocs()
        .iter()
        .filter(|(_, a)| !a.client().is_terminal())
        .count();
    if live_in_trace != live_in_state {
        out.push(format!(
            "trace leaves {live_in_trace} allocs live, the state has {live_in_state}"
        ));
    }
    let report = sim.report();
    let c = report.allocations;
    if allocs.len() as u64 != c.placed {
        out.push(format!(
            "trace placed {} allocs, report says {}",
            allocs.len(),
            c.placed
        ));
    }
    if [c.completed, c.failed, c.stopped, c.lost] != ended {
        out.push(format!(
            "trace ends (completed, failed, stopped, lost) = {ended:?}, report says {:?}",
            [c.completed, c.failed, c.stopped, c.lost]
        ));
    }
    out
}
