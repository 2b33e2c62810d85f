//! Knobs a capacity search may turn, and the values it tries.
//!
//! A knob names one setting of the scenario, dot-separated (no brackets, so shells leave it alone):
//!
//! | knob | what it sets |
//! |---|---|
//! | `pool.NAME.count` | the pool's node count at the start |
//! | `scale_up.I.count`, `scale_up@TIME.count` | the count of the I-th `scale_up` operation (0-based, in file order), or of the one at TIME |
//! | `scale_down.I.count`, `scale_down@TIME.count` | the same for `scale_down` |
//! | `scale_down.I.drain_deadline`, `scale_down@TIME.drain_deadline` | a scale-down's drain deadline |
//! | `node_drain.I.deadline`, `node_drain@TIME.deadline` | a drain's deadline |
//! | `autoscaler.min`, `autoscaler.max`, `autoscaler.target` | the autoscaler policy's bounds and its check's target value |
//! | `workload.NAME.share.CLASS` | the share (0 to 1) of the workload's arrivals that ask for resource class CLASS instead of its own |
//!
//! `--vary KNOB=VALUES` gives the values: `4..30` (a range: integer knobs are searched, others
//! sampled at nine points), `4..30:2` or `5m..1h:5m` (a range with a step), or a list
//! `5m,15m,30m`. Several knobs joined by commas share one set of values:
//! `scale_up.0.count,scale_down.0.count=6..16:2`.

use nomad_sim_core::config::{Action, Arrivals, DrainDeadline, SimConfig, WorkloadConfig};
use nomad_sim_core::time::{format_duration_ms, parse_duration_ms, SimTime};
use nomad_sim_core::Resources;

/// Which operations a knob selects from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// `scale_up`.
    ScaleUp,
    /// `scale_down`.
    ScaleDown,
    /// `node_drain`.
    NodeDrain,
}

impl OpKind {
    fn name(self) -> &'static str {
        match self {
            OpKind::ScaleUp => "scale_up",
            OpKind::ScaleDown => "scale_down",
            OpKind::NodeDrain => "node_drain",
        }
    }

    fn matches(self, action: &Action) -> bool {
        matches!(
            (self, action),
            (OpKind::ScaleUp, Action::ScaleUp { .. })
                | (OpKind::ScaleDown, Action::ScaleDown { .. })
                | (OpKind::NodeDrain, Action::NodeDrain { .. })
        )
    }
}

/// How a knob picks an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpSel {
    /// The I-th operation of the kind, in file order.
    Index(usize),
    /// The one operation of the kind at this time.
    At(SimTime),
}

/// One setting of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum Knob {
    /// A pool's count.
    PoolCount(String),
    /// A scale-up's or scale-down's count.
    OpCount(OpKind, OpSel),
    /// A drain's or scale-down's deadline.
    Deadline(OpKind, OpSel),
    /// `autoscaler.min`.
    AutoscalerMin,
    /// `autoscaler.max`.
    AutoscalerMax,
    /// `autoscaler.target` (the check's target value).
    AutoscalerTarget,
    /// The share of a workload's arrivals that ask for another resource class.
    ClassShare {
        /// The workload.
        workload: String,
        /// The class.
        class: String,
    },
}

/// What kind of value a knob takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A whole count of nodes.
    Count,
    /// A duration, kept in milliseconds.
    Duration,
    /// A number (the autoscaler's target).
    Number,
    /// A share between 0 and 1.
    Share,
}

