//! The cluster state: nodes, jobs, evals and allocs, and the only functions that change their accounting.
//!
//! Architecture invariant: only this module changes a node's `used`, the cluster totals, a
//! job's alloc counters and the live/queued alloc counts, and every change asserts what it
//! keeps (no saturating arithmetic hides an underflow). Other parts read the state freely and
//! call these mutators.

mod alloc;
pub mod arena;
mod gc;
pub mod model;
mod per_node;

pub(crate) use gc::GcQueues;

#[allow(unused_imports)]
use crate::prelude::*;
use arena::Arena;

/// What Nomad's state store holds: nodes, jobs, evals and allocs, and running totals.
#[derive(Debug, Default)]
pub(crate) struct ClusterState {
    /// Every node ever created, in creation order (nodes are not reused).
    pub(crate) nodes: Vec<Node>,
    pub(crate) jobs: Arena<JobId, Job>,
    pub(crate) allocs: Arena<AllocId, Alloc>,
    /// What few allocs have, by alloc, while the alloc is kept (outside the 40-byte record,
    /// since C2M holds two million allocs and almost none of them has any).
    pub(crate) alloc_extras: crate::ids::IdMap<AllocId, AllocExtra>,
    pub(crate) evals: Arena<EvalId, Eval>,
    pub(crate) ci_jobs: Arena<CiJobId, CiJob>,
    /// Allocated resources on ready nodes, and what those nodes can give.
    pub(crate) used_total: Resources,
    pub(crate) avail_total: Resources,
    /// Nodes that cost money now, per pool.
    pub(crate) live_nodes: Vec<u32>,
    pub(crate) queued_allocs: u64,
    pub(crate) running_allocs: u64,
    /// Objects created so far, by kind: the next object's serial number.
    pub(crate) next_eval_seq: u64,
    pub(crate) next_alloc_serial: u64,
    pub(crate) next_job_serial: u64,
    pub(crate) next_ci_job_serial: u64,
    /// Nodes created so far, per pool (the next node's index in its name).
    pub(crate) nodes_created: Vec<u32>,
    /// Terminal objects waiting for garbage collection.
    pub(crate) gc: GcQueues,
    /// The allocs each preempting alloc evicted, by serials (looked up, never iterated).
    pub(crate) preempted_allocs: crate::ids::IdMap<u64, Vec<u64>>,
    /// The serial of the alloc that preempted each preempted alloc, by the victim's serial
    /// (Nomad's `PreemptedByAllocation`); kept beside the allocs since few are preempted.
    pub(crate) preempted_by: crate::ids::IdMap<u64, u64>,
    /// The jobs of each job of several task groups, by its first group's serial: Nomad
    /// collects such a job whole, so none of them goes before all of them may.
    pub(crate) job_groups: crate::ids::IdMap<u64, Box<[JobId]>>,
}

impl ClusterState {
    /// Stores a new alloc with what it has beyond the record, and returns its identifier.
    pub(crate) fn insert_alloc(&mut self, alloc: Alloc, extra: AllocExtra) -> AllocId {
        let id = self.allocs.insert(alloc);
        if !extra.is_empty() {
            self.alloc_extras.insert(id, extra);
        }
        id
    }

    /// Collects an alloc with its extra; its identifier no longer resolves.
    pub(crate) fn remove_alloc(&mut self, alloc: AllocId) -> Alloc {
        if !self.alloc_extras.is_empty() {
            self.alloc_extras.remove(&alloc);
        }
        self.allocs.remove(alloc)
    }

    /// What the alloc has beyond its record ([`AllocExtra::NONE`] for most).
    pub(crate) fn alloc_extra(&self, alloc: AllocId) -> &AllocExtra {
        static NONE: AllocExtra = AllocExtra::NONE;
        if self.alloc_extras.is_empty() {
            return &NONE;
        }
        self.alloc_extras.get(&alloc).unwrap_or(&NONE)
    }

