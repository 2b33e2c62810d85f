//! `nomad job stop [-purge]`: a job's allocs are stopped, its queued allocs dropped, its
//! waiting evals cancelled and a `job-deregister` eval recorded; the job is dead with `Stop`
//! set, and a purge takes it out of the read model at once (the collector frees its memory
//! later, as for any dead job).

#[allow(unused_imports)]
use crate::prelude::*;

impl Simulation {
    /// The scenario's `job_stop`: a workload's name stops the workload (no more arrivals or
    /// launches) and every job of it still held; otherwise the held job with that ID is
    /// stopped. An unknown name does nothing, as for node names.
    pub(crate) fn job_stop_by_name(&mut self, name: &str, purge: bool) {
        // A workload by its name, or a job file of several groups by its job ID: its first
        // group's workload and the groups that follow it stop together.
        let workload = self.config.workloads.iter().position(|w| {
            w.name == name
                || (w.following_groups() > 0
                    && w.identity.as_ref().is_some_and(|i| i.job_id == name))
        });
        if let Some(w) = workload {
            // A later group named by its own workload name stops alone.
            let groups = w..w + 1 + self.config.workloads[w].following_groups() as usize;
            for g in groups.clone() {
                self.sources.workloads[g].stopped = true;
            }
            let mut jobs: Vec<(u64, JobId)> = self
                .state
                .jobs
                .iter()
                .filter(|(_, j)| groups.contains(&(j.workload as usize)))
                .map(|(id, j)| (j.serial, id))
                .collect();
            jobs.sort_unstable();
            for (_, job) in jobs {
                self.stop_job_now(job, purge);
            }
            return;
        }
        let found = self
            .state
            .jobs
            .iter()
            .filter(|(_, j)| !j.purged)
            .find(|(_, j)| self.job_name_of(j) == name)
            .map(|(id, j)| (id, j.workload as usize, j.arrival, j.fan_index));
        let Some((job, w, arrival, fan)) = found else {
            return;
        };
        // A job of several groups: the same arrival's jobs of all its groups.
        let groups = self.job_workloads(w);
        let mut jobs: Vec<(u64, JobId)> = self
            .state
            .jobs
            .iter()
            .filter(|(id, j)| {
                *id == job
                    || (j.arrival == arrival
                        && j.fan_index == fan
                        && groups.contains(&(j.workload as usize)))
            })
            .map(|(id, j)| (j.serial, id))
            .collect();
        jobs.sort_unstable();
        for (_, job) in jobs {
            self.stop_job_now(job, purge);
        }
    }

    /// Stops one job now (see [`Simulation::stop_job_now`]) for a simulation driven from
    /// outside, such as `DELETE /v1/job/:id`, and runs the broker so the freed capacity is
    /// used at once.
    pub fn stop_job(&mut self, job: JobId, purge: bool) {
        self.stop_job_now(job, purge);
        self.drain_broker();
    }

    /// Stops one job now, as Nomad's deregistration does: every live alloc gets desired status
    /// `stop` ("alloc not needed due to job update") and leaves its node at once, queued allocs
    /// are dropped, a blocked eval is cancelled, and the job is dead with `Stop` set. Stopping
    /// a stopped job again only purges it if asked.
    pub(crate) fn stop_job_now(&mut self, job: JobId, purge: bool) {
        let Some(j) = self.state.jobs.get_mut(job) else {
            return;
        };
        // A dead job has nothing left to stop. It is marked for the read model but leaves no
        // trace event: whether it is still held depends on garbage collection, which must
        // never change what a run writes.
        if j.dead_since_ms.is_some() {
            j.stopped = true;
            j.purged |= purge;
            return;
        }
        if j.stopped {
            if purge && !j.purged {
                j.purged = true;
                self.emit(|s| TraceEvent::JobStopped {
                    job: s.job_name(job),
                    purge,
                    allocs_stopped: 0,
                });
            }
            return;
        }
        j.stopped = true;
        // Nomad's deregistration creates an eval that stops the allocs; here they stop at
        // once, and the eval is complete when this returns.
        let eval = self.create_eval(job, Trigger::JobDeregister, self.now);
        let j = &mut self.state.jobs[job];
        // Queued allocs will never be placed.
        let queued = j.queued;
        j.queued = 0;
        let pending = std::mem::take(&mut j.pending_indexes);
        for (_, previous) in &pending {
            if let Some(p) = previous {
                self.server.reschedule_at.remove(p);
            }
        }
        if queued > 0 {
            self.state.drop_queued(u64::from(queued));
            // Replacements of allocs that ran are slots that started; the rest never did.
            let replacements = pending.iter().filter(|(_, p)| p.is_some()).count() as u32;
            for i in 0..queued {
                self.abandon_slot(job, i >= replacements);
            }
        }
        if self.is_per_node(job) {
            self.server.system_jobs.retain(|&s| s != job);
            self.server.system_waiting.remove(&job);
        }
        // A blocked eval is cancelled and leaves its bucket; an eval already in the broker
        // finds the job stopped and places nothing.
        if let Some(eval) = self.state.jobs[job].blocked_eval {
            let bucket = self.bucket_of(job);
            self.cancel_blocked_eval(eval, bucket);
        }
        let mut live: Vec<(u64, AllocId)> = self
            .state
            .allocs
            .iter()
            .filter(|(_, a)| a.job == job && a.ended_ms().is_none())
            .map(|(id, a)| (a.serial(), id))
            .collect();
        live.sort_unstable();
        let mut stopped = 0u32;
        for (_, alloc) in live {
            let node = self.state.allocs[alloc].node;
            if !self.end_alloc(alloc, ClientStatus::Complete, EndReason::JobStopped) {
                continue;
            }
            stopped += 1;
            self.observe.collector.counts.stopped += 1;
            self.emit(|s| TraceEvent::AllocStopped {
                job: s.job_name(job),
                alloc: s.alloc_uuid(alloc),
                node: s.node_name(node).to_string(),
                reason: EndReason::JobStopped.as_str().to_string(),
                preempted_by: None,
            });
            self.abandon_slot(job, false);
            self.after_alloc_left(node);
            self.capacity_freed(node);
        }
        self.emit(|s| TraceEvent::JobStopped {
            job: s.job_name(job),
            purge,
            allocs_stopped: stopped,
        });
        self.state.jobs[job].purged = purge;
        self.finish_eval(eval, EvalStatus::Complete);
    }

    /// A slot of a stopped job will not run (again): its CircleCI record counts it as done
    /// without a makespan, and goes once nothing of it is left.
    fn abandon_slot(&mut self, job: JobId, never_started: bool) {
        if self.is_per_node(job) {
            return;
        }
        let Some((ci, _)) = self.state.ci_slots(job) else {
            return;
        };
        if never_started {
            ci.to_start = ci
                .to_start
                .checked_sub(1)
                .expect("a queued slot had not started");
        }
        ci.to_finish = ci
            .to_finish
            .checked_sub(1)
            .expect("a stopped slot had not finished");
        if ci.to_finish == 0 {
            self.state.release_ci_job(job);
        }
    }
}
