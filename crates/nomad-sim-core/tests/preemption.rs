//! Preemption as Nomad's scheduler does it (issue 11): the priority delta, the choice of victims
//! by distance, the superset filter, the preemption score, evicted allocs and their evals.

use nomad_sim_core::config::{Arrivals, DurationDist, SimConfig, WorkloadConfig};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::model::{ClientStatus, DesiredStatus, EndReason, Trigger};
use nomad_sim_core::preempt::{self, Candidate};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{JobType, Resources, Simulation};
use proptest::prelude::*;

fn batch(name: &str, at_ms: u64, cpu: u64, mem: u64, minutes: u64, priority: u8) -> WorkloadConfig {
    let mut w = batch_workload(
        name,
        Arrivals::At(vec![at_ms]),
        Resources::new(cpu, mem, 0),
        DurationDist::Constant(minutes * MINUTE_MS),
    );
    w.priority = priority;
    w
}

fn system(name: &str, at_ms: u64, cpu: u64, mem: u64, priority: u8) -> WorkloadConfig {
    let mut w = batch(name, at_ms, cpu, mem, 600, priority);
    w.job_type = JobType::System;
    w
}

/// One node of 4000 MHz / 4000 MB, filled at 0 by four priority-50 batch allocs:
/// a 1000/1000, b 2000/500 (ends at 30m), c 500/2000, d 500/500. Nothing is free.
fn full_node(extra: WorkloadConfig) -> SimConfig {
    config(
        3,
        HOUR_MS,
        vec![pool("n", 1, 4000, 4000)],
        vec![
            batch("a", 0, 1000, 1000, 120, 50),
            batch("b", 0, 2000, 500, 30, 50),
            batch("c", 0, 500, 2000, 120, 50),
            batch("d", 0, 500, 500, 120, 50),
            extra,
        ],
    )
}

fn start(c: SimConfig) -> (Simulation, SharedSink) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    (sim, sink)
}

/// The allocs of the job named `name`: (client status, desired status, end reason).
fn allocs_of(
    sim: &Simulation,
    name: &str,
) -> Vec<(ClientStatus, DesiredStatus, Option<EndReason>)> {
    sim.allocs()
        .into_iter()
        .filter(|(_, a)| sim.job_name(a.job) == name)
        .map(|(_, a)| (a.client(), a.desired, a.end_reason()))
        .collect()
}

