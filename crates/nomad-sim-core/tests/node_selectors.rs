//! The nomad-autoscaler's node selectors (`least_busy`, newest/oldest `create_index`, `empty`,
//! `empty_ignore_system`) and operator actions by pool and node name, worked by hand.

use nomad_sim_core::config::{
    Action, Arrivals, DrainDeadline, DrainSpec, DurationDist, JobType, NodeSelector, NodeTarget,
    SimConfig, WorkloadConfig,
};
use nomad_sim_core::constraint::{Constraint, Operand};
use nomad_sim_core::ids::NodeId;
use nomad_sim_core::invariants::state_violations;
use nomad_sim_core::model::{Eligibility, NodeStatus};
use nomad_sim_core::ops::MIGRATE_HEALTHY_DEADLINE_MS;
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::{Resources, Simulation};

/// A job pinned to one node, running for the whole test.
fn pinned(node: &str, cpu_mhz: u64, memory_mb: u64) -> WorkloadConfig {
    let mut w = batch_workload(
        &format!("on-{node}"),
        Arrivals::At(vec![0]),
        Resources::new(cpu_mhz, memory_mb, 0),
        DurationDist::Constant(10 * HOUR_MS),
    );
    w.constraints = vec![Constraint::new("${node.unique.name}", Operand::Eq, node).unwrap()];
    w
}

/// Pool `a`: four 4000 MHz / 4000 MB nodes with loads chosen so that the selectors disagree;
/// pool `b`: two idle nodes.
fn loaded() -> Simulation {
    let c: SimConfig = config(
        1,
        24 * HOUR_MS,
        vec![pool("a", 4, 4_000, 4_000), pool("b", 2, 4_000, 4_000)],
        vec![
            // a-0: 20 % CPU, 20 % memory: score ceil((20 + 20) / 2) = 20.
            pinned("a-0", 800, 800),
            // a-1: 50 % CPU, 5 % memory: score ceil((50 + 5) / 2) = 28.
            pinned("a-1", 2_000, 200),
            // a-3: 100 / 4000 = 2.5 %, rounded up to 3 in both: score 3. a-2 stays empty: 0.
            pinned("a-3", 100, 100),
        ],
    );
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.run_until(MINUTE_MS);
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    sim
}

fn names(sim: &Simulation, nodes: &[NodeId]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| sim.nodes()[n.index()].name.clone())
        .collect()
}

#[test]
fn least_busy_orders_by_the_mean_of_cpu_and_memory_percent() {
    let sim = loaded();
    let used: Vec<Resources> = sim.nodes()[..4].iter().map(|n| n.used).collect();
    assert_eq!(
        used,
        vec![
            Resources::new(800, 800, 0),
            Resources::new(2_000, 200, 0),
            Resources::default(),
            Resources::new(100, 100, 0),
        ]
    );
    let all = sim.select_nodes(0, 4, NodeSelector::LeastBusy);
    assert_eq!(names(&sim, &all), vec!["a-2", "a-3", "a-0", "a-1"]);
    let two = sim.select_nodes(0, 2, NodeSelector::LeastBusy);
    assert_eq!(names(&sim, &two), vec!["a-2", "a-3"]);
    // Idle nodes tie at 0 and keep the API's newest-first order.
    let idle = sim.select_nodes(1, 5, NodeSelector::LeastBusy);
    assert_eq!(names(&sim, &idle), vec!["b-1", "b-0"]);
}

#[test]
fn create_index_and_empty_selectors() {
    let sim = loaded();
    let newest = sim.select_nodes(0, 3, NodeSelector::NewestCreateIndex);
    assert_eq!(names(&sim, &newest), vec!["a-3", "a-2", "a-1"]);
    let oldest = sim.select_nodes(0, 3, NodeSelector::OldestCreateIndex);
    assert_eq!(names(&sim, &oldest), vec!["a-0", "a-1", "a-2"]);
    let empty = sim.select_nodes(0, 3, NodeSelector::Empty);
    assert_eq!(names(&sim, &empty), vec!["a-2"]);
    let empty = sim.select_nodes(0, 3, NodeSelector::EmptyIgnoreSystem);
    assert_eq!(names(&sim, &empty), vec!["a-2"]);
    assert_eq!(
        names(
            &sim,
            &sim.select_nodes(1, 1, NodeSelector::OldestCreateIndex)
        ),
        vec!["b-0"]
    );
    assert!(sim.select_nodes(0, 0, NodeSelector::LeastBusy).is_empty());
}

#[test]
fn draining_and_down_nodes_are_not_selected() {
    let mut sim = loaded();
    // a-1 runs a batch alloc, which a drain leaves alone until the deadline.
    sim.apply(Action::NodeDrain {
        target: NodeTarget::Names(vec!["a-1".to_string()]),
        spec: DrainSpec {
            deadline: DrainDeadline::After(2 * HOUR_MS),
            ignore_system: false,
        },
    });
    sim.apply(Action::NodeFail {
        nodes: vec!["a-3".to_string()],
    });
    // a-3 stops heartbeating but is ready until its heartbeat expires, so it is still a
    // candidate now.
    let all = sim.select_nodes(0, 4, NodeSelector::NewestCreateIndex);
    assert_eq!(names(&sim, &all), vec!["a-3", "a-2", "a-0"]);
    sim.run_until(sim.now() + HOUR_MS);
    assert_eq!(sim.nodes()[3].status, NodeStatus::Down);
    assert!(sim.nodes()[1].drain.is_some());
    let all = sim.select_nodes(0, 4, NodeSelector::NewestCreateIndex);
    assert_eq!(names(&sim, &all), vec!["a-2", "a-0"]);
}

