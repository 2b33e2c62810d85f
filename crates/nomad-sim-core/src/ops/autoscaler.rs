//! The nomad-autoscaler's cluster policy: target-value scaling with cooldown and readiness.

#[allow(unused_imports)]
use crate::prelude::*;

impl Simulation {
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
            || self.state.nodes.iter().any(|n| n.drain.is_some());
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
            self.state.nodes.iter().filter(|n| n.pool == pool).collect();
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

    pub(crate) fn autoscaler_cooldown_until(&self) -> SimTime {
        self.ops.autoscaler_cooldown_until_ms
    }

    pub(crate) fn set_autoscaler_cooldown(&mut self, until: SimTime) {
        self.ops.autoscaler_cooldown_until_ms = until;
    }
}
