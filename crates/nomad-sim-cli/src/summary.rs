//! The human summary `nomad-sim run` prints: totals, per pool and per workload, the queue
//! hour by hour, and what drains, scale changes and the autoscaler did. Long lists (every
//! drain, every scaling action) are printed with `--verbose` only, so a busy run stays short.

use std::collections::BTreeMap;
use std::fmt::Write;

use nomad_sim_core::config::Action;
use nomad_sim_core::metrics::Histogram;
use nomad_sim_core::time::{format_duration_ms, SimTime, HOUR_MS};
use nomad_sim_core::{Report, Simulation};
use nomad_sim_report::breakdown::{waited_fraction, Group, Observed};

/// Lists this long or shorter are printed in full; longer ones need `--verbose`.
const SHORT_LIST: usize = 6;

/// Renders the summary of a finished run.
pub fn render(
    sim: &Simulation,
    report: &Report,
    description: Option<&str>,
    seen: &Observed,
    verbose: bool,
) -> String {
    let mut s = String::new();
    let c = sim.config();
    let nodes_at_start: u32 = c.pools.iter().map(|p| p.count).sum();
    let _ = writeln!(
        s,
        "nomad-sim: {} (seed {}, {}, Nomad {})",
        report.scenario, report.seed, report.algorithm, report.nomad_version
    );
    if let Some(d) = description {
        let _ = writeln!(s, "  {}", d.trim());
    }
    let _ = writeln!(
        s,
        "  simulated {} ({} of arrivals) on {} nodes at start; {} events",
        format_duration_ms(sim.now()),
        format_duration_ms(c.horizon_ms),
        nodes_at_start,
        report.perf.events
    );
    let a = &report.allocations;
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  CircleCI jobs     {} submitted, {} Nomad jobs",
        report.ci_jobs.count,
        sim.jobs_registered()
    );
    let _ = writeln!(
        s,
        "  allocations       placed {}  completed {}  failed {}  stopped {}  lost {}  never placed {}",
        a.placed, a.completed, a.failed, a.stopped, a.lost, a.never_placed
    );
    let p = &report.pending_s;
    let _ = writeln!(
        s,
        "  pending (s)       mean {:.1}  p50 {:.1}  p90 {:.1}  p95 {:.1}  p99 {:.1}  max {:.1}",
        p.mean, p.p50, p.p90, p.p95, p.p99, p.max
    );
    let _ = writeln!(
        s,
        "  waited            {:.2} % of placements waited for capacity",
        report.waited_fraction * 100.0
    );
    let st = &report.ci_jobs.start_all_s;
    let _ = writeln!(
        s,
        "  CI job start (s)  mean {:.1}  p50 {:.1}  p95 {:.1}  p99 {:.1}   (until all of its parallel runs started)",
        st.mean, st.p50, st.p95, st.p99
    );
    let m = &report.ci_jobs.makespan_s;
    let _ = writeln!(
        s,
        "  CI makespan (s)   mean {:.1}  p50 {:.1}  p95 {:.1}  p99 {:.1}",
        m.mean, m.p50, m.p95, m.p99
    );
    let _ = writeln!(
        s,
        "  utilisation       cpu {:.1} %  memory {:.1} %   (allocated / available on ready nodes)",
        report.utilization.cpu_mean * 100.0,
        report.utilization.memory_mean * 100.0
    );
    let _ = write!(s, "  node-hours        {:.1}", report.node_hours);
    if report.cost > 0.0 {
        let _ = write!(s, "   cost {:.2}", report.cost);
    }
    let _ = writeln!(s);
    if report.wasted_alloc_s > 0.0 {
        let _ = writeln!(
            s,
            "  work thrown away  {:.1} alloc-hours (stopped or lost before finishing)",
            report.wasted_alloc_s / 3600.0
        );
    }
    groups(&mut s, sim, seen, verbose);
    queue_by_hour(&mut s, seen, verbose);
    drains(&mut s, report, verbose);
    scaling(&mut s, sim, report, seen, verbose);
    s
}

/// One line of the pool or workload table: a group's figures, or the whole run's.
struct Row<'a> {
    name: &'a str,
    placements: u64,
    pending: &'a Histogram,
    stopped_lost: u64,
}

