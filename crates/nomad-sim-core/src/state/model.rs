//! The cluster state Nomad keeps: nodes, jobs, allocations and evaluations, with Nomad's statuses.

use serde::Serialize;

use crate::hardware::NodeHardwareUse;
use crate::ids::{AllocId, CiJobId, EvalId, JobId};
use crate::resources::Resources;
use crate::time::SimTime;

/// A node's status, as `nomad node status` shows it. `Terminated` means the instance is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    /// Booting; not yet ready.
    Initializing,
    /// Accepting work (if eligible and not draining).
    Ready,
    /// Missed its heartbeats; its allocs are lost.
    Down,
    /// The instance was terminated and the node is gone.
    Terminated,
}

impl NodeStatus {
    /// Nomad's word for the status (a terminated node shows as `down` until garbage collection).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Initializing => "initializing",
            NodeStatus::Ready => "ready",
            NodeStatus::Down | NodeStatus::Terminated => "down",
        }
    }
}

/// Scheduling eligibility, independent of status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Eligibility {
    /// New allocs may be placed.
    Eligible,
    /// No new allocs.
    Ineligible,
}

impl Eligibility {
    /// Nomad's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Eligibility::Eligible => "eligible",
            Eligibility::Ineligible => "ineligible",
        }
    }
}

/// A drain in progress on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActiveDrain {
    /// When the drain started.
    pub started_ms: SimTime,
    /// When remaining allocs are stopped; `None` means no deadline.
    pub deadline_ms: Option<SimTime>,
    /// `-ignore-system`.
    pub ignore_system: bool,
    /// Index of the drain's record in the report.
    pub record: u32,
    /// Terminate the node once the drain is done (ASG scale-down).
    pub terminate_when_done: bool,
}

/// A client node, laid out by what touches it (`repr(C)` keeps the order, and a node starts a
/// cache line): a placement scan reads the first line alone (resources, class, pool, status);
/// placing an alloc and ending one touch the next two (the alloc list, kept in the record
/// itself while it is short, the hardware in use, the drain); names, history and events come
/// after.
#[derive(Clone, Debug)]
#[repr(C, align(64))]
pub struct Node {
    /// What allocations may use: capacity minus reserved.
    pub allocatable: Resources,
    /// What non-terminal allocations use now.
    pub used: Resources,
    /// The computed class (for the feasibility cache).
    pub class_id: u32,
    /// Index of the node's pool in the configuration.
    pub pool: u32,
    /// Where the last alloc taken off `allocs` was found (see `NodeAllocs::remove`).
    pub alloc_hint: u32,
    /// Status.
    pub status: NodeStatus,
    /// Scheduling eligibility.
    pub eligibility: Eligibility,
    /// Allocations that are not client-terminal, in placement order with swap-removal.
    pub allocs: NodeAllocs,
    /// Ports, device instances and cores its allocs hold; `None` until an alloc that asks
    /// for them lands here.
    pub hardware: Option<Box<NodeHardwareUse>>,
    /// The drain in progress, if any.
    pub drain: Option<ActiveDrain>,
    /// `<pool>-<index>`.
    pub name: String,
    /// A UUID-shaped node ID.
    pub id: String,
    /// Creation order, Nomad's `CreateIndex`.
    pub create_index: u64,
    /// When the node was created.
    pub created_ms: SimTime,
    /// Total resources.
    pub capacity: Resources,
    /// Resources reserved for the OS and the client.
    pub reserved: Resources,
    /// When the node stopped costing money (terminated), if it did.
    pub terminated_ms: Option<SimTime>,
    /// The node's latest events, oldest first (Nomad keeps the last 10).
    pub events: Vec<NodeEvent>,
}

// The layout the comment on `Node` describes: a scan's fields in the first line, and the
// fields an alloc's placement and end add (the alloc list, inline while short, the hardware
// in use, the drain) in the next two.
const _: () = {
    assert!(std::mem::offset_of!(Node, allocs) == 64);
    assert!(
        std::mem::offset_of!(Node, drain) + std::mem::size_of::<Option<ActiveDrain>>()
            <= NODE_ALLOC_BYTES
    );
};

/// Bytes of a node that an alloc's placement and end read and write: its first three lines.
pub(crate) const NODE_ALLOC_BYTES: usize = 192;

/// One entry of a node's event list, as `nomad node status <node>` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeEvent {
    /// When it happened.
    pub t_ms: SimTime,
    /// Nomad's subsystem: `Cluster` or `Drain`.
    pub subsystem: &'static str,
    /// Nomad's message.
    pub message: String,
}

