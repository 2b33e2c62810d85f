//! The read model: names, statuses and figures that the views, the API and the checks read.

#[allow(unused_imports)]
use crate::prelude::*;

impl Simulation {
    /// The Nomad job ID: `<workload>-<arrival>`, with `-<index>` when the workload fans out.
    pub fn job_name(&self, job: JobId) -> String {
        self.job_name_of(&self.state.jobs[job])
    }

    /// The Nomad job ID of a job record. The children of a periodic or parameterized parent
    /// are named as Nomad names them, after the parent and the wall-clock second they were
    /// launched or dispatched at (a dispatch adds 8 hex digits of its own).
    pub fn job_name_of(&self, j: &Job) -> String {
        let workload = &self.config.workloads[j.workload as usize];
        let w = workload
            .identity
            .as_ref()
            .map_or(&workload.name, |i| &i.job_id);
        let unix_s = || (self.config.start_unix_ms + j.submit_ms) / 1000;
        match &workload.arrivals {
            Arrivals::Periodic(_) => return format!("{w}/periodic-{}", unix_s()),
            Arrivals::Dispatch(_) => {
                // The groups of one dispatch are registered one after another, so the first
                // group's serial (which names the child) is this one's less its group index.
                let group_index = workload.identity.as_ref().map_or(0, |i| i.group_index);
                let first = j
                    .serial
                    .checked_sub(u64::from(group_index))
                    .unwrap_or(j.serial);
                let hex = crate::ids::splitmix64(first ^ self.config.seed) as u32;
                return format!("{w}/dispatch-{}-{hex:08x}", unix_s());
            }
            _ => {}
        }
        if workload
            .identity
            .as_ref()
            .is_some_and(|i| i.registered_once)
        {
            return w.clone();
        }
        match j.fan_index {
            Some(i) => format!("{w}-{}-{i}", j.arrival),
            None => format!("{w}-{}", j.arrival),
        }
    }

    /// The task group name: the job file's group, else the workload's name.
    pub fn group_name(&self, job: JobId) -> &str {
        self.config.workloads[self.state.jobs[job].workload as usize].group_name()
    }

    /// The alloc name, `<job>.<group>[<index>]`.
    pub fn alloc_name(&self, alloc: AllocId) -> String {
        let a = &self.state.allocs[alloc];
        format!(
            "{}.{}[{}]",
            self.job_name(a.job),
            self.group_name(a.job),
            a.index
        )
    }

    /// The alloc's UUID-shaped ID.
    pub fn alloc_uuid(&self, alloc: AllocId) -> String {
        self.alloc_uuid_of_serial(self.state.allocs[alloc].serial())
    }

    /// The UUID-shaped ID of the alloc with this serial number (it may have been collected).
    pub fn alloc_uuid_of_serial(&self, serial: u64) -> String {
        uuid_for(self.config.seed, uuid_kind::ALLOC, serial)
    }

    /// The eval's UUID-shaped ID.
    pub fn eval_uuid(&self, eval: EvalId) -> String {
        self.eval_uuid_of_serial(self.state.evals[eval].seq)
    }

    /// The UUID-shaped ID of the eval with this serial number (it may have been collected).
    pub fn eval_uuid_of_serial(&self, serial: u64) -> String {
        uuid_for(self.config.seed, uuid_kind::EVAL, serial)
    }

    /// The node's name.
    pub fn node_name(&self, node: NodeId) -> &str {
        &self.state.nodes[node.index()].name
    }