impl Knob {
    /// Parses a knob's name.
    pub fn parse(text: &str) -> Result<Knob, String> {
        let bad = || {
            format!(
                "unknown knob {text:?}: expected pool.NAME.count, scale_up.I.count, scale_up@TIME.count, \
                 scale_down.I.count, scale_down.I.drain_deadline, node_drain.I.deadline (or @TIME for .I), \
                 autoscaler.min, autoscaler.max, autoscaler.target or workload.NAME.share.CLASS"
            )
        };
        if let Some(rest) = text.strip_prefix("pool.") {
            let name = rest.strip_suffix(".count").ok_or_else(bad)?;
            if name.is_empty() {
                return Err(bad());
            }
            return Ok(Knob::PoolCount(name.to_string()));
        }
        if let Some(rest) = text.strip_prefix("workload.") {
            let (name, class) = rest.rsplit_once(".share.").ok_or_else(bad)?;
            if name.is_empty() || class.is_empty() {
                return Err(bad());
            }
            return Ok(Knob::ClassShare {
                workload: name.to_string(),
                class: class.to_string(),
            });
        }
        match text {
            "autoscaler.min" => return Ok(Knob::AutoscalerMin),
            "autoscaler.max" => return Ok(Knob::AutoscalerMax),
            "autoscaler.target" => return Ok(Knob::AutoscalerTarget),
            _ => {}
        }
        for kind in [OpKind::ScaleUp, OpKind::ScaleDown, OpKind::NodeDrain] {
            let Some(rest) = text.strip_prefix(kind.name()) else {
                continue;
            };
            let (sel, field) = if let Some(r) = rest.strip_prefix('@') {
                let (at, field) = r.split_once('.').ok_or_else(bad)?;
                let ms = parse_duration_ms(at).map_err(|e| format!("knob {text:?}: {e}"))?;
                (OpSel::At(ms), field)
            } else if let Some(r) = rest.strip_prefix('.') {
                let (i, field) = r.split_once('.').ok_or_else(bad)?;
                let i: usize = i.parse().map_err(|_| {
                    format!("knob {text:?}: {i:?} is not an operation index (0, 1, ...)")
                })?;
                (OpSel::Index(i), field)
            } else {
                return Err(bad());
            };
            return match (kind, field) {
                (OpKind::ScaleUp | OpKind::ScaleDown, "count") => Ok(Knob::OpCount(kind, sel)),
                (OpKind::ScaleDown, "drain_deadline") | (OpKind::NodeDrain, "deadline") => {
                    Ok(Knob::Deadline(kind, sel))
                }
                _ => Err(bad()),
            };
        }
        Err(bad())
    }

    /// The kind of value the knob takes.
    pub fn unit(&self) -> Unit {
        match self {
            Knob::PoolCount(_) | Knob::OpCount(..) | Knob::AutoscalerMin | Knob::AutoscalerMax => {
                Unit::Count
            }
            Knob::Deadline(..) => Unit::Duration,
            Knob::AutoscalerTarget => Unit::Number,
            Knob::ClassShare { .. } => Unit::Share,
        }
    }

    /// Checks the knob against a scenario: it must name something there, and something the
    /// scenario does not override. `classes` are the resource classes the scenario knows.
    pub fn check(&self, config: &SimConfig, classes: &[(String, Resources)]) -> Result<(), String> {
        match self {
            Knob::PoolCount(pool) => {
                if !config.pools.iter().any(|p| &p.name == pool) {
                    return Err(format!(
                        "no pool {pool:?} in the scenario (pools: {})",
                        names(config.pools.iter().map(|p| p.name.as_str()))
                    ));
                }
                if let Some(a) = config.autoscaler.as_ref().filter(|a| &a.pool == pool) {
                    return Err(format!(
                        "the autoscaler owns pool {pool:?}: it sizes the pool between min {} and max {}, \
                         so a count set here is overridden; vary autoscaler.min or autoscaler.max instead",
                        a.min, a.max
                    ));
                }
                Ok(())
            }
            Knob::OpCount(kind, sel) => op_index(config, *kind, *sel).map(|_| ()),
            Knob::Deadline(kind, sel) => {
                let i = op_index(config, *kind, *sel)?;
                let deadline = match &config.operations[i].action {
                    Action::NodeDrain { spec, .. } => spec.deadline,
                    Action::ScaleDown { drain_deadline, .. } => *drain_deadline,
                    _ => return Err(format!("operation {i} has no deadline")),
                };
                match deadline {
                    DrainDeadline::After(_) => Ok(()),
                    DrainDeadline::Force => Err(format!(
                        "{} (operations[{i}]) is forced: its allocations stop at once, so no deadline applies",
                        kind.name()
                    )),
                    DrainDeadline::None => Err(format!(
                        "{} (operations[{i}]) has no_deadline: true, which overrides any deadline; remove it to vary the deadline",
                        kind.name()
                    )),
                }
            }
            Knob::AutoscalerMin | Knob::AutoscalerMax | Knob::AutoscalerTarget => {
                if config.autoscaler.is_none() {
                    Err("the scenario has no autoscaler".to_string())
                } else {
                    Ok(())
                }
            }
            Knob::ClassShare { workload, class } => {
                let w = config
                    .workloads
                    .iter()
                    .find(|w| &w.name == workload)
                    .ok_or_else(|| {
                        format!(
                            "no workload {workload:?} in the scenario (workloads: {})",
                            names(config.workloads.iter().map(|w| w.name.as_str()))
                        )
                    })?;
                if !classes.iter().any(|(c, _)| c == class) {
                    return Err(format!(
                        "unknown resource class {class:?} (known: {})",
                        names(classes.iter().map(|(c, _)| c.as_str()))
                    ));
                }
                match &w.arrivals {
                    Arrivals::Poisson { .. } | Arrivals::Diurnal { .. } => {}
                    _ => {
                        return Err(format!(
                            "workload {workload:?} does not arrive by a rate (poisson or diurnal), so its arrivals cannot be split into shares"
                        ))
                    }
                }
                let copy = split_name(workload, class);
                if config.workloads.iter().any(|w| w.name == copy) {
                    return Err(format!(
                        "the scenario already has a workload named {copy:?}, the name the split share would take"
                    ));
                }
                Ok(())
            }
        }
    }

