//! Operator actions and the node lifecycle: drains, scale-up and scale-down, failures, the autoscaler.

use crate::config::{
    Action, AutoscalerMetric, DrainDeadline, DrainSpec, JobType, NodeSelector, NodeTarget,
};
use crate::ids::{AllocId, NodeId};
use crate::metrics::DrainRecord;
use crate::model::{ActiveDrain, ClientStatus, Eligibility, EndReason, NodeStatus, Trigger};
use crate::queue::EventKind;
use crate::sim::Simulation;
use crate::time::SimTime;
use crate::trace::TraceEvent;

/// Nomad's default `min_healthy_time` for migrations (the migrate block).
pub const MIGRATE_MIN_HEALTHY_MS: SimTime = 10_000;

impl Simulation {
    pub(crate) fn on_operation(&mut self, index: usize) {
        let action = self.config.operations[index].action.clone();
        match action {
            Action::NodeDrain { target, spec } => {
                for node in self.resolve_target(&target) {
                    self.start_drain(node, spec, false);
                }
            }
            Action::NodeDrainDisable {
                nodes,
                keep_ineligible,
            } => {
                for node in self.nodes_named(&nodes) {
                    self.disable_drain(node, keep_ineligible);
                }
            }
            Action::NodeEligibility { nodes, eligible } => {
                for node in self.nodes_named(&nodes) {
                    let n = &mut self.nodes[node.index()];
                    if matches!(n.status, NodeStatus::Down | NodeStatus::Terminated) {
                        continue;
                    }
                    // Nomad refuses to make a draining node eligible.
                    if eligible && n.drain.is_some() {
                        continue;
                    }
                    n.eligibility = if eligible {
                        Eligibility::Eligible
                    } else {
                        Eligibility::Ineligible
                    };
                    self.emit(|s| TraceEvent::NodeEligibility {
                        node: s.node_name(node).to_string(),
                        eligible,
                    });
                    self.refresh_candidacy(node);
                }
            }
            Action::ScaleUp { pool, count } => {
                if let Some(p) = self.pool_index(&pool) {
                    self.scale_up(p, count);
                }
            }
            Action::ScaleDown {
                pool,
                count,
                selector,
                drain_deadline,
                heartbeat_timeout_ms,
            } => {
                if let Some(p) = self.pool_index(&pool) {
                    self.scale_down(p, count, selector, drain_deadline, heartbeat_timeout_ms);
                }
            }
            Action::NodeFail { nodes } => {
                for node in self.nodes_named(&nodes) {
                    self.fail_node(node);
                }
            }
        }
    }

    fn pool_index(&self, name: &str) -> Option<u32> {
        self.config
            .pools
            .iter()
            .position(|p| p.name == name)
            .map(|i| i as u32)
    }

    /// Nodes by name, in the order given; unknown names (nodes not yet created) are skipped.
    fn nodes_named(&self, names: &[String]) -> Vec<NodeId> {
        names
            .iter()
            .filter_map(|name| {
                self.nodes
                    .iter()
                    .position(|n| &n.name == name)
                    .map(|i| NodeId(i as u32))
            })
            .collect()
    }

    fn resolve_target(&self, target: &NodeTarget) -> Vec<NodeId> {
        match target {
            NodeTarget::Names(names) => self.nodes_named(names),
            NodeTarget::Select {
                pool,
                count,
                selector,
            } => match self.pool_index(pool) {
                Some(p) => self.select_nodes(p, *count, *selector),
                None => Vec::new(),
            },
        }
    }

