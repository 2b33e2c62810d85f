//! Spread blocks as Nomad's spread iterator scores them: percent targets, the implicit even
//! spread, the `allocation-spread` score, and the raised candidate limit.

use std::collections::BTreeMap;

use proptest::prelude::*;

use nomad_sim_core::config::{
    Arrivals, DurationDist, JobType, PoolConfig, SimConfig, Spread, SpreadTarget, WorkloadConfig,
};
use nomad_sim_core::placement::{even_spread_boost, AllocMetric, BINPACK_MAX_FIT_SCORE};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

fn rack(name: &str, count: u32, rack: &str) -> PoolConfig {
    let mut p = pool(name, count, 100_000, 100_000);
    p.meta.insert("rack".to_string(), rack.to_string());
    p
}

fn in_dc(name: &str, count: u32, dc: &str) -> PoolConfig {
    let mut p = pool(name, count, 100_000, 100_000);
    p.datacenter = dc.to_string();
    p
}

fn service(count: u32, ask: Resources, spreads: Vec<Spread>) -> WorkloadConfig {
    let mut w = batch_workload(
        "web",
        Arrivals::At(vec![0]),
        ask,
        DurationDist::Constant(HOUR_MS),
    );
    w.job_type = JobType::Service;
    w.count = count;
    w.spreads = spreads;
    w
}

fn spread(attribute: &str, weight: u8, targets: &[(&str, u8)]) -> Spread {
    Spread {
        attribute: attribute.to_string(),
        weight,
        targets: targets
            .iter()
            .map(|(v, p)| SpreadTarget {
                value: v.to_string(),
                percent: *p,
            })
            .collect(),
    }
}

fn traced(c: SimConfig) -> (Simulation, Vec<(u64, TraceEvent)>) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run_until(MINUTE_MS);
    let events = sink.events();
    (sim, events)
}

fn placements(events: &[(u64, TraceEvent)]) -> Vec<(String, AllocMetric)> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            TraceEvent::AllocPlaced { node, metrics, .. } => Some((node.clone(), metrics.clone())),
            _ => None,
        })
        .collect()
}

/// Placed allocs per pool (nodes are named `<pool>-<i>`).
fn per_pool(events: &[(u64, TraceEvent)]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (node, _) in placements(events) {
        let pool = node.rsplit_once('-').unwrap().0.to_string();
        *out.entry(pool).or_insert(0) += 1;
    }
    out
}

#[test]
fn seventy_thirty_over_two_racks_lands_seven_and_three() {
    // Worked by hand from Nomad's formula boost = (desired - (used + 1)) / desired: the r1
    // boosts are 6/7, 5/7, ... and the r2 boosts 2/3, 1/3, ..., so the 10 placements go to
    // the rack with the larger boost: r1 r1 r2 r1 r1 r2 r1 r1, then both reach 0 (no spread
    // score) and the last two go one each way: 7 on r1, 3 on r2, whatever the shuffle.
    for seed in 1..=8 {
        let c = config(
            seed,
            HOUR_MS,
            vec![rack("r1", 10, "r1"), rack("r2", 10, "r2")],
            vec![service(
                10,
                Resources::new(100, 100, 0),
                vec![spread("${meta.rack}", 50, &[("r1", 70), ("r2", 30)])],
            )],
        );
        let (_, events) = traced(c);
        let counts = per_pool(&events);
        assert_eq!(counts.get("r1"), Some(&7), "seed {seed}: {counts:?}");
        assert_eq!(counts.get("r2"), Some(&3), "seed {seed}: {counts:?}");
    }
}

#[test]
fn without_spread_the_racks_are_not_seven_and_three_every_time() {
    // The same job without its spread block: binpack and job anti-affinity alone do not
    // follow the racks (the issue saw 4/6).
    let mut splits = Vec::new();
    for seed in 1..=8 {
        let c = config(
            seed,
            HOUR_MS,
            vec![rack("r1", 10, "r1"), rack("r2", 10, "r2")],
            vec![service(10, Resources::new(100, 100, 0), Vec::new())],
        );
        let (_, events) = traced(c);
        splits.push(per_pool(&events).get("r1").copied().unwrap_or(0));
    }
    assert!(splits.iter().any(|&n| n != 7), "{splits:?}");
}

