//! The validated configuration of one run: cluster, workloads, operations. Built by the scenario loader.

use std::collections::BTreeMap;

use crate::constraint::Constraint;
pub use crate::hardware::{DeviceAsk, DeviceGroup, GroupAsks, PoolHardware, StaticPort};
use crate::resources::Resources;
use crate::time::{SimTime, HOUR_MS, MINUTE_MS};

/// Everything a run needs. The scenario crate builds it from YAML; tests and embedders build it directly.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The scenario's name.
    pub name: String,
    /// The master seed; every random stream is derived from it.
    pub seed: u64,
    /// Arrivals stop at this time; the run goes on until submitted work ends.
    pub horizon_ms: SimTime,
    /// The Nomad behaviour profile.
    pub nomad_version: NomadVersion,
    /// The placement algorithm.
    pub algorithm: Algorithm,
    /// The client node pools.
    pub pools: Vec<PoolConfig>,
    /// The workloads that submit jobs.
    pub workloads: Vec<WorkloadConfig>,
    /// Operator actions at fixed times.
    pub operations: Vec<Operation>,
    /// The nomad-autoscaler cluster policy, if any.
    pub autoscaler: Option<AutoscalerConfig>,
    /// Bounds that keep a run's memory in check.
    pub limits: Limits,
    /// The server's garbage collection of terminal objects.
    pub gc: GcConfig,
    /// The server's scheduler workers and plan queue (latency and throughput).
    pub scheduler: SchedulerConfig,
    /// The clients: how long a task takes to start.
    pub client: ClientConfig,
    /// The server's heartbeat timers for clients.
    pub heartbeat: HeartbeatConfig,
    /// The wall-clock time of simulated time zero, in milliseconds since the Unix epoch: the
    /// seconds in periodic and dispatched child IDs, and the clock periodic specs read.
    pub start_unix_ms: u64,
}

/// The default wall-clock start: Monday 2026-01-05 at midnight UTC.
pub const DEFAULT_START_UNIX_MS: u64 = 1_767_571_200_000;

/// The server's scheduling throughput: Nomad's `num_schedulers` workers take evals from the
/// broker, each spends `eval_time` on one, submits its plan to the leader's plan queue, which
/// applies plans one at a time (`plan_apply_time` each), and waits for the result. With both
/// times zero (the default) an eval is processed at the instant it is created.
#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    /// Scheduler workers on the leader (`server.num_schedulers`, Nomad's default: one per CPU
    /// core; the simulator's default is 4).
    pub num_schedulers: u32,
    /// How long a worker spends on one eval before it submits the plan.
    pub eval_time: DurationDist,
    /// How long the plan applier takes for one plan (plans are applied one at a time).
    pub plan_apply_time: DurationDist,
    /// Nomad's `memory_oversubscription_enabled`: allocs record their task group's
    /// `memory_max` (placement still uses `memory`). Off by default, as in Nomad.
    pub memory_oversubscription: bool,
    /// Which schedulers may preempt lower-priority allocs (Nomad's `PreemptionConfig`).
    pub preemption: PreemptionConfig,
}

/// Nomad's `PreemptionConfig`: per scheduler type, whether a placement that fits nowhere may
/// evict allocs of jobs at least 10 priority levels lower. Nomad's defaults: system on, the
/// others off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreemptionConfig {
    /// `SystemSchedulerEnabled` (default true).
    pub system: bool,
    /// `BatchSchedulerEnabled` (default false).
    pub batch: bool,
    /// `ServiceSchedulerEnabled` (default false).
    pub service: bool,
    /// `SysBatchSchedulerEnabled` (default false).
    pub sysbatch: bool,
}

impl Default for PreemptionConfig {
    fn default() -> Self {
        PreemptionConfig {
            system: true,
            batch: false,
            service: false,
            sysbatch: false,
        }
    }
}

impl PreemptionConfig {
    /// True when the scheduler of `job_type` may preempt.
    pub fn enabled_for(&self, job_type: JobType) -> bool {
        match job_type {
            JobType::System => self.system,
            JobType::Batch => self.batch,
            JobType::Service => self.service,
            JobType::Sysbatch => self.sysbatch,
        }
    }
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            num_schedulers: 4,
            eval_time: DurationDist::Constant(0),
            plan_apply_time: DurationDist::Constant(0),
            memory_oversubscription: false,
            preemption: PreemptionConfig::default(),
        }
    }
}