    /// Sets the knob to `value` (in the knob's unit: milliseconds for durations). Call
    /// [`Knob::check`] first.
    pub fn apply(
        &self,
        config: &mut SimConfig,
        value: f64,
        classes: &[(String, Resources)],
    ) -> Result<(), String> {
        let count = || -> Result<u32, String> {
            if value < 0.0 || value.fract() != 0.0 || value > f64::from(u32::MAX) {
                Err(format!("{value} is not a node count"))
            } else {
                Ok(value as u32)
            }
        };
        match self {
            Knob::PoolCount(pool) => {
                let p = config
                    .pools
                    .iter_mut()
                    .find(|p| &p.name == pool)
                    .ok_or_else(|| format!("no pool {pool:?}"))?;
                p.count = count()?;
            }
            Knob::OpCount(kind, sel) => {
                let i = op_index(config, *kind, *sel)?;
                let n = count()?;
                match &mut config.operations[i].action {
                    Action::ScaleUp { count, .. } | Action::ScaleDown { count, .. } => *count = n,
                    _ => return Err(format!("operations[{i}] has no count")),
                }
            }
            Knob::Deadline(kind, sel) => {
                let i = op_index(config, *kind, *sel)?;
                if value < 0.0 {
                    return Err("a deadline cannot be negative".to_string());
                }
                let ms = value.round() as SimTime;
                match &mut config.operations[i].action {
                    Action::NodeDrain { spec, .. } => spec.deadline = DrainDeadline::After(ms),
                    Action::ScaleDown { drain_deadline, .. } => {
                        *drain_deadline = DrainDeadline::After(ms)
                    }
                    _ => return Err(format!("operations[{i}] has no deadline")),
                }
            }
            Knob::AutoscalerMin | Knob::AutoscalerMax | Knob::AutoscalerTarget => {
                let n = if *self == Knob::AutoscalerTarget {
                    0
                } else {
                    count()?
                };
                let a = config
                    .autoscaler
                    .as_mut()
                    .ok_or("the scenario has no autoscaler")?;
                match self {
                    Knob::AutoscalerMin => a.min = n,
                    Knob::AutoscalerMax => a.max = n,
                    _ => {
                        if !(value.is_finite() && value >= 0.0) {
                            return Err(format!("{value} is not a target value"));
                        }
                        a.target = value
                    }
                }
                if a.min > a.max {
                    return Err(format!(
                        "autoscaler min {} would be above max {}",
                        a.min, a.max
                    ));
                }
            }
            Knob::ClassShare { workload, class } => {
                if !(0.0..=1.0).contains(&value) {
                    return Err(format!("share {value} is not between 0 and 1"));
                }
                let ask = classes
                    .iter()
                    .find(|(c, _)| c == class)
                    .map(|(_, r)| *r)
                    .ok_or_else(|| format!("unknown resource class {class:?}"))?;
                let w = config
                    .workloads
                    .iter_mut()
                    .find(|w| &w.name == workload)
                    .ok_or_else(|| format!("no workload {workload:?}"))?;
                let mut copy: WorkloadConfig = w.clone();
                scale_rate(&mut w.arrivals, 1.0 - value);
                scale_rate(&mut copy.arrivals, value);
                copy.name = split_name(workload, class);
                copy.resources = ask;
                // Added last, so every other workload keeps its random streams.
                config.workloads.push(copy);
            }
        }
        Ok(())
    }

    /// The workload names a run reports under another name (a split share under its workload).
    pub fn aliases(&self) -> Vec<(String, String)> {
        match self {
            Knob::ClassShare { workload, class } => {
                vec![(split_name(workload, class), workload.clone())]
            }
            _ => Vec::new(),
        }
    }

    /// A value in the knob's unit, as a person writes it (`18`, `30m0s`, `0.25`).
    pub fn show(&self, value: f64) -> String {
        match self.unit() {
            Unit::Count => format!("{value:.0}"),
            Unit::Duration => format_duration_ms(value.max(0.0).round() as u64),
            Unit::Number | Unit::Share => {
                let t = format!("{value:.4}");
                t.trim_end_matches('0').trim_end_matches('.').to_string()
            }
        }
    }

