//! The read model: names, statuses and figures that the views, the API and the checks read.

#[allow(unused_imports)]
use crate::prelude::*;

impl Simulation {
    /// The Nomad job ID: `<workload>-<arrival>`, with `-<index>` when the workload fans out.
    pub fn job_name(&self, job: JobId) -> String {
        let j = &self.state.jobs[job.index()];
        let w = &self.config.workloads[j.workload as usize].name;
        match j.fan_index {
            Some(i) => format!("{w}-{}-{i}", j.arrival),
            None => format!("{w}-{}", j.arrival),
        }
    }

    /// The task group name (the workload's name).
    pub fn group_name(&self, job: JobId) -> &str {
        &self.config.workloads[self.state.jobs[job.index()].workload as usize].name
    }

    /// The alloc name, `<job>.<group>[<index>]`.
    pub fn alloc_name(&self, alloc: AllocId) -> String {
        let a = &self.state.allocs[alloc.index()];
        format!(
            "{}.{}[{}]",
            self.job_name(a.job),
            self.group_name(a.job),
            a.index
        )
    }

    /// The alloc's UUID-shaped ID.
    pub fn alloc_uuid(&self, alloc: AllocId) -> String {
        uuid_for(self.config.seed, uuid_kind::ALLOC, alloc.0 as u64)
    }

    /// The eval's UUID-shaped ID.
    pub fn eval_uuid(&self, eval: EvalId) -> String {
        uuid_for(self.config.seed, uuid_kind::EVAL, eval.0 as u64)
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
        let pending: Vec<f64> = c.pending.iter().map(|&(_, p)| p as f64 / 1000.0).collect();
        let waited = c.pending.iter().filter(|&&(_, p)| p > 0).count();
        let waited_fraction = if c.pending.is_empty() {
            0.0
        } else {
            waited as f64 / c.pending.len() as f64
        };
        let start_all: Vec<f64> = self
            .state
            .ci_jobs
            .iter()
            .filter_map(|j| j.all_started_ms.map(|t| (t - j.submit_ms) as f64 / 1000.0))
            .collect();
        let makespan: Vec<f64> = self
            .state
            .ci_jobs
            .iter()
            .filter_map(|j| j.all_finished_ms.map(|t| (t - j.submit_ms) as f64 / 1000.0))
            .collect();
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
            pending_s: metrics::pending_stats(pending),
            waited_fraction: metrics::round_to(waited_fraction, 6),
            ci_jobs: metrics::CiJobStats {
                count: self.state.ci_jobs.len() as u64,
                start_all_s: metrics::short_stats(start_all),
                makespan_s: metrics::short_stats(makespan),
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

    /// Per-allocation pending samples: (job submission time, pending time), in placement order.
    pub fn pending_samples(&self) -> &[(SimTime, SimTime)] {
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

    /// The nodes, in creation order.
    pub fn nodes(&self) -> &[Node] {
        &self.state.nodes
    }

    /// The jobs, in submission order.
    pub fn jobs(&self) -> &[Job] {
        &self.state.jobs
    }

    /// The allocations, in placement order.
    pub fn allocs(&self) -> &[Alloc] {
        &self.state.allocs
    }

    /// The evaluations, in creation order.
    pub fn evals(&self) -> &[Eval] {
        &self.state.evals
    }

    /// The CircleCI jobs, in arrival order.
    pub fn ci_jobs(&self) -> &[CiJob] {
        &self.state.ci_jobs
    }

    /// The job's status as Nomad derives it: `running` while any alloc is live, `pending` while
    /// an eval is pending or blocked, `dead` when everything is terminal.
    pub fn job_status(&self, job: JobId) -> JobStatus {
        let j = &self.state.jobs[job.index()];
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

    /// Allocations waiting for placement, across all jobs.
    pub fn queued_allocs_total(&self) -> u64 {
        self.state.queued_allocs
    }

    /// True while allocations are queued or running.
    pub fn has_outstanding_work(&self) -> bool {
        self.state.queued_allocs > 0 || self.state.running_allocs > 0
    }
}
