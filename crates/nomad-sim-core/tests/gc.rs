//! Garbage collection: memory follows the live cluster, and collecting never changes a run.

use proptest::prelude::*;

use nomad_sim_core::config::{Action, Arrivals, DurationDist, GcConfig, Operation};
use nomad_sim_core::testing::{arb_config, batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
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

/// Runs a configuration to its end and returns its JSON report and its trace.
fn report_and_trace(config: SimConfig, forget: bool) -> (String, Vec<(u64, TraceEvent)>) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(config);
    sim.set_trace_sink(Box::new(sink.clone()));
    if forget {
        sim.forget_terminal_objects();
    }
    // Every event is followed by a full check of the state, so an object read after it was
    // collected fails here.
    sim.check_every_event(true);
    sim.run();
    (serde_json::to_string(&sim.report()).unwrap(), sink.events())
}

#[test]
fn forgetting_terminal_objects_keeps_only_the_live_ones() {
    let mut sim = Simulation::new(week());
    sim.forget_terminal_objects();
    sim.run_until(24 * HOUR_MS);
    let (jobs, evals, allocs, ci_jobs) = sim.held_objects();
    let live = sim
        .allocs()
        .iter()
        .filter(|(_, a)| a.ended_ms().is_none())
        .count();
    // What is held is what runs now: a few jobs of 5 minutes, not 4 hours of dead ones.
    assert!(jobs < 30, "{jobs} jobs held");
    assert_eq!(allocs, live);
    assert!(
        evals <= jobs && ci_jobs <= jobs,
        "{evals} evals, {ci_jobs} CircleCI jobs"
    );
    let mut kept = Simulation::new(week());
    kept.run_until(24 * HOUR_MS);
    assert_eq!(
        serde_json::to_string(&sim.report()).unwrap(),
        serde_json::to_string(&kept.report()).unwrap()
    );
    assert!(kept.held_objects().0 > 150);
}

proptest! {
    #![proptest_config(ProptestConfig { max_shrink_iters: 100, ..nomad_sim_core::testing::proptest_config(48) })]

    /// Collection frees memory and nothing else: with Nomad's thresholds, short ones, or none
    /// at all (`forget_terminal_objects`), a run writes the same report and trace, including
    /// when a workload or a job is stopped (and purged) after some of its jobs died.
    #[test]
    fn collection_changes_neither_the_report_nor_the_trace(
        mut config in arb_config(),
        threshold_min in 1u64..=90,
        interval_min in 1u64..=10,
        stops in prop::collection::vec((0u64..=240, 0usize..3, 0u64..4, any::<bool>()), 0..=3),
    ) {
        // Stop workloads by name, or single jobs by the ID the views print (`w0-3`).
        for (at_min, w, arrival, purge) in stops {
            let Some(workload) = config.workloads.get(w % config.workloads.len()) else {
                continue;
            };
            let job = if arrival == 0 {
                workload.name.clone()
            } else {
                format!("{}-{arrival}", workload.name)
            };
            config.operations.push(Operation {
                at_ms: (at_min * MINUTE_MS).min(config.horizon_ms),
                action: Action::JobStop { job, purge },
            });
        }
        config.operations.sort_by_key(|o| o.at_ms);
        let nomad = report_and_trace(config.clone(), false);
        let mut short = config.clone();
        short.gc = GcConfig {
            eval_gc_threshold_ms: threshold_min * MINUTE_MS,
            batch_eval_gc_threshold_ms: threshold_min * MINUTE_MS,
            job_gc_threshold_ms: threshold_min * MINUTE_MS,
            interval_ms: interval_min * MINUTE_MS,
            ..GcConfig::default()
        };
        let short = report_and_trace(short, false);
        let forgotten = report_and_trace(config, true);
        prop_assert_eq!(&nomad.0, &short.0);
        prop_assert_eq!(&nomad.0, &forgotten.0);
        prop_assert!(nomad.1 == short.1, "the trace changed with short thresholds");
        prop_assert!(nomad.1 == forgotten.1, "the trace changed when forgetting terminal objects");
    }
}
