//! Garbage collection: memory follows the live cluster, and collecting never changes a run.

use nomad_sim_core::config::{Arrivals, DurationDist, GcConfig};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::{Resources, SimConfig, Simulation};

/// A week of batch work: 60 jobs an hour, 5 minutes each, on 10 nodes.
fn week() -> SimConfig {
    let work = vec![batch_workload(
        "build",
        Arrivals::Poisson {
            rate_per_hour: 60.0,
        },
        Resources::new(1000, 1000, 0),
        DurationDist::Exponential {
            mean_ms: (5 * MINUTE_MS) as f64,
        },
    )];
    config(
        7,
        7 * 24 * HOUR_MS,
        vec![pool("linux", 10, 4000, 4000)],
        work,
    )
}

#[test]
fn held_objects_follow_the_last_hours_not_the_week() {
    let mut sim = Simulation::new(week());
    for day in 1..=7 {
        sim.run_until(day * 24 * HOUR_MS);
        let (jobs, evals, allocs, ci_jobs) = sim.held_objects();
        // Jobs dead for 4h are gone (GC runs every 5m): about 4h of arrivals remain.
        assert!(jobs > 150 && jobs < 400, "day {day}: {jobs} jobs held");
        assert!(
            evals <= jobs && allocs <= jobs,
            "{evals} evals, {allocs} allocs"
        );
        assert!(ci_jobs < 20, "{ci_jobs} CircleCI jobs held");
    }
    assert!(sim.report().allocations.placed > 9_000);
}

#[test]
fn collecting_never_changes_the_run() {
    let mut keep_all = week();
    keep_all.gc = GcConfig {
        eval_gc_threshold_ms: u64::MAX,
        batch_eval_gc_threshold_ms: u64::MAX,
        job_gc_threshold_ms: u64::MAX,
        ..GcConfig::default()
    };
    let mut a = Simulation::new(week());
    a.run();
    let mut b = Simulation::new(keep_all);
    b.run();
    let json = |s: &Simulation| serde_json::to_string(&s.report()).unwrap();
    assert_eq!(json(&a), json(&b));
    assert_eq!(b.held_objects().0 as u64, b.report().ci_jobs.count);
    assert!(a.held_objects().0 < 400);
}

#[test]
fn shorter_thresholds_collect_sooner() {
    let mut short = week();
    short.gc.job_gc_threshold_ms = HOUR_MS;
    short.gc.batch_eval_gc_threshold_ms = HOUR_MS;
    let mut sim = Simulation::new(short);
    sim.run_until(24 * HOUR_MS);
    let (jobs, ..) = sim.held_objects();
    assert!(jobs < 120, "{jobs} jobs held with a 1h threshold");
}

#[test]
fn nothing_of_a_collected_alloc_is_kept() {
    // A batch task that fails every run restarts 3 times in place (Nomad's batch restart
    // policy) and fails; its replacement does the same, and the job is dead within minutes.
    // Until the alloc is collected its client keeps its record, `Total Restarts` = 3; once
    // collected (job threshold 1h, collector every 5m), nothing of it is read back.
    let mut flaky = batch_workload(
        "flaky",
        Arrivals::At(vec![0]),
        Resources::new(1000, 1000, 0),
        DurationDist::Constant(10 * MINUTE_MS),
    );
    flaky.failure_rate = 1.0;
    let mut c = config(
        1,
        4 * HOUR_MS,
        vec![pool("linux", 1, 4000, 4000)],
        vec![flaky],
    );
    c.gc.job_gc_threshold_ms = HOUR_MS;
    c.gc.batch_eval_gc_threshold_ms = HOUR_MS;
    let mut sim = Simulation::new(c);
    sim.run_until(30 * MINUTE_MS);
    let first = sim.allocs()[0].0;
    assert_eq!(sim.alloc_restarts(first), 3);
    sim.run_until(3 * HOUR_MS);
    assert!(sim.alloc(first).is_none());
    assert_eq!(sim.alloc_restarts(first), 0);
}
