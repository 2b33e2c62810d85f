//! What a job still needs (place, replace, reschedule) and the plan that places allocs.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::server::placement::PoolMetrics;
use crate::server::reschedule::{self, RescheduleEvent};

impl Simulation {
    /// Places the job's queued allocs; returns the failure metrics if some could not be placed.
    /// A replacement still waiting for its reschedule delay is left for its own eval.
    pub(crate) fn place_job(&mut self, job: JobId, eval: EvalId) -> Option<AllocMetric> {
        let mut scan = Scan::default();
        let mut next = 0usize;
        if !self.server.plan_preemptions.is_empty() {
            self.server.plan_preemptions.clear();
        }
        while self.state.jobs[job].queued > 0 {
            let (index, previous, pending) = {
                let j = &self.state.jobs[job];
                let mut found = None;
                while let Some(&(index, previous)) = j.pending_indexes.get(next) {
                    let deferred = !self.server.reschedule_at.is_empty()
                        && previous
                            .and_then(|p| self.server.reschedule_at.get(&p))
                            .is_some_and(|&at| at > self.now);
                    if !deferred {
                        found = Some((index, previous, true));
                        break;
                    }
                    next += 1;
                }
                match found {
                    Some(entry) => entry,
                    // Only deferred replacements are left in the list: a fresh index, if any.
                    None if (j.queued as usize) > j.pending_indexes.len() => {
                        (j.next_index, None, false)
                    }
                    None => return None,
                }
            };
            let penalty = match previous {
                Some(p) => {
                    let (own, extra) = self.reschedule_penalty(p);
                    self.server.penalty_nodes = extra;
                    own
                }
                None => None,
            };
            self.server.tally.clear();
            let mut selected = if self.server.placer.is_some() {
                self.select_with_placer(job)
            } else {
                self.select_inner(job, &mut scan, penalty, true)
            };
            // Nomad's `selectNextOption`: when nothing fits and the job's scheduler may
            // preempt, the Select runs again with eviction on.
            if selected.is_none() && self.server.placer.is_none() && self.preemption_enabled(job) {
                self.server.preempting = true;
                self.server.tally.clear();
                selected = self.select_inner(job, &mut scan, penalty, true);
                self.server.preempting = false;
            }
            if !self.server.penalty_nodes.is_empty() {
                self.server.penalty_nodes.clear();
            }
            if self.observe.collect_scores {
                self.server.metric.pool = Some(self.pool_metrics(job));
            }
            match selected {
                Some(node) => {
                    let j = &mut self.state.jobs[job];
                    if pending {
                        j.pending_indexes.remove(next);
                    } else {
                        j.next_index += 1;
                    }
                    if let Some(p) = previous.filter(|_| !self.server.reschedule_at.is_empty()) {
                        self.server.reschedule_at.remove(&p);
                    }
                    let victims = self.take_victims(node);
                    if !victims.is_empty() {
                        // The Select's metrics are kept aside while the victims go.
                        let metrics = std::mem::take(&mut self.server.metric);
                        self.evict(&victims, self.state.next_alloc_serial);
                        self.server.metric = metrics;
                    }
                    self.place_alloc(job, index, node, previous, eval);
                    if !victims.is_empty() {
                        // What the victims freed beyond the ask is room for others.
                        self.capacity_freed(node);
                    }
                }
                None => {
                    self.server.preempt_options.clear();
                    let mut metrics = std::mem::take(&mut self.server.metric);
                    metrics.coalesced_failures = self.state.jobs[job].queued - 1;
                    return Some(metrics);
                }
            }
        }
        None
    }

    /// What a Select leaves to the end, as Nomad fills it after each Select: the job's ready
    /// nodes in its pool and datacenters, in total and per datacenter, and the filtered and
    /// exhausted nodes by node class (from the Select's tally). Asked for only when metrics
    /// are kept (a trace, or views that keep alloc metrics): they cost strings and maps.
    pub(crate) fn pool_metrics(&mut self, job: JobId) -> Box<PoolMetrics> {
        let set =
            self.sources.workloads[self.state.jobs[job].workload as usize].candidate_set as usize;
        if self.server.nodes_by_dc.len() <= set {
            self.server.nodes_by_dc.resize(set + 1, None);
        }
        let version = self.server.candidacy_version;
        if self.server.nodes_by_dc[set]
            .as_ref()
            .is_none_or(|(v, _)| *v != version)
        {
            let mut by_dc: BTreeMap<String, u32> = BTreeMap::new();
            for node in &self.server.candidate_sets[set].members {
                let dc =
                    &self.config.pools[self.state.nodes[node.index()].pool as usize].datacenter;
                *by_dc.entry(dc.clone()).or_insert(0) += 1;
            }
            self.server.nodes_by_dc[set] = Some((version, by_dc));
        }
        let mut pm = PoolMetrics {
            nodes_in_pool: self.server.candidate_sets[set].members.len() as u32,
            ..PoolMetrics::default()
        };
        if let Some((_, by_dc)) = &self.server.nodes_by_dc[set] {
            pm.nodes_available = by_dc.clone();
        }
        let pools = &self.config.pools;
        self.server
            .tally
            .count_classes(&mut pm, |p| pools[p as usize].node_class.clone());
        Box::new(pm)
    }

