//! `nomad-sim import`: a scenario from a real cluster's API JSON (`/v1/nodes`, `/v1/node/:id`)
//! and its job files (HCL2 or JSON), which the scenario runs as `jobspec:` workloads.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// What the import needs besides the files.
pub struct ImportOptions {
    /// `GET /v1/nodes` output (an array), or one `GET /v1/node/:id` object.
    pub nodes: PathBuf,
    /// A directory of `GET /v1/node/:id` payloads (`*.json`).
    pub node_detail: Option<PathBuf>,
    /// Job files: HCL2, or JSON (`nomad job run -output`, `GET /v1/job/:id`).
    pub jobs: Vec<PathBuf>,
    /// The directory the scenario is written to, which its job file paths are relative to.
    pub base_dir: PathBuf,
    /// The scenario's name.
    pub name: String,
    /// The scenario's horizon, as written in the scenario (`24h`).
    pub horizon: String,
    /// Run time given to batch task groups (the spec does not say).
    pub batch_duration: String,
    /// A replayed allocation history and the trace file's name beside the scenario.
    pub history: Option<(crate::history::History, String)>,
}

/// Reads a JSON file; a parse error names the file, line and column.
pub(crate) fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: invalid JSON: {e} (the payload must be exactly what the API returned)",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn u64_at(v: &Value, path: &[&str]) -> Option<u64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_u64()
}

/// (cpu MHz, memory MB, disk MB) of a node, from `NodeResources` (Nomad ≥ 0.9) or `Resources`.
fn node_resources(node: &Value, reserved: bool) -> Option<(u64, u64, u64)> {
    let (modern, legacy) = if reserved {
        ("ReservedResources", "Reserved")
    } else {
        ("NodeResources", "Resources")
    };
    if let Some(r) = node.get(modern).filter(|r| !r.is_null()) {
        return Some((
            u64_at(r, &["Cpu", "CpuShares"]).unwrap_or(0),
            u64_at(r, &["Memory", "MemoryMB"]).unwrap_or(0),
            u64_at(r, &["Disk", "DiskMB"]).unwrap_or(0),
        ));
    }
    let r = node.get(legacy).filter(|r| !r.is_null())?;
    Some((
        u64_at(r, &["CPU"]).unwrap_or(0),
        u64_at(r, &["MemoryMB"]).unwrap_or(0),
        u64_at(r, &["DiskMB"]).unwrap_or(0),
    ))
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !k.starts_with("unique."))
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct PoolKey {
    node_pool: String,
    datacenter: String,
    node_class: String,
    resources: (u64, u64, u64),
    reserved: (u64, u64, u64),
    attributes: BTreeMap<String, String>,
    meta: BTreeMap<String, String>,
}

/// A YAML double-quoted scalar. Everything YAML would read as a line break, a control
/// character or a byte order mark is escaped, so no value can end the scalar or add a line.
fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'
                ) =>
            {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for a `#` comment: anything that could end the line is replaced, so a node name or
/// a file name cannot add YAML of its own.
fn comment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}') {
                '?'
            } else {
                c
            }
        })
        .collect()
}

fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        "default".to_string()
    } else {
        s
    }
}

/// The history workload's arrivals line, naming its trace file.
pub fn trace_line(file: &str) -> String {
    format!("    arrivals: {{ trace: {{ file: {} }} }}", q(file))
}

/// What an import wrote, and what the user should know about it.
pub struct Imported {
    /// The scenario text.
    pub text: String,
    /// Warnings for stderr (also written into the scenario as comments).
    pub warnings: Vec<String>,
}

