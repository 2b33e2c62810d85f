//! The drainer: drains with deadlines, force and no deadline, service migration, system allocs last.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::ops::Timer;

/// Nomad's `NodeDeadlineCoalesceWindow`: deadlines this close are forced together.
pub const DEADLINE_COALESCE_WINDOW_MS: SimTime = 5_000;

/// The drainer's deadline heap (Nomad's `deadlineHeap`): one timer for all drain deadlines.
///
/// The timer is set to the latest deadline that falls less than the coalescing window after
/// the earliest one; when it fires, every node whose deadline is at most one window after it
/// is forced at once. So deadlines a few seconds apart are forced together, at the later one.
#[derive(Debug, Default)]
pub(crate) struct DeadlineHeap {
    /// Draining nodes with a deadline not yet forced.
    deadlines: BTreeMap<NodeId, SimTime>,
    /// When the timer is set to fire.
    armed: Option<SimTime>,
}

impl DeadlineHeap {
    /// The time the timer should fire: the latest deadline less than one window after the
    /// earliest.
    fn next(&self) -> Option<SimTime> {
        let earliest = self.deadlines.values().copied().min()?;
        self.deadlines
            .values()
            .copied()
            .filter(|&d| d < earliest.saturating_add(DEADLINE_COALESCE_WINDOW_MS))
            .max()
    }
}

impl Simulation {
    /// `nomad node drain -enable`: the node turns ineligible at once and its work winds down.
    /// On a node already draining, the new strategy replaces the old one.
    pub(crate) fn start_drain(&mut self, node: NodeId, spec: DrainSpec, terminate_when_done: bool) {
        let n = &self.state.nodes[node.index()];
        if n.status != NodeStatus::Ready {
            return;
        }
        if n.drain.is_some() {
            self.update_drain(node, spec, terminate_when_done);
            return;
        }
        let record = self.observe.collector.drains.len() as u32;
        let deadline_ms = match spec.deadline {
            DrainDeadline::After(d) => Some(self.now + d),
            DrainDeadline::Force => Some(self.now),
            DrainDeadline::None => None,
        };
        self.observe.collector.drains.push(DrainRecord {
            node: n.name.clone(),
            started_s: self.now as f64 / 1000.0,
            completed_s: None,
            deadline_reached: false,
            allocs_stopped: 0,
        });
        let n = &mut self.state.nodes[node.index()];
        n.drain = Some(ActiveDrain {
            started_ms: self.now,
            deadline_ms,
            ignore_system: spec.ignore_system,
            record,
            terminate_when_done,
        });
        n.eligibility = Eligibility::Ineligible;
        self.refresh_candidacy(node);
        self.emit_node(node, |s| TraceEvent::NodeDrainStarted {
            node: s.node_name(node).to_string(),
            deadline_ms,
        });
        match spec.deadline {
            DrainDeadline::Force => {
                self.drain_deadline_reached(node, EndReason::ForceDrain);
                return;
            }
            DrainDeadline::After(d) => self.watch_deadline(node, self.now + d),
            DrainDeadline::None => {}
        }
        self.drainer_watch_node(node);
        self.check_drain_done(node);
    }

    /// A new drain strategy for a draining node (Nomad's `UpdateDrain` keeps `StartedAt` and
    /// sets the new deadline from now): force stops everything at once, a deadline replaces
    /// the old one, no deadline removes it; `ignore_system` is the new one's.
    fn update_drain(&mut self, node: NodeId, spec: DrainSpec, terminate_when_done: bool) {
        let deadline_ms = match spec.deadline {
            DrainDeadline::After(d) => Some(self.now + d),
            DrainDeadline::Force => Some(self.now),
            DrainDeadline::None => None,
        };
        let Some(drain) = self.state.nodes[node.index()].drain.as_mut() else {
            return;
        };
        drain.deadline_ms = deadline_ms;
        drain.ignore_system = spec.ignore_system;
        drain.terminate_when_done |= terminate_when_done;
        self.emit_node(node, |s| TraceEvent::NodeDrainUpdated {
            node: s.node_name(node).to_string(),
            deadline_ms,
        });
        match spec.deadline {
            DrainDeadline::Force => {
                self.unwatch_deadline(node);
                self.drain_deadline_reached(node, EndReason::ForceDrain);
                return;
            }
            DrainDeadline::After(d) => self.watch_deadline(node, self.now + d),
            DrainDeadline::None => self.unwatch_deadline(node),
        }
        self.drainer_watch_node(node);
        self.check_drain_done(node);
    }