impl SchedulerConfig {
    /// True when evals take no time, so the broker is drained at each instant.
    pub fn is_instant(&self) -> bool {
        matches!(self.eval_time, DurationDist::Constant(0))
            && matches!(self.plan_apply_time, DurationDist::Constant(0))
    }
}

/// The clients' side of starting work.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// From placement to the task running: the image pull and task setup (default zero). The
    /// alloc holds its resources from placement; its run time counts from the start.
    pub task_start: DurationDist,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            task_start: DurationDist::Constant(0),
        }
    }
}

/// The server's failure detector (Nomad's `server` settings of the same names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeartbeatConfig {
    /// The shortest heartbeat TTL given to a client (`min_heartbeat_ttl`, default 10s).
    pub min_heartbeat_ttl_ms: SimTime,
    /// The TTL grows so that all clients together heartbeat at most this often per second
    /// (`max_heartbeats_per_second`, default 50).
    pub max_heartbeats_per_second: u32,
    /// Added to the TTL before a client is considered gone (`heartbeat_grace`, default 10s).
    pub heartbeat_grace_ms: SimTime,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        HeartbeatConfig {
            min_heartbeat_ttl_ms: 10_000,
            max_heartbeats_per_second: 50,
            heartbeat_grace_ms: 10_000,
        }
    }
}

impl HeartbeatConfig {
    /// The base TTL for a cluster of `nodes` clients: `max(min_heartbeat_ttl, nodes / rate)`.
    /// Nomad adds a random stagger of up to one more TTL to each heartbeat.
    pub fn base_ttl_ms(&self, nodes: u64) -> SimTime {
        let rate = u64::from(self.max_heartbeats_per_second.max(1));
        self.min_heartbeat_ttl_ms.max(nodes * 1000 / rate)
    }
}

/// Nomad's garbage collection of terminal objects (server `*_gc_threshold` settings), so
/// memory follows the live cluster rather than the length of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcConfig {
    /// A terminal eval (and the allocs it placed, once terminal) of a service or system job is
    /// collected this long after it ended (`eval_gc_threshold`, default 1h).
    pub eval_gc_threshold_ms: SimTime,
    /// The same for batch jobs (`batch_eval_gc_threshold`, default 24h); a batch job's objects
    /// go with the job at the latest.
    pub batch_eval_gc_threshold_ms: SimTime,
    /// A dead job is collected this long after it died, with its evals and allocs
    /// (`job_gc_threshold`, default 4h).
    pub job_gc_threshold_ms: SimTime,
    /// A down or terminated node leaves the node list this long after (`node_gc_threshold`,
    /// default 24h).
    pub node_gc_threshold_ms: SimTime,
    /// How often the collector runs (Nomad's GC intervals are minutes; default 5m).
    pub interval_ms: SimTime,
}

impl Default for GcConfig {
    fn default() -> Self {
        GcConfig {
            eval_gc_threshold_ms: HOUR_MS,
            batch_eval_gc_threshold_ms: 24 * HOUR_MS,
            job_gc_threshold_ms: 4 * HOUR_MS,
            node_gc_threshold_ms: 24 * HOUR_MS,
            interval_ms: 5 * MINUTE_MS,
        }
    }
}

/// A nomad-autoscaler cluster scaling policy with the target-value strategy.
#[derive(Clone, Debug)]
pub struct AutoscalerConfig {
    /// The pool it scales.
    pub pool: String,
    /// Fewest nodes.
    pub min: u32,
    /// Most nodes.
    pub max: u32,
    /// How often the policy is evaluated.
    pub evaluation_interval_ms: SimTime,
    /// Quiet time after a scaling action.
    pub cooldown_ms: SimTime,
    /// The metric of the check.
    pub metric: AutoscalerMetric,
    /// The target value of the metric.
    pub target: f64,
    /// No action while `metric / target` is within `1 ± threshold`.
    pub threshold: f64,
    /// How scale-in picks nodes.
    pub node_selector: NodeSelector,
    /// Drain deadline for scale-in.
    pub node_drain_deadline_ms: SimTime,
}

/// What the autoscaler's check measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoscalerMetric {
    /// Allocated CPU over allocatable CPU of the pool's schedulable nodes, in percent.
    CpuAllocatedPct,
    /// Allocated memory over allocatable memory, in percent.
    MemoryAllocatedPct,
    /// Queued (blocked) allocations for the pool: the CI-queue case, usually with target 0.
    PendingAllocs,
}

