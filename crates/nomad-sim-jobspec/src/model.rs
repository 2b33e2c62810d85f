//! The normalised job: Nomad's API `Job` with every default filled in, serialised with Nomad's
//! PascalCase keys (durations in nanoseconds), plus a group's scheduling ask.

use std::collections::BTreeMap;

use serde::Serialize;

/// Nomad's job types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobType {
    /// Long-running work, restarted and rescheduled without limit.
    Service,
    /// Work that runs to completion.
    Batch,
    /// One allocation on every eligible node, kept running.
    System,
    /// One allocation on every eligible node, run to completion.
    Sysbatch,
}

impl JobType {
    /// Nomad's name for the type.
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Service => "service",
            JobType::Batch => "batch",
            JobType::System => "system",
            JobType::Sysbatch => "sysbatch",
        }
    }

    /// Parses Nomad's name.
    pub fn parse(text: &str) -> Option<JobType> {
        match text {
            "service" => Some(JobType::Service),
            "batch" => Some(JobType::Batch),
            "system" => Some(JobType::System),
            "sysbatch" => Some(JobType::Sysbatch),
            _ => None,
        }
    }
}

/// A job: what `nomad job run` registers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Job {
    /// The job's ID (the file's `job "ID"` label).
    #[serde(rename = "ID")]
    pub id: String,
    /// The display name; defaults to the ID.
    pub name: String,
    /// Kept: the namespace, default `default`.
    pub namespace: String,
    /// Kept: the region, default `global`.
    pub region: String,
    /// The scheduler that places it, default `service`.
    #[serde(rename = "Type")]
    pub job_type: JobType,
    /// 1 to 100, default 50.
    pub priority: u32,
    /// Kept: place all groups at once or not at all.
    pub all_at_once: bool,
    /// Datacenter names or globs, default `["*"]`.
    pub datacenters: Vec<String>,
    /// The node pool, default `default`.
    pub node_pool: String,
    /// Job-level constraints.
    pub constraints: Vec<Constraint>,
    /// Job-level affinities.
    pub affinities: Vec<Affinity>,
    /// Job-level spreads.
    pub spreads: Vec<Spread>,
    /// The groups, in file order.
    pub task_groups: Vec<TaskGroup>,
    /// The job-level update block as written (groups carry the merged result).
    pub update: Option<UpdateStrategy>,
    /// The job-level migrate block as written (groups carry the merged result).
    pub migrate: Option<MigrateStrategy>,
    /// The job-level reschedule block as written (groups carry the merged result).
    pub reschedule: Option<ReschedulePolicy>,
    /// Launches on a cron.
    pub periodic: Option<Periodic>,
    /// Dispatched with parameters.
    pub parameterized_job: Option<Parameterized>,
    /// Job metadata.
    pub meta: BTreeMap<String, String>,
}

/// `constraint`: a node must satisfy it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Constraint {
    /// The left side, usually `${attr.*}`, `${node.*}` or `${meta.*}`.
    pub l_target: String,
    /// The right side.
    pub r_target: String,
    /// The operator (`=`, `!=`, `regexp`, `distinct_hosts`, ...).
    pub operand: String,
}

/// `affinity`: a node that satisfies it scores higher (or lower, with a negative weight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Affinity {
    /// The left side.
    pub l_target: String,
    /// The right side.
    pub r_target: String,
    /// The operator.
    pub operand: String,
    /// -100 to 100, not 0; default 50.
    pub weight: i32,
}

/// `spread`: allocations spread over the values of a node attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Spread {
    /// The attribute spread over, such as `${node.datacenter}`.
    pub attribute: String,
    /// 0 to 100, default 50.
    pub weight: i32,
    /// Desired shares per value; empty means even.
    pub spread_target: Vec<SpreadTarget>,
}

/// One `target` of a spread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpreadTarget {
    /// The attribute's value.
    pub value: String,
    /// Its share in percent.
    pub percent: u32,
}

