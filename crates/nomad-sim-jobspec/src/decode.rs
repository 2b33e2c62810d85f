//! API JSON to the normalised model: Nomad's defaults where the file is silent, Nomad's checks
//! on values, and the warnings and errors that [`crate::fields`] asks for.
//!
//! Defaults (from Nomad's job specification pages): type `service`, priority 50, datacenters
//! `["*"]`, node pool `default`, count 1 (or `scaling.min`), cpu 100 MHz (0 with `cores`),
//! memory 300 MB, ephemeral disk 300 MB, kill timeout 5 s, affinity and spread weight 50, device
//! count 1, network mode `host`, host network `default`. Restart: batch and sysbatch jobs 3
//! attempts in 24 h, others 2 in 30 m, both with a 15 s delay and mode `fail`. Reschedule:
//! batch 1 attempt in 24 h, 5 s constant delay; service unlimited, 30 s exponential delay up to
//! 1 h; none for system and sysbatch. Migrate (service jobs): max_parallel 1, health check
//! `checks`, min_healthy_time 10 s, healthy_deadline 5 m. Update (service and system jobs):
//! max_parallel 1, `checks`, 10 s, 5 m, progress_deadline 10 m, stagger 30 s, no canary.
//! Job-level `update`, `migrate` and `reschedule` blocks are merged into each group's, the
//! group's values winning; a task's `restart` is merged over its group's.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map as JMap, Value as J};

use crate::diag::{Diagnostic, Error, Locator};
use crate::fields::{self, Class, Kind, Obj};
use crate::model::*;

/// Seconds in nanoseconds.
const S: u64 = 1_000_000_000;

/// The decoded job and what was said about it.
pub(crate) struct Decoded {
    pub(crate) job: Job,
    pub(crate) warnings: Vec<Diagnostic>,
    pub(crate) unmodelled: Vec<Diagnostic>,
}

/// Decodes the bare Job object.
pub(crate) fn decode(job: &J, file: &str, locator: &Locator) -> Result<Decoded, Error> {
    let mut d = Decoder {
        file,
        loc: locator,
        errors: Vec::new(),
        warnings: BTreeMap::new(),
        unmodelled: Vec::new(),
    };
    let Some(m) = job.as_object() else {
        return Err(Error::one(
            file,
            locator.at(""),
            "the job is not a JSON object",
        ));
    };
    let job = d.job(m);
    if !d.errors.is_empty() {
        d.errors.sort_by_key(|e| (e.pos.line, e.pos.col));
        d.errors.dedup();
        return Err(Error {
            diagnostics: d.errors,
        });
    }
    let mut warnings: Vec<(Diagnostic, usize)> = d.warnings.into_values().collect();
    warnings.sort_by_key(|(w, _)| (w.pos.line, w.pos.col));
    let warnings = warnings
        .into_iter()
        .map(|(mut w, n)| {
            if n > 1 {
                w.message.push_str(&format!(" ({n} places)"));
            }
            w
        })
        .collect();
    Ok(Decoded {
        job,
        warnings,
        unmodelled: d.unmodelled,
    })
}

/// A scalar read from a policy block, before merging and defaults.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Int(i64),
    Str(String),
    Bool(bool),
    Dur(u64),
}

type Partial = BTreeMap<&'static str, V>;

struct Decoder<'a> {
    file: &'a str,
    loc: &'a Locator,
    errors: Vec<Diagnostic>,
    warnings: BTreeMap<String, (Diagnostic, usize)>,
    unmodelled: Vec<Diagnostic>,
}

/// Looks a key up as Go's JSON decoder does (exact case first, then any case); null is absent.
fn get<'v>(m: &'v JMap<String, J>, key: &str) -> Option<&'v J> {
    let v = m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    });
    v.filter(|v| !v.is_null())
}

/// True for values that say nothing: null, empty, zero, false, or what API reads always carry:
/// Nomad's default `LogConfig` and an empty `Consul`.
fn is_empty(key: &str, v: &J) -> bool {
    match v {
        J::Null => true,
        J::Bool(b) => !b,
        J::Number(n) => n.as_f64() == Some(0.0),
        J::String(s) => s.is_empty() || (key == "Cluster" && s == "default"),
        J::Array(a) => a.iter().all(|v| is_empty(key, v)),
        J::Object(o) => {
            if key == "LogConfig" {
                return o.iter().all(|(k, v)| match k.as_str() {
                    "MaxFiles" | "MaxFileSizeMB" => v.as_i64() == Some(10),
                    "Disabled" | "Enabled" => v.as_bool() == Some(k == "Enabled"),
                    _ => v.is_null(),
                });
            }
            o.iter().all(|(k, v)| is_empty(k, v))
        }
    }
}

