//! Garbage collection of terminal objects, as Nomad's server does it with its thresholds.
//!
//! Terminal allocs and evals wait in first-in-first-out queues ordered by when they may go
//! (their end plus a fixed threshold, so each queue stays sorted). Dead jobs wait likewise and
//! go only after every alloc and eval of theirs has gone. Collection frees arena slots for
//! reuse; it never changes what the simulation does, only what it keeps.

use std::collections::VecDeque;

#[allow(unused_imports)]
use crate::prelude::*;

/// Objects waiting to be collected, each queue sorted by due time.
#[derive(Debug, Default)]
pub(crate) struct GcQueues {
    /// Terminal allocs of service and system jobs.
    allocs_short: VecDeque<(SimTime, AllocId)>,
    /// Terminal allocs of batch jobs.
    allocs_long: VecDeque<(SimTime, AllocId)>,
    /// Complete evals of service and system jobs.
    evals_short: VecDeque<(SimTime, EvalId)>,
    /// Complete evals of batch jobs.
    evals_long: VecDeque<(SimTime, EvalId)>,
    /// Dead jobs, with the time they died.
    jobs: VecDeque<(SimTime, JobId, SimTime)>,
    /// When the collector runs next.
    pub(crate) next_run_ms: SimTime,
    /// Collect every terminal object at the next instant instead of after `server.gc`'s
    /// thresholds (see [`Simulation::forget_terminal_objects`]).
    pub(crate) at_once: bool,
}

impl GcQueues {
    pub(crate) fn allocs(&mut self, batch: bool) -> &mut VecDeque<(SimTime, AllocId)> {
        if batch {
            &mut self.allocs_long
        } else {
            &mut self.allocs_short
        }
    }

    pub(crate) fn evals(&mut self, batch: bool) -> &mut VecDeque<(SimTime, EvalId)> {
        if batch {
            &mut self.evals_long
        } else {
            &mut self.evals_short
        }
    }
}

impl Simulation {
    /// Frees terminal allocs and evals and dead jobs at the instant after they end, instead of
    /// keeping them for `server.gc`'s thresholds as Nomad does. Collection never changes what
    /// the simulation does, so the report and the trace stay the same; only the read model
    /// (views, the HTTP API) loses the history Nomad would still show. For runs that read
    /// only the report: memory then follows the live cluster alone. Call it before the run:
    /// objects already waiting for collection keep their due times.
    pub fn forget_terminal_objects(&mut self) {
        self.state.gc.at_once = true;
    }

    /// How long a terminal alloc or eval is kept: its eval threshold, and never longer than
    /// its job would be kept once dead.
    pub(crate) fn gc_threshold(&self, batch: bool) -> SimTime {
        if self.state.gc.at_once {
            return 0;
        }
        let gc = &self.config.gc;
        let eval = if batch {
            gc.batch_eval_gc_threshold_ms
        } else {
            gc.eval_gc_threshold_ms
        };
        eval.min(gc.job_gc_threshold_ms)
    }

    /// Notes the moment a job becomes dead, so the collector can take it later. System jobs
    /// stay registered until stopped: new nodes still get their allocs. A sysbatch job that
    /// waits for room on some node is not dead yet (Nomad keeps its blocked eval).
    pub(crate) fn note_if_dead(&mut self, job: JobId) {
        let stopped = self.state.jobs[job].stopped;
        if (self.is_system(job) && !stopped) || !self.state.is_dead(job) {
            return;
        }
        if self.is_per_node(job) {
            if !stopped && self.server.system_waiting.contains_key(&job) {
                return;
            }
            // It leaves the system scheduler's list: no node will be offered to it again.
            self.server.system_jobs.retain(|&j| j != job);
            self.server.system_waiting.remove(&job);
        }
        let now = self.now;
        let j = &mut self.state.jobs[job];
        if j.dead_since_ms.is_none() {
            j.dead_since_ms = Some(now);
            let threshold = if self.state.gc.at_once {
                0
            } else {
                self.config.gc.job_gc_threshold_ms
            };
            let due = now.saturating_add(threshold);
            self.state.gc.jobs.push_back((due, job, now));
        }
    }

    /// Runs the collector at every one of its ticks (multiples of `server.gc.interval`) up to
    /// `until`, as Nomad's periodic GC would have; called by the engine before each instant and
    /// when the clock stops.
    pub(crate) fn collect_garbage_until(&mut self, until: SimTime) {
        if self.state.gc.at_once {
            self.collect_garbage(until);
            return;
        }
        let interval = self.config.gc.interval_ms.max(1);
        if self.state.gc.next_run_ms == 0 {
            self.state.gc.next_run_ms = interval;
        }
        while self.state.gc.next_run_ms <= until {
            let tick = self.state.gc.next_run_ms;
            self.collect_garbage(tick);
            self.state.gc.next_run_ms = tick.saturating_add(interval);
        }
    }

