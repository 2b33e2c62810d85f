//! The views as Nomad's HTTP API shapes them: jobs, allocations, evaluations and nodes with
//! Nomad's keys, the same JSON for `--json` and for `nomad-sim serve`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use nomad_sim_core::ids::{AllocId, EvalId, JobId, NodeId};
use nomad_sim_core::model::{ClientStatus, EndReason, EvalStatus, Node, NodeStatus};
use nomad_sim_core::placement::AllocMetric;
use nomad_sim_core::time::SimTime;
use nomad_sim_core::JobType;

use super::text::eval_status_str;
use super::{JobRef, View};

/// Go's zero `time.Time`, as Nomad prints an unset date.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The Nomad version the simulated agents report.
pub const NOMAD_VERSION: &str = "2.0.5";

/// The task drivers every simulated node has.
const DRIVERS: [&str; 4] = ["docker", "exec", "raw_exec", "mock_driver"];

/// What the list and detail views say about a job, whichever kind it is.
#[derive(Clone, Debug)]
pub struct JobFacts {
    /// The job's ID.
    pub id: String,
    /// `batch`, `service` or `system`.
    pub job_type: String,
    /// The priority.
    pub priority: u32,
    /// Datacenters (globs).
    pub datacenters: Vec<String>,
    /// The node pool.
    pub node_pool: String,
    /// `pending`, `running` or `dead`.
    pub status: String,
    /// Stopped with `nomad job stop`.
    pub stopped: bool,
    /// A parameterized parent.
    pub parameterized: bool,
    /// A periodic parent.
    pub periodic: bool,
    /// The parent of a dispatched child.
    pub parent: String,
    /// When it was submitted.
    pub submit_ms: SimTime,
    /// Raft-style indexes: create, modify.
    pub create_index: u64,
    /// The last change to the job itself.
    pub modify_index: u64,
    /// The job's version.
    pub version: u64,
}

impl JobFacts {
    /// The type column of `nomad status`.
    pub fn type_text(&self) -> String {
        let mut t = self.job_type.clone();
        if self.periodic {
            t.push_str("/periodic");
        }
        if self.parameterized {
            t.push_str("/parameterized");
        }
        t
    }

    /// The status column of `nomad status`.
    pub fn status_text(&self) -> String {
        if self.stopped {
            format!("{} (stopped)", self.status)
        } else {
            self.status.clone()
        }
    }
}

/// The per-dimension count map, null when empty, as Go encodes an empty map pointer.
fn map_or_null(m: BTreeMap<String, Value>) -> Value {
    if m.is_empty() {
        Value::Null
    } else {
        Value::Object(m.into_iter().collect())
    }
}

