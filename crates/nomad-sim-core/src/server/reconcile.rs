//! What a job still needs (place, replace, reschedule) and the plan that places allocs.

#[allow(unused_imports)]
use crate::prelude::*;

impl Simulation {
    /// Places the job's queued allocs; returns the failure metrics if some could not be placed.
    pub(crate) fn place_job(&mut self, job: JobId, eval: EvalId) -> Option<AllocMetric> {
        let mut scan = Scan::default();
        while self.state.jobs[job].queued > 0 {
            let (index, previous) = {
                let j = &mut self.state.jobs[job];
                match j.pending_indexes.first().copied() {
                    Some(entry) => entry,
                    None => (j.next_index, None),
                }
            };
            let penalty = previous.and_then(|p| {
                let a = &self.state.allocs[p];
                (a.client == ClientStatus::Failed).then_some(a.node)
            });
            let selected = if self.server.placer.is_some() {
                self.select_with_placer(job)
            } else {
                self.select_inner(job, &mut scan, penalty, true)
            };
            match selected {
                Ok((node, metrics)) => {
                    let j = &mut self.state.jobs[job];
                    if j.pending_indexes.is_empty() {
                        j.next_index += 1;
                    } else {
                        j.pending_indexes.remove(0);
                    }
                    self.place_alloc(job, index, node, previous, eval, metrics);
                }
                Err(mut metrics) => {
                    metrics.coalesced_failures = self.state.jobs[job].queued - 1;
                    return Some(metrics);
                }
            }
        }
        None
    }

    pub(crate) fn place_alloc(
        &mut self,
        job: JobId,
        index: u32,
        node: NodeId,
        previous: Option<AllocId>,
        eval: EvalId,
        metrics: AllocMetric,
    ) {
        let now = self.now;
        let system = self.is_system(job);
        let (ask, duration, submit_ms, ci_job) = {
            let j = &self.state.jobs[job];
            let w = j.workload as usize;
            let duration = if system {
                self.config.workloads[w]
                    .duration
                    .sample_ms(&mut self.sources.workloads[w].duration_rng)
            } else {
                j.durations[index as usize]
            };
            (j.ask, duration, j.submit_ms, j.ci_job)
        };
        let reschedules = previous.map_or(0, |p| {
            let a = &self.state.allocs[p];
            a.reschedules + u16::from(a.client == ClientStatus::Failed)
        });
        let serial = self.state.next_alloc_serial;
        self.state.next_alloc_serial += 1;
        let id = self.state.allocs.insert(Alloc {
            job,
            index,
            node,
            desired: DesiredStatus::Run,
            client: ClientStatus::Running,
            placed_ms: now,
            ended_ms: None,
            end_reason: None,
            slot: 0,
            previous,
            reschedules,
            eval: self.state.evals[eval].seq,
            serial,
        });
        let slot = self.state.attach_alloc(node, id, ask);
        self.state.allocs[id].slot = slot;
        self.state.take_queued();
        let j = &mut self.state.jobs[job];
        j.queued = j.queued.checked_sub(1).expect("a placed alloc was queued");
        j.live += 1;
        j.kept_objects += 1;
        if let Some(counts) = j.node_counts.as_mut() {
            *counts.entry(node.0).or_insert(0) += 1;
        }
        self.observe.collector.counts.placed += 1;
        if previous.is_none() && !system {
            self.observe
                .collector
                .record_pending(submit_ms, now - submit_ms);
            let ci = &mut self.state.ci_jobs[ci_job];
            ci.to_start = ci.to_start.checked_sub(1).expect("each slot starts once");
            if ci.to_start == 0 {
                let start_all = now - ci.submit_ms;
                self.observe.collector.start_all.record(start_all);
            }
        }
        self.client_receive(id, duration);
        if let Some(kept) = self.observe.alloc_metrics.as_mut() {
            kept.insert(serial, metrics.clone());
        }
        self.emit(|s| TraceEvent::AllocPlaced {
            job: s.job_name(job),
            alloc: s.alloc_uuid(id),
            name: s.alloc_name(id),
            node: s.node_name(node).to_string(),
            pending_ms: now - submit_ms,
            metrics,
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

    /// Applies the job type's reschedule policy to a failed alloc; true if a replacement is queued.
    pub(crate) fn reschedule_failed(&mut self, alloc: AllocId) -> bool {
        let a = &self.state.allocs[alloc];
        let job_type = self.config.workloads[self.state.jobs[a.job].workload as usize].job_type;
        match job_type {
            // Batch: one attempt within 24h, after 5s.
            JobType::Batch => {
                if a.reschedules >= 1 {
                    return false;
                }
                let at = self.now + 5_000;
                self.queue_replacement(alloc, Trigger::AllocFailure, at);
                true
            }
            // Service: unlimited, exponential from 30s, capped at 1h.
            JobType::Service => {
                let delay = (30_000u64 << a.reschedules.min(7)).min(HOUR_MS);
                let at = self.now + delay;
                self.queue_replacement(alloc, Trigger::AllocFailure, at);
                true
            }
            JobType::System => false,
        }
    }
}