    /// Parses one value in the knob's unit.
    pub fn value(&self, text: &str) -> Result<f64, String> {
        let t = text.trim();
        match self.unit() {
            Unit::Count => t
                .parse::<u32>()
                .map(f64::from)
                .map_err(|_| format!("{t:?} is not a node count")),
            Unit::Duration => parse_duration_ms(t)
                .map(|ms| ms as f64)
                .map_err(String::from),
            Unit::Number => t
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| format!("{t:?} is not a non-negative number")),
            Unit::Share => t
                .parse::<f64>()
                .ok()
                .filter(|v| (0.0..=1.0).contains(v))
                .ok_or_else(|| format!("{t:?} is not a share between 0 and 1")),
        }
    }
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

/// The name of the workload that takes a split share.
fn split_name(workload: &str, class: &str) -> String {
    format!("{workload}-as-{class}")
}

fn scale_rate(arrivals: &mut Arrivals, factor: f64) {
    match arrivals {
        Arrivals::Poisson { rate_per_hour } => *rate_per_hour *= factor,
        Arrivals::Diurnal { rates_per_hour } => {
            for r in rates_per_hour {
                *r *= factor;
            }
        }
        _ => {}
    }
}

/// The index in `operations` of the operation a knob selects.
fn op_index(config: &SimConfig, kind: OpKind, sel: OpSel) -> Result<usize, String> {
    let of_kind: Vec<usize> = config
        .operations
        .iter()
        .enumerate()
        .filter(|(_, o)| kind.matches(&o.action))
        .map(|(i, _)| i)
        .collect();
    match sel {
        OpSel::Index(k) => of_kind.get(k).copied().ok_or_else(|| {
            format!(
                "{}.{k}: the scenario has {} {} operation{}",
                kind.name(),
                of_kind.len(),
                kind.name(),
                if of_kind.len() == 1 { "" } else { "s" }
            )
        }),
        OpSel::At(at) => {
            let at_time: Vec<usize> = of_kind
                .iter()
                .copied()
                .filter(|i| config.operations[*i].at_ms == at)
                .collect();
            match at_time.as_slice() {
                [i] => Ok(*i),
                [] => Err(format!(
                    "{}@{}: no {} operation at that time (they are at {})",
                    kind.name(),
                    format_duration_ms(at),
                    kind.name(),
                    if of_kind.is_empty() {
                        "no time: there is none".to_string()
                    } else {
                        of_kind
                            .iter()
                            .map(|i| format_duration_ms(config.operations[*i].at_ms))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                )),
                _ => Err(format!(
                    "{}@{}: {} operations at that time; pick one by index ({}.I)",
                    kind.name(),
                    format_duration_ms(at),
                    at_time.len(),
                    kind.name()
                )),
            }
        }
    }
}

/// The values of one dimension.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// `LO..HI` without a step: searched (integer knobs) or sampled at nine points.
    Range(f64, f64),
    /// Exactly these values, ascending.
    List(Vec<f64>),
}

/// The most values one dimension may list.
pub const MAX_VALUES: usize = 200;

/// One `--vary`: knobs that take the same values.
#[derive(Clone, Debug, PartialEq)]
pub struct Vary {
    /// As the user wrote the knobs.
    pub text: String,
    /// The knobs.
    pub knobs: Vec<Knob>,
    /// The values.
    pub values: Values,
}

impl Vary {
    /// Parses `KNOB[,KNOB...]=VALUES`.
    pub fn parse(text: &str) -> Result<Vary, String> {
        let (names, values) = text.split_once('=').ok_or_else(|| {
            format!("--vary {text:?}: expected KNOB=VALUES, e.g. pool.linux.count=4..30 or scale_down.0.drain_deadline=5m,15m,30m")
        })?;
        let knobs: Vec<Knob> = names
            .split(',')
            .map(|k| Knob::parse(k.trim()))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("--vary {text:?}: {e}"))?;
        let unit = knobs[0].unit();
        if knobs.iter().any(|k| k.unit() != unit) {
            return Err(format!(
                "--vary {text:?}: knobs that share values must take the same kind of value"
            ));
        }
        let first = &knobs[0];
        let parsed = parse_values(first, values).map_err(|e| format!("--vary {text:?}: {e}"))?;
        Ok(Vary {
            text: names.to_string(),
            knobs,
            values: parsed,
        })
    }

    /// A value as a person writes it.
    pub fn show(&self, value: f64) -> String {
        self.knobs[0].show(value)
    }

    /// True when the values are whole numbers that can be searched one by one.
    pub fn is_count(&self) -> bool {
        self.knobs[0].unit() == Unit::Count
    }

    /// The values of a grid: a list as given, a range at up to `points` evenly spaced values.
    pub fn grid(&self, points: usize) -> Vec<f64> {
        match &self.values {
            Values::List(v) => v.clone(),
            Values::Range(lo, hi) => {
                let steps = points.max(2) - 1;
                let mut v: Vec<f64> = (0..=steps)
                    .map(|i| lo + (hi - lo) * i as f64 / steps as f64)
                    .map(|x| if self.is_count() { x.round() } else { x })
                    .collect();
                v.dedup();
                v
            }
        }
    }
}