    /// The contract's report for the run so far.
    pub fn report(&self) -> Report {
        let c = &self.observe.collector;
        let mut counts = c.counts;
        counts.never_placed = self.state.queued_allocs;
        let waited_fraction = if c.pending.count() == 0 {
            0.0
        } else {
            c.pending.count_above(0) as f64 / c.pending.count() as f64
        };
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let node_hours: f64 = c.node_ms_area.iter().sum::<f64>() / HOUR_MS as f64;
        let cost: f64 = c
            .node_ms_area
            .iter()
            .zip(&self.config.pools)
            .map(|(ms, p)| ms / HOUR_MS as f64 * p.cost_per_hour)
            .sum();
        Report {
            schema_version: 1,
            scenario: self.config.name.clone(),
            seed: self.config.seed,
            algorithm: self.algorithm_name(),
            nomad_version: self.config.nomad_version.to_string(),
            allocations: counts,
            pending_s: c.pending.pending_stats(),
            waited_fraction: metrics::round_to(waited_fraction, 6),
            ci_jobs: metrics::CiJobStats {
                count: self.state.next_ci_job_serial,
                start_all_s: c.start_all.short_stats(),
                makespan_s: c.makespan.short_stats(),
            },
            utilization: metrics::Utilization {
                cpu_mean: metrics::round_to(ratio(c.cpu_used_area, c.cpu_avail_area), 6),
                memory_mean: metrics::round_to(ratio(c.mem_used_area, c.mem_avail_area), 6),
            },
            node_hours: metrics::round_to(node_hours, 3),
            cost: metrics::round_to(cost, 2),
            wasted_alloc_s: metrics::round_to(c.wasted_ms / 1000.0, 3),
            drains: c.drains.clone(),
            perf: metrics::Perf {
                events: c.events,
                placements: c.counts.placed,
                wall_s: None,
            },
        }
    }

    /// Keeps every original placement's (submission, pending) pair from now on, for analyses
    /// that need the samples themselves (a warm-up cut, say). Off by default: the report's
    /// figures come from an exact histogram, and memory stays flat.
    pub fn keep_pending_samples(&mut self) {
        self.observe
            .collector
            .pending_samples
            .get_or_insert_with(Vec::new);
    }

    /// The kept (submission, pending) pairs in placement order; empty unless
    /// [`Simulation::keep_pending_samples`] was called before the run.
    pub fn pending_samples(&self) -> &[(SimTime, SimTime)] {
        self.observe
            .collector
            .pending_samples
            .as_deref()
            .unwrap_or(&[])
    }

    /// Keeps each alloc's placement metrics, with per-node scores, while the alloc is held (as
    /// Nomad keeps `AllocMetric` on the alloc). Off by default: they are large.
    pub fn keep_alloc_metrics(&mut self) {
        self.observe.collect_scores = true;
        self.observe.alloc_metrics.get_or_insert_with(BTreeMap::new);
    }

    /// The placement metrics of a held alloc, if [`Simulation::keep_alloc_metrics`] was on when
    /// it was placed.
    pub fn alloc_metrics(&self, alloc: AllocId) -> Option<&AllocMetric> {
        let serial = self.state.allocs.get(alloc)?.serial();
        self.observe.alloc_metrics.as_ref()?.get(&serial)
    }

    /// Every original placement's pending time, as an exact histogram.
    pub fn pending_histogram(&self) -> &metrics::Histogram {
        &self.observe.collector.pending
    }

    /// Time-averaged number of queued allocations so far (Little's `Lq`).
    pub fn mean_queued_allocs(&self) -> f64 {
        if self.observe.collector.last_ms == 0 {
            return 0.0;
        }
        self.observe.collector.queued_area / self.observe.collector.last_ms as f64
    }

    /// Time-averaged number of running allocations so far.
    pub fn mean_running_allocs(&self) -> f64 {
        if self.observe.collector.last_ms == 0 {
            return 0.0;
        }
        self.observe.collector.running_area / self.observe.collector.last_ms as f64
    }

    /// True once `job_stop` stopped workload `w` (no more arrivals or launches).
    pub fn workload_stopped(&self, w: usize) -> bool {
        self.sources.workloads.get(w).is_some_and(|s| s.stopped)
    }

    /// The nodes, in creation order.
    pub fn nodes(&self) -> &[Node] {
        &self.state.nodes
    }

