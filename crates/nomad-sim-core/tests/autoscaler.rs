//! The nomad-autoscaler's cluster policy with the target-value strategy, worked by hand:
//! the metrics, the new count, the cooldown, readiness, and when it stops evaluating.

use nomad_sim_core::config::{
    Arrivals, AutoscalerConfig, AutoscalerMetric, DurationDist, NodeSelector, SimConfig,
};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS, SECOND_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

/// Pool `a`: one node of 4000 MHz and 8000 MB, new nodes taking `boot_ms` to boot; four
/// jobs submitted at 0, each asking `ask` for `run_ms`; the autoscaler evaluates every
/// minute with a 2m cooldown, keeps `metric` near `target` (threshold 0.1) between 1 and 10
/// nodes, and scales in the newest nodes with a 5m drain deadline.
fn cluster(
    ask: Resources,
    run_ms: u64,
    boot_ms: u64,
    metric: AutoscalerMetric,
    target: f64,
    horizon_ms: u64,
) -> SimConfig {
    let mut p = pool("a", 1, 4000, 8000);
    p.boot_time_ms = boot_ms;
    let work = batch_workload(
        "w",
        Arrivals::At(vec![0; 4]),
        ask,
        DurationDist::Constant(run_ms),
    );
    let mut c = config(1, horizon_ms, vec![p], vec![work]);
    c.autoscaler = Some(AutoscalerConfig {
        pool: "a".to_string(),
        min: 1,
        max: 10,
        evaluation_interval_ms: MINUTE_MS,
        cooldown_ms: 2 * MINUTE_MS,
        metric,
        target,
        threshold: 0.1,
        node_selector: NodeSelector::NewestCreateIndex,
        node_drain_deadline_ms: 5 * MINUTE_MS,
    });
    c
}

/// What the autoscaler did, in time order: ("ready" | "terminated", time, node).
type Scaling = Vec<(&'static str, u64, String)>;

/// Runs to the end (or to `until`); returns the scaling events and the final clock.
fn run(c: SimConfig, until: Option<u64>) -> (Scaling, u64) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    match until {
        Some(t) => {
            sim.run_until(t);
        }
        None => sim.run(),
    }
    let events = sink.events();
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    assert_eq!(trace_violations(&sim, &events), Vec::<String>::new());
    let scaling = events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::NodeReady { node } => Some(("ready", *t, node.clone())),
            TraceEvent::NodeTerminated { node } => Some(("terminated", *t, node.clone())),
            _ => None,
        })
        .collect();
    (scaling, sim.now())
}

fn ev(what: &'static str, t: u64, node: &str) -> (&'static str, u64, String) {
    (what, t, node.to_string())
}

/// 2000 MHz and 1000 MB: two fill a node's CPU and a quarter of its memory.
const CPU_HEAVY: Resources = Resources::new(2000, 1000, 0);

/// Jobs end at 30m30s (the two placed at 0) and 31m30s (the two placed at 1m).
const RUN_MS: u64 = 30 * MINUTE_MS + 30 * SECOND_MS;

#[test]
fn cpu_target_scales_out_at_the_end_of_each_cooldown_then_back_in_when_idle() {
    // Two jobs fill a-0's CPU; two wait. Target 50 % CPU allocated:
    //  1m: 4000/4000 = 100 %, factor 2: ceil(1 × 2) = 2 nodes; a-1 is ready at once and
    //      takes the two waiting jobs. Cooldown until 3m (2m is skipped).
    //  3m: 8000/8000 = 100 %: ceil(2 × 2) = 4 nodes, a-2 and a-3. Cooldown until 5m.
    //  5m on: 8000/16000 = 50 %, factor 1: within 1 ± 0.1, nothing.
    //  31m: a-0's jobs ended at 30m30s: 4000/16000 = 25 %, factor 0.5: ceil(4 × 0.5) = 2;
    //      the two newest, a-3 and a-2, empty, drain at once and are terminated.
    //  33m: a-1's jobs ended at 31m30s: 0 %, factor 0: ceil(0) = 0, clamped to min 1; a-1
    //      goes. After that 0 % of one node asks for 1 node: nothing, until the horizon (1h).
    // The tick at 1h is past the horizon with nothing left to do: it sets no next tick and
    // the run ends there.
    let c = cluster(
        CPU_HEAVY,
        RUN_MS,
        0,
        AutoscalerMetric::CpuAllocatedPct,
        50.0,
        HOUR_MS,
    );
    let (scaling, end) = run(c, None);
    assert_eq!(
        scaling,
        vec![
            ev("ready", 0, "a-0"),
            ev("ready", MINUTE_MS, "a-1"),
            ev("ready", 3 * MINUTE_MS, "a-2"),
            ev("ready", 3 * MINUTE_MS, "a-3"),
            ev("terminated", 31 * MINUTE_MS, "a-3"),
            ev("terminated", 31 * MINUTE_MS, "a-2"),
            ev("terminated", 33 * MINUTE_MS, "a-1"),
        ]
    );
    assert_eq!(end, HOUR_MS);
}

