//! The eval broker: evals by priority, then creation order; the scheduler workers and the plan queue.

#[allow(unused_imports)]
use crate::prelude::*;

/// The leader's scheduler workers and plan queue, when evals take time.
#[derive(Debug)]
pub(crate) struct Workers {
    /// Workers holding an eval.
    pub(crate) busy: u32,
    /// When the plan queue has applied every plan submitted so far.
    pub(crate) plan_queue_free_ms: SimTime,
    /// Eval and plan times.
    pub(crate) rng: ChaCha8Rng,
}

impl Workers {
    pub(crate) fn new(rng: ChaCha8Rng) -> Workers {
        Workers {
            busy: 0,
            plan_queue_free_ms: 0,
            rng,
        }
    }
}

impl Simulation {
    /// Puts an eval in the broker, or schedules it for its `wait_until` time.
    pub(crate) fn enqueue_eval(&mut self, eval: EvalId, from_bucket: bool) {
        let e = &self.state.evals[eval];
        if e.wait_until_ms > self.now {
            self.queue
                .push(e.wait_until_ms, EventKind::DelayedEval { eval });
            return;
        }
        let priority = self.state.jobs[e.job].priority;
        self.server
            .broker
            .push(Reverse((u8::MAX - priority, e.seq, eval, from_bucket)));
    }

    /// Hands the broker's evals to the scheduler workers. With no eval or plan time (the
    /// default) every eval is processed now, highest priority first. Otherwise each free
    /// worker takes the next eval, spends `eval_time` on it, submits its plan to the plan
    /// queue, which applies one plan at a time (`plan_apply_time`), and is free again once its
    /// plan is applied; the eval's placements happen then.
    pub(crate) fn drain_broker(&mut self) {
        if self.config.scheduler.is_instant() {
            while let Some(Reverse((_, _, eval, from_bucket))) = self.server.broker.pop() {
                self.process_eval(eval, from_bucket);
            }
            return;
        }
        while self.server.workers.busy < self.config.scheduler.num_schedulers.max(1) {
            let Some(Reverse((_, _, eval, from_bucket))) = self.server.broker.pop() else {
                break;
            };
            let w = &mut self.server.workers;
            w.busy += 1;
            let eval_time = self.config.scheduler.eval_time.sample_ms(&mut w.rng);
            let apply_time = self.config.scheduler.plan_apply_time.sample_ms(&mut w.rng);
            let submitted = self.now + eval_time;
            let applied = submitted.max(w.plan_queue_free_ms) + apply_time;
            w.plan_queue_free_ms = applied;
            self.set_timer(applied, crate::ops::Timer::EvalDone { eval, from_bucket });
        }
    }

    /// A worker's plan was applied: the eval's placements happen now and the worker is free.
    pub(crate) fn on_eval_done(&mut self, eval: EvalId, from_bucket: bool) {
        let w = &mut self.server.workers;
        w.busy = w
            .busy
            .checked_sub(1)
            .expect("a finishing eval had a worker");
        self.process_eval(eval, from_bucket);
    }

    pub(crate) fn process_eval(&mut self, eval: EvalId, from_bucket: bool) {
        let job = self.state.evals[eval].job;
        if self.is_per_node(job) {
            self.process_system_eval(job, eval);
            return;
        }
        if self.state.jobs[job].stopped {
            // The job was stopped while the eval waited: it places nothing, and a woken
            // bucket passes its turn on.
            if from_bucket {
                let bucket = self.bucket_of(job);
                self.server.blocked.buckets[bucket as usize].in_broker = false;
                self.complete_eval(eval);
                self.wake_next_if_dirty(bucket);
            } else {
                self.complete_eval(eval);
            }
            return;
        }
        let bucket = self.bucket_of(job);
        if from_bucket {
            self.server.blocked.buckets[bucket as usize].in_broker = false;
            // Other evals woken at the same moment may have taken the room: check the dirty
            // nodes before paying for a scan, and go back to waiting quietly if none fits.
            let dirty = std::mem::take(&mut self.server.blocked.buckets[bucket as usize].dirty);
            let still: Vec<NodeId> = dirty
                .into_iter()
                .filter(|&n| self.bucket_fits(bucket, n))
                .collect();
            let Some(&node) = still.first() else {
                self.state.evals[eval].status = EvalStatus::Blocked;
                self.server.blocked.buckets[bucket as usize]
                    .queue
                    .push_front(eval);
                self.server.blocked.waiting_buckets.insert(bucket);
                return;
            };
            self.server.blocked.buckets[bucket as usize].dirty = still;
            self.emit(|s| TraceEvent::EvalUnblocked {
                job: s.job_name(job),
                eval: s.eval_uuid(eval),
                node: s.node_name(node).to_string(),
            });
        }
        if self.state.jobs[job].queued == 0 {
            self.complete_eval(eval);
            if from_bucket {
                self.wake_next_if_dirty(bucket);
            }
            return;
        }
        if !from_bucket
            && !self.server.blocked.buckets[bucket as usize]
                .queue
                .is_empty()
        {
            // The bucket is clean: nothing fits anywhere, so this eval blocks without a scan.
            let metrics = self.bucket_metrics(bucket, job);
            self.block_eval(eval, bucket, false, metrics);
            return;
        }
        match self.place_in_bucket(job, eval, bucket, from_bucket) {
            None => {
                self.complete_eval(eval);
                if from_bucket {
                    self.wake_next_if_dirty(bucket);
                }
            }
            Some(metrics) => {
                self.server.blocked.buckets[bucket as usize].dirty.clear();
                self.block_eval(eval, bucket, from_bucket, metrics);
            }
        }
    }

    pub(crate) fn complete_eval(&mut self, eval: EvalId) {
        self.finish_eval(eval, EvalStatus::Complete);
    }

    /// Ends an eval as complete or cancelled: it is no longer open, and is collected later.
    pub(crate) fn finish_eval(&mut self, eval: EvalId, status: EvalStatus) {
        let e = &mut self.state.evals[eval];
        if matches!(e.status, EvalStatus::Complete | EvalStatus::Canceled) {
            return;
        }
        e.status = status;
        let job_id = e.job;
        let job = &mut self.state.jobs[job_id];
        job.open_evals = job
            .open_evals
            .checked_sub(1)
            .expect("a completing eval was open");
        if job.blocked_eval == Some(eval) {
            job.blocked_eval = None;
            job.failure = None;
        }
        let batch = self.config.workloads[job.workload as usize]
            .job_type
            .runs_to_completion();
        let due = self.now.saturating_add(self.gc_threshold(batch));
        self.state.gc.evals(batch).push_back((due, eval));
        self.note_if_dead(job_id);
    }
}
