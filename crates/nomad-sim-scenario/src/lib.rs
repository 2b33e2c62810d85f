//! nomad-sim-scenario: YAML scenario files to a validated [`SimConfig`], with located errors.
//!
//! Parsing happens in two passes. serde_yaml reads the text into the [`schema`] types, which
//! reject unknown keys, wrong types and malformed durations or rates with serde_yaml's own line
//! and column. Then [`build`] checks what types cannot (references between sections, ranges,
//! resource asks that fit no node) and reports each problem at the position of the offending
//! value, found through a [`locate::PathIndex`] of the same text.
#![forbid(unsafe_code)]

pub mod budget;
pub mod jobfile;
pub mod json_schema;
pub mod locate;
mod policies;
pub mod schema;
pub mod trace_csv;
mod wording;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use nomad_sim_core::config::{
    Action, Affinity, Arrivals, AutoscalerConfig, AutoscalerMetric, CountDist, DrainDeadline,
    DrainSpec, DurationDist, JobIdentity, JobType, Limits, NamedNode, NodeSelector, NodeTarget,
    Operation, PeriodicSpec, PoolConfig, SimConfig, Spread, SpreadTarget, WorkloadConfig,
};
use nomad_sim_core::constraint::{Constraint, Operand};
use nomad_sim_core::cron::CronSpec;
use nomad_sim_core::hardware::{
    device_constraint, devices_feasible, parse_port_ranges, DeviceAsk, DeviceGroup, GroupAsks,
    PoolHardware, StaticPort,
};
use nomad_sim_core::time::{format_duration_ms, SECOND_MS};
use nomad_sim_core::workload::builtin_resource_classes;
use nomad_sim_core::{Algorithm, NomadVersion, Resources};

use locate::{PathIndex, Position};
use schema::*;

/// One problem in a scenario, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: String,
    /// Where in the file, when known.
    pub position: Option<Position>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{}:{}:{}: {}", self.file, p.line, p.column, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Everything wrong with a scenario (at least one problem).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The problems, in file order where known.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    fn single(file: &str, position: Option<Position>, message: String) -> ScenarioError {
        ScenarioError {
            problems: vec![Problem {
                file: file.to_string(),
                position,
                message,
            }],
        }
    }
}

/// A loaded scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The validated configuration.
    pub config: SimConfig,
    /// The scenario's description, if it has one.
    pub description: Option<String>,
    /// The wall-clock time of simulated time zero, in milliseconds since the Unix epoch
    /// (`start:`, default 2026-01-05T00:00:00Z, a Monday), for dates in operator views.
    pub start_unix_ms: u64,
    /// Every file the scenario was read from: the scenario file (when loaded from one) and
    /// the trace files it names. Commands refuse to write over any of them.
    pub inputs: Vec<PathBuf>,
    /// `api.default_duration`: the run time `serve` gives a registered job that says none.
    pub api_default_duration_ms: Option<nomad_sim_core::time::SimTime>,
    /// What was read but ignored, for the caller to print (job file content that does not
    /// affect scheduling), each once.
    pub warnings: Vec<String>,
    /// Each job file's job as Nomad would hold it (its defaults filled in, Nomad's JSON keys),
    /// by the job ID its workloads show (`identity.job_id`), for the views and the HTTP API.
    pub job_specs: BTreeMap<String, serde_json::Value>,
}

impl Scenario {
    /// Everything to tell the user about a scenario that loads: what its job files carry that
    /// is ignored, then the settings that are valid but almost surely not what was meant
    /// (`SimConfig::advice`).
    pub fn notices(&self) -> Vec<String> {
        let advice = self.config.advice().into_iter().map(|a| a.to_string());
        self.warnings.iter().cloned().chain(advice).collect()
    }
}

/// The default `start`: Monday 2026-01-05 at midnight UTC.
pub const DEFAULT_START_UNIX_MS: u64 = nomad_sim_core::config::DEFAULT_START_UNIX_MS;

/// Parses an RFC 3339 UTC time (`2026-01-05T08:00:00Z`) into milliseconds since the epoch.
pub fn parse_rfc3339_utc(text: &str) -> Result<u64, String> {
    let bad = || format!("invalid start time {text:?}: expected e.g. \"2026-01-05T08:00:00Z\"");
    let t = text.trim();
    let t = t.strip_suffix('Z').ok_or_else(bad)?;
    let (date, time) = t.split_once('T').ok_or_else(bad)?;
    let d: Vec<i64> = date
        .split('-')
        .map(|x| x.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let h: Vec<i64> = time
        .split(':')
        .map(|x| x.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if d.len() != 3 || h.len() != 3 {
        return Err(bad());
    }
    let (y, m, day) = (d[0], d[1], d[2]);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if (1..=12).contains(&m) && day > month_days && day <= 31 {
        return Err(format!(
            "invalid start time {text:?}: {y:04}-{m:02} has {month_days} days"
        ));
    }
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=month_days).contains(&day)
        || h[0] > 23
        || h[1] > 59
        || h[2] > 60
        || h.iter().any(|x| *x < 0)
    {
        return Err(bad());
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(((days * 86_400 + h[0] * 3600 + h[1] * 60 + h[2]) * 1000) as u64)
}

/// The largest scenario file the loader reads (16 MiB; shipped scenarios are a few KB).
pub const MAX_SCENARIO_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a text file of at most `limit` bytes as UTF-8, with located messages: a file too
/// large (or a device that never ends) is refused before it fills memory, and invalid UTF-8
/// names the line and column of the first bad byte.
pub fn read_text(path: &Path, limit: u64, what: &str) -> Result<String, Problem> {
    use std::io::Read;
    let label = path.display().to_string();
    let fail = |position: Option<Position>, message: String| Problem {
        file: label.clone(),
        position,
        message,
    };
    let file =
        std::fs::File::open(path).map_err(|e| fail(None, format!("cannot read the file: {e}")))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(fail(None, format!("is a directory, not a {what}")));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(None, format!("cannot read the file: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(fail(
            None,
            format!(
                "the file is larger than {} MiB, the most a {what} may be",
                limit / (1024 * 1024)
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let bad = e.as_bytes()[valid.len()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        fail(
            Some(Position { line, column }),
            format!("invalid UTF-8 (byte 0x{bad:02X}): save the file as UTF-8"),
        )
    })
}

/// Reads and validates a scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let label = path.display().to_string();
    let text = read_text(path, MAX_SCENARIO_BYTES, "scenario")
        .map_err(|p| ScenarioError { problems: vec![p] })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut scenario = parse_str(&text, &label, &base)?;
    scenario.inputs.insert(0, path.to_path_buf());
    Ok(scenario)
}

/// The first character YAML cannot carry (a NUL or another control character, or a carriage
/// return that does not end a line), with its position.
fn forbidden_character(text: &str) -> Option<(Position, String)> {
    let mut line = 1;
    let mut column = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let problem = match c {
            '\n' => {
                line += 1;
                column = 1;
                continue;
            }
            '\t' => None,
            '\r' if chars.peek() == Some(&'\n') => None,
            '\r' => Some("a carriage return that does not end a line (old Mac line ending): save the file with LF or CRLF line endings".to_string()),
            '\0' => Some("a NUL byte: the file is not YAML text".to_string()),
            c if c.is_control() && c != '\u{85}' => {
                Some(format!("control character U+{:04X} is not allowed in YAML", c as u32))
            }
            '\u{FEFF}' => Some("a byte order mark inside the text".to_string()),
            _ => None,
        };
        if let Some(message) = problem {
            return Some((Position { line, column }, message));
        }
        column += 1;
    }
    None
}

/// Parses and validates scenario text; `file` names it in messages, `base_dir` resolves trace files.
pub fn parse_str(text: &str, file: &str, base_dir: &Path) -> Result<Scenario, ScenarioError> {
    // A byte order mark, as some editors write, is not part of the document.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if let Some((position, message)) = forbidden_character(text) {
        return Err(ScenarioError::single(file, Some(position), message));
    }
    // Nesting, alias expansion, duplicate keys and extra documents are found before serde_yaml
    // reads the text: it would report them without a location, or take too long.
    if let Some(p) = locate::flow_depth_problem(text) {
        return Err(ScenarioError::single(file, Some(p.position), p.message));
    }
    let index = PathIndex::scan(text)
        .map_err(|p| ScenarioError::single(file, Some(p.position), p.message))?;
    let parsed: ScenarioFile = serde_yaml::from_str(text).map_err(|e| {
        // A syntax error cuts short what the typed reader sees, which may then complain of a
        // missing key first; the syntax error is the cause, so it is the one reported.
        let (e, syntax) = if index.has_syntax_error() {
            match serde_yaml::from_str::<serde_yaml::Value>(text) {
                Err(s) => (s, true),
                Ok(_) => (e, false),
            }
        } else {
            (e, false)
        };
        let position = e.location().map(|l| Position {
            line: l.line(),
            column: l.column(),
        });
        let mut message = e.to_string();
        if syntax {
            // Text after a value on its line (a stray quote) is not an indentation problem.
            let at_line_start = position.is_none_or(|p| {
                text.lines().nth(p.line.saturating_sub(1)).is_some_and(|l| {
                    l.chars()
                        .take(p.column.saturating_sub(1))
                        .all(char::is_whitespace)
                })
            });
            message = wording::syntax(&message, at_line_start);
            // A tab where YAML expects a token or an indentation: say so, whatever the
            // scanner made of it.
            let tab = position.is_some_and(|p| {
                text.lines()
                    .nth(p.line.saturating_sub(1))
                    .and_then(|l| l.chars().nth(p.column.saturating_sub(1)))
                    == Some('\t')
            });
            if tab {
                message = "a tab character here: YAML indents with spaces only (replace the tab with spaces)".to_string();
            }
        } else {
            if let Some(cut) = message.rfind(" at line ") {
                message.truncate(cut);
            }
            message = wording::plain(&message);
        }
        if position.is_none() && message.contains("more than one document") {
            if let Some(at) = locate::second_document(text) {
                return ScenarioError::single(file, Some(at), locate::SECOND_DOCUMENT.to_string());
            }
        }
        ScenarioError::single(file, position, message)
    })?;
    let mut ctx = Builder {
        file: file.to_string(),
        index,
        problems: Vec::new(),
        base_dir: base_dir.to_path_buf(),
        start_unix_ms: DEFAULT_START_UNIX_MS,
        inputs: Vec::new(),
        nomad_version: NomadVersion::NEWEST,
        warnings: Vec::new(),
        horizon_ms: 0,
        job_specs: BTreeMap::new(),
    };
    let config = ctx.build(&parsed);
    if ctx.problems.is_empty() {
        Ok(Scenario {
            config: config.expect("a config is built when there are no problems"),
            description: parsed.description.clone(),
            start_unix_ms: ctx.start_unix_ms,
            inputs: ctx.inputs,
            warnings: ctx.warnings,
            job_specs: ctx.job_specs,
            api_default_duration_ms: parsed
                .api
                .as_ref()
                .and_then(|a| a.default_duration.as_ref())
                .map(|d| d.0),
        })
    } else {
        ctx.problems
            .sort_by_key(|p| p.position.map(|p| (p.line, p.column)));
        Err(ScenarioError {
            problems: ctx.problems,
        })
    }
}

/// What node checks need to know about the operation timeline.
struct OpsContext {
    /// The time of the operation being checked.
    at: u64,
    /// Every scale-up: (time, pool, count).
    scale_ups: Vec<(u64, String, u32)>,
    /// The pool the autoscaler grows, whose node indexes have no fixed bound.
    autoscaled: Option<String>,
}

/// The node groups a workload may use: those in its Nomad node pool (all when `None`) and in
/// one of its datacenters (globs; all when empty).
fn usable_pools<'a>(
    pools: &'a [PoolConfig],
    node_pool: Option<&str>,
    datacenters: &[String],
) -> Vec<&'a PoolConfig> {
    pools
        .iter()
        .filter(|p| node_pool.is_none_or(|n| p.node_pool == n))
        .filter(|p| {
            datacenters.is_empty()
                || datacenters
                    .iter()
                    .any(|d| nomad_sim_core::cluster::glob_match(d, &p.datacenter))
        })
        .collect()
}