/// How many events a node keeps, as Nomad does.
pub const MAX_NODE_EVENTS: usize = 10;

impl Node {
    /// Free resources now.
    pub fn free(&self) -> Resources {
        self.allocatable.minus(self.used)
    }
}

/// An allocation's desired status, set by the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DesiredStatus {
    /// Keep running.
    Run,
    /// Stop.
    Stop,
    /// Preempted.
    Evict,
}

impl DesiredStatus {
    /// Nomad's word.
    pub fn as_str(self) -> &'static str {
        match self {
            DesiredStatus::Run => "run",
            DesiredStatus::Stop => "stop",
            DesiredStatus::Evict => "evict",
        }
    }
}

/// An allocation's client status, reported by the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientStatus {
    /// Placed, not started.
    Pending,
    /// Running.
    Running,
    /// Finished (successfully, or killed by a stop).
    Complete,
    /// Failed.
    Failed,
    /// Its node went down.
    Lost,
}

impl ClientStatus {
    /// Nomad's word.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientStatus::Pending => "pending",
            ClientStatus::Running => "running",
            ClientStatus::Complete => "complete",
            ClientStatus::Failed => "failed",
            ClientStatus::Lost => "lost",
        }
    }

    /// Complete, failed and lost are client-terminal.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ClientStatus::Complete | ClientStatus::Failed | ClientStatus::Lost
        )
    }
}

/// Why an allocation ended, for the trace and the task events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The task exited successfully.
    Completed,
    /// The task failed.
    Failed,
    /// Stopped at a drain deadline.
    DrainDeadline,
    /// Stopped by a force drain.
    ForceDrain,
    /// Migrated off a draining node.
    Migrate,
    /// The node went down.
    NodeDown,
    /// The instance was terminated by a lifecycle hook timeout.
    NodeTerminated,
    /// Its job was stopped (`nomad job stop`).
    JobStopped,
    /// Evicted to make room for a higher-priority alloc.
    Preempted,
}

impl EndReason {
    /// The reason's name in the trace.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Completed => "completed",
            EndReason::Failed => "failed",
            EndReason::DrainDeadline => "drain_deadline",
            EndReason::ForceDrain => "force_drain",
            EndReason::Migrate => "migrate",
            EndReason::NodeDown => "node_down",
            EndReason::NodeTerminated => "node_terminated",
            EndReason::JobStopped => "job_stopped",
            EndReason::Preempted => "preempted",
        }
    }
}

pub use super::alloc::{Alloc, AllocExtra};
pub use super::per_node::{NodeAllocs, NodeCounts};

/// A Nomad job with one task group.
#[derive(Clone, Debug)]
pub struct Job {
    /// The workload that submitted it.
    pub workload: u32,
    /// The arrival number within the workload.
    pub arrival: u64,
    /// The fan-out index (CircleCI's node index), when the workload fans out.
    pub fan_index: Option<u32>,
    /// The CircleCI job (arrival) it belongs to.
    pub ci_job: CiLink,
    /// Creation number among jobs (submission order).
    pub serial: u64,
    /// Submission time.
    pub submit_ms: SimTime,
    /// Priority.
    pub priority: u8,
    /// The task group's ask per alloc.
    pub ask: Resources,
    /// The task group's count.
    pub count: u32,
    /// Run time of each alloc index, drawn at submission.
    pub durations: Durations,
    /// Allocs waiting to be placed.
    pub queued: u32,
    /// Allocs placed and not client-terminal.
    pub live: u32,
    /// Allocs complete.
    pub complete: u32,
    /// Allocs failed.
    pub failed: u32,
    /// Allocs lost.
    pub lost: u32,
    /// Indexes waiting for placement (replacements first, then fresh indexes from `next_index`).
    pub pending_indexes: Vec<(u32, Option<AllocId>)>,
    /// The next fresh alloc index.
    pub next_index: u32,
    /// The job's blocked eval, if one exists.
    pub blocked_eval: Option<EvalId>,
    /// When the job last became dead (for garbage collection), if it is dead.
    pub dead_since_ms: Option<SimTime>,
    /// Allocs and evals of the job not yet garbage-collected; the job goes only after them.
    pub kept_objects: u32,
    /// Evals that are not terminal (pending or blocked).
    pub open_evals: u32,
    /// Allocs per node, kept when `count > 1` or `distinct_hosts`.
    pub node_counts: Option<Box<NodeCounts>>,
    /// Live allocs per spread block and attribute value, kept when the job has spreads.
    pub spread_counts: Option<Box<crate::server::spread::SpreadCounts>>,
    /// The metrics of the Select that failed, while the job has a blocked eval.
    pub failure: Option<std::sync::Arc<crate::placement::AllocMetric>>,
    /// `nomad job stop` stopped it (Nomad's `Stop`): nothing of it is placed again.
    pub stopped: bool,
    /// `nomad job stop -purge`: it has left the read model.
    pub purged: bool,
}

