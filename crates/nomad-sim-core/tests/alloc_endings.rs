//! How an alloc's ending is recorded: its desired status (Nomad keeps `run` for allocs that
//! completed or failed on their own and sets `stop` for those the server stopped or lost) and
//! its job's complete, failed and lost counts (`nomad job status`'s summary).

use nomad_sim_core::config::{Action, Arrivals, DurationDist, Operation, WorkloadConfig};
use nomad_sim_core::invariants::state_violations;
use nomad_sim_core::model::{ClientStatus, DesiredStatus, EndReason};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MAX_SIM_TIME_MS, MINUTE_MS};
use nomad_sim_core::{Resources, Simulation};

fn job(name: &str, minutes: u64) -> WorkloadConfig {
    batch_workload(
        name,
        Arrivals::At(vec![0]),
        Resources::new(1_000, 1_000, 0),
        DurationDist::Constant(minutes * MINUTE_MS),
    )
}

/// (client status, desired status, end reason) of every alloc, in placement order.
fn endings(sim: &Simulation) -> Vec<(ClientStatus, DesiredStatus, Option<EndReason>)> {
    let mut allocs: Vec<_> = sim.allocs().into_iter().map(|(_, a)| a).collect();
    allocs.sort_by_key(|a| a.serial());
    allocs
        .iter()
        .map(|a| (a.client(), a.desired, a.end_reason()))
        .collect()
}

/// (complete, failed, lost, live) of the only job.
fn summary(sim: &Simulation) -> (u32, u32, u32, u32) {
    let jobs = sim.jobs();
    assert_eq!(jobs.len(), 1);
    let j = jobs[0].1;
    (j.complete, j.failed, j.lost, j.live)
}

#[test]
fn the_clock_stops_at_the_latest_simulated_time_and_allocs_still_place_and_end_there() {
    // `serve` can ask for any time: the clock stops at MAX_SIM_TIME_MS, and a job registered
    // there places and ends (an alloc keeps its times in 48 bits).
    let c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 4_000, 4_000)],
        vec![job("late", 0)],
    );
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.run_until(20 * MINUTE_MS);
    sim.run_until(u64::MAX - 1);
    assert_eq!(sim.now(), MAX_SIM_TIME_MS);
    assert!(sim.submit(0));
    sim.run_until(u64::MAX - 1);
    let allocs = sim.allocs();
    let last = allocs.last().expect("the late job's alloc").1;
    assert_eq!(last.placed_ms(), MAX_SIM_TIME_MS);
    assert_eq!(last.ended_ms(), Some(MAX_SIM_TIME_MS));
    assert!(state_violations(&sim).is_empty());
}

#[test]
fn a_completed_alloc_keeps_desired_run() {
    let c = config(
        1,
        4 * HOUR_MS,
        vec![pool("a", 1, 4_000, 4_000)],
        vec![job("done", 10)],
    );
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.run_until(20 * MINUTE_MS);
    assert_eq!(
        endings(&sim),
        vec![(
            ClientStatus::Complete,
            DesiredStatus::Run,
            Some(EndReason::Completed)
        )]
    );
    assert_eq!(summary(&sim), (1, 0, 0, 0));
}

#[test]
fn a_failed_alloc_keeps_desired_run_and_counts_as_failed() {
    // The task fails on every run: once its restarts are used up the alloc fails, and Nomad's
    // batch reschedule policy (one attempt) replaces it once, where it fails again.
    let mut w = job("flaky", 10);
    w.failure_rate = 1.0;
    let c = config(5, 4 * HOUR_MS, vec![pool("a", 3, 4_000, 4_000)], vec![w]);
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.run_until(HOUR_MS);
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    let failed = (
        ClientStatus::Failed,
        DesiredStatus::Run,
        Some(EndReason::Failed),
    );
    assert_eq!(endings(&sim), vec![failed, failed]);
    assert_eq!(summary(&sim), (0, 2, 0, 0));
}

#[test]
fn a_lost_alloc_is_desired_stop_and_counts_as_lost() {
    // Pool b's only node arrives at 5m, so the job starts on a-0; a-0 stops heartbeating at
    // 20m, goes down within 30s, and the alloc is lost and replaced on b-0.
    let mut c = config(
        1,
        4 * HOUR_MS,
        vec![pool("a", 1, 4_000, 4_000), pool("b", 0, 4_000, 4_000)],
        vec![job("long", 90)],
    );
    c.operations = vec![
        Operation {
            at_ms: 5 * MINUTE_MS,
            action: Action::ScaleUp {
                pool: "b".to_string(),
                count: 1,
            },
        },
        Operation {
            at_ms: 20 * MINUTE_MS,
            action: Action::NodeFail {
                nodes: vec!["a-0".to_string()],
            },
        },
    ];
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.run_until(30 * MINUTE_MS);
    assert_eq!(
        endings(&sim),
        vec![
            (
                ClientStatus::Lost,
                DesiredStatus::Stop,
                Some(EndReason::NodeDown)
            ),
            (ClientStatus::Running, DesiredStatus::Run, None),
        ]
    );
    assert_eq!(summary(&sim), (0, 0, 1, 1));
}

#[test]
fn a_circleci_jobs_makespan_runs_from_submission_to_its_last_alloc() {
    // One CircleCI job submitted at 10m, fanned out into two Nomad jobs of 30m and placed at
    // once: every one of them has ended at 40m, so the makespan is 30m = 1800 s.
    let mut w = batch_workload(
        "ci",
        Arrivals::At(vec![10 * MINUTE_MS]),
        Resources::new(1_000, 1_000, 0),
        DurationDist::Constant(30 * MINUTE_MS),
    );
    w.parallelism = nomad_sim_core::config::CountDist::Fixed(2);
    let c = config(1, 4 * HOUR_MS, vec![pool("a", 1, 4_000, 4_000)], vec![w]);
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.run();
    let ci = sim.report().ci_jobs;
    assert_eq!(ci.count, 1);
    assert_eq!(ci.start_all_s.mean, 0.0);
    assert_eq!(ci.makespan_s.mean, 1_800.0);
    assert_eq!(ci.makespan_s.p99, 1_800.0);
}
