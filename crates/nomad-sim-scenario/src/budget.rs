//! How many allocations a scenario is expected to create, so that a run far longer than its
//! limit is refused when the file is loaded rather than stopped halfway through.

use nomad_sim_core::config::{
    Arrivals, CountDist, SimConfig, WorkloadConfig, DEFAULT_START_UNIX_MS,
};
use nomad_sim_core::time::HOUR_MS;

/// The default of `limits.max_allocations`: twenty million, a bound on a run's length (tens
/// of seconds). Memory does not grow with it: the core collects terminal objects as Nomad does.
pub const DEFAULT_MAX_ALLOCATIONS: u64 = 20_000_000;

/// The most `limits.max_allocations` may be raised to.
pub const MAX_ALLOCATIONS_CAP: u64 = 1_000_000_000;

/// The expected number of arrivals of a workload before the horizon.
pub fn expected_arrivals(arrivals: &Arrivals, horizon_ms: u64) -> f64 {
    let hours = horizon_ms as f64 / HOUR_MS as f64;
    match arrivals {
        Arrivals::Poisson { rate_per_hour } => rate_per_hour * hours,
        Arrivals::At(times) => times.iter().filter(|t| **t < horizon_ms).count() as f64,
        Arrivals::Every {
            interval_ms,
            start_ms,
        } => {
            if *start_ms >= horizon_ms {
                0.0
            } else {
                ((horizon_ms - start_ms) as f64 / (*interval_ms).max(1) as f64).ceil()
            }
        }
        Arrivals::Diurnal { rates_per_hour } => {
            let n = rates_per_hour.len();
            if n == 0 {
                return 0.0;
            }
            let cycle: f64 = rates_per_hour.iter().sum();
            let cycles = (hours / n as f64).floor();
            let rest = hours - cycles * n as f64;
            let mut total = cycles * cycle;
            let whole = rest.floor() as usize;
            total += rates_per_hour.iter().take(whole.min(n)).sum::<f64>();
            if whole < n {
                total += (rest - whole as f64) * rates_per_hour[whole];
            }
            total
        }
        Arrivals::Trace(rows) => rows.iter().filter(|r| r.submit_ms < horizon_ms).count() as f64,
        Arrivals::Dispatch(inner) => expected_arrivals(inner, horizon_ms),
        Arrivals::Periodic(spec) => {
            // Launches counted over the first week (at most), scaled to the horizon.
            let window_ms = horizon_ms.min(7 * 24 * HOUR_MS);
            let epoch_s = (DEFAULT_START_UNIX_MS / 1000) as i64;
            let end_s = epoch_s + (window_ms / 1000) as i64;
            let mut n = 0u64;
            let mut t = epoch_s;
            while let Some(next) = spec.next_after_s(t) {
                if next >= end_s {
                    break;
                }
                n += 1;
                t = next;
            }
            if window_ms == 0 {
                0.0
            } else {
                n as f64 * horizon_ms as f64 / window_ms as f64
            }
        }
    }
}

/// The mean of a count distribution.
fn mean_count(c: &CountDist) -> f64 {
    match c {
        CountDist::Fixed(n) => f64::from(*n),
        CountDist::Uniform { min, max } => (f64::from(*min) + f64::from(*max)) / 2.0,
        CountDist::Weighted(v) => {
            let total: f64 = v.iter().map(|(_, w)| w).sum();
            if total > 0.0 {
                v.iter().map(|(n, w)| f64::from(*n) * w).sum::<f64>() / total
            } else {
                0.0
            }
        }
    }
}

/// The expected allocations of one workload: arrivals × parallelism × count (× nodes for a
/// system job). Reschedules and replacements come on top.
pub fn expected_allocations(w: &WorkloadConfig, horizon_ms: u64, max_nodes: u64) -> f64 {
    let per_job = if w.job_type.is_per_node() {
        f64::from(w.count) * max_nodes as f64
    } else {
        f64::from(w.count)
    };
    let jobs = match w.arrivals.timing() {
        Arrivals::Trace(rows) => rows
            .iter()
            .filter(|r| r.submit_ms < horizon_ms)
            .map(|r| f64::from(r.parallelism))
            .sum(),
        a => expected_arrivals(a, horizon_ms) * mean_count(&w.parallelism),
    };
    jobs * per_job
}

/// The most nodes a run can have at once: the pools, every scale-up, the autoscaler's max.
pub fn max_nodes(config: &SimConfig) -> u64 {
    let pools: u64 = config.pools.iter().map(|p| u64::from(p.count)).sum();
    let ups: u64 = config
        .operations
        .iter()
        .map(|o| match &o.action {
            nomad_sim_core::config::Action::ScaleUp { count, .. } => u64::from(*count),
            _ => 0,
        })
        .sum();
    let autoscaler = config.autoscaler.as_ref().map_or(0, |a| u64::from(a.max));
    pools + ups + autoscaler
}

/// A count with thousands separators (`2,000,000`), as the messages print numbers.
pub fn thousands(n: f64) -> String {
    if !n.is_finite() || n >= 1e18 {
        return format!("{n:.3e}");
    }
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diurnal_arrivals_integrate_the_hours_inside_the_horizon() {
        let mut rates = vec![0.0; 24];
        rates[23] = 1e9;
        let a = Arrivals::Diurnal {
            rates_per_hour: rates,
        };
        assert_eq!(expected_arrivals(&a, HOUR_MS), 0.0);
        assert_eq!(expected_arrivals(&a, 24 * HOUR_MS), 1e9);
        assert_eq!(expected_arrivals(&a, 47 * HOUR_MS + HOUR_MS / 2), 1.5e9);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(2_000_000.0), "2,000,000");
        assert_eq!(thousands(999.0), "999");
    }
}
