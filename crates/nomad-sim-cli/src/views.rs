//! Operator views of the simulated cluster: `status`, `node-status`, `logs` and `eval` in Nomad's
//! CLI text, and the same objects as Nomad's HTTP API shapes them, for `--json` and for
//! `nomad-sim serve`. One [`View`] feeds both, so the one-shot views and the server agree.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

use nomad_sim_core::ids::{AllocId, EvalId, JobId, NodeId};
use nomad_sim_core::model::{Alloc, ClientStatus, Eval, Job, Node};
use nomad_sim_core::time::{format_duration_ms, SimTime};
use nomad_sim_core::Simulation;

use crate::format::iso8601;

pub mod api;
pub mod text;

/// Nomad's default `node_gc_threshold`: down nodes disappear from `nomad node status` after this.
const NODE_GC_THRESHOLD_MS: SimTime = 24 * 3_600_000;

/// The simulation run to the moment asked for, with what the views need to print times.
///
/// Everything the views print comes from the core's read model: the jobs, evals and allocs it
/// still holds (Nomad's garbage collector has taken the rest), each node's events and each
/// alloc's placement metrics.
pub struct Moment {
    /// The simulation, stopped at the moment.
    pub sim: Simulation,
    /// Wall-clock time of simulated time zero.
    pub start_unix_ms: u64,
    catalog: Catalog,
}

impl Moment {
    /// Runs `sim` up to `at_ms`, keeping each alloc's placement metrics for the views.
    pub fn run(
        mut sim: Simulation,
        at_ms: SimTime,
        start_unix_ms: u64,
        job_specs: &BTreeMap<String, serde_json::Value>,
    ) -> Moment {
        sim.keep_alloc_metrics();
        sim.run_until(at_ms);
        let catalog = Catalog::with_scenario_parents(&sim, job_specs);
        Moment {
            sim,
            start_unix_ms,
            catalog,
        }
    }

    /// The view of this moment.
    pub fn view(&self) -> View<'_> {
        View::new(&self.sim, self.start_unix_ms, &self.catalog)
    }
}

/// A job registered over the HTTP API, as the server keeps it beside the core: the core knows
/// workloads and their jobs; the API knows job IDs, task names and the submitted job.
#[derive(Clone, Debug)]
pub struct ApiJob {
    /// The job's ID.
    pub id: String,
    /// The core workload its allocations come from.
    pub workload: usize,
    /// The job as submitted, with Nomad's defaults, serialised with Nomad's keys.
    pub spec: serde_json::Value,
    /// The first task group's name.
    pub group: String,
    /// Each task's name and resources (CPU MHz, memory MB), in file order.
    pub tasks: Vec<(String, u64, u64)>,
    /// How many task groups: the workloads `workload..workload + groups` run them.
    pub groups: usize,
    /// A parameterized job: registered without allocations, dispatched into children.
    pub parameterized: bool,
    /// A periodic job: registered without allocations, launching children on its cron.
    pub periodic: bool,
    /// `nomad job stop` was asked for.
    pub stopped: bool,
    /// When it was (last) registered.
    pub submit_ms: SimTime,
    /// The server index of its first registration.
    pub create_index: u64,
    /// The server index of its last registration or stop.
    pub modify_index: u64,
    /// A periodic or parameterized workload of the scenario, not registered over the API:
    /// its children are the core's jobs named after it.
    pub scenario: bool,
    /// The job's version: 0, then one more per registration that changed it.
    pub version: u64,
}

/// The name of a core job that the API registered.
#[derive(Clone, Debug)]
pub struct ApiName {
    /// The job ID shown (a dispatched child's own ID).
    pub id: String,
    /// The API job it belongs to.
    pub api: String,
    /// Set for a dispatched child: the parent's ID.
    pub parent: Option<String>,
}

