//! Operator actions and the node lifecycle: the scenario's timeline, drains, scaling, the autoscaler.

#[allow(unused_imports)]
use crate::prelude::*;

mod autoscaler;
pub(crate) mod client;
pub(crate) mod drainer;
pub(crate) mod heartbeat;
mod job_stop;
mod lifecycle;
mod timers;

pub use drainer::DEADLINE_COALESCE_WINDOW_MS;
pub(crate) use timers::{Timer, Timers};

/// Nomad's default `min_healthy_time` for migrations (the migrate block).
pub const MIGRATE_MIN_HEALTHY_MS: SimTime = 10_000;

/// Nomad's default `healthy_deadline` for migrations (the migrate block).
pub const MIGRATE_HEALTHY_DEADLINE_MS: SimTime = 5 * 60_000;

/// What the operator side keeps between events.
#[derive(Debug)]
pub(crate) struct OpsState {
    pub(crate) autoscaler_cooldown_until_ms: SimTime,
    /// Client-side task failures.
    pub(crate) failure_rng: ChaCha8Rng,
    /// Timers of the drainer and the clients, due in time order.
    pub(crate) timers: Timers,
    /// The clients' view of their allocs.
    pub(crate) client: client::ClientState,
    /// The drainer's deadline heap.
    pub(crate) deadlines: drainer::DeadlineHeap,
    /// The server's failure detector.
    pub(crate) heartbeat: heartbeat::HeartbeatState,
}

impl Simulation {
    pub(crate) fn on_operation(&mut self, index: usize) {
        let action = self.config.operations[index].action.clone();
        self.act(action);
    }

    /// Carries out an operator action now, as `nomad node drain`, `nomad node eligibility` or
    /// an ASG change would (for a simulation driven from outside, such as the HTTP API), and
    /// runs the broker so the evals it creates are processed at once.
    pub fn apply(&mut self, action: Action) {
        self.act(action);
        self.drain_broker();
    }

    fn act(&mut self, action: Action) {
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
                    let n = &mut self.state.nodes[node.index()];
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
                    self.emit_node(node, |s| TraceEvent::NodeEligibility {
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
                    self.stop_heartbeating(node);
                }
            }
            Action::JobStop { job, purge } => self.job_stop_by_name(&job, purge),
        }
    }

    pub(crate) fn pool_index(&self, name: &str) -> Option<u32> {
        self.config
            .pools
            .iter()
            .position(|p| p.name == name)
            .map(|i| i as u32)
    }

    /// Nodes by name, in the order given; unknown names (nodes not yet created) are skipped.
    pub(crate) fn nodes_named(&self, names: &[String]) -> Vec<NodeId> {
        names
            .iter()
            .filter_map(|name| {
                self.state
                    .nodes
                    .iter()
                    .position(|n| &n.name == name)
                    .map(|i| NodeId(i as u32))
            })
            .collect()
    }

    pub(crate) fn resolve_target(&self, target: &NodeTarget) -> Vec<NodeId> {
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
            .state
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.pool == pool && n.status == NodeStatus::Ready && n.drain.is_none())
            .map(|(i, _)| NodeId(i as u32))
            .collect();
        // The API lists nodes by CreateIndex, newest first.
        candidates.sort_by_key(|n| std::cmp::Reverse(self.state.nodes[n.index()].create_index));
        let count = count as usize;
        match selector {
            NodeSelector::NewestCreateIndex => candidates.truncate(count),
            NodeSelector::OldestCreateIndex => {
                candidates.reverse();
                candidates.truncate(count);
            }
            NodeSelector::Empty => {
                candidates.retain(|n| self.state.nodes[n.index()].allocs.is_empty());
                candidates.truncate(count);
            }
            NodeSelector::EmptyIgnoreSystem => {
                candidates.retain(|&n| {
                    self.state
                        .allocs_on(n)
                        .all(|a| self.is_system(self.state.allocs[a].job))
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
                    let node = &self.state.nodes[n.index()];
                    let cpu = pct(node.used.cpu_mhz, node.allocatable.cpu_mhz);
                    let mem = pct(node.used.memory_mb, node.allocatable.memory_mb);
                    (cpu + mem).div_ceil(2)
                });
                candidates.truncate(count);
            }
        }
        candidates
    }
}
