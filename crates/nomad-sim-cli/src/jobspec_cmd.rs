//! `nomad-sim jobspec FILE [--var k=v ...] [--json]`: how the simulator reads a Nomad job file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use nomad_sim_jobspec::duration::format as dur;
use nomad_sim_jobspec::{Affinity, Constraint, Job, Loaded, Spread, TaskGroup};

/// Arguments of `nomad-sim jobspec`.
#[derive(Debug, clap::Args)]
pub struct JobspecArgs {
    /// The job file: HCL2 (`job.nomad.hcl`) or JSON (`nomad job run -output`, `GET /v1/job/:id`).
    pub file: PathBuf,
    /// An HCL input variable, as `nomad job run -var name=value` (repeat for more).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Print the job as `nomad job run -output` does (`{"Job": {...}}`), with Nomad's defaults.
    #[arg(long)]
    pub json: bool,
}

/// `{"Job": {...}}`, the job's fields in Nomad's order.
#[derive(serde::Serialize)]
struct Output<'a> {
    #[serde(rename = "Job")]
    job: &'a Job,
}

/// Runs the command: the job on stdout, warnings and errors on stderr; `Err` for bad input.
pub fn run(args: JobspecArgs) -> Result<(), String> {
    let mut vars = BTreeMap::new();
    for v in &args.vars {
        let (k, val) = nomad_sim_jobspec::parse_var(v)
            .ok_or_else(|| format!("--var {v:?}: expected NAME=VALUE"))?;
        vars.insert(k, val);
    }
    let loaded = nomad_sim_jobspec::load_file(&args.file, &vars).map_err(|e| {
        let lines: Vec<String> = e.diagnostics.iter().map(|d| d.to_string()).collect();
        lines.join("\nerror: ")
    })?;
    // The cron and time zone are read as a scenario or `POST /v1/jobs` reads them, so a
    // file they would refuse is refused here too.
    if let Some(p) = &loaded.job.periodic {
        nomad_sim_scenario::jobfile::periodic_arrivals(p, 0, 0)
            .map_err(|e| format!("{}: {e}", args.file.display()))?;
    }
    if args.json {
        let text = serde_json::to_string_pretty(&Output { job: &loaded.job })
            .map_err(|e| format!("cannot print the job: {e}"))?;
        write_out(&format!("{text}\n"))?;
    } else {
        write_out(&summary(&loaded.job))?;
    }
    report(&loaded)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn write_out(text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write to stdout: {e}"))
        }
        _ => Ok(()),
    }
}

/// Prints warnings; unsupported content makes the file unusable, so it is the error.
fn report(loaded: &Loaded) -> Result<(), String> {
    for w in &loaded.warnings {
        nomad_sim_output::warn(&format!("nomad-sim: warning: {w}"));
    }
    if loaded.unsupported.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = loaded.unsupported.iter().map(|d| d.to_string()).collect();
    Err(format!(
        "the simulator cannot model this job yet:\n{}",
        lines.join("\n")
    ))
}

fn constraint(c: &Constraint) -> String {
    match c.operand.as_str() {
        "distinct_hosts" => "distinct_hosts".into(),
        "is_set" | "is_not_set" => format!("{} {}", c.l_target, c.operand),
        _ => format!("{} {} {}", c.l_target, c.operand, c.r_target),
    }
}

fn affinity(a: &Affinity) -> String {
    format!(
        "{} {} {} (weight {})",
        a.l_target, a.operand, a.r_target, a.weight
    )
}

fn spread(s: &Spread) -> String {
    let targets: Vec<String> = s
        .spread_target
        .iter()
        .map(|t| format!("{} {}%", t.value, t.percent))
        .collect();
    if targets.is_empty() {
        format!("{} (weight {}, even)", s.attribute, s.weight)
    } else {
        format!(
            "{} (weight {}): {}",
            s.attribute,
            s.weight,
            targets.join(", ")
        )
    }
}

fn placement(out: &mut String, indent: &str, c: &[Constraint], a: &[Affinity], s: &[Spread]) {
    for c in c {
        let _ = writeln!(out, "{indent}constraint {}", constraint(c));
    }
    for a in a {
        let _ = writeln!(out, "{indent}affinity {}", affinity(a));
    }
    for s in s {
        let _ = writeln!(out, "{indent}spread {}", spread(s));
    }
}

