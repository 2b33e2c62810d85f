//! Workload sampling: arrival processes, run-time and parallelism distributions, CircleCI classes.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::config::{Arrivals, CountDist, DurationDist};
use crate::resources::Resources;
use crate::time::{SimTime, HOUR_MS};

/// CircleCI's Docker resource classes, at 1024 MHz per vCPU and 1024 MB per GB.
pub const CIRCLECI_RESOURCE_CLASSES: [(&str, u64, u64); 7] = [
    ("small", 1, 2),
    ("medium", 2, 4),
    ("medium+", 3, 6),
    ("large", 4, 8),
    ("xlarge", 8, 16),
    ("2xlarge", 16, 32),
    ("2xlarge+", 20, 40),
];

/// The built-in resource classes as asks (no disk).
pub fn builtin_resource_classes() -> Vec<(String, Resources)> {
    CIRCLECI_RESOURCE_CLASSES
        .iter()
        .map(|&(name, vcpu, gb)| (name.to_string(), Resources::new(vcpu * 1024, gb * 1024, 0)))
        .collect()
}

/// A uniform draw in (0, 1], safe for `ln`.
fn unit_open(rng: &mut ChaCha8Rng) -> f64 {
    1.0 - rng.gen::<f64>()
}

/// An exponential draw with the given mean.
pub fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    -mean * unit_open(rng).ln()
}

/// A standard normal draw (Box–Muller, one value per call for simple stream accounting).
pub fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = unit_open(rng);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl DurationDist {
    /// Draws one run time in milliseconds.
    pub fn sample_ms(&self, rng: &mut ChaCha8Rng) -> SimTime {
        let ms = match self {
            DurationDist::Constant(ms) => return *ms,
            DurationDist::Exponential { mean_ms } => exponential(rng, *mean_ms),
            DurationDist::Lognormal { median_ms, sigma } => {
                median_ms * (sigma * standard_normal(rng)).exp()
            }
            DurationDist::Uniform { min_ms, max_ms } => {
                return if max_ms > min_ms {
                    rng.gen_range(*min_ms..=*max_ms)
                } else {
                    *min_ms
                }
            }
            DurationDist::Empirical(values) => {
                return if values.is_empty() {
                    0
                } else {
                    values[rng.gen_range(0..values.len())]
                }
            }
        };
        ms.round().clamp(0.0, 1e15) as SimTime
    }

    /// The mean run time in milliseconds.
    pub fn mean_ms(&self) -> f64 {
        match self {
            DurationDist::Constant(ms) => *ms as f64,
            DurationDist::Exponential { mean_ms } => *mean_ms,
            DurationDist::Lognormal { median_ms, sigma } => median_ms * (sigma * sigma / 2.0).exp(),
            DurationDist::Uniform { min_ms, max_ms } => (*min_ms as f64 + *max_ms as f64) / 2.0,
            DurationDist::Empirical(v) => {
                if v.is_empty() {
                    0.0
                } else {
                    v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
                }
            }
        }
    }
}

impl CountDist {
    /// Draws one count (at least 1).
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> u32 {
        let n = match self {
            CountDist::Fixed(n) => *n,
            CountDist::Uniform { min, max } => {
                if max > min {
                    rng.gen_range(*min..=*max)
                } else {
                    *min
                }
            }
            CountDist::Weighted(options) => {
                let total: f64 = options.iter().map(|(_, w)| w).sum();
                let mut pick = rng.gen::<f64>() * total;
                let mut chosen = options.last().map_or(1, |(n, _)| *n);
                for (n, w) in options {
                    if pick < *w {
                        chosen = *n;
                        break;
                    }
                    pick -= w;
                }
                chosen
            }
        };
        n.max(1)
    }
}

/// The state of one workload's arrival process.
#[derive(Clone, Debug)]
pub struct ArrivalCursor {
    /// How many arrivals have been produced.
    pub produced: u64,
    /// The time of the last arrival (Poisson and diurnal processes run from it).
    pub last_ms: SimTime,
    /// Sub-millisecond remainder carried between Poisson gaps, so rates are not rounded away.
    carry: f64,
    /// The wall-clock time of simulated time zero (periodic specs read the wall clock).
    pub epoch_unix_ms: u64,
}

