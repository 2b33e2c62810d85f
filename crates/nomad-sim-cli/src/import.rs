//! `nomad-sim import`: a scenario from a real cluster's API JSON (`/v1/nodes`, `/v1/node/:id`,
//! and job specs as `nomad job run -output` writes them).

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
    /// Job specs (`POST /v1/jobs` payloads).
    pub jobs: Vec<PathBuf>,
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

/// Builds the scenario text.
pub fn import(opts: &ImportOptions) -> Result<String, String> {
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
        let _ = writeln!(out, "    arrivals: {{ trace: {{ file: {} }} }}", q(file));
    }
    if opts.jobs.is_empty() && opts.history.is_none() {
        let _ = writeln!(
            out,
            "  # No job specs given: a placeholder CI workload. Replace it with your own."
        );
        let _ = writeln!(out, "  - name: builds");
        let _ = writeln!(out, "    arrivals: {{ poisson: {{ rate: 60/h }} }}");
        let _ = writeln!(out, "    resource_class: medium");
        let _ = writeln!(
            out,
            "    duration: {{ lognormal: {{ median: 6m, sigma: 0.8 }} }}"
        );
    }
    for path in &opts.jobs {
        out.push_str(&job_workloads(path, &opts.horizon, &opts.batch_duration)?);
    }
    if !operations.is_empty() {
        let _ = writeln!(out, "operations:");
        for o in operations {
            let _ = writeln!(out, "{o}");
        }
    }
    Ok(out)
}

fn constraint_lines(list: Option<&Value>, indent: &str, out: &mut String) {
    let Some(items) = list.and_then(Value::as_array) else {
        return;
    };
    for c in items {
        let operand = c.get("Operand").and_then(Value::as_str).unwrap_or("=");
        let _ = writeln!(
            out,
            "{indent}- {{ attribute: {}, operator: {}, value: {} }}",
            q(str_field(c, "LTarget")),
            q(operand),
            q(str_field(c, "RTarget"))
        );
    }
}

