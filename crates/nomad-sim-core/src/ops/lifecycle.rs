//! The node lifecycle: creation, readiness, scale-up and ASG scale-down, failure and termination.

#[allow(unused_imports)]
use crate::prelude::*;

impl Simulation {
    pub(crate) fn create_node(&mut self, pool: u32) -> NodeId {
        let p = &self.config.pools[pool as usize];
        let index = self.state.nodes_created[pool as usize];
        self.state.nodes_created[pool as usize] += 1;
        let id = NodeId(self.state.nodes.len() as u32);
        let class_id = self.server.classes.class_of(p, &p.datacenter);
        let named = p.named_nodes.get(index as usize);
        let node = Node {
            name: p.node_name(index),
            id: named
                .and_then(|n| n.id.clone())
                .unwrap_or_else(|| uuid_for(self.config.seed, uuid_kind::NODE, id.0 as u64)),
            pool,
            capacity: p.resources,
            reserved: p.reserved,
            allocatable: p.allocatable(),
            used: Resources::default(),
            status: NodeStatus::Initializing,
            eligibility: Eligibility::Eligible,
            alloc_hint: 0,
            drain: None,
            class_id,
            allocs: Default::default(),
            create_index: id.0 as u64 + 1,
            created_ms: self.now,
            terminated_ms: None,
            events: Vec::new(),
            hardware: None,
        };
        self.state.nodes.push(node);
        self.state.live_nodes[pool as usize] += 1;
        id
    }

    pub(crate) fn make_ready(&mut self, node: NodeId) {
        self.state.nodes[node.index()].status = NodeStatus::Ready;
        self.state.join_ready_totals(node);
        self.emit_node(node, |s| TraceEvent::NodeReady {
            node: s.node_name(node).to_string(),
        });
        self.refresh_candidacy(node);
    }

    /// Takes a node out of the ready totals when it stops being ready.
    pub(crate) fn leave_ready(&mut self, node: NodeId) {
        self.state.leave_ready_totals(node);
    }

    /// Puts the node in or out of every candidate set after a change of status, eligibility or
    /// drain; a node that becomes schedulable is new capacity and may wake blocked evals.
    pub(crate) fn refresh_candidacy(&mut self, node: NodeId) {
        let schedulable = is_schedulable(&self.state.nodes[node.index()]);
        let mut joined = false;
        // The per-datacenter counts of the candidate sets (for metrics) are recomputed.
        self.server.candidacy_version += 1;
        for set in &mut self.server.candidate_sets {
            let n = &self.state.nodes[node.index()];
            if schedulable && set.matches(&self.config.pools[n.pool as usize]) {
                if !set.contains(node) {
                    set.insert(node);
                    joined = true;
                }
            } else {
                set.remove(node);
            }
        }
        if joined {
            self.capacity_freed(node);
        }
    }

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

    pub(crate) fn scale_down(
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
        let n = &self.state.nodes[node.index()];
        if matches!(n.status, NodeStatus::Down | NodeStatus::Terminated) {
            return;
        }
        if let Some(drain) = self.state.nodes[node.index()].drain.take() {
            self.unwatch_deadline(node);
            self.observe.collector.drains[drain.record as usize].completed_s = None;
        }
        self.terminate_node(node, EndReason::NodeTerminated);
    }

    /// The node goes down: its allocs are lost and replaced.
    pub(crate) fn fail_node(&mut self, node: NodeId) {
        let n = &self.state.nodes[node.index()];
        if matches!(n.status, NodeStatus::Down | NodeStatus::Terminated) {
            return;
        }
        self.remove_node(node, NodeStatus::Down, EndReason::NodeDown);
        self.emit_node(node, |s| TraceEvent::NodeDown {
            node: s.node_name(node).to_string(),
        });
    }

    pub(crate) fn terminate_node(&mut self, node: NodeId, reason: EndReason) {
        self.remove_node(node, NodeStatus::Terminated, reason);
        self.emit_node(node, |s| TraceEvent::NodeTerminated {
            node: s.node_name(node).to_string(),
        });
    }

    pub(crate) fn remove_node(&mut self, node: NodeId, status: NodeStatus, reason: EndReason) {
        self.leave_ready(node);
        let pool = self.state.nodes[node.index()].pool;
        let n = &mut self.state.nodes[node.index()];
        n.status = status;
        n.drain = None;
        n.terminated_ms = Some(self.now);
        self.unwatch_deadline(node);
        self.state.live_nodes[pool as usize] -= 1;
        self.refresh_candidacy(node);
        self.ops.heartbeat.silent.remove(&node);
        let allocs: Vec<AllocId> = self.state.allocs_on(node).collect();
        for alloc in allocs {
            self.lose_alloc(node, alloc, reason);
        }
    }
}
