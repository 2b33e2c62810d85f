//! Preemption as Nomad's scheduler does it: which allocs to evict for a placement that fits
//! nowhere, the preemption score of a node, and the eviction itself.
//!
//! Follows Nomad's `scheduler/feasible/preemption.go` (`PreemptForTaskGroup`,
//! `filterAndGroupPreemptibleAllocs`, `scoreForTaskGroup`, `basicResourceDistance`,
//! `filterSuperset`) and `rank.go` (`netPriority`, `preemptionScore`) for CPU, memory and disk.

#[allow(unused_imports)]
use crate::prelude::*;

/// Allocs of jobs within this many priority levels of the placing job are never preempted.
pub const PRIORITY_DELTA: u32 = 10;

/// Added to a candidate's distance per preemption of its job beyond the migrate `max_parallel`.
pub const MAX_PARALLEL_PENALTY: f64 = 50.0;

/// One alloc on the node that might be preempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Its job's priority.
    pub priority: u8,
    /// What it uses.
    pub resources: Resources,
    /// Its task group's migrate `max_parallel` (0 when the group has no migrate block).
    pub max_parallel: u32,
    /// Allocs of its job and task group already preempted in the plan.
    pub preempted: u32,
}

/// Resources as signed numbers: Nomad subtracts each victim from what is still needed, which
/// may go below zero.
#[derive(Clone, Copy, Debug)]
struct Signed([i64; 3]);

impl Signed {
    fn of(r: Resources) -> Signed {
        Signed([r.cpu_mhz as i64, r.memory_mb as i64, r.disk_mb as i64])
    }
}

fn coord(ask: i64, used: i64) -> f64 {
    if ask > 0 {
        (ask as f64 - used as f64) / ask as f64
    } else {
        0.0
    }
}

fn distance_signed(ask: Signed, used: Resources) -> f64 {
    let u = Signed::of(used).0;
    let (c, m, d) = (
        coord(ask.0[0], u[0]),
        coord(ask.0[1], u[1]),
        coord(ask.0[2], u[2]),
    );
    (m * m + c * c + d * d).sqrt()
}

/// Nomad's `basicResourceDistance`: the Euclidean distance of (memory, CPU, disk), each term
/// `(ask - used) / ask`, and 0 for a dimension the ask does not use.
pub fn basic_distance(ask: Resources, used: Resources) -> f64 {
    distance_signed(Signed::of(ask), used)
}

/// Nomad's `scoreForTaskGroup`: the distance plus 50 × (preempted + 1 − max_parallel) once the
/// candidate's job already has `max_parallel` or more allocs preempted.
fn score(needed: Signed, c: &Candidate) -> f64 {
    let penalty = if c.max_parallel > 0 && c.preempted >= c.max_parallel {
        f64::from(c.preempted + 1 - c.max_parallel) * MAX_PARALLEL_PENALTY
    } else {
        0.0
    };
    distance_signed(needed, c.resources) + penalty
}

/// True when a candidate of `priority` may be preempted by a job of `job_priority`.
pub fn preemptible(job_priority: u8, priority: u8) -> bool {
    u32::from(priority) + PRIORITY_DELTA <= u32::from(job_priority)
}

