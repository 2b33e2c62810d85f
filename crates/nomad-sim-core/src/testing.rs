//! Proptest strategies for clusters, workloads and operation timelines (feature `testing`).
//!
//! Embed these in your own property tests to check a drain or scale-down procedure against
//! the simulator, then check [`crate::invariants`] on the result. See `docs/property-testing.md`.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::config::{
    Action, Arrivals, ClientConfig, CountDist, DisconnectPolicy, DrainDeadline, DrainSpec,
    DurationDist, GcConfig, HeartbeatConfig, JobType, Limits, NodeSelector, NodeTarget,
    NomadVersion, Operation, PoolConfig, RestartMode, RestartPolicy, SchedulerConfig, SimConfig,
    WorkloadConfig,
};
use crate::resources::Resources;
use crate::time::{SimTime, HOUR_MS, MINUTE_MS};
use crate::Algorithm;

/// A proptest configuration running [`cases`]`(default)` cases from [`rng_seed`]'s seed.
pub fn proptest_config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default),
        rng_seed: rng_seed(),
        ..ProptestConfig::default()
    }
}

/// The seed of the case generator. It is fixed by default, so the test suite runs the same
/// cases, in the same time, on every machine: a randomly drawn overloaded cluster once kept a
/// drain property busy for half an hour. `NOMAD_SIM_PROPTEST_SEED=<n>` runs other cases and
/// `NOMAD_SIM_PROPTEST_SEED=random` new ones on each run.
pub fn rng_seed() -> proptest::test_runner::RngSeed {
    use proptest::test_runner::RngSeed;
    match std::env::var("NOMAD_SIM_PROPTEST_SEED").ok().as_deref() {
        Some("random") => RngSeed::Random,
        Some(n) => RngSeed::Fixed(n.trim().parse().unwrap_or_else(|_| {
            panic!("NOMAD_SIM_PROPTEST_SEED={n:?}: expected a number or `random`")
        })),
        None => RngSeed::Fixed(FIXED_SEED),
    }
}

/// The case generator's seed when none is asked for.
const FIXED_SEED: u64 = 0x6e6f_6d61_6473_696d;

/// How many proptest cases to run: `NOMAD_SIM_PROPTEST_CASES`, else `PROPTEST_CASES`, else `default`.
pub fn cases(default: u32) -> u32 {
    ["NOMAD_SIM_PROPTEST_CASES", "PROPTEST_CASES"]
        .iter()
        .find_map(|k| std::env::var(k).ok().and_then(|v| v.parse().ok()))
        .unwrap_or(default)
}

/// A pool of `count` identical nodes named `<name>-<i>`.
pub fn pool(name: &str, count: u32, cpu_mhz: u64, memory_mb: u64) -> PoolConfig {
    PoolConfig {
        name: name.to_string(),
        count,
        datacenter: "dc1".to_string(),
        node_pool: "default".to_string(),
        node_class: "linux-64bit".to_string(),
        resources: Resources::new(cpu_mhz, memory_mb, 100_000),
        reserved: Resources::default(),
        boot_time_ms: 0,
        attributes: BTreeMap::new(),
        meta: BTreeMap::new(),
        cost_per_hour: 0.0,
        named_nodes: Vec::new(),
        hardware: Default::default(),
    }
}

/// A batch workload with the given arrivals, ask and run times.
pub fn batch_workload(
    name: &str,
    arrivals: Arrivals,
    ask: Resources,
    duration: DurationDist,
) -> WorkloadConfig {
    WorkloadConfig {
        name: name.to_string(),
        job_type: JobType::Batch,
        priority: 50,
        arrivals,
        parallelism: CountDist::Fixed(1),
        count: 1,
        resources: ask,
        duration,
        datacenters: Vec::new(),
        node_pool: None,
        constraints: Vec::new(),
        distinct_hosts: false,
        failure_rate: 0.0,
        max_parallel: 1,
        min_healthy_time_ms: 10_000,
        healthy_deadline_ms: crate::ops::MIGRATE_HEALTHY_DEADLINE_MS,
        restart: None,
        reschedule: None,
        disconnect: None,
        spreads: Vec::new(),
        affinities: Vec::new(),
        asks: Default::default(),
        identity: None,
    }
}

/// A configuration with defaults for everything but the cluster and the workloads.
pub fn config(
    seed: u64,
    horizon_ms: SimTime,
    pools: Vec<PoolConfig>,
    workloads: Vec<WorkloadConfig>,
) -> SimConfig {
    SimConfig {
        name: "test".to_string(),
        seed,
        horizon_ms,
        nomad_version: NomadVersion::NEWEST,
        algorithm: Algorithm::Binpack,
        pools,
        workloads,
        operations: Vec::new(),
        autoscaler: None,
        limits: Limits::default(),
        gc: GcConfig::default(),
        scheduler: SchedulerConfig::default(),
        client: ClientConfig::default(),
        heartbeat: HeartbeatConfig::default(),
        start_unix_ms: crate::config::DEFAULT_START_UNIX_MS,
    }
}