#[test]
fn eligibility_actions_follow_nomads_rules() {
    let mut sim = loaded();
    let eligibility = |sim: &Simulation| -> Vec<Eligibility> {
        sim.nodes().iter().map(|n| n.eligibility).collect()
    };
    sim.apply(Action::NodeEligibility {
        nodes: vec!["a-1".to_string(), "b-0".to_string()],
        eligible: false,
    });
    use Eligibility::{Eligible as E, Ineligible as I};
    assert_eq!(eligibility(&sim), vec![E, I, E, E, I, E]);
    sim.apply(Action::NodeEligibility {
        nodes: vec!["b-0".to_string()],
        eligible: true,
    });
    assert_eq!(eligibility(&sim), vec![E, I, E, E, E, E]);
    // A draining node stays ineligible: Nomad refuses to mark it eligible.
    sim.apply(Action::NodeDrain {
        target: NodeTarget::Names(vec!["a-0".to_string()]),
        spec: DrainSpec {
            deadline: DrainDeadline::After(HOUR_MS),
            ignore_system: false,
        },
    });
    sim.apply(Action::NodeEligibility {
        nodes: vec!["a-0".to_string()],
        eligible: true,
    });
    assert_eq!(eligibility(&sim), vec![I, I, E, E, E, E]);
    assert!(sim.nodes()[0].drain.is_some());
}

#[test]
fn scaling_and_draining_name_pools_and_nodes() {
    let mut sim = loaded();
    sim.apply(Action::ScaleUp {
        pool: "b".to_string(),
        count: 2,
    });
    sim.apply(Action::ScaleUp {
        pool: "nope".to_string(),
        count: 5,
    });
    let names_now: Vec<&str> = sim.nodes().iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names_now,
        vec!["a-0", "a-1", "a-2", "a-3", "b-0", "b-1", "b-2", "b-3"]
    );
    assert_eq!(sim.nodes()[7].pool, 1);
    // A drain selected by pool and selector: the oldest node of pool b.
    sim.apply(Action::NodeDrain {
        target: NodeTarget::Select {
            pool: "b".to_string(),
            count: 1,
            selector: NodeSelector::OldestCreateIndex,
        },
        spec: DrainSpec {
            deadline: DrainDeadline::After(HOUR_MS),
            ignore_system: false,
        },
    });
    let ineligible: Vec<&str> = sim
        .nodes()
        .iter()
        .filter(|n| n.eligibility == Eligibility::Ineligible)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(ineligible, vec!["b-0"]);
    // Unknown names and pools are ignored.
    sim.apply(Action::NodeDrain {
        target: NodeTarget::Names(vec!["zz-0".to_string()]),
        spec: DrainSpec {
            deadline: DrainDeadline::Force,
            ignore_system: false,
        },
    });
    sim.apply(Action::NodeDrain {
        target: NodeTarget::Select {
            pool: "zz".to_string(),
            count: 1,
            selector: NodeSelector::OldestCreateIndex,
        },
        spec: DrainSpec {
            deadline: DrainDeadline::Force,
            ignore_system: false,
        },
    });
    let draining = sim.nodes().iter().filter(|n| n.drain.is_some()).count();
    assert_eq!(draining, 0, "b-0 was empty, so its drain is already done");
    assert_eq!(state_violations(&sim), Vec::<String>::new());
}

#[test]
fn empty_ignore_system_counts_only_system_allocs_as_empty() {
    let mut daemon = batch_workload(
        "daemon",
        Arrivals::At(vec![0]),
        Resources::new(100, 100, 0),
        DurationDist::Constant(10 * HOUR_MS),
    );
    daemon.job_type = JobType::System;
    let c = config(
        1,
        24 * HOUR_MS,
        vec![pool("a", 3, 4_000, 4_000)],
        vec![daemon, pinned("a-1", 500, 500)],
    );
    let mut sim = Simulation::new(c);
    sim.run_until(MINUTE_MS);
    assert_eq!(sim.nodes()[1].allocs.len(), 2);
    assert!(sim.select_nodes(0, 3, NodeSelector::Empty).is_empty());
    let empty = sim.select_nodes(0, 3, NodeSelector::EmptyIgnoreSystem);
    assert_eq!(names(&sim, &empty), vec!["a-2", "a-0"]);
}

#[test]
fn the_migrate_healthy_deadline_defaults_to_five_minutes() {
    // Nomad's migrate block: healthy_deadline = "5m", min_healthy_time = "10s".
    assert_eq!(MIGRATE_HEALTHY_DEADLINE_MS, 300_000);
    assert_eq!(nomad_sim_core::ops::MIGRATE_MIN_HEALTHY_MS, 10_000);
}

#[test]
fn nodes_are_numbered_and_counted_in_creation_order() {
    let mut sim = loaded();
    sim.apply(Action::ScaleUp {
        pool: "a".to_string(),
        count: 1,
    });
    // CreateIndex counts nodes from 1 in creation order, across pools; a scale-up's node
    // takes its pool's next index in its name.
    let nodes: Vec<(&str, u64, u32)> = sim
        .nodes()
        .iter()
        .map(|n| (n.name.as_str(), n.create_index, n.pool))
        .collect();
    assert_eq!(
        nodes,
        vec![
            ("a-0", 1, 0),
            ("a-1", 2, 0),
            ("a-2", 3, 0),
            ("a-3", 4, 0),
            ("b-0", 5, 1),
            ("b-1", 6, 1),
            ("a-4", 7, 0),
        ]
    );
    assert_eq!(sim.live_nodes_by_pool(), &[5, 2]);
    sim.apply(Action::NodeFail {
        nodes: vec!["b-0".to_string()],
    });
    sim.run_until(sim.now() + HOUR_MS);
    assert_eq!(sim.live_nodes_by_pool(), &[5, 1]);
}
