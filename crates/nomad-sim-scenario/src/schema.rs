//! The scenario file's shape, as serde reads it. Unknown keys are rejected everywhere.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use nomad_sim_core::time::parse_duration_ms;

/// The longest duration or time a scenario or trace may give: 100 years, in milliseconds.
pub const MAX_DURATION_MS: u64 = 100 * 365 * 24 * 3_600_000;

/// Parses a Go duration within [`MAX_DURATION_MS`].
pub fn parse_bounded_duration_ms(text: &str) -> Result<u64, String> {
    let ms = parse_duration_ms(text)?;
    if ms > MAX_DURATION_MS {
        return Err(format!(
            "duration {text:?} is longer than 100 years, the most the simulator accepts"
        ));
    }
    Ok(ms)
}

/// A Go duration string (`250ms`, `90s`, `1h30m`), in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dur(pub u64);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"90s\", \"5m\" or \"1h30m\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_bounded_duration_ms(v).map(Dur).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
                if v == 0 {
                    Ok(Dur(0))
                } else {
                    Err(E::custom(format!(
                        "duration {v} has no unit: write \"{v}s\", \"{v}m\" or \"{v}ms\""
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                if v < 0 {
                    Err(E::custom(format!("negative duration {v}")))
                } else {
                    self.visit_u64(v as u64)
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                Err(E::custom(format!(
                    "duration {v} has no unit: write e.g. \"{v}s\" or \"{v}m\""
                )))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A rate such as `300/h`, `5/m` or `0.5/s`, in arrivals per hour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate(pub f64);

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rate such as \"300/h\", \"5/m\" or \"0.5/s\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                parse_rate_per_hour(v).map(Rate).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
                Err(E::custom(format!(
                    "rate {v} has no unit: write \"{v}/h\", \"{v}/m\" or \"{v}/s\""
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
                Err(E::custom(format!(
                    "rate {v} has no unit and must not be negative"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Rate, E> {
                Err(E::custom(format!(
                    "rate {v} has no unit: write \"{v}/h\", \"{v}/m\" or \"{v}/s\""
                )))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Parses `N/h`, `N/m`, `N/s` or `N/d` into arrivals per hour.
pub fn parse_rate_per_hour(text: &str) -> Result<f64, String> {
    let Some((number, unit)) = text.trim().split_once('/') else {
        return Err(format!(
            "invalid rate {text:?}: expected a rate such as \"300/h\", \"5/m\" or \"0.5/s\""
        ));
    };
    let n: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("invalid rate {text:?}: {number:?} is not a number"))?;
    if !n.is_finite() || n < 0.0 {
        return Err(format!(
            "invalid rate {text:?}: must be a non-negative number"
        ));
    }
    let per_hour = match unit.trim() {
        "s" | "sec" | "second" => 3600.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 1.0,
        "d" | "day" => 1.0 / 24.0,
        other => {
            return Err(format!(
                "invalid rate {text:?}: unknown unit {other:?} (use s, m, h or d)"
            ))
        }
    };
    Ok(n * per_hour)
}

/// A scalar written as a string, number or boolean (attribute and meta values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalarText(pub String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ScalarText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A Nomad version, which must be quoted (`"1.10"` unquoted would read as the number 1.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionText(pub String);

impl<'de> Deserialize<'de> for VersionText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = VersionText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a quoted Nomad version such as \"1.11\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<VersionText, E> {
                Ok(VersionText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<VersionText, E> {
                Err(E::custom(format!(
                    "nomad_version {v} must be quoted, e.g. \"1.10\" (unquoted, 1.10 reads as 1.1)"
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<VersionText, E> {
                Err(E::custom(format!(
                    "nomad_version {v} must be quoted, e.g. \"{v}.0\""
                )))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The whole scenario file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub start: Option<String>,
    pub horizon: Dur,
    #[serde(default)]
    pub nomad_version: Option<VersionText>,
    #[serde(default)]
    pub scheduler: Option<SchedulerFile>,
    pub node_pools: Vec<PoolFile>,
    #[serde(default)]
    pub resource_classes: BTreeMap<String, ResourcesFile>,
    pub workloads: Vec<WorkloadFile>,
    #[serde(default)]
    pub operations: Vec<OperationFile>,
    #[serde(default)]
    pub autoscaler: Option<AutoscalerFile>,
    #[serde(default)]
    pub limits: Option<LimitsFile>,
    #[serde(default)]
    pub server: Option<ServerFile>,
    #[serde(default)]
    pub client: Option<ClientFile>,
    #[serde(default)]
    pub api: Option<ApiFile>,
}

/// `api:`: what `nomad-sim serve` assumes of jobs registered over Nomad's HTTP API.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiFile {
    /// Run time of a registered job whose spec gives none (no `run_for` task config and no
    /// `nomad_sim_duration` meta); default 10m.
    #[serde(default)]
    pub default_duration: Option<Dur>,
}

/// `client:`: settings of the Nomad clients.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    /// From placement to the task running (image pull): a duration or a distribution.
    #[serde(default)]
    pub task_start: Option<DurationFile>,
}

/// `server:`: settings of the Nomad server agent.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerFile {
    #[serde(default)]
    pub gc: Option<GcFile>,
    #[serde(default)]
    pub heartbeat_grace: Option<Dur>,
    #[serde(default)]
    pub min_heartbeat_ttl: Option<Dur>,
    #[serde(default)]
    pub max_heartbeats_per_second: Option<u32>,
}

/// `server.gc:`: Nomad's garbage-collection thresholds (names as in the agent's `server` block).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GcFile {
    #[serde(default)]
    pub eval_gc_threshold: Option<Dur>,
    #[serde(default)]
    pub batch_eval_gc_threshold: Option<Dur>,
    #[serde(default)]
    pub job_gc_threshold: Option<Dur>,
    #[serde(default)]
    pub node_gc_threshold: Option<Dur>,
    #[serde(default)]
    pub interval: Option<Dur>,
}

/// `scheduler:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchedulerFile {
    #[serde(default)]
    pub algorithm: Option<String>,
    /// Scheduler workers on the leader (Nomad's `server.num_schedulers`).
    #[serde(default)]
    pub num_schedulers: Option<u32>,
    /// Time a worker spends on one eval: a duration or a distribution.
    #[serde(default)]
    pub eval_time: Option<DurationFile>,
    /// Time the plan applier spends on one plan: a duration or a distribution.
    #[serde(default)]
    pub plan_apply_time: Option<DurationFile>,
    /// Nomad's `memory_oversubscription_enabled`: allocs record `memory_max` (default false).
    #[serde(default)]
    pub memory_oversubscription: Option<bool>,
    /// Which schedulers may preempt lower-priority allocs (Nomad's `preemption_config`);
    /// keys not given keep Nomad's defaults (system on, the others off).
    #[serde(default)]
    pub preemption: Option<PreemptionFile>,
}

/// `scheduler.preemption:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreemptionFile {
    /// System jobs may preempt (default true).
    #[serde(default)]
    pub system: Option<bool>,
    /// Batch jobs may preempt (default false).
    #[serde(default)]
    pub batch: Option<bool>,
    /// Service jobs may preempt (default false).
    #[serde(default)]
    pub service: Option<bool>,
    /// Sysbatch jobs may preempt (default false).
    #[serde(default)]
    pub sysbatch: Option<bool>,
}

/// `limits:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    #[serde(default)]
    pub max_allocations: Option<u64>,
    #[serde(default)]
    pub max_time_past_horizon: Option<Dur>,
}

/// `{ cpu, memory, disk }` in MHz, MB, MB; a pool's `cores` (reservable cores) and a
/// workload's `cores` (cores to reserve) and `memory_max` (MB).
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourcesFile {
    #[serde(default)]
    pub cpu: u64,
    #[serde(default)]
    pub memory: u64,
    #[serde(default)]
    pub disk: u64,
    /// Whole cores: reservable on a pool's nodes, reserved by a workload's allocs.
    #[serde(default)]
    pub cores: Option<u32>,
    /// A workload's memory limit with oversubscription, MB.
    #[serde(default)]
    pub memory_max: Option<u64>,
}

/// One device group of a pool's nodes (Nomad's fingerprinted `NodeDeviceResource`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceFile {
    pub vendor: String,
    #[serde(rename = "type")]
    pub device_type: String,
    /// The model, e.g. `Tesla T4`.
    #[serde(default)]
    pub name: Option<String>,
    /// Instances per node.
    pub count: u32,
    #[serde(default)]
    pub attributes: BTreeMap<String, ScalarText>,
}

/// One port of a workload's group network: `{ label, static }`, dynamic without `static`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortFile {
    pub label: String,
    #[serde(default, rename = "static")]
    pub static_port: Option<u32>,
}

/// One device ask of a workload (Nomad's `device` block in `resources`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceAskFile {
    /// `type`, `vendor/type` or `vendor/type/name`.
    pub name: String,
    /// Instances (default 1).
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub constraints: Vec<ConstraintFile>,
    #[serde(default)]
    pub affinities: Vec<AffinityFile>,
}

/// One entry of `node_pools:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolFile {
    pub name: String,
    pub count: u32,
    #[serde(default)]
    pub datacenter: Option<String>,
    /// The nodes' Nomad node pool (default `default`).
    #[serde(default)]
    pub node_pool: Option<String>,
    #[serde(default)]
    pub node_class: Option<String>,
    pub resources: ResourcesFile,
    #[serde(default)]
    pub reserved: Option<ResourcesFile>,
    #[serde(default)]
    pub boot_time: Option<Dur>,
    #[serde(default)]
    pub attributes: BTreeMap<String, ScalarText>,
    #[serde(default)]
    pub meta: BTreeMap<String, ScalarText>,
    #[serde(default)]
    pub cost_per_hour: Option<f64>,
    /// Ports no alloc may take, as Nomad's port-range string (`"22,8000-8100"`).
    #[serde(default)]
    pub reserved_ports: Option<ScalarText>,
    /// Device groups on each node.
    #[serde(default)]
    pub devices: Vec<DeviceFile>,
    /// The pool's first nodes by their real names (and IDs), as `import` writes them.
    #[serde(default)]
    pub nodes: Vec<NamedNodeFile>,
}

/// One entry of a pool's `nodes:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedNodeFile {
    pub name: String,
    #[serde(default)]
    pub id: Option<String>,
}

/// One entry of `workloads:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadFile {
    /// The workload's name; job IDs start with it. Required, except for a `jobspec:` workload,
    /// whose name defaults to the job's ID.
    #[serde(default)]
    pub name: String,
    /// A Nomad job file (HCL2, or JSON as `nomad job run -output` or GET /v1/job/:id print
    /// it), relative to the scenario: the workload's scheduling content comes from it.
    #[serde(default)]
    pub jobspec: Option<String>,
    /// HCL input variables for the job file, as `-var name=value` gives them.
    #[serde(default)]
    pub variables: BTreeMap<String, ScalarText>,
    #[serde(default, rename = "type")]
    pub job_type: Option<String>,
    #[serde(default)]
    pub priority: Option<i64>,
    /// Required, except for a `jobspec:` workload (registered once at 0 s without it).
    #[serde(
        default,
        deserialize_with = "serde_yaml::with::singleton_map::deserialize"
    )]
    #[schemars(with = "Option<ArrivalsFile>")]
    pub arrivals: Option<ArrivalsFile>,
    /// A parameterized job: the parent is never placed, and each arrival dispatches a child.
    #[serde(default)]
    pub parameterized: bool,
    #[serde(default)]
    pub parallelism: Option<CountFile>,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub resource_class: Option<String>,
    #[serde(default)]
    pub resources: Option<ResourcesFile>,
    #[serde(default)]
    pub duration: Option<DurationFile>,
    #[serde(default)]
    pub datacenters: Vec<String>,
    #[serde(default)]
    pub node_pool: Option<String>,
    #[serde(default)]
    pub constraints: Vec<ConstraintFile>,
    #[serde(default)]
    pub spreads: Vec<SpreadFile>,
    #[serde(default)]
    pub affinities: Vec<AffinityFile>,
    #[serde(default)]
    pub distinct_hosts: bool,
    #[serde(default)]
    pub failure_rate: Option<f64>,
    #[serde(default)]
    pub max_parallel: Option<u32>,
    #[serde(default)]
    pub migrate: Option<MigrateFile>,
    #[serde(default)]
    pub restart: Option<RestartFile>,
    #[serde(default)]
    pub reschedule: Option<RescheduleFile>,
    #[serde(default)]
    pub disconnect: Option<DisconnectFile>,
    #[serde(default)]
    pub max_client_disconnect: Option<Dur>,
    /// The group network's ports: `{ label, static }` (dynamic without `static`).
    #[serde(default)]
    pub ports: Vec<PortFile>,
    /// Device asks.
    #[serde(default)]
    pub devices: Vec<DeviceAskFile>,
}

/// A workload's `migrate:` block (Nomad's, for service jobs).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrateFile {
    #[serde(default)]
    pub max_parallel: Option<u32>,
    #[serde(default)]
    pub min_healthy_time: Option<Dur>,
    #[serde(default)]
    pub healthy_deadline: Option<Dur>,
}

