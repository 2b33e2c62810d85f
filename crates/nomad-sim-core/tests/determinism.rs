//! Determinism: the same configuration and seed give the same trace and report, every time.

use nomad_sim_core::config::{Arrivals, CountDist, DurationDist};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::SharedSink;
use nomad_sim_core::{Algorithm, Resources, SimConfig, Simulation};

fn busy_config(seed: u64) -> SimConfig {
    let mut w = batch_workload(
        "ci",
        Arrivals::Poisson {
            rate_per_hour: 400.0,
        },
        Resources::new(2048, 4096, 0),
        DurationDist::Lognormal {
            median_ms: (6 * MINUTE_MS) as f64,
            sigma: 0.8,
        },
    );
    w.parallelism = CountDist::Weighted(vec![(1, 3.0), (4, 1.0)]);
    w.count = 2;
    config(
        seed,
        6 * HOUR_MS,
        vec![pool("linux", 8, 16_000, 32_768)],
        vec![w],
    )
}

fn run(c: SimConfig) -> (String, String) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run();
    let trace: Vec<String> = sink
        .events()
        .iter()
        .map(|(t, e)| format!("{t} {}", serde_json::to_string(e).unwrap()))
        .collect();
    (
        trace.join("\n"),
        serde_json::to_string(&sim.report()).unwrap(),
    )
}

#[test]
fn same_seed_same_trace_and_report() {
    let (trace_a, report_a) = run(busy_config(7));
    let (trace_b, report_b) = run(busy_config(7));
    assert!(trace_a.len() > 10_000, "the run should be busy");
    assert_eq!(trace_a, trace_b);
    assert_eq!(report_a, report_b);
}

#[test]
fn another_seed_another_run() {
    let (trace_a, _) = run(busy_config(7));
    let (trace_b, _) = run(busy_config(8));
    assert_ne!(trace_a, trace_b);
}

#[test]
fn tracing_does_not_change_the_run() {
    let (_, traced) = run(busy_config(9));
    let mut sim = Simulation::new(busy_config(9));
    sim.run();
    assert_eq!(traced, serde_json::to_string(&sim.report()).unwrap());
}

#[test]
fn adding_a_workload_keeps_the_others_arrivals() {
    // Each workload draws from its own stream: a second workload does not move the first's arrivals.
    let base = busy_config(3);
    let mut extended = base.clone();
    let mut other = extended.workloads[0].clone();
    other.name = "other".to_string();
    extended.workloads.push(other);
    let submissions = |mut c: SimConfig| {
        // Keep every job, so the comparison sees all of them.
        c.gc.job_gc_threshold_ms = u64::MAX;
        let mut sim = Simulation::new(c);
        sim.run();
        sim.jobs()
            .iter()
            .filter(|(_, j)| j.workload == 0)
            .map(|(_, j)| j.submit_ms)
            .collect::<Vec<_>>()
    };
    assert_eq!(submissions(base), submissions(extended));
}

#[test]
fn stepping_with_run_through_is_the_same_run() {
    let (trace, report) = run(busy_config(3));
    let sink = SharedSink::new();
    let mut sim = Simulation::new(busy_config(3));
    sim.set_trace_sink(Box::new(sink.clone()));
    let mut t = 0;
    loop {
        t += 7 * MINUTE_MS;
        let ended = sim.run_through(t);
        if ended {
            // The clock stays at the last event, where `run` leaves it.
            assert!(sim.now() <= t);
            break;
        }
        // Events remain past `t`: the clock stops there.
        assert_eq!(sim.now(), t);
    }
    let stepped: Vec<String> = sink
        .events()
        .iter()
        .map(|(t, e)| format!("{t} {}", serde_json::to_string(e).unwrap()))
        .collect();
    assert_eq!(stepped.join("\n"), trace);
    assert_eq!(serde_json::to_string(&sim.report()).unwrap(), report);
}

#[test]
fn the_plain_select_places_where_the_full_stack_does() {
    // An untraced run takes the stack's plain path for jobs that only binpack and job
    // anti-affinity score; a traced run keeps every node's scores and takes the full path.
    // Each alloc must land on the same node either way: job anti-affinity (count 3 on a few
    // nodes), exhausted nodes (a saturated cluster of two sizes) and both algorithms.
    for algorithm in [Algorithm::Binpack, Algorithm::Spread] {
        let mut c = busy_config(11);
        c.workloads[0].count = 3;
        c.pools = vec![
            pool("small", 3, 8_000, 16_384),
            pool("large", 2, 32_000, 65_536),
        ];
        c.algorithm = algorithm;
        // Keep every alloc, so both runs can be compared whole.
        c.gc.batch_eval_gc_threshold_ms = u64::MAX;
        c.gc.job_gc_threshold_ms = u64::MAX;
        let placements = |traced: bool| {
            let mut sim = Simulation::new(c.clone());
            if traced {
                sim.set_trace_sink(Box::new(SharedSink::new()));
            }
            sim.run();
            let report = serde_json::to_string(&sim.report()).unwrap();
            let nodes: Vec<(u64, String)> = sim
                .allocs()
                .iter()
                .map(|(_, a)| (a.serial(), sim.node_name(a.node).to_string()))
                .collect();
            (nodes, report)
        };
        let (plain, plain_report) = placements(false);
        let (full, full_report) = placements(true);
        assert!(plain.len() > 1_000, "the run should place many allocs");
        assert_eq!(plain, full);
        assert_eq!(plain_report, full_report);
    }
}
