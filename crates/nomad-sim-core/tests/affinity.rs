//! Affinities as Nomad's node affinity iterator scores them: weights (negative too), the
//! constraint operators, the `node-affinity` score, and the raised candidate limit.

use std::collections::BTreeMap;

use nomad_sim_core::config::{
    Affinity, Arrivals, DurationDist, JobType, SimConfig, WorkloadConfig,
};
use nomad_sim_core::constraint::Constraint;
use nomad_sim_core::placement::{AllocMetric, BINPACK_MAX_FIT_SCORE};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

fn affinity(attribute: &str, operator: &str, value: &str, weight: i8) -> Affinity {
    Affinity {
        constraint: Constraint::spelled(attribute, operator, value).unwrap(),
        weight,
    }
}

fn job(job_type: JobType, count: u32, affinities: Vec<Affinity>) -> WorkloadConfig {
    let mut w = batch_workload(
        "app",
        Arrivals::At(vec![0]),
        Resources::new(500, 500, 0),
        DurationDist::Constant(HOUR_MS),
    );
    w.job_type = job_type;
    w.count = count;
    w.affinities = affinities;
    w
}

fn classed(name: &str, count: u32, class: &str) -> nomad_sim_core::config::PoolConfig {
    let mut p = pool(name, count, 8000, 8000);
    p.node_class = class.to_string();
    p
}

fn traced(c: SimConfig) -> Vec<(String, AllocMetric)> {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run_until(MINUTE_MS);
    sink.events()
        .into_iter()
        .filter_map(|(_, e)| match e {
            TraceEvent::AllocPlaced { node, metrics, .. } => Some((node, metrics)),
            _ => None,
        })
        .collect()
}

fn per_pool(placed: &[(String, AllocMetric)]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (node, _) in placed {
        *out.entry(node.rsplit_once('-').unwrap().0.to_string())
            .or_insert(0) += 1;
    }
    out
}

#[test]
fn weight_100_to_a_class_puts_every_alloc_on_the_preferred_nodes() {
    // 4 preferred nodes among 40: a preferred node scores (binpack + 1) / 2, any other
    // (binpack + 0) / 2, and with the limit raised to 100 every node is scored, so all four
    // allocs of the batch job land on preferred nodes (a batch job scores 2 nodes without it).
    for seed in 1..=8 {
        let c = config(
            seed,
            HOUR_MS,
            vec![classed("fast", 4, "fast"), classed("slow", 36, "slow")],
            vec![job(
                JobType::Batch,
                4,
                vec![affinity("${node.class}", "=", "fast", 100)],
            )],
        );
        let placed = traced(c);
        assert_eq!(
            per_pool(&placed).get("fast"),
            Some(&4),
            "seed {seed}: {:?}",
            per_pool(&placed)
        );
    }
}

#[test]
fn a_negative_affinity_avoids_the_nodes() {
    for seed in 1..=8 {
        let c = config(
            seed,
            HOUR_MS,
            vec![
                classed("spot", 10, "spot"),
                classed("ondemand", 4, "ondemand"),
            ],
            vec![job(
                JobType::Service,
                4,
                vec![affinity("${node.class}", "=", "spot", -50)],
            )],
        );
        let placed = traced(c);
        let counts = per_pool(&placed);
        assert_eq!(counts.get("spot"), None, "seed {seed}: {counts:?}");
        assert_eq!(counts.get("ondemand"), Some(&4), "seed {seed}: {counts:?}");
    }
}

