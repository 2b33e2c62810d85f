//! Queueing validation: identical slots with Poisson arrivals and exponential run times form an
//! M/M/c queue, so the simulated waits must match Erlang C, and Little's law must hold.

use nomad_sim_core::config::{Arrivals, DurationDist};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::{Resources, Simulation};

/// Erlang C: the probability that an arrival waits, for `c` servers and `a` Erlangs.
fn erlang_c(c: u32, a: f64) -> f64 {
    // Erlang B by the stable recursion, then C = B / (1 - rho (1 - B)).
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / f64::from(c);
    b / (1.0 - rho * (1.0 - b))
}

struct Outcome {
    mean_wait_s: f64,
    waited: f64,
    little_residual: f64,
    busy_residual: f64,
}

/// Runs `nodes` nodes with `slots` slots each, arrivals at `rate_per_hour`, mean run time 5m.
fn run_mmc(nodes: u32, slots: u64, rate_per_hour: f64, hours: u64, seed: u64) -> Outcome {
    let cluster = vec![pool("slot", nodes, 1000 * slots, 1000 * slots)];
    let work = vec![batch_workload(
        "task",
        Arrivals::Poisson { rate_per_hour },
        Resources::new(1000, 1000, 0),
        DurationDist::Exponential {
            mean_ms: (5 * MINUTE_MS) as f64,
        },
    )];
    let mut sim = Simulation::new(config(seed, hours * HOUR_MS, cluster, work));
    sim.keep_pending_samples();
    sim.run();
    let samples = sim.pending_samples();
    // Discard the first 10 % (by submission time) as warm-up.
    let warm = samples.len() / 10;
    let mut kept: Vec<_> = samples.to_vec();
    kept.sort_by_key(|&(submit, _)| submit);
    let kept = &kept[warm..];
    let mean_wait_s = kept.iter().map(|&(_, p)| p as f64).sum::<f64>() / kept.len() as f64 / 1000.0;
    let waited = kept.iter().filter(|&&(_, p)| p > 0).count() as f64 / kept.len() as f64;
    // Little's law over the whole run: Lq = lambda * Wq.
    let end_s = sim.now() as f64 / 1000.0;
    let lambda = samples.len() as f64 / end_s;
    let wq_all =
        samples.iter().map(|&(_, p)| p as f64).sum::<f64>() / samples.len() as f64 / 1000.0;
    let little_residual = (sim.mean_queued_allocs() - lambda * wq_all).abs() / (lambda * wq_all);
    let offered = lambda * 300.0;
    let busy_residual = (sim.mean_running_allocs() - offered).abs() / offered;
    Outcome {
        mean_wait_s,
        waited,
        little_residual,
        busy_residual,
    }
}

fn check(c: u32, nodes: u32, slots: u64, rho: f64, hours: u64, seed: u64) {
    let a = rho * f64::from(c);
    let rate_per_hour = a / 300.0 * 3600.0;
    let prob_wait = erlang_c(c, a);
    let wq = prob_wait / (f64::from(c) / 300.0 - rate_per_hour / 3600.0);
    let got = run_mmc(nodes, slots, rate_per_hour, hours, seed);
    let rel = (got.mean_wait_s - wq).abs() / wq;
    assert!(
        rel < 0.05,
        "M/M/{c} at rho {rho}: mean wait {:.2} s, Erlang C {wq:.2} s ({:.1} % off)",
        got.mean_wait_s,
        rel * 100.0
    );
    assert!(
        (got.waited - prob_wait).abs() < 0.01,
        "M/M/{c} at rho {rho}: {:.4} waited, Erlang C {prob_wait:.4}",
        got.waited
    );
    assert!(
        got.little_residual < 0.01,
        "Little's law off by {:.3} %",
        got.little_residual * 100.0
    );
    assert!(
        got.busy_residual < 0.01,
        "mean busy slots off by {:.3} %",
        got.busy_residual * 100.0
    );
}

#[test]
fn erlang_c_matches_the_reference_table() {
    // shared/reference/queueing-and-packing.md, table 1.2.
    assert!((erlang_c(10, 8.0) - 0.4091801508).abs() < 1e-9);
    assert!((erlang_c(20, 18.0) - 0.5507690048).abs() < 1e-9);
    assert!((erlang_c(100, 95.0) - 0.5064568539).abs() < 1e-9);
}

#[test]
fn mm10_at_rho_80_matches_erlang_c() {
    // Ten one-slot nodes; about 1.9 million allocations.
    check(10, 10, 1, 0.8, 20_000, 11);
}

#[test]
fn mm20_from_two_slot_nodes_at_rho_80_matches_erlang_c() {
    // Placement stays work-conserving when nodes hold several allocations.
    check(20, 10, 2, 0.8, 24_000, 12);
}

#[test]
fn light_load_rarely_waits() {
    // M/M/20 at rho 0.5: P(wait) = 0.0037; the mean wait is tiny, so check the share only.
    let got = run_mmc(20, 1, 10.0 / 300.0 * 3600.0, 2_000, 13);
    assert!(
        (got.waited - erlang_c(20, 10.0)).abs() < 0.01,
        "{}",
        got.waited
    );
    assert!(got.little_residual < 0.01 || got.mean_wait_s < 0.5);
}
