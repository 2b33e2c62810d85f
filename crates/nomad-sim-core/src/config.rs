//! The validated configuration of one run: cluster, workloads, operations. Built by the scenario loader.

use std::collections::BTreeMap;

use crate::constraint::Constraint;
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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_allocations: 20_000_000,
        }
    }
}

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
}

impl PoolConfig {
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
}

impl JobType {
    /// Nomad's name for the type.
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Batch => "batch",
            JobType::Service => "service",
            JobType::System => "system",
        }
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
    /// The job's node pool; `None` means all pools.
    pub node_pool: Option<String>,
    /// Constraints on the job and task group.
    pub constraints: Vec<Constraint>,
    /// `distinct_hosts`: no two allocs of one job on the same node.
    pub distinct_hosts: bool,
    /// Share of allocations that fail part-way (0..1).
    pub failure_rate: f64,
    /// The service migrate block's `max_parallel`.
    pub max_parallel: u32,
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
}
