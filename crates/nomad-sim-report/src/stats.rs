//! t-tests: is the difference between two algorithms' means across seeds larger than the seeds'
//! scatter explains? Paired over seeds when both ran the same seeds (each seed gives every
//! algorithm the same arrivals and run times, so their difference per seed is the signal),
//! else Welch's (unequal variances). Two-sided, p-values from Student's t.

/// The outcome of a test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Welch {
    /// Mean of the first sample minus the mean of the second.
    pub difference: f64,
    /// The two-sided p-value (NaN when untestable: fewer than two values on a side).
    pub p: f64,
}

impl Welch {
    /// True when the difference is significant at `alpha` (e.g. 0.05).
    pub fn significant(&self, alpha: f64) -> bool {
        self.p.is_finite() && self.p < alpha
    }
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var)
}

/// The paired two-sided t-test of `a` against `b`, each a list of (seed, value): over the
/// per-seed differences when both hold the same seeds once each, else Welch's test of the
/// values. The means are those of all the values either way.
pub fn paired(a: &[(u64, f64)], b: &[(u64, f64)]) -> Welch {
    let values = |v: &[(u64, f64)]| v.iter().map(|&(_, x)| x).collect::<Vec<f64>>();
    let by_seed = |v: &[(u64, f64)]| {
        let mut v = v.to_vec();
        v.sort_unstable_by_key(|&(s, _)| s);
        v
    };
    let (sa, sb) = (by_seed(a), by_seed(b));
    let seeds = |v: &[(u64, f64)]| v.iter().map(|&(s, _)| s).collect::<Vec<u64>>();
    let matched =
        sa.len() >= 2 && seeds(&sa) == seeds(&sb) && sa.windows(2).all(|w| w[0].0 != w[1].0);
    if !matched {
        return welch(&values(a), &values(b));
    }
    let d: Vec<f64> = sa.iter().zip(&sb).map(|(x, y)| x.1 - y.1).collect();
    let (ma, _) = mean_var(&values(a));
    let (mb, _) = mean_var(&values(b));
    let difference = ma - mb;
    let (md, vd) = mean_var(&d);
    if vd <= 0.0 {
        // Every seed differs by the same amount.
        return Welch {
            difference,
            p: without_scatter(md, ma, mb),
        };
    }
    let n = d.len() as f64;
    Welch {
        difference,
        p: student_two_sided_p(md / (vd / n).sqrt(), n - 1.0),
    }
}

/// The p-value of a difference seen without scatter between means `ma` and `mb`: a
/// difference is certain, none is none.
fn without_scatter(difference: f64, ma: f64, mb: f64) -> f64 {
    if difference.abs() > 1e-12 * ma.abs().max(mb.abs()).max(1.0) {
        0.0
    } else {
        1.0
    }
}

/// Welch's two-sided t-test of `a` against `b`.
pub fn welch(a: &[f64], b: &[f64]) -> Welch {
    if a.is_empty() || b.is_empty() {
        return Welch {
            difference: f64::NAN,
            p: f64::NAN,
        };
    }
    let (ma, va) = mean_var(a);
    let (mb, vb) = mean_var(b);
    let difference = ma - mb;
    if a.len() < 2 || b.len() < 2 {
        return Welch {
            difference,
            p: f64::NAN,
        };
    }
    let (sa, sb) = (va / a.len() as f64, vb / b.len() as f64);
    let se2 = sa + sb;
    if se2 <= 0.0 {
        // No scatter on either side.
        return Welch {
            difference,
            p: without_scatter(difference, ma, mb),
        };
    }
    let t = difference / se2.sqrt();
    let df = se2 * se2 / (sa * sa / (a.len() as f64 - 1.0) + sb * sb / (b.len() as f64 - 1.0));
    Welch {
        difference,
        p: student_two_sided_p(t, df),
    }
}

/// P(|T| >= |t|) for Student's t with `df` degrees of freedom.
pub fn student_two_sided_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    incomplete_beta(df / 2.0, 0.5, df / (df + t * t)).clamp(0.0, 1.0)
}

fn ln_gamma(x: f64) -> f64 {
    // Lanczos approximation (g = 7, n = 9).
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised incomplete beta function I_x(a, b).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-14 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_match_students_table() {
        // Two-sided 5 % critical values: df 1 -> 12.706, df 10 -> 2.228, df 30 -> 2.042.
        for (t, df) in [(12.706, 1.0), (2.228, 10.0), (2.042, 30.0)] {
            let p = student_two_sided_p(t, df);
            assert!((p - 0.05).abs() < 5e-4, "t {t} df {df}: p {p}");
        }
        assert!((student_two_sided_p(0.0, 5.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn welch_tells_scatter_from_difference() {
        let a = [10.0, 11.0, 9.0, 10.5, 9.5];
        let b = [20.0, 21.0, 19.0, 20.5, 19.5];
        let w = welch(&a, &b);
        assert_eq!(w.difference, -10.0);
        assert!(w.significant(0.05), "{w:?}");
        let c = [10.2, 9.1, 11.3, 9.8, 10.1];
        assert!(!welch(&a, &c).significant(0.05));
        assert_eq!(welch(&[1.0, 1.0], &[1.0, 1.0]).p, 1.0);
        assert_eq!(welch(&[1.0, 1.0], &[2.0, 2.0]).p, 0.0);
        assert!(welch(&[1.0], &[2.0, 3.0]).p.is_nan());
    }

    #[test]
    fn pairing_by_seed_sees_a_steady_difference_under_scatter() {
        // b is a plus 1 on every seed, while the seeds scatter by 10: Welch's test cannot tell,
        // the paired test can; listed in another order, b pairs the same.
        let a = [(1, 10.0), (2, 30.0), (3, 20.0), (4, 40.0), (5, 25.0)];
        let b = [(5, 26.2), (1, 10.8), (2, 31.1), (3, 20.9), (4, 41.0)];
        let values = |v: &[(u64, f64)]| v.iter().map(|p| p.1).collect::<Vec<f64>>();
        assert!(!welch(&values(&a), &values(&b)).significant(0.05));
        let t = paired(&a, &b);
        assert!(t.significant(0.05), "{t:?}");
        assert!((t.difference + 1.0).abs() < 1e-9, "{t:?}");
        // Differences that change sign from seed to seed are not significant.
        let c = [(1, 11.0), (2, 29.0), (3, 21.0), (4, 39.0), (5, 25.5)];
        assert!(!paired(&a, &c).significant(0.05));
        // Seeds that do not match fall back to Welch's test.
        let other = [(6, 11.0), (7, 31.0), (8, 21.0), (9, 41.0), (10, 26.0)];
        assert_eq!(paired(&a, &other), welch(&values(&a), &values(&other)));
        // A constant shift is certain; no shift is none.
        let shifted: Vec<(u64, f64)> = a.iter().map(|&(s, x)| (s, x + 2.0)).collect();
        assert_eq!(paired(&a, &shifted).p, 0.0);
        assert_eq!(paired(&a, &a).p, 1.0);
        assert!(paired(&a[..1], &a[..1]).p.is_nan());
    }
}