impl View<'_> {
    // ----- jobs ------------------------------------------------------------------------------

    /// The job's status word.
    pub fn job_status_str(&self, job: JobId) -> &'static str {
        if self.job(job).is_none() {
            return "dead";
        }
        self.sim.job_status(job).as_str()
    }

    /// The status of the Nomad job `job` is part of: for a job of several groups, running
    /// while any group runs and pending while any waits, else dead.
    pub fn nomad_job_status(&self, job: JobId) -> &'static str {
        let statuses: Vec<&str> = self
            .group_jobs(job)
            .into_iter()
            .map(|g| self.job_status_str(g))
            .collect();
        ["running", "pending"]
            .into_iter()
            .find(|s| statuses.contains(s))
            .unwrap_or("dead")
    }

    /// The job's version (0 for scenario jobs).
    pub fn job_version(&self, job: JobId) -> u64 {
        self.api_job(job).map_or(0, |a| a.version)
    }

    /// The held children of a parent: dispatched from a parameterized API job, launched by a
    /// periodic API job, or launched or dispatched by a scenario's periodic or parameterized
    /// workload (the children of a workload parent are that workload's jobs).
    pub fn children_of(&self, parent: &str) -> Vec<JobId> {
        let scenario = self
            .catalog
            .jobs
            .get(parent)
            .filter(|a| a.scenario || a.periodic);
        self.sim
            .jobs()
            .into_iter()
            .filter(|(id, j)| match scenario {
                Some(a) => j.workload as usize == a.workload,
                None => self
                    .api_name(*id)
                    .is_some_and(|n| n.parent.as_deref() == Some(parent)),
            })
            .map(|(id, _)| id)
            // A child of several groups is listed once, by its first group's job.
            .filter(|&id| self.group_jobs(id)[0] == id)
            .collect()
    }

    /// The facts the lists and details show about a job.
    pub fn job_facts(&self, r: JobRef<'_>) -> JobFacts {
        match r {
            JobRef::Parent(a) => JobFacts {
                id: a.id.clone(),
                job_type: a.spec["Type"].as_str().unwrap_or("batch").to_string(),
                priority: a.spec["Priority"].as_u64().unwrap_or(50) as u32,
                datacenters: strings(&a.spec["Datacenters"]),
                node_pool: a.spec["NodePool"].as_str().unwrap_or("default").to_string(),
                status: if a.stopped { "dead" } else { "running" }.to_string(),
                stopped: a.stopped,
                parameterized: a.parameterized,
                periodic: a.periodic,
                parent: String::new(),
                submit_ms: a.submit_ms,
                create_index: a.create_index,
                modify_index: a.modify_index,
                version: a.version,
            },
            JobRef::Core(job) => {
                let j = self.job(job);
                let w = self.workload_of(job);
                let api = self.api_job(job);
                let name = self.api_name(job);
                let serial_index = j.map_or(1, |j| j.serial + 1);
                let (datacenters, node_pool) = match api {
                    Some(a) => (
                        strings(&a.spec["Datacenters"]),
                        a.spec["NodePool"].as_str().unwrap_or("default").to_string(),
                    ),
                    None => (
                        match w {
                            Some(w) if !w.datacenters.is_empty() => w.datacenters.clone(),
                            _ => vec!["*".to_string()],
                        },
                        w.and_then(|w| w.node_pool.clone())
                            .unwrap_or_else(|| "all".to_string()),
                    ),
                };
                let status = self.nomad_job_status(job);
                JobFacts {
                    id: self.job_name(job),
                    job_type: w.map_or("batch", |w| w.job_type.as_str()).to_string(),
                    priority: j.map_or(50, |j| u32::from(j.priority)),
                    datacenters,
                    node_pool,
                    status: status.to_string(),
                    stopped: j
                        .is_some_and(|j| j.stopped || self.catalog.stopped.contains(&j.serial)),
                    parameterized: false,
                    periodic: false,
                    parent: match name {
                        Some(n) => n.parent.clone().unwrap_or_default(),
                        None => w
                            .filter(|w| w.arrivals.has_parent())
                            .map(|w| w.identity.as_ref().map_or(&w.name, |i| &i.job_id).clone())
                            .unwrap_or_default(),
                    },
                    submit_ms: j.map_or(0, |j| j.submit_ms),
                    create_index: api.map_or(serial_index, |a| a.create_index),
                    modify_index: api.map_or(serial_index, |a| a.modify_index),
                    version: api.map_or(0, |a| a.version),
                }
            }
        }
    }

    /// The job summary of one job (`GET /v1/job/:id/summary`).
    pub fn job_summary_json(&self, r: JobRef<'_>) -> Value {
        let f = self.job_facts(r);
        let (summary, children) = match r {
            JobRef::Core(job) => {
                let mut groups = serde_json::Map::new();
                for g in self.group_jobs(job) {
                    let c = self.summary_counts(g);
                    groups.insert(
                        self.group_name(g),
                        json!({
                            "Queued": c[0], "Starting": c[1], "Running": c[2], "Failed": c[3],
                            "Complete": c[4], "Lost": c[5], "Unknown": c[6]
                        }),
                    );
                }
                (
                    Value::Object(groups),
                    json!({ "Pending": 0, "Running": 0, "Dead": 0 }),
                )
            }
            JobRef::Parent(a) => {
                let kids = self.children_of(&a.id);
                let count = |st: &str| {
                    kids.iter()
                        .filter(|&&c| self.nomad_job_status(c) == st)
                        .count()
                };
                (
                    json!({ a.group.clone(): {
                        "Queued": 0, "Starting": 0, "Running": 0, "Failed": 0,
                        "Complete": 0, "Lost": 0, "Unknown": 0
                    }}),
                    json!({ "Pending": count("pending"), "Running": count("running"), "Dead": count("dead") }),
                )
            }
        };
        json!({
            "JobID": f.id,
            "Namespace": "default",
            "Summary": summary,
            "Children": children,
            "CreateIndex": f.create_index,
            "ModifyIndex": f.modify_index,
        })
    }

    /// `GET /v1/jobs`: job stubs, by ID; with `prefix`, the jobs whose ID starts with it.
    pub fn jobs_json(&self, prefix: &str) -> Value {
        Value::Array(
            self.job_refs()
                .into_iter()
                .filter(|(name, _)| name.starts_with(prefix))
                .map(|(_, r)| self.job_stub_json(r))
                .collect(),
        )
    }

    fn job_stub_json(&self, r: JobRef<'_>) -> Value {
        let f = self.job_facts(r);
        json!({
            "ID": f.id, "ParentID": f.parent, "Name": f.id, "Namespace": "default",
            "Datacenters": f.datacenters, "NodePool": f.node_pool,
            "Type": f.job_type, "Priority": f.priority,
            "Periodic": f.periodic, "ParameterizedJob": f.parameterized, "Stop": f.stopped,
            "Status": f.status, "StatusDescription": "",
            "JobSummary": self.job_summary_json(r),
            "CreateIndex": f.create_index, "ModifyIndex": f.modify_index, "JobModifyIndex": f.modify_index,
            "SubmitTime": self.unix_ns(f.submit_ms),
            "Version": f.version,
        })
    }

    /// A scenario workload's constraints (its job's, its group's and its tasks' together).
    fn workload_constraints(&self, job: JobId) -> Vec<Value> {
        let Some(w) = self.workload_of(job) else {
            return Vec::new();
        };
        w.constraints
            .iter()
            .map(|c| json!({ "LTarget": c.ltarget, "RTarget": c.rtarget, "Operand": c.operand.as_str() }))
            .chain(w.distinct_hosts.then(|| json!({ "Operand": "distinct_hosts", "RTarget": "true" })))
            .collect()
    }

    /// One task group of a scenario workload's job.
    fn workload_group(&self, job: JobId) -> Value {
        let Some(w) = self.workload_of(job) else {
            return json!({});
        };
        let ask = self.job(job).map(|j| j.ask).unwrap_or_default();
        let group = self.group_name(job);
        let mut tg = json!({
            "Name": group, "Count": w.count,
            "EphemeralDisk": { "SizeMB": ask.disk_mb.max(10) },
            "Tasks": [{ "Name": group, "Driver": "docker", "Config": { "image": "cimg/base" },
                        "Resources": { "CPU": ask.cpu_mhz.max(1), "MemoryMB": ask.memory_mb.max(10) } }],
        });
        if w.job_type == JobType::Service {
            tg["Migrate"] = json!({ "MaxParallel": w.max_parallel });
        }
        tg
    }

    /// The job specification of a scenario workload, as Nomad would hold it, with Nomad's
    /// defaults (read through the jobspec crate so both kinds of job share one shape): one
    /// task group per group of the job.
    fn workload_spec(&self, job: JobId) -> Value {
        let Some(w) = self.workload_of(job) else {
            return json!({});
        };
        // A job file's job is shown as the file has it.
        if let Some(spec) = w
            .identity
            .as_ref()
            .and_then(|i| self.catalog.scenario_specs.get(&i.job_id))
        {
            return spec.clone();
        }
        let jobs = self.group_jobs(job);
        let mut groups: Vec<Value> = jobs.iter().map(|&g| self.workload_group(g)).collect();
        // One group's constraints are shown as the job's; several groups keep their own.
        let constraints = if jobs.len() == 1 {
            self.workload_constraints(job)
        } else {
            for (tg, &g) in groups.iter_mut().zip(&jobs) {
                tg["Constraints"] = json!(self.workload_constraints(g));
            }
            Vec::new()
        };
        let raw = json!({
            "ID": self.job_name(job), "Name": self.job_name(job),
            "Type": w.job_type.as_str(), "Priority": w.priority,
            "Datacenters": if w.datacenters.is_empty() { vec!["*".to_string()] } else { w.datacenters.clone() },
            "NodePool": w.node_pool.clone().unwrap_or_else(|| "all".to_string()),
            "Constraints": constraints,
            "TaskGroups": groups,
        });
        let text = raw.to_string();
        let mut spec = match nomad_sim_jobspec::parse_as(
            nomad_sim_jobspec::Format::Json,
            &text,
            "workload",
            &BTreeMap::new(),
        ) {
            Ok(loaded) => serde_json::to_value(&loaded.job).unwrap_or(raw),
            Err(_) => raw,
        };
        // The scheduler's ask is the workload's own, whatever the jobspec minimums.
        for (i, &g) in jobs.iter().enumerate() {
            let ask = self.job(g).map(|j| j.ask).unwrap_or_default();
            if let Some(r) = spec.pointer_mut(&format!("/TaskGroups/{i}/Tasks/0/Resources")) {
                r["CPU"] = json!(ask.cpu_mhz);
                r["MemoryMB"] = json!(ask.memory_mb);
            }
            if let Some(d) = spec.pointer_mut(&format!("/TaskGroups/{i}/EphemeralDisk")) {
                d["SizeMB"] = json!(ask.disk_mb);
            }
        }
        spec
    }

    /// `GET /v1/job/:id`: the job specification with the server's fields.
    pub fn job_json(&self, r: JobRef<'_>) -> Value {
        let f = self.job_facts(r);
        let mut v = match r {
            JobRef::Parent(a) => a.spec.clone(),
            JobRef::Core(job) => match self.api_job(job) {
                Some(a) => a.spec.clone(),
                None => self.workload_spec(job),
            },
        };
        complete_job(&mut v);
        let dispatched = !f.parent.is_empty();
        // A child of a periodic or parameterized parent is a copy of it without the block
        // that launches children.
        if dispatched {
            v["Periodic"] = Value::Null;
            v["ParameterizedJob"] = Value::Null;
        }
        let fields = [
            ("ID", json!(f.id)),
            ("Name", json!(f.id)),
            ("ParentID", json!(f.parent)),
            ("Dispatched", json!(dispatched)),
            ("Status", json!(f.status)),
            ("StatusDescription", json!("")),
            ("Stop", json!(f.stopped)),
            ("Stable", json!(false)),
            ("Version", json!(f.version)),
            ("SubmitTime", json!(self.unix_ns(f.submit_ms))),
            ("CreateIndex", json!(f.create_index)),
            ("ModifyIndex", json!(f.modify_index)),
            ("JobModifyIndex", json!(f.modify_index)),
        ];
        if let Some(obj) = v.as_object_mut() {
            for (k, val) in fields {
                obj.insert(k.to_string(), val);
            }
        }
        v
    }

    /// `GET /v1/job/:id/allocations`: alloc stubs of one job.
    pub fn job_allocs_json(&self, r: JobRef<'_>) -> Value {
        let JobRef::Core(job) = r else {
            return json!([]);
        };
        let jobs = self.group_jobs(job);
        Value::Array(
            self.allocs_where(|a| jobs.contains(&a.job))
                .into_iter()
                .map(|id| self.alloc_stub_json(id))
                .collect(),
        )
    }

    /// `GET /v1/job/:id/evaluations`: full evals of one job.
    pub fn job_evals_json(&self, r: JobRef<'_>) -> Value {
        let JobRef::Core(job) = r else {
            return json!([]);
        };
        Value::Array(
            self.evals_where(Some(job))
                .into_iter()
                .map(|e| self.eval_json(e))
                .collect(),
        )
    }

    // ----- allocations -------------------------------------------------------------------------

    /// `GET /v1/allocations`: alloc stubs, newest first; with `prefix`, IDs starting with it.
    pub fn allocs_json(&self, prefix: &str, resources: bool, task_states: bool) -> Value {
        Value::Array(
            self.allocs_where(|_| true)
                .into_iter()
                .filter(|&id| prefix.is_empty() || self.alloc_uuid(id).starts_with(prefix))
                .map(|id| {
                    let mut v = self.alloc_stub_json(id);
                    if let Some(obj) = v.as_object_mut() {
                        if !task_states {
                            obj.insert("TaskStates".to_string(), Value::Null);
                        }
                        if resources {
                            obj.insert(
                                "AllocatedResources".to_string(),
                                self.allocated_resources(id),
                            );
                        }
                    }
                    v
                })
                .collect(),
        )
    }

    /// An alloc stub (`AllocationListStub`).
    pub fn alloc_stub_json(&self, id: AllocId) -> Value {
        let Some(a) = self.alloc(id) else {
            return Value::Null;
        };
        let (node_id, node_name) = self
            .node(a.node)
            .map(|n| (n.id.clone(), n.name.clone()))
            .unwrap_or_default();
        let (client_desc, mut desired_desc) = Self::descriptions(a);
        if self.sim.preempted_by(id).is_some() {
            desired_desc = self.sim.desired_description(id);
        }
        let preempted: Vec<String> = self
            .sim
            .preempted_allocations(id)
            .iter()
            .map(|&s| self.sim.alloc_uuid_of_serial(s))
            .collect();
        let migrate = matches!(
            a.end_reason(),
            Some(EndReason::Migrate | EndReason::DrainDeadline | EndReason::ForceDrain)
        );
        let modify = a.serial() + 1 + u64::from(a.ended_ms().is_some());
        json!({
            "ID": self.alloc_uuid(id),
            "EvalID": self.sim.eval_uuid_of_serial(a.eval()),
            "Name": self.alloc_name(id),
            "Namespace": "default",
            "NodeID": node_id, "NodeName": node_name,
            "JobID": self.job_name(a.job),
            "JobType": self.workload_of(a.job).map_or("batch", |w| w.job_type.as_str()),
            "JobVersion": self.job_version(a.job),
            "TaskGroup": self.group_name(a.job),
            "AllocatedResources": Value::Null,
            "DesiredStatus": a.desired.as_str(), "DesiredDescription": desired_desc,
            "DesiredTransition": { "Migrate": if migrate { json!(true) } else { Value::Null },
                                   "Reschedule": Value::Null, "ForceReschedule": Value::Null,
                                   "NoShutdownDelay": Value::Null },
            "ClientStatus": a.client().as_str(), "ClientDescription": client_desc,
            "TaskStates": self.task_states(id),
            "DeploymentStatus": Value::Null,
            "FollowupEvalID": "",
            "NextAllocation": self.next_alloc(id).map(|n| self.alloc_uuid(n)).unwrap_or_default(),
            "PreviousAllocation": self.sim.alloc_extra(id).previous.filter(|&p| self.alloc(p).is_some()).map(|p| self.alloc_uuid(p)).unwrap_or_default(),
            "RescheduleTracker": self.reschedule_tracker(id),
            "PreemptedAllocations": if preempted.is_empty() { Value::Null } else { json!(preempted) },
            "PreemptedByAllocation": self.sim.preempted_by(id).map(|s| self.sim.alloc_uuid_of_serial(s)).unwrap_or_default(),
            "CreateIndex": a.serial() + 1, "ModifyIndex": modify,
            "CreateTime": self.unix_ns(a.placed_ms()),
            "ModifyTime": self.unix_ns(a.ended_ms().unwrap_or(a.placed_ms())),
        })
    }

    fn reschedule_tracker(&self, id: AllocId) -> Value {
        let Some(a) = self.alloc(id) else {
            return Value::Null;
        };
        let Some(prev) = self
            .sim
            .alloc_extra(id)
            .previous
            .and_then(|p| self.alloc(p).map(|pa| (p, pa)))
        else {
            return Value::Null;
        };
        let prev_node = self
            .node(prev.1.node)
            .map(|n| n.id.clone())
            .unwrap_or_default();
        json!({ "Events": [{
            "PrevAllocID": self.alloc_uuid(prev.0),
            "PrevNodeID": prev_node,
            "RescheduleTime": self.unix_ns(a.placed_ms()),
            "Delay": (a.placed_ms().saturating_sub(prev.1.ended_ms().unwrap_or(a.placed_ms()))) * 1_000_000,
        }]})
    }

    fn task_states(&self, id: AllocId) -> Value {
        let Some(a) = self.alloc(id) else {
            return Value::Null;
        };
        let failed = a.client() == ClientStatus::Failed;
        let events: Vec<Value> = self
            .task_events(id)
            .into_iter()
            .map(|(t, kind, text)| task_event(self.unix_ns(t), kind, &text))
            .collect();
        let state = if a.ended_ms().is_some() {
            "dead"
        } else {
            "running"
        };
        let mut states = Map::new();
        for (task, _, _) in self.tasks(a.job) {
            states.insert(
                task,
                json!({
                    "State": state,
                    "Failed": failed,
                    "Restarts": 0,
                    "LastRestart": ZERO_TIME,
                    "StartedAt": self.date(a.placed_ms()),
                    "FinishedAt": a.ended_ms().map_or(ZERO_TIME.to_string(), |t| self.date(t)),
                    "Events": events,
                    "TaskHandle": Value::Null,
                }),
            );
        }
        Value::Object(states)
    }

    fn allocated_resources(&self, id: AllocId) -> Value {
        let Some(a) = self.alloc(id) else {
            return Value::Null;
        };
        let disk = self.job(a.job).map(|j| j.ask.disk_mb).unwrap_or_default();
        let mut tasks = Map::new();
        let mut lifecycles = Map::new();
        for (task, cpu, memory) in self.tasks(a.job) {
            tasks.insert(
                task.clone(),
                json!({
                    "Cpu": { "CpuShares": cpu, "ReservedCores": Value::Null },
                    "Memory": { "MemoryMB": memory, "MemoryMaxMB": 0 },
                    "Networks": Value::Null, "Devices": Value::Null,
                }),
            );
            lifecycles.insert(task, Value::Null);
        }
        // Ports the alloc holds (Nomad's `AllocatedPortMapping`; every node's address is
        // 127.0.0.1 in the simulator), or null when it holds none.
        let ports = match &self.sim.alloc_extra(id).hardware {
            Some(h) if !h.ports.is_empty() => Value::Array(
                h.ports
                    .iter()
                    .map(|(label, port)| {
                        json!({ "Label": label, "Value": port, "To": 0, "HostIP": "127.0.0.1" })
                    })
                    .collect(),
            ),
            _ => Value::Null,
        };
        json!({
            "Tasks": tasks,
            "TaskLifecycles": lifecycles,
            "Shared": { "DiskMB": disk, "Networks": Value::Null, "Ports": ports },
        })
    }

    /// `GET /v1/allocation/:id`: the full allocation, with its job.
    pub fn alloc_json(&self, id: AllocId) -> Value {
        let Some(a) = self.alloc(id) else {
            return Value::Null;
        };
        let ask = self.job(a.job).map(|j| j.ask).unwrap_or_default();
        let mut v = self.alloc_stub_json(id);
        v["Resources"] = json!({ "CPU": ask.cpu_mhz, "MemoryMB": ask.memory_mb, "DiskMB": ask.disk_mb, "Networks": Value::Null });
        v["SharedResources"] =
            json!({ "CPU": 0, "MemoryMB": 0, "DiskMB": ask.disk_mb, "Networks": Value::Null });
        let mut per_task = Map::new();
        for (task, cpu, memory) in self.tasks(a.job) {
            per_task.insert(
                task,
                json!({ "CPU": cpu, "MemoryMB": memory, "DiskMB": 0, "Networks": Value::Null }),
            );
        }
        v["TaskResources"] = Value::Object(per_task);
        v["AllocatedResources"] = self.allocated_resources(id);
        v["Job"] = self.job_json(JobRef::Core(a.job));
        v["Metrics"] = match self.sim.alloc_metrics(id) {
            Some(m) => self.metric_json(m, a.job),
            None => self.metric_json(&AllocMetric::default(), a.job),
        };
        v["AllocModifyIndex"] = json!(a.serial() + 1);
        v["NetworkStatus"] = Value::Null;
        v
    }

    /// Ready and eligible nodes per datacenter, as `NodesAvailable` counts them, and the nodes
    /// of each pool (`all` for every node), counted once per view.
    fn node_counts(&self) -> &(Value, BTreeMap<String, usize>) {
        self.node_counts.get_or_init(|| {
            let mut dcs: BTreeMap<String, Value> = BTreeMap::new();
            let mut pools: BTreeMap<String, usize> = BTreeMap::new();
            for n in self.sim.nodes() {
                let Some(p) = self.pool_of(n) else { continue };
                let entry = dcs.entry(p.datacenter.clone()).or_insert(json!(0));
                if n.status == NodeStatus::Ready
                    && n.eligibility == nomad_sim_core::model::Eligibility::Eligible
                {
                    *entry = json!(entry.as_u64().unwrap_or(0) + 1);
                }
                if n.status != NodeStatus::Terminated {
                    *pools.entry(p.node_pool.clone()).or_insert(0) += 1;
                    *pools.entry("all".to_string()).or_insert(0) += 1;
                }
            }
            (Value::Object(dcs.into_iter().collect()), pools)
        })
    }

    /// `AllocMetric` as Nomad's API shapes it.
    pub fn metric_json(&self, m: &AllocMetric, job: JobId) -> Value {
        let nodes = self.sim.nodes();
        let dims: BTreeMap<String, Value> = m
            .dimension_exhausted
            .entries()
            .into_iter()
            .map(|(d, n)| (d.to_string(), json!(n)))
            .collect();
        let constraints: BTreeMap<String, Value> = m
            .constraint_filtered
            .iter()
            .map(|(c, n)| (c.clone(), json!(n)))
            .collect();
        let id_of = |name: &str| {
            nodes
                .iter()
                .find(|n| n.name == name)
                .map_or(String::new(), |n| n.id.clone())
        };
        let mut deprecated_scores = Map::new();
        let score_meta: Vec<Value> = m
            .scores
            .iter()
            .map(|s| {
                let id = id_of(&s.node);
                let scores: Map<String, Value> = s
                    .scores
                    .named()
                    .into_iter()
                    .map(|(name, v)| (name.to_string(), json!(v)))
                    .collect();
                deprecated_scores.insert(format!("{id}.binpack"), json!(s.scores.binpack));
                json!({ "NodeID": id, "Scores": scores, "NormScore": s.norm_score })
            })
            .collect();
        let pool = self
            .workload_of(job)
            .and_then(|w| w.node_pool.clone())
            .unwrap_or_else(|| "all".to_string());
        let (available, pools) = self.node_counts();
        let in_pool = pools.get(&pool).copied().unwrap_or(0);
        json!({
            "NodesEvaluated": m.nodes_evaluated,
            "NodesFiltered": m.nodes_filtered,
            "NodesInPool": in_pool,
            "NodePool": pool,
            "NodesAvailable": available,
            "ClassFiltered": Value::Null,
            "ConstraintFiltered": map_or_null(constraints),
            "NodesExhausted": m.nodes_exhausted,
            "ClassExhausted": Value::Null,
            "DimensionExhausted": map_or_null(dims),
            "QuotaExhausted": Value::Null,
            "ResourcesExhausted": Value::Null,
            "Scores": if deprecated_scores.is_empty() { Value::Null } else { Value::Object(deprecated_scores) },
            "ScoreMetaData": score_meta,
            "AllocationTime": 0,
            "CoalescedFailures": m.coalesced_failures,
        })
    }

    // ----- evaluations -----------------------------------------------------------------------

    /// When an eval was created, as far as the core tells: a registration's is the job's
    /// submission; a delayed eval's is when it may run.
    pub fn eval_created_ms(&self, eval: EvalId) -> SimTime {
        self.eval(eval).map_or(0, |e| e.created_ms)
    }

    /// The placement failures of an eval: a blocked eval carries its job's last failed Select.
    pub fn eval_failures(&self, eval: EvalId) -> Option<&AllocMetric> {
        let e = self.eval(eval)?;
        let j = self.job(e.job)?;
        // The job's blocked eval, and the eval whose failure created it, carry its last
        // failed Select.
        let blocked = j.blocked_eval?;
        let blocked_seq = self.eval(blocked)?.seq;
        if blocked == eval || e.blocked == Some(blocked_seq) {
            j.failure.as_deref()
        } else {
            None
        }
    }

    /// The eval's status description.
    pub fn eval_description(&self, eval: EvalId) -> String {
        match self.eval(eval).map(|e| e.status) {
            Some(EvalStatus::Blocked) => "created to place remaining allocations".to_string(),
            Some(EvalStatus::Complete) => "complete".to_string(),
            Some(EvalStatus::Canceled) => "canceled because of a newer blocked eval".to_string(),
            _ => String::new(),
        }
    }

    /// `GET /v1/evaluation/:id`.
    pub fn eval_json(&self, eval: EvalId) -> Value {
        let Some(e) = self.eval(eval) else {
            return Value::Null;
        };
        let group = self.group_name(e.job);
        let failed = self
            .eval_failures(eval)
            .map(|m| json!({ group.clone(): self.metric_json(m, e.job) }))
            .unwrap_or(Value::Null);
        let queued = self.job(e.job).map_or(0, |j| j.queued);
        let created = self.eval_created_ms(eval);
        let job_index = self.job(e.job).map_or(0, |j| j.serial + 1);
        json!({
            "ID": self.eval_uuid(eval),
            "Namespace": "default",
            "Priority": self.job(e.job).map_or(50, |j| j.priority),
            "Type": self.workload_of(e.job).map_or("batch", |w| w.job_type.as_str()),
            "TriggeredBy": e.trigger.as_str(),
            "JobID": self.job_name(e.job),
            "JobModifyIndex": job_index,
            "NodeID": "", "NodeModifyIndex": 0, "DeploymentID": "",
            "Status": eval_status_str(e.status),
            "StatusDescription": self.eval_description(eval),
            "Wait": 0,
            "WaitUntil": if e.wait_until_ms > created { json!(self.date(e.wait_until_ms)) } else { Value::Null },
            "NextEval": "",
            "PreviousEval": e.previous.map_or(String::new(), |s| self.sim.eval_uuid_of_serial(s)),
            "BlockedEval": e.blocked.map_or(String::new(), |s| self.sim.eval_uuid_of_serial(s)),
            "RelatedEvals": Value::Null,
            "FailedTGAllocs": failed,
            "ClassEligibility": Value::Null,
            "QuotaLimitReached": "",
            "EscapedComputedClass": false,
            "AnnotatePlan": false,
            "QueuedAllocations": { group: if e.status == EvalStatus::Complete { 0 } else { queued } },
            "LeaderACL": "",
            "SnapshotIndex": e.seq + 1,
            "CreateIndex": e.seq + 1, "ModifyIndex": e.seq + 1,
            "CreateTime": self.unix_ns(created), "ModifyTime": self.unix_ns(created),
        })
    }

    /// `GET /v1/evaluations`: every held eval, oldest first; with `prefix`, IDs starting with it.
    pub fn evals_json(&self, prefix: &str) -> Value {
        Value::Array(
            self.evals_where(None)
                .into_iter()
                .filter(|&e| prefix.is_empty() || self.eval_uuid(e).starts_with(prefix))
                .map(|e| self.eval_json(e))
                .collect(),
        )
    }

    // ----- nodes -----------------------------------------------------------------------------

    fn drivers(&self, n: &Node) -> Value {
        let since = self.date(n.created_ms);
        let mut drivers = Map::new();
        for d in DRIVERS {
            drivers.insert(
                d.to_string(),
                json!({ "Attributes": { format!("driver.{d}"): "true" }, "Detected": true,
                        "Healthy": true, "HealthDescription": "Healthy", "UpdateTime": since }),
            );
        }
        Value::Object(drivers)
    }

    fn last_drain(&self, n: &Node) -> Value {
        let Some(r) = self
            .sim
            .drain_records()
            .iter()
            .rev()
            .find(|r| r.node == n.name)
        else {
            return Value::Null;
        };
        let ms = |s: f64| (s * 1000.0).round().max(0.0) as SimTime;
        let canceled = r.completed_s.is_some()
            && n.events
                .iter()
                .rev()
                .find(|e| e.subsystem == "Drain" || e.message.starts_with("Node marked"))
                .is_some_and(|e| e.message.starts_with("Node marked"));
        let status = match (r.completed_s, canceled) {
            (None, _) => "draining",
            (Some(_), true) => "canceled",
            (Some(_), false) => "complete",
        };
        json!({
            "StartedAt": self.date(ms(r.started_s)),
            "UpdatedAt": self.date(ms(r.completed_s.unwrap_or(r.started_s))),
            "Status": status,
            "AccessorID": "",
            "Meta": {},
        })
    }

    fn node_stub_json(&self, node: NodeId, resources: bool) -> Value {
        let (Some(n), Some(p)) = (
            self.node(node),
            self.node(node).and_then(|n| self.pool_of(n)),
        ) else {
            return Value::Null;
        };
        let mut v = json!({
            "Address": "127.0.0.1", "ID": n.id, "Name": n.name, "Datacenter": p.datacenter, "NodeClass": p.node_class,
            "NodePool": p.node_pool, "Drain": n.drain.is_some(), "SchedulingEligibility": n.eligibility.as_str(),
            "Status": n.status.as_str(), "StatusDescription": "", "Version": NOMAD_VERSION,
            "Drivers": self.drivers(n),
            "LastDrain": self.last_drain(n),
            "CreateIndex": n.create_index, "ModifyIndex": n.create_index + n.events.len() as u64,
            "Attributes": p.attributes,
        });
        if resources {
            v["NodeResources"] = self.node_resources(n);
            v["ReservedResources"] = self.reserved_resources(n);
        }
        v
    }

    fn node_resources(&self, n: &Node) -> Value {
        json!({
            "Cpu": { "CpuShares": n.capacity.cpu_mhz, "TotalCpuCores": 0, "ReservableCpuCores": Value::Null },
            "Memory": { "MemoryMB": n.capacity.memory_mb },
            "Disk": { "DiskMB": n.capacity.disk_mb },
            "Networks": Value::Null,
            "NodeNetworks": Value::Null,
            "Devices": Value::Null,
            "MinDynamicPort": 20000, "MaxDynamicPort": 32000,
        })
    }

    fn reserved_resources(&self, n: &Node) -> Value {
        json!({
            "Cpu": { "CpuShares": n.reserved.cpu_mhz },
            "Memory": { "MemoryMB": n.reserved.memory_mb },
            "Disk": { "DiskMB": n.reserved.disk_mb },
            "Networks": { "ReservedHostPorts": "" },
        })
    }

    /// `GET /v1/nodes`: node stubs, newest first; with `prefix`, IDs starting with it.
    pub fn nodes_json(&self, prefix: &str, resources: bool) -> Value {
        Value::Array(
            self.listed_nodes()
                .into_iter()
                .filter(|&id| {
                    prefix.is_empty() || self.node(id).is_some_and(|n| n.id.starts_with(prefix))
                })
                .map(|id| self.node_stub_json(id, resources))
                .collect(),
        )
    }

    /// `GET /v1/node/:id`: the full node. `DrainStrategy` is flat, as Go embeds the DrainSpec.
    pub fn node_json(&self, node: NodeId) -> Value {
        let (Some(n), Some(p)) = (
            self.node(node),
            self.node(node).and_then(|n| self.pool_of(n)),
        ) else {
            return Value::Null;
        };
        let mut v = self.node_stub_json(node, true);
        if let Some(obj) = v.as_object_mut() {
            // The full node has HTTPAddr where the stub has Address, and no Version.
            obj.remove("Address");
            obj.remove("Version");
        }
        v["HTTPAddr"] = json!("127.0.0.1:4646");
        v["TLSEnabled"] = json!(false);
        v["SecretID"] = json!("");
        v["Meta"] = json!(p.meta);
        v["Links"] = json!({});
        v["ComputedClass"] = json!(format!("v1:{}", n.class_id));
        v["StatusUpdatedAt"] = json!(
            self.start_unix_ms / 1000 + n.events.last().map_or(n.created_ms, |e| e.t_ms) / 1000
        );
        v["Events"] = Value::Array(
            n.events
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    json!({ "Message": e.message, "Subsystem": e.subsystem, "Details": Value::Null,
                        "Timestamp": self.date(e.t_ms), "CreateIndex": n.create_index + i as u64 })
                })
                .collect(),
        );
        v["HostVolumes"] = json!({});
        v["HostNetworks"] = json!({});
        v["CSIControllerPlugins"] = Value::Null;
        v["CSINodePlugins"] = Value::Null;
        v["NodeMaxAllocs"] = json!(0);
        v["Resources"] = json!({ "CPU": n.capacity.cpu_mhz, "MemoryMB": n.capacity.memory_mb, "DiskMB": n.capacity.disk_mb });
        v["Reserved"] = json!({ "CPU": n.reserved.cpu_mhz, "MemoryMB": n.reserved.memory_mb, "DiskMB": n.reserved.disk_mb });
        v["DrainStrategy"] = match n.drain {
            None => Value::Null,
            Some(d) => {
                let deadline_ns: i64 = match d.deadline_ms {
                    None => 0,
                    Some(t) if t <= d.started_ms => -1,
                    Some(t) => ((t - d.started_ms) as i64).saturating_mul(1_000_000),
                };
                json!({
                    "Deadline": deadline_ns,
                    "IgnoreSystemJobs": d.ignore_system,
                    "ForceDeadline": d.deadline_ms.map_or(ZERO_TIME.to_string(), |t| self.date(t)),
                    "StartedAt": self.date(d.started_ms),
                })
            }
        };
        v
    }

    /// `GET /v1/node/:id/allocations`: the node's full allocations, newest first.
    pub fn node_allocs_json(&self, node: NodeId) -> Value {
        Value::Array(
            self.allocs_where(|a| a.node == node)
                .into_iter()
                .map(|id| self.alloc_json(id))
                .collect(),
        )
    }

    /// The `--json` of `node-status <node>`: the node with its alloc stubs.
    pub fn node_with_allocs_json(&self, node: NodeId) -> Value {
        let mut v = self.node_json(node);
        v["Allocations"] = Value::Array(
            self.allocs_where(|a| a.node == node)
                .into_iter()
                .map(|id| self.alloc_stub_json(id))
                .collect(),
        );
        v
    }
}

