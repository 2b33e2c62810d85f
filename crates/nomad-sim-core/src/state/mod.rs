//! The cluster state: nodes, jobs, evals and allocs, and the only functions that change their accounting.

#[allow(unused_imports)]
use crate::prelude::*;

pub mod model;

/// What Nomad's state store holds: nodes, jobs, evals and allocs, and running totals.
#[derive(Debug, Default)]
pub(crate) struct ClusterState {
    pub(crate) nodes: Vec<Node>,
    pub(crate) jobs: Vec<Job>,
    pub(crate) allocs: Vec<Alloc>,
    pub(crate) evals: Vec<Eval>,
    pub(crate) ci_jobs: Vec<CiJob>,
    /// Run time of every alloc index of every job.
    pub(crate) durations: Vec<SimTime>,
    /// Allocated resources on ready nodes, and what those nodes can give.
    pub(crate) used_total: Resources,
    pub(crate) avail_total: Resources,
    /// Nodes that cost money now, per pool.
    pub(crate) live_nodes: Vec<u32>,
    pub(crate) queued_allocs: u64,
    pub(crate) running_allocs: u64,
    pub(crate) next_eval_seq: u64,
    /// Nodes created so far, per pool (the next node's index in its name).
    pub(crate) nodes_created: Vec<u32>,
}

impl Simulation {
    pub(crate) fn create_eval(
        &mut self,
        job: JobId,
        trigger: Trigger,
        wait_until_ms: SimTime,
    ) -> EvalId {
        let id = EvalId(self.state.evals.len() as u32);
        self.state.evals.push(Eval {
            job,
            seq: self.state.next_eval_seq,
            status: EvalStatus::Pending,
            trigger,
            wait_until_ms,
        });
        self.state.next_eval_seq += 1;
        self.state.jobs[job.index()].open_evals += 1;
        id
    }

    /// Ends a live alloc: frees its resources and updates the counters. Returns false if it had ended.
    pub(crate) fn end_alloc(
        &mut self,
        alloc: AllocId,
        client: ClientStatus,
        reason: EndReason,
    ) -> bool {
        let a = &self.state.allocs[alloc.index()];
        if a.ended_ms.is_some() {
            return false;
        }
        let (job, node, slot) = (a.job, a.node, a.slot as usize);
        let ask = self.state.jobs[job.index()].ask;
        let a = &mut self.state.allocs[alloc.index()];
        a.client = client;
        a.ended_ms = Some(self.now);
        a.end_reason = Some(reason);
        if !matches!(reason, EndReason::Completed | EndReason::Failed) {
            a.desired = DesiredStatus::Stop;
        }
        let n = &mut self.state.nodes[node.index()];
        n.used = n.used.minus(ask);
        n.allocs.swap_remove(slot);
        if let Some(&moved) = n.allocs.get(slot) {
            self.state.allocs[moved.index()].slot = slot as u32;
        }
        if self.state.nodes[node.index()].status == NodeStatus::Ready {
            self.state.used_total = self.state.used_total.minus(ask);
        }
        let j = &mut self.state.jobs[job.index()];
        j.live -= 1;
        match client {
            ClientStatus::Failed => j.failed += 1,
            ClientStatus::Lost => j.lost += 1,
            _ => j.complete += 1,
        }
        let keeps_history = self.config.workloads[j.workload as usize].job_type == JobType::System;
        if let Some(counts) = j.node_counts.as_mut().filter(|_| !keeps_history) {
            if let Some(c) = counts.get_mut(&node.0) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(&node.0);
                }
            }
        }
        self.state.running_allocs -= 1;
        true
    }

    /// Records that an alloc slot will not run again (for CircleCI makespans).
    pub(crate) fn finish_slot(&mut self, job: JobId) {
        if self.is_system(job) {
            return;
        }
        let ci_job = self.state.jobs[job.index()].ci_job;
        let ci = &mut self.state.ci_jobs[ci_job as usize];
        ci.to_finish = ci.to_finish.saturating_sub(1);
        if ci.to_finish == 0 {
            ci.all_finished_ms = Some(self.now);
        }
    }
}