impl AutoscalerMetric {
    /// Parses the metric name used in scenarios.
    pub fn parse(text: &str) -> Option<AutoscalerMetric> {
        Some(match text {
            "cpu_allocated_pct" => AutoscalerMetric::CpuAllocatedPct,
            "memory_allocated_pct" => AutoscalerMetric::MemoryAllocatedPct,
            "pending_allocs" | "blocked_allocs" => AutoscalerMetric::PendingAllocs,
            _ => return None,
        })
    }
}

/// Bounds on what a run may create; exceeding one stops arrivals and is reported.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The most allocations a run may create (placed or queued).
    pub max_allocations: u64,
    /// The run stops this long after the horizon even if work remains (a service that fails
    /// forever is rescheduled forever, as in Nomad). Default 30 days.
    pub max_time_past_horizon_ms: SimTime,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_allocations: 20_000_000,
            max_time_past_horizon_ms: DEFAULT_MAX_TIME_PAST_HORIZON_MS,
        }
    }
}

/// The default of [`Limits::max_time_past_horizon_ms`]: 30 days.
pub const DEFAULT_MAX_TIME_PAST_HORIZON_MS: SimTime = 30 * 24 * HOUR_MS;

/// The Nomad release whose behaviour the run reproduces, where behaviour changed between releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NomadVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

impl NomadVersion {
    /// The newest behaviour profile, the default.
    pub const NEWEST: NomadVersion = NomadVersion {
        major: 2,
        minor: 0,
        patch: 5,
    };

    /// Parses `1.11`, `1.10.6` or `v2.0.5`.
    pub fn parse(text: &str) -> Result<NomadVersion, crate::error::InputError> {
        Self::parse_text(text)
            .map_err(|m| crate::error::InputError::new(crate::error::InputErrorKind::Version, m))
    }

    fn parse_text(text: &str) -> Result<NomadVersion, String> {
        let t = text.trim().trim_start_matches('v');
        let parts: Vec<&str> = t.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(format!(
                "invalid Nomad version {text:?} (expected e.g. \"1.11\" or \"1.10.6\")"
            ));
        }
        let mut nums = [0u32; 3];
        for (i, p) in parts.iter().enumerate() {
            nums[i] = p.parse().map_err(|_| {
                format!("invalid Nomad version {text:?} (expected e.g. \"1.11\" or \"1.10.6\")")
            })?;
        }
        let v = NomadVersion {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
        };
        if v < (NomadVersion {
            major: 1,
            minor: 0,
            patch: 0,
        }) || v > Self::NEWEST
        {
            return Err(format!(
                "unsupported Nomad version {text:?}: supported are 1.0 to {}",
                Self::NEWEST
            ));
        }
        Ok(v)
    }

    /// True from 1.8 on, where a group's `disconnect` block replaced `max_client_disconnect`.
    pub fn has_disconnect_block(self) -> bool {
        (self.major, self.minor) >= (1, 8)
    }

    /// True from 1.3 on, where a group's `max_client_disconnect` appeared.
    pub fn has_max_client_disconnect(self) -> bool {
        (self.major, self.minor) >= (1, 3)
    }

    /// Whether batch allocs stopped at a drain deadline are replaced (before 1.10.6, and 1.11.0 onward not).
    pub fn replaces_drained_batch_allocs(self) -> bool {
        let v = (self.major, self.minor, self.patch);
        if v >= (1, 11, 0) {
            return false;
        }
        v < (1, 10, 6)
    }
}

impl std::fmt::Display for NomadVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The placement algorithm: Nomad's two scheduler algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// Nomad's default: best fit ("BestFit v3").
    Binpack,
    /// Nomad's `spread`: worst fit.
    Spread,
}

impl Algorithm {
    /// Parses `binpack` or `spread`.
    pub fn parse(text: &str) -> Option<Algorithm> {
        match text {
            "binpack" => Some(Algorithm::Binpack),
            "spread" => Some(Algorithm::Spread),
            _ => None,
        }
    }

    /// The algorithm's name, as Nomad's scheduler configuration spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Binpack => "binpack",
            Algorithm::Spread => "spread",
        }
    }
}

