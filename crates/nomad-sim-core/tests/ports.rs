//! Ports as Nomad's `NetworkIndex` assigns them: static ports collide with held and reserved
//! ports, dynamic ports come from 20000–32000, and ports are freed when the alloc ends.

use proptest::prelude::*;

use nomad_sim_core::config::{Arrivals, DurationDist, JobType, StaticPort, WorkloadConfig};
use nomad_sim_core::hardware::parse_port_ranges;
use nomad_sim_core::invariants::state_violations;
use nomad_sim_core::placement::AllocMetric;
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::MINUTE_MS;
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, SimConfig, Simulation};

fn job(name: &str, arrivals: Vec<u64>, minutes: u64) -> WorkloadConfig {
    batch_workload(
        name,
        Arrivals::At(arrivals),
        Resources::new(100, 100, 0),
        DurationDist::Constant(minutes * MINUTE_MS),
    )
}

fn traced(c: SimConfig) -> (Simulation, Vec<(u64, TraceEvent)>) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    sim.run();
    let events = sink.events();
    (sim, events)
}

fn placed(events: &[(u64, TraceEvent)]) -> Vec<(u64, String)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced { node, .. } => Some((*t, node.clone())),
            _ => None,
        })
        .collect()
}

fn blocked(events: &[(u64, TraceEvent)]) -> Vec<AllocMetric> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            TraceEvent::EvalBlocked { metrics, .. } => Some(metrics.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_static_port_is_held_once_per_node() {
    // Three nodes, four jobs each asking static port 7234 (label http) and running 10
    // minutes. Three are placed at once, one per node, since a node holding 7234 is exhausted
    // for the others; the fourth is blocked with every node short of the port, and placed
    // when the first alloc ends and gives its port back.
    let mut w = job("web", vec![0; 4], 10);
    w.asks.static_ports = vec![StaticPort {
        label: "http".into(),
        value: 7234,
    }];
    let c = config(3, MINUTE_MS, vec![pool("linux", 3, 8000, 16_000)], vec![w]);
    let (sim, events) = traced(c);
    let p = placed(&events);
    let at_zero: Vec<&String> = p.iter().filter(|x| x.0 == 0).map(|x| &x.1).collect();
    assert_eq!(at_zero.len(), 3);
    let mut nodes = at_zero.clone();
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes.len(), 3, "one per node: {at_zero:?}");
    assert_eq!(p.len(), 4);
    assert_eq!(p[3].0, 10 * MINUTE_MS);
    let b = blocked(&events);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].nodes_evaluated, 3);
    assert_eq!(b[0].nodes_exhausted, 3);
    assert_eq!(
        b[0].dimension_exhausted.entries(),
        vec![("network: reserved port collision http=7234", 3)]
    );
    assert!(state_violations(&sim).is_empty());
    for (id, _) in sim.allocs() {
        let h = sim
            .alloc_extra(id)
            .hardware
            .as_ref()
            .expect("a port alloc records its port");
        assert_eq!(h.ports, vec![("http".to_string(), 7234)]);
    }
}

#[test]
fn a_reserved_port_makes_the_node_exhausted() {
    // The node reserves 22 and 7000-7999 (the client's reserved_ports): a job asking static
    // 7234 never fits and is blocked on the port.
    let mut p = pool("linux", 1, 8000, 16_000);
    p.hardware.reserved_ports = parse_port_ranges("22,7000-7999").unwrap();
    let mut w = job("web", vec![0], 10);
    w.asks.static_ports = vec![StaticPort {
        label: "admin".into(),
        value: 7234,
    }];
    let (sim, events) = traced(config(1, MINUTE_MS, vec![p], vec![w]));
    assert!(placed(&events).is_empty());
    let b = blocked(&events);
    assert_eq!(
        b[0].dimension_exhausted.entries(),
        vec![("network: reserved port collision admin=7234", 1)]
    );
    assert_eq!(sim.report().allocations.never_placed, 1);
}