fn preempted_jobs(events: &[(u64, TraceEvent)]) -> Vec<(u64, String)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocStopped { job, reason, .. } if reason == "preempted" => {
                Some((*t, job.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The priority-70 system job asks 1500/1500 at 1m; all four allocs (priority 50, delta 20)
/// are candidates, in one priority group. Distances from the ask (cpu, mem; disk asks 0):
///
/// round 1, needed (1500, 1500):
///   a: ((1500-1000)/1500, (1500-1000)/1500) = (1/3, 1/3)   -> sqrt(2/9) = 0.471
///   b: ((1500-2000)/1500, (1500-500)/1500)  = (-1/3, 2/3)  -> sqrt(5/9) = 0.745
///   c: ((1500-500)/1500, (1500-2000)/1500)  = (2/3, -1/3)  -> 0.745
///   d: ((1500-500)/1500, (1500-500)/1500)   = (2/3, 2/3)   -> sqrt(8/9) = 0.943
///   a is closest; freed (1000, 1000) does not cover (1500, 1500). Needed becomes (500, 500).
/// round 2, needed (500, 500):
///   b: ((500-2000)/500, (500-500)/500) = (-3, 0) -> 3
///   c: (0, -3)                                    -> 3
///   d: ((500-500)/500, (500-500)/500) = (0, 0)    -> 0
///   d is closest; freed (1500, 1500) covers the ask.
/// The superset filter sorts {a, d} by distance from the whole ask, descending: d (0.943),
/// then a (0.471); d alone frees (500, 500), d and a free (1500, 1500): both stay.
/// So a and d are evicted (two allocs; no single alloc frees 1500/1500), b and c keep running.
#[test]
fn a_system_job_evicts_the_fewest_closest_fit_lower_priority_allocs() {
    let (mut sim, sink) = start(full_node(system("sys", MINUTE_MS, 1500, 1500, 70)));
    sim.run_until(2 * MINUTE_MS);
    let events = sink.events();
    assert_eq!(
        preempted_jobs(&events),
        vec![
            (MINUTE_MS, "d-0".to_string()),
            (MINUTE_MS, "a-0".to_string())
        ],
        "d first: Nomad's PreemptedAllocations order is the superset filter's"
    );
    for name in ["a-0", "d-0"] {
        assert_eq!(
            allocs_of(&sim, name)[0],
            (
                ClientStatus::Complete,
                DesiredStatus::Evict,
                Some(EndReason::Preempted)
            ),
            "{name}"
        );
    }
    for name in ["b-0", "c-0"] {
        assert_eq!(allocs_of(&sim, name)[0].0, ClientStatus::Running, "{name}");
    }
    // The system alloc runs and names its victims; each victim names it.
    let (sys_id, sys) = sim
        .allocs()
        .into_iter()
        .find(|(_, a)| sim.job_name(a.job) == "sys-0")
        .expect("the system alloc was placed");
    assert_eq!(sys.client(), ClientStatus::Running);
    let victims: Vec<String> = sim
        .preempted_allocations(sys_id)
        .iter()
        .map(|&s| sim.alloc_uuid_of_serial(s))
        .collect();
    let uuid_of = |name: &str| {
        let (id, _) = sim
            .allocs()
            .into_iter()
            .find(|(_, a)| sim.job_name(a.job) == name)
            .expect("placed");
        sim.alloc_uuid(id)
    };
    assert_eq!(victims, vec![uuid_of("d-0"), uuid_of("a-0")]);
    for (id, a) in sim.allocs() {
        let name = sim.job_name(a.job);
        let expected = (name == "a-0" || name == "d-0").then_some(sys.serial());
        assert_eq!(sim.preempted_by(id), expected, "{name}");
    }
    assert_eq!(
        sim.desired_description(
            sim.allocs()
                .into_iter()
                .find(|(_, a)| sim.job_name(a.job) == "a-0")
                .expect("a")
                .0
        ),
        format!("Preempted by alloc ID {}", sim.alloc_uuid(sys_id))
    );
    assert_eq!(sim.report().allocations.preempted, 2);
    assert_eq!(state_violations(&sim), Vec::<String>::new());
}

/// The victims' jobs get an eval with trigger `preemption`; the node is full (b, c and the
/// system alloc use 4000/4000), so the replacements block. When b ends at 30m it frees
/// 2000/500: d (500/500) fits and is placed again; a (1000/1000) does not (500 MB free) and
/// waits until c ends at 120m frees 500/2000 next to the 1500/0 left.
#[test]
fn a_preempted_batch_alloc_gets_a_preemption_eval_and_is_placed_again() {
    let (mut sim, sink) = start(full_node(system("sys", MINUTE_MS, 1500, 1500, 70)));
    sim.run_until(5 * MINUTE_MS);
    for name in ["a-0", "d-0"] {
        let triggers: Vec<Trigger> = sim
            .evals()
            .into_iter()
            .filter(|(_, e)| sim.job_name(e.job) == name)
            .map(|(_, e)| e.trigger)
            .collect();
        assert!(
            triggers.contains(&Trigger::Preemption),
            "{name}: {triggers:?}"
        );
    }
    sim.run();
    let events = sink.events();
    assert_eq!(trace_violations(&sim, &events), Vec::<String>::new());
    let placed: Vec<(u64, String)> = events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced { job, .. } if *t > 0 => Some((*t, job.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        placed,
        vec![
            (MINUTE_MS, "sys-0".to_string()),
            (30 * MINUTE_MS, "d-0".to_string()),
            (120 * MINUTE_MS, "a-0".to_string()),
        ]
    );
    assert_eq!(Trigger::Preemption.as_str(), "preemption");
}

#[test]
fn a_priority_delta_under_ten_does_not_preempt_and_the_system_alloc_waits() {
    let (mut sim, sink) = start(full_node(system("sys", MINUTE_MS, 1500, 1500, 55)));
    sim.run_until(10 * MINUTE_MS);
    assert_eq!(preempted_jobs(&sink.events()), vec![]);
    assert!(
        allocs_of(&sim, "sys-0").is_empty(),
        "the system alloc waits"
    );
    assert_eq!(sim.report().allocations.preempted, 0);
    // b ends at 30m and frees 2000/500: still short of 1500 MB, the system job keeps waiting.
    sim.run_until(35 * MINUTE_MS);
    assert!(allocs_of(&sim, "sys-0").is_empty());
}

#[test]
fn system_preemption_can_be_turned_off() {
    let mut c = full_node(system("sys", MINUTE_MS, 1500, 1500, 70));
    c.scheduler.preemption.system = false;
    let (mut sim, sink) = start(c);
    sim.run_until(10 * MINUTE_MS);
    assert_eq!(preempted_jobs(&sink.events()), vec![]);
    assert!(allocs_of(&sim, "sys-0").is_empty());
}

/// Runs the full node with `extra` (named `job`) twice: as Nomad's defaults leave it, where it
/// waits, and with `switch` turning its job type's preemption on, where it evicts a and d.
fn off_by_default_on_when_switched(
    extra: WorkloadConfig,
    job: &str,
    switch: impl Fn(&mut nomad_sim_core::config::PreemptionConfig),
) {
    let (mut sim, sink) = start(full_node(extra.clone()));
    sim.run_until(10 * MINUTE_MS);
    assert_eq!(preempted_jobs(&sink.events()), vec![]);
    assert!(allocs_of(&sim, job).is_empty(), "{job} waits");

    let mut c = full_node(extra);
    switch(&mut c.scheduler.preemption);
    let (mut sim, sink) = start(c);
    sim.run_until(10 * MINUTE_MS);
    assert_eq!(
        preempted_jobs(&sink.events()),
        vec![
            (MINUTE_MS, "d-0".to_string()),
            (MINUTE_MS, "a-0".to_string())
        ]
    );
    assert_eq!(allocs_of(&sim, job)[0].0, ClientStatus::Running);
    assert_eq!(state_violations(&sim), Vec::<String>::new());
}

/// A priority-90 batch job asking 1500/1500 at 1m: Nomad's default leaves batch preemption
/// off, so it blocks; with `preemption.batch` on it evicts a and d as the system job does.
#[test]
fn batch_preemption_is_off_by_default_and_works_when_on() {
    off_by_default_on_when_switched(batch("hi", MINUTE_MS, 1500, 1500, 10, 90), "hi-0", |p| {
        p.batch = true
    });
}

/// Two full nodes: p-0 runs two priority-20 allocs of 2000/2000, q-0 two priority-40 ones. A
/// priority-90 batch job (batch preemption on) asks 2000/2000; on either node one alloc is
/// enough (distance 0). Both nodes are ranked (batch limit 2). Binpack fitness is taken with
/// the victims still counted, as Nomad's AllocsFit does (over-full, clamped to 18: 1.0).
/// Preemption score: net priority = max + sum/max; p-0: 20 + 20/20 = 21, q-0: 40 + 40/40 = 41;
/// score = 1/(1 + e^{0.0048 (net - 2048)}): p-0 0.999940, q-0 0.999934. The lower net priority
/// wins whatever the shuffle: for every seed the victim is a priority-20 alloc.
/// One 4000/4000 node named `<name>-0` in Nomad node pool `name`.
fn in_node_pool(name: &str) -> nomad_sim_core::config::PoolConfig {
    let mut p = pool(name, 1, 4000, 4000);
    p.node_pool = name.to_string();
    p
}

#[test]
fn the_preemption_score_prefers_the_node_with_the_lower_net_priority() {
    for seed in 1..=8 {
        let mut low = batch("low", 0, 2000, 2000, 120, 20);
        low.count = 2;
        low.node_pool = Some("p".to_string());
        let mut mid = batch("mid", 0, 2000, 2000, 120, 40);
        mid.count = 2;
        mid.node_pool = Some("q".to_string());
        let mut c = config(
            seed,
            HOUR_MS,
            vec![in_node_pool("p"), in_node_pool("q")],
            vec![low, mid, batch("hi", MINUTE_MS, 2000, 2000, 10, 90)],
        );
        c.scheduler.preemption.batch = true;
        let (mut sim, sink) = start(c);
        sim.run_until(2 * MINUTE_MS);
        assert_eq!(
            preempted_jobs(&sink.events()),
            vec![(MINUTE_MS, "low-0".to_string())],
            "seed {seed}"
        );
    }
    let n21 = preempt::preemption_score(preempt::net_priority(&[20]));
    let n41 = preempt::preemption_score(preempt::net_priority(&[40]));
    assert!((preempt::net_priority(&[20]) - 21.0).abs() < 1e-12);
    assert!((preempt::net_priority(&[40, 20]) - (40.0 + 60.0 / 40.0)).abs() < 1e-12);
    assert!((n21 - 1.0 / (1.0 + (0.0048f64 * (21.0 - 2048.0)).exp())).abs() < 1e-15);
    assert!(n21 > n41);
    assert!((preempt::preemption_score(2048.0) - 0.5).abs() < 1e-15);
}

fn cand(priority: u8, cpu: u64, mem: u64) -> Candidate {
    Candidate {
        priority,
        resources: Resources::new(cpu, mem, 0),
        max_parallel: 0,
        preempted: 0,
    }
}

/// The hand-worked case above, through the pure function: victims d then a.
#[test]
fn victims_follow_nomads_distance_and_superset_filter() {
    let cands = [
        cand(50, 1000, 1000),
        cand(50, 2000, 500),
        cand(50, 500, 2000),
        cand(50, 500, 500),
    ];
    let v = preempt::select_victims(
        70,
        Resources::default(),
        Resources::new(1500, 1500, 0),
        &cands,
    );
    assert_eq!(v, Some(vec![3, 0]));
    // Within 10 of the preemptor: nothing to evict.
    assert_eq!(
        preempt::select_victims(
            59,
            Resources::default(),
            Resources::new(1500, 1500, 0),
            &cands
        ),
        None
    );
    // Distance: each coordinate is 0 when the ask is 0.
    let d = preempt::basic_distance(Resources::new(1500, 1500, 0), Resources::new(500, 2000, 7));
    assert!((d - (5.0f64 / 9.0).sqrt()).abs() < 1e-12);
}

/// Lowest priority group first: a priority-20 alloc is taken before a closer priority-40 one.
/// Then Nomad's superset filter keeps a prefix only: with the ask 1000/1000 and nothing free,
/// the priority-20 alloc (100/100) is taken first, then the priority-40 alloc (1000/1000).
/// Sorted by distance from the ask, descending: the small one (0.9, 0.9 -> 1.273) then the
/// exact one (0): the small one is kept although the exact one alone would do. Nomad evicts
/// both; so does the simulator.
#[test]
fn lower_priority_groups_go_first_and_the_superset_filter_keeps_a_prefix() {
    let cands = [cand(40, 1000, 1000), cand(20, 100, 100)];
    let v = preempt::select_victims(
        90,
        Resources::default(),
        Resources::new(1000, 1000, 0),
        &cands,
    );
    assert_eq!(v, Some(vec![1, 0]));
}

/// The max_parallel penalty: a candidate whose job already has max_parallel preemptions in the
/// plan gets 50 × (preempted + 1 − max_parallel) added to its distance.
#[test]
fn the_max_parallel_penalty_steers_away_from_a_job_already_preempted() {
    let mut exact = cand(50, 1000, 1000);
    exact.max_parallel = 1;
    exact.preempted = 1;
    let other = cand(50, 1200, 1200);
    let v = preempt::select_victims(
        70,
        Resources::default(),
        Resources::new(1000, 1000, 0),
        &[exact, other],
    );
    assert_eq!(v, Some(vec![1]), "0 + 50 > 0.283");
}

fn arb_candidates() -> impl Strategy<Value = Vec<Candidate>> {
    prop::collection::vec(
        (
            1u8..=100,
            0u64..3000,
            0u64..3000,
            0u64..2000,
            0u32..3,
            0u32..3,
        ),
        0..8,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(
                |(priority, cpu, mem, disk, max_parallel, preempted)| Candidate {
                    priority,
                    resources: Resources::new(cpu, mem, disk),
                    max_parallel,
                    preempted,
                },
            )
            .collect()
    })
}

fn covers(free: Resources, victims: &[&Candidate], ask: Resources) -> bool {
    let freed = victims.iter().fold(free, |acc, c| acc.plus(c.resources));
    freed.covers(ask)
}

proptest! {
    #![proptest_config(nomad_sim_core::testing::proptest_config(256))]

    /// Preemption never evicts an alloc whose priority is within 10 of the preemptor's; the
    /// victims cover the ask; dropping the last victim leaves the ask unmet (Nomad's superset
    /// filter stops at the first prefix that covers); with no answer, all eligible candidates
    /// together do not cover the ask.
    #[test]
    fn preemption_respects_the_delta_and_evicts_no_more_than_needed(
        priority in 1u8..=100,
        cands in arb_candidates(),
        free in (0u64..1000, 0u64..1000, 0u64..1000),
        ask in (1u64..4000, 1u64..4000, 0u64..2000),
    ) {
        let free = Resources::new(free.0, free.1, free.2);
        let ask = Resources::new(ask.0, ask.1, ask.2);
        prop_assume!(!free.covers(ask));
        match preempt::select_victims(priority, free, ask, &cands) {
            Some(v) => {
                prop_assert!(!v.is_empty());
                let chosen: Vec<&Candidate> = v.iter().map(|&i| &cands[i]).collect();
                for c in &chosen {
                    prop_assert!(u32::from(c.priority) + 10 <= u32::from(priority));
                }
                prop_assert!(covers(free, &chosen, ask));
                prop_assert!(!covers(free, &chosen[..chosen.len() - 1], ask));
                let mut sorted = v.clone();
                sorted.sort_unstable();
                sorted.dedup();
                prop_assert_eq!(sorted.len(), v.len(), "no victim twice");
            }
            None => {
                let eligible: Vec<&Candidate> = cands
                    .iter()
                    .filter(|c| u32::from(c.priority) + 10 <= u32::from(priority))
                    .collect();
                prop_assert!(!covers(free, &eligible, ask));
            }
        }
    }
}

/// A priority-70 sysbatch job asking 1500/1500 on the full node: Nomad's default leaves
/// sysbatch preemption off, so it waits; with `preemption.sysbatch` on, the system stack
/// evicts a and d as it does for a system job.
#[test]
fn sysbatch_preemption_follows_its_own_switch() {
    let mut w = system("sb", MINUTE_MS, 1500, 1500, 70);
    w.job_type = JobType::Sysbatch;
    off_by_default_on_when_switched(w, "sb-0", |p| p.sysbatch = true);
}

/// The same system job asking also for a static port: evictions free CPU, memory and disk
/// only, so a group with ports (or devices, or cores) does not preempt and waits.
#[test]
fn a_group_asking_for_a_port_does_not_preempt() {
    let mut w = system("sys", MINUTE_MS, 1500, 1500, 70);
    w.asks.static_ports = vec![nomad_sim_core::config::StaticPort {
        label: "http".into(),
        value: 7234,
    }];
    let (mut sim, sink) = start(full_node(w));
    sim.run_until(10 * MINUTE_MS);
    assert_eq!(preempted_jobs(&sink.events()), vec![]);
    assert!(allocs_of(&sim, "sys-0").is_empty());
}
