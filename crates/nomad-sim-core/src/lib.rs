//! nomad-sim-core: a HashiCorp Nomad cluster in virtual time, with Nomad's own placement.
//!
//! # Brief overview
//!
//! A [`SimConfig`] describes node pools, workloads and an operations timeline. A [`Simulation`]
//! turns it into events on an [`queue::EventQueue`] and runs them: arrivals register jobs,
//! each job gets an [`model::Eval`], the eval broker hands evals out by priority then creation
//! order, and the placement stack ([`placement`]) picks nodes as Nomad's `GenericStack` does.
//! Work that does not fit blocks; freed capacity wakes it. Everything observable goes to an
//! optional [`trace::TraceSink`], and [`Simulation::report`] summarises the run.
//!
//! The crate does no I/O: no files, no printing, no clock. Randomness comes from ChaCha streams
//! derived from the configuration's seed, so a run is a pure function of its configuration.

pub mod cluster;
pub mod config;
pub mod constraint;
pub mod ids;
pub mod invariants;
pub mod metrics;
pub mod model;
mod ops;
pub mod placement;
pub mod queue;
pub mod resources;
mod sim;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod trace;
pub mod workload;

pub use config::{Algorithm, JobType, NomadVersion, SimConfig};
pub use metrics::Report;
pub use resources::Resources;
pub use sim::{CiJob, ClusterView, JobStatus, Placer, Simulation};
pub use trace::{TraceEvent, TraceSink};
