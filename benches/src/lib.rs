//! Shared fixtures for the benches: clusters pre-filled to a utilisation, and a burst of jobs.
#![forbid(unsafe_code)]

use nomad_sim_core::config::{Arrivals, DurationDist, SimConfig};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::HOUR_MS;
use nomad_sim_core::{Algorithm, Resources, Simulation};

/// The ask of the measured jobs: CircleCI's `medium`.
pub const ASK: Resources = Resources::new(2048, 4096, 0);

/// A cluster of `nodes` nodes (8 vCPU, 32 GiB), filled to about `utilisation` by jobs placed at
/// time 0, with `burst` more `medium` jobs arriving at 1 ms. Running to 0 ms fills the cluster;
/// running to 1 ms then places the burst.
pub fn burst_config(nodes: u32, utilisation: f64, burst: usize, algorithm: Algorithm) -> SimConfig {
    let cluster = vec![pool("linux", nodes, 8 * 2048, 32 * 1024)];
    // Each node holds 8 `medium` jobs by CPU: fill `utilisation` of those slots.
    let fill = ((f64::from(nodes) * 8.0) * utilisation) as usize;
    let long = DurationDist::Constant(10 * HOUR_MS);
    let background = batch_workload("fill", Arrivals::At(vec![0; fill]), ASK, long.clone());
    let measured = batch_workload("burst", Arrivals::At(vec![1; burst]), ASK, long);
    let mut c = config(1, 2, cluster, vec![background, measured]);
    c.algorithm = algorithm;
    c
}

/// A simulation of `burst_config`, already run to time 0 (the cluster is filled).
pub fn filled(nodes: u32, utilisation: f64, burst: usize, algorithm: Algorithm) -> Simulation {
    let mut sim = Simulation::new(burst_config(nodes, utilisation, burst, algorithm));
    sim.run_until(0);
    sim
}

/// The same cluster, filled by Nomad's binpack (fast, untimed), with a baseline algorithm of
/// `nomad-sim-report` placing the burst.
pub fn filled_with(nodes: u32, utilisation: f64, burst: usize, name: &str) -> Simulation {
    let mut sim = filled(nodes, utilisation, burst, Algorithm::Binpack);
    assert!(
        nomad_sim_report::algorithms::switch(&mut sim, name),
        "unknown algorithm {name}"
    );
    sim
}