/// Nomad's `PreemptForTaskGroup` for CPU, memory and disk: the indexes (into `candidates`) of
/// the allocs to evict so that `free` plus what they free covers `ask`, in Nomad's order
/// (`PreemptedAllocations`), or `None` when evicting every preemptible candidate is not enough.
///
/// Candidates at least 10 priority levels below `job_priority` are grouped by priority, lowest
/// first; within a group the one at the least distance from what is still needed (plus the
/// max_parallel penalty) is taken, until the ask is covered. Then the superset filter sorts the
/// victims by distance from the whole ask, descending, and keeps the shortest prefix that covers.
pub fn select_victims(
    job_priority: u8,
    free: Resources,
    ask: Resources,
    candidates: &[Candidate],
) -> Option<Vec<usize>> {
    let mut eligible: Vec<usize> = (0..candidates.len())
        .filter(|&i| preemptible(job_priority, candidates[i].priority))
        .collect();
    // Stable: within a priority the candidates keep their order (ties go to the first).
    eligible.sort_by_key(|&i| candidates[i].priority);
    let mut needed = Signed::of(ask);
    let mut available = free;
    let mut chosen: Vec<usize> = Vec::new();
    let mut met = false;
    let mut start = 0;
    while start < eligible.len() && !met {
        let priority = candidates[eligible[start]].priority;
        let end = start
            + eligible[start..]
                .iter()
                .take_while(|&&i| candidates[i].priority == priority)
                .count();
        let mut group: Vec<usize> = eligible[start..end].to_vec();
        while !group.is_empty() && !met {
            let mut best = 0;
            let mut best_score = f64::MAX;
            for (k, &i) in group.iter().enumerate() {
                let s = score(needed, &candidates[i]);
                if s < best_score {
                    best_score = s;
                    best = k;
                }
            }
            let i = group.swap_remove(best);
            let r = candidates[i].resources;
            available = available.plus(r);
            met = available.covers(ask);
            chosen.push(i);
            let u = Signed::of(r).0;
            for (n, u) in needed.0.iter_mut().zip(u) {
                *n -= u;
            }
        }
        start = end;
    }
    if !met {
        return None;
    }
    // The superset filter: farthest from the ask first, stop at the first prefix that covers.
    let mut keyed: Vec<(f64, usize)> = chosen
        .iter()
        .map(|&i| (basic_distance(ask, candidates[i].resources), i))
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut available = free;
    let mut victims = Vec::new();
    for (_, i) in keyed {
        victims.push(i);
        available = available.plus(candidates[i].resources);
        if available.covers(ask) {
            break;
        }
    }
    Some(victims)
}

/// Nomad's `netPriority`: the highest priority among the victims plus the sum of their
/// priorities divided by that highest.
pub fn net_priority(priorities: &[u8]) -> f64 {
    let max = priorities.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return 0.0;
    }
    let sum: u32 = priorities.iter().map(|&p| u32::from(p)).sum();
    f64::from(max) + f64::from(sum) / f64::from(max)
}

/// Nomad's `preemptionScore`: a logistic curve, 0.5 at a net priority of 2048, falling as the
/// net priority rises.
pub fn preemption_score(net_priority: f64) -> f64 {
    const RATE: f64 = 0.0048;
    const ORIGIN: f64 = 2048.0;
    1.0 / (1.0 + (RATE * (net_priority - ORIGIN)).exp())
}

impl Simulation {
    /// True when the job's scheduler type may preempt.
    pub(crate) fn preemption_enabled(&self, job: JobId) -> bool {
        let j = &self.state.jobs[job];
        let job_type = self.config.workloads[j.workload as usize].job_type;
        self.config.scheduler.preemption.enabled_for(job_type)
    }