/// The run times of a job's alloc indexes, drawn at submission: one shared by every index
/// (a fixed duration, or a count of one) costs no allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Durations {
    /// Every index runs this long.
    Same(SimTime),
    /// Index `i` runs `[i]` long.
    Each(Box<[SimTime]>),
}

impl Durations {
    /// The run time of alloc index `index`.
    pub fn of(&self, index: u32) -> SimTime {
        match self {
            Durations::Same(d) => *d,
            Durations::Each(each) => each[index as usize],
        }
    }
}

/// An evaluation's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalStatus {
    /// Waiting in the broker.
    Pending,
    /// Waiting for capacity.
    Blocked,
    /// Done.
    Complete,
    /// Cancelled: superseded by a newer blocked eval of its job (Nomad's leader cancels
    /// duplicates), or its job was stopped while it waited (Nomad spells it `canceled`).
    Canceled,
}

/// Why an evaluation was created, with Nomad's trigger names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Trigger {
    /// `job-register`.
    #[serde(rename = "job-register")]
    JobRegister,
    /// `job-deregister`: the job was stopped (`nomad job stop`, `DELETE /v1/job/:id`).
    #[serde(rename = "job-deregister")]
    JobDeregister,
    /// `queued-allocs` (a blocked eval).
    #[serde(rename = "queued-allocs")]
    QueuedAllocs,
    /// `node-drain`.
    #[serde(rename = "node-drain")]
    NodeDrain,
    /// `node-update`.
    #[serde(rename = "node-update")]
    NodeUpdate,
    /// `alloc-failure`.
    #[serde(rename = "alloc-failure")]
    AllocFailure,
    /// `preemption`: an alloc of the job was preempted.
    #[serde(rename = "preemption")]
    Preemption,
}

impl Trigger {
    /// Nomad's trigger string.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::JobRegister => "job-register",
            Trigger::JobDeregister => "job-deregister",
            Trigger::QueuedAllocs => "queued-allocs",
            Trigger::NodeDrain => "node-drain",
            Trigger::NodeUpdate => "node-update",
            Trigger::AllocFailure => "alloc-failure",
            Trigger::Preemption => "preemption",
        }
    }
}

/// An evaluation.
#[derive(Clone, Debug)]
pub struct Eval {
    /// The job.
    pub job: JobId,
    /// Broker order among equal priorities (Nomad's `CreateIndex`).
    pub seq: u64,
    /// Status.
    pub status: EvalStatus,
    /// Why it was created.
    pub trigger: Trigger,
    /// Not before this time (reschedule delay).
    pub wait_until_ms: SimTime,
    /// When the eval was created.
    pub created_ms: SimTime,
    /// For a blocked eval: the serial (`seq`) of the eval whose failure created it
    /// (Nomad's `PreviousEval`).
    pub previous: Option<u64>,
    /// For an eval that failed to place everything: the serial of the blocked eval it
    /// created (Nomad's `BlockedEval`).
    pub blocked: Option<u64>,
}

/// A job's status, as `nomad status` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    /// Nothing runs and an eval waits.
    Pending,
    /// Some alloc is live.
    Running,
    /// Everything is terminal.
    Dead,
}

impl JobStatus {
    /// Nomad's word.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Dead => "dead",
        }
    }
}

/// A CircleCI job: one arrival, fanned out into `parallelism` Nomad jobs.
#[derive(Clone, Debug)]
pub struct CiJob {
    /// Arrival number among CircleCI jobs.
    pub serial: u64,
    /// Submission time.
    pub submit_ms: SimTime,
    /// What of it has yet to start and to finish.
    pub slots: CiSlots,
}

/// The alloc slots of a CircleCI job yet to start and to finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CiSlots {
    /// Allocations not yet started.
    pub to_start: u32,
    /// Allocations not yet ended; at zero the CircleCI job's makespan is streamed into the
    /// metrics and its record is done.
    pub to_finish: u32,
}

/// Where a job's CircleCI job is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiLink {
    /// The job is its CircleCI job's only one (`parallelism: 1`): the counters live in the
    /// job, which saves a record and a cache miss per alloc on the busiest runs.
    Own(CiSlots),
    /// One of the jobs of a fanned-out CircleCI job, kept in the state's arena.
    Shared(CiJobId),
}