/// A pool of identical client nodes, named `<pool>-<index>`.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// The pool's name; nodes are `<name>-0`, `<name>-1`, ...
    pub name: String,
    /// Nodes at the start of the run.
    pub count: u32,
    /// The nodes' datacenter.
    pub datacenter: String,
    /// The nodes' Nomad node pool (Nomad's default: `default`); `${node.pool}` resolves to it
    /// and a job's `node_pool` selects by it. `name` is the simulator's name for the group.
    pub node_pool: String,
    /// The nodes' node class.
    pub node_class: String,
    /// Total node resources.
    pub resources: Resources,
    /// Resources reserved for the OS and the Nomad client.
    pub reserved: Resources,
    /// Delay before a node added during the run becomes ready.
    pub boot_time_ms: SimTime,
    /// Fingerprinted attributes, for constraints.
    pub attributes: BTreeMap<String, String>,
    /// Client metadata, for constraints.
    pub meta: BTreeMap<String, String>,
    /// Price of one node-hour, for cost figures.
    pub cost_per_hour: f64,
    /// The pool's first nodes as a real cluster names them (`import` keeps them); the others
    /// are `<name>-<index>`.
    pub named_nodes: Vec<NamedNode>,
    /// Reserved ports, devices and reservable cores (none by default).
    pub hardware: PoolHardware,
}

/// A node's name, and its ID when it has a real one (else one is derived from the seed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedNode {
    /// The node's name.
    pub name: String,
    /// The node's ID.
    pub id: Option<String>,
}

impl PoolConfig {
    /// The name of the pool's `index`-th node.
    pub fn node_name(&self, index: u32) -> String {
        match self.named_nodes.get(index as usize) {
            Some(n) => n.name.clone(),
            None => format!("{}-{}", self.name, index),
        }
    }

    /// What a node of this pool can give to allocations.
    pub fn allocatable(&self) -> Resources {
        self.resources.saturating_minus(self.reserved)
    }
}

/// Nomad's job types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobType {
    /// Run-to-completion work (what CircleCI submits).
    Batch,
    /// Long-running work, migrated on drain.
    Service,
    /// One alloc on every eligible node.
    System,
    /// One run-to-completion alloc on every eligible node at each evaluation of the job.
    Sysbatch,
}

impl JobType {
    /// Nomad's name for the type.
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Batch => "batch",
            JobType::Service => "service",
            JobType::System => "system",
            JobType::Sysbatch => "sysbatch",
        }
    }

    /// True for the types Nomad's system scheduler places: one alloc per eligible node.
    pub fn is_per_node(self) -> bool {
        matches!(self, JobType::System | JobType::Sysbatch)
    }

    /// True for run-to-completion types (batch and sysbatch): the batch GC thresholds apply.
    pub fn runs_to_completion(self) -> bool {
        matches!(self, JobType::Batch | JobType::Sysbatch)
    }
}

/// A workload: a stream of arrivals, each submitting `parallelism` Nomad jobs of one task group.
#[derive(Clone, Debug)]
pub struct WorkloadConfig {
    /// The workload's name; job IDs start with it.
    pub name: String,
    /// The job type.
    pub job_type: JobType,
    /// The job priority (1..=100, default 50).
    pub priority: u8,
    /// When jobs arrive.
    pub arrivals: Arrivals,
    /// Nomad jobs per arrival (CircleCI's `parallelism`).
    pub parallelism: CountDist,
    /// The task group's `count`.
    pub count: u32,
    /// The task group's resource ask.
    pub resources: Resources,
    /// How long an allocation runs.
    pub duration: DurationDist,
    /// The job's datacenters (glob patterns); empty means all.
    pub datacenters: Vec<String>,
    /// The job's Nomad node pool: only nodes whose [`PoolConfig::node_pool`] is this one are
    /// candidates; `None` is Nomad's `all` pool (every node).
    pub node_pool: Option<String>,
    /// Constraints on the job and task group.
    pub constraints: Vec<Constraint>,
    /// `distinct_hosts`: no two allocs of one job on the same node.
    pub distinct_hosts: bool,
    /// The chance that one run of the task fails part-way (0..1); each start and each restart
    /// draws again. A failed run is restarted in place by the restart policy, and once that is
    /// exhausted the alloc fails and the reschedule policy applies.
    pub failure_rate: f64,
    /// The service migrate block's `max_parallel`.
    pub max_parallel: u32,
    /// The migrate block's `min_healthy_time`: a replacement is healthy once its task has run
    /// this long (default 10s).
    pub min_healthy_time_ms: SimTime,
    /// The migrate block's `healthy_deadline`: a replacement not healthy by then is marked
    /// unhealthy, which also lets the drain go on (default 5m).
    pub healthy_deadline_ms: SimTime,
    /// The group's restart policy (client side); `None`: Nomad's default for the job type.
    pub restart: Option<RestartPolicy>,
    /// The group's reschedule policy (server side); `None`: Nomad's default for the job type.
    pub reschedule: Option<ReschedulePolicy>,
    /// The group's `disconnect` block (or `max_client_disconnect`), if any.
    pub disconnect: Option<DisconnectPolicy>,
    /// `spread` blocks, the job's first, then the group's (Nomad's order); empty: none.
    pub spreads: Vec<Spread>,
    /// `affinity` blocks of the job, the group and its tasks, in that order; empty: none.
    pub affinities: Vec<Affinity>,
    /// Ports, devices, reserved cores and `memory_max` (none by default); boxed so that a
    /// workload without them stays small.
    pub asks: Box<GroupAsks>,
    /// The Nomad identity of a workload read from a job file; `None` for a scenario's own
    /// workloads, whose jobs are named after the workload.
    pub identity: Option<Box<JobIdentity>>,
}