struct Builder {
    file: String,
    index: PathIndex,
    problems: Vec<Problem>,
    base_dir: PathBuf,
    start_unix_ms: u64,
    inputs: Vec<PathBuf>,
    /// The scenario's Nomad version, for keys that depend on it.
    nomad_version: NomadVersion,
    /// What was read but ignored (job file content that does not affect scheduling).
    warnings: Vec<String>,
    /// The scenario's horizon, which bounds the time zone changes periodic jobs read.
    horizon_ms: u64,
    /// The job files' jobs, by job ID (see [`Scenario::job_specs`]).
    job_specs: BTreeMap<String, serde_json::Value>,
}

impl Builder {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        let position = self.index.find(path);
        self.problems.push(Problem {
            file: self.file.clone(),
            position,
            message: format!("{path}: {}", message.into()),
        });
    }

    fn problem_at_key(&mut self, path: &str, message: impl Into<String>) {
        let position = self.index.find_key(path);
        self.problems.push(Problem {
            file: self.file.clone(),
            position,
            message: format!("{path}: {}", message.into()),
        });
    }

    fn build(&mut self, f: &ScenarioFile) -> Option<SimConfig> {
        if f.name.trim().is_empty() {
            self.problem("name", "must not be empty");
        }
        if let Some(start) = &f.start {
            match parse_rfc3339_utc(start) {
                Ok(ms) => self.start_unix_ms = ms,
                Err(e) => self.problem("start", e),
            }
        }
        self.horizon_ms = f.horizon.0;
        if f.horizon.0 == 0 {
            self.problem("horizon", "must be longer than zero (e.g. \"24h\")");
        }
        let nomad_version = match &f.nomad_version {
            None => NomadVersion::NEWEST,
            Some(v) => match NomadVersion::parse(&v.0) {
                Ok(v) => v,
                Err(e) => {
                    self.problem("nomad_version", e);
                    NomadVersion::NEWEST
                }
            },
        };
        let algorithm = match f.scheduler.as_ref().and_then(|s| s.algorithm.as_deref()) {
            None => Algorithm::Binpack,
            Some(a) => Algorithm::parse(a).unwrap_or_else(|| {
                self.problem(
                    "scheduler.algorithm",
                    format!("unknown algorithm {a:?} (Nomad's are binpack and spread)"),
                );
                Algorithm::Binpack
            }),
        };
        self.nomad_version = nomad_version;
        let pools = self.pools(&f.node_pools);
        let classes = self.resource_classes(&f.resource_classes);
        let workloads = self.workloads(&f.workloads, &pools, &classes);
        let operations = self.operations(
            &f.operations,
            &pools,
            f.horizon.0,
            f.autoscaler.as_ref().map(|a| a.pool.as_str()),
        );
        let autoscaler = f
            .autoscaler
            .as_ref()
            .and_then(|a| self.autoscaler(a, &pools));
        let max_allocations = match f.limits.as_ref().and_then(|l| l.max_allocations) {
            None => budget::DEFAULT_MAX_ALLOCATIONS,
            Some(0) => {
                self.problem("limits.max_allocations", "must be at least 1");
                1
            }
            Some(n) if n > budget::MAX_ALLOCATIONS_CAP => {
                self.problem(
                    "limits.max_allocations",
                    format!(
                        "{} is beyond what the simulator accepts ({})",
                        budget::thousands(n as f64),
                        budget::thousands(budget::MAX_ALLOCATIONS_CAP as f64)
                    ),
                );
                budget::MAX_ALLOCATIONS_CAP
            }
            Some(n) => n,
        };
        let limits = Limits {
            max_allocations,
            max_time_past_horizon_ms: self
                .max_time_past_horizon(f.limits.as_ref().and_then(|l| l.max_time_past_horizon)),
        };
        let nodes: u64 = pools.iter().map(|p| u64::from(p.count)).sum::<u64>()
            + operations
                .iter()
                .map(|o| match &o.action {
                    Action::ScaleUp { count, .. } => u64::from(*count),
                    _ => 0,
                })
                .sum::<u64>();
        if nodes > MAX_NODES {
            self.problem(
                "node_pools",
                format!("the pools and scale-ups create {nodes} nodes; the simulator takes at most {MAX_NODES}"),
            );
        }
        if let Some(a) = &autoscaler {
            if u64::from(a.max) > MAX_NODES {
                self.problem("autoscaler.max", format!("at most {MAX_NODES} nodes"));
            }
        }
        let gc = gc_config(f.server.as_ref().and_then(|s| s.gc.as_ref()));
        let scheduler = self.scheduler_config(f.scheduler.as_ref());
        let client = self.client_config(f.client.as_ref());
        let heartbeat = self.heartbeat_config(f.server.as_ref());
        if !self.problems.is_empty() {
            return None;
        }
        self.check_job_stops(&operations, &workloads);
        let config = SimConfig {
            start_unix_ms: self.start_unix_ms,
            name: f.name.clone(),
            seed: f.seed.unwrap_or(0),
            horizon_ms: f.horizon.0,
            nomad_version,
            algorithm,
            pools,
            workloads,
            operations,
            autoscaler,
            limits,
            gc,
            scheduler,
            client,
            heartbeat,
        };
        self.check_budget(
            &config,
            f.limits.as_ref().and_then(|l| l.max_allocations).is_some(),
        );
        if !self.problems.is_empty() {
            return None;
        }
        Some(config)
    }

    /// Refuses, up front, a run whose expected allocations exceed `limits.max_allocations`
    /// (instead of stopping arrivals halfway through it), and a diurnal profile whose peak
    /// would cost the core far more draws than the run has allocations.
    fn check_budget(&mut self, config: &SimConfig, limit_given: bool) {
        let limit = config.limits.max_allocations;
        let nodes = budget::max_nodes(config);
        let per_workload: Vec<f64> = config
            .workloads
            .iter()
            .map(|w| budget::expected_allocations(w, config.horizon_ms, nodes))
            .collect();
        let total: f64 = per_workload.iter().sum();
        if total > limit as f64 {
            let (biggest, _) =
                per_workload
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f64::MIN),
                        |best, (i, v)| if *v > best.1 { (i, *v) } else { best },
                    );
            let shares = config
                .workloads
                .iter()
                .zip(&per_workload)
                .filter(|(_, n)| **n >= 1.0)
                .map(|(w, n)| format!("{} about {}", w.name, budget::thousands(*n)))
                .collect::<Vec<_>>()
                .join(", ");
            let at = if limit_given {
                "limits.max_allocations".to_string()
            } else {
                format!("workloads[{biggest}]")
            };
            self.problem(
                &at,
                format!(
                    "the workloads would create about {} allocations over the {} horizon ({shares}), more than limits.max_allocations = {} (a bound on the run's length; memory follows the live cluster, not this count). Shorten the horizon or lower the rates, or raise the limit with `limits: {{ max_allocations: {} }}`",
                    budget::thousands(total),
                    format_duration_ms(config.horizon_ms),
                    budget::thousands(limit as f64),
                    (total * 1.1).ceil() as u64,
                ),
            );
        }
    }

    fn resources(&mut self, path: &str, r: &ResourcesFile, need_cpu_mem: bool) -> Resources {
        for (key, value) in [("cpu", r.cpu), ("memory", r.memory), ("disk", r.disk)] {
            if value > MAX_RESOURCE {
                self.problem(
                    &format!("{path}.{key}"),
                    format!("{value} is beyond what the simulator accepts ({MAX_RESOURCE})"),
                );
            }
        }
        if need_cpu_mem {
            // Reserved cores bring their own CPU, so a group that reserves cores may ask 0 MHz.
            if r.cpu == 0 && r.cores.is_none_or(|c| c == 0) {
                self.problem(&format!("{path}.cpu"), "must be more than 0 MHz");
            }
            if r.memory == 0 {
                self.problem(&format!("{path}.memory"), "must be more than 0 MB");
            }
        }
        Resources::new(r.cpu, r.memory, r.disk)
    }

    fn pools(&mut self, files: &[PoolFile]) -> Vec<PoolConfig> {
        if files.is_empty() {
            self.problem("node_pools", "at least one node pool is needed");
        }
        let mut seen = BTreeSet::new();
        let mut pools = Vec::new();
        for (i, p) in files.iter().enumerate() {
            let path = format!("node_pools[{i}]");
            if !valid_name(&p.name) {
                self.problem(
                    &format!("{path}.name"),
                    format!(
                        "{:?} is not a valid pool name (letters, digits, '-', '_', '.')",
                        p.name
                    ),
                );
            }
            if !seen.insert(p.name.clone()) {
                self.problem(
                    &format!("{path}.name"),
                    format!("duplicate pool name {:?}", p.name),
                );
            }
            let node_pool = p.node_pool.clone().unwrap_or_else(|| "default".to_string());
            if node_pool == "all" {
                self.problem(
                    &format!("{path}.node_pool"),
                    "no node is in Nomad's built-in pool \"all\" (it stands for every pool): name another pool, or leave the key out for \"default\"",
                );
            } else if !valid_node_pool_name(&node_pool) {
                self.problem(
                    &format!("{path}.node_pool"),
                    format!("{node_pool:?} is not a valid Nomad node pool name (1 to 128 letters, digits, '-' and '_')"),
                );
            }
            let resources = self.resources(&format!("{path}.resources"), &p.resources, true);
            let reserved = p
                .reserved
                .map(|r| self.resources(&format!("{path}.reserved"), &r, false))
                .unwrap_or_default();
            let hardware = self.pool_hardware(&path, p, resources.cpu_mhz);
            if reserved.cpu_mhz >= resources.cpu_mhz && resources.cpu_mhz > 0 {
                self.problem(
                    &format!("{path}.reserved.cpu"),
                    format!(
                        "reserves {} MHz of a {} MHz node: nothing would be left for allocations",
                        reserved.cpu_mhz, resources.cpu_mhz
                    ),
                );
            }
            if reserved.memory_mb >= resources.memory_mb && resources.memory_mb > 0 {
                self.problem(
                    &format!("{path}.reserved.memory"),
                    format!(
                        "reserves {} MB of a {} MB node: nothing would be left for allocations",
                        reserved.memory_mb, resources.memory_mb
                    ),
                );
            }
            if reserved.disk_mb > resources.disk_mb {
                self.problem(
                    &format!("{path}.reserved.disk"),
                    format!(
                        "reserves {} MB of disk on a node with {} MB",
                        reserved.disk_mb, resources.disk_mb
                    ),
                );
            }
            let cost = p.cost_per_hour.unwrap_or(0.0);
            if !(cost.is_finite() && cost >= 0.0) {
                self.problem(
                    &format!("{path}.cost_per_hour"),
                    "must be a non-negative number",
                );
            }
            pools.push(PoolConfig {
                name: p.name.clone(),
                count: p.count,
                datacenter: p.datacenter.clone().unwrap_or_else(|| "dc1".to_string()),
                node_pool,
                node_class: p.node_class.clone().unwrap_or_default(),
                resources,
                reserved,
                boot_time_ms: p.boot_time.map_or(0, |d| d.0),
                attributes: p
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.0.clone()))
                    .collect(),
                meta: p
                    .meta
                    .iter()
                    .map(|(k, v)| (k.clone(), v.0.clone()))
                    .collect(),
                cost_per_hour: cost,
                named_nodes: p
                    .nodes
                    .iter()
                    .map(|n| NamedNode {
                        name: n.name.clone(),
                        id: n.id.clone(),
                    })
                    .collect(),
                hardware,
            });
        }
        self.check_named_nodes(&pools);
        pools
    }

    /// Named nodes: at most `count` per pool, names and IDs unique, and no name that another
    /// node's generated name (`<pool>-<index>`, also for nodes added later) could take.
    fn check_named_nodes(&mut self, pools: &[PoolConfig]) {
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let mut ids: BTreeMap<String, String> = BTreeMap::new();
        for (pi, p) in pools.iter().enumerate() {
            if p.named_nodes.len() > p.count as usize {
                self.problem(
                    &format!("node_pools.{pi}.nodes"),
                    format!(
                        "names {} nodes in a pool of count {}",
                        p.named_nodes.len(),
                        p.count
                    ),
                );
            }
            for (ni, n) in p.named_nodes.iter().enumerate() {
                let path = format!("node_pools.{pi}.nodes.{ni}");
                if n.name.is_empty() || n.name.chars().any(char::is_control) {
                    self.problem(
                        &format!("{path}.name"),
                        "must be a non-empty name without control characters",
                    );
                }
                // `<q>-<d>` is taken by pool q's generated node d unless q names that node.
                let generated = pools.iter().any(|q| {
                    n.name
                        .strip_prefix(q.name.as_str())
                        .and_then(|r| r.strip_prefix('-'))
                        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                        .is_some_and(|d| {
                            d.parse::<usize>()
                                .map_or(true, |d| d >= q.named_nodes.len())
                        })
                });
                if generated {
                    self.problem(
                        &format!("{path}.name"),
                        format!("{:?} is the name a generated node (<pool>-<index>, also a node added later) could take", n.name),
                    );
                }
                if let Some(other) = names.insert(n.name.clone(), path.clone()) {
                    self.problem(
                        &format!("{path}.name"),
                        format!("{:?} is also the name at {other}", n.name),
                    );
                }
                if let Some(id) = &n.id {
                    if id.is_empty() || id.chars().any(char::is_control) {
                        self.problem(
                            &format!("{path}.id"),
                            "must be a non-empty ID without control characters",
                        );
                    }
                    if let Some(other) = ids.insert(id.clone(), path.clone()) {
                        self.problem(
                            &format!("{path}.id"),
                            format!("{id:?} is also the ID at {other}"),
                        );
                    }
                }
            }
        }
    }

    fn resource_classes(
        &mut self,
        files: &BTreeMap<String, ResourcesFile>,
    ) -> BTreeMap<String, Resources> {
        let mut classes: BTreeMap<String, Resources> =
            builtin_resource_classes().into_iter().collect();
        for (name, r) in files {
            if r.cores.is_some() || r.memory_max.is_some() {
                self.problem_at_key(
                    &format!("resource_classes.{name}"),
                    "cores and memory_max belong in a workload's resources, not a resource class",
                );
            }
            let res = self.resources(&format!("resource_classes.{name}"), r, true);
            classes.insert(name.clone(), res);
        }
        classes
    }

    fn workloads(
        &mut self,
        files: &[WorkloadFile],
        pools: &[PoolConfig],
        classes: &BTreeMap<String, Resources>,
    ) -> Vec<WorkloadConfig> {
        if files.is_empty() {
            self.problem("workloads", "at least one workload is needed");
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, w) in files.iter().enumerate() {
            let path = format!("workloads[{i}]");
            if let Some(file) = &w.jobspec {
                out.extend(self.jobspec_workload(&path, file, w, pools, &mut seen));
                continue;
            }
            let Some(arrivals_file) = w.arrivals.as_ref() else {
                self.problem_at_key(&path, "missing field `arrivals`");
                continue;
            };
            if w.name.is_empty() {
                self.problem_at_key(&path, "missing field `name`");
                continue;
            }
            if !w.variables.is_empty() {
                self.problem_at_key(
                    &format!("{path}.variables"),
                    "variables are for a jobspec: workload's job file",
                );
            }
            if !valid_name(&w.name) {
                self.problem(
                    &format!("{path}.name"),
                    format!(
                        "{:?} is not a valid workload name (letters, digits, '-', '_', '.')",
                        w.name
                    ),
                );
            }
            if !seen.insert(w.name.clone()) {
                self.problem(
                    &format!("{path}.name"),
                    format!("duplicate workload name {:?}", w.name),
                );
            }
            let job_type = match w.job_type.as_deref().unwrap_or("batch") {
                "batch" => JobType::Batch,
                "service" => JobType::Service,
                "system" => JobType::System,
                "sysbatch" => JobType::Sysbatch,
                other => {
                    self.problem(
                        &format!("{path}.type"),
                        format!("unknown job type {other:?} (batch, service, system or sysbatch)"),
                    );
                    JobType::Batch
                }
            };
            let priority = w.priority.unwrap_or(50);
            if !(1..=100).contains(&priority) {
                self.problem(
                    &format!("{path}.priority"),
                    format!("priority {priority} is out of Nomad's range 1..=100"),
                );
            }
            let count = w.count.unwrap_or(1);
            if count == 0 {
                self.problem(&format!("{path}.count"), "must be at least 1");
            }
            if job_type.is_per_node() && count != 1 {
                self.problem(
                    &format!("{path}.count"),
                    format!(
                        "a {} job runs one allocation on every eligible node: leave count at 1",
                        job_type.as_str()
                    ),
                );
            }
            let periodic = matches!(arrivals_file, ArrivalsFile::Periodic(_));
            if (periodic || w.parameterized)
                && !matches!(job_type, JobType::Batch | JobType::Sysbatch)
            {
                let what = if periodic {
                    "periodic"
                } else {
                    "parameterized"
                };
                self.problem(
                    &format!("{path}.type"),
                    format!(
                        "a {what} job must be of type batch or sysbatch, not {}",
                        job_type.as_str()
                    ),
                );
            }
            if periodic && w.parameterized {
                self.problem_at_key(
                    &format!("{path}.parameterized"),
                    "a periodic job cannot also be parameterized here: give periodic arrivals or parameterized dispatches",
                );
            }
            if (periodic || w.parameterized) && w.parallelism.is_some() {
                self.problem_at_key(
                    &format!("{path}.parallelism"),
                    "periodic and parameterized jobs launch one child per arrival: leave parallelism out",
                );
            }
            let parallelism = match &w.parallelism {
                None => CountDist::Fixed(1),
                Some(c) => self.count_dist(&format!("{path}.parallelism"), c),
            };
            let ask = match (&w.resource_class, &w.resources) {
                (Some(_), Some(_)) => {
                    self.problem_at_key(
                        &format!("{path}.resources"),
                        "give either resource_class or resources, not both",
                    );
                    Resources::default()
                }
                (None, None) => {
                    if matches!(arrivals_file, ArrivalsFile::Trace(_)) {
                        Resources::default()
                    } else {
                        self.problem_at_key(
                            &format!("{path}.name"),
                            "needs a resource_class (e.g. medium) or resources: { cpu, memory }",
                        );
                        Resources::default()
                    }
                }
                (Some(class), None) => match classes.get(class) {
                    Some(r) => *r,
                    None => {
                        let known: Vec<&str> = classes.keys().map(String::as_str).collect();
                        self.problem(
                            &format!("{path}.resource_class"),
                            format!(
                                "unknown resource class {class:?} (known: {})",
                                known.join(", ")
                            ),
                        );
                        Resources::default()
                    }
                },
                (None, Some(r)) => self.resources(&format!("{path}.resources"), r, true),
            };
            // Nomad's node pool, `default` unless given; `all` is every pool.
            let node_pool = match w.node_pool.as_deref() {
                Some("all") => None,
                Some(p) => Some(p.to_string()),
                None => Some("default".to_string()),
            };
            let pool_known = match (&node_pool, &w.node_pool) {
                (None, _) => true,
                (Some(p), given) => match node_pool_exists(p, pools) {
                    Ok(()) => true,
                    Err(why) if given.is_some() => {
                        self.problem(&format!("{path}.node_pool"), why);
                        false
                    }
                    Err(why) => {
                        self.problem(
                            &path,
                            format!("{why}: a workload without `node_pool` runs in Nomad's pool \"default\"; give it one (or \"all\")"),
                        );
                        false
                    }
                },
            };
            // An ask that fits no node of the pools the job may use would wait forever.
            let usable = usable_pools(pools, node_pool.as_deref(), &w.datacenters);
            if ask != Resources::default()
                && !usable.is_empty()
                && !usable.iter().any(|p| p.allocatable().covers(ask))
            {
                let shown = offers(&usable);
                let what = w
                    .resource_class
                    .as_ref()
                    .map_or("resources".to_string(), |c| format!("resource class {c:?}"));
                let at = if w.resource_class.is_some() {
                    format!("{path}.resource_class")
                } else {
                    format!("{path}.resources")
                };
                self.problem(
                    &at,
                    format!(
                        "impossible {what}: asks {} MHz, {} MB, {} MB disk, which fits no node ({shown})",
                        ask.cpu_mhz, ask.memory_mb, ask.disk_mb
                    ),
                );
            }
            let asks = self.group_asks(&path, w, &usable);
            if usable.is_empty() && pool_known && !w.datacenters.is_empty() {
                self.problem(
                    &format!("{path}.datacenters"),
                    "no node group of the workload's node pool is in these datacenters",
                );
            }
            let mut arrivals = self.arrivals(&format!("{path}.arrivals"), arrivals_file, &usable);
            if w.parameterized {
                arrivals = Arrivals::Dispatch(Box::new(arrivals));
            }
            let duration = match (&w.duration, &arrivals) {
                (Some(d), _) => self.duration_dist(&format!("{path}.duration"), d),
                (None, Arrivals::Trace(_)) => DurationDist::Constant(0),
                (None, _) => {
                    self.problem_at_key(
                        &format!("{path}.name"),
                        "needs a duration (e.g. duration: { exponential: { mean: 5m } })",
                    );
                    DurationDist::Constant(0)
                }
            };
            let mut constraints = Vec::new();
            let mut distinct_hosts = w.distinct_hosts;
            for (k, c) in w.constraints.iter().enumerate() {
                let cpath = format!("{path}.constraints[{k}]");
                let operator = c.operator.as_deref().unwrap_or("=");
                let Some(operand) = Operand::parse(operator) else {
                    self.problem(
                        &format!("{cpath}.operator"),
                        format!("unknown constraint operator {operator:?} (=, !=, <, <=, >, >=, regexp, is_set, is_not_set, set_contains, set_contains_any, version, semver, distinct_hosts)"),
                    );
                    continue;
                };
                if operand == Operand::DistinctHosts {
                    // `distinct_hosts` with the value false (Go's boolean spellings) is off.
                    let off = c.value.as_ref().is_some_and(|v| {
                        matches!(v.0.as_str(), "false" | "False" | "FALSE" | "f" | "F" | "0")
                    });
                    distinct_hosts |= !off;
                    continue;
                }
                let Some(attribute) = c.attribute.as_deref() else {
                    self.problem_at_key(&cpath, "needs an attribute (e.g. ${node.class})");
                    continue;
                };
                let value = c.value.as_ref().map_or("", |v| v.0.as_str());
                match Constraint::spelled(attribute, operator, value) {
                    Ok(c) => constraints.push(c),
                    Err(e) => self.problem(&format!("{cpath}.value"), e),
                }
            }
            let spreads = self.spreads(&path, &w.spreads);
            let affinities = self.affinities(&path, &w.affinities);
            let failure_rate = w.failure_rate.unwrap_or(0.0);
            if !(0.0..=1.0).contains(&failure_rate) {
                self.problem(&format!("{path}.failure_rate"), "must be between 0 and 1");
            }
            if w.max_parallel == Some(0) {
                self.problem(&format!("{path}.max_parallel"), "must be at least 1");
            }
            let migrate = self.migrate(&path, w, job_type, w.migrate.as_ref());
            let restart = self.restart_policy(&path, job_type, w.restart.as_ref());
            let reschedule = self.reschedule_policy(&path, job_type, w.reschedule.as_ref());
            let disconnect = self.disconnect_policy(
                &path,
                self.nomad_version,
                w.disconnect.as_ref(),
                w.max_client_disconnect,
            );
            out.push(WorkloadConfig {
                name: w.name.clone(),
                job_type,
                priority: priority.clamp(1, 100) as u8,
                arrivals,
                parallelism,
                count,
                resources: ask,
                duration,
                datacenters: w.datacenters.clone(),
                node_pool,
                constraints,
                distinct_hosts,
                failure_rate,
                max_parallel: migrate.max_parallel.max(1),
                min_healthy_time_ms: migrate.min_healthy_time_ms,
                healthy_deadline_ms: migrate.healthy_deadline_ms,
                restart,
                reschedule,
                disconnect,
                spreads,
                affinities,
                asks: Box::new(asks),
                identity: None,
            });
        }
        out
    }

    /// A `jobspec:` workload: its scheduling content read from the job file with Nomad's
    /// defaults, its arrivals and run time from the scenario. Problems in the job file are
    /// reported at their place in that file.
    fn jobspec_workload(
        &mut self,
        path: &str,
        file: &str,
        w: &WorkloadFile,
        pools: &[PoolConfig],
        seen: &mut BTreeSet<String>,
    ) -> Vec<WorkloadConfig> {
        // Keys the job file decides.
        let set: [(&str, bool); 21] = [
            ("type", w.job_type.is_some()),
            ("priority", w.priority.is_some()),
            ("parameterized", w.parameterized),
            ("count", w.count.is_some()),
            ("resource_class", w.resource_class.is_some()),
            ("resources", w.resources.is_some()),
            ("datacenters", !w.datacenters.is_empty()),
            ("node_pool", w.node_pool.is_some()),
            ("constraints", !w.constraints.is_empty()),
            ("spreads", !w.spreads.is_empty()),
            ("affinities", !w.affinities.is_empty()),
            ("distinct_hosts", w.distinct_hosts),
            ("max_parallel", w.max_parallel.is_some()),
            ("migrate", w.migrate.is_some()),
            ("restart", w.restart.is_some()),
            ("reschedule", w.reschedule.is_some()),
            ("disconnect", w.disconnect.is_some()),
            ("max_client_disconnect", w.max_client_disconnect.is_some()),
            ("ports", !w.ports.is_empty()),
            ("devices", !w.devices.is_empty()),
            ("parallelism", w.parallelism.is_some()),
        ];
        for (key, given) in set {
            if given {
                self.problem_at_key(
                    &format!("{path}.{key}"),
                    format!(
                        "comes from the job file {file:?}: set it there (or through a variable)"
                    ),
                );
            }
        }
        let job_path = self.base_dir.join(file);
        self.inputs.push(job_path.clone());
        let vars: BTreeMap<String, String> = w
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect();
        let loaded = match nomad_sim_jobspec::load_file(&job_path, &vars) {
            Ok(l) => l,
            Err(e) => {
                for d in e.diagnostics {
                    self.job_file_problem(path, &d);
                }
                return Vec::new();
            }
        };
        for d in &loaded.unsupported {
            self.job_file_problem(path, d);
        }
        // Each warning says what is ignored and why.
        for d in &loaded.warnings {
            self.warnings.push(d.to_string());
        }
        let job = &loaded.job;
        let node_pools = node_pools_of(pools);
        let name = if w.name.is_empty() {
            job.id.clone()
        } else {
            w.name.clone()
        };
        if !valid_name(&name) {
            self.problem_at_key(
                &format!("{path}.jobspec"),
                format!("job ID {name:?} is not a valid workload name (letters, digits, '-', '_', '.'): give the workload a name"),
            );
        }
        let group_count = job.task_groups.len();
        // A job of several groups also takes its ID among the names, so no other workload's
        // jobs can be named as its.
        if group_count > 1 && !seen.insert(name.clone()) {
            self.problem_at_key(
                &format!("{path}.jobspec"),
                format!("duplicate workload name {name:?}: give one of them a name"),
            );
        }
        // A job of several groups is a workload per group, the later ones registered at each
        // arrival of the first. A trace's rows give one group's ask, so they cannot drive it.
        if group_count > 1 && matches!(w.arrivals, Some(ArrivalsFile::Trace(_))) {
            self.problem_at_key(
                &format!("{path}.arrivals"),
                format!("{file}: job {:?} has {group_count} task groups: a trace's rows give one group's resources, so a trace cannot drive it (use poisson, diurnal, at or every)", job.id),
            );
            return Vec::new();
        }
        match serde_json::to_value(job) {
            Ok(spec) => {
                self.job_specs.insert(name.clone(), spec);
            }
            Err(e) => self.problem_at_key(&format!("{path}.jobspec"), format!("{file}: {e}")),
        }
        let mut out = Vec::new();
        for index in 0..group_count {
            let mapped = match jobfile::group_workload_at(job, index, 0, &node_pools) {
                Ok(m) => m,
                Err(e) => {
                    self.problem_at_key(&format!("{path}.jobspec"), format!("{file}: {e}"));
                    return Vec::new();
                }
            };
            // One group keeps the workload's name; several are `<name>.<group>`.
            let workload_name = if group_count == 1 {
                name.clone()
            } else {
                format!("{name}.{}", mapped.group)
            };
            if group_count > 1 && !valid_name(&workload_name) {
                self.problem_at_key(
                    &format!("{path}.jobspec"),
                    format!("{file}: group {:?} makes the workload name {workload_name:?}, which is not valid (letters, digits, '-', '_', '.')", mapped.group),
                );
            }
            if !seen.insert(workload_name.clone()) {
                self.problem_at_key(
                    &format!("{path}.jobspec"),
                    format!("duplicate workload name {workload_name:?}: give one of them a name"),
                );
            }
            if let Some(workload) = self.jobspec_group(path, file, w, job, mapped, pools) {
                let mut workload = workload;
                if let Some(identity) = workload.identity.as_mut() {
                    identity.job_id = name.clone();
                    identity.group_index = index as u32;
                    identity.group_count = group_count as u32;
                }
                workload.name = workload_name;
                out.push(workload);
            }
        }
        out
    }

    /// One task group of a `jobspec:` workload's job: its pools checked, its arrivals and run
    /// time from the scenario (or the file's periodic block), its identity set.
    fn jobspec_group(
        &mut self,
        path: &str,
        file: &str,
        w: &WorkloadFile,
        job: &nomad_sim_jobspec::Job,
        mapped: jobfile::Mapped,
        pools: &[PoolConfig],
    ) -> Option<WorkloadConfig> {
        let mut workload = mapped.workload;
        let usable = usable_pools(pools, workload.node_pool.as_deref(), &workload.datacenters);
        if usable.is_empty() {
            self.problem_at_key(
                &format!("{path}.jobspec"),
                format!(
                    "{file}: no node group is in the job's node pool {:?} and datacenters {:?}",
                    job.node_pool, job.datacenters
                ),
            );
        } else if !usable
            .iter()
            .any(|p| p.allocatable().covers(workload.resources))
        {
            let r = workload.resources;
            let no_disk = usable.iter().all(|p| p.allocatable().disk_mb < r.disk_mb)
                && usable.iter().any(|p| {
                    p.allocatable()
                        .covers(Resources::new(r.cpu_mhz, r.memory_mb, 0))
                });
            self.problem_at_key(
                &format!("{path}.jobspec"),
                format!(
                    "{file}: the group asks {} MHz, {} MB, {} MB disk, which fits no node ({}){}",
                    r.cpu_mhz,
                    r.memory_mb,
                    r.disk_mb,
                    offers(&usable),
                    if no_disk {
                        "; a job file's ephemeral_disk is 300 MB unless it says otherwise: give the pools a disk (resources: { disk: 100000 })"
                    } else {
                        ""
                    }
                ),
            );
        }
        let arrivals_path = format!("{path}.arrivals");
        let mut registered_once = false;
        workload.arrivals = match (&job.periodic, &job.parameterized_job, &w.arrivals) {
            (Some(_), _, Some(_)) => {
                self.problem_at_key(
                    &arrivals_path,
                    "the job file's periodic block launches it: leave arrivals out",
                );
                Arrivals::At(Vec::new())
            }
            (Some(p), _, None) => {
                let from_s = (self.start_unix_ms / 1000) as i64;
                let to_s = from_s + (self.horizon_ms / 1000) as i64 + 86_400;
                match jobfile::periodic_arrivals(p, from_s, to_s) {
                    Ok(a) => a,
                    Err(e) => {
                        self.problem_at_key(&format!("{path}.jobspec"), format!("{file}: {e}"));
                        Arrivals::At(Vec::new())
                    }
                }
            }
            (None, Some(_), None) => {
                self.problem_at_key(
                    path,
                    "a parameterized job is dispatched by arrivals: give arrivals (e.g. poisson: { rate: 30/h })",
                );
                Arrivals::At(Vec::new())
            }
            (None, Some(_), Some(a)) => {
                Arrivals::Dispatch(Box::new(self.arrivals(&arrivals_path, a, &usable)))
            }
            (None, None, Some(a)) => self.arrivals(&arrivals_path, a, &usable),
            (None, None, None) => {
                registered_once = true;
                Arrivals::At(vec![0])
            }
        };
        if (job.periodic.is_some() || job.parameterized_job.is_some())
            && !matches!(workload.job_type, JobType::Batch | JobType::Sysbatch)
        {
            self.problem_at_key(
                &format!("{path}.jobspec"),
                format!(
                    "{file}: a periodic or parameterized job must be of type batch or sysbatch, not {}",
                    workload.job_type.as_str()
                ),
            );
        }
        workload.duration = match (&w.duration, mapped.file_duration_ms) {
            (Some(d), _) => self.duration_dist(&format!("{path}.duration"), d),
            (None, Some(ms)) => DurationDist::Constant(ms),
            (None, None) => {
                self.problem_at_key(
                    path,
                    "needs a duration: a job file cannot say how long its tasks run (e.g. duration: { lognormal: { median: 2h, sigma: 0.5 } })",
                );
                DurationDist::Constant(0)
            }
        };
        let failure_rate = w.failure_rate.unwrap_or(0.0);
        if !(0.0..=1.0).contains(&failure_rate) {
            self.problem(&format!("{path}.failure_rate"), "must be between 0 and 1");
        }
        workload.failure_rate = failure_rate;
        workload.identity = Some(Box::new(JobIdentity {
            job_id: job.id.clone(),
            group: mapped.group,
            registered_once,
            group_index: 0,
            group_count: 1,
            tasks: mapped.tasks,
        }));
        Some(workload)
    }

    /// A problem the job file reader found, at its place in the job file.
    fn job_file_problem(&mut self, path: &str, d: &nomad_sim_jobspec::Diagnostic) {
        let position = (d.pos.line > 0).then(|| Position {
            line: d.pos.line as usize,
            column: d.pos.col.max(1) as usize,
        });
        match position {
            Some(position) => self.problems.push(Problem {
                file: d.file.clone(),
                position: Some(position),
                message: format!("{path}.jobspec: {}", d.message),
            }),
            None => self.problem_at_key(&format!("{path}.jobspec"), d.to_string()),
        }
    }

    /// A workload's `spreads:`, checked as Nomad validates spread blocks.
    fn spreads(&mut self, path: &str, files: &[SpreadFile]) -> Vec<Spread> {
        let mut out = Vec::new();
        for (k, f) in files.iter().enumerate() {
            let spath = format!("{path}.spreads[{k}]");
            let Some(attribute) = f.attribute.clone().filter(|a| !a.is_empty()) else {
                self.problem_at_key(&spath, "needs an attribute (e.g. ${meta.rack})");
                continue;
            };
            let weight = f.weight.unwrap_or(50);
            if !(1..=100).contains(&weight) {
                self.problem(
                    &format!("{spath}.weight"),
                    format!("must be between 1 and 100 (got {weight})"),
                );
            }
            let mut targets: Vec<SpreadTarget> = Vec::new();
            let mut sum = 0i64;
            for (t, target) in f.targets.iter().enumerate() {
                let tpath = format!("{spath}.targets[{t}]");
                if !(0..=100).contains(&target.percent) {
                    self.problem(
                        &format!("{tpath}.percent"),
                        format!("must be between 0 and 100 (got {})", target.percent),
                    );
                }
                if targets.iter().any(|x| x.value == target.value.0) {
                    self.problem(
                        &format!("{tpath}.value"),
                        format!("spread target value {:?} already defined", target.value.0),
                    );
                }
                sum += target.percent;
                targets.push(SpreadTarget {
                    value: target.value.0.clone(),
                    percent: target.percent.clamp(0, 100) as u8,
                });
            }
            if sum > 100 {
                self.problem_at_key(
                    &format!("{spath}.targets"),
                    format!("target percentages add up to {sum} %, more than 100"),
                );
            }
            out.push(Spread {
                attribute,
                weight: weight.clamp(0, 100) as u8,
                targets,
            });
        }
        out
    }

    /// A workload's `affinities:`, with the constraint operators.
    fn affinities(&mut self, path: &str, files: &[AffinityFile]) -> Vec<Affinity> {
        let mut out = Vec::new();
        for (k, f) in files.iter().enumerate() {
            let apath = format!("{path}.affinities[{k}]");
            let operator = f.operator.as_deref().unwrap_or("=");
            if matches!(
                Operand::parse(operator),
                None | Some(Operand::DistinctHosts)
            ) {
                self.problem(
                    &format!("{apath}.operator"),
                    format!("unknown affinity operator {operator:?} (=, !=, <, <=, >, >=, regexp, is_set, is_not_set, set_contains, set_contains_all, set_contains_any, version, semver)"),
                );
                continue;
            }
            let Some(attribute) = f.attribute.as_deref().filter(|a| !a.is_empty()) else {
                self.problem_at_key(&apath, "needs an attribute (e.g. ${node.class})");
                continue;
            };
            let weight = f.weight.unwrap_or(50);
            if weight == 0 || !(-100..=100).contains(&weight) {
                self.problem(
                    &format!("{apath}.weight"),
                    format!("must be between -100 and 100 and not 0 (got {weight})"),
                );
                continue;
            }
            let value = f.value.as_ref().map_or("", |v| v.0.as_str());
            match Constraint::spelled(attribute, operator, value) {
                Ok(constraint) => out.push(Affinity {
                    constraint,
                    weight: weight as i8,
                }),
                Err(e) => self.problem(&format!("{apath}.value"), e),
            }
        }
        out
    }

    fn count_dist(&mut self, path: &str, c: &CountFile) -> CountDist {
        match c {
            CountFile::Fixed(0) => {
                self.problem(path, "must be at least 1");
                CountDist::Fixed(1)
            }
            CountFile::Fixed(n) => CountDist::Fixed(*n),
            CountFile::Dist(CountDistFile::Uniform { min, max }) => {
                if *min == 0 || max < min {
                    self.problem(
                        path,
                        format!("uniform needs 1 <= min <= max (got min {min}, max {max})"),
                    );
                }
                CountDist::Uniform {
                    min: *min,
                    max: *max,
                }
            }
            CountFile::Dist(CountDistFile::Weighted(options)) => {
                if options.is_empty() {
                    self.problem(path, "weighted needs at least one { value, weight }");
                }
                for (i, o) in options.iter().enumerate() {
                    if o.value == 0 {
                        self.problem(&format!("{path}.weighted[{i}].value"), "must be at least 1");
                    }
                    if !(o.weight.is_finite() && o.weight > 0.0) {
                        self.problem(
                            &format!("{path}.weighted[{i}].weight"),
                            "must be a positive number",
                        );
                    }
                }
                CountDist::Weighted(options.iter().map(|o| (o.value, o.weight)).collect())
            }
        }
    }

    fn duration_dist(&mut self, path: &str, d: &DurationFile) -> DurationDist {
        match d {
            DurationFile::Plain(d) | DurationFile::Dist(DurationDistFile::Constant(d)) => {
                DurationDist::Constant(d.0)
            }
            DurationFile::Dist(DurationDistFile::Exponential { mean }) => {
                if mean.0 == 0 {
                    self.problem(
                        &format!("{path}.exponential.mean"),
                        "must be longer than zero",
                    );
                }
                DurationDist::Exponential {
                    mean_ms: mean.0 as f64,
                }
            }
            DurationFile::Dist(DurationDistFile::Lognormal { median, sigma }) => {
                if median.0 == 0 {
                    self.problem(
                        &format!("{path}.lognormal.median"),
                        "must be longer than zero",
                    );
                }
                if !(sigma.is_finite() && *sigma >= 0.0 && *sigma <= 5.0) {
                    self.problem(
                        &format!("{path}.lognormal.sigma"),
                        "must be between 0 and 5",
                    );
                }
                DurationDist::Lognormal {
                    median_ms: median.0 as f64,
                    sigma: *sigma,
                }
            }
            DurationFile::Dist(DurationDistFile::Uniform { min, max }) => {
                if max.0 < min.0 {
                    self.problem(
                        &format!("{path}.uniform.max"),
                        "must not be shorter than min",
                    );
                }
                DurationDist::Uniform {
                    min_ms: min.0,
                    max_ms: max.0,
                }
            }
            DurationFile::Dist(DurationDistFile::Empirical(values)) => {
                if values.is_empty() {
                    self.problem(&format!("{path}.empirical"), "needs at least one value");
                }
                DurationDist::Empirical(values.iter().map(|d| d.0).collect())
            }
        }
    }

    fn arrivals(&mut self, path: &str, a: &ArrivalsFile, usable: &[&PoolConfig]) -> Arrivals {
        match a {
            ArrivalsFile::Periodic(p) => {
                let cron = match CronSpec::parse(&p.cron) {
                    Ok(c) => c,
                    Err(e) => {
                        self.problem(&format!("{path}.periodic.cron"), e);
                        return Arrivals::At(Vec::new());
                    }
                };
                let from_s = (self.start_unix_ms / 1000) as i64;
                let to_s = from_s + (self.horizon_ms / 1000) as i64 + 86_400;
                let zone = p.time_zone.as_deref().unwrap_or("UTC");
                let (utc_offset_s, offset_changes) = match jobfile::zone_offsets(zone, from_s, to_s)
                {
                    Ok(o) => o,
                    Err(e) => {
                        self.problem(&format!("{path}.periodic.time_zone"), e);
                        (0, Vec::new())
                    }
                };
                Arrivals::Periodic(Box::new(PeriodicSpec {
                    cron,
                    more_crons: Vec::new(),
                    utc_offset_s,
                    offset_changes,
                    prohibit_overlap: p.prohibit_overlap,
                }))
            }
            ArrivalsFile::Poisson(p) => {
                if p.rate.0 <= 0.0 {
                    self.problem(&format!("{path}.poisson.rate"), "must be more than zero");
                }
                Arrivals::Poisson {
                    rate_per_hour: p.rate.0,
                }
            }
            ArrivalsFile::At(times) => {
                let mut t: Vec<u64> = times.iter().map(|d| d.0).collect();
                t.sort_unstable();
                Arrivals::At(t)
            }
            ArrivalsFile::Every(e) => {
                let (interval, start) = match e {
                    EveryFile::Interval(d) => (d.0, 0),
                    EveryFile::Full(f) => (f.interval.0, f.start.map_or(0, |d| d.0)),
                };
                if interval == 0 {
                    self.problem(
                        &format!("{path}.every"),
                        "interval must be longer than zero",
                    );
                }
                Arrivals::Every {
                    interval_ms: interval.max(1),
                    start_ms: start,
                }
            }
            ArrivalsFile::Diurnal(d) => {
                if d.rates.len() != 24 {
                    self.problem(
                        &format!("{path}.diurnal.rates"),
                        format!(
                            "needs 24 rates, one per hour of the day (got {})",
                            d.rates.len()
                        ),
                    );
                }
                Arrivals::Diurnal {
                    rates_per_hour: d.rates.iter().map(|r| r.0).collect(),
                }
            }
            ArrivalsFile::Trace(t) => {
                let file = self.base_dir.join(&t.file);
                self.inputs.push(file.clone());
                let at = format!("{path}.trace.file");
                // Errors inside the CSV name the CSV's own line and column.
                let rows = match trace_csv::read(&file) {
                    Ok(rows) => rows,
                    Err(errors) => {
                        for e in errors {
                            self.problem(&at, e);
                        }
                        return Arrivals::Trace(Vec::new());
                    }
                };
                // Rows are checked like workloads: an ask no node can fit would wait forever.
                let label = file.display().to_string();
                let mut misfits = 0;
                for r in &rows {
                    let ask = Resources::new(r.arrival.cpu_mhz, r.arrival.memory_mb, 0);
                    if !usable.is_empty() && !usable.iter().any(|p| p.allocatable().covers(ask)) {
                        misfits += 1;
                        if misfits <= 10 {
                            self.problem(
                                &at,
                                format!(
                                    "{label}:{}:{}: asks {} MHz and {} MB, which fits no node ({})",
                                    r.line,
                                    r.columns[2],
                                    ask.cpu_mhz,
                                    ask.memory_mb,
                                    offers(usable)
                                ),
                            );
                        }
                    }
                }
                Arrivals::Trace(rows.into_iter().map(|r| r.arrival).collect())
            }
        }
    }

    fn drain_deadline(
        &mut self,
        path: &str,
        deadline: Option<Dur>,
        force: bool,
        no_deadline: bool,
        default_ms: u64,
    ) -> DrainDeadline {
        let given = [deadline.is_some(), force, no_deadline]
            .iter()
            .filter(|b| **b)
            .count();
        if given > 1 {
            self.problem(path, "give at most one of deadline, force and no_deadline");
        }
        if let Some(d) = deadline {
            if d.0 == 0 {
                self.problem(
                    &format!("{path}.deadline"),
                    "must be longer than zero (use force: true to stop at once)",
                );
            }
            return DrainDeadline::After(d.0);
        }
        if force {
            DrainDeadline::Force
        } else if no_deadline {
            DrainDeadline::None
        } else {
            DrainDeadline::After(default_ms)
        }
    }

    fn selector(&mut self, path: &str, name: Option<&str>) -> NodeSelector {
        let name = name.unwrap_or("least_busy");
        NodeSelector::parse(name).unwrap_or_else(|| {
            self.problem(
                path,
                format!("unknown node selector {name:?} (least_busy, newest_create_index, oldest_create_index, empty, empty_ignore_system)"),
            );
            NodeSelector::LeastBusy
        })
    }

    /// Checks node names against the nodes that exist when the operation runs: `<pool>-<index>`
    /// with the index written as the simulator writes it (no sign, no leading zero) and below
    /// the pool's count plus earlier scale-ups (any index, when the autoscaler grows the pool).
    fn check_nodes(
        &mut self,
        path: &str,
        names: &[String],
        pools: &[PoolConfig],
        ctx: &OpsContext,
    ) {
        if names.is_empty() {
            self.problem(path, "needs at least one node name");
        }
        for (i, name) in names.iter().enumerate() {
            // A named node (`nodes:` of a pool) exists from the start.
            if pools
                .iter()
                .any(|p| p.named_nodes.iter().any(|n| &n.name == name))
            {
                continue;
            }
            let parsed = name.rsplit_once('-').and_then(|(pool, idx)| {
                let n = idx.parse::<u32>().ok().filter(|n| n.to_string() == idx)?;
                let p = pools.iter().find(|p| p.name == pool)?;
                Some((p, n))
            });
            let Some((pool, index)) = parsed else {
                self.problem(
                    &format!("{path}[{i}]"),
                    format!(
                        "unknown node {name:?}: nodes are named <pool>-<index> (linux-0, linux-1, ...), pools: {}",
                        pool_names(pools)
                    ),
                );
                continue;
            };
            if let Some(named) = pool.named_nodes.get(index as usize) {
                self.problem(
                    &format!("{path}[{i}]"),
                    format!(
                        "unknown node {name:?}: node {index} of pool {} is named {:?}",
                        pool.name, named.name
                    ),
                );
                continue;
            }
            if ctx.autoscaled.as_deref() == Some(pool.name.as_str()) {
                continue;
            }
            let exists = u64::from(pool.count)
                + ctx
                    .scale_ups
                    .iter()
                    .filter(|(at, p, _)| *at <= ctx.at && p == &pool.name)
                    .map(|(_, _, n)| u64::from(*n))
                    .sum::<u64>();
            if u64::from(index) >= exists {
                self.problem(
                    &format!("{path}[{i}]"),
                    format!(
                        "unknown node {name:?}: pool {} has {exists} nodes at this time ({}-0 to {}-{})",
                        pool.name,
                        pool.name,
                        pool.name,
                        exists.saturating_sub(1)
                    ),
                );
            }
        }
    }

    fn check_pool(&mut self, path: &str, pool: &str, pools: &[PoolConfig]) {
        if !pools.iter().any(|p| p.name == pool) {
            self.problem(
                path,
                format!("unknown node pool {pool:?} (pools: {})", pool_names(pools)),
            );
        }
    }

    fn operations(
        &mut self,
        files: &[OperationFile],
        pools: &[PoolConfig],
        horizon_ms: u64,
        autoscaled: Option<&str>,
    ) -> Vec<Operation> {
        let mut ctx = OpsContext {
            at: 0,
            scale_ups: files
                .iter()
                .filter_map(|o| {
                    o.scale_up
                        .as_ref()
                        .map(|s| (o.at.0, s.pool.clone(), s.count))
                })
                .collect(),
            autoscaled: autoscaled.map(str::to_string),
        };
        let mut ops = Vec::new();
        for (i, o) in files.iter().enumerate() {
            let path = format!("operations[{i}]");
            ctx.at = o.at.0;
            if o.at.0 > horizon_ms {
                self.problem(
                    &format!("{path}.at"),
                    format!(
                        "{} is past the horizon ({}): the run ends before it",
                        format_duration_ms(o.at.0),
                        format_duration_ms(horizon_ms)
                    ),
                );
            }
            let given = [
                o.node_drain.is_some(),
                o.node_drain_disable.is_some(),
                o.node_eligibility.is_some(),
                o.scale_up.is_some(),
                o.scale_down.is_some(),
                o.node_fail.is_some(),
                o.job_stop.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if given != 1 {
                self.problem(
                    &path,
                    "needs exactly one action: node_drain, node_drain_disable, node_eligibility, scale_up, scale_down, node_fail or job_stop",
                );
                continue;
            }
            let action = if let Some(d) = &o.node_drain {
                let p = format!("{path}.node_drain");
                let target = match (&d.nodes, &d.pool) {
                    (Some(nodes), None) => {
                        self.check_nodes(&format!("{p}.nodes"), nodes, pools, &ctx);
                        NodeTarget::Names(nodes.clone())
                    }
                    (None, Some(pool)) => {
                        self.check_pool(&format!("{p}.pool"), pool, pools);
                        let count = d.count.unwrap_or(1);
                        NodeTarget::Select {
                            pool: pool.clone(),
                            count,
                            selector: self.selector(
                                &format!("{p}.node_selector"),
                                d.node_selector.as_deref(),
                            ),
                        }
                    }
                    _ => {
                        self.problem(&p, "name the nodes (nodes: [linux-3]) or select them (pool, count, node_selector), not both");
                        continue;
                    }
                };
                let deadline =
                    self.drain_deadline(&p, d.deadline, d.force, d.no_deadline, 3600 * SECOND_MS);
                Action::NodeDrain {
                    target,
                    spec: DrainSpec {
                        deadline,
                        ignore_system: d.ignore_system,
                    },
                }
            } else if let Some(d) = &o.node_drain_disable {
                self.check_nodes(
                    &format!("{path}.node_drain_disable.nodes"),
                    &d.nodes,
                    pools,
                    &ctx,
                );
                Action::NodeDrainDisable {
                    nodes: d.nodes.clone(),
                    keep_ineligible: d.keep_ineligible,
                }
            } else if let Some(e) = &o.node_eligibility {
                let p = format!("{path}.node_eligibility");
                self.check_nodes(&format!("{p}.nodes"), &e.nodes, pools, &ctx);
                let eligible = match (e.enable, e.disable) {
                    (Some(true), None | Some(false)) | (None, Some(false)) => true,
                    (None | Some(false), Some(true)) => false,
                    _ => {
                        self.problem(&p, "give enable: true or disable: true");
                        true
                    }
                };
                Action::NodeEligibility {
                    nodes: e.nodes.clone(),
                    eligible,
                }
            } else if let Some(s) = &o.scale_up {
                self.check_pool(&format!("{path}.scale_up.pool"), &s.pool, pools);
                if s.count == 0 {
                    self.problem(&format!("{path}.scale_up.count"), "must be at least 1");
                }
                Action::ScaleUp {
                    pool: s.pool.clone(),
                    count: s.count,
                }
            } else if let Some(s) = &o.scale_down {
                let p = format!("{path}.scale_down");
                self.check_pool(&format!("{p}.pool"), &s.pool, pools);
                if s.count == 0 {
                    self.problem(&format!("{p}.count"), "must be at least 1");
                }
                let selector =
                    self.selector(&format!("{p}.node_selector"), s.node_selector.as_deref());
                let drain_deadline = match s.drain_deadline {
                    Some(d) if d.0 == 0 => DrainDeadline::Force,
                    Some(d) => DrainDeadline::After(d.0),
                    None => DrainDeadline::After(3600 * SECOND_MS),
                };
                let heartbeat_timeout_ms = match &s.lifecycle_hook {
                    None => None,
                    Some(h) => {
                        let t = h.heartbeat_timeout.map_or(3600 * SECOND_MS, |d| d.0);
                        if !(30 * SECOND_MS..=7200 * SECOND_MS).contains(&t) {
                            self.problem(
                                &format!("{p}.lifecycle_hook.heartbeat_timeout"),
                                format!(
                                    "{} is outside what AWS allows for a lifecycle hook (30s to 2h)",
                                    format_duration_ms(t)
                                ),
                            );
                        }
                        Some(t)
                    }
                };
                Action::ScaleDown {
                    pool: s.pool.clone(),
                    count: s.count,
                    selector,
                    drain_deadline,
                    heartbeat_timeout_ms,
                }
            } else if let Some(f) = &o.node_fail {
                self.check_nodes(&format!("{path}.node_fail.nodes"), &f.nodes, pools, &ctx);
                Action::NodeFail {
                    nodes: f.nodes.clone(),
                }
            } else if let Some(s) = &o.job_stop {
                Action::JobStop {
                    job: s.job.clone(),
                    purge: s.purge,
                }
            } else {
                continue;
            };
            ops.push(Operation {
                at_ms: o.at.0,
                action,
            });
        }
        ops
    }

    /// A `job_stop` names a workload, or a job ID that one of the workloads can produce
    /// (`<workload>-...`, or `<workload>/...` for a periodic or parameterized child).
    fn check_job_stops(&mut self, operations: &[Operation], workloads: &[WorkloadConfig]) {
        for (i, o) in operations.iter().enumerate() {
            let Action::JobStop { job, .. } = &o.action else {
                continue;
            };
            let known = workloads.iter().any(|w| {
                // A job file's jobs are named after its job ID, a workload's after its name.
                let id = w.identity.as_ref().map_or(&w.name, |i| &i.job_id);
                job == &w.name
                    || job == id
                    || if w.arrivals.has_parent() {
                        job.starts_with(&format!("{id}/"))
                    } else {
                        job.starts_with(&format!("{id}-"))
                    }
            });
            if !known {
                let names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
                self.problem(
                    &format!("operations[{i}].job_stop.job"),
                    format!(
                        "{job:?} names no workload and no job of one (workloads: {})",
                        names.join(", ")
                    ),
                );
            }
        }
    }

    fn autoscaler(&mut self, a: &AutoscalerFile, pools: &[PoolConfig]) -> Option<AutoscalerConfig> {
        self.check_pool("autoscaler.pool", &a.pool, pools);
        if a.min > a.max {
            self.problem(
                "autoscaler.max",
                format!("max {} is below min {}", a.max, a.min),
            );
        }
        let metric = AutoscalerMetric::parse(&a.check.metric).unwrap_or_else(|| {
            self.problem(
                "autoscaler.check.metric",
                format!(
                    "unknown metric {:?} (cpu_allocated_pct, memory_allocated_pct, pending_allocs)",
                    a.check.metric
                ),
            );
            AutoscalerMetric::CpuAllocatedPct
        });
        if !(a.check.target.is_finite() && a.check.target >= 0.0) {
            self.problem("autoscaler.check.target", "must be a non-negative number");
        }
        let threshold = a.check.threshold.unwrap_or(0.01);
        if !(threshold.is_finite() && threshold >= 0.0) {
            self.problem(
                "autoscaler.check.threshold",
                "must be a non-negative number",
            );
        }
        let interval = a.evaluation_interval.map_or(10 * SECOND_MS, |d| d.0);
        if interval == 0 {
            self.problem("autoscaler.evaluation_interval", "must be longer than zero");
        }
        let node_selector = self.selector(
            "autoscaler.node_selector_strategy",
            a.node_selector_strategy.as_deref(),
        );
        Some(AutoscalerConfig {
            pool: a.pool.clone(),
            min: a.min,
            max: a.max,
            evaluation_interval_ms: interval.max(1),
            cooldown_ms: a.cooldown.map_or(300 * SECOND_MS, |d| d.0),
            metric,
            target: a.check.target,
            threshold,
            node_selector,
            node_drain_deadline_ms: a.node_drain_deadline.map_or(900 * SECOND_MS, |d| d.0),
        })
    }
}