    /// Frees every terminal object whose time has come.
    pub(crate) fn collect_garbage(&mut self, now: SimTime) {
        for batch in [false, true] {
            while let Some(&(due, alloc)) = self.state.gc.allocs(batch).front() {
                if due > now {
                    break;
                }
                self.state.gc.allocs(batch).pop_front();
                let job = self.state.allocs[alloc].job;
                // A replacement still waiting for placement reads the alloc it replaces.
                let awaited = self.state.jobs[job]
                    .pending_indexes
                    .iter()
                    .any(|&(_, prev)| prev == Some(alloc));
                // A batch alloc goes with its job, and a job of several groups goes whole.
                if awaited || (batch && self.held_by_group(job, now)) {
                    let retry = now.saturating_add(self.gc_retry_ms());
                    self.state.gc.allocs(batch).push_back((retry, alloc));
                    continue;
                }
                self.client_alloc_collected(alloc);
                let serial = self.state.remove_alloc(alloc).serial();
                if let Some(kept) = self.observe.alloc_metrics.as_mut() {
                    kept.remove(&serial);
                }
                if !self.state.preempted_by.is_empty() {
                    self.state.preempted_by.remove(&serial);
                }
                if !self.state.preempted_allocs.is_empty() {
                    self.state.preempted_allocs.remove(&serial);
                }
                self.release_job_object(job);
            }
            while let Some(&(due, eval)) = self.state.gc.evals(batch).front() {
                if due > now {
                    break;
                }
                self.state.gc.evals(batch).pop_front();
                let job = self.state.evals[eval].job;
                if batch && self.held_by_group(job, now) {
                    let retry = now.saturating_add(self.gc_retry_ms());
                    self.state.gc.evals(batch).push_back((retry, eval));
                    continue;
                }
                self.state.evals.delete(eval);
                self.release_job_object(job);
            }
        }
        while let Some(&(due, job, died)) = self.state.gc.jobs.front() {
            if due > now {
                break;
            }
            self.state.gc.jobs.pop_front();
            // A job of several groups may have gone with another of its groups.
            let Some(j) = self.state.jobs.get(job) else {
                continue;
            };
            if j.dead_since_ms != Some(died) {
                // It came back to life; it is queued again when it dies again.
                continue;
            }
            let group = self
                .group_key(job)
                .filter(|k| self.state.job_groups.contains_key(k));
            let ready = match group {
                None => j.kept_objects == 0,
                Some(k) => {
                    !self.held_by_group(job, now)
                        && self.state.job_groups[&k]
                            .iter()
                            .all(|&g| self.state.jobs[g].kept_objects == 0)
                }
            };
            if !ready {
                let retry = now.saturating_add(self.gc_retry_ms());
                self.state.gc.jobs.push_back((retry, job, died));
                continue;
            }
            match group.and_then(|k| self.state.job_groups.remove(&k)) {
                None => {
                    self.forget_job(job);
                    self.state.jobs.delete(job);
                }
                Some(whole) => {
                    for &g in whole.iter() {
                        self.forget_job(g);
                        self.state.jobs.delete(g);
                    }
                }
            }
        }
    }

    /// The key of the job's entry in `job_groups`, when it is a held group of a job of
    /// several (none are registered when collecting at once, and the check stops there).
    pub(crate) fn group_key(&self, job: JobId) -> Option<u64> {
        if self.state.job_groups.is_empty() {
            return None;
        }
        let j = self.state.jobs.get(job)?;
        let identity = self.config.workloads[j.workload as usize]
            .identity
            .as_ref()?;
        if identity.group_count < 2 {
            return None;
        }
        j.serial.checked_sub(u64::from(identity.group_index))
    }

    /// True while the job is a group of a job of several groups that may not be collected
    /// yet: some group is not dead, or died less than the job threshold before `now`.
    fn held_by_group(&self, job: JobId, now: SimTime) -> bool {
        let Some(jobs) = self
            .group_key(job)
            .and_then(|k| self.state.job_groups.get(&k))
        else {
            return false;
        };
        let threshold = self.config.gc.job_gc_threshold_ms;
        !jobs.iter().all(|&g| {
            self.state
                .jobs
                .get(g)
                .and_then(|j| j.dead_since_ms)
                .is_some_and(|died| died.saturating_add(threshold) <= now)
        })
    }

    /// How long an object that cannot go yet waits before the collector tries again: its next
    /// run, or the next millisecond when collecting at once (never the same instant, or one
    /// pass would retry it forever).
    fn gc_retry_ms(&self) -> SimTime {
        if self.state.gc.at_once {
            1
        } else {
            self.config.gc.interval_ms.max(1)
        }
    }

    fn release_job_object(&mut self, job: JobId) {
        let j = &mut self.state.jobs[job];
        j.kept_objects = j
            .kept_objects
            .checked_sub(1)
            .expect("a job counts the objects it keeps");
    }
}