/// A job file's identity, kept in every name the simulator prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobIdentity {
    /// The job's ID.
    pub job_id: String,
    /// The task group's name.
    pub group: String,
    /// True when the job is registered once under its own ID (no `-<n>` suffix).
    pub registered_once: bool,
    /// The group's place among the job's task groups (0 for the first). A job with several
    /// groups is one workload per group, in file order, with the same arrivals; each arrival's
    /// jobs of those workloads form one Nomad job in the views.
    pub group_index: u32,
    /// How many task groups the job has (1 for most jobs).
    pub group_count: u32,
    /// The group's tasks: name, CPU (MHz) and memory (MB), for the views.
    pub tasks: Vec<(String, u64, u64)>,
}

/// A `spread` block: allocations spread over the values of a node attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spread {
    /// The attribute, such as `${node.datacenter}` or `${meta.rack}`.
    pub attribute: String,
    /// 0 to 100 (Nomad's default is 50): the spread's share among the job's spreads.
    pub weight: u8,
    /// Desired shares per value; empty means an even spread over the values in use.
    pub targets: Vec<SpreadTarget>,
}

/// One `target` of a spread block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpreadTarget {
    /// The attribute's value.
    pub value: String,
    /// Its share of the task group's count, in percent.
    pub percent: u8,
}

/// An `affinity` block: a constraint that raises (or, with a negative weight, lowers) the
/// score of the nodes that satisfy it.
#[derive(Clone, Debug)]
pub struct Affinity {
    /// The attribute, operator and value, as a constraint.
    pub constraint: Constraint,
    /// -100 to 100, not 0 (Nomad's default is 50).
    pub weight: i8,
}

impl WorkloadConfig {
    /// The task group's name: the job file's group, else the workload's name.
    pub fn group_name(&self) -> &str {
        self.identity.as_ref().map_or(&self.name, |i| &i.group)
    }

    /// A later group of a job of several groups: it has no arrivals of its own, and is
    /// registered with the job's first group at each of that group's arrivals.
    pub fn follows_first_group(&self) -> bool {
        self.identity.as_ref().is_some_and(|i| i.group_index > 0)
    }

    /// How many groups of its job follow this workload (the workloads right after it); 0
    /// unless it is the first group of a job of several.
    pub fn following_groups(&self) -> u32 {
        match &self.identity {
            Some(i) if i.group_index == 0 => i.group_count.saturating_sub(1),
            _ => 0,
        }
    }

    /// The restart policy in force: the workload's, or Nomad's default for its type.
    pub fn restart_policy(&self) -> RestartPolicy {
        self.restart
            .unwrap_or_else(|| RestartPolicy::default_for(self.job_type))
    }

    /// The reschedule policy in force: the workload's, or Nomad's default for its type. System
    /// jobs are never rescheduled.
    pub fn reschedule_policy(&self) -> ReschedulePolicy {
        match self.job_type {
            t @ (JobType::System | JobType::Sysbatch) => ReschedulePolicy::default_for(t),
            t => self
                .reschedule
                .unwrap_or_else(|| ReschedulePolicy::default_for(t)),
        }
    }
}

