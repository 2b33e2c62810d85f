//! The server's failure detector: clients that stop heartbeating, and the disconnect block.
//!
//! A `node_fail` means the client stops heartbeating (it crashed, or lost the network). The
//! server does not know at once: its heartbeat timer for the node expires a TTL plus the
//! grace after the client's last heartbeat. The TTL is `max(min_heartbeat_ttl, nodes /
//! max_heartbeats_per_second)` plus a random stagger of up to one TTL, drawn for the last
//! heartbeat before the failure, and the failure falls anywhere in that last interval. Until
//! then the node is ready as far as the server knows: it can still be given work, and what
//! runs there can no longer report an end.
//!
//! When the timer expires, allocs of groups with a `disconnect` block (`lost_after`, or the
//! older `max_client_disconnect`) become `unknown` and the node `disconnected`; the others are
//! `lost` and replaced. An unknown alloc is replaced at once (`replace = true`, the default)
//! or when it is lost; it is lost `lost_after` later. The node goes `down` when nothing
//! unknown is left on it. A failed client never comes back.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::ops::Timer;

/// The failure detector's state.
#[derive(Debug)]
pub(crate) struct HeartbeatState {
    /// Clients that stopped heartbeating and are not yet detected, with when they stopped.
    pub(crate) silent: BTreeMap<NodeId, SimTime>,
    /// Disconnected nodes and their unknown allocs.
    pub(crate) disconnected: BTreeMap<NodeId, Vec<AllocId>>,
    /// Unknown allocs already replaced (`replace = true`): not replaced again when lost.
    pub(crate) replaced: BTreeSet<AllocId>,
    /// TTL staggers and the phase of the last heartbeat.
    pub(crate) rng: ChaCha8Rng,
}

impl HeartbeatState {
    pub(crate) fn new(rng: ChaCha8Rng) -> HeartbeatState {
        HeartbeatState {
            silent: BTreeMap::new(),
            disconnected: BTreeMap::new(),
            replaced: BTreeSet::new(),
            rng,
        }
    }
}

impl Simulation {
    /// `node_fail`: the client stops heartbeating. A node not yet ready simply goes down.
    pub(crate) fn stop_heartbeating(&mut self, node: NodeId) {
        let n = &self.state.nodes[node.index()];
        match n.status {
            NodeStatus::Down | NodeStatus::Terminated => return,
            NodeStatus::Initializing => {
                self.fail_node(node);
                return;
            }
            NodeStatus::Ready => {}
        }
        if self.ops.heartbeat.silent.contains_key(&node) {
            return;
        }
        let nodes = self
            .state
            .nodes
            .iter()
            .filter(|n| n.status == NodeStatus::Ready)
            .count() as u64;
        let hb = self.config.heartbeat;
        let base = hb.base_ttl_ms(nodes).max(1);
        let rng = &mut self.ops.heartbeat.rng;
        let ttl = base + rng.gen_range(0..base);
        let since_last = rng.gen_range(0..ttl);
        let expires = self.now - since_last.min(self.now) + ttl + hb.heartbeat_grace_ms;
        self.ops.heartbeat.silent.insert(node, self.now);
        self.set_timer(expires.max(self.now + 1), Timer::HeartbeatExpired { node });
    }

    /// True when the node's client has stopped heartbeating (whether or not the server knows):
    /// nothing it runs can report.
    #[inline]
    pub(crate) fn client_is_silent(&self, node: NodeId) -> bool {
        let hb = &self.ops.heartbeat;
        (!hb.silent.is_empty() && hb.silent.contains_key(&node))
            || (!hb.disconnected.is_empty() && hb.disconnected.contains_key(&node))
    }