#[test]
fn past_the_horizon_it_evaluates_while_work_remains() {
    // As above with a 20m horizon: past 20m the autoscaler keeps evaluating while jobs run,
    // so the 31m scale-in happens; at 32m nothing runs, nothing is queued or draining, and
    // the tick sets no next one: the 33m scale-in never comes. The last event is the 31m
    // drains' deadline timer at 36m (timers are not cancelled; it finds nothing to do).
    let c = cluster(
        CPU_HEAVY,
        RUN_MS,
        0,
        AutoscalerMetric::CpuAllocatedPct,
        50.0,
        20 * MINUTE_MS,
    );
    let (scaling, end) = run(c, None);
    assert_eq!(
        scaling,
        vec![
            ev("ready", 0, "a-0"),
            ev("ready", MINUTE_MS, "a-1"),
            ev("ready", 3 * MINUTE_MS, "a-2"),
            ev("ready", 3 * MINUTE_MS, "a-3"),
            ev("terminated", 31 * MINUTE_MS, "a-3"),
            ev("terminated", 31 * MINUTE_MS, "a-2"),
        ]
    );
    assert_eq!(end, 36 * MINUTE_MS);
}

#[test]
fn memory_target_reads_allocated_memory() {
    // The mirror image: 500 MHz and 4000 MB, two fill a-0's memory (and a quarter of its
    // CPU). With the memory metric the same scaling follows as for CPU above.
    let c = cluster(
        Resources::new(500, 4000, 0),
        RUN_MS,
        0,
        AutoscalerMetric::MemoryAllocatedPct,
        50.0,
        HOUR_MS,
    );
    let (scaling, _) = run(c, Some(40 * MINUTE_MS));
    assert_eq!(
        scaling,
        vec![
            ev("ready", 0, "a-0"),
            ev("ready", MINUTE_MS, "a-1"),
            ev("ready", 3 * MINUTE_MS, "a-2"),
            ev("ready", 3 * MINUTE_MS, "a-3"),
            ev("terminated", 31 * MINUTE_MS, "a-3"),
            ev("terminated", 31 * MINUTE_MS, "a-2"),
            ev("terminated", 33 * MINUTE_MS, "a-1"),
        ]
    );
}

#[test]
fn the_cpu_metric_ignores_memory() {
    // The CPU-heavy jobs fill a-0's CPU but only a quarter of its memory: with the memory
    // metric, 2000/8000 = 25 % at 1m gives factor 0.5 and ceil(1 × 0.5) = 1 node, the one
    // there is: nothing is added, and the two waiting jobs wait for a-0.
    let c = cluster(
        CPU_HEAVY,
        RUN_MS,
        0,
        AutoscalerMetric::MemoryAllocatedPct,
        50.0,
        HOUR_MS,
    );
    let (scaling, _) = run(c, Some(20 * MINUTE_MS));
    assert_eq!(scaling, vec![ev("ready", 0, "a-0")]);
}

#[test]
fn no_evaluation_while_a_pool_node_boots() {
    // New nodes take 4m30s to boot. 1m: 100 % of one node: a-1 is added, ready at 5m30s.
    // The cooldown ends at 3m, but a-1 is still initializing: 3m, 4m and 5m evaluate
    // nothing. 6m: 8000/8000: a-2 and a-3, ready at 10m30s; nothing until then, and at 11m
    // 50 % is on target.
    let c = cluster(
        CPU_HEAVY,
        RUN_MS,
        4 * MINUTE_MS + 30 * SECOND_MS,
        AutoscalerMetric::CpuAllocatedPct,
        50.0,
        HOUR_MS,
    );
    let (scaling, _) = run(c, Some(20 * MINUTE_MS));
    assert_eq!(
        scaling,
        vec![
            ev("ready", 0, "a-0"),
            ev("ready", 5 * MINUTE_MS + 30 * SECOND_MS, "a-1"),
            ev("ready", 10 * MINUTE_MS + 30 * SECOND_MS, "a-2"),
            ev("ready", 10 * MINUTE_MS + 30 * SECOND_MS, "a-3"),
        ]
    );
}

