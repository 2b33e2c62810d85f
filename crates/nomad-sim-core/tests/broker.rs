//! Every eval goes through the broker by priority, system jobs' included (issue 12).

use nomad_sim_core::config::{
    Action, Arrivals, DrainDeadline, DrainSpec, DurationDist, JobType, NodeTarget, Operation,
    SimConfig, WorkloadConfig,
};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

fn job(name: &str, at_ms: u64, cpu: u64, minutes: u64, priority: u8) -> WorkloadConfig {
    let mut w = batch_workload(
        name,
        Arrivals::At(vec![at_ms]),
        Resources::new(cpu, cpu, 0),
        DurationDist::Constant(minutes * MINUTE_MS),
    );
    w.priority = priority;
    w
}

fn agent(cpu: u64, priority: u8) -> WorkloadConfig {
    let mut w = job("agent", 0, cpu, 180, priority);
    w.job_type = JobType::System;
    w
}

fn run(c: SimConfig) -> (Simulation, Vec<(u64, TraceEvent)>) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    sim.run();
    let events = sink.events();
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    assert_eq!(trace_violations(&sim, &events), Vec::<String>::new());
    (sim, events)
}

fn placed_on(events: &[(u64, TraceEvent)], job: &str) -> Vec<(u64, String)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced { job: j, node, .. } if j == job => Some((*t, node.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_priority_70_batch_job_wins_a_new_node_over_a_priority_50_system_job() {
    // a-0 is full until 2h (fill). The system job agent (priority 50, 2000 MHz) waits for room;
    // urgent (priority 70, 3000 MHz) arrives at 1m and blocks. b-0 (4000 MHz) joins at 5m:
    // room for one of them. The broker runs the higher priority first: urgent takes b-0; the
    // agent gets b-0 when urgent ends at 35m, and a-0 when fill ends at 2h.
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000), pool("b", 0, 4000, 4000)],
        vec![
            job("fill", 0, 4000, 120, 50),
            agent(2000, 50),
            job("urgent", MINUTE_MS, 3000, 30, 70),
        ],
    );
    c.operations = vec![Operation {
        at_ms: 5 * MINUTE_MS,
        action: Action::ScaleUp {
            pool: "b".to_string(),
            count: 1,
        },
    }];
    let (_, events) = run(c);
    assert_eq!(
        placed_on(&events, "urgent-0"),
        vec![(5 * MINUTE_MS, "b-0".to_string())]
    );
    assert_eq!(
        placed_on(&events, "agent-0"),
        vec![
            (35 * MINUTE_MS, "b-0".to_string()),
            (120 * MINUTE_MS, "a-0".to_string())
        ]
    );
}

#[test]
fn with_preemption_on_by_default_the_system_agent_evicts_the_batch_job_at_once() {
    // The same cluster as below with Nomad's default: the agent (90) preempts fill (50, delta
    // 40 >= 10) at 30s. b-0 joins at 5m and the agent takes 2000 of it, so fill's replacement
    // (4000) fits nowhere until the agent on a-0 ends at 3h00m30s.
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000), pool("b", 0, 4000, 4000)],
        vec![job("fill", 0, 4000, 120, 50), {
            let mut a = agent(2000, 90);
            a.arrivals = Arrivals::At(vec![30_000]);
            a
        }],
    );
    c.operations = vec![Operation {
        at_ms: 5 * MINUTE_MS,
        action: Action::ScaleUp {
            pool: "b".to_string(),
            count: 1,
        },
    }];
    let (_, events) = run(c);
    assert_eq!(
        placed_on(&events, "agent-0")[0],
        (30_000, "a-0".to_string())
    );
    assert_eq!(
        placed_on(&events, "fill-0"),
        vec![(0, "a-0".to_string()), (10_830_000, "a-0".to_string())]
    );
}

#[test]
fn a_higher_priority_system_job_wins_the_node_over_a_batch_job() {
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000), pool("b", 0, 4000, 4000)],
        vec![
            job("fill", 0, 4000, 120, 50),
            {
                // Registered after fill took a-0.
                let mut a = agent(2000, 90);
                a.arrivals = Arrivals::At(vec![30_000]);
                a
            },
            job("urgent", MINUTE_MS, 3000, 30, 70),
        ],
    );
    c.operations = vec![Operation {
        at_ms: 5 * MINUTE_MS,
        action: Action::ScaleUp {
            pool: "b".to_string(),
            count: 1,
        },
    }];
    // With Nomad's default the agent (90) would preempt fill (50) at 30s; this test is about
    // the broker's order when capacity appears, so preemption is off.
    c.scheduler.preemption.system = false;
    let (_, events) = run(c);
    assert_eq!(
        placed_on(&events, "agent-0")[0],
        (5 * MINUTE_MS, "b-0".to_string())
    );
    // When fill ends at 2h the agent (90) takes a-0 before urgent (70) again; urgent waits
    // for the agent on b-0 to end at 3h05m.
    assert_eq!(
        placed_on(&events, "agent-0")[1],
        (120 * MINUTE_MS, "a-0".to_string())
    );
    assert_eq!(
        placed_on(&events, "urgent-0"),
        vec![(185 * MINUTE_MS, "b-0".to_string())]
    );
}

#[test]
fn a_system_job_is_placed_again_on_a_node_made_eligible_after_its_drain() {
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![agent(500, 50)],
    );
    c.operations = vec![
        Operation {
            at_ms: 10 * MINUTE_MS,
            action: Action::NodeDrain {
                target: NodeTarget::Names(vec!["a-0".to_string()]),
                spec: DrainSpec {
                    deadline: DrainDeadline::None,
                    ignore_system: false,
                },
            },
        },
        Operation {
            at_ms: 20 * MINUTE_MS,
            action: Action::NodeEligibility {
                nodes: vec!["a-0".to_string()],
                eligible: true,
            },
        },
    ];
    let (sim, events) = run(c);
    assert_eq!(
        placed_on(&events, "agent-0"),
        vec![(0, "a-0".to_string()), (20 * MINUTE_MS, "a-0".to_string())]
    );
    // The job's count follows the allocs it placed.
    assert_eq!(sim.jobs()[0].1.count, 2);
}

#[test]
fn a_system_alloc_that_ends_on_its_own_is_not_placed_again() {
    let mut w = agent(500, 50);
    w.duration = DurationDist::Constant(10 * MINUTE_MS);
    let c = config(1, HOUR_MS, vec![pool("a", 1, 4000, 4000)], vec![w]);
    let (_, events) = run(c);
    assert_eq!(placed_on(&events, "agent-0"), vec![(0, "a-0".to_string())]);
}