/// One to three pools of one to six nodes, of assorted sizes.
pub fn arb_pools() -> impl Strategy<Value = Vec<PoolConfig>> {
    prop::collection::vec((1u32..=6, 2u64..=16, 2u64..=32, 0u64..=2), 1..=3).prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (count, vcpu, gb, boot_min))| {
                let mut p = pool(&format!("p{i}"), count, vcpu * 1024, gb * 1024);
                p.reserved = Resources::new(256, 512, 0);
                p.boot_time_ms = boot_min * MINUTE_MS;
                p
            })
            .collect()
    })
}

/// A restart policy: Nomad's default for the job type, or a short one of either mode.
pub fn arb_restart() -> impl Strategy<Value = Option<RestartPolicy>> {
    prop_oneof![
        3 => Just(None),
        1 => (0u32..=2, 1u64..=20, any::<bool>()).prop_map(|(attempts, minutes, delay)| {
            Some(RestartPolicy {
                attempts,
                interval_ms: (minutes.max(u64::from(attempts)) + 1) * MINUTE_MS,
                delay_ms: 15_000,
                mode: if delay && attempts > 0 { RestartMode::Delay } else { RestartMode::Fail },
            })
        }),
    ]
}

/// The migrate block's health times: Nomad's defaults, or a longer `min_healthy_time` and a
/// short `healthy_deadline`.
pub fn arb_health() -> impl Strategy<Value = (SimTime, SimTime)> {
    prop_oneof![
        3 => Just((10_000, crate::ops::MIGRATE_HEALTHY_DEADLINE_MS)),
        1 => (1u64..=120, 1u64..=10).prop_map(|(s, m)| (s * 1000, s * 1000 + m * MINUTE_MS)),
    ]
}

/// One to three workloads: batch, service, system and sysbatch, fan-out, counts, failures, distinct hosts.
pub fn arb_workloads() -> impl Strategy<Value = Vec<WorkloadConfig>> {
    let one = (
        prop_oneof![
            6 => Just(JobType::Batch),
            2 => Just(JobType::Service),
            1 => Just(JobType::System),
            1 => Just(JobType::Sysbatch)
        ],
        5.0f64..120.0,
        1u32..=3,
        1u32..=3,
        (1u64..=4, 1u64..=8),
        1u64..=40,
        prop_oneof![3 => Just(0.0), 1 => 0.05f64..0.3],
        any::<bool>(),
        1u32..=2,
        prop_oneof![Just(50u8), Just(70u8)],
    );
    let extra = (
        arb_restart(),
        arb_health(),
        prop::option::weighted(0.2, (1u64..=30, any::<bool>())),
    );
    prop::collection::vec((one, extra), 1..=3).prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(
                |(
                    i,
                    (
                        (
                            job_type,
                            rate,
                            count,
                            parallelism,
                            (vcpu, gb),
                            mean_min,
                            failure_rate,
                            distinct,
                            max_parallel,
                            priority,
                        ),
                        (restart, (min_healthy, healthy_deadline), disconnect),
                    ),
                )| {
                    let arrivals = match job_type {
                        JobType::Service => Arrivals::At(vec![0, 10 * MINUTE_MS]),
                        JobType::System => Arrivals::At(vec![0]),
                        JobType::Sysbatch => Arrivals::At(vec![0, 2 * HOUR_MS]),
                        JobType::Batch => Arrivals::Poisson {
                            rate_per_hour: rate,
                        },
                    };
                    let mut w = batch_workload(
                        &format!("w{i}"),
                        arrivals,
                        Resources::new(vcpu * 1024, gb * 1024, 0),
                        DurationDist::Exponential {
                            mean_ms: (mean_min * MINUTE_MS) as f64,
                        },
                    );
                    w.job_type = job_type;
                    w.count = match job_type {
                        JobType::Service => count + 1,
                        JobType::System | JobType::Sysbatch => 1,
                        JobType::Batch => count,
                    };
                    if job_type == JobType::Sysbatch {
                        // A short per-node task, like a cache purge, once per evaluation.
                        w.resources = Resources::new(256, 256, 0);
                        w.parallelism = CountDist::Fixed(1);
                    }
                    if job_type == JobType::System {
                        // A small agent on every node, like a log shipper.
                        w.resources = Resources::new(256, 256, 0);
                        w.duration = DurationDist::Constant(3 * HOUR_MS);
                        w.parallelism = CountDist::Fixed(1);
                    }
                    if !job_type.is_per_node() {
                        w.parallelism = CountDist::Uniform {
                            min: 1,
                            max: parallelism,
                        };
                    }
                    w.failure_rate = failure_rate;
                    w.distinct_hosts = distinct;
                    w.max_parallel = max_parallel;
                    w.priority = priority;
                    w.restart = restart;
                    w.min_healthy_time_ms = min_healthy;
                    w.healthy_deadline_ms = healthy_deadline;
                    w.disconnect = disconnect.map(|(minutes, replace)| DisconnectPolicy {
                        lost_after_ms: minutes * MINUTE_MS,
                        replace,
                    });
                    w
                },
            )
            .collect()
    })
}