    /// Puts `ask` on `node` for a new live alloc, at the end of the node's list.
    pub(crate) fn attach_alloc(&mut self, node: NodeId, alloc: AllocId, ask: Resources) {
        let n = &mut self.nodes[node.index()];
        let used = n.used.plus(ask);
        assert!(
            n.allocatable.covers(used),
            "node {} is over-committed: {used:?} on {:?}",
            n.name,
            n.allocatable
        );
        n.used = used;
        n.allocs.push(alloc);
        if n.status == NodeStatus::Ready {
            self.used_total = self.used_total.plus(ask);
        }
        self.running_allocs += 1;
    }

    /// Takes a live alloc's `ask` off its node, and the alloc off the node's list by
    /// swap-removal. The alloc is found by scanning the list (a node holds tens to hundreds),
    /// which reads less memory than keeping each alloc's position: that would write the
    /// alloc moved into the gap, a cache miss on a large cluster.
    pub(crate) fn detach_alloc(&mut self, node: NodeId, alloc: AllocId, ask: Resources) {
        let n = &mut self.nodes[node.index()];
        n.used = n.used.minus(ask);
        n.allocs.remove(alloc, &mut n.alloc_hint);
        if n.status == NodeStatus::Ready {
            self.used_total = self.used_total.minus(ask);
        }
        self.running_allocs = self
            .running_allocs
            .checked_sub(1)
            .expect("a running alloc ends");
    }

    /// Counts `n` more allocs waiting for placement.
    pub(crate) fn add_queued(&mut self, n: u64) {
        self.queued_allocs += n;
    }

    /// Drops `n` queued allocs that will never be placed (their job was stopped).
    pub(crate) fn drop_queued(&mut self, n: u64) {
        self.queued_allocs = self
            .queued_allocs
            .checked_sub(n)
            .expect("dropped allocs were queued");
    }

    /// Counts one queued alloc as placed.
    pub(crate) fn take_queued(&mut self) {
        self.queued_allocs = self
            .queued_allocs
            .checked_sub(1)
            .expect("a placed alloc was queued");
    }

    /// A node turns ready: its capacity and use join the cluster totals.
    pub(crate) fn join_ready_totals(&mut self, node: NodeId) {
        let n = &self.nodes[node.index()];
        self.avail_total = self.avail_total.plus(n.allocatable);
        self.used_total = self.used_total.plus(n.used);
    }

    /// A ready node stops being ready: its capacity and use leave the cluster totals.
    pub(crate) fn leave_ready_totals(&mut self, node: NodeId) {
        let n = &self.nodes[node.index()];
        if n.status == NodeStatus::Ready {
            self.avail_total = self.avail_total.minus(n.allocatable);
            self.used_total = self.used_total.minus(n.used);
        }
    }

    /// The live allocs on `node`, in its list's order.
    pub(crate) fn allocs_on(&self, node: NodeId) -> impl Iterator<Item = AllocId> + '_ {
        self.nodes[node.index()]
            .allocs
            .slots()
            .iter()
            .map(|&slot| self.allocs.id_at(slot))
    }

    /// Stores a new eval for `job`.
    pub(crate) fn add_eval(
        &mut self,
        job: JobId,
        trigger: Trigger,
        wait_until_ms: SimTime,
        now_ms: SimTime,
    ) -> EvalId {
        let seq = self.next_eval_seq;
        self.next_eval_seq += 1;
        let j = &mut self.jobs[job];
        j.open_evals += 1;
        j.kept_objects += 1;
        self.evals.insert(Eval {
            job,
            seq,
            status: EvalStatus::Pending,
            trigger,
            wait_until_ms,
            created_ms: now_ms,
            previous: None,
            blocked: None,
        })
    }

    /// A system job's alloc on `node` was stopped by the server (a drain): the job forgets it
    /// ran there, so it is placed there again once the node is eligible (Nomad's system
    /// scheduler places on every eligible node without a live alloc of the job).
    pub(crate) fn forget_system_node(&mut self, job: JobId, node: NodeId) {
        if let Some(counts) = self.jobs[job].node_counts.as_mut() {
            counts.remove(node.0);
        }
    }

    /// The slot counters of `job`'s CircleCI job and its submission time; `None` once every
    /// slot has finished.
    pub(crate) fn ci_slots(&mut self, job: JobId) -> Option<(&mut CiSlots, SimTime)> {
        let j = &mut self.jobs[job];
        match &mut j.ci_job {
            CiLink::Own(slots) => (slots.to_finish > 0).then_some((slots, j.submit_ms)),
            CiLink::Shared(id) => {
                let ci = self.ci_jobs.get_mut(*id)?;
                Some((&mut ci.slots, ci.submit_ms))
            }
        }
    }

    /// Drops the record of `job`'s CircleCI job once its last slot finished.
    pub(crate) fn release_ci_job(&mut self, job: JobId) {
        if let CiLink::Shared(id) = self.jobs[job].ci_job {
            self.ci_jobs.remove(id);
        }
    }

    /// True when the job has nothing live, queued or open: Nomad's `dead`.
    pub(crate) fn is_dead(&self, job: JobId) -> bool {
        let j = &self.jobs[job];
        j.live == 0 && j.queued == 0 && j.open_evals == 0
    }
}