#[test]
fn pending_allocs_with_target_zero_uses_the_queue_length_as_the_factor() {
    // The CI-queue policy: metric `pending_allocs`, target 0, so the factor is the number of
    // queued allocs itself (the autoscaler's target-value strategy with a zero target).
    //  1m: 2 queued: ceil(1 × 2) = 2 nodes; a-1 takes both at once.
    //  3m: the jobs (1m30s each) ended at 1m30s and 2m30s: 0 queued, factor 0: down to the
    //      min, 1 node: the newest, a-1, goes.
    let c = cluster(
        CPU_HEAVY,
        90 * SECOND_MS,
        0,
        AutoscalerMetric::PendingAllocs,
        0.0,
        10 * MINUTE_MS,
    );
    let (scaling, end) = run(c, None);
    assert_eq!(
        scaling,
        vec![
            ev("ready", 0, "a-0"),
            ev("ready", MINUTE_MS, "a-1"),
            ev("terminated", 3 * MINUTE_MS, "a-1"),
        ]
    );
    assert_eq!(end, 10 * MINUTE_MS);
}

/// Four nodes of pool `a`, each running one 2100 MHz job (two do not fit on one node):
/// 8400/16000 = 52.5 % CPU allocated against a 50 % target, factor 1.05.
fn slightly_over_target(threshold: f64) -> Scaling {
    over_target_with(threshold, vec![0; 4], 10 * MINUTE_MS)
}

/// As [`slightly_over_target`], with jobs arriving at `arrivals`, run to `until_ms`.
fn over_target_with(threshold: f64, arrivals: Vec<u64>, until_ms: u64) -> Scaling {
    let work = batch_workload(
        "w",
        Arrivals::At(arrivals),
        Resources::new(2100, 1000, 0),
        DurationDist::Constant(HOUR_MS),
    );
    let mut c = config(1, HOUR_MS, vec![pool("a", 4, 4000, 8000)], vec![work]);
    c.autoscaler = Some(AutoscalerConfig {
        pool: "a".to_string(),
        min: 1,
        max: 10,
        evaluation_interval_ms: MINUTE_MS,
        cooldown_ms: 2 * MINUTE_MS,
        metric: AutoscalerMetric::CpuAllocatedPct,
        target: 50.0,
        threshold,
        node_selector: NodeSelector::NewestCreateIndex,
        node_drain_deadline_ms: 5 * MINUTE_MS,
    });
    run(c, Some(until_ms)).0
}

#[test]
fn within_the_threshold_nothing_changes() {
    // Factor 1.05 is within 1 ± 0.1: no action, though ceil(4 × 1.05) = 5.
    let initial: Scaling = (0..4).map(|i| ev("ready", 0, &format!("a-{i}"))).collect();
    assert_eq!(slightly_over_target(0.1), initial);
    // With threshold 0.01 it is outside: 5 nodes at 1m; then 8400/20000 = 42 %, factor 0.84,
    // ceil(5 × 0.84) = 5: nothing more.
    let mut scaled = initial;
    scaled.push(ev("ready", MINUTE_MS, "a-4"));
    assert_eq!(slightly_over_target(0.01), scaled);
}

#[test]
fn an_evaluation_that_keeps_the_count_starts_no_cooldown() {
    // Threshold 0.01: 1m, factor 1.05: a-4 (cooldown until 3m). 3m: 8400/20000 = 42 %,
    // factor 0.84, outside the threshold, but ceil(5 × 0.84) = 5 nodes, as now: no action,
    // and no cooldown. Two more jobs arrive at 3m30s: one fits on a-4, one waits. 4m:
    // 10500/20000 = 52.5 %: ceil(5 × 1.05) = 6: a-5 comes at once, not after a cooldown.
    let mut arrivals = vec![0; 4];
    arrivals.extend([3 * MINUTE_MS + 30 * SECOND_MS; 2]);
    let mut expected: Scaling = (0..4).map(|i| ev("ready", 0, &format!("a-{i}"))).collect();
    expected.push(ev("ready", MINUTE_MS, "a-4"));
    expected.push(ev("ready", 4 * MINUTE_MS, "a-5"));
    assert_eq!(
        over_target_with(0.01, arrivals, 4 * MINUTE_MS + 30 * SECOND_MS),
        expected
    );
}