/// A workload's `restart:` block; keys not given keep Nomad's defaults for the job type.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestartFile {
    #[serde(default)]
    pub attempts: Option<u32>,
    #[serde(default)]
    pub interval: Option<Dur>,
    #[serde(default)]
    pub delay: Option<Dur>,
    #[serde(default)]
    pub mode: Option<String>,
}

/// A workload's `reschedule:` block; keys not given keep Nomad's defaults for the job type.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleFile {
    #[serde(default)]
    pub attempts: Option<u32>,
    #[serde(default)]
    pub interval: Option<Dur>,
    #[serde(default)]
    pub delay: Option<Dur>,
    #[serde(default)]
    pub delay_function: Option<String>,
    #[serde(default)]
    pub max_delay: Option<Dur>,
    #[serde(default)]
    pub unlimited: Option<bool>,
}

/// A workload's `disconnect:` block (Nomad 1.8 on).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisconnectFile {
    pub lost_after: Dur,
    #[serde(default)]
    pub replace: Option<bool>,
}

/// `arrivals:`: exactly one of the processes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum ArrivalsFile {
    /// `poisson: { rate: 300/h }`.
    Poisson(PoissonFile),
    /// `at: [10m, 2h]`.
    At(Vec<Dur>),
    /// `every: 30s` or `every: { interval: 30s, start: 5m }`.
    Every(EveryFile),
    /// `diurnal: { rates: [24 rates] }`.
    Diurnal(DiurnalFile),
    /// `trace: { file: arrivals.csv }`.
    Trace(TraceFile),
    /// `periodic: { cron: "*/5 * * * *", time_zone: UTC, prohibit_overlap: true }`.
    Periodic(PeriodicFile),
}