/// Builds the scenario text.
pub fn import(opts: &ImportOptions) -> Result<Imported, String> {
    let listed = read_json(&opts.nodes)?;
    let mut nodes: Vec<Value> = match listed {
        Value::Array(a) => a,
        Value::Object(_) => vec![listed],
        _ => {
            return Err(format!(
                "{}: expected the array of GET /v1/nodes or one GET /v1/node/:id object",
                opts.nodes.display()
            ))
        }
    };
    let mut details: BTreeMap<String, Value> = BTreeMap::new();
    if let Some(dir) = &opts.node_detail {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: cannot read the directory: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            let v = read_json(&f)?;
            let id = str_field(&v, "ID").to_string();
            if id.is_empty() {
                return Err(format!(
                    "{}: not a GET /v1/node/:id payload (no ID)",
                    f.display()
                ));
            }
            details.insert(id, v);
        }
        // Details of nodes missing from the list are nodes too.
        for (id, v) in &details {
            if !nodes.iter().any(|n| str_field(n, "ID") == id) {
                nodes.push(v.clone());
            }
        }
    }
    let mut groups: BTreeMap<PoolKey, Vec<(String, String, String)>> = BTreeMap::new();
    let mut all_names: BTreeMap<String, usize> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut without_attributes = Vec::new();
    for n in &nodes {
        let id = str_field(n, "ID").to_string();
        let full = details.get(&id).unwrap_or(n);
        let status = str_field(full, "Status");
        if !status.is_empty() && status != "ready" {
            skipped.push(format!(
                "{} ({}): status {status}",
                str_field(full, "Name"),
                id
            ));
            continue;
        }
        let Some(resources) = node_resources(full, false) else {
            return Err(format!(
                "{}: node {:?} ({}) has no NodeResources: list nodes with GET /v1/nodes?resources=true, or pass --node-detail DIR with its GET /v1/node/:id payload",
                opts.nodes.display(),
                str_field(n, "Name"),
                id
            ));
        };
        // A node of the `/v1/nodes` list (even `?resources=true`) is a stub: no meta, and at
        // most a few attributes. Only `/v1/node/:id` has them all.
        if full.get("Meta").is_none() {
            without_attributes.push(str_field(full, "Name").replace(char::is_control, "?"));
        }
        let key = PoolKey {
            node_pool: str_field(full, "NodePool").to_string(),
            datacenter: str_field(full, "Datacenter").to_string(),
            node_class: str_field(full, "NodeClass").to_string(),
            resources,
            reserved: node_resources(full, true).unwrap_or((0, 0, 0)),
            attributes: string_map(full.get("Attributes")),
            meta: string_map(full.get("Meta")),
        };
        let eligibility = str_field(full, "SchedulingEligibility").to_string();
        // Control characters would garble the views' columns: the loader refuses them in
        // node names, so they become `?`.
        let node_name = str_field(full, "Name").replace(char::is_control, "?");
        *all_names.entry(node_name.clone()).or_insert(0) += 1;
        groups.entry(key).or_default().push((
            node_name,
            str_field(full, "ID").to_string(),
            eligibility,
        ));
    }
    if groups.is_empty() {
        return Err(format!(
            "{}: no ready nodes to import",
            opts.nodes.display()
        ));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported by `nomad-sim import` from {}.",
        comment(&opts.nodes.display().to_string())
    );
    let _ = writeln!(out, "# Identical nodes (pool, datacenter, class, resources, attributes, meta) form one node pool.");
    for s in &skipped {
        let _ = writeln!(out, "# Skipped node {}.", comment(s));
    }
    let mut warnings = Vec::new();
    if !without_attributes.is_empty() {
        let shown: Vec<&str> = without_attributes
            .iter()
            .take(3)
            .map(String::as_str)
            .collect();
        warnings.push(format!(
            "{} of {} nodes come from the node list ({}{}), which carries no meta and few attributes (GET /v1/nodes, even with ?resources=true): constraints on ${{meta.*}} and most ${{attr.*}} will not match them; pass --node-detail DIR with each node's GET /v1/node/:id payload",
            without_attributes.len(),
            groups.values().map(Vec::len).sum::<usize>(),
            shown.join(", "),
            if without_attributes.len() > 3 { ", ..." } else { "" }
        ));
    }
    for w in &warnings {
        let _ = writeln!(out, "# Warning: {}", comment(w));
    }
    let _ = writeln!(out, "name: {}", q(&opts.name));
    let _ = writeln!(out, "horizon: {}", q(&opts.horizon));
    if let Some((h, _)) = &opts.history {
        let _ = writeln!(
            out,
            "start: {}   # the first replayed allocation's creation",
            q(&crate::format::iso8601(h.start_unix_ms))
        );
    }
    let _ = writeln!(out, "node_pools:");
    let mut pool_names: BTreeMap<String, usize> = BTreeMap::new();
    let mut operations = Vec::new();
    let mut first_pool = String::new();
    for (key, members) in &groups {
        let mut base = sanitize(if key.node_pool.is_empty() {
            "default"
        } else {
            &key.node_pool
        });
        if !key.node_class.is_empty()
            && groups
                .keys()
                .filter(|k| k.node_pool == key.node_pool)
                .count()
                > 1
        {
            base = format!("{base}-{}", sanitize(&key.node_class));
        }
        let n = pool_names.entry(base.clone()).or_insert(0);
        *n += 1;
        let name = if *n == 1 { base } else { format!("{base}-{n}") };
        if first_pool.is_empty() {
            first_pool = name.clone();
        }
        let _ = writeln!(out, "  - name: {}", q(&name));
        let _ = writeln!(out, "    count: {}", members.len());
        let _ = writeln!(out, "    datacenter: {}", q(&key.datacenter));
        // Nomad's node pool, kept as the cluster has it (Nomad's `default` when not given).
        let node_pool = if key.node_pool.is_empty() {
            "default"
        } else {
            &key.node_pool
        };
        let _ = writeln!(out, "    node_pool: {}", q(node_pool));
        let _ = writeln!(out, "    node_class: {}", q(&key.node_class));
        let (c, m, d) = key.resources;
        let _ = writeln!(out, "    resources: {{ cpu: {c}, memory: {m}, disk: {d} }}");
        let (c, m, d) = key.reserved;
        let _ = writeln!(out, "    reserved: {{ cpu: {c}, memory: {m}, disk: {d} }}");
        for (label, map) in [("attributes", &key.attributes), ("meta", &key.meta)] {
            if !map.is_empty() {
                let _ = writeln!(out, "    {label}:");
                for (k, v) in map {
                    let _ = writeln!(out, "      {}: {}", q(k), q(v));
                }
            }
        }
        // The nodes keep their names and IDs; a name two nodes share gets its ID's first
        // eight characters, so every node can be named in operations.
        let _ = writeln!(out, "    nodes:");
        for (node, id, eligibility) in members {
            let node_name = if all_names.get(node.as_str()).copied().unwrap_or(0) > 1 {
                format!("{node}~{}", id.chars().take(8).collect::<String>())
            } else {
                node.clone()
            };
            if id.is_empty() {
                let _ = writeln!(out, "      - {{ name: {} }}", q(&node_name));
            } else {
                let _ = writeln!(out, "      - {{ name: {}, id: {} }}", q(&node_name), q(id));
            }
            if eligibility == "ineligible" {
                operations.push(format!(
                    "  - at: 0s\n    node_eligibility: {{ nodes: [{}], disable: true }}",
                    q(&node_name)
                ));
            }
        }
    }
    let _ = writeln!(out, "workloads:");
    if let Some((h, file)) = &opts.history {
        let left_out: Vec<String> = h
            .left_out
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(why, n)| format!("{n} {why}"))
            .collect();
        let _ = writeln!(
            out,
            "  # The cluster's history: {} allocations replayed from when they were asked for ({} still",
            h.rows, h.running
        );
        let _ = writeln!(
            out,
            "  # running at the snapshot{}).",
            if left_out.is_empty() {
                String::new()
            } else {
                format!("; left out: {}", left_out.join(", "))
            }
        );
        let _ = writeln!(out, "  - name: history");
        // The allocations ran in whichever pools the nodes are in; a workload is in Nomad's
        // `default` pool unless it says otherwise.
        if groups
            .keys()
            .any(|k| !k.node_pool.is_empty() && k.node_pool != "default")
        {
            let _ = writeln!(out, "    node_pool: all");
        }
        let _ = writeln!(out, "{}", trace_line(file));
    }
    let mut jobs_text = String::new();
    for path in &opts.jobs {
        // The job file reader's messages name the file, line and column.
        jobs_text.push_str(&job_workloads(
            path,
            &opts.base_dir,
            &opts.horizon,
            &opts.batch_duration,
        )?);
    }
    let runnable = jobs_text.lines().any(|l| l.starts_with("  - "));
    if !runnable && opts.history.is_none() {
        let _ = writeln!(
            out,
            "  # No job that runs without dispatches given: a placeholder CI workload. Replace it with your own."
        );
        let _ = writeln!(out, "  - name: builds");
        let _ = writeln!(out, "    arrivals: {{ poisson: {{ rate: 60/h }} }}");
        let _ = writeln!(out, "    resource_class: medium");
        let _ = writeln!(
            out,
            "    duration: {{ lognormal: {{ median: 6m, sigma: 0.8 }} }}"
        );
    }
    out.push_str(&jobs_text);
    if !operations.is_empty() {
        let _ = writeln!(out, "operations:");
        for o in operations {
            let _ = writeln!(out, "{o}");
        }
    }
    Ok(Imported {
        text: out,
        warnings,
    })
}