/// What the API added to the simulation: job IDs, names and submitted jobs. Empty when a
/// scenario runs alone, and then every name comes from the core.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// API jobs by ID.
    pub jobs: BTreeMap<String, ApiJob>,
    /// Names of the core jobs the API registered, by the core job's serial number.
    pub names: BTreeMap<u64, ApiName>,
    /// Core jobs stopped over the API (`DELETE /v1/job/:id`), by serial number.
    pub stopped: BTreeSet<u64>,
    /// The scenario's job files' jobs as Nomad holds them, by job ID
    /// (`nomad_sim_scenario::Scenario::job_specs`): what `GET /v1/job/:id` shows of them.
    pub scenario_specs: BTreeMap<String, serde_json::Value>,
}

impl Catalog {
    /// A catalog holding the scenario's periodic and parameterized parents: each such workload
    /// is a parent job named after it, with no allocations of its own; its children are the
    /// core's jobs `<name>/periodic-...` or `<name>/dispatch-...`.
    /// A parent read from a job file is shown as the file has it (`specs`, by job ID).
    pub fn with_scenario_parents(
        sim: &Simulation,
        specs: &BTreeMap<String, serde_json::Value>,
    ) -> Catalog {
        let mut catalog = Catalog {
            scenario_specs: specs.clone(),
            ..Catalog::default()
        };
        for (i, w) in sim.config().workloads.iter().enumerate() {
            let (periodic, parameterized) = match &w.arrivals {
                nomad_sim_core::config::Arrivals::Periodic(_) => (true, false),
                nomad_sim_core::config::Arrivals::Dispatch(_) => (false, true),
                _ => continue,
            };
            // A job of several groups is one parent, named by its first group's workload.
            if w.follows_first_group() {
                continue;
            }
            let id = w.identity.as_ref().map_or(&w.name, |i| &i.job_id).clone();
            let spec = match specs.get(&id) {
                Some(spec) => spec.clone(),
                None => Self::workload_parent_spec(&id, w),
            };
            catalog.jobs.insert(
                id.clone(),
                ApiJob {
                    id,
                    workload: i,
                    spec,
                    group: w.group_name().to_string(),
                    tasks: vec![(
                        w.group_name().to_string(),
                        w.resources.cpu_mhz,
                        w.resources.memory_mb,
                    )],
                    groups: w.identity.as_ref().map_or(1, |i| i.group_count as usize),
                    parameterized,
                    periodic,
                    stopped: sim.workload_stopped(i),
                    submit_ms: 0,
                    create_index: 1,
                    modify_index: 1,
                    version: 0,
                    scenario: true,
                },
            );
        }
        catalog
    }

    /// The job of a scenario's own periodic or parameterized workload (not a job file's).
    fn workload_parent_spec(
        id: &str,
        w: &nomad_sim_core::config::WorkloadConfig,
    ) -> serde_json::Value {
        let mut spec = serde_json::json!({
            "ID": id, "Type": w.job_type.as_str(), "Priority": w.priority,
            "Datacenters": if w.datacenters.is_empty() { vec!["*".to_string()] } else { w.datacenters.clone() },
            "NodePool": w.node_pool.clone().unwrap_or_else(|| "all".to_string()),
        });
        if let nomad_sim_core::config::Arrivals::Periodic(p) = &w.arrivals {
            spec["Periodic"] = serde_json::json!({
                "Enabled": true, "Spec": p.cron.text, "SpecType": "cron",
                "ProhibitOverlap": p.prohibit_overlap, "TimeZone": "UTC",
            });
        } else {
            spec["ParameterizedJob"] = serde_json::json!({
                "Payload": "optional", "MetaRequired": null, "MetaOptional": null,
            });
        }
        spec
    }
}

/// A job as the API lists it: a core job, or a parameterized parent with no allocations.
#[derive(Clone, Copy, Debug)]
pub enum JobRef<'c> {
    /// A job the core holds.
    Core(JobId),
    /// An API job with no core job of its own (a parameterized parent).
    Parent(&'c ApiJob),
}

/// The cluster as the views read it: the simulation now, wall-clock dates, and the API's names.
pub struct View<'a> {
    /// The simulation.
    pub sim: &'a Simulation,
    /// The moment shown: the simulation's clock.
    pub at_ms: SimTime,
    /// Wall-clock time of simulated time zero.
    pub start_unix_ms: u64,
    /// What the API registered.
    pub catalog: &'a Catalog,
    /// Each alloc's replacement, built when first asked for.
    next_allocs: OnceCell<BTreeMap<AllocId, AllocId>>,
    /// Ready and eligible nodes per datacenter, and nodes per pool, counted when first asked for.
    pub(crate) node_counts: OnceCell<(serde_json::Value, BTreeMap<String, usize>)>,
}

