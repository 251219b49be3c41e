//! Distribution tails the detectors turn deviations and counts into: the
//! standard normal's, and the Poisson's through `ln Γ`. Pure functions, no
//! libm.

/// The standard normal's upper tail, `P(Z > z)`, accurate to ~1e-7
/// (Abramowitz–Stegun 7.1.26 on erfc), without libm.
pub fn normal_tail(z: f64) -> f64 {
    if z.is_nan() {
        return 0.5;
    }
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * erfc
    } else {
        1.0 - 0.5 * erfc
    }
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, nine terms; reflection below 1/2).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
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
    use std::f64::consts::PI;
    if x < 0.5 {
        return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let a = G[1..]
        .iter()
        .enumerate()
        .fold(G[0], |a, (i, g)| a + g / (x + (i + 1) as f64));
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// `P(X ≥ k)` for `X ~ Poisson(λ)`, continued to real `k` as the regularised
/// lower incomplete gamma `P(k, λ)` (series below `k + 1`, Lentz's continued
/// fraction for the complement above): 1 for `k ≤ 0`, 0 for `λ ≤ 0 < k`.
pub fn poisson_tail(k: f64, lambda: f64) -> f64 {
    const EPS: f64 = 1e-15;
    const TINY: f64 = 1e-300;
    if k.is_nan() || k <= 0.0 {
        return 1.0;
    }
    if lambda.is_nan() || lambda <= 0.0 {
        return 0.0;
    }
    if lambda == f64::INFINITY {
        return 1.0;
    }
    if k == f64::INFINITY {
        return 0.0;
    }
    let front = (k * lambda.ln() - lambda - ln_gamma(k)).exp();
    if lambda < k + 1.0 {
        let (mut term, mut sum) = (1.0 / k, 1.0 / k);
        for n in 1..500 {
            term *= lambda / (k + f64::from(n));
            sum += term;
            if term < sum * EPS {
                break;
            }
        }
        return (front * sum).clamp(0.0, 1.0);
    }
    let mut b = lambda + 1.0 - k;
    let (mut c, mut d) = (1.0 / TINY, 1.0 / b);
    let mut h = d;
    for i in 1..500 {
        let i = f64::from(i);
        let an = -i * (i - k);
        b += 2.0;
        d = an * d + b;
        d = if d.abs() < TINY { TINY } else { d };
        c = b + an / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < EPS {
            break;
        }
    }
    (1.0 - front * h).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_tail_known_points() {
        assert!((normal_tail(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_tail(1.959_964) - 0.025).abs() < 1e-6);
        assert!((normal_tail(-3.0) - 0.998_650_1).abs() < 1e-6);
        assert!(normal_tail(40.0) < 1e-300 + 1e-12);
    }

    #[test]
    fn ln_gamma_known_points() {
        for (x, want) in [
            (1.0, 0.0),
            (2.0, 0.0),
            (5.0, 24f64.ln()),
            (0.5, std::f64::consts::PI.sqrt().ln()),
            (0.1, 2.252_712_651_734_206),
            (30.5, 72.953_471_184_169_4),
        ] {
            assert!((ln_gamma(x) - want).abs() < 1e-10, "ln_gamma({x})");
        }
    }

    #[test]
    fn poisson_tail_matches_the_pmf_at_whole_counts() {
        for lambda in [0.01f64, 0.3, 1.0, 4.5, 20.0, 80.0] {
            let mut pmf = (-lambda).exp();
            let mut below: f64 = 0.0;
            for k in 0..40u32 {
                let want = (1.0 - below).max(0.0);
                let got = poisson_tail(f64::from(k), lambda);
                let tol = 1e-9 + 1e-7 * want;
                assert!(
                    (got - want).abs() < tol,
                    "P(X >= {k} | {lambda}) = {got}, want {want}"
                );
                below += pmf;
                pmf *= lambda / f64::from(k + 1);
            }
        }
        assert!((poisson_tail(3.0, 0.01) - 1.654_216_528e-7).abs() < 1e-14);
    }

    #[test]
    fn poisson_tail_is_monotone_and_bounded() {
        let mut prev = 1.0;
        for i in 1..400 {
            let t = poisson_tail(f64::from(i) * 0.05, 2.0);
            assert!(
                (0.0..=prev).contains(&t),
                "k {}: {t} after {prev}",
                f64::from(i) * 0.05
            );
            prev = t;
        }
        assert_eq!(poisson_tail(0.0, 2.0), 1.0);
        assert_eq!(poisson_tail(f64::NAN, 2.0), 1.0);
        assert_eq!(poisson_tail(1.0, 0.0), 0.0);
        assert_eq!(poisson_tail(1.0, f64::INFINITY), 1.0);
        assert_eq!(poisson_tail(f64::INFINITY, 2.0), 0.0);
    }
}
