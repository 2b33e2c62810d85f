//! The views in Nomad's CLI text: `nomad status`, `nomad job status`, `nomad node status`,
//! `nomad alloc status`, `nomad eval list` and `nomad eval status`.

use nomad_sim_core::ids::{AllocId, EvalId, JobId, NodeId};
use nomad_sim_core::model::{Alloc, ClientStatus, EndReason, EvalStatus, Node};
use nomad_sim_core::placement::AllocMetric;
use nomad_sim_core::time::{format_duration_ms, SimTime};

use super::{JobRef, View};
use crate::format::{ago, columns, ibytes, key_values, short};

fn header(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

impl View<'_> {
    // ----- nomad status --------------------------------------------------------------------

    /// `nomad status`: every job registered by now.
    pub fn job_list(&self) -> String {
        let refs = self.job_refs();
        if refs.is_empty() {
            return "No running jobs".to_string();
        }
        let mut rows = vec![header(&["ID", "Type", "Priority", "Status", "Submit Date"])];
        for (name, r) in refs {
            let s = self.job_facts(r);
            rows.push(vec![
                name,
                s.type_text(),
                s.priority.to_string(),
                s.status_text(),
                self.date(s.submit_ms),
            ]);
        }
        columns(&rows)
    }

    /// Queued, Starting, Running, Failed, Complete, Lost, Unknown.
    pub(crate) fn summary_counts(&self, job: JobId) -> [u32; 7] {
        match self.job(job) {
            Some(j) => [j.queued, 0, j.live, j.failed, j.complete, j.lost, 0],
            None => [0; 7],
        }
    }

    /// `nomad job status <id>`.
    pub fn job_detail(&self, r: JobRef<'_>) -> String {
        let s = self.job_facts(r);
        let mut out = key_values(&[
            ("ID", s.id.clone()),
            ("Name", s.id.clone()),
            ("Submit Date", self.date(s.submit_ms)),
            ("Type", s.job_type.clone()),
            ("Priority", s.priority.to_string()),
            ("Datacenters", s.datacenters.join(",")),
            ("Namespace", "default".to_string()),
            ("Node Pool", s.node_pool.clone()),
            ("Status", s.status_text()),
            ("Periodic", s.periodic.to_string()),
            ("Parameterized", s.parameterized.to_string()),
        ]);
        let job = match r {
            JobRef::Core(job) => job,
            JobRef::Parent(a) => {
                out.push_str(if a.periodic {
                    "\n\nChildren Job Summary\n"
                } else {
                    "\n\nParameterized Job Summary\n"
                });
                let children = self.children_of(&a.id);
                let count = |st: &str| {
                    children
                        .iter()
                        .filter(|&&c| self.nomad_job_status(c) == st)
                        .count()
                };
                out.push_str(&columns(&[
                    header(&["Pending", "Running", "Dead"]),
                    vec![
                        count("pending").to_string(),
                        count("running").to_string(),
                        count("dead").to_string(),
                    ],
                ]));
                out.push_str(if a.periodic {
                    "\n\nPreviously Launched Jobs\n"
                } else {
                    "\n\nDispatched Jobs\n"
                });
                if children.is_empty() && a.periodic {
                    out.push_str("No instances of periodic job found");
                } else if children.is_empty() {
                    out.push_str("No dispatched instances of parameterized job found");
                } else {
                    let mut rows = vec![header(&["ID", "Status"])];
                    for c in children {
                        rows.push(vec![self.job_name(c), self.nomad_job_status(c).to_string()]);
                    }
                    out.push_str(&columns(&rows));
                }
                return out;
            }
        };
        out.push_str("\n\nSummary\n");
        let mut rows = vec![header(&[
            "Task Group",
            "Queued",
            "Starting",
            "Running",
            "Failed",
            "Complete",
            "Lost",
            "Unknown",
        ])];
        let groups = self.group_jobs(job);
        for &g in &groups {
            let mut row = vec![self.group_name(g)];
            row.extend(self.summary_counts(g).iter().map(u32::to_string));
            rows.push(row);
        }
        out.push_str(&columns(&rows));
        let failures: Vec<String> = groups
            .iter()
            .filter_map(|&g| {
                let j = self.job(g)?;
                let metrics = j.failure.as_ref().filter(|_| j.blocked_eval.is_some())?;
                Some(format!(
                    "Task Group {:?}:\n{}",
                    self.group_name(g),
                    metric_lines(metrics).join("\n")
                ))
            })
            .collect();
        if !failures.is_empty() {
            out.push_str("\n\nPlacement Failure\n");
            out.push_str(&failures.join("\n\n"));
        }
        out.push_str("\n\nAllocations\n");
        let allocs = self.allocs_where(|a| groups.contains(&a.job));
        if allocs.is_empty() {
            out.push_str("No allocations placed");
        } else {
            out.push_str(&self.alloc_table(&allocs));
        }
        out
    }

    fn alloc_table(&self, allocs: &[AllocId]) -> String {
        let mut rows = vec![header(&[
            "ID",
            "Node ID",
            "Task Group",
            "Version",
            "Desired",
            "Status",
            "Created",
            "Modified",
        ])];
        for &id in allocs {
            let Some(a) = self.alloc(id) else { continue };
            rows.push(vec![
                short(&self.alloc_uuid(id)),
                short(&self.node(a.node).map(|n| n.id.clone()).unwrap_or_default()),
                self.group_name(a.job),
                self.job_version(a.job).to_string(),
                a.desired.as_str().to_string(),
                a.client().as_str().to_string(),
                ago(self.at_ms, a.placed_ms()),
                ago(self.at_ms, a.ended_ms().unwrap_or(a.placed_ms())),
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

    /// `nomad node status`: every node, newest first.
    pub fn node_list(&self) -> String {
        let listed = self.listed_nodes();
        if listed.is_empty() {
            return "No nodes registered".to_string();
        }
        let mut rows = vec![header(&[
            "ID",
            "Node Pool",
            "DC",
            "Name",
            "Class",
            "Drain",
            "Eligibility",
            "Status",
        ])];
        for id in listed {
            let (Some(n), Some(p)) = (self.node(id), self.node(id).and_then(|n| self.pool_of(n)))
            else {
                continue;
            };
            rows.push(vec![
                short(&n.id),
                p.node_pool.clone(),
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
        let (Some(n), Some(p)) = (
            self.node(node),
            self.node(node).and_then(|n| self.pool_of(n)),
        ) else {
            return String::new();
        };
        let end = n.terminated_ms.unwrap_or(self.at_ms);
        let mut out = key_values(&[
            ("ID", n.id.clone()),
            ("Name", n.name.clone()),
            ("Node Pool", p.node_pool.clone()),
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
        let mut rows = vec![header(&["Time", "Subsystem", "Message"])];
        for e in n.events.iter().rev() {
            rows.push(vec![
                self.date(e.t_ms),
                e.subsystem.to_string(),
                e.message.clone(),
            ]);
        }
        out.push_str(&columns(&rows));
        out.push_str("\n\nAllocated Resources\n");
        let running = self.allocs_where(|a| a.node == node && a.client() == ClientStatus::Running);
        let used = running.iter().fold((0u64, 0u64, 0u64), |acc, &a| {
            let ask = self
                .alloc(a)
                .and_then(|a| self.job(a.job))
                .map(|j| j.ask)
                .unwrap_or_default();
            (
                acc.0 + ask.cpu_mhz,
                acc.1 + ask.memory_mb,
                acc.2 + ask.disk_mb,
            )
        });
        let cap = n.allocatable;
        out.push_str(&columns(&[
            header(&["CPU", "Memory", "Disk", "Alloc Count"]),
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
    pub(crate) fn task_events(&self, id: AllocId) -> Vec<(SimTime, &'static str, String)> {
        let Some(a) = self.alloc(id) else {
            return Vec::new();
        };
        let mut events = vec![
            (
                a.placed_ms(),
                "Received",
                "Task received by client".to_string(),
            ),
            (
                a.placed_ms(),
                "Task Setup",
                "Building Task Directory".to_string(),
            ),
            (a.placed_ms(), "Driver", "Downloading image".to_string()),
            (
                a.placed_ms(),
                "Started",
                "Task started by client".to_string(),
            ),
        ];
        if let (Some(t), Some(reason)) = (a.ended_ms(), a.end_reason()) {
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
                EndReason::JobStopped => {
                    events.push((
                        t,
                        "Killing",
                        "Sent interrupt. Waiting 5s before force killing".to_string(),
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
                EndReason::Preempted => {
                    events.push((
                        t,
                        "Killing",
                        "Sent interrupt. Waiting 5s before force killing".to_string(),
                    ));
                    events.push((t, "Killed", "Task successfully killed".to_string()));
                }
            }
        }
        events
    }

    /// The client and desired descriptions Nomad gives an alloc.
    pub(crate) fn descriptions(a: &Alloc) -> (String, String) {
        let client = match a.end_reason() {
            None => "Tasks are running".to_string(),
            Some(EndReason::Completed) => "All tasks have completed".to_string(),
            Some(EndReason::Failed) => "Failed tasks".to_string(),
            Some(EndReason::NodeDown) | Some(EndReason::NodeTerminated) => {
                "alloc is lost since its node is down".to_string()
            }
            Some(_) => "All tasks have completed".to_string(),
        };
        let desired = match a.end_reason() {
            Some(EndReason::Migrate) => "alloc is being migrated".to_string(),
            Some(EndReason::DrainDeadline) | Some(EndReason::ForceDrain) => {
                "alloc is being drained".to_string()
            }
            Some(EndReason::NodeDown) | Some(EndReason::NodeTerminated) => {
                "alloc is lost since its node is down".to_string()
            }
            Some(EndReason::JobStopped) => "alloc not needed due to job update".to_string(),
            _ => String::new(),
        };
        (client, desired)
    }

    /// `nomad alloc status -verbose`-style view: the alloc, its task events, placement metrics.
    pub fn alloc_view(&self, id: AllocId) -> String {
        let Some(a) = self.alloc(id) else {
            return String::new();
        };
        let uuid = self.alloc_uuid(id);
        let (node_id, node_name) = self
            .node(a.node)
            .map(|n| (n.id.clone(), n.name.clone()))
            .unwrap_or_default();
        let (client_desc, mut desired_desc) = Self::descriptions(a);
        if self.sim.preempted_by(id).is_some() {
            desired_desc = self.sim.desired_description(id);
        }
        let mut pairs = vec![
            ("ID", uuid.clone()),
            ("Eval ID", short(&self.sim.eval_uuid_of_serial(a.eval()))),
            ("Name", self.alloc_name(id)),
            ("Node ID", short(&node_id)),
            ("Node Name", node_name),
            ("Job ID", self.job_name(a.job)),
            ("Job Version", self.job_version(a.job).to_string()),
            ("Client Status", a.client().as_str().to_string()),
            ("Client Description", client_desc),
            ("Desired Status", a.desired.as_str().to_string()),
            ("Desired Description", desired_desc),
            ("Created", ago(self.at_ms, a.placed_ms())),
            (
                "Modified",
                ago(self.at_ms, a.ended_ms().unwrap_or(a.placed_ms())),
            ),
        ];
        if let Some(prev) = self
            .sim
            .alloc_extra(id)
            .previous
            .filter(|&p| self.alloc(p).is_some())
        {
            pairs.push(("Previous Alloc ID", short(&self.alloc_uuid(prev))));
        }
        let mut out = key_values(&pairs);
        let state = if a.ended_ms().is_some() {
            "dead"
        } else {
            "running"
        };
        let disk = self.job(a.job).map(|j| j.ask.disk_mb).unwrap_or_default();
        for (i, (task, cpu, memory)) in self.tasks(a.job).into_iter().enumerate() {
            out.push_str(&format!("\n\nTask {task:?} is {state:?}\n"));
            out.push_str("Task Resources:\n");
            out.push_str(&columns(&[
                header(&["CPU", "Memory", "Disk"]),
                vec![
                    format!("{cpu} MHz"),
                    ibytes(memory),
                    ibytes(if i == 0 { disk } else { 0 }),
                ],
            ]));
            out.push_str("\n\nTask Events:\n");
            out.push_str(&key_values(&[
                ("Started At", self.date(a.placed_ms())),
                (
                    "Finished At",
                    a.ended_ms().map_or("N/A".to_string(), |t| self.date(t)),
                ),
                ("Total Restarts", "0".to_string()),
                ("Last Restart", "N/A".to_string()),
            ]));
            out.push_str("\n\nRecent Events:\n");
            let mut rows = vec![header(&["Time", "Type", "Description"])];
            for (t, kind, text) in self.task_events(id).into_iter().rev() {
                rows.push(vec![self.date(t), kind.to_string(), text]);
            }
            out.push_str(&columns(&rows));
        }
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

    // ----- nomad eval list / eval status ---------------------------------------------------

    /// Nomad's text for the eval's placement failures column.
    fn failure_text(&self, eval: EvalId) -> String {
        match self.eval(eval) {
            Some(e) if e.status == EvalStatus::Blocked => "N/A - In Progress".to_string(),
            Some(_) => self.eval_failures(eval).is_some().to_string(),
            None => String::new(),
        }
    }

    /// `nomad eval list`: the evals Nomad still holds, newest first.
    pub fn eval_list(&self) -> String {
        self.eval_list_of(None)
    }

    /// `nomad eval list [-job <id>]`: the evals Nomad still holds (of one job), newest first.
    pub fn eval_list_of(&self, job: Option<JobId>) -> String {
        let evals = self.evals_where(job);
        if evals.is_empty() {
            return "No evals found".to_string();
        }
        let mut rows = vec![header(&[
            "ID",
            "Priority",
            "Triggered By",
            "Job ID",
            "Namespace",
            "Node ID",
            "Status",
            "Placement Failures",
        ])];
        for id in evals.into_iter().rev() {
            let Some(e) = self.eval(id) else { continue };
            rows.push(vec![
                short(&self.eval_uuid(id)),
                self.job(e.job)
                    .map_or(String::new(), |j| j.priority.to_string()),
                e.trigger.as_str().to_string(),
                self.job_name(e.job),
                "default".to_string(),
                String::new(),
                eval_status_str(e.status).to_string(),
                self.failure_text(id),
            ]);
        }
        columns(&rows)
    }

    /// `nomad eval status <id>`.
    pub fn eval_detail(&self, id: EvalId) -> String {
        let Some(e) = self.eval(id) else {
            return String::new();
        };
        let job_type = self
            .workload_of(e.job)
            .map_or("", |w| w.job_type.as_str())
            .to_string();
        let created = self.eval_created_ms(id);
        let failures = self.eval_failures(id);
        let mut out = key_values(&[
            ("ID", self.eval_uuid(id)),
            ("Create Time", ago(self.at_ms, created)),
            ("Modify Time", ago(self.at_ms, created)),
            ("Status", eval_status_str(e.status).to_string()),
            ("Status Description", self.eval_description(id)),
            ("Type", job_type),
            ("TriggeredBy", e.trigger.as_str().to_string()),
            ("Job ID", self.job_name(e.job)),
            ("Namespace", "default".to_string()),
            (
                "Priority",
                self.job(e.job)
                    .map_or(String::new(), |j| j.priority.to_string()),
            ),
            ("Placement Failures", failures.is_some().to_string()),
        ]);
        if let Some(m) = failures {
            let queued = self.job(e.job).map_or(0, |j| j.queued);
            out.push_str("\n\nFailed Placements\n");
            out.push_str(&format!(
                "Task Group {:?} (failed to place {} allocation{}):\n",
                self.group_name(e.job),
                queued,
                if queued == 1 { "" } else { "s" }
            ));
            out.push_str(&metric_lines(m).join("\n"));
            if e.status == EvalStatus::Blocked {
                out.push_str(&format!(
                    "\n\nEvaluation {:?} waiting for additional capacity to place remainder",
                    short(&self.eval_uuid(id))
                ));
            }
        }
        out
    }
}

/// Nomad's word for an eval status.
pub fn eval_status_str(s: EvalStatus) -> &'static str {
    match s {
        EvalStatus::Pending => "pending",
        EvalStatus::Blocked => "blocked",
        EvalStatus::Complete => "complete",
        EvalStatus::Canceled => "canceled",
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
    type Get = fn(&nomad_sim_core::placement::ScoreParts) -> Option<f64>;
    let scorers: [(&str, Get); 5] = [
        ("allocation-spread", |p| p.allocation_spread),
        ("binpack", |p| Some(p.binpack)),
        ("job-anti-affinity", |p| p.job_anti_affinity),
        ("node-affinity", |p| p.node_affinity),
        ("node-reschedule-penalty", |p| p.node_reschedule_penalty),
    ];
    let shown: Vec<(&str, Get)> = scorers
        .into_iter()
        .filter(|(_, get)| m.scores.iter().any(|s| get(&s.scores).is_some()))
        .collect();
    let mut head = vec!["Node".to_string()];
    head.extend(shown.iter().map(|(name, _)| name.to_string()));
    head.push("final score".to_string());
    let mut rows = vec![head];
    for s in &m.scores {
        let mut row = vec![s.node.clone()];
        row.extend(
            shown
                .iter()
                .map(|(_, get)| g3(get(&s.scores).unwrap_or(0.0))),
        );
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