/// A task group: `count` copies of its tasks, each copy one allocation on one node.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskGroup {
    /// The group's name.
    pub name: String,
    /// How many allocations, default 1 (or `scaling.min`).
    pub count: u32,
    /// Group-level constraints.
    pub constraints: Vec<Constraint>,
    /// Group-level affinities.
    pub affinities: Vec<Affinity>,
    /// Group-level spreads.
    pub spreads: Vec<Spread>,
    /// The tasks, in file order.
    pub tasks: Vec<Task>,
    /// The shared disk, default 300 MB.
    pub ephemeral_disk: EphemeralDisk,
    /// Group networks and their ports.
    pub networks: Vec<Network>,
    /// The group's restart policy (defaults by job type, merged with the file's).
    pub restart_policy: RestartPolicy,
    /// Rescheduling after failures; none for system and sysbatch jobs.
    pub reschedule_policy: Option<ReschedulePolicy>,
    /// Migration on drain (service jobs; others only when written).
    pub migrate: Option<MigrateStrategy>,
    /// Rolling updates (service and system jobs; others only when written).
    pub update: Option<UpdateStrategy>,
    /// What happens when the node disconnects, when written.
    pub disconnect: Option<Disconnect>,
    /// Deprecated form of `disconnect.lost_after`, nanoseconds.
    pub max_client_disconnect: Option<u64>,
    /// Deprecated form of `disconnect.stop_on_client_after`, nanoseconds.
    pub stop_after_client_disconnect: Option<u64>,
    /// Do not replace allocs of a lost node.
    pub prevent_reschedule_on_lost: bool,
    /// Kept: delay between deregistering services and stopping tasks, nanoseconds.
    pub shutdown_delay: Option<u64>,
    /// Group metadata.
    pub meta: BTreeMap<String, String>,
}

/// A task: one process (container, command) of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Task {
    /// The task's name.
    pub name: String,
    /// The driver (`docker`, `exec`, ...); every simulated node has every driver.
    pub driver: String,
    /// When the task runs relative to the main tasks; `None` for a main task.
    pub lifecycle: Option<Lifecycle>,
    /// What the task asks for.
    pub resources: Resources,
    /// Task-level constraints.
    pub constraints: Vec<Constraint>,
    /// Task-level affinities.
    pub affinities: Vec<Affinity>,
    /// The effective restart policy (the group's merged with the task's).
    pub restart_policy: RestartPolicy,
    /// Kept: the driver's configuration, as written.
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
    /// Kept: environment variables.
    pub env: BTreeMap<String, String>,
    /// Task metadata.
    pub meta: BTreeMap<String, String>,
    /// Kept: how long the task gets to stop, nanoseconds; default 5 s.
    pub kill_timeout: u64,
    /// Kept: the signal that stops the task.
    pub kill_signal: String,
    /// Kept: the group stops when a leader task ends.
    pub leader: bool,
    /// Kept: the user the task runs as.
    pub user: String,
    /// Kept: delay before the task is killed, nanoseconds.
    pub shutdown_delay: Option<u64>,
    /// Kept: the task's kind (Consul Connect proxies and gateways).
    pub kind: String,
}

impl Task {
    /// The phase the task runs in.
    pub fn phase(&self) -> Phase {
        match &self.lifecycle {
            None => Phase::Main,
            Some(l) => match (l.hook.as_str(), l.sidecar) {
                ("prestart", true) => Phase::PrestartSidecar,
                ("prestart", false) => Phase::Prestart,
                ("poststart", _) => Phase::Poststart,
                _ => Phase::Poststop,
            },
        }
    }
}

/// When a task runs within its allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Runs to completion before the main tasks start.
    Prestart,
    /// Starts before the main tasks and runs alongside them.
    PrestartSidecar,
    /// A main task (no lifecycle block).
    Main,
    /// Starts after the main tasks have started (sidecar or not).
    Poststart,
    /// Runs after the main tasks have ended.
    Poststop,
}

/// `lifecycle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Lifecycle {
    /// `prestart`, `poststart` or `poststop`.
    pub hook: String,
    /// Keeps running alongside the main tasks.
    pub sidecar: bool,
}

/// `resources` of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resources {
    /// CPU in MHz; default 100 (0 when `cores` is set).
    #[serde(rename = "CPU")]
    pub cpu: u32,
    /// Whole reserved cores.
    #[serde(rename = "Cores")]
    pub cores: u32,
    /// Memory in MB, default 300.
    #[serde(rename = "MemoryMB")]
    pub memory_mb: u32,
    /// The memory limit with oversubscription, MB; 0 when not set.
    #[serde(rename = "MemoryMaxMB")]
    pub memory_max_mb: u32,
    /// Devices the task needs.
    #[serde(rename = "Devices")]
    pub devices: Vec<Device>,
    /// Task-level networks (deprecated in Nomad, still scheduled on).
    #[serde(rename = "Networks")]
    pub networks: Vec<Network>,
}

/// `device`: instances of a device type on the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Device {
    /// `type`, `vendor/type` or `vendor/type/model`, such as `nvidia/gpu`.
    pub name: String,
    /// How many instances, default 1.
    pub count: u32,
    /// Constraints on the device's attributes.
    pub constraints: Vec<Constraint>,
    /// Affinities on the device's attributes.
    pub affinities: Vec<Affinity>,
}