/// The largest CPU (MHz), memory or disk (MB) amount a scenario may give.
const MAX_RESOURCE: u64 = 1_000_000_000;

/// The most nodes a run may create (initial pools plus scale-ups and the autoscaler's max).
const MAX_NODES: u64 = 1_000_000;

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
}

/// What each pool offers an allocation, for messages about asks that fit nowhere.
fn offers(pools: &[&PoolConfig]) -> String {
    pools
        .iter()
        .map(|p| {
            let a = p.allocatable();
            format!(
                "{} offers {} MHz, {} MB, {} MB disk",
                p.name, a.cpu_mhz, a.memory_mb, a.disk_mb
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The Nomad node pools the node groups are in, sorted, each once.
pub fn node_pools_of(pools: &[PoolConfig]) -> Vec<String> {
    let set: BTreeSet<&str> = pools.iter().map(|p| p.node_pool.as_str()).collect();
    set.into_iter().map(str::to_string).collect()
}

/// True for a name Nomad accepts for a node pool: 1 to 128 letters, digits, `-` and `_`.
fn valid_node_pool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks that some node group is in Nomad node pool `name`; the error names the pools there
/// are, and the node group when `name` is a group's name (the simulator's name, not Nomad's).
fn node_pool_exists(name: &str, pools: &[PoolConfig]) -> Result<(), String> {
    if pools.iter().any(|p| p.node_pool == name) {
        return Ok(());
    }
    let known: BTreeSet<&str> = pools.iter().map(|p| p.node_pool.as_str()).collect();
    let known = known.into_iter().collect::<Vec<_>>().join(", ");
    match pools.iter().find(|p| p.name == name) {
        Some(group) => Err(format!(
            "no node group is in Nomad node pool {name:?}; node group {name:?} is in node pool {:?}: add `node_pool: {name}` to it (node pools: {known}, or \"all\")",
            group.node_pool
        )),
        None => Err(format!(
            "unknown node pool {name:?} (node pools: {known}, or \"all\")"
        )),
    }
}

fn pool_names(pools: &[PoolConfig]) -> String {
    pools
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Nomad's GC thresholds from `server.gc`, with Nomad's defaults for what is not given.
fn gc_config(file: Option<&schema::GcFile>) -> nomad_sim_core::config::GcConfig {
    let mut gc = nomad_sim_core::config::GcConfig::default();
    if let Some(f) = file {
        let set = |slot: &mut u64, d: &Option<schema::Dur>| {
            if let Some(d) = d {
                *slot = d.0;
            }
        };
        set(&mut gc.eval_gc_threshold_ms, &f.eval_gc_threshold);
        set(
            &mut gc.batch_eval_gc_threshold_ms,
            &f.batch_eval_gc_threshold,
        );
        set(&mut gc.job_gc_threshold_ms, &f.job_gc_threshold);
        set(&mut gc.node_gc_threshold_ms, &f.node_gc_threshold);
        set(&mut gc.interval_ms, &f.interval);
    }
    gc
}

impl Builder {
    /// A pool's reserved ports, devices and reservable cores.
    fn pool_hardware(&mut self, path: &str, p: &PoolFile, cpu_mhz: u64) -> PoolHardware {
        let mut hw = PoolHardware::default();
        if let Some(text) = &p.reserved_ports {
            match parse_port_ranges(&text.0) {
                Ok(ports) => hw.reserved_ports = ports,
                Err(e) => self.problem(&format!("{path}.reserved_ports"), e),
            }
        }
        if p.resources.memory_max.is_some() {
            self.problem(
                &format!("{path}.resources.memory_max"),
                "memory_max is a workload's ask, not a node's resource",
            );
        }
        if let Some(r) = &p.reserved {
            if r.cores.is_some() || r.memory_max.is_some() {
                self.problem_at_key(
                    &format!("{path}.reserved"),
                    "reserved takes cpu, memory and disk; give reservable cores in resources.cores",
                );
            }
        }
        if let Some(cores) = p.resources.cores {
            if cores == 0 || u64::from(cores) > cpu_mhz {
                self.problem(
                    &format!("{path}.resources.cores"),
                    format!("must be between 1 and the pool's cpu ({cpu_mhz} MHz, at least 1 MHz per core)"),
                );
            } else {
                hw.cores = cores;
                hw.core_mhz = cpu_mhz / u64::from(cores);
            }
        }
        for (k, d) in p.devices.iter().enumerate() {
            let dpath = format!("{path}.devices[{k}]");
            for (key, v) in [("vendor", &d.vendor), ("type", &d.device_type)] {
                if v.is_empty() || v.contains('/') {
                    self.problem(
                        &format!("{dpath}.{key}"),
                        "must be a non-empty name without '/'",
                    );
                }
            }
            if d.count == 0 || d.count > 1024 {
                self.problem(&format!("{dpath}.count"), "must be between 1 and 1024");
            }
            hw.devices.push(DeviceGroup {
                vendor: d.vendor.clone(),
                device_type: d.device_type.clone(),
                name: d.name.clone().unwrap_or_default(),
                count: d.count.min(1024),
                attributes: d
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.0.clone()))
                    .collect(),
            });
        }
        hw
    }

    /// A workload's ports, devices, cores and memory_max.
    fn group_asks(&mut self, path: &str, w: &WorkloadFile, usable: &[&PoolConfig]) -> GroupAsks {
        let mut asks = GroupAsks::default();
        let mut labels = BTreeSet::new();
        for (k, port) in w.ports.iter().enumerate() {
            let ppath = format!("{path}.ports[{k}]");
            if port.label.is_empty() || !labels.insert(port.label.clone()) {
                self.problem(
                    &format!("{ppath}.label"),
                    format!(
                        "port labels must be unique and non-empty ({:?})",
                        port.label
                    ),
                );
            }
            match port.static_port {
                Some(v) if v == 0 || v > 65_535 => self.problem(
                    &format!("{ppath}.static"),
                    format!("port {v} is outside 1..=65535"),
                ),
                Some(v) => {
                    if asks.static_ports.iter().any(|s| u32::from(s.value) == v) {
                        self.problem(
                            &format!("{ppath}.static"),
                            format!("static port {v} is asked twice"),
                        );
                    }
                    asks.static_ports.push(StaticPort {
                        label: port.label.clone(),
                        value: v as u16,
                    })
                }
                None => asks.dynamic_ports.push(port.label.clone()),
            }
        }
        for (k, d) in w.devices.iter().enumerate() {
            let dpath = format!("{path}.devices[{k}]");
            if d.name.is_empty() || d.name.split('/').count() > 3 {
                self.problem(
                    &format!("{dpath}.name"),
                    "must be type, vendor/type or vendor/type/name",
                );
            }
            let count = d.count.unwrap_or(1);
            if count == 0 {
                self.problem(&format!("{dpath}.count"), "must be at least 1");
            }
            let mut ask = DeviceAsk {
                name: d.name.clone(),
                count: count.max(1),
                constraints: Vec::new(),
                affinities: Vec::new(),
            };
            for (j, c) in d.constraints.iter().enumerate() {
                let cpath = format!("{dpath}.constraints[{j}]");
                let Some(attribute) = c.attribute.as_deref() else {
                    self.problem_at_key(&cpath, "needs an attribute (e.g. ${device.attr.memory})");
                    continue;
                };
                let operator = c.operator.as_deref().unwrap_or("=");
                let value = c.value.as_ref().map_or("", |v| v.0.as_str());
                match device_constraint(attribute, operator, value) {
                    Ok(c) => ask.constraints.push(c),
                    Err(e) => self.problem(&format!("{cpath}.operator"), e),
                }
            }
            for (j, a) in d.affinities.iter().enumerate() {
                let apath = format!("{dpath}.affinities[{j}]");
                let Some(attribute) = a.attribute.as_deref() else {
                    self.problem_at_key(&apath, "needs an attribute (e.g. ${device.model})");
                    continue;
                };
                let weight = a.weight.unwrap_or(50);
                if weight == 0 || !(-100..=100).contains(&weight) {
                    self.problem(
                        &format!("{apath}.weight"),
                        "must be between -100 and 100, not 0",
                    );
                }
                let operator = a.operator.as_deref().unwrap_or("=");
                let value = a.value.as_ref().map_or("", |v| v.0.as_str());
                match device_constraint(attribute, operator, value) {
                    Ok(c) => ask.affinities.push((c, weight.clamp(-100, 100) as i32)),
                    Err(e) => self.problem(&format!("{apath}.operator"), e),
                }
            }
            asks.devices.push(ask);
        }
        if let Some(r) = &w.resources {
            asks.cores = r.cores.unwrap_or(0);
            asks.memory_max_mb = r.memory_max;
            if let Some(m) = r.memory_max {
                if m < r.memory {
                    self.problem(
                        &format!("{path}.resources.memory_max"),
                        format!("must be at least memory ({} MB)", r.memory),
                    );
                }
            }
        }
        // Asks that no node of the usable pools can ever meet would wait forever.
        if asks.cores > 0
            && !usable.is_empty()
            && !usable.iter().any(|p| p.hardware.cores >= asks.cores)
        {
            self.problem(
                &format!("{path}.resources.cores"),
                format!(
                    "asks {} cores, which no node has (give the pools resources.cores)",
                    asks.cores
                ),
            );
        }
        if !asks.devices.is_empty()
            && !usable.is_empty()
            && !usable
                .iter()
                .any(|p| devices_feasible(&p.hardware, &asks.devices))
        {
            self.problem_at_key(
                &format!("{path}.devices"),
                "asks for devices that no node of its pools has",
            );
        }
        asks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_utc() {
        assert_eq!(parse_rfc3339_utc("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            parse_rfc3339_utc("2026-01-05T00:00:00Z"),
            Ok(DEFAULT_START_UNIX_MS)
        );
        assert_eq!(
            parse_rfc3339_utc("2000-03-01T12:30:15Z"),
            Ok(951_913_815_000)
        );
        assert!(parse_rfc3339_utc("2026-01-05 00:00:00").is_err());
        assert!(parse_rfc3339_utc("2026-13-05T00:00:00Z").is_err());
        assert!(parse_rfc3339_utc("2026-02-31T00:00:00Z").is_err());
        assert!(parse_rfc3339_utc("2026-02-29T00:00:00Z").is_err());
        assert!(parse_rfc3339_utc("2028-02-29T00:00:00Z").is_ok());
        assert!(parse_rfc3339_utc("2026-04-31T00:00:00Z").is_err());
    }
}
