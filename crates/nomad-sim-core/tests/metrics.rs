//! AllocMetric as Nomad fills it: nodes in pool, nodes available per datacenter, filtered and
//! exhausted nodes by class (issue 12).

use nomad_sim_core::config::{
    Action, Arrivals, DrainDeadline, DrainSpec, DurationDist, NodeTarget, Operation,
};
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

#[test]
fn nodes_available_follows_nodes_joining_and_leaving() {
    // One node in dc1 at first; a second joins at 10m and the first is drained at 30m (a
    // draining node is no longer a candidate). Jobs placed at 0, 20m and 40m see 1, 2 and 1
    // ready nodes in dc1.
    let work = batch_workload(
        "x",
        Arrivals::At(vec![0, 20 * MINUTE_MS, 40 * MINUTE_MS]),
        Resources::new(1000, 1000, 0),
        DurationDist::Constant(HOUR_MS),
    );
    let mut c = config(1, 3 * HOUR_MS, vec![pool("a", 1, 4000, 4000)], vec![work]);
    c.operations = vec![
        Operation {
            at_ms: 10 * MINUTE_MS,
            action: Action::ScaleUp {
                pool: "a".to_string(),
                count: 1,
            },
        },
        Operation {
            at_ms: 30 * MINUTE_MS,
            action: Action::NodeDrain {
                target: NodeTarget::Names(vec!["a-0".to_string()]),
                spec: DrainSpec {
                    deadline: DrainDeadline::After(HOUR_MS),
                    ignore_system: false,
                },
            },
        },
    ];
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run_until(50 * MINUTE_MS);
    let seen: Vec<(u64, Vec<(String, u32)>)> = sink
        .events()
        .into_iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced { metrics, .. } => Some((
                t,
                metrics.pool.unwrap().nodes_available.into_iter().collect(),
            )),
            _ => None,
        })
        .collect();
    let dc1 = |n: u32| vec![("dc1".to_string(), n)];
    assert_eq!(
        seen,
        vec![
            (0, dc1(1)),
            (20 * MINUTE_MS, dc1(2)),
            (40 * MINUTE_MS, dc1(1))
        ]
    );
}