/// The restart block: how a client restarts a failed task in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Restarts allowed within `interval`.
    pub attempts: u32,
    /// The window in which `attempts` restarts may happen; it begins when the task first starts.
    pub interval_ms: SimTime,
    /// The wait before a restart; Nomad adds a random jitter of up to a quarter of it.
    pub delay_ms: SimTime,
    /// What happens once the attempts are used up.
    pub mode: RestartMode,
}

/// The restart block's `mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartMode {
    /// The task fails, so the alloc fails and may be rescheduled.
    Fail,
    /// The task waits for the interval to end and is restarted.
    Delay,
}

impl RestartPolicy {
    /// Nomad's defaults: batch and sysbatch 3 attempts in 24h, service and system 2 in 30m;
    /// delay 15s, mode fail.
    pub fn default_for(job_type: JobType) -> RestartPolicy {
        match job_type {
            JobType::Batch | JobType::Sysbatch => RestartPolicy {
                attempts: 3,
                interval_ms: 24 * HOUR_MS,
                delay_ms: 15_000,
                mode: RestartMode::Fail,
            },
            JobType::Service | JobType::System => RestartPolicy {
                attempts: 2,
                interval_ms: 30 * MINUTE_MS,
                delay_ms: 15_000,
                mode: RestartMode::Fail,
            },
        }
    }
}

/// The reschedule block: how the server replaces a failed alloc elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReschedulePolicy {
    /// Reschedules allowed within `interval` (ignored when `unlimited`).
    pub attempts: u32,
    /// The sliding window the attempts are counted in.
    pub interval_ms: SimTime,
    /// The base delay before a replacement.
    pub delay_ms: SimTime,
    /// How the delay grows from one reschedule to the next.
    pub delay_function: DelayFunction,
    /// The ceiling of the delay (0: none).
    pub max_delay_ms: SimTime,
    /// Reschedule without limit.
    pub unlimited: bool,
}

/// The reschedule block's `delay_function`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DelayFunction {
    /// Always `delay`.
    Constant,
    /// Twice the previous delay.
    Exponential,
    /// The sum of the previous two delays.
    Fibonacci,
}

impl DelayFunction {
    /// Parses Nomad's name.
    pub fn parse(text: &str) -> Option<DelayFunction> {
        Some(match text {
            "constant" => DelayFunction::Constant,
            "exponential" => DelayFunction::Exponential,
            "fibonacci" => DelayFunction::Fibonacci,
            _ => return None,
        })
    }
}

impl ReschedulePolicy {
    /// Nomad's defaults: batch one attempt in 24h after 5s (constant); service unlimited,
    /// exponential from 30s up to 1h; system and sysbatch jobs are never rescheduled.
    pub fn default_for(job_type: JobType) -> ReschedulePolicy {
        match job_type {
            JobType::Batch => ReschedulePolicy {
                attempts: 1,
                interval_ms: 24 * HOUR_MS,
                delay_ms: 5_000,
                delay_function: DelayFunction::Constant,
                max_delay_ms: 0,
                unlimited: false,
            },
            JobType::Service => ReschedulePolicy {
                attempts: 0,
                interval_ms: 0,
                delay_ms: 30_000,
                delay_function: DelayFunction::Exponential,
                max_delay_ms: HOUR_MS,
                unlimited: true,
            },
            JobType::System | JobType::Sysbatch => ReschedulePolicy {
                attempts: 0,
                interval_ms: 0,
                delay_ms: 0,
                delay_function: DelayFunction::Constant,
                max_delay_ms: 0,
                unlimited: false,
            },
        }
    }

    /// True when the policy allows any reschedule at all.
    pub fn enabled(&self) -> bool {
        self.unlimited || self.attempts > 0
    }
}

/// The group's `disconnect` block: what the server does when a client stops heartbeating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DisconnectPolicy {
    /// How long the allocs stay `unknown` before they are `lost` (`lost_after`, or the older
    /// `max_client_disconnect`).
    pub lost_after_ms: SimTime,
    /// Place a replacement while the original is `unknown` (`replace`, default true).
    pub replace: bool,
}