#[test]
fn dynamic_ports_run_out_after_the_free_ones() {
    // The node reserves 20000-31997, leaving 31998, 31999 and 32000 of the dynamic range.
    // Four jobs ask one dynamic port each: three get those ports, lowest first; the fourth is
    // blocked as Nomad reports it, and placed on 31998 when the first alloc ends at 10 min.
    let mut p = pool("linux", 1, 8000, 16_000);
    p.hardware.reserved_ports = parse_port_ranges("20000-31997").unwrap();
    let mut w = job("api", vec![0, 0, 0, 0], 10);
    w.asks.dynamic_ports = vec!["rpc".into()];
    let (sim, events) = traced(config(1, MINUTE_MS, vec![p], vec![w]));
    let p = placed(&events);
    assert_eq!(
        p.iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![0, 0, 0, 10 * MINUTE_MS]
    );
    let mut allocs = sim.allocs();
    allocs.sort_by_key(|(_, a)| a.serial());
    let ports: Vec<u16> = allocs
        .iter()
        .map(|&(id, _)| sim.alloc_extra(id).hardware.as_ref().unwrap().ports[0].1)
        .collect();
    assert_eq!(ports, vec![31_998, 31_999, 32_000, 31_998]);
    let b = blocked(&events);
    assert_eq!(
        b[0].dimension_exhausted.entries(),
        vec![("network: dynamic port selection failed", 1)]
    );
}

#[test]
fn jobs_without_ports_keep_no_port_state() {
    let c = config(
        1,
        MINUTE_MS,
        vec![pool("linux", 2, 8000, 16_000)],
        vec![job("plain", vec![0, 0, 0], 5)],
    );
    let (sim, _) = traced(c);
    assert!(sim.nodes().iter().all(|n| n.hardware.is_none()));
    assert!(sim
        .allocs()
        .iter()
        .all(|&(id, _)| sim.alloc_extra(id).hardware.is_none()));
}

/// A workload asking for a few static ports out of a small set and some dynamic ports.
fn arb_port_workload(i: usize) -> impl Strategy<Value = WorkloadConfig> {
    (
        prop::collection::vec(0u64..30, 1..8),
        prop::collection::btree_set(0u16..4, 0..3),
        0usize..3,
        1u64..20,
        any::<bool>(),
        1u32..3,
    )
        .prop_map(
            move |(arrivals, statics, dynamic, minutes, service, count)| {
                let mut w = job(
                    &format!("w{i}"),
                    arrivals.into_iter().map(|m| m * MINUTE_MS).collect(),
                    minutes,
                );
                if service {
                    w.job_type = JobType::Service;
                    w.arrivals = Arrivals::At(vec![0]);
                    w.count = count;
                }
                w.asks.static_ports = statics
                    .into_iter()
                    .map(|k| StaticPort {
                        label: format!("p{k}"),
                        value: 8080 + k,
                    })
                    .collect();
                w.asks.dynamic_ports = (0..dynamic).map(|d| format!("d{d}")).collect();
                w
            },
        )
}

proptest! {
    #![proptest_config(nomad_sim_core::testing::proptest_config(64))]

    #[test]
    fn no_port_is_used_twice_on_a_node(
        nodes in 1u32..4,
        reserved in prop::collection::btree_set(prop_oneof![8080u16..8084, 20_000u16..20_004], 0..4),
        w0 in arb_port_workload(0),
        w1 in arb_port_workload(1),
    ) {
        let mut p = pool("linux", nodes, 8000, 16_000);
        p.hardware.reserved_ports = reserved.iter().copied().collect();
        let c = config(7, 40 * MINUTE_MS, vec![p], vec![w0, w1]);
        let mut sim = Simulation::new(c);
        // The state check after every event includes ports: none held twice, none reserved.
        sim.check_every_event(true);
        sim.run();
        let v = state_violations(&sim);
        prop_assert!(v.is_empty(), "{v:#?}");
        for (id, _) in sim.allocs() {
            if let Some(h) = &sim.alloc_extra(id).hardware {
                for (_, port) in &h.ports {
                    prop_assert!(!reserved.contains(port));
                }
            }
        }
        prop_assert!(sim.nodes().iter().all(|n| n.hardware.as_ref().is_none_or(|h| h.ports.is_empty())));
    }
}