#[test]
fn even_spread_over_three_datacenters_lands_three_each() {
    // No targets: Nomad's even spread. The first alloc scores 0 everywhere (nothing placed);
    // then a datacenter without allocs gets +1 and one at the minimum when all are equal -1,
    // so the nine allocs go round the three datacenters.
    for seed in 1..=8 {
        let c = config(
            seed,
            HOUR_MS,
            vec![
                in_dc("a", 5, "dc1"),
                in_dc("b", 5, "dc2"),
                in_dc("c", 5, "dc3"),
            ],
            vec![service(
                9,
                Resources::new(100, 100, 0),
                vec![spread("${node.datacenter}", 50, &[])],
            )],
        );
        let (_, events) = traced(c);
        let counts = per_pool(&events);
        assert_eq!(
            counts.values().copied().collect::<Vec<_>>(),
            vec![3, 3, 3],
            "seed {seed}: {counts:?}"
        );
    }
}

#[test]
fn even_spread_boost_follows_nomad_cases() {
    // Nothing placed yet: 0.
    assert_eq!(even_spread_boost(0, &[]), 0.0);
    // A value without allocs while others have some: the full boost.
    assert_eq!(even_spread_boost(0, &[1, 1]), 1.0);
    // Every value at the minimum, all equal: the full penalty.
    assert_eq!(even_spread_boost(2, &[2, 2, 2]), -1.0);
    // Above the minimum: (min - current) / min.
    assert_eq!(even_spread_boost(3, &[1, 3]), -2.0);
    // At the minimum below the maximum: (max - min) / min.
    assert_eq!(even_spread_boost(2, &[2, 5]), 1.5);
}

#[test]
fn spread_scores_are_in_the_metrics_with_exact_values() {
    // One node per rack, count 10, targets 70/30: the first placement scores r1 with
    // (7 - 1) / 7 and r2 with (3 - 1) / 3, both weighted by 50 / 50.
    let c = config(
        3,
        HOUR_MS,
        vec![rack("r1", 1, "r1"), rack("r2", 1, "r2")],
        vec![service(
            10,
            Resources::new(10_000, 10_000, 0),
            vec![spread("${meta.rack}", 50, &[("r1", 70), ("r2", 30)])],
        )],
    );
    let (_, events) = traced(c);
    let placed = placements(&events);
    let (node, m) = &placed[0];
    assert_eq!(node, "r1-0");
    assert_eq!(
        m.scores.len(),
        2,
        "the limit is raised to 100: both nodes scored"
    );
    let binpack = (20.0 - 2.0 * 10f64.powf(0.9)) / BINPACK_MAX_FIT_SCORE;
    for s in &m.scores {
        let spread = if s.node == "r1-0" {
            6.0 / 7.0
        } else {
            2.0 / 3.0
        };
        assert!((s.scores.binpack - binpack).abs() < 1e-12);
        assert_eq!(s.scores.allocation_spread, Some(spread), "{}", s.node);
        assert_eq!(s.scores.node_affinity, None);
        assert!((s.norm_score - (binpack + spread) / 2.0).abs() < 1e-12);
    }
    let json = serde_json::to_value(&m.scores[0]).unwrap();
    assert!(json["scores"]["allocation-spread"].is_number(), "{json}");
    assert!(json["scores"].get("node-affinity").is_none(), "{json}");
    // The second placement on r1 finds one alloc there: (7 - 2) / 7, and job anti-affinity.
    let (_, m2) = &placed[1];
    let r1 = m2.scores.iter().find(|s| s.node == "r1-0").unwrap();
    assert_eq!(r1.scores.allocation_spread, Some(5.0 / 7.0));
    assert_eq!(r1.scores.job_anti_affinity, Some(-0.2));
}

#[test]
fn two_spreads_are_weighted_by_their_share_of_the_weights() {
    // Spreads on rack (weight 75, 50/50) and on datacenter (weight 25, all in dc1): on the
    // first placement each node's score is (1 - 1/5) * 75/100 + (10 - 1)/10 * 25/100.
    let c = config(
        5,
        HOUR_MS,
        vec![rack("r1", 1, "r1"), rack("r2", 1, "r2")],
        vec![service(
            10,
            Resources::new(100, 100, 0),
            vec![
                spread("${meta.rack}", 75, &[("r1", 50), ("r2", 50)]),
                spread("${node.datacenter}", 25, &[("dc1", 100)]),
            ],
        )],
    );
    let (_, events) = traced(c);
    let (_, m) = &placements(&events)[0];
    let want = ((5.0 - 1.0) / 5.0) * (75.0 / 100.0) + ((10.0 - 1.0) / 10.0) * (25.0 / 100.0);
    for s in &m.scores {
        assert_eq!(s.scores.allocation_spread, Some(want), "{}", s.node);
    }
}