/// When a workload's arrivals happen.
#[derive(Clone, Debug)]
pub enum Arrivals {
    /// A Poisson process with this many arrivals per hour.
    Poisson {
        /// Arrivals per hour.
        rate_per_hour: f64,
    },
    /// Arrivals at these times.
    At(Vec<SimTime>),
    /// One arrival every `interval_ms`, from `start_ms`.
    Every {
        /// The gap between arrivals.
        interval_ms: SimTime,
        /// The first arrival.
        start_ms: SimTime,
    },
    /// A Poisson process whose rate depends on the hour of the day (24 rates per hour).
    Diurnal {
        /// Arrivals per hour, for hours 0..24 of each simulated day.
        rates_per_hour: Vec<f64>,
    },
    /// Arrivals read from a trace: each row sets its own parallelism, ask and duration.
    Trace(Vec<TraceArrival>),
    /// A periodic job: the parent is registered at time zero and launches a child
    /// `<parent>/periodic-<unix s>` at each time its cron spec matches.
    Periodic(Box<PeriodicSpec>),
    /// A parameterized job: the parent is never placed; each arrival of the inner process
    /// dispatches a child `<parent>/dispatch-<unix s>-<8 hex>`.
    Dispatch(Box<Arrivals>),
}

impl Arrivals {
    /// The process that times the arrivals: the inner one of a dispatch.
    pub fn timing(&self) -> &Arrivals {
        match self {
            Arrivals::Dispatch(inner) => inner.timing(),
            a => a,
        }
    }

    /// True for the arrivals of a periodic or parameterized parent, whose children are named
    /// after it.
    pub fn has_parent(&self) -> bool {
        matches!(self, Arrivals::Periodic(_) | Arrivals::Dispatch(_))
    }
}

/// A job's `periodic` block.
#[derive(Clone, Debug)]
pub struct PeriodicSpec {
    /// When children launch.
    pub cron: crate::cron::CronSpec,
    /// More specs of a `crons` list (Nomad 1.6.2 on): a child launches at the earliest match
    /// of any of them.
    pub more_crons: Vec<crate::cron::CronSpec>,
    /// The offset of the spec's `time_zone` from UTC, in seconds (before the first change).
    pub utc_offset_s: i64,
    /// The zone's offset changes (daylight saving), as (Unix second it takes effect, new
    /// offset), in time order; empty for a fixed zone.
    pub offset_changes: Vec<(i64, i64)>,
    /// Skip a launch while an earlier child is still pending or running.
    pub prohibit_overlap: bool,
}

impl PeriodicSpec {
    /// The zone's offset in force at Unix second `t`.
    pub fn offset_at(&self, t: i64) -> i64 {
        self.offset_changes
            .iter()
            .take_while(|(at, _)| *at <= t)
            .last()
            .map_or(self.utc_offset_s, |(_, o)| *o)
    }

    /// The first launch strictly after Unix second `after_s`, reading the cron in the zone's
    /// wall-clock time. Across an offset change, a wall-clock time the clock skips does not
    /// launch, and one it repeats launches once (at its first occurrence).
    pub fn next_after_s(&self, after_s: i64) -> Option<i64> {
        let wall_floor = after_s + self.offset_at(after_s);
        let mut from = after_s;
        loop {
            let offset = self.offset_at(from + 1);
            let change = self
                .offset_changes
                .iter()
                .find(|(at, _)| *at > from + 1)
                .map(|(at, _)| *at);
            let next = std::iter::once(&self.cron)
                .chain(&self.more_crons)
                .filter_map(|c| c.next_after_s(from, offset))
                .min()?;
            match change {
                Some(at) if next >= at => from = at - 1,
                _ if next + offset <= wall_floor => from = next,
                _ => return Some(next),
            }
        }
    }
}

/// One row of an arrival trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceArrival {
    /// Submission time.
    pub submit_ms: SimTime,
    /// Nomad jobs for this arrival.
    pub parallelism: u32,
    /// CPU ask in MHz.
    pub cpu_mhz: u64,
    /// Memory ask in MB.
    pub memory_mb: u64,
    /// Run time.
    pub duration_ms: SimTime,
}

/// A distribution of counts (CircleCI parallelism).
#[derive(Clone, Debug)]
pub enum CountDist {
    /// Always this many.
    Fixed(u32),
    /// Uniform on `min..=max`.
    Uniform {
        /// Smallest value.
        min: u32,
        /// Largest value.
        max: u32,
    },
    /// One of the values, with relative weights.
    Weighted(Vec<(u32, f64)>),
}

impl CountDist {
    /// True when every draw is exactly 1 (no fan-out suffix on job IDs).
    pub fn is_always_one(&self) -> bool {
        matches!(self, CountDist::Fixed(1))
    }
}