/// `path` as a scenario in `dir` names it: relative to `dir` when both resolve, else as given.
fn path_from(dir: &Path, path: &Path) -> String {
    let (Ok(dir), Ok(file)) = (dir.canonicalize(), path.canonicalize()) else {
        return path.display().to_string();
    };
    let common = dir
        .components()
        .zip(file.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut relative = PathBuf::new();
    for _ in dir.components().skip(common) {
        relative.push("..");
    }
    for c in file.components().skip(common) {
        relative.push(c);
    }
    relative.display().to_string()
}

/// A `jobspec:` workload for a job file (HCL2, or JSON as `nomad job run -output` or
/// `GET /v1/job/:id` print it): the scenario refers to the file, so the job keeps its ID,
/// groups, tasks and every scheduling block as Nomad reads them. Services and system jobs run
/// for the horizon, batch and sysbatch groups for `batch_duration`; a parameterized job is
/// written commented out, since only its dispatch rate can make it run.
fn job_workloads(
    path: &Path,
    base_dir: &Path,
    horizon: &str,
    batch_duration: &str,
) -> Result<String, String> {
    let loaded = nomad_sim_jobspec::load_file(path, &BTreeMap::new()).map_err(|e| e.to_string())?;
    if !loaded.unsupported.is_empty() {
        let what: Vec<String> = loaded.unsupported.iter().map(ToString::to_string).collect();
        return Err(format!(
            "the simulator cannot model this job yet:\n{}",
            what.join("\n")
        ));
    }
    let job = &loaded.job;
    let shown = path_from(base_dir, path);
    let core_type = nomad_sim_scenario::jobfile::job_type(job.job_type);
    let duration = if core_type.runs_to_completion() {
        batch_duration
    } else {
        horizon
    };
    let groups: Vec<&str> = job.task_groups.iter().map(|g| g.name.as_str()).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  # From {}: job {} ({}), task groups {}.",
        comment(&path.display().to_string()),
        comment(&job.id),
        core_type.as_str(),
        comment(&groups.join(", "))
    );
    if job.parameterized_job.is_some() {
        let _ = writeln!(
            out,
            "  # A parameterized job runs when dispatched: uncomment it with its dispatch rate."
        );
        let _ = writeln!(out, "  # - jobspec: {}", q(&shown));
        let _ = writeln!(out, "  #   arrivals: {{ poisson: {{ rate: 30/h }} }}");
        let _ = writeln!(out, "  #   duration: {}", q(batch_duration));
        return Ok(out);
    }
    let _ = writeln!(out, "  - jobspec: {}", q(&shown));
    // A job ID the loader does not take as a workload name (`team/web`, say) is renamed,
    // and says so: the simulator names its jobs after the name.
    let valid = !job.id.is_empty()
        && job
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
    if !valid {
        let name = sanitize(&job.id);
        let _ = writeln!(
            out,
            "    name: {}   # the job ID {} is not a workload name",
            q(&name),
            comment(&job.id)
        );
    }
    // The file's own run time (`run_for`, `nomad_sim_duration`) applies unless a scenario
    // says otherwise.
    let from_file = job
        .task_groups
        .iter()
        .map(|g| nomad_sim_scenario::jobfile::file_duration_ms(job, g))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if !from_file.is_empty() && from_file.iter().all(Option::is_some) {
        let _ = writeln!(out, "    # duration: the job file's own run time");
    } else {
        let _ = writeln!(out, "    duration: {}", q(duration));
    }
    Ok(out)
}
