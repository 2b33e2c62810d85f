//! The human summary `nomad-sim run` prints.

use std::fmt::Write;

use nomad_sim_core::time::format_duration_ms;
use nomad_sim_core::{Report, Simulation};

/// Renders the summary of a finished run.
pub fn render(sim: &Simulation, report: &Report, description: Option<&str>) -> String {
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
        sim.jobs().len()
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
    if !report.drains.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "  drains");
        for d in &report.drains {
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
    }
    s
}