/// The `Spreads` of a job or group as scenario `spreads:` lines.
fn spread_lines(list: Option<&Value>, indent: &str, out: &mut String) {
    let Some(items) = list.and_then(Value::as_array) else {
        return;
    };
    for sp in items {
        let mut line = format!("{indent}- {{ attribute: {}", q(str_field(sp, "Attribute")));
        if let Some(w) = sp.get("Weight").and_then(Value::as_i64) {
            let _ = write!(line, ", weight: {w}");
        }
        let targets: Vec<String> = sp
            .get("SpreadTarget")
            .and_then(Value::as_array)
            .map(|ts| {
                ts.iter()
                    .map(|t| {
                        format!(
                            "{{ value: {}, percent: {} }}",
                            q(str_field(t, "Value")),
                            t.get("Percent").and_then(Value::as_u64).unwrap_or(0)
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !targets.is_empty() {
            let _ = write!(line, ", targets: [{}]", targets.join(", "));
        }
        let _ = writeln!(out, "{line} }}");
    }
}

/// The `Affinities` of a job, group or task as scenario `affinities:` lines.
fn affinity_lines(list: Option<&Value>, indent: &str, out: &mut String) {
    let Some(items) = list.and_then(Value::as_array) else {
        return;
    };
    for a in items {
        let operand = a.get("Operand").and_then(Value::as_str).unwrap_or("=");
        let mut line = format!(
            "{indent}- {{ attribute: {}, operator: {}, value: {}",
            q(str_field(a, "LTarget")),
            q(operand),
            q(str_field(a, "RTarget"))
        );
        if let Some(w) = a.get("Weight").and_then(Value::as_i64) {
            let _ = write!(line, ", weight: {w}");
        }
        let _ = writeln!(out, "{line} }}");
    }
}

/// One workload per task group of a job spec, registered once at time zero.
fn job_workloads(path: &Path, horizon: &str, batch_duration: &str) -> Result<String, String> {
    let v = read_json(path)?;
    let job = v.get("Job").unwrap_or(&v);
    let id = str_field(job, "ID");
    if id.is_empty() {
        return Err(format!(
            "{}: not a job spec (no Job.ID); use `nomad job run -output job.nomad.hcl`",
            path.display()
        ));
    }
    let job_type = job.get("Type").and_then(Value::as_str).unwrap_or("service");
    if !matches!(job_type, "service" | "batch") {
        return Err(format!(
            "{}: job {id:?} is of type {job_type:?}; the simulator runs service and batch jobs",
            path.display()
        ));
    }
    let groups = job
        .get("TaskGroups")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if groups.is_empty() {
        return Err(format!("{}: job {id:?} has no TaskGroups", path.display()));
    }
    let mut out = String::new();
    for g in &groups {
        let group = str_field(g, "Name");
        let name = if groups.len() == 1 {
            sanitize(id)
        } else {
            sanitize(&format!("{id}-{group}"))
        };
        // Nomad's defaults: a task asks 100 MHz and 300 MB; a group's ephemeral disk is 300 MB.
        let tasks = g
            .get("Tasks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let cpu: u64 = tasks
            .iter()
            .map(|t| u64_at(t, &["Resources", "CPU"]).unwrap_or(100))
            .sum();
        let mem: u64 = tasks
            .iter()
            .map(|t| u64_at(t, &["Resources", "MemoryMB"]).unwrap_or(300))
            .sum();
        let disk = u64_at(g, &["EphemeralDisk", "SizeMB"]).unwrap_or(300);
        let count = g.get("Count").and_then(Value::as_u64).unwrap_or(1);
        let _ = writeln!(
            out,
            "  # From {} (job {}, group {}), registered once.",
            comment(&path.display().to_string()),
            q(id),
            q(group)
        );
        let _ = writeln!(out, "  - name: {}", q(&name));
        let _ = writeln!(out, "    type: {job_type}");
        if let Some(p) = job.get("Priority").and_then(Value::as_u64) {
            let _ = writeln!(out, "    priority: {p}");
        }
        let _ = writeln!(out, "    arrivals: {{ at: [0s] }}");
        let _ = writeln!(out, "    count: {count}");
        let _ = writeln!(
            out,
            "    resources: {{ cpu: {cpu}, memory: {mem}, disk: {disk} }}"
        );
        let duration = if job_type == "service" {
            horizon
        } else {
            batch_duration
        };
        let _ = writeln!(out, "    duration: {}", q(duration));
        if let Some(dcs) = job.get("Datacenters").and_then(Value::as_array) {
            let dcs: Vec<String> = dcs.iter().filter_map(Value::as_str).map(q).collect();
            if !dcs.is_empty() {
                let _ = writeln!(out, "    datacenters: [{}]", dcs.join(", "));
            }
        }
        let mut constraints = String::new();
        constraint_lines(job.get("Constraints"), "      ", &mut constraints);
        constraint_lines(g.get("Constraints"), "      ", &mut constraints);
        for t in &tasks {
            constraint_lines(t.get("Constraints"), "      ", &mut constraints);
        }
        if !constraints.is_empty() {
            let _ = writeln!(out, "    constraints:");
            out.push_str(&constraints);
        }
        let mut spreads = String::new();
        spread_lines(job.get("Spreads"), "      ", &mut spreads);
        spread_lines(g.get("Spreads"), "      ", &mut spreads);
        if !spreads.is_empty() {
            let _ = writeln!(out, "    spreads:");
            out.push_str(&spreads);
        }
        let mut affinities = String::new();
        affinity_lines(job.get("Affinities"), "      ", &mut affinities);
        affinity_lines(g.get("Affinities"), "      ", &mut affinities);
        for t in &tasks {
            affinity_lines(t.get("Affinities"), "      ", &mut affinities);
        }
        if !affinities.is_empty() {
            let _ = writeln!(out, "    affinities:");
            out.push_str(&affinities);
        }
        if let Some(mp) = u64_at(g, &["Migrate", "MaxParallel"]) {
            let _ = writeln!(out, "    max_parallel: {mp}");
        }
    }
    Ok(out)
}
