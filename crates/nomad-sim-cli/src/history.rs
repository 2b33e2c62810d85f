//! `nomad-sim import --allocs`: what a cluster ran (`GET /v1/allocations?resources=true`) as
//! an arrival trace the scenarios replay, one row per allocation.
//!
//! Each allocation that started becomes a row: when it was asked for (from the first row), one
//! Nomad job, the CPU and memory its tasks were given, and its run time from
//! the first task start to the last task end. An allocation still running at the snapshot
//! (the latest time in the file) runs until the snapshot, a lower bound of its real run time.
//! The simulator then decides the placements and the pending times again, on the cluster in
//! the scenario. Nomad creates an allocation when it places it, so an allocation's creation
//! already includes the real cluster's queueing: with the job list (`GET /v1/jobs`), a job's
//! first allocation is asked for at the job's `SubmitTime` instead (a replacement, which has a
//! `RescheduleTracker`, keeps its creation time). System and sysbatch allocations (per-node daemons) and allocations that never
//! started (nothing to replay) are left out and counted.

use std::fmt::Write;
use std::path::Path;

use serde_json::Value;

/// A history read from an allocation list.
#[derive(Debug)]
pub struct History {
    /// The trace, in the format `arrivals: { trace: { file } }` reads.
    pub csv: String,
    /// Replayed allocations (rows).
    pub rows: usize,
    /// From the first creation to the snapshot, in milliseconds.
    pub span_ms: u64,
    /// Wall-clock time of the first creation, in milliseconds since the epoch.
    pub start_unix_ms: u64,
    /// Rows of allocations still running at the snapshot.
    pub running: usize,
    /// What was left out, as `(why, count)`.
    pub left_out: Vec<(&'static str, usize)>,
}

/// One allocation as the trace needs it.
struct Row {
    created_ms: u64,
    cpu_mhz: u64,
    memory_mb: u64,
    started_ms: u64,
    /// `None` while a task still runs.
    finished_ms: Option<u64>,
}

/// Parses Nomad's RFC 3339 times (`2026-08-01T10:00:03.123456789Z`) to epoch milliseconds;
/// Go's zero time and null are `None`.
fn time_ms(v: &Value) -> Result<Option<u64>, String> {
    let Some(text) = v.as_str() else {
        return Ok(None);
    };
    if text.starts_with("0001-01-01") || text.is_empty() {
        return Ok(None);
    }
    let t = text.strip_suffix('Z').ok_or_else(|| {
        format!("time {text:?} is not in UTC (expected e.g. 2026-08-01T10:00:03.5Z)")
    })?;
    let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
    let secs_ms = nomad_sim_scenario::parse_rfc3339_utc(&format!("{whole}Z"))
        .map_err(|_| format!("time {text:?} is not an RFC 3339 time"))?;
    let mut frac_ms = 0u64;
    for (i, c) in fraction.chars().take(3).enumerate() {
        let d = c
            .to_digit(10)
            .ok_or_else(|| format!("time {text:?} is not an RFC 3339 time"))?;
        frac_ms += u64::from(d) * 10u64.pow(2 - i as u32);
    }
    Ok(Some(secs_ms + frac_ms))
}

/// The sum over the alloc's tasks of `AllocatedResources.Tasks.*.{Cpu.CpuShares,Memory.MemoryMB}`.
fn ask(alloc: &Value) -> Option<(u64, u64)> {
    let tasks = alloc.get("AllocatedResources")?.get("Tasks")?.as_object()?;
    let mut cpu = 0;
    let mut memory = 0;
    for t in tasks.values() {
        cpu += t.get("Cpu")?.get("CpuShares")?.as_u64()?;
        memory += t.get("Memory")?.get("MemoryMB")?.as_u64()?;
    }
    Some((cpu, memory))
}

/// Reads a JSON array from a file (`import`'s reader: parse errors are located).
fn read_array(path: &Path, what: &str) -> Result<Vec<Value>, String> {
    match crate::import::read_json(path)? {
        Value::Array(a) => Ok(a),
        _ => Err(format!(
            "{}: expected the array {what} returns",
            path.display()
        )),
    }
}

/// Reads `GET /v1/allocations?resources=true` output into a trace; with `jobs` (`GET /v1/jobs`
/// output), first allocations are asked for at their job's submission.
pub fn read(path: &Path, jobs: Option<&Path>) -> Result<History, String> {
    let allocs = read_array(path, "GET /v1/allocations")?;
    let mut submitted_ms: std::collections::BTreeMap<String, u64> = Default::default();
    if let Some(jobs) = jobs {
        for (i, j) in read_array(jobs, "GET /v1/jobs")?.iter().enumerate() {
            let (Some(id), Some(ns)) = (
                j.get("ID").and_then(Value::as_str),
                j.get("SubmitTime").and_then(Value::as_u64),
            ) else {
                return Err(format!(
                    "{}: job {i}: no ID or SubmitTime (expected GET /v1/jobs output)",
                    jobs.display()
                ));
            };
            submitted_ms.insert(id.to_string(), ns / 1_000_000);
        }
    }
    // An allocation listed more than once (joined fetches) counts once, in its latest state.
    let mut latest: std::collections::BTreeMap<&str, (u64, usize)> = Default::default();
    for (i, a) in allocs.iter().enumerate() {
        if let Some(id) = a.get("ID").and_then(Value::as_str) {
            let index = a.get("ModifyIndex").and_then(Value::as_u64).unwrap_or(0);
            let e = latest.entry(id).or_insert((index, i));
            if index >= e.0 {
                *e = (index, i);
            }
        }
    }
    let mut rows = Vec::new();
    let (mut daemons, mut never_started) = (0, 0);
    let mut snapshot_ms = 0u64;
    for (i, a) in allocs.iter().enumerate() {
        if a.get("ID")
            .and_then(Value::as_str)
            .is_some_and(|id| latest[id].1 != i)
        {
            continue;
        }
        let at = |what: &str| {
            format!(
                "{}: allocation {i} ({}): {what}",
                path.display(),
                a.get("ID").and_then(Value::as_str).unwrap_or("no ID")
            )
        };
        let created_ns = a
            .get("CreateTime")
            .and_then(Value::as_u64)
            .ok_or_else(|| at("no CreateTime (nanoseconds since the epoch)"))?;
        let mut created_ms = created_ns / 1_000_000;
        // A job's first allocation was asked for when the job was submitted.
        let replacement = a.get("RescheduleTracker").is_some_and(|t| !t.is_null());
        if let Some(&submit) = a
            .get("JobID")
            .and_then(Value::as_str)
            .and_then(|j| submitted_ms.get(j))
            .filter(|&&t| t <= created_ms && !replacement)
        {
            created_ms = submit;
        }
        let modified_ms = a.get("ModifyTime").and_then(Value::as_u64).unwrap_or(0) / 1_000_000;
        snapshot_ms = snapshot_ms.max(created_ns / 1_000_000).max(modified_ms);
        if matches!(
            a.get("JobType").and_then(Value::as_str),
            Some("system" | "sysbatch")
        ) {
            daemons += 1;
            continue;
        }
        let (cpu_mhz, memory_mb) = ask(a).ok_or_else(|| {
            at("no AllocatedResources: list the allocations with GET /v1/allocations?resources=true")
        })?;
        let states = a
            .get("TaskStates")
            .and_then(Value::as_object)
            .ok_or_else(|| at("no TaskStates: list the allocations without task_states=false"))?;
        let mut started: Option<u64> = None;
        let mut finished: Option<u64> = Some(0);
        for s in states.values() {
            let st = time_ms(s.get("StartedAt").unwrap_or(&Value::Null)).map_err(|e| at(&e))?;
            let fin = time_ms(s.get("FinishedAt").unwrap_or(&Value::Null)).map_err(|e| at(&e))?;
            if let Some(st) = st {
                started = Some(started.map_or(st, |x| x.min(st)));
            }
            let dead = s.get("State").and_then(Value::as_str) == Some("dead");
            finished = match (finished, fin, dead) {
                (Some(f), Some(t), true) => Some(f.max(t)),
                // A task that never ran (dead without a start) adds nothing.
                (f, None, true) if st.is_none() => f,
                _ => None,
            };
            snapshot_ms = snapshot_ms.max(fin.unwrap_or(0)).max(st.unwrap_or(0));
        }
        let Some(started_ms) = started else {
            never_started += 1;
            continue;
        };
        rows.push(Row {
            created_ms,
            cpu_mhz,
            memory_mb,
            started_ms,
            finished_ms: finished.filter(|&f| f >= started_ms),
        });
    }
    if rows.is_empty() {
        return Err(format!(
            "{}: no allocation that started and is not a system or sysbatch allocation: nothing to replay",
            path.display()
        ));
    }
    // Rows in creation order; equal times keep the file's order.
    rows.sort_by_key(|r| r.created_ms);
    let t0 = rows[0].created_ms;
    let mut csv = String::new();
    let _ = writeln!(
        csv,
        "# Replayed by `nomad-sim import --allocs` from {}: one row per allocation, from when it",
        path.file_name().map_or_else(String::new, |n| n
            .to_string_lossy()
            .replace(char::is_control, "?"))
    );
    let _ = writeln!(
        csv,
        "# was asked for (0 = the first) with its tasks' CPU and memory and how long it ran (first"
    );
    let _ = writeln!(
        csv,
        "# start to last end; one still running at the snapshot runs until it, a lower bound)."
    );
    let _ = writeln!(csv, "submit,parallelism,cpu,memory,duration");
    let mut running = 0;
    for r in &rows {
        let end = r.finished_ms.unwrap_or(snapshot_ms.max(r.started_ms));
        // A run shorter than a millisecond still takes one.
        let duration_ms = (end - r.started_ms).max(1);
        let _ = write!(
            csv,
            "{}ms,1,{},{},{}ms",
            r.created_ms - t0,
            r.cpu_mhz,
            r.memory_mb,
            duration_ms
        );
        csv.push('\n');
        running += usize::from(r.finished_ms.is_none());
    }
    Ok(History {
        rows: rows.len(),
        span_ms: snapshot_ms - t0,
        start_unix_ms: t0,
        running,
        left_out: vec![
            ("system or sysbatch allocations", daemons),
            ("allocations that never started", never_started),
        ],
        csv,
    })
}
