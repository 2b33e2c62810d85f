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
    /// True when the task group asks for ports, devices or cores (checked per node).
    pub(crate) hardware: bool,
    /// The newest job of the workload (a periodic parent's `prohibit_overlap` reads it).
    pub(crate) last_job: Option<JobId>,
    /// `nomad job stop` stopped the workload: no more arrivals.
    pub(crate) stopped: bool,
    /// The blocked-eval bucket all its jobs share, once known: set only when the bucket's
    /// key is the workload's alone (not per job for `distinct_hosts`, nor per trace row's ask).
    pub(crate) bucket: Option<u32>,
}

/// The job sources: one per workload, and the allocation budget they share.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    pub(crate) workloads: Vec<WorkloadState>,
    /// Allocations that may still be submitted (`limits.max_allocations`).
    pub(crate) allocs_budget_left: u64,
}

impl Simulation {
    /// Gives workload `w` of the configuration its streams, candidate set and constraint set.
    pub(crate) fn attach_workload(&mut self, w: usize) {
        let workload = &self.config.workloads[w];
        let key = CandidateKey {
            pool: workload.node_pool.clone(),
            datacenters: workload.datacenters.clone(),
        };
        let candidate_set = match self.server.candidate_sets.iter().position(|s| s.key == key) {
            Some(i) => i as u32,
            None => {
                let mut set = CandidateSet::new(key);
                // A set made after the start takes the nodes that are schedulable now.
                for (i, n) in self.state.nodes.iter().enumerate() {
                    if is_schedulable(n) && set.matches(&self.config.pools[n.pool as usize]) {
                        set.insert(NodeId(i as u32));
                    }
                }
                self.server.candidate_sets.push(set);
                (self.server.candidate_sets.len() - 1) as u32
            }
        };
        self.server
            .constraint_sets
            .push(ConstraintSet::new(workload.constraints.clone()));
        self.server
            .preferences
            .push(crate::server::spread::Preferences::of(workload));
        let stream_rng = |n: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
            rng.set_stream(n);
            rng
        };
        let base = crate::engine::stream::WORKLOAD_BASE + 4 * w as u64;
        let mut cursor = ArrivalCursor::new();
        cursor.epoch_unix_ms = self.config.start_unix_ms;
        self.sources.workloads.push(WorkloadState {
            arrivals_rng: stream_rng(base),
            parallelism_rng: stream_rng(base + 1),
            duration_rng: stream_rng(base + 2),
            cursor,
            candidate_set,
            constraint_set: (self.server.constraint_sets.len() - 1) as u32,
            submitted: 0,
            hardware: self.config.workloads[w].asks.any(),
            last_job: None,
            stopped: false,
            bucket: None,
        });
    }

    /// Adds a workload while the simulation runs (a job registered over the API, say). Its own
    /// arrivals are not scheduled: call [`Simulation::submit`] to register its jobs. A periodic
    /// workload is the exception: it is a registered parent, and its launches start at the
    /// first cron match strictly after now, as Nomad's periodic dispatcher does for a job
    /// registered now. Returns its index.
    pub fn add_workload(&mut self, workload: WorkloadConfig) -> usize {
        let periodic =
            matches!(workload.arrivals, Arrivals::Periodic(_)) && !workload.follows_first_group();
        self.config.workloads.push(workload);
        let w = self.config.workloads.len() - 1;
        self.attach_workload(w);
        if periodic {
            self.sources.workloads[w].cursor.last_ms = self.now;
            self.schedule_next_arrival(w);
        }
        w
    }

    /// Registers the next job (or CircleCI fan-out) of workload `w` now, with the task groups
    /// that follow it for a job of several groups (whole), and runs the broker so they are
    /// placed or blocked at once. Returns false, registering nothing, when the allocation
    /// limit refused it.
    pub fn submit(&mut self, w: usize) -> bool {
        let groups: Vec<usize> = self.job_workloads(w).collect();
        let registered = self.register_groups(&groups);
        self.drain_broker();
        registered
    }

    /// The workloads that run the job workload `w` belongs to: its first group's and the
    /// groups right after it, or `w` alone for a job of one group.
    pub(crate) fn job_workloads(&self, w: usize) -> std::ops::Range<usize> {
        match &self.config.workloads[w].identity {
            Some(i) if i.group_count > 1 => {
                let first = w.saturating_sub(i.group_index as usize);
                first..first + i.group_count as usize
            }
            _ => w..w + 1,
        }
    }

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
        if self.sources.workloads[w].stopped {
            return;
        }
        // A periodic job with `prohibit_overlap` skips a launch while its previous child is
        // pending or running (Nomad's periodic dispatcher checks the running children).
        // A job of several groups registers its later groups (the workloads right after its
        // first) at the same moment; a group stopped on its own is left out. A job of one
        // group, the common case, needs no list.
        let several: Vec<usize>;
        let groups: &[usize] = if self.config.workloads[w].following_groups() == 0 {
            std::slice::from_ref(&w)
        } else {
            several = self
                .job_workloads(w)
                .filter(|&g| g == w || !self.sources.workloads[g].stopped)
                .collect();
            &several
        };
        if let Arrivals::Periodic(spec) = &self.config.workloads[w].arrivals {
            let running = groups.iter().any(|&g| {
                self.sources.workloads[g]
                    .last_job
                    .filter(|j| self.state.jobs.get(*j).is_some())
                    .is_some_and(|j| !self.state.is_dead(j))
            });
            if spec.prohibit_overlap && running {
                self.schedule_next_arrival(w);
                return;
            }
        }
        // Arrivals stop once the allocation limit is reached.
        if self.register_groups(groups) {
            self.schedule_next_arrival(w);
        }
    }

    /// Registers one arrival of each of `groups` (one workload, or a job's groups), whole or
    /// not at all. False when the allocation limit refused it.
    fn register_groups(&mut self, groups: &[usize]) -> bool {
        if groups.len() > 1 && !self.fits_allocation_limit(groups) {
            self.truncated = true;
            return false;
        }
        let registered = groups.iter().all(|&g| self.register_arrival(g));
        if registered && groups.len() > 1 && !self.state.gc.at_once {
            let jobs: Box<[JobId]> = groups
                .iter()
                .map(|&g| self.sources.workloads[g].last_job.expect("just registered"))
                .collect();
            let first = self.state.jobs[jobs[0]].serial;
            self.state.job_groups.insert(first, jobs);
        }
        registered
    }

    /// True when one arrival of each of `workloads` (whose parallelism is one, as a job
    /// file's is) fits in what the allocation limit has left.
    fn fits_allocation_limit(&self, workloads: &[usize]) -> bool {
        let needed: u64 = workloads
            .iter()
            .map(|&g| {
                let w = &self.config.workloads[g];
                if w.job_type.is_per_node() {
                    0
                } else {
                    u64::from(w.count)
                }
            })
            .sum();
        needed <= self.sources.allocs_budget_left
    }

    /// Registers one arrival of workload `w`: its jobs and their evals. False when the
    /// allocation limit refused it.
    fn register_arrival(&mut self, w: usize) -> bool {
        let workload = &self.config.workloads[w];
        let arrival = self.sources.workloads[w].submitted;
        self.sources.workloads[w].submitted += 1;
        let (parallelism, ask, fixed_duration) = match workload.arrivals.timing() {
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
                // A constant run time draws nothing: every alloc index shares it.
                match workload.duration {
                    crate::config::DurationDist::Constant(ms) => Some(ms),
                    _ => None,
                },
            ),
        };
        let system = workload.job_type.is_per_node();
        // A system job's count is its number of nodes, known only when it is placed.
        let count = if system { 0 } else { workload.count };
        let needed = u64::from(parallelism) * u64::from(count);
        if needed > self.sources.allocs_budget_left {
            self.truncated = true;
            return false;
        }
        self.sources.allocs_budget_left -= needed;
        let fans_out = !workload.parallelism.is_always_one()
            || matches!(workload.arrivals.timing(), Arrivals::Trace(_));
        let ci_serial = self.state.next_ci_job_serial;
        self.state.next_ci_job_serial += 1;
        let slots = CiSlots {
            to_start: parallelism * count,
            to_finish: parallelism * count,
        };
        // A CircleCI job of one Nomad job keeps its counters in the job; a fanned-out one
        // (or one with nothing to run, whose record goes at once) has a record of its own.
        let ci_job = if parallelism == 1 {
            CiLink::Own(slots)
        } else {
            CiLink::Shared(self.state.ci_jobs.insert(CiJob {
                serial: ci_serial,
                submit_ms: self.now,
                slots,
            }))
        };
        let priority = workload.priority;
        let distinct = workload.distinct_hosts;
        let keep_counts = count > 1 || distinct;
        for fan in 0..parallelism {
            let mut draw = || {
                self.config.workloads[w]
                    .duration
                    .sample_ms(&mut self.sources.workloads[w].duration_rng)
            };
            let durations = match fixed_duration {
                Some(d) => Durations::Same(d),
                None if count == 1 => Durations::Same(draw()),
                None => Durations::Each((0..count).map(|_| draw()).collect()),
            };
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
                node_counts: (keep_counts || system)
                    .then(|| Box::new(NodeCounts::for_count(count))),
                spread_counts: self.server.preferences[w]
                    .as_ref()
                    .and_then(|p| p.spread.as_ref())
                    .map(|s| Box::new(s.new_counts())),
                failure: None,
                stopped: false,
                purged: false,
            });
            self.sources.workloads[w].last_job = Some(job);
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
        if let (CiLink::Shared(id), 0) = (ci_job, parallelism * count) {
            // Nothing of it will start or finish (a system job's allocs are per node).
            self.state.ci_jobs.remove(id);
        }
        true
    }
}
