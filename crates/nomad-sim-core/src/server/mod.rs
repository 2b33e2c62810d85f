//! The Nomad server's scheduling side: broker, blocked evals, the scheduler stack, plans.

#[allow(unused_imports)]
use crate::prelude::*;

pub mod affinity;
mod blocked;
pub(crate) mod broker;
pub mod cluster;
pub mod constraint;
mod hardware;
pub mod placement;
mod placer;
pub mod preempt;
mod reconcile;
pub mod reschedule;
pub mod spread;
pub(crate) mod stack;
mod system;
pub(crate) mod version;

pub(crate) use blocked::Blocked;
pub use placer::{ClusterView, Placer};

/// The scheduling side of a Nomad server.
pub(crate) struct Server {
    /// The eval broker: highest priority first, then creation order.
    pub(crate) broker: BinaryHeap<Reverse<(u8, u64, EvalId, bool)>>,
    pub(crate) blocked: Blocked,
    pub(crate) candidate_sets: Vec<CandidateSet>,
    pub(crate) constraint_sets: Vec<ConstraintSet>,
    pub(crate) classes: ClassTable,
    pub(crate) placement_rng: ChaCha8Rng,
    /// A placement algorithm that replaces Nomad's stack, if one was given.
    pub(crate) placer: Option<Box<dyn Placer>>,
    /// Registered system jobs: every node that becomes schedulable gets one of their allocs.
    pub(crate) system_jobs: Vec<JobId>,
    /// Nodes where a system job's alloc waits for room, by job.
    pub(crate) system_waiting: BTreeMap<JobId, Vec<NodeId>>,
    /// While a woken eval places: the only nodes its scan visits (see `place_in_bucket`).
    pub(crate) restrict: Option<Vec<NodeId>>,
    /// Node-update evals of system jobs in the broker, with their node.
    pub(crate) system_eval_node: BTreeMap<EvalId, NodeId>,
    /// The (job, node) pairs of those evals, so a node gets one eval per job at a time.
    pub(crate) system_pending: BTreeSet<(JobId, NodeId)>,
    /// Reschedule trackers of replacements of failed allocs (looked up, never iterated).
    pub(crate) trackers: crate::ids::IdMap<AllocId, Vec<reschedule::RescheduleEvent>>,
    /// Failed allocs whose replacement waits for its reschedule delay, with the time it may
    /// be placed: other evals of the job leave it alone until then.
    pub(crate) reschedule_at: crate::ids::IdMap<AllocId, SimTime>,
    /// Filtered and exhausted nodes of the last Select, by pool (for class counts).
    pub(crate) tally: placement::PoolTally,
    /// Bumped whenever a node may have joined or left candidate sets.
    pub(crate) candidacy_version: u64,
    /// Per candidate set: its ready nodes per datacenter, and the version they were counted at.
    pub(crate) nodes_by_dc: Vec<Option<(u64, BTreeMap<String, u32>)>>,
    /// The scheduler workers and the plan queue.
    pub(crate) workers: broker::Workers,
    /// The nodes the Select in progress penalises beyond its predecessor's node (the
    /// predecessor's reschedule tracker); read by the stack.
    pub(crate) penalty_nodes: Vec<NodeId>,
    /// Per workload: its spreads and affinities, compiled, or `None` when it has neither.
    pub(crate) preferences: Vec<Option<Box<spread::Preferences>>>,
    /// True while a Select may preempt (the retry after a failed Select, issue 11).
    pub(crate) preempting: bool,
    /// The nodes ranked with evictions in the Select in progress, with their victims.
    pub(crate) preempt_options: Vec<(NodeId, Vec<AllocId>)>,
    /// Allocs preempted per job in the eval in progress (Nomad counts the plan's preemptions
    /// for the max_parallel penalty).
    pub(crate) plan_preemptions: Vec<(JobId, u32)>,
    /// Powers of ten the fitness scorer computed, by exponent.
    pub(crate) pow10: placement::Pow10Memo,
    /// The metrics of the last Select, filled in place: building, moving and dropping one
    /// per Select cost C2M about 3 % of its instructions.
    pub(crate) metric: placement::AllocMetric,
}