/// How a generated drain ends.
pub fn arb_deadline() -> impl Strategy<Value = DrainDeadline> {
    prop_oneof![
        3 => (1u64..=90).prop_map(|m| DrainDeadline::After(m * MINUTE_MS)),
        1 => Just(DrainDeadline::Force),
        1 => Just(DrainDeadline::None),
    ]
}

/// A node selector strategy.
pub fn arb_selector() -> impl Strategy<Value = NodeSelector> {
    prop_oneof![
        Just(NodeSelector::LeastBusy),
        Just(NodeSelector::NewestCreateIndex),
        Just(NodeSelector::OldestCreateIndex),
        Just(NodeSelector::Empty),
        Just(NodeSelector::EmptyIgnoreSystem),
    ]
}

/// Up to eight operations within `horizon_ms` on the pools' initial nodes.
pub fn arb_operations(
    pools: &[PoolConfig],
    horizon_ms: SimTime,
) -> impl Strategy<Value = Vec<Operation>> {
    let names: Vec<String> = pools
        .iter()
        .flat_map(|p| (0..p.count).map(move |i| p.node_name(i)))
        .collect();
    let pool_names: Vec<String> = pools.iter().map(|p| p.name.clone()).collect();
    let node = prop::sample::select(names);
    let pool_name = prop::sample::select(pool_names);
    let action = prop_oneof![
        4 => (prop::collection::vec(node.clone(), 1..=2), arb_deadline(), any::<bool>()).prop_map(
            |(nodes, deadline, ignore_system)| Action::NodeDrain {
                target: NodeTarget::Names(nodes),
                spec: DrainSpec { deadline, ignore_system },
            }
        ),
        1 => (prop::collection::vec(node.clone(), 1..=2), any::<bool>()).prop_map(|(nodes, keep_ineligible)| {
            Action::NodeDrainDisable { nodes, keep_ineligible }
        }),
        1 => (prop::collection::vec(node.clone(), 1..=2), any::<bool>())
            .prop_map(|(nodes, eligible)| Action::NodeEligibility { nodes, eligible }),
        2 => (pool_name.clone(), 1u32..=3).prop_map(|(pool, count)| Action::ScaleUp { pool, count }),
        3 => (
            pool_name,
            1u32..=3,
            arb_selector(),
            arb_deadline(),
            prop::option::of((1u64..=120).prop_map(|m| m * MINUTE_MS))
        )
            .prop_map(|(pool, count, selector, drain_deadline, heartbeat_timeout_ms)| Action::ScaleDown {
                pool,
                count,
                selector,
                drain_deadline,
                heartbeat_timeout_ms,
            }),
        1 => prop::collection::vec(node, 1..=1).prop_map(|nodes| Action::NodeFail { nodes }),
    ];
    prop::collection::vec((0..horizon_ms, action), 0..=8).prop_map(|mut ops| {
        ops.sort_by_key(|(t, _)| *t);
        ops.into_iter()
            .map(|(at_ms, action)| Operation { at_ms, action })
            .collect()
    })
}

/// Client and scheduler latencies: none (the default), or a task start time, and workers
/// that take time per eval and plan.
pub fn arb_latency() -> impl Strategy<Value = (ClientConfig, SchedulerConfig)> {
    prop_oneof![
        3 => Just((ClientConfig::default(), SchedulerConfig::default())),
        1 => (0u64..=120, 1u32..=4, 0u64..=2000, 0u64..=200).prop_map(|(pull_s, workers, eval_ms, plan_ms)| {
            (
                ClientConfig {
                    task_start: DurationDist::Uniform { min_ms: 0, max_ms: pull_s * 1000 },
                },
                SchedulerConfig {
                    num_schedulers: workers,
                    eval_time: DurationDist::Constant(eval_ms),
                    plan_apply_time: DurationDist::Constant(plan_ms),
                    ..SchedulerConfig::default()
                },
            )
        }),
    ]
}

/// A whole configuration: cluster, workloads, timeline, seed, algorithm and version.
pub fn arb_config() -> impl Strategy<Value = SimConfig> {
    (
        arb_pools(),
        arb_workloads(),
        any::<u64>(),
        1u64..=4,
        prop_oneof![Just(Algorithm::Binpack), Just(Algorithm::Spread)],
        prop_oneof![
            Just(NomadVersion {
                major: 1,
                minor: 10,
                patch: 5
            }),
            Just(NomadVersion::NEWEST)
        ],
    )
        .prop_flat_map(|(pools, workloads, seed, hours, algorithm, version)| {
            let horizon = hours * HOUR_MS;
            let ops = arb_operations(&pools, horizon);
            (
                Just(pools),
                Just(workloads),
                Just(seed),
                Just(horizon),
                Just(algorithm),
                Just(version),
                ops,
                arb_latency(),
            )
        })
        .prop_map(
            |(pools, workloads, seed, horizon, algorithm, version, operations, latency)| {
                let mut c = config(seed, horizon, pools, workloads);
                c.algorithm = algorithm;
                c.nomad_version = version;
                c.operations = operations;
                (c.client, c.scheduler) = latency;
                c
            },
        )
}
