//! Jobs over the API: a submitted Nomad job mapped onto a core workload, and the writes that
//! use it: register, plan (a dry run on a rebuilt copy), dispatch and deregister.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use nomad_sim_core::config::{Action, JobIdentity, WorkloadConfig};
use nomad_sim_core::ids::{splitmix64, JobId};
use nomad_sim_core::time::SimTime;
use nomad_sim_jobspec as spec;
use nomad_sim_scenario::jobfile;

use super::world::{replay, World};
use crate::views::api::ZERO_TIME;
use crate::views::{ApiJob, ApiName, JobRef};

/// An API error: an HTTP status and Nomad's plain-text message.
#[derive(Debug)]
pub struct ApiError {
    /// The status code.
    pub status: u16,
    /// The body.
    pub text: String,
}

impl ApiError {
    /// 400 with a message.
    pub fn bad(text: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            text: text.into(),
        }
    }

    /// 404 with a message.
    pub fn not_found(text: impl Into<String>) -> ApiError {
        ApiError {
            status: 404,
            text: text.into(),
        }
    }
}

/// A submitted job, checked and mapped onto a core workload.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The job's ID.
    pub id: String,
    /// The job with Nomad's defaults, serialised with Nomad's keys.
    pub spec: Value,
    /// The workload that runs it.
    pub workload: WorkloadConfig,
    /// The group's name.
    pub group: String,
    /// Each task: name, CPU, memory.
    pub tasks: Vec<(String, u64, u64)>,
    /// The job's other task groups, in file order (a workload each, registered with the
    /// first); empty for a job of one group.
    pub others: Vec<jobfile::Mapped>,
    /// The `parameterized` block, if any.
    pub parameterized: Option<spec::Parameterized>,
    /// True for a periodic job (an enabled `periodic` block): a parent whose workload launches
    /// the children.
    pub periodic: bool,
    /// What the simulator leaves out, for the response's `Warnings`.
    pub warnings: Vec<String>,
}

/// The Unix seconds over which a periodic job registered now reads its time zone's changes:
/// from now to a day past the horizon (launches end at the horizon).
pub fn zone_window(start_unix_ms: u64, now_ms: SimTime, horizon_ms: SimTime) -> (i64, i64) {
    let from = (start_unix_ms + now_ms) / 1000;
    let to = (start_unix_ms + horizon_ms) / 1000 + 86_400;
    (from as i64, to.max(from) as i64)
}