    /// The nodes a replacement of `previous` is penalised on: its node if it failed, and
    /// every node in its reschedule tracker (Nomad's `getSelectOptions`).
    fn reschedule_penalty(&self, previous: AllocId) -> (Option<NodeId>, Vec<NodeId>) {
        let a = &self.state.allocs[previous];
        let own = (a.client() == ClientStatus::Failed).then_some(a.node);
        let mut extra: Vec<NodeId> = Vec::new();
        if let Some(events) = Some(&self.server.trackers)
            .filter(|t| !t.is_empty())
            .and_then(|t| t.get(&previous))
        {
            for e in events {
                if Some(e.prev_node) != own && !extra.contains(&e.prev_node) {
                    extra.push(e.prev_node);
                }
            }
        }
        (own, extra)
    }

    /// Places one alloc of `job` on `node`. Its metrics are the Select's, read from
    /// `self.server.metric` at the end: nothing between the Select and that read may run
    /// another Select (evictions set the metric aside for that reason).
    pub(crate) fn place_alloc(
        &mut self,
        job: JobId,
        index: u32,
        node: NodeId,
        previous: Option<AllocId>,
        eval: EvalId,
    ) {
        let now = self.now;
        let system = self.is_per_node(job);
        let (ask, duration, submit_ms, workload) = {
            let j = &self.state.jobs[job];
            let w = j.workload as usize;
            let duration = if system {
                self.config.workloads[w]
                    .duration
                    .sample_ms(&mut self.sources.workloads[w].duration_rng)
            } else {
                j.durations.of(index)
            };
            (j.ask, duration, j.submit_ms, w)
        };
        // A replacement of a failed alloc is a reschedule: it carries the tracker. Replacements
        // of lost or migrated allocs start without one.
        let tracker = previous.and_then(|p| {
            let a = &self.state.allocs[p];
            if a.client() != ClientStatus::Failed {
                return None;
            }
            let policy =
                self.config.workloads[self.state.jobs[job].workload as usize].reschedule_policy();
            let events: &[RescheduleEvent] =
                self.server.trackers.get(&p).map_or(&[], Vec::as_slice);
            let fail_ms = a.ended_ms().unwrap_or(now);
            let mut kept = reschedule::carried(&policy, events, now);
            kept.push(RescheduleEvent {
                time_ms: now,
                prev_node: a.node,
                delay_ms: reschedule::next_delay(&policy, events, fail_ms),
            });
            Some(kept)
        });
        let reschedules = tracker
            .as_ref()
            .map_or(0, |t| t.len().min(u16::MAX as usize) as u16);
        let serial = self.state.next_alloc_serial;
        self.state.next_alloc_serial += 1;
        let hardware = self.hardware_for_alloc(job, node);
        if let Some(h) = &hardware {
            let pool = self.state.nodes[node.index()].pool as usize;
            self.state
                .hold_hardware(node, &self.config.pools[pool].hardware, h);
        }
        let extra = AllocExtra {
            previous,
            reschedules,
            hardware,
        };
        let ask = extra.resources(ask);
        let alloc = Alloc::new(job, index, node, now, self.state.evals[eval].seq, serial);
        let id = self.state.insert_alloc(alloc, extra);
        if let Some(t) = tracker {
            self.server.trackers.insert(id, t);
        }
        self.state.attach_alloc(node, id, ask);
        self.state.take_queued();
        let j = &mut self.state.jobs[job];
        j.queued = j.queued.checked_sub(1).expect("a placed alloc was queued");
        j.live += 1;
        j.kept_objects += 1;
        if let Some(counts) = j.node_counts.as_mut() {
            counts.add(node.0);
        }
        if j.spread_counts.is_some() {
            self.count_spread(job, node, true);
        }
        self.observe.collector.counts.placed += 1;
        if previous.is_none() && !system {
            self.observe
                .collector
                .record_pending(submit_ms, now - submit_ms);
            let (ci, ci_submit_ms) = self
                .state
                .ci_slots(job)
                .expect("a CircleCI job with a slot to start is kept");
            ci.to_start = ci.to_start.checked_sub(1).expect("each slot starts once");
            if ci.to_start == 0 {
                self.observe.collector.start_all.record(now - ci_submit_ms);
            }
        }
        self.client_receive(id, job, workload, duration);
        if let Some(kept) = self.observe.alloc_metrics.as_mut() {
            kept.insert(serial, self.server.metric.clone());
        }
        self.emit(|s| TraceEvent::AllocPlaced {
            job: s.job_name(job),
            alloc: s.alloc_uuid(id),
            name: s.alloc_name(id),
            node: s.node_name(node).to_string(),
            pending_ms: now - submit_ms,
            metrics: s.server.metric.clone(),
        });
        // A placement is an alloc update the drainer's job watcher looks at.
        self.drainer_job_update(job);
    }