#[test]
fn a_value_without_a_target_is_penalised_and_a_missing_attribute_too() {
    // Targets name only r1 at 100 %: a node of r2 has no target and no implicit one (-1), and a
    // node without the attribute scores -1 as well.
    let mut bare = pool("bare", 1, 100_000, 100_000);
    bare.meta.clear();
    let c = config(
        2,
        HOUR_MS,
        vec![rack("r1", 1, "r1"), rack("r2", 1, "r2"), bare],
        vec![service(
            2,
            Resources::new(100, 100, 0),
            vec![spread("${meta.rack}", 50, &[("r1", 100)])],
        )],
    );
    let (_, events) = traced(c);
    let (node, m) = &placements(&events)[0];
    assert_eq!(node, "r1-0");
    for s in &m.scores {
        let want = if s.node == "r1-0" { 0.5 } else { -1.0 };
        assert_eq!(s.scores.allocation_spread, Some(want), "{}", s.node);
    }
}

#[test]
fn spread_jobs_are_scored_over_more_than_two_nodes() {
    // A batch job scores 2 nodes; with a spread block Nomad raises the limit to
    // max(count, 100), so all 30 nodes are scored.
    let mut w = service(
        1,
        Resources::new(100, 100, 0),
        vec![spread("${node.datacenter}", 50, &[])],
    );
    w.job_type = JobType::Batch;
    let c = config(9, HOUR_MS, vec![pool("p", 30, 10_000, 10_000)], vec![w]);
    let (_, events) = traced(c);
    let (_, m) = &placements(&events)[0];
    assert_eq!(m.nodes_evaluated, 30);
    assert_eq!(m.scores.len(), 30);
}

proptest! {
    #![proptest_config(nomad_sim_core::testing::proptest_config(24))]

    /// With room on both racks, the placed counts meet the targets: each rack gets its
    /// desired count rounded down or up.
    #[test]
    fn spread_targets_are_met_when_capacity_allows(
        percent in 0u8..=100,
        count in 1u32..=12,
        seed in 0u64..1000,
    ) {
        let c = config(
            seed,
            HOUR_MS,
            vec![rack("r1", 12, "r1"), rack("r2", 12, "r2")],
            vec![service(
                count,
                Resources::new(1, 1, 0),
                vec![spread("${meta.rack}", 50, &[("r1", percent), ("r2", 100 - percent)])],
            )],
        );
        let (sim, events) = traced(c);
        prop_assert!(nomad_sim_core::invariants::state_violations(&sim).is_empty());
        let counts = per_pool(&events);
        let total: usize = counts.values().sum();
        prop_assert_eq!(total, count as usize);
        for (rack, pct) in [("r1", percent), ("r2", 100 - percent)] {
            let desired = f64::from(pct) / 100.0 * f64::from(count);
            let got = counts.get(rack).copied().unwrap_or(0) as f64;
            prop_assert!(
                got >= desired.floor() - 1e-9 && got <= desired.ceil() + 1e-9,
                "{rack}: {got} placed, {desired} desired ({counts:?})"
            );
        }
    }
}

#[test]
fn a_zero_percent_target_scores_the_evals_lowest_boost_starting_at_minus_one() {
    // Targets r1 100 %, r2 0 %, count 2, one node per rack. Nomad's spread iterator scores a
    // value whose desired count is 0 with the lowest boost seen in the eval, which starts at
    // -1; r1's boost (2 - 1) / 2 = 0.5 is not lower, so r2 scores -1 whichever node is
    // scored first.
    let c = config(
        5,
        HOUR_MS,
        vec![rack("r1", 1, "r1"), rack("r2", 1, "r2")],
        vec![service(
            2,
            Resources::new(10_000, 10_000, 0),
            vec![spread("${meta.rack}", 50, &[("r1", 100), ("r2", 0)])],
        )],
    );
    let (_, events) = traced(c);
    let placed = placements(&events);
    let (node, m) = &placed[0];
    assert_eq!(node, "r1-0");
    let score = |n: &str| {
        m.scores
            .iter()
            .find(|s| s.node == n)
            .unwrap()
            .scores
            .allocation_spread
    };
    assert_eq!(score("r1-0"), Some(0.5));
    assert_eq!(score("r2-0"), Some(-1.0));
}