    /// The nomad-autoscaler's node selection among a pool's ready, non-draining nodes.
    pub fn select_nodes(&self, pool: u32, count: u32, selector: NodeSelector) -> Vec<NodeId> {
        let mut candidates: Vec<NodeId> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.pool == pool && n.status == NodeStatus::Ready && n.drain.is_none())
            .map(|(i, _)| NodeId(i as u32))
            .collect();
        // The API lists nodes by CreateIndex, newest first.
        candidates.sort_by_key(|n| std::cmp::Reverse(self.nodes[n.index()].create_index));
        let count = count as usize;
        match selector {
            NodeSelector::NewestCreateIndex => candidates.truncate(count),
            NodeSelector::OldestCreateIndex => {
                candidates.reverse();
                candidates.truncate(count);
            }
            NodeSelector::Empty => {
                candidates.retain(|n| self.nodes[n.index()].allocs.is_empty());
                candidates.truncate(count);
            }
            NodeSelector::EmptyIgnoreSystem => {
                candidates.retain(|n| {
                    self.nodes[n.index()]
                        .allocs
                        .iter()
                        .all(|a| self.is_system(self.allocs[a.index()].job))
                });
                candidates.truncate(count);
            }
            NodeSelector::LeastBusy => {
                let pct = |used: u64, avail: u64| {
                    if avail == 0 {
                        100
                    } else {
                        (100 * used).div_ceil(avail)
                    }
                };
                // A stable sort keeps newest-first among equal scores, so the choice is deterministic.
                candidates.sort_by_key(|n| {
                    let node = &self.nodes[n.index()];
                    let cpu = pct(node.used.cpu_mhz, node.allocatable.cpu_mhz);
                    let mem = pct(node.used.memory_mb, node.allocatable.memory_mb);
                    (cpu + mem).div_ceil(2)
                });
                candidates.truncate(count);
            }
        }
        candidates
    }

    // ----- drains ------------------------------------------------------------------------------

    /// `nomad node drain -enable`: the node turns ineligible at once and its work winds down.
    pub(crate) fn start_drain(&mut self, node: NodeId, spec: DrainSpec, terminate_when_done: bool) {
        let n = &self.nodes[node.index()];
        if n.status != NodeStatus::Ready || n.drain.is_some() {
            return;
        }
        let record = self.collector.drains.len() as u32;
        let deadline_ms = match spec.deadline {
            DrainDeadline::After(d) => Some(self.now + d),
            DrainDeadline::Force => Some(self.now),
            DrainDeadline::None => None,
        };
        self.collector.drains.push(DrainRecord {
            node: n.name.clone(),
            started_s: self.now as f64 / 1000.0,
            completed_s: None,
            deadline_reached: false,
            allocs_stopped: 0,
        });
        let n = &mut self.nodes[node.index()];
        n.drain = Some(ActiveDrain {
            started_ms: self.now,
            deadline_ms,
            ignore_system: spec.ignore_system,
            record,
            terminate_when_done,
        });
        n.eligibility = Eligibility::Ineligible;
        self.refresh_candidacy(node);
        self.emit(|s| TraceEvent::NodeDrainStarted {
            node: s.node_name(node).to_string(),
            deadline_ms,
        });
        match spec.deadline {
            DrainDeadline::Force => {
                self.drain_deadline_reached(node, EndReason::ForceDrain);
                return;
            }
            DrainDeadline::After(_) => {
                let at = deadline_ms.expect("deadline set");
                self.queue
                    .push(at, EventKind::DrainDeadline { node, record });
            }
            DrainDeadline::None => {}
        }
        self.migrate_next_batch(node);
        self.check_drain_done(node);
    }

    fn disable_drain(&mut self, node: NodeId, keep_ineligible: bool) {
        let n = &mut self.nodes[node.index()];
        if matches!(n.status, NodeStatus::Down | NodeStatus::Terminated) {
            return;
        }
        if let Some(drain) = n.drain.take() {
            let record = &mut self.collector.drains[drain.record as usize];
            if record.completed_s.is_none() {
                record.completed_s = Some(self.now as f64 / 1000.0);
            }
        }
        if !keep_ineligible {
            self.nodes[node.index()].eligibility = Eligibility::Eligible;
        }
        let eligible = self.nodes[node.index()].eligibility == Eligibility::Eligible;
        self.emit(|s| TraceEvent::NodeEligibility {
            node: s.node_name(node).to_string(),
            eligible,
        });
        self.refresh_candidacy(node);
    }

    pub(crate) fn on_drain_deadline(&mut self, node: NodeId, record: u32) {
        let still = self.nodes[node.index()]
            .drain
            .is_some_and(|d| d.record == record);
        if still {
            self.drain_deadline_reached(node, EndReason::DrainDeadline);
        }
    }

    /// At the deadline every remaining alloc is stopped and the drain completes at once.
    fn drain_deadline_reached(&mut self, node: NodeId, reason: EndReason) {
        let ignore_system = self.nodes[node.index()]
            .drain
            .is_some_and(|d| d.ignore_system);
        let allocs: Vec<AllocId> = self.nodes[node.index()].allocs.clone();
        for alloc in allocs {
            if ignore_system && self.is_system(self.allocs[alloc.index()].job) {
                continue;
            }
            self.stop_for_drain(node, alloc, reason);
        }
        self.complete_drain(node, true);
    }

    /// Stops one alloc of a draining node; replaces it as its job type and Nomad version say.
    fn stop_for_drain(&mut self, node: NodeId, alloc: AllocId, reason: EndReason) {
        let placed_ms = self.allocs[alloc.index()].placed_ms;
        if !self.end_alloc(alloc, ClientStatus::Complete, reason) {
            return;
        }
        self.collector.counts.stopped += 1;
        // A system alloc is a daemon, not a piece of work: stopping it wastes nothing.
        if !self.is_system(self.allocs[alloc.index()].job) {
            self.collector.wasted_ms += (self.now - placed_ms) as f64;
        }
        if let Some(d) = self.nodes[node.index()].drain {
            self.collector.drains[d.record as usize].allocs_stopped += 1;
        }
        let job = self.allocs[alloc.index()].job;
        self.emit(|s| TraceEvent::AllocStopped {
            job: s.job_name(job),
            alloc: s.alloc_uuid(alloc),
            node: s.node_name(node).to_string(),
            reason: reason.as_str().to_string(),
        });
        let job_type = self.config.workloads[self.jobs[job.index()].workload as usize].job_type;
        let replace = match job_type {
            JobType::Batch => {
                reason == EndReason::Migrate
                    || self.config.nomad_version.replaces_drained_batch_allocs()
            }
            JobType::Service => true,
            JobType::System => false,
        };
        if replace {
            self.queue_replacement(alloc, Trigger::NodeDrain, self.now);
        } else {
            self.finish_slot(job);
        }
    }

    /// Service migration: drain `max_parallel` allocs at a time, gated on replacements' health.
    pub(crate) fn migrate_next_batch(&mut self, node: NodeId) {
        let Some(_) = self.nodes[node.index()].drain else {
            return;
        };
        let mut jobs: Vec<_> = self.nodes[node.index()]
            .allocs
            .iter()
            .map(|a| self.allocs[a.index()].job)
            .filter(|j| {
                self.config.workloads[self.jobs[j.index()].workload as usize].job_type
                    == JobType::Service
            })
            .collect();
        jobs.sort();
        jobs.dedup();
        for job in jobs {
            let j = &self.jobs[job.index()];
            let workload = &self.config.workloads[j.workload as usize];
            let max_parallel = workload.max_parallel.max(1);
            let count = j.count;
            // Healthy: live allocs of the job, on any node, running for at least min_healthy_time.
            let mut healthy = 0u32;
            let mut drainable = Vec::new();
            for n in &self.nodes {
                for &a in &n.allocs {
                    let alloc = &self.allocs[a.index()];
                    if alloc.job != job {
                        continue;
                    }
                    if n.drain.is_some() {
                        drainable.push(a);
                    }
                    if alloc.placed_ms + MIGRATE_MIN_HEALTHY_MS <= self.now {
                        healthy += 1;
                    }
                }
            }
            drainable.retain(|a| self.allocs[a.index()].node == node);
            let allowed = i64::from(healthy) - (i64::from(count) - i64::from(max_parallel));
            let k = allowed.clamp(0, drainable.len() as i64) as usize;
            for &alloc in drainable.iter().take(k) {
                self.stop_for_drain(node, alloc, EndReason::Migrate);
            }
        }
        self.check_drain_done(node);
    }

    /// Called whenever an alloc leaves a node: a draining node may now be done.
    pub(crate) fn after_alloc_left(&mut self, node: NodeId) {
        if self.nodes[node.index()].drain.is_some() {
            self.check_drain_done(node);
        }
    }

    /// A drain is done when every alloc but the system ones has ended; then the system allocs
    /// are stopped last (unless `-ignore-system`) and the drain completes.
    fn check_drain_done(&mut self, node: NodeId) {
        let Some(drain) = self.nodes[node.index()].drain else {
            return;
        };
        let allocs = self.nodes[node.index()].allocs.clone();
        if allocs
            .iter()
            .any(|a| !self.is_system(self.allocs[a.index()].job))
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

    fn complete_drain(&mut self, node: NodeId, deadline_reached: bool) {
        let Some(drain) = self.nodes[node.index()].drain.take() else {
            return;
        };
        let record = &mut self.collector.drains[drain.record as usize];
        record.completed_s = Some(self.now as f64 / 1000.0);
        record.deadline_reached = deadline_reached;
        // A finished drain leaves the node ineligible.
        self.refresh_candidacy(node);
        self.emit(|s| TraceEvent::NodeDrainComplete {
            node: s.node_name(node).to_string(),
            deadline_reached,
        });
        if drain.terminate_when_done {
            self.terminate_node(node, EndReason::NodeTerminated);
        }
    }

    // ----- scaling and failures ----------------------------------------------------------------

    pub(crate) fn scale_up(&mut self, pool: u32, count: u32) {
        let boot = self.config.pools[pool as usize].boot_time_ms;
        for _ in 0..count {
            let node = self.create_node(pool);
            if boot == 0 {
                self.make_ready(node);
            } else {
                self.queue
                    .push(self.now + boot, EventKind::NodeReady { node });
            }
        }
    }

    fn scale_down(
        &mut self,
        pool: u32,
        count: u32,
        selector: NodeSelector,
        deadline: DrainDeadline,
        heartbeat_timeout_ms: Option<SimTime>,
    ) {
        for node in self.select_nodes(pool, count, selector) {
            if let Some(timeout) = heartbeat_timeout_ms {
                self.queue
                    .push(self.now + timeout, EventKind::LifecycleTimeout { node });
            }
            self.start_drain(
                node,
                DrainSpec {
                    deadline,
                    ignore_system: false,
                },
                true,
            );
        }
    }

    pub(crate) fn on_lifecycle_timeout(&mut self, node: NodeId) {
        let n = &self.nodes[node.index()];
        if matches!(n.status, NodeStatus::Down | NodeStatus::Terminated) {
            return;
        }
        if let Some(drain) = self.nodes[node.index()].drain.take() {
            self.collector.drains[drain.record as usize].completed_s = None;
        }
        self.terminate_node(node, EndReason::NodeTerminated);
    }

    /// The node goes down: its allocs are lost and replaced.
    fn fail_node(&mut self, node: NodeId) {
        let n = &self.nodes[node.index()];
        if matches!(n.status, NodeStatus::Down | NodeStatus::Terminated) {
            return;
        }
        self.remove_node(node, NodeStatus::Down, EndReason::NodeDown);
        self.emit(|s| TraceEvent::NodeDown {
            node: s.node_name(node).to_string(),
        });
    }

    fn terminate_node(&mut self, node: NodeId, reason: EndReason) {
        self.remove_node(node, NodeStatus::Terminated, reason);
        self.emit(|s| TraceEvent::NodeTerminated {
            node: s.node_name(node).to_string(),
        });
    }

    fn remove_node(&mut self, node: NodeId, status: NodeStatus, reason: EndReason) {
        self.leave_ready(node);
        let pool = self.nodes[node.index()].pool;
        let n = &mut self.nodes[node.index()];
        n.status = status;
        n.drain = None;
        n.terminated_ms = Some(self.now);
        self.live_nodes[pool as usize] -= 1;
        self.refresh_candidacy(node);
        let allocs: Vec<AllocId> = self.nodes[node.index()].allocs.clone();
        for alloc in allocs {
            let placed_ms = self.allocs[alloc.index()].placed_ms;
            if !self.end_alloc(alloc, ClientStatus::Lost, reason) {
                continue;
            }
            self.collector.counts.lost += 1;
            self.collector.wasted_ms += (self.now - placed_ms) as f64;
            let job = self.allocs[alloc.index()].job;
            self.emit(|s| TraceEvent::AllocLost {
                job: s.job_name(job),
                alloc: s.alloc_uuid(alloc),
                node: s.node_name(node).to_string(),
                reason: reason.as_str().to_string(),
            });
            // A system alloc belongs to its node: it is not replaced elsewhere.
            if !self.is_system(job) {
                self.queue_replacement(alloc, Trigger::NodeUpdate, self.now);
            }
        }
    }

    // ----- the autoscaler ----------------------------------------------------------------------

    pub(crate) fn on_autoscaler_tick(&mut self) {
        let Some(cfg) = self.config.autoscaler.clone() else {
            return;
        };
        let Some(pool) = self.pool_index(&cfg.pool) else {
            return;
        };
        // Keep evaluating while arrivals may come or work remains; then let the run end.
        let busy = self.now < self.config.horizon_ms
            || self.has_outstanding_work()
            || self.nodes.iter().any(|n| n.drain.is_some());
        if busy {
            self.queue.push(
                self.now + cfg.evaluation_interval_ms,
                EventKind::AutoscalerTick,
            );
        }
        if self.now < self.autoscaler_cooldown_until() {
            return;
        }
        let pool_nodes: Vec<&crate::model::Node> =
            self.nodes.iter().filter(|n| n.pool == pool).collect();
        // The target is not ready while a pool node is initializing or draining.
        if pool_nodes
            .iter()
            .any(|n| n.status == NodeStatus::Initializing || n.drain.is_some())
        {
            return;
        }
        let current = pool_nodes
            .iter()
            .filter(|n| n.status == NodeStatus::Ready)
            .count() as u32;
        let metric = match cfg.metric {
            AutoscalerMetric::CpuAllocatedPct | AutoscalerMetric::MemoryAllocatedPct => {
                let (mut used, mut avail) = (0u64, 0u64);
                for n in pool_nodes
                    .iter()
                    .filter(|n| crate::cluster::is_schedulable(n))
                {
                    if cfg.metric == AutoscalerMetric::CpuAllocatedPct {
                        used += n.used.cpu_mhz;
                        avail += n.allocatable.cpu_mhz;
                    } else {
                        used += n.used.memory_mb;
                        avail += n.allocatable.memory_mb;
                    }
                }
                if avail == 0 {
                    return;
                }
                100.0 * used as f64 / avail as f64
            }
            AutoscalerMetric::PendingAllocs => self.queued_allocs_total() as f64,
        };
        let factor = if cfg.target == 0.0 {
            metric
        } else {
            metric / cfg.target
        };
        if (1.0 - cfg.threshold..=1.0 + cfg.threshold).contains(&factor) {
            return;
        }
        let wanted = if current == 0 {
            factor.ceil()
        } else {
            (f64::from(current) * factor).ceil()
        };
        let wanted = (wanted.max(0.0).min(f64::from(u32::MAX)) as u32).clamp(cfg.min, cfg.max);
        if wanted > current {
            self.scale_up(pool, wanted - current);
            self.set_autoscaler_cooldown(self.now + cfg.cooldown_ms);
        } else if wanted < current {
            let deadline = DrainDeadline::After(cfg.node_drain_deadline_ms);
            let chosen = self.select_nodes(pool, current - wanted, cfg.node_selector);
            if chosen.is_empty() {
                return;
            }
            for node in chosen {
                self.start_drain(
                    node,
                    DrainSpec {
                        deadline,
                        ignore_system: false,
                    },
                    true,
                );
            }
            self.set_autoscaler_cooldown(self.now + cfg.cooldown_ms);
        }
    }
}