impl<'a> View<'a> {
    /// The view of `sim` now.
    pub fn new(sim: &'a Simulation, start_unix_ms: u64, catalog: &'a Catalog) -> View<'a> {
        View {
            sim,
            at_ms: sim.now(),
            start_unix_ms,
            catalog,
            next_allocs: OnceCell::new(),
            node_counts: OnceCell::new(),
        }
    }

    // ----- objects ---------------------------------------------------------------------------

    /// A held job; the views list held jobs only, so a missing one is a stale reference.
    pub(crate) fn job(&self, id: JobId) -> Option<&'a Job> {
        self.sim.job(id)
    }

    pub(crate) fn alloc(&self, id: AllocId) -> Option<&'a Alloc> {
        self.sim.alloc(id)
    }

    pub(crate) fn node(&self, id: NodeId) -> Option<&'a Node> {
        self.sim.nodes().get(id.index())
    }

    pub(crate) fn eval(&self, id: EvalId) -> Option<&'a Eval> {
        self.sim.eval(id)
    }

    pub(crate) fn date(&self, t_ms: SimTime) -> String {
        iso8601(self.start_unix_ms.saturating_add(t_ms))
    }

    pub(crate) fn unix_ns(&self, t_ms: SimTime) -> u64 {
        self.start_unix_ms
            .saturating_add(t_ms)
            .saturating_mul(1_000_000)
    }

    pub(crate) fn workload_of(
        &self,
        job: JobId,
    ) -> Option<&'a nomad_sim_core::config::WorkloadConfig> {
        let j = self.job(job)?;
        self.sim.config().workloads.get(j.workload as usize)
    }

    pub(crate) fn pool_of(&self, n: &Node) -> Option<&'a nomad_sim_core::config::PoolConfig> {
        self.sim.config().pools.get(n.pool as usize)
    }

    /// The held core jobs that make up the Nomad job `job` belongs to: `job` alone, or for a
    /// job file with several task groups, each group's job of the same registration, in the
    /// file's group order. The first is the one the lists show.
    pub fn group_jobs(&self, job: JobId) -> Vec<JobId> {
        self.sim.job_group(job)
    }

    // ----- names -----------------------------------------------------------------------------

    /// The API's name of a core job, if the API registered it.
    pub fn api_name(&self, job: JobId) -> Option<&'a ApiName> {
        let serial = self.job(job)?.serial;
        self.catalog.names.get(&serial)
    }

    /// The API job a core job belongs to.
    pub fn api_job(&self, job: JobId) -> Option<&'a ApiJob> {
        self.catalog.jobs.get(&self.api_name(job)?.api)
    }

    /// The Nomad job ID of a core job.
    pub fn job_name(&self, job: JobId) -> String {
        match self.api_name(job) {
            Some(n) => n.id.clone(),
            None if self.job(job).is_some() => self.sim.job_name(job),
            None => String::new(),
        }
    }

    /// The identity of a group of a job of several groups, which names the group and its
    /// tasks whether the scenario or the API registered the job.
    fn multi_group_identity(&self, job: JobId) -> Option<&'a nomad_sim_core::config::JobIdentity> {
        let id = self.workload_of(job)?.identity.as_deref()?;
        (id.group_count > 1).then_some(id)
    }

    /// The task group's name: a group of a job of several groups names itself.
    pub fn group_name(&self, job: JobId) -> String {
        if let Some(id) = self.multi_group_identity(job) {
            return id.group.clone();
        }
        match self.api_job(job) {
            Some(a) => a.group.clone(),
            None if self.job(job).is_some() => self.sim.group_name(job).to_string(),
            None => String::new(),
        }
    }

    /// The tasks of a job's group: name, CPU MHz and memory MB each. A scenario workload has
    /// one task named after its group.
    pub fn tasks(&self, job: JobId) -> Vec<(String, u64, u64)> {
        if let Some(id) = self.multi_group_identity(job) {
            return id.tasks.clone();
        }
        if let Some(a) = self.api_job(job) {
            return a.tasks.clone();
        }
        let Some(j) = self.job(job) else {
            return Vec::new();
        };
        // A job file's workload knows its tasks; a scenario's own has one, named as its group.
        if let Some(id) = &self.sim.config().workloads[j.workload as usize].identity {
            return id.tasks.clone();
        }
        vec![(self.group_name(job), j.ask.cpu_mhz, j.ask.memory_mb)]
    }

    /// The alloc's name, `<job>.<group>[<index>]`.
    pub fn alloc_name(&self, alloc: AllocId) -> String {
        match self.alloc(alloc) {
            Some(a) => format!(
                "{}.{}[{}]",
                self.job_name(a.job),
                self.group_name(a.job),
                a.index
            ),
            None => String::new(),
        }
    }

    /// The alloc's ID.
    pub fn alloc_uuid(&self, alloc: AllocId) -> String {
        self.alloc(alloc)
            .map(|a| self.sim.alloc_uuid_of_serial(a.serial()))
            .unwrap_or_default()
    }

    /// The eval's ID.
    pub fn eval_uuid(&self, eval: EvalId) -> String {
        self.eval(eval)
            .map(|e| self.sim.eval_uuid_of_serial(e.seq))
            .unwrap_or_default()
    }

    /// The replacement of an alloc, if one was placed and is held.
    pub fn next_alloc(&self, alloc: AllocId) -> Option<AllocId> {
        self.next_allocs
            .get_or_init(|| {
                self.sim
                    .allocs()
                    .into_iter()
                    .filter_map(|(id, _)| self.sim.alloc_extra(id).previous.map(|p| (p, id)))
                    .collect()
            })
            .get(&alloc)
            .copied()
    }

    // ----- lists -----------------------------------------------------------------------------

    /// Jobs Nomad still holds at this moment, by ID: core jobs (the newest registration of
    /// each API job ID) and parameterized parents.
    pub fn job_refs(&self) -> Vec<(String, JobRef<'a>)> {
        let mut by_name: BTreeMap<String, JobRef<'a>> = BTreeMap::new();
        for (id, _) in self.sim.jobs() {
            // A multi-group job is listed once, by its first group's job.
            if self.group_jobs(id)[0] != id {
                continue;
            }
            // Jobs come in submission order, so a later registration of an ID replaces an older.
            by_name.insert(self.job_name(id), JobRef::Core(id));
        }
        for (id, a) in &self.catalog.jobs {
            if a.parameterized || a.periodic {
                by_name.insert(id.clone(), JobRef::Parent(a));
            }
        }
        by_name.into_iter().collect()
    }

    /// Nodes Nomad still lists, newest first: a down node is garbage-collected after
    /// `node_gc_threshold` (24h by default).
    pub fn listed_nodes(&self) -> Vec<NodeId> {
        let nodes = self.sim.nodes();
        (0..nodes.len())
            .rev()
            .filter(|&i| {
                nodes[i]
                    .terminated_ms
                    .is_none_or(|t| t + NODE_GC_THRESHOLD_MS > self.at_ms)
            })
            .map(|i| NodeId(i as u32))
            .collect()
    }

    /// Held allocs that pass `keep`, newest first (Nomad sorts by CreateIndex).
    pub fn allocs_where(&self, keep: impl Fn(&Alloc) -> bool) -> Vec<AllocId> {
        let mut ids: Vec<AllocId> = self
            .sim
            .allocs()
            .into_iter()
            .filter(|(_, a)| keep(a))
            .map(|(id, _)| id)
            .collect();
        ids.reverse();
        ids
    }

    /// Held evals of one Nomad job (all its groups' jobs), or all, oldest first.
    pub fn evals_where(&self, job: Option<JobId>) -> Vec<EvalId> {
        let jobs = job.map(|j| self.group_jobs(j));
        self.sim
            .evals()
            .into_iter()
            .filter(|(_, e)| jobs.as_ref().is_none_or(|js| js.contains(&e.job)))
            .map(|(id, _)| id)
            .collect()
    }

    // ----- lookups ---------------------------------------------------------------------------

    /// A job by its exact ID.
    pub fn job_by_id(&self, id: &str) -> Option<JobRef<'a>> {
        self.job_refs()
            .into_iter()
            .find(|(name, _)| name == id)
            .map(|(_, r)| r)
    }

    /// Resolves a job ID: exact, else a unique prefix.
    pub fn find_job(&self, arg: &str) -> Result<JobRef<'a>, String> {
        let refs = self.job_refs();
        if let Some((_, r)) = refs.iter().find(|(name, _)| name == arg) {
            return Ok(*r);
        }
        let matches: Vec<&(String, JobRef)> = refs
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

    /// A node by its exact ID or name.
    pub fn node_by_id(&self, id: &str) -> Option<NodeId> {
        let nodes = self.sim.nodes();
        nodes
            .iter()
            .position(|n| n.id == id || n.name == id)
            .map(|i| NodeId(i as u32))
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

    /// A held alloc by its exact ID.
    pub fn alloc_by_id(&self, id: &str) -> Option<AllocId> {
        self.sim
            .allocs()
            .into_iter()
            .find(|(_, a)| self.sim.alloc_uuid_of_serial(a.serial()) == id)
            .map(|(id, _)| id)
    }

    /// Resolves an alloc: by ID prefix or full name, or a job (then one of its allocs, running first).
    pub fn find_alloc(&self, arg: &str) -> Result<AllocId, String> {
        let allocs = self.sim.allocs();
        let by_id: Vec<AllocId> = allocs
            .iter()
            .filter(|(_, a)| self.sim.alloc_uuid_of_serial(a.serial()).starts_with(arg))
            .map(|(id, _)| *id)
            .collect();
        if arg.len() >= 2 && by_id.len() == 1 {
            return Ok(by_id[0]);
        }
        if arg.len() >= 2 && by_id.len() > 1 {
            return Err(format!("Prefix {arg:?} matched multiple allocations"));
        }
        if let Some((id, _)) = allocs.iter().find(|(id, _)| self.alloc_name(*id) == arg) {
            return Ok(*id);
        }
        let not_found = || {
            format!(
                "No allocation or job {arg:?} found at {}",
                format_duration_ms(self.at_ms)
            )
        };
        let JobRef::Core(job) = self.find_job(arg).map_err(|_| not_found())? else {
            return Err(format!(
                "Job {arg:?} is parameterized: it has no allocations of its own"
            ));
        };
        let jobs = self.group_jobs(job);
        let of_job = self.allocs_where(|a| jobs.contains(&a.job));
        of_job
            .iter()
            .find(|&&a| {
                self.alloc(a)
                    .is_some_and(|a| a.client() == ClientStatus::Running)
            })
            .or(of_job.first())
            .copied()
            .ok_or_else(|| {
                format!(
                    "Job {arg:?} has no allocations at {} (it is pending)",
                    format_duration_ms(self.at_ms)
                )
            })
    }

    /// A held eval by its exact ID.
    pub fn eval_by_id(&self, id: &str) -> Option<EvalId> {
        self.sim
            .evals()
            .into_iter()
            .find(|(_, e)| self.sim.eval_uuid_of_serial(e.seq) == id)
            .map(|(id, _)| id)
    }

    /// Resolves an eval by a prefix of its ID (at least one character).
    pub fn find_eval(&self, arg: &str) -> Result<EvalId, String> {
        let matches: Vec<EvalId> = self
            .sim
            .evals()
            .into_iter()
            .filter(|(_, e)| {
                !arg.is_empty() && self.sim.eval_uuid_of_serial(e.seq).starts_with(arg)
            })
            .map(|(id, _)| id)
            .collect();
        match matches.len() {
            1 => Ok(matches[0]),
            0 => Err(format!(
                "No evaluation(s) with prefix or id {arg:?} found at {}",
                format_duration_ms(self.at_ms)
            )),
            _ => Err(format!("Prefix {arg:?} matched multiple evaluations")),
        }
    }
}
