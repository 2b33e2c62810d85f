//! nomad-sim-core: a HashiCorp Nomad cluster in virtual time, with Nomad's own placement.
//!
//! # Brief overview
//!
//! A [`SimConfig`] describes node pools, workloads and an operations timeline. A [`Simulation`]
//! turns it into events on an [`queue::EventQueue`] and runs them. The crate is laid out like a
//! Nomad server:
//!
//! - [`engine`]: the clock, the event queue and the step loop; job sources (the workloads);
//! - [`state`]: nodes, jobs, evals and allocs, and the functions that change their accounting;
//! - [`server`]: the eval broker, blocked evals, the scheduler stack (feasibility, ranking, the
//!   limit) and the plan that places allocs;
//! - [`ops`]: the drainer, the node lifecycle, scaling and the autoscaler;
//! - [`observe`]: streamed metrics, trace events and the read model the views share.
//!
//! The crate does no I/O: no files, no printing, no clock. Randomness comes from ChaCha streams
//! derived from the configuration's seed, so a run is a pure function of its configuration.

#![warn(missing_docs, unreachable_pub)]

pub mod advice;
pub mod config;
pub mod cron;
pub mod engine;
pub mod error;
pub mod hardware;
pub mod ids;
pub mod observe;
pub mod ops;
mod prefetch;
pub mod resources;
pub mod server;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod workload;

pub use config::{Algorithm, JobType, NomadVersion, SimConfig};
pub use engine::{queue, Simulation};
pub use observe::metrics::Report;
pub use observe::{invariants, metrics, trace};
pub use resources::Resources;
pub use server::{cluster, constraint, placement, preempt, ClusterView, Placer};
pub use state::model;
pub use state::model::{CiJob, JobStatus};
pub use trace::{TraceEvent, TraceSink};

/// What the parts of the core share, imported with one line.
mod prelude {
    pub(crate) use std::cmp::Reverse;
    pub(crate) use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};

    pub(crate) use rand::{Rng, SeedableRng};
    pub(crate) use rand_chacha::ChaCha8Rng;

    pub(crate) use crate::cluster::{
        is_schedulable, CandidateKey, CandidateSet, ClassTable, ConstraintSet,
    };
    pub(crate) use crate::config::{
        Action, Arrivals, AutoscalerMetric, DrainDeadline, DrainSpec, JobType, NodeSelector,
        NodeTarget, SimConfig, WorkloadConfig,
    };
    pub(crate) use crate::constraint::NodeProperties;
    pub(crate) use crate::engine::queue::{EventKind, EventQueue};
    pub(crate) use crate::engine::sources::Sources;
    pub(crate) use crate::engine::{uuid_kind, Simulation};
    pub(crate) use crate::ids::{uuid_for, AllocId, CiJobId, EvalId, JobId, NodeId};
    pub(crate) use crate::metrics::{self, Collector, DrainRecord, Report};
    pub(crate) use crate::model::{
        ActiveDrain, Alloc, AllocExtra, CiJob, CiLink, CiSlots, ClientStatus, DesiredStatus,
        Durations, Eligibility, EndReason, Eval, EvalStatus, Job, JobStatus, Node, NodeCounts,
        NodeStatus, Trigger,
    };
    pub(crate) use crate::observe::Observer;
    pub(crate) use crate::ops::OpsState;
    pub(crate) use crate::placement::{
        fitness, preference_limit, select_limit, AllocMetric, NodeScore, ScoreInput, ScoreParts,
        BINPACK_MAX_FIT_SCORE, MAX_SKIP, SKIP_SCORE_THRESHOLD,
    };
    pub(crate) use crate::resources::Resources;
    pub(crate) use crate::server::stack::Scan;
    pub(crate) use crate::server::{Blocked, Placer, Server};
    pub(crate) use crate::state::ClusterState;
    pub(crate) use crate::time::{SimTime, HOUR_MS};
    pub(crate) use crate::trace::{TraceEvent, TraceSink};
    pub(crate) use crate::workload::ArrivalCursor;
}