impl ArrivalCursor {
    /// A cursor at the start of the run.
    pub fn new() -> Self {
        ArrivalCursor {
            produced: 0,
            last_ms: 0,
            carry: 0.0,
            epoch_unix_ms: crate::config::DEFAULT_START_UNIX_MS,
        }
    }
}

impl Default for ArrivalCursor {
    fn default() -> Self {
        Self::new()
    }
}

impl Arrivals {
    /// How many listed arrivals (`at` times, trace rows) fall at or after `horizon_ms`, and
    /// so are never submitted, and how many are listed in all.
    pub fn listed_past(&self, horizon_ms: SimTime) -> (usize, usize) {
        match self {
            Arrivals::At(times) => (
                times.iter().filter(|&&t| t >= horizon_ms).count(),
                times.len(),
            ),
            Arrivals::Trace(rows) => (
                rows.iter().filter(|r| r.submit_ms >= horizon_ms).count(),
                rows.len(),
            ),
            Arrivals::Dispatch(inner) => inner.listed_past(horizon_ms),
            _ => (0, 0),
        }
    }

    /// The time of the next arrival, or `None` when the process has ended or passed `horizon_ms`.
    pub fn next_ms(
        &self,
        cursor: &mut ArrivalCursor,
        rng: &mut ChaCha8Rng,
        horizon_ms: SimTime,
    ) -> Option<SimTime> {
        if let Arrivals::Dispatch(inner) = self {
            return inner.next_ms(cursor, rng, horizon_ms);
        }
        let t = match self {
            Arrivals::Poisson { rate_per_hour } => {
                if *rate_per_hour <= 0.0 {
                    return None;
                }
                let gap = exponential(rng, HOUR_MS as f64 / rate_per_hour) + cursor.carry;
                let whole = gap.floor();
                cursor.carry = gap - whole;
                cursor.last_ms.saturating_add(whole as u64)
            }
            Arrivals::At(times) => *times.get(cursor.produced as usize)?,
            Arrivals::Every {
                interval_ms,
                start_ms,
            } => start_ms.saturating_add(interval_ms.saturating_mul(cursor.produced)),
            Arrivals::Diurnal { rates_per_hour } => {
                let max_rate = rates_per_hour.iter().cloned().fold(0.0, f64::max);
                if max_rate <= 0.0 || rates_per_hour.is_empty() {
                    return None;
                }
                // Inversion hour by hour: one exponential draw of unit work, spent at each
                // hour's own rate, so quiet hours cost nothing and a peak costs no extra draws.
                let mut t = cursor.last_ms as f64 + cursor.carry;
                let mut work = exponential(rng, 1.0);
                loop {
                    if t >= horizon_ms as f64 {
                        return None;
                    }
                    let hour_index = (t / HOUR_MS as f64).floor();
                    let hour = (hour_index as u64 % rates_per_hour.len() as u64) as usize;
                    let hour_end = (hour_index + 1.0) * HOUR_MS as f64;
                    let rate_per_ms = rates_per_hour[hour] / HOUR_MS as f64;
                    let left_ms = hour_end - t;
                    if rate_per_ms * left_ms > work {
                        t += work / rate_per_ms;
                        break;
                    }
                    work -= rate_per_ms * left_ms;
                    t = hour_end;
                }
                let whole = t.floor();
                cursor.carry = t - whole;
                whole as u64
            }
            Arrivals::Trace(rows) => rows.get(cursor.produced as usize)?.submit_ms,
            Arrivals::Periodic(spec) => {
                // The dispatcher's next launch is the first match strictly after the last one
                // (or after the registration at time zero), in whole wall-clock seconds.
                let epoch = cursor.epoch_unix_ms;
                let after_s = (epoch + cursor.last_ms) / 1000;
                let next_s = spec.next_after_s(after_s as i64)?;
                (next_s as u64).checked_mul(1000)?.checked_sub(epoch)?
            }
            Arrivals::Dispatch(_) => unreachable!("dispatches are timed by their inner process"),
        };
        if t >= horizon_ms {
            return None;
        }
        cursor.produced += 1;
        cursor.last_ms = t;
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(7)
    }

    #[test]
    fn classes_follow_circleci() {
        let classes = builtin_resource_classes();
        let medium = classes.iter().find(|(n, _)| n == "medium").unwrap().1;
        assert_eq!(medium, Resources::new(2048, 4096, 0));
        let biggest = classes.iter().find(|(n, _)| n == "2xlarge+").unwrap().1;
        assert_eq!(biggest, Resources::new(20 * 1024, 40 * 1024, 0));
    }