/// `network`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Network {
    /// `host` (default), `bridge`, `none` or `cni/<name>`.
    pub mode: String,
    /// Ports with a fixed (`static`) number.
    pub reserved_ports: Vec<Port>,
    /// Ports the scheduler picks from the dynamic range (Nomad's default 20000-32000).
    pub dynamic_ports: Vec<Port>,
    /// Kept: the hostname inside the network namespace.
    pub hostname: String,
}

/// `port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Port {
    /// The port's label.
    pub label: String,
    /// The static port number; 0 for a dynamic port.
    pub value: u32,
    /// The port inside the task's network namespace; 0 when the same.
    pub to: i32,
    /// The host network, `default` unless written.
    pub host_network: String,
    /// Allow other allocations on the node to use the same static port.
    pub ignore_collision: bool,
}

/// `ephemeral_disk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EphemeralDisk {
    /// Kept: try to place a replacement on the same node.
    #[serde(rename = "Sticky")]
    pub sticky: bool,
    /// Kept: move the data with a migrated allocation.
    #[serde(rename = "Migrate")]
    pub migrate: bool,
    /// Size in MB, default 300.
    #[serde(rename = "SizeMB")]
    pub size_mb: u32,
}

/// `restart`: what the client does when a task fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicy {
    /// Restarts allowed per interval.
    pub attempts: u32,
    /// The interval, nanoseconds.
    pub interval: u64,
    /// Wait before a restart, nanoseconds.
    pub delay: u64,
    /// `fail` or `delay` when attempts run out.
    pub mode: String,
    /// Kept: re-render templates on restart.
    pub render_templates: bool,
}

/// `reschedule`: what the scheduler does when an allocation fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReschedulePolicy {
    /// Reschedules allowed per interval (when not unlimited).
    pub attempts: u32,
    /// The interval, nanoseconds.
    pub interval: u64,
    /// The first delay, nanoseconds.
    pub delay: u64,
    /// `constant`, `exponential` or `fibonacci`.
    pub delay_function: String,
    /// The largest delay, nanoseconds (0: none).
    pub max_delay: u64,
    /// Reschedule without limit.
    pub unlimited: bool,
}

/// `migrate`: how allocations leave a draining node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MigrateStrategy {
    /// Allocations migrated at once, default 1.
    pub max_parallel: u32,
    /// `checks` or `task_states`.
    pub health_check: String,
    /// How long a replacement must be healthy, nanoseconds; default 10 s.
    pub min_healthy_time: u64,
    /// How long a replacement may take to turn healthy, nanoseconds; default 5 m.
    pub healthy_deadline: u64,
}

/// `update`: rolling updates and canaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateStrategy {
    /// Delay between system-job updates, nanoseconds.
    pub stagger: u64,
    /// Allocations updated at once, default 1.
    pub max_parallel: u32,
    /// `checks`, `task_states` or `manual`.
    pub health_check: String,
    /// Nanoseconds, default 10 s.
    pub min_healthy_time: u64,
    /// Nanoseconds, default 5 m.
    pub healthy_deadline: u64,
    /// Nanoseconds, default 10 m.
    pub progress_deadline: u64,
    /// Canaries per update.
    pub canary: u32,
    /// Revert to the last stable version on failure.
    pub auto_revert: bool,
    /// Promote canaries once healthy.
    pub auto_promote: bool,
}

/// `periodic`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Periodic {
    /// Whether children are launched, default true.
    pub enabled: bool,
    /// The cron expression (`cron`), empty when `crons` is used.
    pub spec: String,
    /// The cron expressions (`crons`, Nomad 1.6.2+).
    pub specs: Vec<String>,
    /// Always `cron`.
    pub spec_type: String,
    /// Skip a launch while a previous child still runs.
    pub prohibit_overlap: bool,
    /// The time zone of the cron, default `UTC`.
    pub time_zone: String,
}

impl Periodic {
    /// Every cron expression, whether written as `cron` or `crons`.
    pub fn crons(&self) -> Vec<&str> {
        let mut all: Vec<&str> = Vec::new();
        if !self.spec.is_empty() {
            all.push(&self.spec);
        }
        all.extend(self.specs.iter().map(String::as_str));
        all
    }
}

/// `parameterized`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameterized {
    /// `optional` (default), `required` or `forbidden`.
    pub payload: String,
    /// Meta keys every dispatch must give.
    pub meta_required: Vec<String>,
    /// Meta keys a dispatch may give.
    pub meta_optional: Vec<String>,
}

