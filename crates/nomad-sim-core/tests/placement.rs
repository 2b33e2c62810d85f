//! Placement as Nomad does it: the limit, scoring, the skip rule, constraints, distinct hosts,
//! blocked evals that wait for capacity, and job status.

use nomad_sim_core::config::{
    Action, Arrivals, DrainDeadline, DrainSpec, DurationDist, JobType, NodeTarget, SimConfig,
};
use nomad_sim_core::constraint::{Constraint, Operand};
use nomad_sim_core::ids::JobId;
use nomad_sim_core::placement::AllocMetric;
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Algorithm, JobStatus, Resources, Simulation};

fn at_zero(name: &str, ask: Resources, minutes: u64) -> nomad_sim_core::config::WorkloadConfig {
    batch_workload(
        name,
        Arrivals::At(vec![0]),
        ask,
        DurationDist::Constant(minutes * MINUTE_MS),
    )
}

fn traced(c: SimConfig) -> (Simulation, Vec<(u64, TraceEvent)>) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run();
    let events = sink.events();
    (sim, events)
}

fn placements(events: &[(u64, TraceEvent)]) -> Vec<(u64, String, String, AllocMetric)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced {
                name,
                node,
                metrics,
                ..
            } => Some((*t, name.clone(), node.clone(), metrics.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn batch_scores_two_nodes_and_takes_the_best() {
    let mut c = config(
        1,
        MINUTE_MS,
        vec![pool("linux", 50, 8000, 16_000)],
        vec![at_zero("build", Resources::new(1000, 2000, 0), 5)],
    );
    c.workloads[0].arrivals = Arrivals::At(vec![0; 20]);
    let (_, events) = traced(c);
    let placed = placements(&events);
    assert_eq!(placed.len(), 20);
    for (_, _, node, m) in &placed {
        assert_eq!(m.nodes_evaluated, 2, "batch limit is 2 on an empty cluster");
        assert_eq!(m.scores.len(), 2);
        let best = m
            .scores
            .iter()
            .fold(
                None::<&nomad_sim_core::placement::NodeScore>,
                |b, s| match b {
                    Some(b) if b.norm_score >= s.norm_score => Some(b),
                    _ => Some(s),
                },
            )
            .unwrap();
        assert_eq!(&best.node, node, "highest score wins, first seen on ties");
    }
    // Binpack: later placements find partly used nodes and prefer them.
    let distinct: std::collections::BTreeSet<_> = placed.iter().map(|p| p.2.clone()).collect();
    assert!(distinct.len() < 20, "binpack stacks work: {distinct:?}");
}

#[test]
fn service_limit_is_log2_of_candidates() {
    let mut w = at_zero("web", Resources::new(100, 100, 0), 60);
    w.job_type = JobType::Service;
    let c = config(2, MINUTE_MS, vec![pool("linux", 16, 8000, 16_000)], vec![w]);
    let (_, events) = traced(c);
    let placed = placements(&events);
    assert_eq!(placed[0].3.nodes_evaluated, 4);
    assert_eq!(placed[0].3.scores.len(), 4);
}

#[test]
fn binpack_fills_the_fuller_node_and_spread_the_emptier() {
    for (algorithm, expect_same) in [(Algorithm::Binpack, true), (Algorithm::Spread, false)] {
        let mut first = at_zero("first", Resources::new(2000, 4000, 0), 60);
        first.arrivals = Arrivals::At(vec![0]);
        let mut second = at_zero("second", Resources::new(1000, 1000, 0), 60);
        second.arrivals = Arrivals::At(vec![MINUTE_MS]);
        let mut c = config(
            3,
            MINUTE_MS * 2,
            vec![pool("linux", 2, 8000, 16_000)],
            vec![first, second],
        );
        c.algorithm = algorithm;
        let (_, events) = traced(c);
        let placed = placements(&events);
        assert_eq!(placed.len(), 2);
        assert_eq!(
            placed[0].2 == placed[1].2,
            expect_same,
            "{algorithm:?}: {placed:?}"
        );
    }
}

#[test]
fn skip_rule_sets_aside_a_node_scoring_at_or_below_zero() {
    // Three identical nodes, one job of count 2 with a tiny ask: the second Select continues the
    // scan at the third node, then meets the first alloc's node, whose anti-affinity makes its
    // score negative, so it is put aside and the next node is taken instead.
    let mut w = at_zero("pair", Resources::new(10, 10, 0), 60);
    w.count = 2;
    let c = config(4, MINUTE_MS, vec![pool("linux", 3, 8000, 16_000)], vec![w]);
    let (_, events) = traced(c);
    let placed = placements(&events);
    assert_eq!(placed.len(), 2);
    assert_ne!(placed[0].2, placed[1].2);
    let second = &placed[1].3;
    assert_eq!(second.nodes_evaluated, 3);
    assert_eq!(second.scores.len(), 2);
    assert!(second
        .scores
        .iter()
        .all(|s| s.scores.job_anti_affinity.is_none()));
}

#[test]
fn job_anti_affinity_is_scored_when_collisions_exist() {
    // One node: the second alloc of the job collides with the first.
    let mut w = at_zero("pair", Resources::new(1000, 1000, 0), 60);
    w.count = 2;
    let c = config(5, MINUTE_MS, vec![pool("linux", 1, 8000, 16_000)], vec![w]);
    let (_, events) = traced(c);
    let placed = placements(&events);
    let score = &placed[1].3.scores[0];
    assert_eq!(score.scores.job_anti_affinity, Some(-1.0));
    let expected = (score.scores.binpack - 1.0) / 2.0;
    assert!((score.norm_score - expected).abs() < 1e-12);
}

#[test]
fn constraints_filter_nodes_and_are_counted() {
    let mut gpu = pool("gpu", 2, 8000, 16_000);
    gpu.node_class = "gpu".to_string();
    let cpu = pool("cpu", 6, 8000, 16_000);
    let mut w = at_zero("train", Resources::new(1000, 1000, 0), 60);
    w.arrivals = Arrivals::At(vec![0; 4]);
    w.constraints = vec![Constraint::new("${node.class}", Operand::Eq, "gpu").unwrap()];
    let c = config(6, MINUTE_MS, vec![gpu, cpu], vec![w]);
    let (_, events) = traced(c);
    let placed = placements(&events);
    assert_eq!(placed.len(), 4);
    assert!(placed.iter().all(|p| p.2.starts_with("gpu-")));
    let filtered: u32 = placed.iter().map(|p| p.3.nodes_filtered).sum();
    let evaluated: u32 = placed.iter().map(|p| p.3.nodes_evaluated).sum();
    assert!(filtered > 0 && evaluated > filtered);
    // In each eval the first node of the cpu class is filtered by the constraint; the class
    // is then known ineligible, and its other nodes are filtered as such (Nomad's computed
    // class cache). Filtered nodes are also counted by class.
    for p in &placed {
        let m = &p.3;
        let by_constraint = m
            .constraint_filtered
            .iter()
            .find(|(r, _)| r == "${node.class} = gpu")
            .map_or(0, |x| x.1);
        let by_class = m
            .constraint_filtered
            .iter()
            .find(|(r, _)| r == "computed class ineligible")
            .map_or(0, |x| x.1);
        assert_eq!(by_constraint, u32::from(m.nodes_filtered > 0));
        assert_eq!(by_constraint + by_class, m.nodes_filtered);
        let pm = m.pool.as_ref().unwrap();
        assert_eq!(
            pm.class_filtered.get("linux-64bit").copied().unwrap_or(0),
            m.nodes_filtered
        );
        assert_eq!(pm.nodes_in_pool, 8);
        assert_eq!(pm.nodes_available.get("dc1"), Some(&8));
    }
    assert!(placed.iter().any(|p| p
        .3
        .constraint_filtered
        .iter()
        .any(|(r, _)| r == "computed class ineligible")));
}

#[test]
fn distinct_hosts_blocks_the_extra_alloc() {
    let mut w = at_zero("spread-out", Resources::new(100, 100, 0), 10);
    w.count = 4;
    w.distinct_hosts = true;
    let c = config(7, MINUTE_MS, vec![pool("linux", 3, 8000, 16_000)], vec![w]);
    let (sim, events) = traced(c);
    let placed = placements(&events);
    // Three at once on three nodes; the fourth waits until one of the job's allocs ends.
    let first: Vec<_> = placed.iter().filter(|p| p.0 == 0).collect();
    assert_eq!(first.len(), 3);
    let nodes: std::collections::BTreeSet<_> = first.iter().map(|p| p.2.clone()).collect();
    assert_eq!(nodes.len(), 3);
    let blocked = events.iter().find_map(|(t, e)| match e {
        TraceEvent::EvalBlocked { metrics, .. } => Some((*t, metrics.clone())),
        _ => None,
    });
    let (t, metrics) = blocked.expect("the fourth alloc blocks");
    assert_eq!(t, 0);
    assert_eq!(metrics.nodes_filtered, 3);
    assert_eq!(placed.len(), 4);
    assert_eq!(placed[3].0, 10 * MINUTE_MS);
    assert_eq!(sim.report().allocations.completed, 4);
}

#[test]
fn work_that_does_not_fit_waits_for_capacity() {
    // One node fits one alloc; three jobs arrive at once and run 10 minutes each.
    let mut w = at_zero("build", Resources::new(6000, 12_000, 0), 10);
    w.arrivals = Arrivals::At(vec![0, 0, 0]);
    let c = config(8, MINUTE_MS, vec![pool("linux", 1, 8000, 16_000)], vec![w]);
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run_until(5 * MINUTE_MS);
    let jobs: Vec<JobId> = sim.jobs().iter().map(|(id, _)| *id).collect();
    assert_eq!(sim.job_status(jobs[0]), JobStatus::Running);
    assert_eq!(sim.job_status(jobs[1]), JobStatus::Pending);
    assert_eq!(sim.job_status(jobs[2]), JobStatus::Pending);
    sim.run();
    assert_eq!(sim.job_status(jobs[2]), JobStatus::Dead);
    let events = sink.events();
    let placed = placements(&events);
    let times: Vec<u64> = placed.iter().map(|p| p.0).collect();
    assert_eq!(
        times,
        vec![0, 10 * MINUTE_MS, 20 * MINUTE_MS],
        "FIFO, as capacity frees"
    );
    let blocked = events
        .iter()
        .filter_map(|(_, e)| match e {
            TraceEvent::EvalBlocked { metrics, .. } => Some(metrics.clone()),
            _ => None,
        })
        .collect::<Vec<_>>();
    assert!(!blocked.is_empty());
    assert_eq!(blocked[0].nodes_exhausted, 1);
    assert_eq!(blocked[0].dimension_exhausted.cpu, 1);
    let r = sim.report();
    assert_eq!(r.pending_s.max, 1200.0);
    assert!((r.waited_fraction - 2.0 / 3.0).abs() < 1e-6);
}

#[test]
fn higher_priority_goes_first_when_capacity_frees() {
    let mut low = at_zero("low", Resources::new(6000, 12_000, 0), 10);
    low.arrivals = Arrivals::At(vec![0, 0]);
    let mut high = at_zero("high", Resources::new(6000, 12_000, 0), 10);
    high.arrivals = Arrivals::At(vec![MINUTE_MS]);
    high.priority = 80;
    let c = config(
        9,
        2 * MINUTE_MS,
        vec![pool("linux", 1, 8000, 16_000)],
        vec![low, high],
    );
    let (_, events) = traced(c);
    let order: Vec<String> = placements(&events).into_iter().map(|p| p.1).collect();
    assert_eq!(
        order,
        vec!["low-0.low[0]", "high-0.high[0]", "low-1.low[0]"]
    );
}

#[test]
fn many_blocked_evals_are_not_rerun_when_nothing_fits() {
    // A thousand small jobs queue behind one big running alloc; a completion that frees room
    // wakes only as many evals as can be placed, so the run stays cheap and FIFO.
    let mut big = at_zero("big", Resources::new(8000, 16_000, 0), 60);
    big.arrivals = Arrivals::At(vec![0]);
    let mut small = at_zero("small", Resources::new(4000, 8000, 0), 1);
    small.arrivals = Arrivals::At(vec![MINUTE_MS; 1000]);
    let c = config(
        10,
        2 * MINUTE_MS,
        vec![pool("linux", 1, 8000, 16_000)],
        vec![big, small],
    );
    let (sim, events) = traced(c);
    let unblocked = events
        .iter()
        .filter(|(_, e)| matches!(e, TraceEvent::EvalUnblocked { .. }))
        .count();
    // Each completion frees room for exactly one small alloc (the node holds two): about 1000 wakes.
    assert!(unblocked <= 1002, "{unblocked} wakes");
    assert_eq!(sim.report().allocations.completed, 1001);
    let p = placements(&events);
    let mut last = 0;
    for (_, name, _, _) in p.iter().filter(|p| p.1.starts_with("small")) {
        let n: u32 = name["small-".len()..name.find('.').unwrap()]
            .parse()
            .unwrap();
        assert!(n >= last, "small jobs run in submission order");
        last = n;
    }
}

#[test]
fn a_simulation_driven_from_outside_registers_jobs_and_drains_nodes() {
    // No workload arrives by itself; a job is registered at 1m, then its node is drained.
    let c = config(3, HOUR_MS, vec![pool("linux", 2, 8000, 16_000)], vec![]);
    let mut sim = Simulation::new(c);
    sim.run_until(MINUTE_MS);
    let w = sim.add_workload(at_zero("api", Resources::new(1000, 1000, 0), 30));
    assert!(sim.submit(w));
    let (job, j) = sim.jobs()[0];
    assert_eq!((j.live, j.submit_ms), (1, MINUTE_MS), "placed at once");
    let node = sim.allocs()[0].1.node;
    let name = sim.node_name(node).to_string();
    sim.apply(Action::NodeDrain {
        target: NodeTarget::Names(vec![name]),
        spec: DrainSpec {
            deadline: DrainDeadline::Force,
            ignore_system: false,
        },
    });
    assert_eq!(sim.report().allocations.stopped, 1);
    // Since Nomad 1.10.6 a batch alloc stopped by a forced drain is not replaced.
    assert_eq!(sim.job_status(job), JobStatus::Dead);
    assert_eq!(sim.report().allocations.placed, 1);
    assert!(!sim.nodes()[node.index()].events.is_empty());
}

#[test]
fn options_put_aside_are_returned_only_up_to_the_limit() {
    // Spread scheduling; the ask fills a whole node, so every node scores (10^0 + 10^0) - 2
    // = 0 and Nomad's limit iterator puts each aside (score <= 0, at most 3). The 3 nodes
    // run out with nothing returned; the put-aside options are then returned up to the
    // batch limit of 2: 3 nodes evaluated, 2 ranked.
    let mut c = config(
        2,
        HOUR_MS,
        vec![pool("a", 3, 4000, 4000)],
        vec![at_zero("full", Resources::new(4000, 4000, 0), 10)],
    );
    c.algorithm = Algorithm::Spread;
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run_until(MINUTE_MS);
    let placed: Vec<AllocMetric> = sink
        .events()
        .into_iter()
        .filter_map(|(_, e)| match e {
            TraceEvent::AllocPlaced { metrics, .. } => Some(metrics),
            _ => None,
        })
        .collect();
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0].nodes_evaluated, 3);
    assert_eq!(placed[0].scores.len(), 2);
    assert!(placed[0].scores.iter().all(|s| s.norm_score == 0.0));
}