/// Checks a submitted job (the `Job` object) and maps it onto a workload. `pools` are the Nomad
/// node pools the scenario's nodes are in, which jobs may name as their node pool.
pub fn prepare(
    job: &Value,
    default_duration_ms: SimTime,
    pools: &[String],
    zone_window_unix_s: (i64, i64),
) -> Result<Prepared, ApiError> {
    if !job.is_object() {
        return Err(ApiError::bad("Job must be specified"));
    }
    let id = job.get("ID").and_then(Value::as_str).unwrap_or("");
    if id.trim().is_empty() {
        return Err(ApiError::bad("Missing job ID"));
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) || id.len() > 128 {
        return Err(ApiError::bad(format!(
            "Job ID contains a space, a control character or is longer than 128 characters: {id:?}"
        )));
    }
    let text = job.to_string();
    let loaded =
        spec::parse_as(spec::Format::Json, &text, "job", &BTreeMap::new()).map_err(|e| {
            ApiError::bad(
                e.diagnostics
                    .iter()
                    .map(|d| d.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
    if !loaded.unsupported.is_empty() {
        return Err(ApiError::bad(format!(
            "the simulator cannot model this job yet: {}",
            loaded
                .unsupported
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let j = loaded.job;
    let warnings: Vec<String> = loaded.warnings.iter().map(|d| d.message.clone()).collect();
    let group_count = j.task_groups.len();
    let launched = j.parameterized_job.is_some() || j.periodic.as_ref().is_some_and(|p| p.enabled);
    if group_count > 1 && launched {
        return Err(ApiError::bad(format!(
            "job {:?} has {group_count} task groups: the simulator registers such jobs, but does not dispatch or launch them periodically yet",
            j.id
        )));
    }
    let mut m =
        jobfile::group_workload_at(&j, 0, default_duration_ms, pools).map_err(ApiError::bad)?;
    // A job of several groups is a workload per group, registered together; each carries the
    // job's identity and its place among the groups, so the views show one job.
    let mut others = Vec::new();
    for index in 1..group_count {
        others.push(
            jobfile::group_workload_at(&j, index, default_duration_ms, pools)
                .map_err(ApiError::bad)?,
        );
    }
    let identity = |g: &jobfile::Mapped, index: usize| {
        Some(Box::new(JobIdentity {
            job_id: j.id.clone(),
            group: g.group.clone(),
            registered_once: false,
            group_index: index as u32,
            group_count: group_count as u32,
            tasks: g.tasks.clone(),
        }))
    };
    if group_count > 1 {
        for (index, g) in std::iter::once(&mut m).chain(others.iter_mut()).enumerate() {
            g.workload.identity = identity(g, index);
        }
    }
    // A periodic job is a parent that launches `<ID>/periodic-<unix s>` children on its cron
    // from the time it is registered; its workload carries the job's ID so that the core
    // names the children and a deregistration stops the launches.
    let periodic = match &j.periodic {
        Some(p) if p.enabled => {
            // The job file reader has refused a periodic job of another type than batch or
            // sysbatch, as Nomad does.
            let (from, to) = zone_window_unix_s;
            m.workload.arrivals = jobfile::periodic_arrivals(p, from, to).map_err(ApiError::bad)?;
            // Refused above with several groups: this is the only one.
            m.workload.identity = identity(&m, 0);
            true
        }
        _ => false,
    };
    Ok(Prepared {
        id: j.id.clone(),
        spec: serde_json::to_value(&j).unwrap_or(Value::Null),
        workload: m.workload,
        group: m.group,
        tasks: m.tasks,
        others,
        parameterized: j.parameterized_job.clone(),
        periodic,
        warnings,
    })
}

/// The newest core job of workload `w`.
fn newest_job_of(world: &World, w: usize) -> Option<JobId> {
    world
        .sim
        .jobs()
        .into_iter()
        .filter(|(_, j)| j.workload as usize == w)
        .max_by_key(|(_, j)| j.serial)
        .map(|(id, _)| id)
}

/// The newest held eval of a job, with its create index.
fn newest_eval_of(world: &World, job: JobId) -> Option<(String, u64)> {
    world
        .sim
        .evals()
        .into_iter()
        .filter(|(_, e)| e.job == job)
        .max_by_key(|(_, e)| e.seq)
        .map(|(_, e)| (world.sim.eval_uuid_of_serial(e.seq), e.seq + 1))
}

/// What a registration did, for the response and for a plan.
#[derive(Debug)]
pub struct Registered {
    /// The core job it created (or the one already running the same spec).
    pub job: Option<JobId>,
    /// True when the same spec was already running: nothing changed.
    pub unchanged: bool,
    /// True when the job is new to the server.
    pub new: bool,
    /// The job modify index before the registration (0 for a new job).
    pub previous_modify_index: u64,
    /// The response body.
    pub body: Value,
}

/// Registers a prepared job in `world`: a new job, a dead job run again, or a running job with
/// the same spec (nothing changes). Updating a job that still runs is refused: the core cannot
/// stop allocations yet.
pub fn register(world: &mut World, p: Prepared) -> Result<Registered, ApiError> {
    let existing = world.catalog.jobs.get(&p.id).cloned();
    let scenario_job = existing.is_none()
        && world
            .view()
            .job_by_id(&p.id)
            .is_some_and(|r| matches!(r, JobRef::Core(_)));
    if scenario_job {
        return Err(ApiError::bad(format!(
            "job {:?} belongs to the scenario's workloads; register API jobs under another ID",
            p.id
        )));
    }
    let same_spec = existing.as_ref().is_some_and(|a| a.spec == p.spec);
    let current = existing.as_ref().and_then(|a| {
        let j = newest_job_of(world, a.workload)?;
        let name = world.view().api_name(j).cloned()?;
        (name.parent.is_none()).then_some(j)
    });
    let alive = current.is_some_and(|j| world.view().nomad_job_status(j) != "dead");
    let previous_modify_index = existing.as_ref().map_or(0, |a| a.modify_index);
    let warnings = p.warnings.join("; ");
    if let (Some(a), Some(j)) = (&existing, current) {
        if alive && !a.stopped {
            if !same_spec {
                return Err(ApiError::bad(format!(
                    "job {:?} is still running: the simulator cannot update a running job yet (wait until it is dead, or register it under another ID)",
                    p.id
                )));
            }
            let (eval, eval_index) = newest_eval_of(world, j).unwrap_or_default();
            let index = world.index();
            return Ok(Registered {
                job: Some(j),
                unchanged: true,
                new: false,
                previous_modify_index,
                body: json!({
                    "EvalID": eval, "EvalCreateIndex": eval_index,
                    "JobModifyIndex": a.modify_index, "Warnings": warnings,
                    "Index": index, "LastContact": 0, "KnownLeader": true,
                }),
            });
        }
    }
    let parent = p.parameterized.is_some() || p.periodic;
    if let (Some(a), true) = (&existing, parent) {
        if same_spec && !a.stopped {
            let index = world.index();
            return Ok(Registered {
                job: None,
                unchanged: true,
                new: false,
                previous_modify_index,
                body: json!({
                    "EvalID": "", "EvalCreateIndex": 0, "JobModifyIndex": a.modify_index,
                    "Warnings": warnings, "Index": index, "LastContact": 0, "KnownLeader": true,
                }),
            });
        }
    }
    // The same scheduling content reuses the workloads (one per group); anything else gets
    // new ones, added together so that a job's groups are consecutive workloads.
    let groups: Vec<&WorkloadConfig> = std::iter::once(&p.workload)
        .chain(p.others.iter().map(|m| &m.workload))
        .collect();
    let reuse = existing
        .as_ref()
        .filter(|a| !p.periodic && a.groups == groups.len())
        .and_then(|a| {
            let same = groups.iter().enumerate().all(|(i, g)| {
                world
                    .sim
                    .config()
                    .workloads
                    .get(a.workload + i)
                    .is_some_and(|old| format!("{old:?}") == format!("{g:?}"))
            });
            same.then_some(a.workload)
        });
    let w = match reuse {
        Some(w) => w,
        None => {
            let mut first = None;
            for g in &groups {
                let mut workload = (*g).clone();
                if p.periodic {
                    // Its own workload name, so that stopping it stops this registration's
                    // launches only (the children are named after the job ID it carries).
                    workload.name = format!("{}#{}", p.id, world.sim.config().workloads.len());
                }
                let added = world.add_workload(workload);
                first.get_or_insert(added);
            }
            first.unwrap_or_default()
        }
    };
    world.wrote();
    let index = world.index();
    let version = match &existing {
        Some(a) if a.spec == p.spec => a.version,
        Some(a) => a.version + 1,
        None => 0,
    };
    let entry = ApiJob {
        id: p.id.clone(),
        workload: w,
        spec: p.spec.clone(),
        group: p.group.clone(),
        tasks: p.tasks.clone(),
        groups: groups.len(),
        parameterized: p.parameterized.is_some(),
        periodic: p.periodic,
        stopped: false,
        submit_ms: world.sim.now(),
        create_index: existing.as_ref().map_or(index, |a| a.create_index),
        modify_index: index,
        version,
        scenario: false,
    };
    world.catalog.jobs.insert(p.id.clone(), entry);
    if parent {
        return Ok(Registered {
            job: None,
            unchanged: false,
            new: existing.is_none(),
            previous_modify_index,
            body: json!({
                "EvalID": "", "EvalCreateIndex": 0, "JobModifyIndex": index,
                "Warnings": warnings, "Index": index, "LastContact": 0, "KnownLeader": true,
            }),
        });
    }
    // Every group's job is registered at this moment (whole or not at all), and named as the
    // API job.
    if !world.submit(w) {
        return Err(ApiError::bad(
            "the simulation reached limits.max_allocations: no more allocations can be registered",
        ));
    }
    for g in w..w + groups.len() {
        if let Some(j) = newest_job_of(world, g).and_then(|j| world.sim.job(j)) {
            world.catalog.names.insert(
                j.serial,
                ApiName {
                    id: p.id.clone(),
                    api: p.id.clone(),
                    parent: None,
                },
            );
        }
    }
    let job = newest_job_of(world, w);
    let (eval, eval_index) = job
        .and_then(|j| newest_eval_of(world, j))
        .unwrap_or_default();
    let index = world.index();
    Ok(Registered {
        job,
        unchanged: false,
        new: existing.is_none(),
        previous_modify_index,
        body: json!({
            "EvalID": eval, "EvalCreateIndex": eval_index, "JobModifyIndex": index,
            "Warnings": warnings, "Index": index, "LastContact": 0, "KnownLeader": true,
        }),
    })
}

/// `POST /v1/job/:id/plan`: registers the job on a copy of the simulation rebuilt from the
/// log, and reports what the scheduler placed and what it could not.
pub fn plan(
    recipe: (nomad_sim_core::SimConfig, Vec<super::world::Entry>, SimTime),
    catalog: crate::views::Catalog,
    start_unix_ms: u64,
    default_duration_ms: SimTime,
    p: Prepared,
) -> Result<Value, ApiError> {
    let (config, log, now) = recipe;
    let base = config.clone();
    let sim = replay(config, &log, now);
    let mut copy = World::new(sim, base, start_unix_ms, default_duration_ms, None);
    copy.catalog = catalog;
    // Each group: its name, its tasks' names and its count.
    let groups: Vec<(String, Vec<String>, u32)> =
        std::iter::once((&p.group, &p.tasks, &p.workload))
            .chain(p.others.iter().map(|m| (&m.group, &m.tasks, &m.workload)))
            .map(|(g, t, w)| (g.clone(), t.iter().map(|t| t.0.clone()).collect(), w.count))
            .collect();
    let id = p.id.clone();
    let r = register(&mut copy, p)?;
    let view = copy.view();
    let mut failed = serde_json::Map::new();
    let mut created = Vec::new();
    let mut updates = serde_json::Map::new();
    if let Some(lead) = r.job {
        for (job, (group, _, count)) in view.group_jobs(lead).into_iter().zip(&groups) {
            let j = view.sim.job(job);
            let (place, ignore) = if r.unchanged {
                (0, j.map_or(0, |j| j.live + j.queued))
            } else {
                (j.map_or(*count, |j| j.count), 0)
            };
            updates.insert(group.clone(), json!({
                "Ignore": ignore, "Place": place, "Migrate": 0, "Stop": 0, "InPlaceUpdate": 0,
                "DestructiveUpdate": 0, "Canary": 0, "Preemptions": 0, "Reconnect": 0, "Disconnect": 0,
            }));
            if let Some(j) = j {
                if let (Some(eval), Some(m)) = (j.blocked_eval, j.failure.as_deref()) {
                    failed.insert(group.clone(), view.metric_json(m, job));
                    created.push(view.eval_json(eval));
                }
            }
        }
    }
    let null_if_empty = |v: Value, empty: bool| if empty { Value::Null } else { v };
    let failed = null_if_empty(Value::Object(failed.clone()), failed.is_empty());
    let created = null_if_empty(Value::Array(created.clone()), created.is_empty());
    let updates = Value::Object(updates);
    let kind = if r.new {
        "Added"
    } else if r.unchanged {
        "None"
    } else {
        "Edited"
    };
    let task_groups: Vec<Value> = groups
        .iter()
        .map(|(group, tasks, count)| {
            json!({
                "Type": kind, "Name": group, "Fields": Value::Null, "Objects": Value::Null,
                "Tasks": tasks.iter().map(|t| json!({ "Type": kind, "Name": t, "Annotations": Value::Null,
                    "Fields": Value::Null, "Objects": Value::Null })).collect::<Vec<_>>(),
                "Updates": if r.unchanged { json!({ "ignore": count }) } else { json!({ "create": count }) },
            })
        })
        .collect();
    let diff = json!({
        "Type": kind, "ID": id, "Fields": Value::Null, "Objects": Value::Null,
        "TaskGroups": task_groups,
    });
    Ok(json!({
        "Annotations": { "DesiredTGUpdates": updates, "PreemptedAllocs": Value::Null },
        "FailedTGAllocs": failed,
        "CreatedEvals": created,
        "Diff": diff,
        "JobModifyIndex": r.previous_modify_index,
        "NextPeriodicLaunch": ZERO_TIME,
        "Warnings": r.body["Warnings"].clone(),
        "Index": r.previous_modify_index,
    }))
}

/// `POST /v1/job/:id/dispatch`: a child of a parameterized job, registered now.
pub fn dispatch(world: &mut World, parent: &str, body: &Value) -> Result<Value, ApiError> {
    let Some(a) = world.catalog.jobs.get(parent).cloned() else {
        if world.view().job_by_id(parent).is_some() {
            return Err(ApiError::bad(format!(
                "Specified job {parent:?} is not a parameterized job"
            )));
        }
        return Err(ApiError::not_found("job not found"));
    };
    if !a.parameterized {
        return Err(ApiError::bad(format!(
            "Specified job {parent:?} is not a parameterized job"
        )));
    }
    if a.stopped {
        return Err(ApiError::bad(format!(
            "Specified job {parent:?} is stopped"
        )));
    }
    let param = &a.spec["ParameterizedJob"];
    let list = |k: &str| -> Vec<String> {
        param[k]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (required, optional) = (list("MetaRequired"), list("MetaOptional"));
    let meta: BTreeMap<String, Value> = match body.get("Meta") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(m)) => m.clone().into_iter().collect(),
        Some(_) => return Err(ApiError::bad("Meta must be an object of strings")),
    };
    let missing: Vec<&String> = required.iter().filter(|k| !meta.contains_key(*k)).collect();
    if !missing.is_empty() {
        return Err(ApiError::bad(format!(
            "Dispatch did not provide required meta keys: {missing:?}"
        )));
    }
    let unknown: Vec<&String> = meta
        .keys()
        .filter(|k| !required.contains(k) && !optional.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::bad(format!(
            "Dispatch provided meta keys not allowed: {unknown:?}"
        )));
    }
    let payload = body.get("Payload").and_then(Value::as_str).unwrap_or("");
    match (
        param["Payload"].as_str().unwrap_or("optional"),
        payload.is_empty(),
    ) {
        ("required", true) => return Err(ApiError::bad("Payload is not provided but required")),
        ("forbidden", false) => return Err(ApiError::bad("Payload provided but forbidden")),
        _ => {}
    }
    if !world.submit(a.workload) {
        return Err(ApiError::bad(
            "the simulation reached limits.max_allocations: no more allocations can be registered",
        ));
    }
    world.wrote();
    let Some(job) = newest_job_of(world, a.workload) else {
        return Err(ApiError {
            status: 500,
            text: "the dispatched job was not registered".to_string(),
        });
    };
    let serial = world.sim.job(job).map_or(0, |j| j.serial);
    let unix_s = (world.start_unix_ms + world.sim.now()) / 1000;
    let child = format!(
        "{parent}/dispatch-{unix_s}-{:08x}",
        splitmix64(serial ^ world.sim.config().seed) as u32
    );
    // A job of several groups dispatched all of them: each is the same child.
    let mut serials = vec![serial];
    for g in a.workload + 1..a.workload + a.groups {
        if let Some(j) = newest_job_of(world, g).and_then(|j| world.sim.job(j)) {
            serials.push(j.serial);
        }
    }
    for s in serials {
        world.catalog.names.insert(
            s,
            ApiName {
                id: child.clone(),
                api: parent.to_string(),
                parent: Some(parent.to_string()),
            },
        );
    }
    let (eval, eval_index) = newest_eval_of(world, job).unwrap_or_default();
    let index = world.index();
    Ok(json!({
        "DispatchedJobID": child, "EvalID": eval, "EvalCreateIndex": eval_index,
        "JobCreateIndex": index, "Index": index,
    }))
}

/// `DELETE /v1/job/:id[?purge=true]`: stops the job as `nomad job stop` does (its allocs get
/// desired status `stop` and leave their nodes now, a blocked eval is cancelled); a purged job
/// leaves the job list at once. A parameterized parent is marked stopped (no more dispatches);
/// its dispatched children keep running, as in Nomad.
pub fn deregister(world: &mut World, id: &str, purge: bool) -> Result<Value, ApiError> {
    let found = world.view().job_by_id(id).map(|r| match r {
        JobRef::Core(job) => Some(job),
        JobRef::Parent(_) => None,
    });
    let Some(core) = found else {
        return Err(ApiError::not_found("job not found"));
    };
    // The deregistration's eval: none for a parameterized or periodic parent, nor for a job
    // that had already finished, which the core does not stop again.
    let mut eval = None;
    if let Some(job) = core {
        // The first group still live answers for the job (each group records its own eval).
        let groups = world.view().group_jobs(job);
        eval = groups.iter().copied().find(|&g| {
            world
                .sim
                .job(g)
                .is_some_and(|j| !j.stopped && j.dead_since_ms.is_none())
        });
        // Every group's job of the job stops.
        for g in groups {
            if let Some(serial) = world.sim.job(g).map(|j| j.serial) {
                world.catalog.stopped.insert(serial);
            }
            world.stop_job(g, purge);
        }
    } else if let Some(a) = world
        .catalog
        .jobs
        .get(id)
        .filter(|a| a.periodic && !a.stopped)
    {
        // A periodic parent: no more launches, and its running children stop with it (all
        // groups of a job of several, named by its job ID).
        let w = &world.sim.config().workloads[a.workload];
        let job = match &w.identity {
            Some(i) if i.group_count > 1 => i.job_id.clone(),
            _ => w.name.clone(),
        };
        world.apply(Action::JobStop { job, purge });
    }
    world.wrote();
    let index = world.index();
    if let Some(a) = world.catalog.jobs.get_mut(id) {
        a.stopped = true;
        a.modify_index = index;
    }
    if purge {
        world.catalog.jobs.remove(id);
    }
    let (eval, eval_index) = eval
        .and_then(|job| newest_eval_of(world, job))
        .unwrap_or_else(|| (String::new(), index));
    Ok(json!({
        "EvalID": eval, "EvalCreateIndex": eval_index, "JobModifyIndex": index,
        "VolumeEvalID": "", "VolumeEvalIndex": 0,
        "Warnings": "", "Index": index, "LastContact": 0, "KnownLeader": true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Value {
        json!({ "ID": "web", "Type": "service", "Datacenters": ["dc1"],
            "Spreads": [{ "Attribute": "${node.datacenter}", "Weight": 20 }],
            "Affinities": [{ "LTarget": "${node.class}", "RTarget": "fast", "Operand": "=", "Weight": 30 }],
            "TaskGroups": [{ "Name": "app", "Count": 10,
                "Spreads": [{ "Attribute": "${meta.rack}", "Weight": 80,
                    "SpreadTarget": [{ "Value": "r1", "Percent": 70 }, { "Value": "r2", "Percent": 30 }] }],
                "Affinities": [{ "LTarget": "${meta.rack}", "RTarget": "r1", "Operand": "=", "Weight": -10 }],
                "Tasks": [{ "Name": "t", "Driver": "docker",
                    "Affinities": [{ "LTarget": "${attr.kernel.version}", "RTarget": ">= 5.4", "Operand": "version", "Weight": 60 }],
                    "Resources": { "CPU": 100, "MemoryMB": 64 } }] }] })
    }

    #[test]
    fn spreads_and_affinities_of_job_group_and_tasks_reach_the_workload() {
        let p = prepare(&job(), 60_000, &[], (0, 0)).unwrap();
        let w = &p.workload;
        let spreads: Vec<(&str, u8, usize)> = w
            .spreads
            .iter()
            .map(|s| (s.attribute.as_str(), s.weight, s.targets.len()))
            .collect();
        assert_eq!(
            spreads,
            vec![("${node.datacenter}", 20, 0), ("${meta.rack}", 80, 2)]
        );
        assert_eq!(w.spreads[1].targets[0].percent, 70);
        let affinities: Vec<(String, i8)> = w
            .affinities
            .iter()
            .map(|a| (a.constraint.describe(), a.weight))
            .collect();
        assert_eq!(
            affinities,
            vec![
                ("${node.class} = fast".to_string(), 30),
                ("${meta.rack} = r1".to_string(), -10),
                ("${attr.kernel.version} version >= 5.4".to_string(), 60),
            ]
        );
        assert!(!p.warnings.iter().any(|w| w.contains("affinity")));
    }

    #[test]
    fn a_spread_without_weight_is_refused_as_nomad_does() {
        let mut j = job();
        j["Spreads"][0]["Weight"] = json!(0);
        let e = prepare(&j, 60_000, &[], (0, 0)).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.text.contains("positive weight"), "{}", e.text);
    }

    #[test]
    fn ports_devices_cores_and_memory_max_reach_the_workload() {
        let job = json!({
            "ID": "train",
            "Type": "batch",
            "Datacenters": ["dc1"],
            "TaskGroups": [{
                "Name": "g",
                "Count": 1,
                "Networks": [{
                    "ReservedPorts": [{"Label": "http", "Value": 7234}],
                    "DynamicPorts": [{"Label": "metrics"}]
                }],
                "Tasks": [{
                    "Name": "t",
                    "Driver": "docker",
                    "Resources": {
                        "Cores": 2,
                        "MemoryMB": 256,
                        "MemoryMaxMB": 1024,
                        "Devices": [{
                            "Name": "nvidia/gpu",
                            "Count": 1,
                            "Constraints": [{"LTarget": "${device.attr.memory_mib}", "Operand": ">=", "RTarget": "8192"}]
                        }]
                    }
                }]
            }]
        });
        let p = prepare(&job, 600_000, &[], (0, 0)).unwrap_or_else(|e| panic!("{}", e.text));
        let a = &p.workload.asks;
        assert_eq!(a.static_ports[0].label, "http");
        assert_eq!(a.static_ports[0].value, 7234);
        assert_eq!(a.dynamic_ports, vec!["metrics".to_string()]);
        assert_eq!(a.cores, 2);
        assert_eq!(a.memory_max_mb, Some(1024));
        assert_eq!(a.devices[0].name, "nvidia/gpu");
        assert_eq!(a.devices[0].constraints.len(), 1);
        assert_eq!(
            p.workload.resources.cpu_mhz, 0,
            "a task with cores asks no cpu"
        );
    }
}
