//! The one table of every job-file field: its HCL name, its API JSON key, how it is read, and
//! whether the simulator models it.
//!
//! To model a field that is only kept or ignored today, change its [`Class`] here (and read it
//! into the model in `decode.rs`); the HCL reader, the warnings and the errors all follow this
//! table.
//!
//! The classes, and why each field has the one it has (from Nomad's job specification pages):
//!
//! - **Modelled**: read into the typed model, with Nomad's default when the file is silent.
//!   Everything the scheduler looks at: type, priority, datacenters, node pool, constraints,
//!   affinities, spreads, counts, resources (cpu, cores, memory, memory_max, devices), networks
//!   and ports, ephemeral disk, lifecycle, restart, reschedule, migrate, update, periodic,
//!   parameterized, meta, and `disconnect` (it decides what happens to allocs on a lost node).
//!   Read and preserved is not yet simulated: the scenario loader refuses what the core
//!   cannot do yet.
//! - **Kept**: preserved in the model and printed by `jobspec --json`, no warning. Fields every
//!   real job carries that say how a task runs, not where: the driver's `config` (required by
//!   every driver, and where the API's `mock_driver` reads `run_for`), `env`, `kill_timeout`,
//!   `leader`, `user`, `shutdown_delay`, `namespace`, `region`; and the deprecated network
//!   `mbits`, which API reads always carry and Nomad no longer schedules on (accepted silently).
//!   DESIGN.md 6.5 lists driver config among the warnings; it is kept instead because every
//!   driver requires one, so a warning would fire on every job and say nothing, and because
//!   `nomad job run -output` prints it (the round trip through `jobspec --json` keeps it).
//! - **Ignored**: no effect on placement; dropped, and listed once per job as a warning:
//!   services and checks, templates, artifacts, vault, consul, identities, logs, host
//!   volumes (every simulated node is taken to have them), `scaling` (the Nomad Autoscaler, an
//!   outside process, changes the count; the scheduler only reads the count, which the model
//!   keeps, taking `scaling.min` when `count` is absent as Nomad does), deprecated task `disk`
//!   and `iops`, NUMA preferences other than `require`.
//! - **Unmodelled**: changes where or whether allocations can be placed, and the simulator
//!   cannot reproduce it yet; reported as an error, never dropped silently: CSI volumes (claims
//!   limit how many allocs may use a volume and on which nodes), NUMA-aware core placement with
//!   `affinity = "require"`, ports on a host network other than `default` (scenario nodes have
//!   only the default one), and `multiregion`.
//! - **Server**: set by Nomad's servers on reads (`CreateIndex`, `Status`, ...); accepted in JSON
//!   and not reported.
//!
//! Three fields are judged by their content in `decode.rs`: a group `volume` warns for a host
//! volume and is an error for a CSI one; `numa` warns unless its affinity is `require`; a port
//! is an error only on a host network other than `default`. Unknown keys are an error in HCL
//! (as in Nomad) and tolerated in JSON (Nomad's API responses carry many).

/// How the simulator treats a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Read into the typed model; scheduling content.
    Modelled,
    /// Preserved in the model as given; not scheduling content, not reported.
    Kept,
    /// Dropped with a warning: it does not affect scheduling.
    Ignored,
    /// Scheduling content the simulator cannot model yet: an error.
    Unmodelled,
    /// Set by Nomad's servers; accepted in JSON and not reported.
    Server,
}

/// The kinds of object a job file nests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obj {
    /// `job`.
    Job,
    /// `group`.
    Group,
    /// `task`.
    Task,
    /// `resources`.
    Resources,
    /// `network` (group, or the deprecated task-level one).
    Network,
    /// `port` inside `network`.
    Port,
    /// `device` inside `resources`.
    Device,
    /// `constraint`.
    Constraint,
    /// `affinity`.
    Affinity,
    /// `spread`.
    Spread,
    /// `target` inside `spread`.
    SpreadTarget,
    /// `lifecycle`.
    Lifecycle,
    /// `ephemeral_disk`.
    EphemeralDisk,
    /// `restart`.
    Restart,
    /// `reschedule`.
    Reschedule,
    /// `migrate`.
    Migrate,
    /// `update`.
    Update,
    /// `periodic`.
    Periodic,
    /// `parameterized`.
    Parameterized,
    /// `disconnect`.
    Disconnect,
    /// `numa` inside `resources`.
    Numa,
    /// `scaling` (group level).
    Scaling,
}