impl<'a> Row<'a> {
    fn of(g: &'a Group) -> Self {
        Row {
            name: &g.name,
            placements: g.placements,
            pending: &g.pending,
            stopped_lost: g.stopped + g.lost,
        }
    }
}

/// A table of pools and one of workloads (only when there is more than one of either).
fn groups(s: &mut String, sim: &Simulation, seen: &Observed, verbose: bool) {
    let c = sim.config();
    // One pool and one workload: their figures are the run's, so they come from the run's
    // own counters and histogram instead of a tally of every placement.
    let (pools, mut workloads): (Vec<Row>, Vec<Row>) = match &seen.groups {
        Some((p, w)) => (
            p.iter().map(Row::of).collect(),
            w.iter().map(Row::of).collect(),
        ),
        None if c.pools.len() == 1 && c.workloads.len() == 1 => {
            let counts = sim.report().allocations;
            let whole = |name| Row {
                name,
                placements: counts.placed,
                pending: sim.pending_histogram(),
                stopped_lost: counts.stopped + counts.lost,
            };
            (
                vec![whole(&c.pools[0].name)],
                vec![whole(&c.workloads[0].name)],
            )
        }
        None => return,
    };
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  {:<20} {:>7} {:>9} {:>8} {:>8} {:>8} {:>7} {:>11} {:>10}",
        "pool", "nodes", "placed", "p50 s", "p95 s", "p99 s", "waited", "node-hours", "cost"
    );
    for (i, g) in pools.iter().enumerate() {
        let (lo, hi) = seen.pool_nodes.get(i).copied().unwrap_or((0, 0));
        let nodes = if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        };
        let hours = seen.pool_node_hours.get(i).copied().unwrap_or(0.0);
        let cost = c.pools.get(i).map_or(0.0, |p| p.cost_per_hour) * hours;
        let p = g.pending.pending_stats();
        let _ = writeln!(
            s,
            "  {:<20} {:>7} {:>9} {:>8.1} {:>8.1} {:>8.1} {:>6.1}% {:>11.1} {:>10}",
            clip(g.name, 20),
            nodes,
            g.placements,
            p.p50,
            p.p95,
            p.p99,
            waited_fraction(g.pending) * 100.0,
            hours,
            if cost > 0.0 {
                format!("{cost:.2}")
            } else {
                "-".to_string()
            }
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  {:<20} {:>9} {:>8} {:>8} {:>8} {:>8} {:>7} {:>13}",
        "workload", "placed", "p50 s", "p95 s", "p99 s", "max s", "waited", "stopped+lost"
    );
    let hidden = if !verbose && workloads.len() > 2 * SHORT_LIST {
        // The busiest ones; the rest are counted.
        workloads.sort_by_key(|g| std::cmp::Reverse(g.placements));
        let rest = workloads.split_off(2 * SHORT_LIST);
        Some(rest.len())
    } else {
        None
    };
    for g in &workloads {
        let p = g.pending.pending_stats();
        let _ = writeln!(
            s,
            "  {:<20} {:>9} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>6.1}% {:>13}",
            clip(g.name, 20),
            g.placements,
            p.p50,
            p.p95,
            p.p99,
            p.max,
            waited_fraction(g.pending) * 100.0,
            g.stopped_lost
        );
    }
    if let Some(n) = hidden {
        let _ = writeln!(s, "  ... and {n} quieter workloads (--verbose lists them)");
    }
}

fn clip(name: &str, width: usize) -> String {
    if name.chars().count() <= width {
        name.to_string()
    } else {
        let mut t: String = name.chars().take(width - 1).collect();
        t.push('~');
        t
    }
}

/// A sparkline of the values: `·` for zero, then eight heights up to the largest value.
pub fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            if v == 0 || max == 0 {
                '·'
            } else {
                let i = ((v as f64 / max as f64) * 8.0).ceil() as usize;
                BARS[i.clamp(1, 8) - 1]
            }
        })
        .collect()
}

/// The most hours shown one by one (a week); longer runs are shown in buckets of hours.
const MAX_HOURS_SHOWN: usize = 168;