    /// Puts a node's deadline in the heap (replacing its earlier one).
    fn watch_deadline(&mut self, node: NodeId, at: SimTime) {
        self.ops.deadlines.deadlines.insert(node, at);
        self.rearm_deadlines();
    }

    /// Takes a node out of the deadline heap (its drain ended).
    pub(crate) fn unwatch_deadline(&mut self, node: NodeId) {
        if self.ops.deadlines.deadlines.remove(&node).is_some() {
            self.rearm_deadlines();
        }
    }

    fn rearm_deadlines(&mut self) {
        let next = self.ops.deadlines.next();
        if next != self.ops.deadlines.armed {
            self.ops.deadlines.armed = next;
            if let Some(at) = next {
                self.set_timer(at, Timer::DrainDeadlines);
            }
        }
    }

    /// The deadline timer fired: every node whose deadline is within one coalescing window of
    /// now is forced, in node order.
    pub(crate) fn on_deadlines_timer(&mut self) {
        if self.ops.deadlines.armed != Some(self.now) {
            return;
        }
        self.ops.deadlines.armed = None;
        let until = self.now.saturating_add(DEADLINE_COALESCE_WINDOW_MS);
        let due: Vec<NodeId> = self
            .ops
            .deadlines
            .deadlines
            .iter()
            .filter(|(_, &d)| d <= until)
            .map(|(&n, _)| n)
            .collect();
        for &node in &due {
            self.ops.deadlines.deadlines.remove(&node);
        }
        for node in due {
            if self.state.nodes[node.index()].drain.is_some() {
                self.drain_deadline_reached(node, EndReason::DrainDeadline);
            }
        }
        self.rearm_deadlines();
    }

    pub(crate) fn disable_drain(&mut self, node: NodeId, keep_ineligible: bool) {
        let n = &mut self.state.nodes[node.index()];
        if matches!(n.status, NodeStatus::Down | NodeStatus::Terminated) {
            return;
        }
        if let Some(drain) = n.drain.take() {
            self.unwatch_deadline(node);
            let record = &mut self.observe.collector.drains[drain.record as usize];
            if record.completed_s.is_none() {
                record.completed_s = Some(self.now as f64 / 1000.0);
            }
        }
        if !keep_ineligible {
            self.state.nodes[node.index()].eligibility = Eligibility::Eligible;
        }
        let eligible = self.state.nodes[node.index()].eligibility == Eligibility::Eligible;
        self.emit_node(node, |s| TraceEvent::NodeEligibility {
            node: s.node_name(node).to_string(),
            eligible,
        });
        self.refresh_candidacy(node);
    }

    /// At the deadline every remaining alloc is stopped and the drain completes at once.
    pub(crate) fn drain_deadline_reached(&mut self, node: NodeId, reason: EndReason) {
        let ignore_system = self.state.nodes[node.index()]
            .drain
            .is_some_and(|d| d.ignore_system);
        let allocs: Vec<AllocId> = self.state.allocs_on(node).collect();
        for alloc in allocs {
            if ignore_system && self.is_system(self.state.allocs[alloc].job) {
                continue;
            }
            self.stop_for_drain(node, alloc, reason);
        }
        self.complete_drain(node, true);
    }

    /// Stops one alloc of a draining node; replaces it as its job type and Nomad version say.
    pub(crate) fn stop_for_drain(&mut self, node: NodeId, alloc: AllocId, reason: EndReason) {
        let placed_ms = self.state.allocs[alloc].placed_ms();
        if !self.end_alloc(alloc, ClientStatus::Complete, reason) {
            return;
        }
        self.observe.collector.counts.stopped += 1;
        // A system alloc is a daemon, not a piece of work: stopping it wastes nothing.
        if !self.is_system(self.state.allocs[alloc].job) {
            self.observe.collector.wasted_ms += (self.now - placed_ms) as f64;
        }
        if let Some(d) = self.state.nodes[node.index()].drain {
            self.observe.collector.drains[d.record as usize].allocs_stopped += 1;
        }
        let job = self.state.allocs[alloc].job;
        if self.is_system(job) {
            self.state.forget_system_node(job, node);
        }
        self.emit(|s| TraceEvent::AllocStopped {
            job: s.job_name(job),
            alloc: s.alloc_uuid(alloc),
            node: s.node_name(node).to_string(),
            reason: reason.as_str().to_string(),
            preempted_by: None,
        });
        let job_type = self.config.workloads[self.state.jobs[job].workload as usize].job_type;
        let replace = match job_type {
            JobType::Batch => {
                reason == EndReason::Migrate
                    || self.config.nomad_version.replaces_drained_batch_allocs()
            }
            JobType::Service => true,
            JobType::System | JobType::Sysbatch => false,
        };
        if replace {
            self.queue_replacement(alloc, Trigger::NodeDrain, self.now);
        } else {
            self.finish_slot(job);
        }
    }