/// A value as the file wrote it, for messages: a numeric string without its quotes.
fn shown(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            Some(f) => format!("{f:e}"),
            None => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// The message for a whole number outside `lo..=hi`, naming the bound it breaks.
///
/// An upper bound of `u32::MAX` or more is what the model holds, not one of Nomad's rules, so a
/// value above it is said to be too large and the lower bound alone is named below it.
fn out_of_range(name: &str, v: i64, raw: &str, lo: i64, hi: i64, unit: &str) -> Option<String> {
    let open = hi >= u32::MAX as i64;
    if v < lo && open && lo == 0 {
        Some(format!("{name} must be 0 or more, got {raw}"))
    } else if v < lo && open {
        Some(format!("{name} must be at least {lo}{unit}, got {raw}"))
    } else if v > hi && open {
        Some(format!(
            "{name} is too large: it must be at most {hi}{unit}, got {raw}"
        ))
    } else if v < lo || v > hi {
        Some(format!("{name} must be from {lo} to {hi}{unit}, got {raw}"))
    } else {
        None
    }
}

impl Decoder<'_> {
    fn diag(&self, path: &str, field: Option<&str>, message: String) -> Diagnostic {
        Diagnostic {
            file: self.file.to_string(),
            pos: self.loc.at(path),
            field: field.map(str::to_string),
            message,
        }
    }

    fn err(&mut self, path: &str, message: impl Into<String>) {
        let d = self.diag(path, None, message.into());
        self.errors.push(d);
    }

    fn unmodelled(&mut self, path: &str, field: &str, message: impl Into<String>) {
        let d = self.diag(path, Some(field), message.into());
        self.unmodelled.push(d);
    }

    fn warn(&mut self, path: &str, field: &str, message: String) {
        let d = self.diag(path, Some(field), message);
        self.warnings
            .entry(field.to_string())
            .and_modify(|(_, n)| *n += 1)
            .or_insert((d, 1));
    }

    /// Reports ignored and unmodelled fields of one object.
    fn classify(&mut self, obj: Obj, m: &JMap<String, J>, path: &str) {
        for (k, v) in m {
            let Some(f) = fields::by_api(obj, k) else {
                continue;
            };
            // Volumes and NUMA are warned about or refused by their content, below.
            if is_empty(f.api, v)
                || matches!(
                    (obj, f.api),
                    (Obj::Group, "Volumes") | (Obj::Resources, "NUMA")
                )
            {
                continue;
            }
            let name = if f.hcl.is_empty() { f.api } else { f.hcl };
            let p = format!("{path}/{}", f.api);
            match f.class {
                Class::Ignored => self.warn(&p, name, format!("{name} is ignored: {}", f.note)),
                Class::Unmodelled => self.unmodelled(
                    &p,
                    name,
                    format!("{name} cannot be simulated yet: {}", f.note),
                ),
                Class::Modelled | Class::Kept | Class::Server => {}
            }
        }
    }

    fn str_of(&mut self, m: &JMap<String, J>, key: &str, path: &str) -> Option<String> {
        match get(m, key)? {
            J::String(s) => Some(s.clone()),
            J::Number(n) => Some(n.to_string()),
            J::Bool(b) => Some(b.to_string()),
            other => {
                self.err(
                    &format!("{path}/{key}"),
                    format!("{key}: a string is required, got {other}"),
                );
                None
            }
        }
    }

    /// A whole number; one beyond what an `i64` holds is kept as its nearest bound, so that the
    /// range checks after it report it as too large or too small.
    fn int_of(&mut self, m: &JMap<String, J>, key: &str, path: &str) -> Option<i64> {
        let v = get(m, key)?;
        let whole = |f: &f64| f.is_finite() && f.fract() == 0.0;
        let n = match v {
            J::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(whole).map(|f| f as i64)),
            J::String(s) => s
                .trim()
                .parse::<i64>()
                .ok()
                .or_else(|| s.trim().parse::<f64>().ok().filter(whole).map(|f| f as i64)),
            _ => None,
        };
        if n.is_none() {
            self.err(
                &format!("{path}/{key}"),
                format!("{key}: a whole number is required, got {v}"),
            );
        }
        n
    }

    /// A whole number in a range, with the file's name for the field in the message.
    fn ranged(
        &mut self,
        m: &JMap<String, J>,
        key: &str,
        path: &str,
        name: &str,
        lo: i64,
        hi: i64,
    ) -> Option<i64> {
        self.ranged_in(m, key, path, name, lo, hi, "")
    }

    /// A whole number in a range, with a unit (`" MB"`) after the bounds in the message.
    #[allow(clippy::too_many_arguments)]
    fn ranged_in(
        &mut self,
        m: &JMap<String, J>,
        key: &str,
        path: &str,
        name: &str,
        lo: i64,
        hi: i64,
        unit: &str,
    ) -> Option<i64> {
        let v = self.int_of(m, key, path)?;
        let raw = get(m, key).map(shown).unwrap_or_default();
        if let Some(message) = out_of_range(name, v, &raw, lo, hi, unit) {
            self.err(&format!("{path}/{key}"), message);
            return None;
        }
        Some(v)
    }

    fn bool_of(&mut self, m: &JMap<String, J>, key: &str, path: &str) -> Option<bool> {
        match get(m, key)? {
            J::Bool(b) => Some(*b),
            J::String(s) if s == "true" || s == "false" => Some(s == "true"),
            other => {
                self.err(
                    &format!("{path}/{key}"),
                    format!("{key}: true or false is required, got {other}"),
                );
                None
            }
        }
    }

    fn dur_of(&mut self, m: &JMap<String, J>, key: &str, path: &str) -> Option<u64> {
        match get(m, key)? {
            J::String(s) => match crate::duration::parse(s) {
                Ok(ns) => Some(ns),
                Err(e) => {
                    self.err(&format!("{path}/{key}"), format!("{key}: {e}"));
                    None
                }
            },
            v => {
                let n = self.int_of(m, key, path)?;
                if n < 0 {
                    self.err(
                        &format!("{path}/{key}"),
                        format!("{key}: a duration must not be negative, got {v}"),
                    );
                    return None;
                }
                if n == i64::MAX {
                    self.err(
                        &format!("{path}/{key}"),
                        format!("{key}: a duration of {} nanoseconds is too large", shown(v)),
                    );
                    return None;
                }
                Some(n as u64)
            }
        }
    }

    fn str_list(&mut self, m: &JMap<String, J>, key: &str, path: &str) -> Option<Vec<String>> {
        match get(m, key)? {
            J::Array(items) => {
                let mut out = Vec::new();
                for (i, v) in items.iter().enumerate() {
                    match v {
                        J::String(s) => out.push(s.clone()),
                        J::Number(n) => out.push(n.to_string()),
                        other => self.err(
                            &format!("{path}/{key}/{i}"),
                            format!("{key}: a list of strings is required, got {other}"),
                        ),
                    }
                }
                Some(out)
            }
            other => {
                self.err(
                    &format!("{path}/{key}"),
                    format!("{key}: a list of strings is required, got {other}"),
                );
                None
            }
        }
    }

    fn str_map(&mut self, m: &JMap<String, J>, key: &str, path: &str) -> BTreeMap<String, String> {
        match get(m, key) {
            None => BTreeMap::new(),
            Some(J::Object(o)) => o
                .iter()
                .map(|(k, v)| {
                    let s = match v {
                        J::String(s) => s.clone(),
                        J::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k.clone(), s)
                })
                .collect(),
            Some(other) => {
                self.err(
                    &format!("{path}/{key}"),
                    format!("{key}: a map of strings is required, got {other}"),
                );
                BTreeMap::new()
            }
        }
    }

    fn obj_of<'v>(
        &mut self,
        m: &'v JMap<String, J>,
        key: &str,
        path: &str,
    ) -> Option<&'v JMap<String, J>> {
        match get(m, key)? {
            J::Object(o) => Some(o),
            other => {
                self.err(
                    &format!("{path}/{key}"),
                    format!("{key}: an object is required, got {other}"),
                );
                None
            }
        }
    }

    fn list_of<'v>(
        &mut self,
        m: &'v JMap<String, J>,
        key: &str,
        path: &str,
    ) -> Vec<(String, &'v JMap<String, J>)> {
        match get(m, key) {
            None => Vec::new(),
            Some(J::Array(items)) => {
                let mut out = Vec::new();
                for (i, v) in items.iter().enumerate() {
                    let p = format!("{path}/{key}/{i}");
                    match v {
                        J::Object(o) => out.push((p, o)),
                        other => self.err(
                            &p,
                            format!("{key}: a list of objects is required, got {other}"),
                        ),
                    }
                }
                out
            }
            Some(other) => {
                self.err(
                    &format!("{path}/{key}"),
                    format!("{key}: a list is required, got {other}"),
                );
                Vec::new()
            }
        }
    }

    /// Reads the scalar fields of a policy block, checking each value.
    fn partial(&mut self, obj: Obj, m: &JMap<String, J>, path: &str) -> Partial {
        self.classify(obj, m, path);
        let mut p = Partial::new();
        for f in fields::fields_of(obj) {
            let v = match f.kind {
                Kind::Int => self.int_of(m, f.api, path).map(V::Int),
                Kind::Str => self.str_of(m, f.api, path).map(V::Str),
                Kind::Bool => self.bool_of(m, f.api, path).map(V::Bool),
                Kind::Dur => self.dur_of(m, f.api, path).map(V::Dur),
                _ => None,
            };
            // An empty string is what API reads print for an unset choice.
            let Some(v) = v.filter(|v| *v != V::Str(String::new())) else {
                continue;
            };
            let at = format!("{path}/{}", f.api);
            let name = if f.hcl.is_empty() { f.api } else { f.hcl };
            let allowed: &[&str] = match (obj, f.api) {
                (Obj::Restart, "Mode") => &["fail", "delay"],
                (Obj::Reschedule, "DelayFunction") => &["constant", "exponential", "fibonacci"],
                (Obj::Migrate, "HealthCheck") => &["checks", "task_states"],
                (Obj::Update, "HealthCheck") => &["checks", "task_states", "manual"],
                (Obj::Disconnect, "Reconcile") => &[
                    "best_score",
                    "longest_running",
                    "keep_original",
                    "keep_replacement",
                ],
                _ => &[],
            };
            match &v {
                V::Str(s) if !allowed.is_empty() && !allowed.contains(&s.as_str()) => {
                    self.err(
                        &at,
                        format!("{name} must be one of {}, got {s:?}", allowed.join(", ")),
                    );
                    continue;
                }
                V::Int(n) => {
                    let raw = get(m, f.api).map(shown).unwrap_or_default();
                    if let Some(message) = out_of_range(name, *n, &raw, 0, u32::MAX as i64, "") {
                        self.err(&at, message);
                        continue;
                    }
                }
                _ => {}
            }
            p.insert(f.api, v);
        }
        p
    }

    fn policy(&mut self, obj: Obj, m: &JMap<String, J>, key: &str, path: &str) -> Option<Partial> {
        let o = self.obj_of(m, key, path)?;
        Some(self.partial(obj, o, &format!("{path}/{key}")))
    }

    fn job(&mut self, m: &JMap<String, J>) -> Job {
        self.classify(Obj::Job, m, "");
        let id = self.str_of(m, "ID", "").unwrap_or_default();
        if id.is_empty() {
            self.err("", "the job has no ID");
        } else if id.contains(' ') || id.contains('\0') {
            self.err("/ID", format!("job ID {id:?} must not contain spaces"));
        }
        let job_type = match self.str_of(m, "Type", "") {
            None => JobType::Service,
            Some(t) if t.is_empty() => JobType::Service,
            Some(t) => JobType::parse(&t).unwrap_or_else(|| {
                self.err(
                    "/Type",
                    format!("type must be service, batch, system or sysbatch, got {t:?}"),
                );
                JobType::Service
            }),
        };
        let priority = self
            .ranged(m, "Priority", "", "priority", 1, 100)
            .unwrap_or(50) as u32;
        let mut datacenters = self.str_list(m, "Datacenters", "").unwrap_or_default();
        if datacenters.is_empty() {
            datacenters.push("*".into());
        }
        let node_pool = self
            .str_of(m, "NodePool", "")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into());
        let job_update = self.policy(Obj::Update, m, "Update", "");
        let job_migrate = self.policy(Obj::Migrate, m, "Migrate", "");
        let job_reschedule = self.policy(Obj::Reschedule, m, "Reschedule", "");
        let periodic = self.periodic(m, job_type);
        let parameterized = self.parameterized(m, job_type);
        let inherited = Inherited {
            job_type,
            update: job_update.clone(),
            migrate: job_migrate.clone(),
            reschedule: job_reschedule.clone(),
        };
        let mut task_groups = Vec::new();
        let mut names = BTreeSet::new();
        for (p, g) in self.list_of(m, "TaskGroups", "") {
            let group = self.group(g, &p, &inherited);
            if !names.insert(group.name.clone()) {
                self.err(
                    &format!("{p}/Name"),
                    format!("group {:?} is defined twice", group.name),
                );
            }
            task_groups.push(group);
        }
        if task_groups.is_empty() {
            self.err(
                "",
                format!("job {id:?} has no group: a job needs at least one group with a task"),
            );
        }
        Job {
            name: self
                .str_of(m, "Name", "")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| id.clone()),
            id,
            namespace: self
                .str_of(m, "Namespace", "")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "default".into()),
            region: self
                .str_of(m, "Region", "")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "global".into()),
            job_type,
            priority,
            all_at_once: self.bool_of(m, "AllAtOnce", "").unwrap_or(false),
            datacenters,
            node_pool,
            constraints: self.constraints(m, "", false),
            affinities: self.affinities(m, ""),
            spreads: self.spreads(m, ""),
            task_groups,
            update: job_update.map(|p| update_from(&p, &UpdateStrategy::default_for_service())),
            migrate: job_migrate.map(|p| migrate_from(&p, &MigrateStrategy::nomad_default())),
            reschedule: job_reschedule.map(|p| {
                reschedule_from(
                    &p,
                    &reschedule_default(job_type).unwrap_or_else(ReschedulePolicy::service_default),
                )
            }),
            periodic,
            parameterized_job: parameterized,
            meta: self.str_map(m, "Meta", ""),
        }
    }

    fn periodic(&mut self, m: &JMap<String, J>, job_type: JobType) -> Option<Periodic> {
        let o = self.obj_of(m, "Periodic", "")?;
        let path = "/Periodic";
        self.classify(Obj::Periodic, o, path);
        let spec = self.str_of(o, "Spec", path).unwrap_or_default();
        let specs = self.str_list(o, "Specs", path).unwrap_or_default();
        if spec.is_empty() && specs.is_empty() {
            self.err(path, "periodic needs cron or crons");
        } else if !spec.is_empty() && !specs.is_empty() {
            self.err(path, "periodic takes cron or crons, not both");
        }
        let spec_type = self
            .str_of(o, "SpecType", path)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "cron".into());
        if spec_type != "cron" {
            self.err(
                &format!("{path}/SpecType"),
                format!("periodic spec type must be cron, got {spec_type:?}"),
            );
        }
        if !matches!(job_type, JobType::Batch | JobType::Sysbatch) {
            self.err(
                path,
                format!(
                    "a periodic job must be of type batch or sysbatch, not {}",
                    job_type.as_str()
                ),
            );
        }
        Some(Periodic {
            enabled: self.bool_of(o, "Enabled", path).unwrap_or(true),
            spec,
            specs,
            spec_type,
            prohibit_overlap: self.bool_of(o, "ProhibitOverlap", path).unwrap_or(false),
            time_zone: self
                .str_of(o, "TimeZone", path)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "UTC".into()),
        })
    }

    fn parameterized(&mut self, m: &JMap<String, J>, job_type: JobType) -> Option<Parameterized> {
        let o = self.obj_of(m, "ParameterizedJob", "")?;
        let path = "/ParameterizedJob";
        self.classify(Obj::Parameterized, o, path);
        let payload = self
            .str_of(o, "Payload", path)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "optional".into());
        if !["optional", "required", "forbidden"].contains(&payload.as_str()) {
            self.err(
                &format!("{path}/Payload"),
                format!("payload must be optional, required or forbidden, got {payload:?}"),
            );
        }
        if !matches!(job_type, JobType::Batch | JobType::Sysbatch) {
            self.err(
                path,
                format!(
                    "a parameterized job must be of type batch or sysbatch, not {}",
                    job_type.as_str()
                ),
            );
        }
        Some(Parameterized {
            payload,
            meta_required: self.str_list(o, "MetaRequired", path).unwrap_or_default(),
            meta_optional: self.str_list(o, "MetaOptional", path).unwrap_or_default(),
        })
    }

    fn constraints(&mut self, m: &JMap<String, J>, path: &str, device: bool) -> Vec<Constraint> {
        const OPS: &[&str] = &[
            "=",
            "==",
            "is",
            "!=",
            "not",
            ">",
            ">=",
            "<",
            "<=",
            "regexp",
            "set_contains",
            "set_contains_all",
            "set_contains_any",
            "version",
            "semver",
            "is_set",
            "is_not_set",
            "distinct_hosts",
            "distinct_property",
        ];
        let mut out = Vec::new();
        for (p, c) in self.list_of(m, "Constraints", path) {
            self.classify(Obj::Constraint, c, &p);
            let operand = self
                .str_of(c, "Operand", &p)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "=".into());
            if !OPS.contains(&operand.as_str()) || (device && operand.starts_with("distinct_")) {
                self.err(
                    &format!("{p}/Operand"),
                    format!("unknown constraint operator {operand:?}"),
                );
            }
            let l_target = self.str_of(c, "LTarget", &p).unwrap_or_default();
            let r_target = self.str_of(c, "RTarget", &p).unwrap_or_default();
            if l_target.is_empty() && !["distinct_hosts"].contains(&operand.as_str()) {
                self.err(&p, format!("a {operand:?} constraint needs an attribute"));
            }
            out.push(Constraint {
                l_target,
                r_target,
                operand,
            });
        }
        out
    }

    fn affinities(&mut self, m: &JMap<String, J>, path: &str) -> Vec<Affinity> {
        const OPS: &[&str] = &[
            "=",
            "==",
            "is",
            "!=",
            "not",
            ">",
            ">=",
            "<",
            "<=",
            "regexp",
            "set_contains",
            "set_contains_all",
            "set_contains_any",
            "version",
            "semver",
        ];
        let mut out = Vec::new();
        for (p, a) in self.list_of(m, "Affinities", path) {
            self.classify(Obj::Affinity, a, &p);
            let operand = self
                .str_of(a, "Operand", &p)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "=".into());
            if !OPS.contains(&operand.as_str()) {
                self.err(
                    &format!("{p}/Operand"),
                    format!("unknown affinity operator {operand:?}"),
                );
            }
            let weight = self
                .ranged(a, "Weight", &p, "affinity weight", -100, 100)
                .unwrap_or(50);
            if weight == 0 {
                self.err(&format!("{p}/Weight"), "affinity weight must not be 0");
            }
            let l_target = self.str_of(a, "LTarget", &p).unwrap_or_default();
            if l_target.is_empty() {
                self.err(&p, "an affinity needs an attribute");
            }
            out.push(Affinity {
                l_target,
                r_target: self.str_of(a, "RTarget", &p).unwrap_or_default(),
                operand,
                weight: weight as i32,
            });
        }
        out
    }

    fn spreads(&mut self, m: &JMap<String, J>, path: &str) -> Vec<Spread> {
        let mut out = Vec::new();
        for (p, s) in self.list_of(m, "Spreads", path) {
            self.classify(Obj::Spread, s, &p);
            let attribute = self.str_of(s, "Attribute", &p).unwrap_or_default();
            if attribute.is_empty() {
                self.err(&p, "a spread needs an attribute");
            }
            let weight = self
                .ranged(s, "Weight", &p, "spread weight", 0, 100)
                .unwrap_or(50);
            let mut targets = Vec::new();
            let mut total = 0;
            for (tp, t) in self.list_of(s, "SpreadTarget", &p) {
                let percent = self
                    .ranged(t, "Percent", &tp, "spread target percent", 0, 100)
                    .unwrap_or(0);
                total += percent;
                targets.push(SpreadTarget {
                    value: self.str_of(t, "Value", &tp).unwrap_or_default(),
                    percent: percent as u32,
                });
            }
            if total > 100 {
                self.err(
                    &p,
                    format!("spread targets add up to {total} %, more than 100"),
                );
            }
            out.push(Spread {
                attribute,
                weight: weight as i32,
                spread_target: targets,
            });
        }
        out
    }

    fn group(&mut self, g: &JMap<String, J>, path: &str, inh: &Inherited) -> TaskGroup {
        self.classify(Obj::Group, g, path);
        let name = self.str_of(g, "Name", path).unwrap_or_default();
        if name.is_empty() {
            self.err(path, "a group needs a name");
        }
        let scaling_min = self.obj_of(g, "Scaling", path).and_then(|s| {
            let p = format!("{path}/Scaling");
            self.ranged(s, "Min", &p, "scaling min", 0, u32::MAX as i64)
        });
        let count = self
            .ranged(
                g,
                "Count",
                path,
                &format!("group {name:?}: count"),
                0,
                u32::MAX as i64,
            )
            .or(scaling_min)
            .unwrap_or(1) as u32;
        let jt = inh.job_type;
        let group_restart = self.policy(Obj::Restart, g, "RestartPolicy", path);
        let restart_policy = restart_from(group_restart.as_ref(), &restart_default(jt));
        let group_resched = self.policy(Obj::Reschedule, g, "ReschedulePolicy", path);
        let reschedule_policy = match reschedule_default(jt) {
            None => {
                if group_resched.is_some() {
                    self.warn(
                        &format!("{path}/ReschedulePolicy"),
                        "reschedule",
                        format!(
                            "reschedule is ignored: it does not apply to {} jobs",
                            jt.as_str()
                        ),
                    );
                }
                None
            }
            Some(def) => {
                let mut p = inh.reschedule.clone().unwrap_or_default();
                p.extend(group_resched.unwrap_or_default());
                Some(reschedule_from(&p, &def))
            }
        };
        let group_migrate = self.policy(Obj::Migrate, g, "Migrate", path);
        let migrate = if jt == JobType::Service || inh.migrate.is_some() || group_migrate.is_some()
        {
            let mut p = inh.migrate.clone().unwrap_or_default();
            p.extend(group_migrate.unwrap_or_default());
            Some(migrate_from(&p, &MigrateStrategy::nomad_default()))
        } else {
            None
        };
        let group_update = self.policy(Obj::Update, g, "Update", path);
        let update = if matches!(jt, JobType::Service | JobType::System)
            || inh.update.is_some()
            || group_update.is_some()
        {
            let mut p = inh.update.clone().unwrap_or_default();
            p.extend(group_update.unwrap_or_default());
            Some(update_from(&p, &UpdateStrategy::default_for_service()))
        } else {
            None
        };
        let ephemeral_disk = match self.obj_of(g, "EphemeralDisk", path) {
            None => EphemeralDisk {
                sticky: false,
                migrate: false,
                size_mb: 300,
            },
            Some(d) => {
                let p = format!("{path}/EphemeralDisk");
                self.classify(Obj::EphemeralDisk, d, &p);
                EphemeralDisk {
                    sticky: self.bool_of(d, "Sticky", &p).unwrap_or(false),
                    migrate: self.bool_of(d, "Migrate", &p).unwrap_or(false),
                    size_mb: self
                        .ranged_in(
                            d,
                            "SizeMB",
                            &p,
                            "ephemeral_disk size",
                            0,
                            u32::MAX as i64,
                            " MB",
                        )
                        .unwrap_or(300) as u32,
                }
            }
        };
        let disconnect = self
            .policy(Obj::Disconnect, g, "Disconnect", path)
            .map(|p| Disconnect {
                lost_after: dur(&p, "LostAfter").unwrap_or(0),
                replace: boolean(&p, "Replace").unwrap_or(true),
                reconcile: string(&p, "Reconcile").unwrap_or_else(|| "best_score".into()),
                stop_on_client_after: dur(&p, "StopOnClientAfter"),
            });
        if let Some(J::Object(vols)) = get(g, "Volumes") {
            for (vname, v) in vols {
                let kind = v
                    .as_object()
                    .and_then(|o| get(o, "Type"))
                    .and_then(J::as_str)
                    .unwrap_or("host");
                if kind != "csi" {
                    self.warn(
                        &format!("{path}/Volumes/{vname}"),
                        "volume",
                        "volume is ignored: host volumes are taken to be present on every node"
                            .into(),
                    );
                } else {
                    self.unmodelled(
                        &format!("{path}/Volumes/{vname}"),
                        "volume",
                        format!("CSI volume {vname:?} cannot be simulated yet: its claims limit which nodes and how many allocations may use it"),
                    );
                }
            }
        }
        let networks = self.networks(g, path);
        let mut tasks = Vec::new();
        let mut names = BTreeSet::new();
        for (p, t) in self.list_of(g, "Tasks", path) {
            let task = self.task(t, &p, &restart_policy);
            if !names.insert(task.name.clone()) {
                self.err(
                    &format!("{p}/Name"),
                    format!("task {:?} is defined twice in group {name:?}", task.name),
                );
            }
            tasks.push(task);
        }
        if tasks.is_empty() {
            self.err(path, format!("group {name:?} has no task"));
        } else if !tasks.iter().any(|t| t.lifecycle.is_none()) {
            self.err(
                path,
                format!("group {name:?} has no main task (a task without a lifecycle block)"),
            );
        }
        let shutdown_delay = self.dur_of(g, "ShutdownDelay", path);
        TaskGroup {
            count,
            constraints: self.constraints(g, path, false),
            affinities: self.affinities(g, path),
            spreads: self.spreads(g, path),
            tasks,
            ephemeral_disk,
            networks,
            restart_policy,
            reschedule_policy,
            migrate,
            update,
            disconnect,
            max_client_disconnect: self.dur_of(g, "MaxClientDisconnect", path),
            stop_after_client_disconnect: self.dur_of(g, "StopAfterClientDisconnect", path),
            prevent_reschedule_on_lost: self
                .bool_of(g, "PreventRescheduleOnLost", path)
                .unwrap_or(false),
            shutdown_delay,
            meta: self.str_map(g, "Meta", path),
            name,
        }
    }

    fn task(&mut self, t: &JMap<String, J>, path: &str, group_restart: &RestartPolicy) -> Task {
        self.classify(Obj::Task, t, path);
        let name = self.str_of(t, "Name", path).unwrap_or_default();
        if name.is_empty() {
            self.err(path, "a task needs a name");
        }
        let driver = self.str_of(t, "Driver", path).unwrap_or_default();
        if driver.is_empty() {
            self.err(path, format!("task {name:?} needs a driver"));
        }
        let lifecycle = self.obj_of(t, "Lifecycle", path).and_then(|l| {
            let p = format!("{path}/Lifecycle");
            self.classify(Obj::Lifecycle, l, &p);
            let hook = self.str_of(l, "Hook", &p).unwrap_or_default();
            let sidecar = self.bool_of(l, "Sidecar", &p).unwrap_or(false);
            if hook.is_empty() && !sidecar {
                return None;
            }
            if !["prestart", "poststart", "poststop"].contains(&hook.as_str()) {
                self.err(
                    &format!("{p}/Hook"),
                    format!("lifecycle hook must be prestart, poststart or poststop, got {hook:?}"),
                );
            } else if hook == "poststop" && sidecar {
                self.err(
                    &format!("{p}/Sidecar"),
                    "a poststop task cannot be a sidecar",
                );
            }
            Some(Lifecycle { hook, sidecar })
        });
        let resources = match self.obj_of(t, "Resources", path) {
            Some(r) => self.resources(r, &format!("{path}/Resources"), &name),
            None => Resources {
                cpu: 100,
                cores: 0,
                memory_mb: 300,
                memory_max_mb: 0,
                devices: Vec::new(),
                networks: Vec::new(),
            },
        };
        let own_restart = self.policy(Obj::Restart, t, "RestartPolicy", path);
        let config = match get(t, "Config") {
            Some(J::Object(o)) => Some(o.clone()),
            Some(other) => {
                self.err(
                    &format!("{path}/Config"),
                    format!("config must be an object, got {other}"),
                );
                None
            }
            None => None,
        };
        Task {
            driver,
            lifecycle,
            resources,
            constraints: self.constraints(t, path, false),
            affinities: self.affinities(t, path),
            restart_policy: restart_from(own_restart.as_ref(), group_restart),
            config,
            env: self.str_map(t, "Env", path),
            meta: self.str_map(t, "Meta", path),
            kill_timeout: self.dur_of(t, "KillTimeout", path).unwrap_or(5 * S),
            kill_signal: self.str_of(t, "KillSignal", path).unwrap_or_default(),
            leader: self.bool_of(t, "Leader", path).unwrap_or(false),
            user: self.str_of(t, "User", path).unwrap_or_default(),
            shutdown_delay: self.dur_of(t, "ShutdownDelay", path),
            kind: self.str_of(t, "Kind", path).unwrap_or_default(),
            name,
        }
    }

    fn resources(&mut self, r: &JMap<String, J>, path: &str, task: &str) -> Resources {
        self.classify(Obj::Resources, r, path);
        if let Some(numa) = get(r, "NUMA").and_then(J::as_object) {
            if get(numa, "Affinity").and_then(J::as_str) != Some("require") {
                self.warn(
                    &format!("{path}/NUMA"),
                    "numa",
                    "numa is ignored: NUMA-aware core placement is not simulated".into(),
                );
            } else {
                self.unmodelled(
                    &format!("{path}/NUMA"),
                    "numa",
                    format!("task {task:?}: numa affinity \"require\" cannot be simulated yet: it limits placement to nodes whose cores fit one NUMA node"),
                );
            }
        }
        let big = u32::MAX as i64;
        let named = |field: &str| format!("task {task:?}: {field}");
        let cores = self
            .ranged(r, "Cores", path, &named("cores"), 0, big)
            .unwrap_or(0) as u32;
        let cpu = match self.int_of(r, "CPU", path) {
            Some(c) if cores > 0 && c != 0 => {
                self.err(
                    &format!("{path}/CPU"),
                    format!("task {task:?}: cpu and cores cannot both be set"),
                );
                0
            }
            Some(_) if cores > 0 => 0,
            Some(_) => self
                .ranged_in(r, "CPU", path, &named("cpu"), 1, big, " MHz")
                .unwrap_or(100) as u32,
            None if cores > 0 => 0,
            None => 100,
        };
        let memory = self
            .ranged_in(r, "MemoryMB", path, &named("memory"), 10, big, " MB")
            .unwrap_or(300) as u32;
        let memory_max = self
            .ranged_in(r, "MemoryMaxMB", path, &named("memory_max"), 0, big, " MB")
            .unwrap_or(0) as u32;
        if memory_max > 0 && memory_max < memory {
            self.err(
                &format!("{path}/MemoryMaxMB"),
                format!("task {task:?}: memory_max ({memory_max} MB) must be at least memory ({memory} MB)"),
            );
        }
        let mut devices = Vec::new();
        for (p, d) in self.list_of(r, "Devices", path) {
            self.classify(Obj::Device, d, &p);
            let name = self.str_of(d, "Name", &p).unwrap_or_default();
            if name.is_empty() {
                self.err(&p, "a device needs a name, such as \"nvidia/gpu\"");
            }
            devices.push(Device {
                count: self
                    .ranged(d, "Count", &p, &named("device count"), 0, big)
                    .unwrap_or(1) as u32,
                constraints: self.constraints(d, &p, true),
                affinities: self.affinities(d, &p),
                name,
            });
        }
        Resources {
            cpu,
            cores,
            memory_mb: memory,
            memory_max_mb: memory_max,
            devices,
            networks: self.networks(r, path),
        }
    }

    fn networks(&mut self, m: &JMap<String, J>, path: &str) -> Vec<Network> {
        let mut out = Vec::new();
        for (p, n) in self.list_of(m, "Networks", path) {
            self.classify(Obj::Network, n, &p);
            let mut labels = BTreeSet::new();
            let mut ports = |d: &mut Self, key: &str, reserved: bool| -> Vec<Port> {
                let mut out = Vec::new();
                for (pp, port) in d.list_of(n, key, &p) {
                    d.classify(Obj::Port, port, &pp);
                    let label = d.str_of(port, "Label", &pp).unwrap_or_default();
                    if label.is_empty() {
                        d.err(&pp, "a port needs a label");
                    } else if !labels.insert(label.clone()) {
                        d.err(&pp, format!("port {label:?} is defined twice"));
                    }
                    let value = if reserved {
                        d.ranged(port, "Value", &pp, "static port", 1, 65535)
                            .unwrap_or(0) as u32
                    } else {
                        0
                    };
                    let host_network = d
                        .str_of(port, "HostNetwork", &pp)
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "default".into());
                    if host_network != "default" {
                        d.unmodelled(
                            &format!("{pp}/HostNetwork"),
                            "host_network",
                            format!("port {label:?} on host network {host_network:?} cannot be simulated yet: scenario nodes have only the default host network"),
                        );
                    }
                    out.push(Port {
                        value,
                        to: d.ranged(port, "To", &pp, "to", -1, 65535).unwrap_or(0) as i32,
                        host_network,
                        ignore_collision: d.bool_of(port, "IgnoreCollision", &pp).unwrap_or(false),
                        label,
                    });
                }
                out
            };
            let reserved_ports = ports(self, "ReservedPorts", true);
            let dynamic_ports = ports(self, "DynamicPorts", false);
            out.push(Network {
                mode: self
                    .str_of(n, "Mode", &p)
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "host".into()),
                reserved_ports,
                dynamic_ports,
                hostname: self.str_of(n, "Hostname", &p).unwrap_or_default(),
            });
        }
        out
    }
}