/// Parses `LO..HI`, `LO..HI:STEP` or `A,B,C` in the knob's unit.
fn parse_values(knob: &Knob, text: &str) -> Result<Values, String> {
    let text = text.trim();
    if let Some((lo, rest)) = text.split_once("..") {
        let (hi, step) = match rest.split_once(':') {
            Some((h, s)) => (h, Some(s)),
            None => (rest, None),
        };
        let lo = knob.value(lo)?;
        let hi = knob.value(hi)?;
        if lo > hi {
            return Err(format!(
                "the range starts above its end ({} > {})",
                knob.show(lo),
                knob.show(hi)
            ));
        }
        let Some(step) = step else {
            return Ok(Values::Range(lo, hi));
        };
        let step = knob.value(step)?;
        if step <= 0.0 {
            return Err("the step must be more than 0".to_string());
        }
        let n = ((hi - lo) / step).floor() + 1.0;
        if n > MAX_VALUES as f64 {
            return Err(format!("{n} values; at most {MAX_VALUES} per --vary"));
        }
        let mut v: Vec<f64> = (0..n as usize).map(|i| lo + step * i as f64).collect();
        if v.last().is_some_and(|last| hi - last > step * 1e-9) {
            v.push(hi);
        }
        return Ok(Values::List(v));
    }
    let mut v: Vec<f64> = text
        .split(',')
        .map(|t| knob.value(t))
        .collect::<Result<_, _>>()?;
    if v.len() > MAX_VALUES {
        return Err(format!(
            "{} values; at most {MAX_VALUES} per --vary",
            v.len()
        ));
    }
    v.sort_by(f64::total_cmp);
    v.dedup();
    Ok(Values::List(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_parse() {
        assert_eq!(
            Knob::parse("pool.linux.count"),
            Ok(Knob::PoolCount("linux".into()))
        );
        assert_eq!(
            Knob::parse("scale_down@20h.count"),
            Ok(Knob::OpCount(OpKind::ScaleDown, OpSel::At(20 * 3_600_000)))
        );
        assert_eq!(
            Knob::parse("node_drain.2.deadline"),
            Ok(Knob::Deadline(OpKind::NodeDrain, OpSel::Index(2)))
        );
        assert_eq!(
            Knob::parse("workload.pr-medium.share.large"),
            Ok(Knob::ClassShare {
                workload: "pr-medium".into(),
                class: "large".into()
            })
        );
        for bad in [
            "pool.linux",
            "scale_up.x.count",
            "scale_up.0.deadline",
            "node_drain@zz.deadline",
            "nope",
        ] {
            assert!(Knob::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_parse_in_the_knobs_unit() {
        let v = Vary::parse("pool.linux.count=4..30").unwrap();
        assert_eq!(v.values, Values::Range(4.0, 30.0));
        assert_eq!(v.grid(9).len(), 9);
        let v = Vary::parse("scale_down.0.drain_deadline=5m..20m:5m").unwrap();
        assert_eq!(
            v.values,
            Values::List(vec![300_000.0, 600_000.0, 900_000.0, 1_200_000.0])
        );
        assert_eq!(v.show(900_000.0), "15m0s");
        let v = Vary::parse("workload.w.share.large=0,0.5,0.25").unwrap();
        assert_eq!(v.values, Values::List(vec![0.0, 0.25, 0.5]));
        let v = Vary::parse("scale_up.0.count,scale_down.0.count=6..16:4").unwrap();
        assert_eq!(v.knobs.len(), 2);
        assert_eq!(v.values, Values::List(vec![6.0, 10.0, 14.0, 16.0]));
        for bad in [
            "pool.linux.count",
            "pool.linux.count=30..4",
            "pool.linux.count=1.5",
            "pool.linux.count=0..100000:1",
            "workload.w.share.large=2",
            "pool.linux.count,autoscaler.target=1..2",
            "pool.linux.count=1..9:0",
        ] {
            assert!(Vary::parse(bad).is_err(), "{bad}");
        }
    }
}
