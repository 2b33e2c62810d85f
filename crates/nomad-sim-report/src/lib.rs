//! nomad-sim-report: placement algorithms × scenarios × seeds, capacity search, CI regressions.
//!
//! [`sweep`] runs the grid in parallel and measures each run; [`summary`] aggregates across
//! seeds and renders Markdown, JSON and HTML; [`baseline`] compares with a saved baseline;
//! [`capacity`] searches the smallest pool meeting a target. A new algorithm is one type
//! implementing `nomad_sim_core::Placer`, registered in [`algorithms::by_name`].
#![forbid(unsafe_code)]

pub mod algorithms;
pub mod baseline;
pub mod breakdown;
pub mod capacity;
pub mod classes;
pub mod features;
pub mod fingerprint;
pub mod knob;
pub mod shard;
pub mod stats;
pub mod summary;
pub mod svg;
pub mod sweep;
pub mod target;