    /// Queues a replacement for an alloc slot and creates an eval for it.
    pub(crate) fn queue_replacement(
        &mut self,
        alloc: AllocId,
        trigger: Trigger,
        wait_until_ms: SimTime,
    ) {
        let a = &self.state.allocs[alloc];
        let (job, index) = (a.job, a.index);
        let j = &mut self.state.jobs[job];
        j.queued += 1;
        j.pending_indexes.push((index, Some(alloc)));
        self.state.queued_allocs += 1;
        let eval = self.create_eval(job, trigger, wait_until_ms);
        self.enqueue_eval(eval, false);
    }

    pub(crate) fn on_alloc_end(&mut self, alloc: AllocId, failed: bool) {
        let Some(a) = self
            .state
            .allocs
            .get_mut(alloc)
            .filter(|a| a.ended_ms().is_none())
        else {
            // It ended first (stopped, drained, preempted, lost), or was collected since.
            self.stale_alloc_end_popped();
            return;
        };
        let queued = a.take_end_queued();
        debug_assert!(queued, "a live alloc's end event was noted when pushed");
        let node = a.node;
        // A client that stopped heartbeating cannot report: the alloc is lost with its node.
        if self.client_is_silent(node) {
            return;
        }
        // A failed run is first the client's: its restart policy may run the task again.
        if failed && self.client_task_failed(alloc) {
            return;
        }
        let client = if failed {
            ClientStatus::Failed
        } else {
            ClientStatus::Complete
        };
        let reason = if failed {
            EndReason::Failed
        } else {
            EndReason::Completed
        };
        if !self.end_alloc(alloc, client, reason) {
            return;
        }
        let a = &self.state.allocs[alloc];
        let (job, node) = (a.job, a.node);
        if failed {
            self.observe.collector.counts.failed += 1;
            self.emit(|s| TraceEvent::AllocFailed {
                job: s.job_name(job),
                alloc: s.alloc_uuid(alloc),
                node: s.node_name(node).to_string(),
            });
            if !self.reschedule_failed(alloc) {
                self.finish_slot(job);
            }
        } else {
            self.observe.collector.counts.completed += 1;
            self.emit(|s| TraceEvent::AllocCompleted {
                job: s.job_name(job),
                alloc: s.alloc_uuid(alloc),
                node: s.node_name(node).to_string(),
            });
            self.finish_slot(job);
        }
        self.after_alloc_left(node);
        self.drainer_job_update(job);
        self.capacity_freed(node);
    }

    /// Applies the group's reschedule policy to a failed alloc: if its tracker allows another
    /// attempt, a replacement is queued for the failure time plus the policy's next delay.
    /// True if a replacement is queued.
    pub(crate) fn reschedule_failed(&mut self, alloc: AllocId) -> bool {
        let a = &self.state.allocs[alloc];
        let policy =
            self.config.workloads[self.state.jobs[a.job].workload as usize].reschedule_policy();
        let fail_ms = a.ended_ms().unwrap_or(self.now);
        let events: &[RescheduleEvent] =
            self.server.trackers.get(&alloc).map_or(&[], Vec::as_slice);
        if !reschedule::eligible(&policy, events, fail_ms) {
            return false;
        }
        let at = fail_ms + reschedule::next_delay(&policy, events, fail_ms);
        if at > self.now {
            self.server.reschedule_at.insert(alloc, at);
        }
        self.queue_replacement(alloc, Trigger::AllocFailure, at);
        true
    }
}
