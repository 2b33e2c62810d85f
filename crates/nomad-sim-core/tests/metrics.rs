//! AllocMetric as Nomad fills it: nodes in pool, nodes available per datacenter, filtered and
//! exhausted nodes by class (issue 12).

use nomad_sim_core::config::{Arrivals, DurationDist};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

#[test]
fn exhausted_nodes_are_counted_by_class_and_ready_nodes_by_datacenter() {
    // Two pools in two datacenters; a job that fits nowhere blocks: every node is exhausted.
    let mut east = pool("east", 2, 4000, 4000);
    east.datacenter = "dc-east".to_string();
    east.node_class = "small".to_string();
    let mut west = pool("west", 3, 4000, 4000);
    west.datacenter = "dc-west".to_string();
    west.node_class = String::new();
    let fill = batch_workload(
        "fill",
        Arrivals::At(vec![0; 5]),
        Resources::new(3000, 3000, 0),
        DurationDist::Constant(HOUR_MS),
    );
    let big = batch_workload(
        "big",
        Arrivals::At(vec![MINUTE_MS]),
        Resources::new(2000, 2000, 0),
        DurationDist::Constant(HOUR_MS),
    );
    let c = config(4, 3 * HOUR_MS, vec![east, west], vec![fill, big]);
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run();
    let blocked = sink
        .events()
        .into_iter()
        .find_map(|(_, e)| match e {
            TraceEvent::EvalBlocked { job, metrics, .. } if job == "big-0" => Some(metrics),
            _ => None,
        })
        .unwrap();
    let pm = blocked.pool.clone().unwrap();
    assert_eq!(pm.nodes_in_pool, 5);
    assert_eq!(
        pm.nodes_available.into_iter().collect::<Vec<_>>(),
        vec![("dc-east".to_string(), 2), ("dc-west".to_string(), 3)]
    );
    assert_eq!(blocked.nodes_exhausted, 5);
    // Nodes without a class are not counted by class, as in Nomad.
    assert_eq!(
        pm.class_exhausted.into_iter().collect::<Vec<_>>(),
        vec![("small".to_string(), 2)]
    );
    let placed = sink
        .events()
        .into_iter()
        .find_map(|(_, e)| match e {
            TraceEvent::AllocPlaced { metrics, .. } => Some(metrics),
            _ => None,
        })
        .unwrap();
    assert_eq!(placed.nodes_in_pool(), Some(5));
    // The JSON is flat, with Nomad's names.
    let json = serde_json::to_value(&placed).unwrap();
    assert_eq!(json["nodes_in_pool"], 5);
    assert_eq!(json["nodes_available"]["dc-east"], 2);
}