/// The queue hour by hour, one line per simulated day; a run longer than a week is shown in
/// buckets of several hours, so the summary stays short whatever the run's length.
fn queue_by_hour(s: &mut String, seen: &Observed, verbose: bool) {
    let peaks: Vec<u64> = seen.hours.iter().map(|h| h.peak_queue).collect();
    let Some((peak_hour, peak)) = peaks
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(h, v)| (h, *v))
    else {
        return;
    };
    let _ = writeln!(s);
    if peak == 0 {
        let _ = writeln!(
            s,
            "  queue by hour     nothing waited for capacity at any sampled minute"
        );
        return;
    }
    let bucket = peaks.len().div_ceil(MAX_HOURS_SHOWN).max(1);
    let _ = writeln!(
        s,
        "  queue by hour     peak allocations waiting per {} (sampled each minute): highest {peak} at {}",
        if bucket == 1 {
            "hour".to_string()
        } else {
            format!("{bucket} hours")
        },
        format_duration_ms(peak_hour as u64 * HOUR_MS)
    );
    let binned: Vec<u64> = peaks
        .chunks(bucket)
        .map(|c| c.iter().copied().max().unwrap_or(0))
        .collect();
    let line: Vec<char> = sparkline(&binned).chars().collect();
    if bucket == 1 {
        let _ = writeln!(s, "            0h    6h    12h   18h");
        for (day, chunk) in line.chunks(24).enumerate() {
            let text: String = chunk.iter().collect();
            let _ = writeln!(s, "    day {:<3} {text}", day + 1);
        }
    } else {
        for (row, chunk) in line.chunks(24).enumerate() {
            let text: String = chunk.iter().collect();
            let _ = writeln!(
                s,
                "    from {:<9} {text}",
                format!("{}h", row * 24 * bucket)
            );
        }
    }
    if verbose {
        let _ = writeln!(
            s,
            "    {:>9}  peak queue  nodes",
            if bucket == 1 { "hour" } else { "from hour" }
        );
        for (i, c) in seen.hours.chunks(bucket).enumerate() {
            let q = c.iter().map(|h| h.peak_queue).max().unwrap_or(0);
            let lo = c.iter().map(|h| h.nodes.0).min().unwrap_or(0);
            let hi = c.iter().map(|h| h.nodes.1).max().unwrap_or(0);
            let _ = writeln!(s, "    {:>9}  {q:>10}  {lo}-{hi}", i * bucket);
        }
    }
}

/// Drains: counted, and listed when few or with `--verbose`.
fn drains(s: &mut String, report: &Report, verbose: bool) {
    if report.drains.is_empty() {
        return;
    }
    let d = &report.drains;
    let deadline = d.iter().filter(|d| d.deadline_reached).count();
    let stopped: u64 = d.iter().map(|d| d.allocs_stopped as u64).sum();
    let unfinished = d.iter().filter(|d| d.completed_s.is_none()).count();
    let longest = d
        .iter()
        .filter_map(|d| d.completed_s.map(|c| c - d.started_s))
        .fold(0.0f64, f64::max);
    let _ = writeln!(s);
    let _ = write!(
        s,
        "  drains            {} drains, {} reached their deadline, {} allocations stopped; longest {}",
        d.len(),
        deadline,
        stopped,
        format_duration_ms((longest * 1000.0) as u64)
    );
    if unfinished > 0 {
        let _ = write!(s, "; {unfinished} not complete");
    }
    let _ = writeln!(s);
    if verbose || d.len() <= SHORT_LIST {
        for d in d {
            let done = d.completed_s.map_or("not complete".to_string(), |t| {
                format!("complete at {}", format_duration_ms((t * 1000.0) as u64))
            });
            let _ = writeln!(
                s,
                "    {:<14} started {}  {}{}  stopped {}",
                d.node,
                format_duration_ms((d.started_s * 1000.0) as u64),
                done,
                if d.deadline_reached {
                    " (deadline)"
                } else {
                    ""
                },
                d.allocs_stopped
            );
        }
    } else {
        let _ = writeln!(s, "    (--verbose lists every drain)");
    }
}

/// One change of a pool's size: nodes added, or nodes drained to be removed.
struct Change {
    at: SimTime,
    pool: String,
    delta: i64,
    by: &'static str,
}