/// A task event with every key Nomad's `TaskEvent` has.
fn task_event(time_ns: u64, kind: &str, text: &str) -> Value {
    json!({
        "Type": kind, "Time": time_ns, "DisplayMessage": text, "Message": "", "Details": {},
        "FailsTask": false, "RestartReason": "", "SetupError": "", "DriverError": "",
        "ExitCode": 0, "Signal": 0, "KillTimeout": 0, "KillError": "", "KillReason": "",
        "StartDelay": 0, "DownloadError": "", "ValidationError": "", "DiskLimit": 0,
        "FailedSibling": "", "VaultError": "", "TaskSignalReason": "", "TaskSignal": "",
        "DriverMessage": "", "GenericSource": "",
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Inserts `key: value` when the object lacks the key.
fn default_key(v: &mut Value, key: &str, value: Value) {
    if let Some(obj) = v.as_object_mut() {
        obj.entry(key.to_string()).or_insert(value);
    }
}

/// Adds the keys a Nomad server's job has that the jobspec model leaves out (fields it does not
/// keep, such as services and templates, and deprecated ones clients still read), so every job
/// has the full shape of `GET /v1/job/:id`.
pub fn complete_job(v: &mut Value) {
    for (k, val) in [
        ("Region", json!("global")),
        ("Namespace", json!("default")),
        ("ParentID", json!("")),
        ("Payload", Value::Null),
        ("Periodic", Value::Null),
        ("ParameterizedJob", Value::Null),
        ("Update", Value::Null),
        ("Spreads", Value::Null),
        ("Affinities", Value::Null),
        ("Constraints", Value::Null),
        ("Meta", Value::Null),
        ("Multiregion", Value::Null),
        ("VaultToken", json!("")),
        ("ConsulToken", json!("")),
        ("NomadTokenID", json!("")),
        ("UI", Value::Null),
    ] {
        default_key(v, k, val);
    }
    let Some(groups) = v.get_mut("TaskGroups").and_then(Value::as_array_mut) else {
        return;
    };
    for g in groups {
        for (k, val) in [
            ("Services", Value::Null),
            ("Volumes", Value::Null),
            ("Scaling", Value::Null),
            ("Consul", Value::Null),
            ("StopAfterClientDisconnect", Value::Null),
            ("MaxClientDisconnect", Value::Null),
        ] {
            default_key(g, k, val);
        }
        let Some(tasks) = g.get_mut("Tasks").and_then(Value::as_array_mut) else {
            continue;
        };
        for t in tasks {
            for (k, val) in [
                ("Services", Value::Null),
                ("Vault", Value::Null),
                ("Templates", Value::Null),
                ("Artifacts", Value::Null),
                ("DispatchPayload", Value::Null),
                ("Spreads", Value::Null),
                ("Identity", Value::Null),
                ("Identities", Value::Null),
                ("Consul", Value::Null),
                (
                    "LogConfig",
                    json!({ "Disabled": false, "MaxFiles": 10, "MaxFileSizeMB": 10 }),
                ),
            ] {
                default_key(t, k, val);
            }
            if let Some(r) = t.get_mut("Resources") {
                default_key(r, "DiskMB", json!(0));
                default_key(r, "IOPS", json!(0));
            }
        }
    }
}
