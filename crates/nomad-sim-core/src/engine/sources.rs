//! Job sources: the workloads that register jobs with the server, as clients of Nomad's API would.

#[allow(unused_imports)]
use crate::prelude::*;

/// Per-workload state: random streams and the arrival cursor.
#[derive(Clone, Debug)]
pub(crate) struct WorkloadState {
    pub(crate) arrivals_rng: ChaCha8Rng,
    pub(crate) parallelism_rng: ChaCha8Rng,
    pub(crate) duration_rng: ChaCha8Rng,
    pub(crate) cursor: ArrivalCursor,
    pub(crate) candidate_set: u32,
    pub(crate) constraint_set: u32,
    pub(crate) submitted: u64,
}

/// The job sources: one per workload, and the allocation budget they share.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    pub(crate) workloads: Vec<WorkloadState>,
    /// Allocations that may still be submitted (`limits.max_allocations`).
    pub(crate) allocs_budget_left: u64,
}

impl Simulation {
    pub(crate) fn schedule_next_arrival(&mut self, w: usize) {
        let horizon = self.config.horizon_ms;
        let state = &mut self.sources.workloads[w];
        let arrivals = &self.config.workloads[w].arrivals;
        if let Some(t) = arrivals.next_ms(&mut state.cursor, &mut state.arrivals_rng, horizon) {
            self.queue
                .push(t, EventKind::Arrival { workload: w as u32 });
        }
    }

    pub(crate) fn on_arrival(&mut self, w: usize) {
        let workload = &self.config.workloads[w];
        let arrival = self.sources.workloads[w].submitted;
        self.sources.workloads[w].submitted += 1;
        let (parallelism, ask, fixed_duration) = match &workload.arrivals {
            Arrivals::Trace(rows) => {
                let row = rows[arrival as usize];
                (
                    row.parallelism.max(1),
                    Resources::new(row.cpu_mhz, row.memory_mb, workload.resources.disk_mb),
                    Some(row.duration_ms),
                )
            }
            _ => (
                workload
                    .parallelism
                    .sample(&mut self.sources.workloads[w].parallelism_rng),
                workload.resources,
                None,
            ),
        };
        let system = workload.job_type == JobType::System;
        // A system job's count is its number of nodes, known only when it is placed.
        let count = if system { 0 } else { workload.count };
        let needed = u64::from(parallelism) * u64::from(count);
        if needed > self.sources.allocs_budget_left {
            self.truncated = true;
            return;
        }
        self.sources.allocs_budget_left -= needed;
        let fans_out = !workload.parallelism.is_always_one()
            || matches!(workload.arrivals, Arrivals::Trace(_));
        let ci_serial = self.state.next_ci_job_serial;
        self.state.next_ci_job_serial += 1;
        let ci_job = self.state.ci_jobs.insert(CiJob {
            serial: ci_serial,
            submit_ms: self.now,
            to_start: parallelism * count,
            to_finish: parallelism * count,
        });
        let priority = workload.priority;
        let distinct = workload.distinct_hosts;
        let keep_counts = count > 1 || distinct;
        for fan in 0..parallelism {
            let durations: Box<[SimTime]> = (0..count)
                .map(|_| match fixed_duration {
                    Some(d) => d,
                    None => self.config.workloads[w]
                        .duration
                        .sample_ms(&mut self.sources.workloads[w].duration_rng),
                })
                .collect();
            let serial = self.state.next_job_serial;
            self.state.next_job_serial += 1;
            let job = self.state.jobs.insert(Job {
                workload: w as u32,
                arrival,
                fan_index: fans_out.then_some(fan),
                ci_job,
                serial,
                submit_ms: self.now,
                priority,
                ask,
                count,
                durations,
                queued: count,
                live: 0,
                complete: 0,
                failed: 0,
                lost: 0,
                pending_indexes: Vec::new(),
                next_index: 0,
                blocked_eval: None,
                dead_since_ms: None,
                kept_objects: 0,
                open_evals: 0,
                node_counts: (keep_counts || system).then(|| Box::new(NodeCounts::new())),
                failure: None,
            });
            if system {
                self.server.system_jobs.push(job);
            }
            self.state.add_queued(u64::from(count));
            self.emit(|s| TraceEvent::JobSubmitted {
                job: s.job_name(job),
                count,
                ci_job: ci_serial,
            });
            let eval = self.create_eval(job, Trigger::JobRegister, self.now);
            self.enqueue_eval(eval, false);
        }
        if parallelism * count == 0 {
            // Nothing of it will start or finish (a system job's allocs are per node).
            self.state.ci_jobs.remove(ci_job);
        }
        self.schedule_next_arrival(w);
    }
}