/// Scale-ups, scale-downs and the autoscaler's actions, with the node counts they led to.
fn scaling(s: &mut String, sim: &Simulation, report: &Report, seen: &Observed, verbose: bool) {
    let c = sim.config();
    // Nodes created after the start, grouped by time and pool.
    let mut added: BTreeMap<(SimTime, u32), i64> = BTreeMap::new();
    for n in sim.nodes().iter().filter(|n| n.created_ms > 0) {
        *added.entry((n.created_ms, n.pool)).or_insert(0) += 1;
    }
    let op_at = |at: SimTime, pool: &str, up: bool| {
        c.operations.iter().any(|o| {
            o.at_ms == at
                && match &o.action {
                    Action::ScaleUp { pool: p, .. } => up && p == pool,
                    Action::ScaleDown { pool: p, .. } => !up && p == pool,
                    Action::NodeDrain { .. } => !up,
                    _ => false,
                }
        })
    };
    let mut changes: Vec<Change> = Vec::new();
    for ((at, pool), n) in added {
        let name = c.pools.get(pool as usize).map_or("?", |p| p.name.as_str());
        changes.push(Change {
            at,
            pool: name.to_string(),
            delta: n,
            by: if op_at(at, name, true) {
                "scale_up"
            } else {
                "autoscaler"
            },
        });
    }
    let autoscaled = c.autoscaler.as_ref().map(|a| a.pool.as_str());
    let pool_of: std::collections::HashMap<&str, u32> = sim
        .nodes()
        .iter()
        .map(|n| (n.name.as_str(), n.pool))
        .collect();
    let mut removed: BTreeMap<(SimTime, String), i64> = BTreeMap::new();
    for d in &report.drains {
        let pool = pool_of
            .get(d.node.as_str())
            .and_then(|p| c.pools.get(*p as usize))
            .map_or("?", |p| p.name.as_str());
        let at = (d.started_s * 1000.0).round() as SimTime;
        *removed.entry((at, pool.to_string())).or_insert(0) += 1;
    }
    for ((at, pool), n) in removed {
        let by = if c.operations.iter().any(|o| {
            o.at_ms == at && matches!(&o.action, Action::ScaleDown { pool: p, .. } if *p == pool)
        }) {
            "scale_down"
        } else if op_at(at, &pool, false) {
            // A plain drain: the node stays, so it is no change of size.
            continue;
        } else if autoscaled == Some(pool.as_str()) {
            "autoscaler"
        } else {
            continue;
        };
        changes.push(Change {
            at,
            pool,
            delta: -n,
            by,
        });
    }
    if changes.is_empty() {
        return;
    }
    changes.sort_by(|a, b| a.at.cmp(&b.at).then(b.delta.cmp(&a.delta)));
    let _ = writeln!(s);
    for by in ["scale_up", "scale_down", "autoscaler"] {
        let mine: Vec<&Change> = changes.iter().filter(|c| c.by == by).collect();
        if mine.is_empty() {
            continue;
        }
        let ups: Vec<&&Change> = mine.iter().filter(|c| c.delta > 0).collect();
        let downs: Vec<&&Change> = mine.iter().filter(|c| c.delta < 0).collect();
        let mut parts = Vec::new();
        if !ups.is_empty() {
            parts.push(format!(
                "{} scale-up{} (+{} nodes)",
                ups.len(),
                if ups.len() == 1 { "" } else { "s" },
                ups.iter().map(|c| c.delta).sum::<i64>()
            ));
        }
        if !downs.is_empty() {
            parts.push(format!(
                "{} scale-down{} (-{} nodes)",
                downs.len(),
                if downs.len() == 1 { "" } else { "s" },
                -downs.iter().map(|c| c.delta).sum::<i64>()
            ));
        }
        let _ = writeln!(s, "  {:<17} {}", by.replace('_', "-"), parts.join(", "));
    }
    for (i, p) in c.pools.iter().enumerate() {
        if let Some((lo, hi)) = seen.pool_nodes.get(i) {
            if lo != hi {
                let _ = writeln!(
                    s,
                    "    pool {:<12} between {lo} and {hi} live nodes",
                    p.name
                );
            }
        }
    }
    if verbose || changes.len() <= SHORT_LIST {
        for ch in &changes {
            let _ = writeln!(
                s,
                "    {:>12}  {:<11} {:<12} {:+}",
                format_duration_ms(ch.at),
                ch.by,
                ch.pool,
                ch.delta
            );
        }
    } else {
        let _ = writeln!(s, "    (--verbose lists every action)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_the_peak() {
        assert_eq!(sparkline(&[0, 1, 4, 8]), "·▁▄█");
        assert_eq!(sparkline(&[0, 0]), "··");
        assert_eq!(sparkline(&[]), "");
    }
}