    /// The held jobs that make up the Nomad job `job` belongs to: `job` alone, or for a job of
    /// several task groups, each group's job of the same registration, in group order.
    pub fn job_group(&self, job: JobId) -> Vec<JobId> {
        let whole = self
            .job(job)
            .and_then(|_| self.group_key(job))
            .and_then(|k| self.state.job_groups.get(&k));
        match whole {
            Some(jobs) => jobs
                .iter()
                .copied()
                .filter(|&j| self.job(j).is_some())
                .collect(),
            None => vec![job],
        }
    }

    /// How many Nomad jobs were registered so far, collected or not.
    pub fn jobs_registered(&self) -> u64 {
        self.state.next_job_serial
    }

    /// The jobs Nomad still holds (not garbage-collected or purged), in submission order.
    pub fn jobs(&self) -> Vec<(JobId, &Job)> {
        let mut jobs: Vec<_> = self.state.jobs.iter().filter(|(_, j)| !j.purged).collect();
        jobs.sort_by_key(|(_, j)| j.serial);
        jobs
    }

    /// A job, if Nomad still holds it (a purged job is gone).
    pub fn job(&self, job: JobId) -> Option<&Job> {
        self.state.jobs.get(job).filter(|j| !j.purged)
    }

    /// True when the job was purged or collected: its allocs and evals are gone too.
    fn gone(&self, job: JobId) -> bool {
        self.state.jobs.get(job).is_none_or(|j| j.purged)
    }

    /// The allocations Nomad still holds, in creation order.
    pub fn allocs(&self) -> Vec<(AllocId, &Alloc)> {
        let mut allocs: Vec<_> = self
            .state
            .allocs
            .iter()
            .filter(|(_, a)| !self.gone(a.job))
            .collect();
        allocs.sort_by_key(|(_, a)| a.serial());
        allocs
    }

    /// The serials of the allocs this alloc preempted, in Nomad's order
    /// (`PreemptedAllocations`); empty when it preempted none.
    pub fn preempted_allocations(&self, alloc: AllocId) -> &[u64] {
        self.state
            .allocs
            .get(alloc)
            .and_then(|a| self.state.preempted_allocs.get(&a.serial()))
            .map_or(&[], Vec::as_slice)
    }

    /// The serial of the alloc that preempted this one (Nomad's `PreemptedByAllocation`).
    pub fn preempted_by(&self, alloc: AllocId) -> Option<u64> {
        let serial = self.state.allocs.get(alloc)?.serial();
        self.state.preempted_by.get(&serial).copied()
    }

    /// Nomad's `DesiredDescription` for what the server decided about the alloc, where the
    /// core knows it: `Preempted by alloc ID <id>` for a preempted alloc, else empty.
    pub fn desired_description(&self, alloc: AllocId) -> String {
        match self.preempted_by(alloc) {
            Some(by) => format!("Preempted by alloc ID {}", self.alloc_uuid_of_serial(by)),
            None => String::new(),
        }
    }

    /// An allocation, if Nomad still holds it.
    pub fn alloc(&self, alloc: AllocId) -> Option<&Alloc> {
        self.state.allocs.get(alloc).filter(|a| !self.gone(a.job))
    }

    /// What an alloc has beyond its record: the alloc it replaces, its reschedules, its
    /// ports, devices and cores ([`AllocExtra::NONE`] for most, and for an id no longer held).
    pub fn alloc_extra(&self, alloc: AllocId) -> &AllocExtra {
        self.state.alloc_extra(alloc)
    }

    /// The evaluations Nomad still holds, in creation order.
    pub fn evals(&self) -> Vec<(EvalId, &Eval)> {
        let mut evals: Vec<_> = self
            .state
            .evals
            .iter()
            .filter(|(_, e)| !self.gone(e.job))
            .collect();
        evals.sort_by_key(|(_, e)| e.seq);
        evals
    }

    /// An evaluation, if Nomad still holds it.
    pub fn eval(&self, eval: EvalId) -> Option<&Eval> {
        self.state.evals.get(eval).filter(|e| !self.gone(e.job))
    }

