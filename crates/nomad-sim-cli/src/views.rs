//! Operator views of the simulated cluster at a moment: `status`, `node-status`, `logs`, in
//! Nomad's CLI text or, with `--json`, shaped like Nomad's HTTP API.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use nomad_sim_core::ids::{AllocId, JobId, NodeId};
use nomad_sim_core::model::{Alloc, ClientStatus, EndReason, Job, Node};
use nomad_sim_core::placement::AllocMetric;
use nomad_sim_core::time::{format_duration_ms, SimTime};
use nomad_sim_core::Simulation;

use crate::format::{ago, columns, ibytes, iso8601, key_values, short};

/// Nomad's default `node_gc_threshold`: down nodes disappear from `nomad node status` after this.
const NODE_GC_THRESHOLD_MS: SimTime = 24 * 3_600_000;

/// The simulation run to the moment asked for, with what the views need to print times.
///
/// Everything the views print comes from the core's read model: the jobs, evals and allocs it
/// still holds (Nomad's garbage collector has taken the rest), each node's events and each
/// alloc's placement metrics.
pub struct Moment {
    /// The simulation, stopped at `at_ms`.
    pub sim: Simulation,
    /// The moment.
    pub at_ms: SimTime,
    /// Wall-clock time of simulated time zero.
    pub start_unix_ms: u64,
}

impl Moment {
    /// Runs `sim` up to `at_ms`, keeping each alloc's placement metrics for the views.
    pub fn run(mut sim: Simulation, at_ms: SimTime, start_unix_ms: u64) -> Moment {
        sim.keep_alloc_metrics();
        sim.run_until(at_ms);
        Moment {
            sim,
            at_ms,
            start_unix_ms,
        }
    }

    fn job(&self, id: JobId) -> &Job {
        self.sim.job(id).expect("the views list held jobs only")
    }

    fn alloc(&self, id: AllocId) -> &Alloc {
        self.sim.alloc(id).expect("the views list held allocs only")
    }

    fn node(&self, id: NodeId) -> &Node {
        &self.sim.nodes()[id.index()]
    }

    fn date(&self, t_ms: SimTime) -> String {
        iso8601(self.start_unix_ms + t_ms)
    }

    fn unix_ns(&self, t_ms: SimTime) -> u64 {
        (self.start_unix_ms + t_ms) * 1_000_000
    }

    /// Jobs Nomad still holds at this moment (its garbage collector has taken jobs dead for
    /// `job_gc_threshold`), by ID.
    fn job_ids(&self) -> Vec<(String, JobId)> {
        let mut ids: Vec<(String, JobId)> = self
            .sim
            .jobs()
            .into_iter()
            .map(|(id, _)| (self.sim.job_name(id), id))
            .collect();
        ids.sort();
        ids
    }

    /// Nodes Nomad still lists, newest first: a down node is garbage-collected after
    /// `node_gc_threshold` (24h by default).
    fn listed_nodes(&self) -> impl Iterator<Item = &Node> {
        self.sim.nodes().iter().rev().filter(|n| {
            n.terminated_ms
                .is_none_or(|t| t + NODE_GC_THRESHOLD_MS > self.at_ms)
        })
    }

    fn allocs_where(&self, keep: impl Fn(&Alloc) -> bool) -> Vec<AllocId> {
        let mut ids: Vec<AllocId> = self
            .sim
            .allocs()
            .into_iter()
            .filter(|(_, a)| keep(a))
            .map(|(id, _)| id)
            .collect();
        // Newest first, as Nomad sorts by CreateIndex.
        ids.reverse();
        ids
    }

    fn workload_of(&self, job: JobId) -> &nomad_sim_core::config::WorkloadConfig {
        &self.sim.config().workloads[self.job(job).workload as usize]
    }