/// `disconnect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Disconnect {
    /// How long a disconnected node's allocs stay `unknown` before they are lost, nanoseconds.
    pub lost_after: u64,
    /// Replace allocs while their node is disconnected, default true.
    pub replace: bool,
    /// Which copy wins when the node comes back: `best_score` (default), `longest_running`,
    /// `keep_original`, `keep_replacement`.
    pub reconcile: String,
    /// Stop the allocs on the client after this long, nanoseconds.
    pub stop_on_client_after: Option<u64>,
}

/// What one allocation of a group reserves on a node, computed as Nomad does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct GroupAsk {
    /// CPU in MHz.
    pub cpu: u64,
    /// Whole reserved cores.
    pub cores: u64,
    /// Memory in MB.
    pub memory_mb: u64,
    /// The memory limit with oversubscription, MB (equal to `memory_mb` when no task sets one).
    pub memory_max_mb: u64,
    /// Ephemeral disk in MB.
    pub disk_mb: u64,
    /// Devices, every task's request (each task gets its own instances).
    pub devices: Vec<Device>,
    /// Static ports (group and task networks).
    pub reserved_ports: Vec<u32>,
    /// How many dynamic ports.
    pub dynamic_ports: u32,
}

/// Adds up per-dimension demands of tasks that run at the same time.
#[derive(Debug, Clone, Copy, Default)]
struct Dims {
    cpu: u64,
    memory: u64,
    memory_max: u64,
}

impl Dims {
    fn of(t: &Task) -> Dims {
        let r = &t.resources;
        Dims {
            cpu: r.cpu as u64,
            memory: r.memory_mb as u64,
            memory_max: r.memory_max_mb.max(r.memory_mb) as u64,
        }
    }

    fn add(self, o: Dims) -> Dims {
        Dims {
            cpu: self.cpu + o.cpu,
            memory: self.memory + o.memory,
            memory_max: self.memory_max + o.memory_max,
        }
    }

    fn max(self, o: Dims) -> Dims {
        Dims {
            cpu: self.cpu.max(o.cpu),
            memory: self.memory.max(o.memory),
            memory_max: self.memory_max.max(o.memory_max),
        }
    }
}

impl TaskGroup {
    /// The resources one allocation of this group reserves, as Nomad counts them.
    ///
    /// Tasks run in phases: prestart tasks finish before the main tasks start, poststart tasks
    /// run alongside the main tasks, poststop tasks run after them, and prestart sidecars run
    /// through all of it. So for CPU, memory and memory_max, each on its own, the ask is the
    /// prestart sidecars plus the largest of: the prestart (non-sidecar) tasks, the main tasks
    /// with the poststart tasks, and the poststop tasks. Cores, devices and ports are not shared
    /// between phases (each task is assigned its own), so they add up over every task. Disk is
    /// the group's ephemeral disk.
    pub fn ask(&self) -> GroupAsk {
        let mut sidecars = Dims::default();
        let mut prestart = Dims::default();
        let mut main = Dims::default();
        let mut poststop = Dims::default();
        let mut ask = GroupAsk {
            disk_mb: self.ephemeral_disk.size_mb as u64,
            ..GroupAsk::default()
        };
        for t in &self.tasks {
            let d = Dims::of(t);
            match t.phase() {
                Phase::PrestartSidecar => sidecars = sidecars.add(d),
                Phase::Prestart => prestart = prestart.add(d),
                Phase::Main | Phase::Poststart => main = main.add(d),
                Phase::Poststop => poststop = poststop.add(d),
            }
            ask.cores += t.resources.cores as u64;
            ask.devices.extend(t.resources.devices.iter().cloned());
        }
        let total = sidecars.add(prestart.max(main).max(poststop));
        ask.cpu = total.cpu;
        ask.memory_mb = total.memory;
        ask.memory_max_mb = total.memory_max;
        let task_networks = self.tasks.iter().flat_map(|t| &t.resources.networks);
        for n in self.networks.iter().chain(task_networks) {
            ask.reserved_ports
                .extend(n.reserved_ports.iter().map(|p| p.value));
            ask.dynamic_ports += n.dynamic_ports.len() as u32;
        }
        ask
    }
}

impl Job {
    /// True when the job launches children on a cron instead of running itself.
    pub fn is_periodic(&self) -> bool {
        self.periodic.as_ref().is_some_and(|p| p.enabled)
    }

    /// True when the job is dispatched with parameters instead of running itself.
    pub fn is_parameterized(&self) -> bool {
        self.parameterized_job.is_some()
    }

    /// The job as `nomad job run -output` prints it: `{"Job": {...}}`.
    pub fn to_api_json(&self) -> serde_json::Value {
        let job = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        serde_json::json!({ "Job": job })
    }
}