fn group(out: &mut String, g: &TaskGroup) {
    let ask = g.ask();
    let mut parts = vec![format!("cpu {} MHz", ask.cpu)];
    if ask.cores > 0 {
        parts.push(format!("cores {}", ask.cores));
    }
    parts.push(format!("memory {} MB", ask.memory_mb));
    if ask.memory_max_mb > ask.memory_mb {
        parts.push(format!("memory_max {} MB", ask.memory_max_mb));
    }
    parts.push(format!("disk {} MB", ask.disk_mb));
    for d in &ask.devices {
        parts.push(format!("device {} x{}", d.name, d.count));
    }
    if !ask.reserved_ports.is_empty() {
        let ports: Vec<String> = ask.reserved_ports.iter().map(u32::to_string).collect();
        parts.push(format!("static ports {}", ports.join(",")));
    }
    if ask.dynamic_ports > 0 {
        parts.push(format!("{} dynamic ports", ask.dynamic_ports));
    }
    let _ = writeln!(
        out,
        "group {:?}: count {}, each asks {}",
        g.name,
        g.count,
        parts.join(", ")
    );
    placement(out, "  ", &g.constraints, &g.affinities, &g.spreads);
    let r = &g.restart_policy;
    let _ = writeln!(
        out,
        "  restart: {} attempts in {}, delay {}, mode {}",
        r.attempts,
        dur(r.interval),
        dur(r.delay),
        r.mode
    );
    if let Some(r) = &g.reschedule_policy {
        let limit = if r.unlimited {
            "unlimited".to_string()
        } else {
            format!("{} attempts in {}", r.attempts, dur(r.interval))
        };
        let _ = writeln!(
            out,
            "  reschedule: {limit}, delay {} {}",
            dur(r.delay),
            r.delay_function
        );
    }
    if let Some(m) = &g.migrate {
        let _ = writeln!(
            out,
            "  migrate: max_parallel {}, {}, min_healthy_time {}, healthy_deadline {}",
            m.max_parallel,
            m.health_check,
            dur(m.min_healthy_time),
            dur(m.healthy_deadline)
        );
    }
    if let Some(u) = &g.update {
        let _ = writeln!(
            out,
            "  update: max_parallel {}, canary {} (kept for the API: deployments are not simulated)",
            u.max_parallel, u.canary
        );
    }
    for t in &g.tasks {
        let phase = match &t.lifecycle {
            None => String::new(),
            Some(l) if l.sidecar => format!(", {} sidecar", l.hook),
            Some(l) => format!(", {}", l.hook),
        };
        let r = &t.resources;
        let cpu = if r.cores > 0 {
            format!("{} cores", r.cores)
        } else {
            format!("cpu {} MHz", r.cpu)
        };
        let _ = writeln!(
            out,
            "  task {:?} ({}{phase}): {cpu}, memory {} MB",
            t.name, t.driver, r.memory_mb
        );
        placement(out, "    ", &t.constraints, &t.affinities, &[]);
    }
}

/// The short human summary.
pub fn summary(job: &Job) -> String {
    let mut out = String::new();
    let mut kind = job.job_type.as_str().to_string();
    if job.periodic.is_some() {
        kind.push_str(", periodic");
    }
    if job.parameterized_job.is_some() {
        kind.push_str(", parameterized");
    }
    let _ = writeln!(
        out,
        "job {:?} ({kind}): priority {}, node pool {:?}, datacenters {}",
        job.id,
        job.priority,
        job.node_pool,
        job.datacenters.join(",")
    );
    if let Some(p) = &job.periodic {
        let _ = writeln!(
            out,
            "  periodic: {} ({}){}{}",
            p.crons().join(" | "),
            p.time_zone,
            if p.prohibit_overlap {
                ", prohibit overlap"
            } else {
                ""
            },
            if p.enabled { "" } else { ", disabled" }
        );
    }
    if let Some(p) = &job.parameterized_job {
        let _ = writeln!(
            out,
            "  parameterized: payload {}, meta required [{}], optional [{}]",
            p.payload,
            p.meta_required.join(", "),
            p.meta_optional.join(", ")
        );
    }
    placement(
        &mut out,
        "  ",
        &job.constraints,
        &job.affinities,
        &job.spreads,
    );
    for g in &job.task_groups {
        group(&mut out, g);
    }
    out
}