impl Simulation {
    pub(crate) fn create_eval(
        &mut self,
        job: JobId,
        trigger: Trigger,
        wait_until_ms: SimTime,
    ) -> EvalId {
        self.state.jobs[job].dead_since_ms = None;
        self.state.add_eval(job, trigger, wait_until_ms, self.now)
    }

    /// Ends a live alloc: frees its resources and updates the counters. Returns false if it
    /// had ended (or was collected), as happens when a stopped alloc's own end comes later.
    pub(crate) fn end_alloc(
        &mut self,
        alloc: AllocId,
        client: ClientStatus,
        reason: EndReason,
    ) -> bool {
        let Some(a) = self.state.allocs.get(alloc) else {
            return false;
        };
        if a.ended_ms().is_some() {
            return false;
        }
        let (job, node) = (a.job, a.node);
        let extra = self.state.alloc_extra(alloc);
        let ask = extra.resources(self.state.jobs[job].ask);
        if let Some(h) = &extra.hardware {
            let h = h.clone();
            self.state.release_hardware(node, &h);
        }
        let a = &mut self.state.allocs[alloc];
        let end_event_left = a.take_end_queued();
        a.set_client(client);
        a.set_ended(self.now);
        a.set_end_reason(reason);
        if !matches!(reason, EndReason::Completed | EndReason::Failed) {
            a.desired = DesiredStatus::Stop;
        }
        self.state.detach_alloc(node, alloc, ask);
        if end_event_left {
            self.alloc_end_left_queued();
        }
        let system = self.is_per_node(job);
        let j = &mut self.state.jobs[job];
        j.live = j.live.checked_sub(1).expect("an ending alloc was live");
        match client {
            ClientStatus::Failed => j.failed += 1,
            ClientStatus::Lost => j.lost += 1,
            _ => j.complete += 1,
        }
        // A system job remembers where it ran, so it does not come back to a node it left.
        if let Some(counts) = j.node_counts.as_mut().filter(|_| !system) {
            counts.sub(node.0);
        }
        if j.spread_counts.is_some() {
            self.count_spread(job, node, false);
        }
        let j = &self.state.jobs[job];
        let batch = self.config.workloads[j.workload as usize]
            .job_type
            .runs_to_completion();
        let due = self.now.saturating_add(self.gc_threshold(batch));
        self.state.gc.allocs(batch).push_back((due, alloc));
        self.client_alloc_ended(alloc, job);
        self.note_if_dead(job);
        true
    }

    /// Records that an alloc slot will not run again (for CircleCI makespans).
    pub(crate) fn finish_slot(&mut self, job: JobId) {
        if self.is_per_node(job) {
            return;
        }
        let (ci, submit_ms) = self
            .state
            .ci_slots(job)
            .expect("a CircleCI job with a slot to finish is kept");
        ci.to_finish = ci
            .to_finish
            .checked_sub(1)
            .expect("a CircleCI job finishes each slot once");
        if ci.to_finish == 0 {
            self.state.release_ci_job(job);
            self.observe.collector.makespan.record(self.now - submit_ms);
        }
    }
}