#[test]
fn node_affinity_score_is_matched_weights_over_absolute_weights() {
    // Two affinities, weights 50 and -25 (sum of absolute weights 75). A node of class fast in
    // rack r1 matches both: (50 - 25) / 75; a slow node matches neither and scores 0, which
    // Nomad still appends (so it halves the binpack score).
    let mut fast = classed("fast", 1, "fast");
    fast.meta.insert("rack".to_string(), "r1".to_string());
    let slow = classed("slow", 1, "slow");
    let c = config(
        4,
        HOUR_MS,
        vec![fast, slow],
        vec![job(
            JobType::Batch,
            1,
            vec![
                affinity("${node.class}", "=", "fast", 50),
                affinity("${meta.rack}", "regexp", "^r[0-9]$", -25),
            ],
        )],
    );
    let placed = traced(c);
    let (node, m) = &placed[0];
    assert_eq!(node, "fast-0");
    assert_eq!(m.scores.len(), 2);
    let binpack = (20.0 - 2.0 * 10f64.powf(1.0 - 500.0 / 8000.0)) / BINPACK_MAX_FIT_SCORE;
    for s in &m.scores {
        let want = if s.node == "fast-0" { 25.0 / 75.0 } else { 0.0 };
        assert_eq!(s.scores.node_affinity, Some(want), "{}", s.node);
        assert_eq!(s.scores.allocation_spread, None);
        assert!((s.scores.binpack - binpack).abs() < 1e-12);
        assert!((s.norm_score - (binpack + want) / 2.0).abs() < 1e-12);
    }
    let slow = m.scores.iter().find(|s| s.node == "slow-0").unwrap();
    let json = serde_json::to_value(slow).unwrap();
    assert_eq!(
        json["scores"]["node-affinity"],
        serde_json::json!(0.0),
        "{json}"
    );
}

#[test]
fn affinity_operators_follow_constraints() {
    // A numeric comparison on an attribute and set_contains_any on meta pick the node.
    let mut big = classed("big", 1, "c");
    big.attributes
        .insert("cpu.numcores".to_string(), "32".to_string());
    big.meta
        .insert("features".to_string(), "ssd,gpu".to_string());
    let mut small = classed("small", 1, "c");
    small
        .attributes
        .insert("cpu.numcores".to_string(), "8".to_string());
    let c = config(
        6,
        HOUR_MS,
        vec![small, big],
        vec![job(
            JobType::Batch,
            1,
            vec![
                affinity("${attr.cpu.numcores}", ">=", "16", 30),
                affinity("${meta.features}", "set_contains_any", "gpu,fpga", 30),
            ],
        )],
    );
    let placed = traced(c);
    assert_eq!(placed[0].0, "big-0");
    let big_score = placed[0]
        .1
        .scores
        .iter()
        .find(|s| s.node == "big-0")
        .unwrap();
    assert_eq!(big_score.scores.node_affinity, Some(1.0));
}

#[test]
fn affinity_version_operator_compares_versions() {
    let mut new = classed("new", 1, "c");
    new.attributes
        .insert("kernel.version".to_string(), "6.1.0".to_string());
    let mut old = classed("old", 1, "c");
    old.attributes
        .insert("kernel.version".to_string(), "5.15.2".to_string());
    let c = config(
        7,
        HOUR_MS,
        vec![new, old],
        vec![job(
            JobType::Batch,
            1,
            vec![affinity(
                "${attr.kernel.version}",
                "version",
                ">= 5.16, < 7",
                80,
            )],
        )],
    );
    let placed = traced(c);
    assert_eq!(placed[0].0, "new-0");
    for s in &placed[0].1.scores {
        let want = if s.node == "new-0" { 1.0 } else { 0.0 };
        assert_eq!(s.scores.node_affinity, Some(want), "{}", s.node);
    }
}

#[test]
fn jobs_without_affinity_carry_no_node_affinity_score() {
    let c = config(
        8,
        HOUR_MS,
        vec![classed("p", 4, "c")],
        vec![job(JobType::Batch, 1, Vec::new())],
    );
    let placed = traced(c);
    let m = &placed[0].1;
    assert_eq!(m.scores.len(), 2, "the batch limit stays 2");
    assert!(m.scores.iter().all(|s| s.scores.node_affinity.is_none()));
}