/// `periodic:`: Nomad's `periodic` block.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodicFile {
    /// A cron spec as Nomad reads it: 5 fields, 6 (with a year), 7 (with seconds), or
    /// `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`.
    pub cron: String,
    /// `UTC` (default), `Etc/GMT+N` / `Etc/GMT-N`, or a fixed offset such as `+05:30`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Skip a launch while the previous child is still pending or running.
    #[serde(default)]
    pub prohibit_overlap: bool,
}

/// `poisson:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoissonFile {
    pub rate: Rate,
}

/// `every:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EveryFile {
    /// `every: 30s`.
    Interval(Dur),
    /// `every: { interval: 30s, start: 5m }`.
    Full(EveryFull),
}

/// `every: { interval, start }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EveryFull {
    pub interval: Dur,
    #[serde(default)]
    pub start: Option<Dur>,
}

/// `diurnal:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiurnalFile {
    /// One rate per hour of the day (24 entries), e.g. `[5/h, 5/h, ..., 300/h, ...]`.
    pub rates: Vec<Rate>,
}

/// `trace:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceFile {
    /// A CSV file, relative to the scenario file.
    pub file: String,
}

/// `parallelism:` (or any count distribution): a number or one distribution.
#[derive(Debug)]
pub enum CountFile {
    /// `parallelism: 4`.
    Fixed(u32),
    /// `parallelism: { uniform: { min, max } }` or `{ weighted: [...] }`.
    Dist(CountDistFile),
}