    /// Resolves a job ID: exact, else a unique prefix.
    pub fn find_job(&self, arg: &str) -> Result<JobId, String> {
        let ids = self.job_ids();
        if let Some((_, id)) = ids.iter().find(|(name, _)| name == arg) {
            return Ok(*id);
        }
        let matches: Vec<&(String, JobId)> = ids
            .iter()
            .filter(|(name, _)| name.starts_with(arg))
            .collect();
        match matches.len() {
            1 => Ok(matches[0].1),
            0 => Err(format!(
                "No job(s) with prefix or id {arg:?} found at {}",
                format_duration_ms(self.at_ms)
            )),
            n => Err(format!(
                "Prefix matched multiple jobs ({n}): {}",
                matches
                    .iter()
                    .take(10)
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// Resolves a node: by name, or by a prefix of its ID.
    pub fn find_node(&self, arg: &str) -> Result<NodeId, String> {
        let nodes = self.sim.nodes();
        if let Some(i) = nodes.iter().position(|n| n.name == arg) {
            return Ok(NodeId(i as u32));
        }
        let matches: Vec<usize> = (0..nodes.len())
            .filter(|&i| nodes[i].id.starts_with(arg))
            .collect();
        match matches.len() {
            1 => Ok(NodeId(matches[0] as u32)),
            0 => Err(format!("No node(s) with prefix or name {arg:?} found")),
            _ => Err(format!("Prefix {arg:?} matched multiple nodes")),
        }
    }

    /// Resolves an alloc: by ID prefix or full name, or a job (then one of its allocs, running first).
    pub fn find_alloc(&self, arg: &str) -> Result<AllocId, String> {
        let allocs = self.sim.allocs();
        let by_id: Vec<AllocId> = allocs
            .iter()
            .filter(|(_, a)| self.sim.alloc_uuid_of_serial(a.serial).starts_with(arg))
            .map(|(id, _)| *id)
            .collect();
        if arg.len() >= 2 && by_id.len() == 1 {
            return Ok(by_id[0]);
        }
        if arg.len() >= 2 && by_id.len() > 1 {
            return Err(format!("Prefix {arg:?} matched multiple allocations"));
        }
        if let Some((id, _)) = allocs
            .iter()
            .find(|(id, _)| self.sim.alloc_name(*id) == arg)
        {
            return Ok(*id);
        }
        let job = self.find_job(arg).map_err(|_| {
            format!(
                "No allocation or job {arg:?} found at {}",
                format_duration_ms(self.at_ms)
            )
        })?;
        let of_job = self.allocs_where(|a| a.job == job);
        of_job
            .iter()
            .find(|&&a| self.alloc(a).client == ClientStatus::Running)
            .or(of_job.first())
            .copied()
            .ok_or_else(|| {
                format!(
                    "Job {arg:?} has no allocations at {} (it is pending)",
                    format_duration_ms(self.at_ms)
                )
            })
    }

    // ----- nomad status --------------------------------------------------------------------

    /// `nomad status`: every job registered by now.
    pub fn job_list(&self) -> String {
        let ids = self.job_ids();
        if ids.is_empty() {
            return "No running jobs".to_string();
        }
        let mut rows = vec![vec!["ID", "Type", "Priority", "Status", "Submit Date"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()];
        for (name, id) in ids {
            let j = self.job(id);
            let w = self.workload_of(id);
            rows.push(vec![
                name,
                w.job_type.as_str().to_string(),
                j.priority.to_string(),
                self.sim.job_status(id).as_str().to_string(),
                self.date(j.submit_ms),
            ]);
        }
        columns(&rows)
    }

    fn summary_counts(&self, job: JobId) -> [u32; 7] {
        let j = self.job(job);
        // Queued, Starting, Running, Failed, Complete, Lost, Unknown.
        [j.queued, 0, j.live, j.failed, j.complete, j.lost, 0]
    }

    /// `nomad job status <id>`.
    pub fn job_detail(&self, job: JobId) -> String {
        let j = self.job(job);
        let w = self.workload_of(job);
        let name = self.sim.job_name(job);
        let dcs = if w.datacenters.is_empty() {
            "*".to_string()
        } else {
            w.datacenters.join(",")
        };
        let mut out = key_values(&[
            ("ID", name.clone()),
            ("Name", name),
            ("Submit Date", self.date(j.submit_ms)),
            ("Type", w.job_type.as_str().to_string()),
            ("Priority", j.priority.to_string()),
            ("Datacenters", dcs),
            ("Namespace", "default".to_string()),
            (
                "Node Pool",
                w.node_pool.clone().unwrap_or_else(|| "all".to_string()),
            ),
            ("Status", self.sim.job_status(job).as_str().to_string()),
            ("Periodic", "false".to_string()),
            ("Parameterized", "false".to_string()),
        ]);
        out.push_str("\n\nSummary\n");
        let c = self.summary_counts(job);
        let mut rows = vec![[
            "Task Group",
            "Queued",
            "Starting",
            "Running",
            "Failed",
            "Complete",
            "Lost",
            "Unknown",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()];
        let mut row = vec![self.sim.group_name(job).to_string()];
        row.extend(c.iter().map(u32::to_string));
        rows.push(row);
        out.push_str(&columns(&rows));
        if let (Some(_), Some(metrics)) = (j.blocked_eval, &j.failure) {
            out.push_str("\n\nPlacement Failure\n");
            out.push_str(&format!("Task Group {:?}:\n", self.sim.group_name(job)));
            out.push_str(&metric_lines(metrics).join("\n"));
        }
        out.push_str("\n\nAllocations\n");
        let allocs = self.allocs_where(|a| a.job == job);
        if allocs.is_empty() {
            out.push_str("No allocations placed");
        } else {
            out.push_str(&self.alloc_table(&allocs));
        }
        out
    }

    fn alloc_table(&self, allocs: &[AllocId]) -> String {
        let mut rows = vec![[
            "ID",
            "Node ID",
            "Task Group",
            "Version",
            "Desired",
            "Status",
            "Created",
            "Modified",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()];
        for &id in allocs {
            let a = self.alloc(id);
            rows.push(vec![
                short(&self.sim.alloc_uuid(id)),
                short(&self.node(a.node).id),
                self.sim.group_name(a.job).to_string(),
                "0".to_string(),
                a.desired.as_str().to_string(),
                a.client.as_str().to_string(),
                ago(self.at_ms, a.placed_ms),
                ago(self.at_ms, a.ended_ms.unwrap_or(a.placed_ms)),
            ]);
        }
        columns(&rows)
    }

    // ----- nomad node status ---------------------------------------------------------------

    fn drain_text(&self, n: &Node) -> String {
        match n.drain {
            None => "false".to_string(),
            Some(d) => {
                let mut s = match d.deadline_ms {
                    None => "true; no deadline".to_string(),
                    Some(t) if t <= d.started_ms => "true; force drain".to_string(),
                    Some(t) => format!("true; {} deadline", self.date(t)),
                };
                if d.ignore_system {
                    s.push_str("; ignoring system jobs");
                }
                s
            }
        }
    }

    fn pool_of(&self, n: &Node) -> &nomad_sim_core::config::PoolConfig {
        &self.sim.config().pools[n.pool as usize]
    }

    /// `nomad node status`: every node, newest first.
    pub fn node_list(&self) -> String {
        let nodes = self.sim.nodes();
        if nodes.is_empty() {
            return "No nodes registered".to_string();
        }
        let mut rows = vec![[
            "ID",
            "Node Pool",
            "DC",
            "Name",
            "Class",
            "Drain",
            "Eligibility",
            "Status",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()];
        for n in self.listed_nodes() {
            let p = self.pool_of(n);
            rows.push(vec![
                short(&n.id),
                p.name.clone(),
                p.datacenter.clone(),
                n.name.clone(),
                p.node_class.clone(),
                (n.drain.is_some()).to_string(),
                n.eligibility.as_str().to_string(),
                n.status.as_str().to_string(),
            ]);
        }
        columns(&rows)
    }

    /// `nomad node status <id>`.
    pub fn node_detail(&self, node: NodeId) -> String {
        let n = self.node(node);
        let p = self.pool_of(n);
        let end = n.terminated_ms.unwrap_or(self.at_ms);
        let mut out = key_values(&[
            ("ID", n.id.clone()),
            ("Name", n.name.clone()),
            ("Node Pool", p.name.clone()),
            ("Class", p.node_class.clone()),
            ("DC", p.datacenter.clone()),
            ("Drain", self.drain_text(n)),
            ("Eligibility", n.eligibility.as_str().to_string()),
            ("Status", n.status.as_str().to_string()),
            ("CSI Controllers", String::new()),
            ("CSI Drivers", String::new()),
            (
                "Uptime",
                format_duration_ms(end.saturating_sub(n.created_ms)),
            ),
            ("Host Volumes", String::new()),
            ("Host Networks", String::new()),
            ("CSI Volumes", String::new()),
            ("Driver Status", "docker,exec,raw_exec".to_string()),
        ]);
        out.push_str("\n\nNode Events\n");
        let mut rows = vec![vec![
            "Time".to_string(),
            "Subsystem".to_string(),
            "Message".to_string(),
        ]];
        for e in n.events.iter().rev() {
            rows.push(vec![
                self.date(e.t_ms),
                e.subsystem.to_string(),
                e.message.clone(),
            ]);
        }
        out.push_str(&columns(&rows));
        out.push_str("\n\nAllocated Resources\n");
        let running = self.allocs_where(|a| a.node == node && a.client == ClientStatus::Running);
        let used = running.iter().fold((0u64, 0u64, 0u64), |acc, a| {
            let ask = self.job(self.alloc(*a).job).ask;
            (
                acc.0 + ask.cpu_mhz,
                acc.1 + ask.memory_mb,
                acc.2 + ask.disk_mb,
            )
        });
        let cap = n.allocatable;
        out.push_str(&columns(&[
            vec![
                "CPU".to_string(),
                "Memory".to_string(),
                "Disk".to_string(),
                "Alloc Count".to_string(),
            ],
            vec![
                format!("{}/{} MHz", used.0, cap.cpu_mhz),
                format!("{}/{}", ibytes(used.1), ibytes(cap.memory_mb)),
                format!("{}/{}", ibytes(used.2), ibytes(cap.disk_mb)),
                running.len().to_string(),
            ],
        ]));
        out.push_str("\n\nAllocations\n");
        let allocs = self.allocs_where(|a| a.node == node);
        if allocs.is_empty() {
            out.push_str("No allocations placed");
        } else {
            out.push_str(&self.alloc_table(&allocs));
        }
        out
    }

    // ----- nomad alloc logs / alloc status -------------------------------------------------

    /// Task events of an alloc, oldest first: (time, type, description).
    fn task_events(&self, id: AllocId) -> Vec<(SimTime, &'static str, String)> {
        let a = self.alloc(id);
        let mut events = vec![
            (
                a.placed_ms,
                "Received",
                "Task received by client".to_string(),
            ),
            (
                a.placed_ms,
                "Task Setup",
                "Building Task Directory".to_string(),
            ),
            (a.placed_ms, "Driver", "Downloading image".to_string()),
            (a.placed_ms, "Started", "Task started by client".to_string()),
        ];
        if let (Some(t), Some(reason)) = (a.ended_ms, a.end_reason) {
            match reason {
                EndReason::Completed => events.push((t, "Terminated", "Exit Code: 0".to_string())),
                EndReason::Failed => {
                    events.push((t, "Terminated", "Exit Code: 1".to_string()));
                    events.push((
                        t,
                        "Not Restarting",
                        "Exceeded allowed attempts 3 in interval 24h0m0s and mode is \"fail\""
                            .to_string(),
                    ));
                }
                EndReason::DrainDeadline | EndReason::ForceDrain | EndReason::Migrate => {
                    let why = match reason {
                        EndReason::DrainDeadline => "node drain deadline reached",
                        EndReason::ForceDrain => "node force drain",
                        _ => "alloc is being migrated",
                    };
                    events.push((
                        t,
                        "Killing",
                        format!("Sent interrupt ({why}). Waiting 5s before force killing"),
                    ));
                    events.push((t, "Killed", "Task successfully killed".to_string()));
                }
                EndReason::NodeDown => events.push((
                    t,
                    "Lost",
                    "alloc is lost since its node is down".to_string(),
                )),
                EndReason::NodeTerminated => events.push((
                    t,
                    "Lost",
                    "alloc is lost since its node was terminated".to_string(),
                )),
            }
        }
        events
    }

    fn descriptions(a: &Alloc) -> (String, String) {
        let client = match a.end_reason {
            None => "Tasks are running".to_string(),
            Some(EndReason::Completed) => "All tasks have completed".to_string(),
            Some(EndReason::Failed) => "Failed tasks".to_string(),
            Some(EndReason::NodeDown) | Some(EndReason::NodeTerminated) => {
                "alloc is lost since its node is down".to_string()
            }
            Some(_) => "All tasks have completed".to_string(),
        };
        let desired = match a.end_reason {
            Some(EndReason::Migrate) => "alloc is being migrated".to_string(),
            Some(EndReason::DrainDeadline) | Some(EndReason::ForceDrain) => {
                "alloc is being drained".to_string()
            }
            Some(EndReason::NodeDown) | Some(EndReason::NodeTerminated) => {
                "alloc is lost since its node is down".to_string()
            }
            _ => String::new(),
        };
        (client, desired)
    }

    /// `nomad alloc status -verbose`-style view: the alloc, its task events, placement metrics.
    pub fn alloc_view(&self, id: AllocId) -> String {
        let a = self.alloc(id);
        let uuid = self.sim.alloc_uuid(id);
        let n = self.node(a.node);
        let (client_desc, desired_desc) = Self::descriptions(a);
        let mut pairs = vec![
            ("ID", uuid.clone()),
            ("Eval ID", short(&self.sim.eval_uuid_of_serial(a.eval))),
            ("Name", self.sim.alloc_name(id)),
            ("Node ID", short(&n.id)),
            ("Node Name", n.name.clone()),
            ("Job ID", self.sim.job_name(a.job)),
            ("Job Version", "0".to_string()),
            ("Client Status", a.client.as_str().to_string()),
            ("Client Description", client_desc),
            ("Desired Status", a.desired.as_str().to_string()),
            ("Desired Description", desired_desc),
            ("Created", ago(self.at_ms, a.placed_ms)),
            (
                "Modified",
                ago(self.at_ms, a.ended_ms.unwrap_or(a.placed_ms)),
            ),
        ];
        if let Some(prev) = a.previous.filter(|&p| self.sim.alloc(p).is_some()) {
            pairs.push(("Previous Alloc ID", short(&self.sim.alloc_uuid(prev))));
        }
        let mut out = key_values(&pairs);
        let task = self.sim.group_name(a.job).to_string();
        let state = if a.ended_ms.is_some() {
            "dead"
        } else {
            "running"
        };
        out.push_str(&format!("\n\nTask {task:?} is {state:?}\n"));
        let ask = self.job(a.job).ask;
        out.push_str("Task Resources:\n");
        out.push_str(&columns(&[
            vec!["CPU".to_string(), "Memory".to_string(), "Disk".to_string()],
            vec![
                format!("{} MHz", ask.cpu_mhz),
                ibytes(ask.memory_mb),
                ibytes(ask.disk_mb),
            ],
        ]));
        out.push_str("\n\nTask Events:\n");
        out.push_str(&key_values(&[
            ("Started At", self.date(a.placed_ms)),
            (
                "Finished At",
                a.ended_ms.map_or("N/A".to_string(), |t| self.date(t)),
            ),
            ("Total Restarts", "0".to_string()),
            ("Last Restart", "N/A".to_string()),
        ]));
        out.push_str("\n\nRecent Events:\n");
        let mut rows = vec![vec![
            "Time".to_string(),
            "Type".to_string(),
            "Description".to_string(),
        ]];
        for (t, kind, text) in self.task_events(id).into_iter().rev() {
            rows.push(vec![self.date(t), kind.to_string(), text]);
        }
        out.push_str(&columns(&rows));
        if let Some(m) = self.sim.alloc_metrics(id) {
            out.push_str("\n\nPlacement Metrics\n");
            let mut lines = metric_lines(m);
            lines.retain(|l| !l.is_empty());
            if !lines.is_empty() {
                out.push_str(&lines.join("\n"));
                out.push('\n');
            }
            out.push_str(&score_table(m));
            out.push_str(&format!(
                "\n\nEvaluated Nodes = {}\nFiltered Nodes  = {}\nExhausted Nodes = {}",
                m.nodes_evaluated, m.nodes_filtered, m.nodes_exhausted
            ));
        }
        out
    }

    // ----- JSON shaped like Nomad's API ----------------------------------------------------

    fn job_summary_json(&self, job: JobId) -> Value {
        let c = self.summary_counts(job);
        json!({
            "JobID": self.sim.job_name(job),
            "Namespace": "default",
            "Summary": { self.sim.group_name(job): {
                "Queued": c[0], "Starting": c[1], "Running": c[2], "Failed": c[3],
                "Complete": c[4], "Lost": c[5], "Unknown": c[6]
            }},
            "Children": { "Pending": 0, "Running": 0, "Dead": 0 },
        })
    }

    /// `GET /v1/jobs`: job stubs.
    pub fn jobs_json(&self) -> Value {
        Value::Array(
            self.job_ids()
                .into_iter()
                .map(|(name, id)| {
                    let j = self.job(id);
                    let w = self.workload_of(id);
                    json!({
                        "ID": name, "ParentID": "", "Name": name, "Namespace": "default",
                        "Datacenters": if w.datacenters.is_empty() { vec!["*".to_string()] } else { w.datacenters.clone() },
                        "NodePool": w.node_pool.clone().unwrap_or_else(|| "all".to_string()),
                        "Type": w.job_type.as_str(), "Priority": j.priority,
                        "Periodic": false, "ParameterizedJob": false, "Stop": false,
                        "Status": self.sim.job_status(id).as_str(), "StatusDescription": "",
                        "JobSummary": self.job_summary_json(id),
                        "CreateIndex": j.serial + 1, "ModifyIndex": j.serial + 1, "JobModifyIndex": j.serial + 1,
                        "SubmitTime": self.unix_ns(j.submit_ms),
                    })
                })
                .collect(),
        )
    }

    /// `GET /v1/job/:id/allocations`: alloc stubs of one job.
    pub fn job_allocs_json(&self, job: JobId) -> Value {
        Value::Array(
            self.allocs_where(|a| a.job == job)
                .into_iter()
                .map(|id| self.alloc_stub_json(id))
                .collect(),
        )
    }

    fn alloc_stub_json(&self, id: AllocId) -> Value {
        let a = self.alloc(id);
        let n = self.node(a.node);
        let (client_desc, desired_desc) = Self::descriptions(a);
        json!({
            "ID": self.sim.alloc_uuid(id),
            "EvalID": self.sim.eval_uuid_of_serial(a.eval),
            "Name": self.sim.alloc_name(id),
            "Namespace": "default",
            "NodeID": n.id, "NodeName": n.name,
            "JobID": self.sim.job_name(a.job), "JobType": self.workload_of(a.job).job_type.as_str(), "JobVersion": 0,
            "TaskGroup": self.sim.group_name(a.job),
            "DesiredStatus": a.desired.as_str(), "DesiredDescription": desired_desc,
            "ClientStatus": a.client.as_str(), "ClientDescription": client_desc,
            "CreateIndex": a.serial + 1, "ModifyIndex": a.serial + 1,
            "CreateTime": self.unix_ns(a.placed_ms),
            "ModifyTime": self.unix_ns(a.ended_ms.unwrap_or(a.placed_ms)),
            "PreviousAllocation": a.previous.filter(|&p| self.sim.alloc(p).is_some()).map(|p| self.sim.alloc_uuid(p)).unwrap_or_default(),
        })
    }

    /// `GET /v1/allocation/:id`.
    pub fn alloc_json(&self, id: AllocId) -> Value {
        let a = self.alloc(id);
        let ask = self.job(a.job).ask;
        let task = self.sim.group_name(a.job).to_string();
        let mut v = self.alloc_stub_json(id);
        let resources =
            json!({ "CPU": ask.cpu_mhz, "MemoryMB": ask.memory_mb, "DiskMB": ask.disk_mb });
        v["Resources"] = resources.clone();
        v["TaskResources"] = json!({ task.clone(): resources });
        let events: Vec<Value> = self
            .task_events(id)
            .into_iter()
            .map(|(t, kind, text)| json!({ "Type": kind, "Time": self.unix_ns(t), "DisplayMessage": text, "Message": "" }))
            .collect();
        let failed = a.client == ClientStatus::Failed;
        v["TaskStates"] = json!({ task: {
            "State": if a.ended_ms.is_some() { "dead" } else { "running" },
            "Failed": failed,
            "Restarts": 0,
            "StartedAt": self.date(a.placed_ms),
            "FinishedAt": a.ended_ms.map_or("0001-01-01T00:00:00Z".to_string(), |t| self.date(t)),
            "Events": events,
        }});
        if let Some(m) = self.sim.alloc_metrics(id) {
            v["Metrics"] = metric_json(m, self.sim.nodes());
        }
        v
    }

    fn node_stub_json(&self, n: &Node) -> Value {
        let p = self.pool_of(n);
        json!({
            "Address": "", "ID": n.id, "Name": n.name, "Datacenter": p.datacenter, "NodeClass": p.node_class,
            "NodePool": p.name, "Drain": n.drain.is_some(), "SchedulingEligibility": n.eligibility.as_str(),
            "Status": n.status.as_str(), "StatusDescription": "", "Version": "2.0.5",
            "CreateIndex": n.create_index, "ModifyIndex": n.create_index,
            "Attributes": p.attributes,
        })
    }

    /// `GET /v1/nodes`: node stubs, newest first.
    pub fn nodes_json(&self) -> Value {
        Value::Array(
            self.listed_nodes()
                .map(|n| self.node_stub_json(n))
                .collect(),
        )
    }

    /// `GET /v1/node/:id`.
    pub fn node_json(&self, node: NodeId) -> Value {
        let n = self.node(node);
        let p = self.pool_of(n);
        let mut v = self.node_stub_json(n);
        // The full node has HTTPAddr where the stub has Address, and no Version.
        if let Some(obj) = v.as_object_mut() {
            obj.remove("Address");
            obj.remove("Version");
        }
        v["HTTPAddr"] = json!("");
        v["Meta"] = json!(p.meta);
        v["NodeResources"] = json!({
            "Cpu": { "CpuShares": n.capacity.cpu_mhz },
            "Memory": { "MemoryMB": n.capacity.memory_mb },
            "Disk": { "DiskMB": n.capacity.disk_mb },
        });
        v["ReservedResources"] = json!({
            "Cpu": { "CpuShares": n.reserved.cpu_mhz },
            "Memory": { "MemoryMB": n.reserved.memory_mb },
            "Disk": { "DiskMB": n.reserved.disk_mb },
        });
        v["DrainStrategy"] = match n.drain {
            None => Value::Null,
            Some(d) => {
                let deadline_ns: i64 = match d.deadline_ms {
                    None => 0,
                    Some(t) if t <= d.started_ms => -1_000_000_000,
                    Some(t) => ((t - d.started_ms) * 1_000_000) as i64,
                };
                json!({
                    "DrainSpec": { "Deadline": deadline_ns, "IgnoreSystemJobs": d.ignore_system },
                    "ForceDeadline": d.deadline_ms.map_or("0001-01-01T00:00:00Z".to_string(), |t| self.date(t)),
                    "StartedAt": self.date(d.started_ms),
                })
            }
        };
        v["Allocations"] = Value::Array(
            self.allocs_where(|a| a.node == node)
                .into_iter()
                .map(|id| self.alloc_stub_json(id))
                .collect(),
        );
        v
    }
}

/// The bullet lines Nomad's `formatAllocMetrics` prints for a Select.
pub fn metric_lines(m: &AllocMetric) -> Vec<String> {
    let mut lines = Vec::new();
    if m.nodes_evaluated == 0 {
        lines.push("  * No nodes were eligible for evaluation".to_string());
    }
    for (constraint, n) in &m.constraint_filtered {
        lines.push(format!(
            "  * Constraint {constraint:?}: {n} nodes excluded by filter"
        ));
    }
    if m.nodes_exhausted > 0 {
        lines.push(format!(
            "  * Resources exhausted on {} nodes",
            m.nodes_exhausted
        ));
    }
    for (dim, n) in m.dimension_exhausted.entries() {
        lines.push(format!("  * Dimension {dim:?} exhausted on {n} nodes"));
    }
    if m.coalesced_failures > 0 {
        lines.push(format!(
            "  * Failed to place {} allocations",
            m.coalesced_failures + 1
        ));
    }
    lines
}

/// The score table of `alloc status -verbose`: the scorers that applied to some node, in
/// alphabetical order, values as `%.3g` (0 where a scorer did not apply to a node).
fn score_table(m: &AllocMetric) -> String {
    let anti = m
        .scores
        .iter()
        .any(|s| s.scores.job_anti_affinity.is_some());
    let penalty = m
        .scores
        .iter()
        .any(|s| s.scores.node_reschedule_penalty.is_some());
    let mut header = vec!["Node".to_string(), "binpack".to_string()];
    if anti {
        header.push("job-anti-affinity".to_string());
    }
    if penalty {
        header.push("node-reschedule-penalty".to_string());
    }
    header.push("final score".to_string());
    let mut rows = vec![header];
    for s in &m.scores {
        let mut row = vec![s.node.clone(), g3(s.scores.binpack)];
        if anti {
            row.push(g3(s.scores.job_anti_affinity.unwrap_or(0.0)));
        }
        if penalty {
            row.push(g3(s.scores.node_reschedule_penalty.unwrap_or(0.0)));
        }
        row.push(g3(s.norm_score));
        rows.push(row);
    }
    columns(&rows)
}

/// Go's `%.3g`: three significant digits, no trailing zeros.
fn g3(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let exp = x.abs().log10().floor() as i32;
    if !(-4..3).contains(&exp) {
        return format!("{x:.2e}");
    }
    let decimals = (2 - exp).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `AllocMetric` as Nomad's API shapes it.
fn metric_json(m: &AllocMetric, nodes: &[Node]) -> Value {
    let dims: BTreeMap<&str, u32> = m.dimension_exhausted.entries().into_iter().collect();
    let constraints: BTreeMap<&str, u32> = m
        .constraint_filtered
        .iter()
        .map(|(c, n)| (c.as_str(), *n))
        .collect();
    let id_of = |name: &str| {
        nodes
            .iter()
            .find(|n| n.name == name)
            .map_or(String::new(), |n| n.id.clone())
    };
    let score_meta: Vec<Value> = m
        .scores
        .iter()
        .map(|s| {
            let mut scores = serde_json::Map::new();
            scores.insert("binpack".to_string(), json!(s.scores.binpack));
            if let Some(a) = s.scores.job_anti_affinity {
                scores.insert("job-anti-affinity".to_string(), json!(a));
            }
            if let Some(p) = s.scores.node_reschedule_penalty {
                scores.insert("node-reschedule-penalty".to_string(), json!(p));
            }
            json!({ "NodeID": id_of(&s.node), "Scores": scores, "NormScore": s.norm_score })
        })
        .collect();
    json!({
        "NodesEvaluated": m.nodes_evaluated,
        "NodesFiltered": m.nodes_filtered,
        "NodesExhausted": m.nodes_exhausted,
        "DimensionExhausted": if dims.is_empty() { Value::Null } else { json!(dims) },
        "ConstraintFiltered": if constraints.is_empty() { Value::Null } else { json!(constraints) },
        "ScoreMetaData": score_meta,
        "CoalescedFailures": m.coalesced_failures,
        "AllocationTime": 0,
    })
}

#[cfg(test)]
mod tests {
    use super::g3;

    #[test]
    fn percent_3g() {
        assert_eq!(g3(0.0238), "0.0238");
        assert_eq!(g3(0.62057325), "0.621");
        assert_eq!(g3(-1.0), "-1");
        assert_eq!(g3(0.5), "0.5");
        assert_eq!(g3(12.345), "12.3");
    }
}