/// Job-level blocks each group merges.
struct Inherited {
    job_type: JobType,
    update: Option<Partial>,
    migrate: Option<Partial>,
    reschedule: Option<Partial>,
}

fn int(p: &Partial, k: &str) -> Option<u32> {
    match p.get(k) {
        Some(V::Int(n)) => Some((*n).clamp(0, u32::MAX as i64) as u32),
        _ => None,
    }
}

fn dur(p: &Partial, k: &str) -> Option<u64> {
    match p.get(k) {
        Some(V::Dur(n)) => Some(*n),
        _ => None,
    }
}

fn string(p: &Partial, k: &str) -> Option<String> {
    match p.get(k) {
        Some(V::Str(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn boolean(p: &Partial, k: &str) -> Option<bool> {
    match p.get(k) {
        Some(V::Bool(b)) => Some(*b),
        _ => None,
    }
}

fn restart_default(t: JobType) -> RestartPolicy {
    match t {
        JobType::Batch | JobType::Sysbatch => RestartPolicy {
            attempts: 3,
            interval: 24 * 3600 * S,
            delay: 15 * S,
            mode: "fail".into(),
            render_templates: false,
        },
        JobType::Service | JobType::System => RestartPolicy {
            attempts: 2,
            interval: 30 * 60 * S,
            delay: 15 * S,
            mode: "fail".into(),
            render_templates: false,
        },
    }
}

fn restart_from(p: Option<&Partial>, base: &RestartPolicy) -> RestartPolicy {
    let Some(p) = p else { return base.clone() };
    RestartPolicy {
        attempts: int(p, "Attempts").unwrap_or(base.attempts),
        interval: dur(p, "Interval").unwrap_or(base.interval),
        delay: dur(p, "Delay").unwrap_or(base.delay),
        mode: string(p, "Mode").unwrap_or_else(|| base.mode.clone()),
        render_templates: boolean(p, "RenderTemplates").unwrap_or(base.render_templates),
    }
}

impl ReschedulePolicy {
    fn service_default() -> ReschedulePolicy {
        ReschedulePolicy {
            attempts: 0,
            interval: 0,
            delay: 30 * S,
            delay_function: "exponential".into(),
            max_delay: 3600 * S,
            unlimited: true,
        }
    }
}

fn reschedule_default(t: JobType) -> Option<ReschedulePolicy> {
    match t {
        JobType::Batch => Some(ReschedulePolicy {
            attempts: 1,
            interval: 24 * 3600 * S,
            delay: 5 * S,
            delay_function: "constant".into(),
            max_delay: 0,
            unlimited: false,
        }),
        JobType::Service => Some(ReschedulePolicy::service_default()),
        JobType::System | JobType::Sysbatch => None,
    }
}

fn reschedule_from(p: &Partial, base: &ReschedulePolicy) -> ReschedulePolicy {
    ReschedulePolicy {
        attempts: int(p, "Attempts").unwrap_or(base.attempts),
        interval: dur(p, "Interval").unwrap_or(base.interval),
        delay: dur(p, "Delay").unwrap_or(base.delay),
        delay_function: string(p, "DelayFunction").unwrap_or_else(|| base.delay_function.clone()),
        max_delay: dur(p, "MaxDelay").unwrap_or(base.max_delay),
        unlimited: boolean(p, "Unlimited").unwrap_or(base.unlimited),
    }
}

impl MigrateStrategy {
    fn nomad_default() -> MigrateStrategy {
        MigrateStrategy {
            max_parallel: 1,
            health_check: "checks".into(),
            min_healthy_time: 10 * S,
            healthy_deadline: 300 * S,
        }
    }
}

fn migrate_from(p: &Partial, base: &MigrateStrategy) -> MigrateStrategy {
    MigrateStrategy {
        max_parallel: int(p, "MaxParallel").unwrap_or(base.max_parallel),
        health_check: string(p, "HealthCheck").unwrap_or_else(|| base.health_check.clone()),
        min_healthy_time: dur(p, "MinHealthyTime").unwrap_or(base.min_healthy_time),
        healthy_deadline: dur(p, "HealthyDeadline").unwrap_or(base.healthy_deadline),
    }
}

impl UpdateStrategy {
    fn default_for_service() -> UpdateStrategy {
        UpdateStrategy {
            stagger: 30 * S,
            max_parallel: 1,
            health_check: "checks".into(),
            min_healthy_time: 10 * S,
            healthy_deadline: 300 * S,
            progress_deadline: 600 * S,
            canary: 0,
            auto_revert: false,
            auto_promote: false,
        }
    }
}

fn update_from(p: &Partial, base: &UpdateStrategy) -> UpdateStrategy {
    UpdateStrategy {
        stagger: dur(p, "Stagger").unwrap_or(base.stagger),
        max_parallel: int(p, "MaxParallel").unwrap_or(base.max_parallel),
        health_check: string(p, "HealthCheck").unwrap_or_else(|| base.health_check.clone()),
        min_healthy_time: dur(p, "MinHealthyTime").unwrap_or(base.min_healthy_time),
        healthy_deadline: dur(p, "HealthyDeadline").unwrap_or(base.healthy_deadline),
        progress_deadline: dur(p, "ProgressDeadline").unwrap_or(base.progress_deadline),
        canary: int(p, "Canary").unwrap_or(base.canary),
        auto_revert: boolean(p, "AutoRevert").unwrap_or(base.auto_revert),
        auto_promote: boolean(p, "AutoPromote").unwrap_or(base.auto_promote),
    }
}
