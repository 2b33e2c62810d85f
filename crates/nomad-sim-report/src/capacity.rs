//! Capacity search: the smallest node count of a pool that keeps a target across seeds.

use std::collections::BTreeMap;
use std::fmt::Write;

use nomad_sim_core::config::SimConfig;

use crate::svg::{line_chart, Series};
use crate::sweep::{run_all, RunSpec};

/// What to search for.
#[derive(Clone, Debug)]
pub struct Query {
    /// The scenario.
    pub config: SimConfig,
    /// The pool to size.
    pub pool: String,
    /// The figure to bound (a key of `sweep::METRICS`, e.g. `p95_pending_s`).
    pub metric: String,
    /// The bound: every seed must have `metric <= max_value`.
    pub max_value: f64,
    /// Seeds per node count.
    pub seeds: u32,
    /// Smallest count to try.
    pub min: u32,
    /// Largest count to try.
    pub max: u32,
    /// Algorithm.
    pub algorithm: String,
    /// Worker threads.
    pub threads: usize,
}

/// The figures at one node count, across seeds.
#[derive(Clone, Debug)]
pub struct Point {
    /// Nodes in the pool.
    pub nodes: u32,
    /// Means of p50, p95, p99 pending.
    pub pending_means: [f64; 3],
    /// The bounded metric, worst seed.
    pub worst: f64,
    /// True when every seed met the bound.
    pub ok: bool,
    /// Mean node-hours.
    pub node_hours: f64,
}

/// The answer and the curve.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The smallest count that met the target, if any did.
    pub nodes: Option<u32>,
    /// Every count evaluated, ascending.
    pub curve: Vec<Point>,
}

fn evaluate(q: &Query, nodes: u32) -> Result<Point, String> {
    let mut config = q.config.clone();
    let pool = config
        .pools
        .iter_mut()
        .find(|p| p.name == q.pool)
        .ok_or_else(|| format!("no pool {:?} in the scenario", q.pool))?;
    pool.count = nodes;
    let specs: Vec<RunSpec> = (0..q.seeds)
        .map(|k| RunSpec {
            index: k as usize,
            scenario: 0,
            algorithm: q.algorithm.clone(),
            seed: q.config.seed + u64::from(k),
        })
        .collect();
    let runs = run_all(&specs, &[config], q.threads, false)?;
    let mean = |name: &str| runs.iter().map(|r| r.metric(name)).sum::<f64>() / runs.len() as f64;
    let worst = runs
        .iter()
        .map(|r| r.metric(&q.metric))
        .fold(f64::NEG_INFINITY, f64::max);
    Ok(Point {
        nodes,
        pending_means: [
            mean("p50_pending_s"),
            mean("p95_pending_s"),
            mean("p99_pending_s"),
        ],
        worst,
        ok: worst <= q.max_value,
        node_hours: mean("node_hours"),
    })
}

/// Binary search for the smallest count meeting the bound (assuming more nodes never hurt),
/// then a curve over evenly spaced counts.
pub fn search(q: &Query) -> Result<Answer, String> {
    let mut seen: BTreeMap<u32, Point> = BTreeMap::new();
    let eval = |n: u32, seen: &mut BTreeMap<u32, Point>| -> Result<bool, String> {
        if let Some(p) = seen.get(&n) {
            return Ok(p.ok);
        }
        let p = evaluate(q, n)?;
        let ok = p.ok;
        seen.insert(n, p);
        Ok(ok)
    };
    let answer = if eval(q.max, &mut seen)? {
        let (mut lo, mut hi) = (q.min, q.max);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if eval(mid, &mut seen)? {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Some(lo)
    } else {
        None
    };
    let steps = 8u32.min(q.max - q.min);
    for i in 0..=steps {
        let n = q.min + (q.max - q.min) * i / steps.max(1);
        eval(n, &mut seen)?;
    }
    Ok(Answer {
        nodes: answer,
        curve: seen.into_values().collect(),
    })
}

/// The curve as a Markdown table, with the answer.
pub fn markdown(q: &Query, a: &Answer) -> String {
    let mut s = String::new();
    let _ = match a.nodes {
        Some(n) => writeln!(
            s,
            "Smallest `{}` pool meeting {} <= {} on all {} seeds: **{} nodes** ({}).\n",
            q.pool, q.metric, q.max_value, q.seeds, n, q.algorithm
        ),
        None => writeln!(
            s,
            "No `{}` pool size up to {} meets {} <= {} on all {} seeds.\n",
            q.pool, q.max, q.metric, q.max_value, q.seeds
        ),
    };
    let _ = writeln!(s, "| nodes | p50 pending s | p95 pending s | p99 pending s | worst {} | node-hours | meets target |", q.metric);
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|:---:|");
    for p in &a.curve {
        let _ = writeln!(
            s,
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            p.nodes,
            p.pending_means[0],
            p.pending_means[1],
            p.pending_means[2],
            p.worst,
            p.node_hours,
            if p.ok { "yes" } else { "no" }
        );
    }
    s
}

/// The curve as a self-contained HTML page with a chart.
pub fn html(q: &Query, a: &Answer) -> String {
    let names = ["p50", "p95", "p99"];
    let mut series: Vec<Series> = (0..3)
        .map(|i| Series {
            name: format!("{} pending (mean)", names[i]),
            points: a
                .curve
                .iter()
                .map(|p| (f64::from(p.nodes), p.pending_means[i]))
                .collect(),
        })
        .collect();
    series.push(Series {
        name: format!("target {}", q.max_value),
        points: vec![
            (f64::from(q.min), q.max_value),
            (f64::from(q.max), q.max_value),
        ],
    });
    let table = markdown(q, a)
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            format!("<tr><td>{}</td></tr>", cells.join("</td><td>"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let headline = markdown(q, a)
        .lines()
        .next()
        .unwrap_or("")
        .replace("**", "");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Capacity: {pool}</title>\
         <style>body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 900px; }} \
         td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }} table {{ border-collapse: collapse; }}</style>\
         </head><body><h1>Capacity search: {pool}</h1><p>{headline}</p>\n{chart}<table>\n{table}\n</table></body></html>\n",
        pool = q.pool,
        chart = line_chart("Pending time by pool size", "nodes", "pending (s)", &series),
    )
}