    /// The allocs to evict on `node` so that `job`'s ask fits there, in Nomad's order, with
    /// the node's preemption score; `None` when no set of preemptible allocs is enough.
    pub(crate) fn find_victims(&self, job: JobId, node: NodeId) -> Option<(Vec<AllocId>, f64)> {
        let j = &self.state.jobs[job];
        // Evictions free CPU, memory and disk only: a group that asks for ports, devices or
        // cores does not preempt (docs/nomad-fidelity.md).
        if self.sources.workloads[j.workload as usize].hardware {
            return None;
        }
        let mut allocs: Vec<AllocId> = self
            .state
            .allocs_on(node)
            .filter(|&a| {
                let other = self.state.allocs[a].job;
                other != job && preemptible(j.priority, self.state.jobs[other].priority)
            })
            .collect();
        if allocs.is_empty() {
            return None;
        }
        allocs.sort_by_key(|&a| self.state.allocs[a].serial());
        let candidates: Vec<Candidate> = allocs
            .iter()
            .map(|&a| {
                let victim = &self.state.jobs[self.state.allocs[a].job];
                let w = &self.config.workloads[victim.workload as usize];
                Candidate {
                    priority: victim.priority,
                    resources: self.state.alloc_extra(a).resources(victim.ask),
                    // Nomad gives only service groups a migrate block by default.
                    max_parallel: if w.job_type == JobType::Service {
                        w.max_parallel
                    } else {
                        0
                    },
                    preempted: self
                        .server
                        .plan_preemptions
                        .iter()
                        .filter(|&&(k, _)| k == self.state.allocs[a].job)
                        .map(|&(_, c)| c)
                        .sum(),
                }
            })
            .collect();
        let free = self.state.nodes[node.index()].free();
        let picked = select_victims(j.priority, free, j.ask, &candidates)?;
        let priorities: Vec<u8> = picked.iter().map(|&i| candidates[i].priority).collect();
        let victims = picked.into_iter().map(|i| allocs[i]).collect();
        Some((victims, preemption_score(net_priority(&priorities))))
    }

    /// The victims of the chosen node in the Select just made (none when it fitted without
    /// evictions); forgets the other ranked nodes' victims.
    pub(crate) fn take_victims(&mut self, node: NodeId) -> Vec<AllocId> {
        if self.server.preempt_options.is_empty() {
            return Vec::new();
        }
        let victims = self
            .server
            .preempt_options
            .iter()
            .position(|(n, _)| *n == node)
            .map(|i| self.server.preempt_options.swap_remove(i).1)
            .unwrap_or_default();
        self.server.preempt_options.clear();
        victims
    }

    /// Evicts `victims` for `preemptor` (not yet placed, by its serial): each ends with desired
    /// status `evict` and client status `complete`, frees its resources, and its job gets an
    /// eval with trigger `preemption` that replaces it as its job type does.
    pub(crate) fn evict(&mut self, victims: &[AllocId], preemptor_serial: u64) {
        let preemptor_uuid = self.alloc_uuid_of_serial(preemptor_serial);
        let mut serials = Vec::with_capacity(victims.len());
        for &victim in victims {
            let (job, node, placed_ms, serial) = {
                let a = &self.state.allocs[victim];
                (a.job, a.node, a.placed_ms(), a.serial())
            };
            assert!(
                self.end_alloc(victim, ClientStatus::Complete, EndReason::Preempted),
                "a victim is live"
            );
            let a = &mut self.state.allocs[victim];
            a.desired = DesiredStatus::Evict;
            self.state.preempted_by.insert(serial, preemptor_serial);
            serials.push(serial);
            match self.server.plan_preemptions.iter_mut().find(|e| e.0 == job) {
                Some(e) => e.1 += 1,
                None => self.server.plan_preemptions.push((job, 1)),
            }
            let counts = &mut self.observe.collector.counts;
            counts.stopped += 1;
            counts.preempted += 1;
            let system = self.is_system(job);
            if !system {
                self.observe.collector.wasted_ms += (self.now - placed_ms) as f64;
            }
            let by = preemptor_uuid.clone();
            self.emit(|s| TraceEvent::AllocStopped {
                job: s.job_name(job),
                alloc: s.alloc_uuid(victim),
                node: s.node_name(node).to_string(),
                reason: EndReason::Preempted.as_str().to_string(),
                preempted_by: Some(by),
            });
            if system {
                // The system job wants the node again: it waits there for room.
                self.state.forget_system_node(job, node);
                let eval = self.create_eval(job, Trigger::Preemption, self.now);
                self.enqueue_eval(eval, false);
            } else {
                // Nomad's reconciler ignores evicted allocs, so the job's count is short by
                // one and the eval places a new alloc with the same index.
                self.queue_replacement(victim, Trigger::Preemption, self.now);
            }
            self.drainer_job_update(job);
        }
        self.state
            .preempted_allocs
            .insert(preemptor_serial, serials);
    }
}