/// A distribution of run times.
#[derive(Clone, Debug)]
pub enum DurationDist {
    /// Always this long.
    Constant(SimTime),
    /// Exponential with this mean.
    Exponential {
        /// Mean run time.
        mean_ms: f64,
    },
    /// Lognormal with this median and shape.
    Lognormal {
        /// Median run time.
        median_ms: f64,
        /// Shape (standard deviation of the log).
        sigma: f64,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Shortest run time.
        min_ms: SimTime,
        /// Longest run time.
        max_ms: SimTime,
    },
    /// Drawn uniformly from observed values.
    Empirical(Vec<SimTime>),
}

/// An operator action at a fixed time.
#[derive(Clone, Debug)]
pub struct Operation {
    /// When it happens.
    pub at_ms: SimTime,
    /// What happens.
    pub action: Action,
}

/// Which nodes an operation applies to.
#[derive(Clone, Debug)]
pub enum NodeTarget {
    /// Nodes by name.
    Names(Vec<String>),
    /// `count` nodes of a pool, chosen by a node selector.
    Select {
        /// The pool.
        pool: String,
        /// How many.
        count: u32,
        /// The selector strategy.
        selector: NodeSelector,
    },
}

/// The nomad-autoscaler's node selector strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeSelector {
    /// Nodes with the least allocated resources first.
    LeastBusy,
    /// Most recently created nodes first.
    NewestCreateIndex,
    /// Oldest nodes first.
    OldestCreateIndex,
    /// Only nodes that run nothing.
    Empty,
    /// Only nodes that run nothing but system jobs.
    EmptyIgnoreSystem,
}

impl NodeSelector {
    /// Parses the autoscaler's strategy name.
    pub fn parse(text: &str) -> Option<NodeSelector> {
        Some(match text {
            "least_busy" => NodeSelector::LeastBusy,
            "newest_create_index" => NodeSelector::NewestCreateIndex,
            "oldest_create_index" => NodeSelector::OldestCreateIndex,
            "empty" => NodeSelector::Empty,
            "empty_ignore_system" => NodeSelector::EmptyIgnoreSystem,
            _ => return None,
        })
    }
}

/// How a drain ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrainDeadline {
    /// Stop what is left after this long (the CLI default is 1h).
    After(SimTime),
    /// `-force`: stop everything now.
    Force,
    /// `-no-deadline`: wait for everything.
    None,
}

/// A drain specification, as `nomad node drain -enable` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrainSpec {
    /// The deadline.
    pub deadline: DrainDeadline,
    /// `-ignore-system`.
    pub ignore_system: bool,
}

/// What an operation does.
#[derive(Clone, Debug)]
pub enum Action {
    /// `nomad node drain -enable`.
    NodeDrain {
        /// The nodes.
        target: NodeTarget,
        /// The drain spec.
        spec: DrainSpec,
    },
    /// `nomad node drain -disable` (with `-keep-ineligible` when `keep_ineligible`).
    NodeDrainDisable {
        /// The nodes.
        nodes: Vec<String>,
        /// Leave the nodes ineligible.
        keep_ineligible: bool,
    },
    /// `nomad node eligibility -enable|-disable`.
    NodeEligibility {
        /// The nodes.
        nodes: Vec<String>,
        /// Eligible after the operation.
        eligible: bool,
    },
    /// Add nodes to a pool; they are ready after the pool's boot time.
    ScaleUp {
        /// The pool.
        pool: String,
        /// How many nodes.
        count: u32,
    },
    /// The ASG scale-down procedure: select, drain, terminate.
    ScaleDown {
        /// The pool.
        pool: String,
        /// How many nodes.
        count: u32,
        /// The selector strategy.
        selector: NodeSelector,
        /// The drain deadline for each node.
        drain_deadline: DrainDeadline,
        /// The ASG lifecycle hook's heartbeat timeout, if the hook is used.
        heartbeat_timeout_ms: Option<SimTime>,
    },
    /// The nodes go down; their allocs are lost.
    NodeFail {
        /// The nodes.
        nodes: Vec<String>,
    },
    /// `nomad job stop [-purge]`: a workload's name stops the workload (its arrivals or
    /// launches end, and every job of it still held is stopped); a job ID as the views print
    /// it (`web-3`, `cleanup/periodic-1767571260`) stops that job.
    JobStop {
        /// A workload name or a job ID.
        job: String,
        /// Remove the job from the read model at once.
        purge: bool,
    },
}