    #[test]
    fn poisson_rate_is_respected() {
        let arrivals = Arrivals::Poisson {
            rate_per_hour: 300.0,
        };
        let mut cursor = ArrivalCursor::new();
        let mut r = rng();
        let horizon = 200 * HOUR_MS;
        let mut n = 0u64;
        while arrivals.next_ms(&mut cursor, &mut r, horizon).is_some() {
            n += 1;
        }
        // 60,000 expected; the standard deviation is about 245.
        assert!((n as f64 - 60_000.0).abs() < 1_000.0, "{n}");
    }

    #[test]
    fn diurnal_follows_the_hourly_profile() {
        let mut rates = vec![0.0; 24];
        rates[9] = 600.0;
        rates[10] = 60.0;
        let arrivals = Arrivals::Diurnal {
            rates_per_hour: rates,
        };
        let mut cursor = ArrivalCursor::new();
        let mut r = rng();
        let mut by_hour = [0u32; 24];
        while let Some(t) = arrivals.next_ms(&mut cursor, &mut r, 10 * 24 * HOUR_MS) {
            by_hour[((t / HOUR_MS) % 24) as usize] += 1;
        }
        assert_eq!(by_hour.iter().sum::<u32>(), by_hour[9] + by_hour[10]);
        assert!((by_hour[9] as f64 - 6000.0).abs() < 400.0, "{by_hour:?}");
        assert!((by_hour[10] as f64 - 600.0).abs() < 120.0, "{by_hour:?}");
    }

    #[test]
    fn listed_arrivals_past_the_horizon_are_counted() {
        let at = Arrivals::At(vec![0, 59_999, 60_000, 90_000]);
        assert_eq!(at.listed_past(60_000), (2, 4));
        assert_eq!(at.listed_past(100_000), (0, 4));
        let row = |submit_ms| crate::config::TraceArrival {
            submit_ms,
            parallelism: 1,
            cpu_mhz: 100,
            memory_mb: 100,
            duration_ms: 1,
        };
        let trace = Arrivals::Dispatch(Box::new(Arrivals::Trace(vec![row(0), row(7_200_000)])));
        assert_eq!(trace.listed_past(HOUR_MS), (1, 2));
        let poisson = Arrivals::Poisson { rate_per_hour: 5.0 };
        assert_eq!(poisson.listed_past(0), (0, 0));
    }

    #[test]
    fn fixed_schedules_stop_at_horizon() {
        let every = Arrivals::Every {
            interval_ms: 1000,
            start_ms: 500,
        };
        let mut cursor = ArrivalCursor::new();
        let mut r = rng();
        let times: Vec<_> =
            std::iter::from_fn(|| every.next_ms(&mut cursor, &mut r, 3000)).collect();
        assert_eq!(times, vec![500, 1500, 2500]);
        let at = Arrivals::At(vec![10, 20, 5000]);
        let mut cursor = ArrivalCursor::new();
        let times: Vec<_> = std::iter::from_fn(|| at.next_ms(&mut cursor, &mut r, 3000)).collect();
        assert_eq!(times, vec![10, 20]);
    }

    #[test]
    fn duration_means_match() {
        let mut r = rng();
        for dist in [
            DurationDist::Exponential { mean_ms: 300_000.0 },
            DurationDist::Lognormal {
                median_ms: 600_000.0,
                sigma: 0.8,
            },
            DurationDist::Uniform {
                min_ms: 1000,
                max_ms: 3000,
            },
        ] {
            let n = 100_000;
            let mean = (0..n).map(|_| dist.sample_ms(&mut r) as f64).sum::<f64>() / n as f64;
            let want = dist.mean_ms();
            assert!(
                (mean - want).abs() / want < 0.02,
                "{dist:?}: {mean} vs {want}"
            );
        }
    }

    #[test]
    fn weighted_counts_follow_weights() {
        let dist = CountDist::Weighted(vec![(1, 3.0), (4, 1.0)]);
        let mut r = rng();
        let fours = (0..40_000).filter(|_| dist.sample(&mut r) == 4).count();
        assert!((fours as f64 - 10_000.0).abs() < 400.0, "{fours}");
    }
}