impl<'de> Deserialize<'de> for CountFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CountFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a positive count, or { uniform: { min, max } }, or { weighted: [{ value, weight }, ...] }")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CountFile, E> {
                u32::try_from(v)
                    .map(CountFile::Fixed)
                    .map_err(|_| E::custom(format!("count {v} is too large")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<CountFile, E> {
                if v < 0 {
                    Err(E::custom(format!("count {v} must not be negative")))
                } else {
                    self.visit_u64(v as u64)
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<CountFile, A::Error> {
                CountDistFile::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(CountFile::Dist)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A count distribution.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum CountDistFile {
    /// Uniform on `min..=max`.
    Uniform { min: u32, max: u32 },
    /// Values with relative weights.
    Weighted(Vec<WeightedFile>),
}

/// `{ value, weight }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightedFile {
    pub value: u32,
    pub weight: f64,
}

/// `duration:`: a duration string (constant) or one distribution.
#[derive(Debug)]
pub enum DurationFile {
    /// `duration: 5m`.
    Plain(Dur),
    /// `duration: { exponential: { mean: 5m } }` and friends.
    Dist(DurationDistFile),
}

impl<'de> Deserialize<'de> for DurationFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DurationFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"5m\", or one of { constant, exponential, lognormal, uniform, empirical }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationFile, E> {
                parse_bounded_duration_ms(v)
                    .map(|ms| DurationFile::Plain(Dur(ms)))
                    .map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DurationFile, E> {
                Err(E::custom(format!(
                    "duration {v} has no unit: write \"{v}s\" or \"{v}m\""
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationFile, E> {
                Err(E::custom(format!(
                    "duration {v} has no unit and must not be negative"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DurationFile, E> {
                Err(E::custom(format!(
                    "duration {v} has no unit: write \"{v}s\" or \"{v}m\""
                )))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<DurationFile, A::Error> {
                DurationDistFile::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(DurationFile::Dist)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A run-time distribution.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum DurationDistFile {
    /// `constant: 5m`.
    Constant(Dur),
    /// `exponential: { mean: 5m }`.
    Exponential { mean: Dur },
    /// `lognormal: { median: 10m, sigma: 1.0 }`.
    Lognormal { median: Dur, sigma: f64 },
    /// `uniform: { min: 1m, max: 5m }`.
    Uniform { min: Dur, max: Dur },
    /// `empirical: [1m, 2m, 10m]`.
    Empirical(Vec<Dur>),
}

/// One constraint, with Nomad's keys.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConstraintFile {
    #[serde(default)]
    pub attribute: Option<String>,
    #[serde(default)]
    pub operator: Option<String>,
    #[serde(default)]
    pub value: Option<ScalarText>,
}

/// One `spread` block, with Nomad's keys: `attribute`, `weight` (1 to 100, default 50) and
/// `targets` (`value`, `percent`); no targets means an even spread.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpreadFile {
    #[serde(default)]
    pub attribute: Option<String>,
    #[serde(default)]
    pub weight: Option<i64>,
    #[serde(default)]
    pub targets: Vec<SpreadTargetFile>,
}

/// One `target` of a spread block.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpreadTargetFile {
    pub value: ScalarText,
    pub percent: i64,
}

/// One `affinity` block (a workload's or a device ask's), with Nomad's keys; `weight` is -100
/// to 100, not 0 (default 50).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AffinityFile {
    #[serde(default)]
    pub attribute: Option<String>,
    #[serde(default)]
    pub operator: Option<String>,
    #[serde(default)]
    pub value: Option<ScalarText>,
    #[serde(default)]
    pub weight: Option<i64>,
}

/// One entry of `operations:`: `at` plus exactly one action.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationFile {
    pub at: Dur,
    #[serde(default)]
    pub node_drain: Option<NodeDrainFile>,
    #[serde(default)]
    pub node_drain_disable: Option<NodeDrainDisableFile>,
    #[serde(default)]
    pub node_eligibility: Option<NodeEligibilityFile>,
    #[serde(default)]
    pub scale_up: Option<ScaleUpFile>,
    #[serde(default)]
    pub scale_down: Option<ScaleDownFile>,
    #[serde(default)]
    pub node_fail: Option<NodeFailFile>,
    #[serde(default)]
    pub job_stop: Option<JobStopFile>,
}

/// `job_stop:`: `nomad job stop [-purge]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobStopFile {
    /// A workload's name (the workload and every job of it), or one job's ID as the views
    /// print it (`ci-3`, `cleanup/periodic-1767571260`).
    pub job: String,
    /// Remove the job from the read model at once.
    #[serde(default)]
    pub purge: bool,
}

/// `node_drain:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeDrainFile {
    #[serde(default)]
    pub nodes: Option<Vec<String>>,
    #[serde(default)]
    pub pool: Option<String>,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub node_selector: Option<String>,
    #[serde(default)]
    pub deadline: Option<Dur>,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub no_deadline: bool,
    #[serde(default)]
    pub ignore_system: bool,
    #[serde(default)]
    pub keep_ineligible: bool,
}

/// `node_drain_disable:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeDrainDisableFile {
    pub nodes: Vec<String>,
    #[serde(default)]
    pub keep_ineligible: bool,
}

/// `node_eligibility:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeEligibilityFile {
    pub nodes: Vec<String>,
    #[serde(default)]
    pub enable: Option<bool>,
    #[serde(default)]
    pub disable: Option<bool>,
}

/// `scale_up:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleUpFile {
    pub pool: String,
    pub count: u32,
}

/// `scale_down:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleDownFile {
    pub pool: String,
    pub count: u32,
    #[serde(default)]
    pub node_selector: Option<String>,
    #[serde(default)]
    pub drain_deadline: Option<Dur>,
    #[serde(default)]
    pub lifecycle_hook: Option<LifecycleHookFile>,
}

/// `lifecycle_hook:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleHookFile {
    #[serde(default)]
    pub heartbeat_timeout: Option<Dur>,
}

/// `node_fail:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeFailFile {
    pub nodes: Vec<String>,
}

/// `autoscaler:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoscalerFile {
    pub pool: String,
    pub min: u32,
    pub max: u32,
    #[serde(default)]
    pub evaluation_interval: Option<Dur>,
    #[serde(default)]
    pub cooldown: Option<Dur>,
    pub check: CheckFile,
    #[serde(default)]
    pub node_selector_strategy: Option<String>,
    #[serde(default)]
    pub node_drain_deadline: Option<Dur>,
}

/// `check:` with the target-value strategy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckFile {
    pub metric: String,
    pub target: f64,
    #[serde(default)]
    pub threshold: Option<f64>,
}