/// How the HCL reader turns a field into API JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string (numbers and booleans are converted, as HCL does).
    Str,
    /// A whole number (a numeric string is converted).
    Int,
    /// A boolean (`"true"` is converted).
    Bool,
    /// A Go duration string (`"30s"`), stored as nanoseconds.
    Dur,
    /// A list of strings.
    StrList,
    /// A map of strings, written as a block or an attribute.
    StrMap,
    /// One nested block of the given object.
    Block(Obj),
    /// Repeated nested blocks, as a list.
    Blocks(Obj),
    /// Repeated labelled blocks, as a list; the label goes to the named key.
    Labelled(Obj, &'static str),
    /// A labelled `port` block, sorted into `ReservedPorts` or `DynamicPorts`.
    Ports,
    /// Any block or value, converted to JSON as written.
    Opaque,
    /// Repeated blocks of any content, as a list.
    Opaques,
    /// Labelled blocks of any content, as a map keyed by label.
    OpaqueMap,
}

/// One field of a job file.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The object the field belongs to.
    pub obj: Obj,
    /// The HCL name (`memory`); empty when the field exists only in API JSON.
    pub hcl: &'static str,
    /// The API JSON key (`MemoryMB`).
    pub api: &'static str,
    /// How the HCL reader converts it.
    pub kind: Kind,
    /// How the simulator treats it.
    pub class: Class,
    /// Why it is ignored or unmodelled, for the message.
    pub note: &'static str,
}

const fn f(obj: Obj, hcl: &'static str, api: &'static str, kind: Kind, class: Class) -> Field {
    Field {
        obj,
        hcl,
        api,
        kind,
        class,
        note: "",
    }
}

const fn ign(
    obj: Obj,
    hcl: &'static str,
    api: &'static str,
    kind: Kind,
    note: &'static str,
) -> Field {
    Field {
        obj,
        hcl,
        api,
        kind,
        class: Class::Ignored,
        note,
    }
}

const fn srv(obj: Obj, api: &'static str) -> Field {
    Field {
        obj,
        hcl: "",
        api,
        kind: Kind::Opaque,
        class: Class::Server,
        note: "",
    }
}

use Class::{Kept, Modelled, Unmodelled};
use Kind::*;
use Obj::*;