    /// Objects held now, by kind: (jobs, evals, allocs, CircleCI jobs). Memory follows these.
    pub fn held_objects(&self) -> (usize, usize, usize, usize) {
        (
            self.state.jobs.len(),
            self.state.evals.len(),
            self.state.allocs.len(),
            self.state.ci_jobs.len(),
        )
    }

    /// The job's status as Nomad derives it: `running` while any alloc is live, `pending` while
    /// an eval is pending or blocked, `dead` when everything is terminal.
    pub fn job_status(&self, job: JobId) -> JobStatus {
        let j = &self.state.jobs[job];
        if j.live > 0 {
            JobStatus::Running
        } else if j.open_evals > 0 || j.queued > 0 {
            JobStatus::Pending
        } else {
            JobStatus::Dead
        }
    }

    /// Allocated over available CPU and memory on ready nodes, now.
    pub fn utilization_now(&self) -> (f64, f64) {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        (
            ratio(
                self.state.used_total.cpu_mhz,
                self.state.avail_total.cpu_mhz,
            ),
            ratio(
                self.state.used_total.memory_mb,
                self.state.avail_total.memory_mb,
            ),
        )
    }

    /// Fragmentation now: the share of free CPU and memory (averaged) on schedulable nodes that
    /// sits on nodes where `ask` no longer fits, so it cannot serve the typical request.
    pub fn stranded_fraction(&self, ask: Resources) -> f64 {
        let (mut free_cpu, mut free_mem, mut stranded_cpu, mut stranded_mem) =
            (0u64, 0u64, 0u64, 0u64);
        for n in self.state.nodes.iter().filter(|n| is_schedulable(n)) {
            let free = n.free();
            free_cpu += free.cpu_mhz;
            free_mem += free.memory_mb;
            if !free.covers(ask) {
                stranded_cpu += free.cpu_mhz;
                stranded_mem += free.memory_mb;
            }
        }
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        (ratio(stranded_cpu, free_cpu) + ratio(stranded_mem, free_mem)) / 2.0
    }

    /// Allocated and allocatable resources summed over ready nodes, as the engine keeps them.
    pub fn ready_totals(&self) -> (Resources, Resources) {
        (self.state.used_total, self.state.avail_total)
    }

    /// The engine's (queued, running) alloc counters.
    pub fn alloc_counters(&self) -> (u64, u64) {
        (self.state.queued_allocs, self.state.running_allocs)
    }

    /// Allocations waiting for placement, across all jobs.
    pub fn queued_allocs_total(&self) -> u64 {
        self.state.queued_allocs
    }

    /// Events processed so far: grows with every step that changes the state, so an outside
    /// driver (the HTTP API) can derive a monotone index from it.
    pub fn events_processed(&self) -> u64 {
        self.observe.collector.events
    }

    /// Every drain so far, in start order, as the report lists them.
    pub fn drain_records(&self) -> &[DrainRecord] {
        &self.observe.collector.drains
    }

    /// Node-hours so far per pool, in the configuration's pool order (the report's
    /// `node_hours` is their sum, before rounding).
    pub fn node_hours_by_pool(&self) -> Vec<f64> {
        self.observe
            .collector
            .node_ms_area
            .iter()
            .map(|ms| ms / HOUR_MS as f64)
            .collect()
    }

    /// When the next event is due, if any is left: lets a caller that samples the run step up
    /// to the last event without moving the clock past it.
    pub fn next_event_ms(&mut self) -> Option<SimTime> {
        if self.is_finished() {
            return None;
        }
        self.queue.peek_time()
    }

    /// Nodes that cost money now (created and not yet terminated), per pool.
    pub fn live_nodes_by_pool(&self) -> &[u32] {
        &self.state.live_nodes
    }

    /// True while allocations are queued or running.
    pub fn has_outstanding_work(&self) -> bool {
        self.state.queued_allocs > 0 || self.state.running_allocs > 0
    }
}