    /// The server's heartbeat timer for a silent client expired.
    pub(crate) fn on_heartbeat_expired(&mut self, node: NodeId) {
        if self.ops.heartbeat.silent.remove(&node).is_none() {
            return;
        }
        if self.state.nodes[node.index()].status != NodeStatus::Ready {
            return;
        }
        let version = self.config.nomad_version;
        let keep: Vec<AllocId> = self
            .state
            .allocs_on(node)
            .filter(|&a| {
                let w = &self.config.workloads
                    [self.state.jobs[self.state.allocs[a].job].workload as usize];
                version.has_max_client_disconnect()
                    && w.disconnect.is_some_and(|d| d.lost_after_ms > 0)
            })
            .collect();
        if keep.is_empty() {
            self.fail_node(node);
            return;
        }
        // Disconnected: out of the ready nodes, but the unknown allocs stay on it.
        self.leave_ready(node);
        let pool = self.state.nodes[node.index()].pool;
        let n = &mut self.state.nodes[node.index()];
        n.status = NodeStatus::Down;
        n.drain = None;
        self.unwatch_deadline(node);
        self.state.live_nodes[pool as usize] -= 1;
        self.state.nodes[node.index()].terminated_ms = Some(self.now);
        self.ops.heartbeat.disconnected.insert(node, keep.clone());
        self.refresh_candidacy(node);
        self.emit_node(node, |s| TraceEvent::NodeDisconnected {
            node: s.node_name(node).to_string(),
        });
        let others: Vec<AllocId> = self
            .state
            .allocs_on(node)
            .filter(|a| !keep.contains(a))
            .collect();
        for alloc in others {
            self.lose_alloc(node, alloc, EndReason::NodeDown);
        }
        for alloc in keep {
            let job = self.state.allocs[alloc].job;
            let w = &self.config.workloads[self.state.jobs[job].workload as usize];
            let d = w.disconnect.expect("kept allocs have a disconnect block");
            self.emit(|s| TraceEvent::AllocUnknown {
                job: s.job_name(job),
                alloc: s.alloc_uuid(alloc),
                node: s.node_name(node).to_string(),
            });
            if d.replace && !self.is_per_node(job) {
                self.queue_replacement(alloc, Trigger::NodeUpdate, self.now);
                self.ops.heartbeat.replaced.insert(alloc);
            }
            self.set_timer(self.now + d.lost_after_ms, Timer::LostAfter { alloc });
        }
    }

    /// An unknown alloc's `lost_after` passed: it is lost, and replaced if it was not yet.
    pub(crate) fn on_lost_after(&mut self, alloc: AllocId) {
        if !self.alloc_is_live(alloc) {
            return;
        }
        let node = self.state.allocs[alloc].node;
        let Some(list) = self.ops.heartbeat.disconnected.get_mut(&node) else {
            return;
        };
        list.retain(|&a| a != alloc);
        let last = list.is_empty();
        self.lose_alloc(node, alloc, EndReason::NodeDown);
        if last {
            self.ops.heartbeat.disconnected.remove(&node);
            self.emit_node(node, |s| TraceEvent::NodeDown {
                node: s.node_name(node).to_string(),
            });
        }
    }

    /// An alloc of a node the server gave up on is lost, and replaced unless it is a system
    /// alloc or was replaced while unknown.
    pub(crate) fn lose_alloc(&mut self, node: NodeId, alloc: AllocId, reason: EndReason) {
        let placed_ms = self.state.allocs[alloc].placed_ms();
        if !self.end_alloc(alloc, ClientStatus::Lost, reason) {
            return;
        }
        self.observe.collector.counts.lost += 1;
        self.observe.collector.wasted_ms += (self.now - placed_ms) as f64;
        let job = self.state.allocs[alloc].job;
        self.emit(|s| TraceEvent::AllocLost {
            job: s.job_name(job),
            alloc: s.alloc_uuid(alloc),
            node: s.node_name(node).to_string(),
            reason: reason.as_str().to_string(),
        });
        let replaced = self.ops.heartbeat.replaced.remove(&alloc);
        // A system alloc belongs to its node: it is not replaced elsewhere.
        if !self.is_per_node(job) && !replaced {
            self.queue_replacement(alloc, Trigger::NodeUpdate, self.now);
        }
        self.drainer_job_update(job);
    }

    /// True while the node is disconnected (its heartbeat expired and some allocs are still
    /// `unknown`); its status reads `down` to the scheduler, `disconnected` to operators.
    pub fn node_is_disconnected(&self, node: NodeId) -> bool {
        self.ops.heartbeat.disconnected.contains_key(&node)
    }

    /// True while the alloc is `unknown`: on a disconnected node, not yet lost.
    pub fn alloc_is_unknown(&self, alloc: AllocId) -> bool {
        self.state.allocs.get(alloc).is_some_and(|a| {
            a.ended_ms().is_none()
                && self
                    .ops
                    .heartbeat
                    .disconnected
                    .get(&a.node)
                    .is_some_and(|l| l.contains(&alloc))
        })
    }
}