/// Every field the reader knows, object by object.
pub static FIELDS: &[Field] = &[
    // job
    f(Job, "", "ID", Str, Modelled),
    f(Job, "name", "Name", Str, Modelled),
    f(Job, "type", "Type", Str, Modelled),
    f(Job, "priority", "Priority", Int, Modelled),
    f(Job, "datacenters", "Datacenters", StrList, Modelled),
    f(Job, "node_pool", "NodePool", Str, Modelled),
    f(Job, "constraint", "Constraints", Blocks(Constraint), Modelled),
    f(Job, "affinity", "Affinities", Blocks(Affinity), Modelled),
    f(Job, "spread", "Spreads", Blocks(Spread), Modelled),
    f(Job, "group", "TaskGroups", Labelled(Group, "Name"), Modelled),
    f(Job, "update", "Update", Block(Update), Modelled),
    f(Job, "migrate", "Migrate", Block(Migrate), Modelled),
    f(Job, "reschedule", "Reschedule", Block(Reschedule), Modelled),
    f(Job, "periodic", "Periodic", Block(Periodic), Modelled),
    f(Job, "parameterized", "ParameterizedJob", Block(Parameterized), Modelled),
    f(Job, "meta", "Meta", StrMap, Modelled),
    f(Job, "namespace", "Namespace", Str, Kept),
    f(Job, "region", "Region", Str, Kept),
    f(Job, "all_at_once", "AllAtOnce", Bool, Kept),
    Field {
        note: "multiregion deployments place groups across regions; the simulator has one region",
        ..f(Job, "multiregion", "Multiregion", Opaque, Unmodelled)
    },
    ign(Job, "vault", "Vault", Opaque, "Vault is not simulated"),
    ign(Job, "vault_token", "VaultToken", Str, "Vault is not simulated"),
    ign(Job, "consul_token", "ConsulToken", Str, "Consul is not simulated"),
    ign(Job, "ui", "UI", Opaque, "the web UI's description does not affect scheduling"),
    ign(Job, "version_tag", "VersionTag", Opaque, "job versions are not simulated"),
    srv(Job, "Stop"),
    srv(Job, "ParentID"),
    srv(Job, "Dispatched"),
    srv(Job, "DispatchIdempotencyToken"),
    srv(Job, "Payload"),
    srv(Job, "Status"),
    srv(Job, "StatusDescription"),
    srv(Job, "Stable"),
    srv(Job, "Version"),
    srv(Job, "SubmitTime"),
    srv(Job, "CreateIndex"),
    srv(Job, "ModifyIndex"),
    srv(Job, "JobModifyIndex"),
    srv(Job, "ConsulNamespace"),
    srv(Job, "VaultNamespace"),
    srv(Job, "NomadTokenID"),
    // group
    f(Group, "", "Name", Str, Modelled),
    f(Group, "count", "Count", Int, Modelled),
    f(Group, "constraint", "Constraints", Blocks(Constraint), Modelled),
    f(Group, "affinity", "Affinities", Blocks(Affinity), Modelled),
    f(Group, "spread", "Spreads", Blocks(Spread), Modelled),
    f(Group, "task", "Tasks", Labelled(Task, "Name"), Modelled),
    f(Group, "restart", "RestartPolicy", Block(Restart), Modelled),
    f(Group, "reschedule", "ReschedulePolicy", Block(Reschedule), Modelled),
    f(Group, "migrate", "Migrate", Block(Migrate), Modelled),
    f(Group, "update", "Update", Block(Update), Modelled),
    f(Group, "ephemeral_disk", "EphemeralDisk", Block(EphemeralDisk), Modelled),
    f(Group, "network", "Networks", Blocks(Network), Modelled),
    f(Group, "meta", "Meta", StrMap, Modelled),
    f(Group, "disconnect", "Disconnect", Block(Disconnect), Modelled),
    f(Group, "max_client_disconnect", "MaxClientDisconnect", Dur, Modelled),
    f(Group, "stop_after_client_disconnect", "StopAfterClientDisconnect", Dur, Modelled),
    f(Group, "prevent_reschedule_on_lost", "PreventRescheduleOnLost", Bool, Modelled),
    f(Group, "shutdown_delay", "ShutdownDelay", Dur, Kept),
    ign(Group, "scaling", "Scaling", Block(Scaling), "horizontal scaling is the Nomad Autoscaler's, an outside process; the count stays as given"),
    ign(Group, "service", "Services", Opaques, "services and their checks are not registered or checked"),
    ign(Group, "volume", "Volumes", OpaqueMap, "host volumes are taken to be present on every node"),
    ign(Group, "consul", "Consul", Opaque, "Consul is not simulated"),
    // task
    f(Task, "", "Name", Str, Modelled),
    f(Task, "driver", "Driver", Str, Modelled),
    f(Task, "resources", "Resources", Block(Resources), Modelled),
    f(Task, "lifecycle", "Lifecycle", Block(Lifecycle), Modelled),
    f(Task, "constraint", "Constraints", Blocks(Constraint), Modelled),
    f(Task, "affinity", "Affinities", Blocks(Affinity), Modelled),
    f(Task, "restart", "RestartPolicy", Block(Restart), Modelled),
    f(Task, "meta", "Meta", StrMap, Modelled),
    f(Task, "config", "Config", Opaque, Kept),
    f(Task, "env", "Env", StrMap, Kept),
    f(Task, "kill_timeout", "KillTimeout", Dur, Kept),
    f(Task, "kill_signal", "KillSignal", Str, Kept),
    f(Task, "leader", "Leader", Bool, Kept),
    f(Task, "user", "User", Str, Kept),
    f(Task, "shutdown_delay", "ShutdownDelay", Dur, Kept),
    f(Task, "kind", "Kind", Str, Kept),
    ign(Task, "artifact", "Artifacts", Opaques, "artifacts are not downloaded"),
    ign(Task, "template", "Templates", Opaques, "templates are not rendered"),
    ign(Task, "service", "Services", Opaques, "services and their checks are not registered or checked"),
    ign(Task, "vault", "Vault", Opaque, "Vault is not simulated"),
    ign(Task, "consul", "Consul", Opaque, "Consul is not simulated"),
    ign(Task, "identity", "Identities", Opaques, "workload identities are not simulated"),
    ign(Task, "volume_mount", "VolumeMounts", Opaques, "volume mounts do not affect placement"),
    ign(Task, "logs", "LogConfig", Opaque, "log rotation does not affect scheduling"),
    ign(Task, "dispatch_payload", "DispatchPayload", Opaque, "dispatch payloads are not written"),
    ign(Task, "csi_plugin", "CSIPluginConfig", Opaque, "CSI plugins are not simulated"),
    ign(Task, "scaling", "ScalingPolicies", Opaques, "vertical scaling policies are the Nomad Autoscaler's"),
    ign(Task, "action", "Actions", Opaques, "actions are not run"),
    ign(Task, "schedule", "Schedule", Opaque, "time-based task execution keeps the resources allocated; it does not change placement"),
    ign(Task, "secret", "Secrets", Opaques, "secrets are not fetched"),
    // resources
    f(Resources, "cpu", "CPU", Int, Modelled),
    f(Resources, "cores", "Cores", Int, Modelled),
    f(Resources, "memory", "MemoryMB", Int, Modelled),
    f(Resources, "memory_max", "MemoryMaxMB", Int, Modelled),
    f(Resources, "device", "Devices", Labelled(Device, "Name"), Modelled),
    f(Resources, "network", "Networks", Blocks(Network), Modelled),
    ign(Resources, "numa", "NUMA", Block(Numa), "NUMA-aware core placement is not simulated"),
    ign(Resources, "disk", "DiskMB", Int, "task-level disk is deprecated; Nomad counts the group's ephemeral_disk"),
    ign(Resources, "iops", "IOPS", Int, "iops is deprecated and not scheduled on"),
    ign(Resources, "secrets", "SecretsMB", Int, "the secrets directory's size does not change placement"),
    // numa
    f(Numa, "affinity", "Affinity", Str, Modelled),
    f(Numa, "devices", "Devices", StrList, Modelled),
    // network
    f(Network, "mode", "Mode", Str, Modelled),
    f(Network, "port", "ReservedPorts", Ports, Modelled),
    f(Network, "", "DynamicPorts", Ports, Modelled),
    f(Network, "hostname", "Hostname", Str, Kept),
    f(Network, "mbits", "MBits", Int, Kept),
    ign(Network, "dns", "DNS", Opaque, "DNS settings do not affect scheduling"),
    ign(Network, "cni", "CNI", Opaque, "CNI arguments do not affect scheduling"),
    f(Network, "", "CIDR", Str, Kept),
    f(Network, "", "IP", Str, Kept),
    f(Network, "", "Device", Str, Kept),
    // port
    f(Port, "", "Label", Str, Modelled),
    f(Port, "static", "Value", Int, Modelled),
    f(Port, "to", "To", Int, Modelled),
    f(Port, "host_network", "HostNetwork", Str, Modelled),
    f(Port, "ignore_collision", "IgnoreCollision", Bool, Modelled),
    // device
    f(Device, "", "Name", Str, Modelled),
    f(Device, "count", "Count", Int, Modelled),
    f(Device, "constraint", "Constraints", Blocks(Constraint), Modelled),
    f(Device, "affinity", "Affinities", Blocks(Affinity), Modelled),
    // constraint
    f(Constraint, "attribute", "LTarget", Str, Modelled),
    f(Constraint, "value", "RTarget", Str, Modelled),
    f(Constraint, "operator", "Operand", Str, Modelled),
    // affinity
    f(Affinity, "attribute", "LTarget", Str, Modelled),
    f(Affinity, "value", "RTarget", Str, Modelled),
    f(Affinity, "operator", "Operand", Str, Modelled),
    f(Affinity, "weight", "Weight", Int, Modelled),
    // spread
    f(Spread, "attribute", "Attribute", Str, Modelled),
    f(Spread, "weight", "Weight", Int, Modelled),
    f(Spread, "target", "SpreadTarget", Labelled(SpreadTarget, "Value"), Modelled),
    f(SpreadTarget, "", "Value", Str, Modelled),
    f(SpreadTarget, "percent", "Percent", Int, Modelled),
    // lifecycle
    f(Lifecycle, "hook", "Hook", Str, Modelled),
    f(Lifecycle, "sidecar", "Sidecar", Bool, Modelled),
    // ephemeral_disk
    f(EphemeralDisk, "size", "SizeMB", Int, Modelled),
    f(EphemeralDisk, "sticky", "Sticky", Bool, Kept),
    f(EphemeralDisk, "migrate", "Migrate", Bool, Kept),
    // restart
    f(Restart, "attempts", "Attempts", Int, Modelled),
    f(Restart, "interval", "Interval", Dur, Modelled),
    f(Restart, "delay", "Delay", Dur, Modelled),
    f(Restart, "mode", "Mode", Str, Modelled),
    f(Restart, "render_templates", "RenderTemplates", Bool, Kept),
    // reschedule
    f(Reschedule, "attempts", "Attempts", Int, Modelled),
    f(Reschedule, "interval", "Interval", Dur, Modelled),
    f(Reschedule, "delay", "Delay", Dur, Modelled),
    f(Reschedule, "delay_function", "DelayFunction", Str, Modelled),
    f(Reschedule, "max_delay", "MaxDelay", Dur, Modelled),
    f(Reschedule, "unlimited", "Unlimited", Bool, Modelled),
    // migrate
    f(Migrate, "max_parallel", "MaxParallel", Int, Modelled),
    f(Migrate, "health_check", "HealthCheck", Str, Modelled),
    f(Migrate, "min_healthy_time", "MinHealthyTime", Dur, Modelled),
    f(Migrate, "healthy_deadline", "HealthyDeadline", Dur, Modelled),
    // update
    f(Update, "max_parallel", "MaxParallel", Int, Modelled),
    f(Update, "health_check", "HealthCheck", Str, Modelled),
    f(Update, "min_healthy_time", "MinHealthyTime", Dur, Modelled),
    f(Update, "healthy_deadline", "HealthyDeadline", Dur, Modelled),
    f(Update, "progress_deadline", "ProgressDeadline", Dur, Modelled),
    f(Update, "auto_revert", "AutoRevert", Bool, Modelled),
    f(Update, "auto_promote", "AutoPromote", Bool, Modelled),
    f(Update, "canary", "Canary", Int, Modelled),
    f(Update, "stagger", "Stagger", Dur, Modelled),
    // periodic
    f(Periodic, "cron", "Spec", Str, Modelled),
    f(Periodic, "crons", "Specs", StrList, Modelled),
    f(Periodic, "", "SpecType", Str, Modelled),
    f(Periodic, "prohibit_overlap", "ProhibitOverlap", Bool, Modelled),
    f(Periodic, "time_zone", "TimeZone", Str, Modelled),
    f(Periodic, "enabled", "Enabled", Bool, Modelled),
    // parameterized
    f(Parameterized, "payload", "Payload", Str, Modelled),
    f(Parameterized, "meta_required", "MetaRequired", StrList, Modelled),
    f(Parameterized, "meta_optional", "MetaOptional", StrList, Modelled),
    // disconnect
    f(Disconnect, "lost_after", "LostAfter", Dur, Modelled),
    f(Disconnect, "replace", "Replace", Bool, Modelled),
    f(Disconnect, "reconcile", "Reconcile", Str, Modelled),
    f(Disconnect, "stop_on_client_after", "StopOnClientAfter", Dur, Modelled),
    // scaling (read only for `count`'s default; the block itself is ignored)
    f(Scaling, "min", "Min", Int, Modelled),
    f(Scaling, "max", "Max", Int, Modelled),
    f(Scaling, "enabled", "Enabled", Bool, Modelled),
    f(Scaling, "policy", "Policy", Opaque, Modelled),
];

/// The fields of one object, in table order.
pub fn fields_of(obj: Obj) -> impl Iterator<Item = &'static Field> {
    FIELDS.iter().filter(move |f| f.obj == obj)
}

/// The field of an object with this HCL name.
pub fn by_hcl(obj: Obj, hcl: &str) -> Option<&'static Field> {
    fields_of(obj).find(|f| !f.hcl.is_empty() && f.hcl == hcl)
}

/// The field of an object with this API key (exact case first, then any case, as Go's JSON
/// decoder matches keys).
pub fn by_api(obj: Obj, api: &str) -> Option<&'static Field> {
    fields_of(obj)
        .find(|f| f.api == api)
        .or_else(|| fields_of(obj).find(|f| f.api.eq_ignore_ascii_case(api)))
}