    /// The drainer's job watcher: an alloc of `job` changed (placed, turned healthy or
    /// unhealthy, ended), or one of its nodes started draining. For a service job with allocs
    /// on draining nodes, Nomad marks as many of them for migration as keeps the job's allocs
    /// with a health value at `count - max_parallel` or more, counted across the whole cluster
    /// and all draining nodes (`watch_jobs.go`, `handleTaskGroup`).
    #[inline]
    pub(crate) fn drainer_job_update(&mut self, job: JobId) {
        // Only service jobs are watched; most runs have none.
        if !self.ops.client.service_allocs.is_empty() {
            self.drainer_watch_job(job);
        }
    }

    fn drainer_watch_job(&mut self, job: JobId) {
        let Some(list) = self.ops.client.service_allocs.get(&job) else {
            return;
        };
        let mut healthy = 0i64;
        let mut drainable: Vec<(NodeId, AllocId)> = Vec::new();
        for &a in list {
            let node = self.state.allocs[a].node;
            if self.state.nodes[node.index()].drain.is_some() {
                drainable.push((node, a));
            }
            if self
                .ops
                .client
                .allocs
                .get(&a)
                .is_some_and(|c| c.healthy.is_some())
            {
                healthy += 1;
            }
        }
        if drainable.is_empty() {
            return;
        }
        let j = &self.state.jobs[job];
        let max_parallel = self.config.workloads[j.workload as usize]
            .max_parallel
            .max(1);
        let allowed = healthy - (i64::from(j.count) - i64::from(max_parallel));
        let k = allowed.clamp(0, drainable.len() as i64) as usize;
        if k == 0 {
            return;
        }
        let mut touched: Vec<NodeId> = Vec::new();
        for &(node, alloc) in drainable.iter().take(k) {
            self.stop_for_drain(node, alloc, EndReason::Migrate);
            if !touched.contains(&node) {
                touched.push(node);
            }
        }
        for node in touched {
            self.check_drain_done(node);
        }
    }

    /// A node starts draining (or its drain changes): the job watcher looks at every service
    /// job with allocs on it, in submission order.
    fn drainer_watch_node(&mut self, node: NodeId) {
        let mut jobs: Vec<(u64, JobId)> = self
            .state
            .allocs_on(node)
            .map(|a| self.state.allocs[a].job)
            .filter(|j| self.ops.client.service_allocs.contains_key(j))
            .map(|j| (self.state.jobs[j].serial, j))
            .collect();
        jobs.sort();
        jobs.dedup();
        for (_, job) in jobs {
            self.drainer_job_update(job);
        }
    }

    /// Called whenever an alloc leaves a node: a draining node may now be done.
    pub(crate) fn after_alloc_left(&mut self, node: NodeId) {
        if self.state.nodes[node.index()].drain.is_some() {
            self.check_drain_done(node);
        }
    }

    /// A drain is done when every alloc but the system ones has ended; then the system allocs
    /// are stopped last (unless `-ignore-system`) and the drain completes.
    pub(crate) fn check_drain_done(&mut self, node: NodeId) {
        let Some(drain) = self.state.nodes[node.index()].drain else {
            return;
        };
        let allocs: Vec<AllocId> = self.state.allocs_on(node).collect();
        if allocs
            .iter()
            .any(|a| !self.is_system(self.state.allocs[*a].job))
        {
            return;
        }
        if !drain.ignore_system {
            for alloc in allocs {
                self.stop_for_drain(node, alloc, EndReason::Migrate);
            }
        }
        self.complete_drain(node, false);
    }

    pub(crate) fn complete_drain(&mut self, node: NodeId, deadline_reached: bool) {
        let Some(drain) = self.state.nodes[node.index()].drain.take() else {
            return;
        };
        self.unwatch_deadline(node);
        let record = &mut self.observe.collector.drains[drain.record as usize];
        record.completed_s = Some(self.now as f64 / 1000.0);
        record.deadline_reached = deadline_reached;
        // A finished drain leaves the node ineligible.
        self.refresh_candidacy(node);
        self.emit_node(node, |s| TraceEvent::NodeDrainComplete {
            node: s.node_name(node).to_string(),
            deadline_reached,
        });
        if drain.terminate_when_done {
            self.terminate_node(node, EndReason::NodeTerminated);
        }
    }
}
