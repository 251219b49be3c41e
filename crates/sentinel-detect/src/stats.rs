//! Streaming statistics: O(1) per sample, no allocation after construction.

use sentinel_model::WindowSummary;
use serde::{Deserialize, Serialize};

/// Mean and variance of the last `cap` readings (a ring buffer with a
/// windowed Welford update, recomputed exactly once per lap so rounding
/// error never accumulates, and when a reading that held nearly all of the
/// spread leaves, so a flat window is exactly flat).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    buf: Box<[f64]>,
    head: u32,
    len: u32,
    mean: f64,
    m2: f64,
    /// `1 / capacity`: a full window divides by multiplying.
    inv_cap: f64,
}

impl Window {
    /// A window of `cap` readings (at least 1, at most `u32::MAX`).
    pub fn new(cap: usize) -> Self {
        let cap = cap.clamp(1, u32::MAX as usize);
        Self {
            buf: vec![0.0; cap].into_boxed_slice(),
            head: 0,
            len: 0,
            mean: 0.0,
            m2: 0.0,
            inv_cap: 1.0 / cap as f64,
        }
    }

    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len() == self.buf.len()
    }

    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Population variance (never negative).
    #[inline]
    pub fn variance(&self) -> f64 {
        // A full window of one reading has `m2` exactly 0 (recomputed on
        // every push), so the full case needs no `len >= 2`.
        if self.is_full() {
            (self.m2 * self.inv_cap).max(0.0)
        } else if self.len < 2 {
            0.0
        } else {
            (self.m2 / self.len as f64).max(0.0)
        }
    }

    pub fn std(&self) -> f64 {
        self.variance().sqrt()
    }

    /// The oldest reading, if the window is full (the one `push` drops next).
    pub fn oldest(&self) -> Option<f64> {
        self.is_full().then(|| self.buf[self.head as usize])
    }

    #[inline]
    pub fn push(&mut self, x: f64) {
        let cap = self.buf.len();
        let (head, len) = (self.head as usize, self.len as usize);
        if len < cap {
            // Not yet full: nothing has been dropped, so `head` is still 0.
            self.buf[len] = x;
            self.len += 1;
            let d = x - self.mean;
            self.mean += d / self.len as f64;
            self.m2 += d * (x - self.mean);
        } else {
            let old = self.buf[head];
            self.buf[head] = x;
            let next = if head + 1 == cap { 0 } else { head + 1 };
            self.head = next as u32;
            let mean = self.mean + (x - old) * self.inv_cap;
            let before = self.m2;
            self.m2 += (x - old) * (x - mean + old - self.mean);
            self.mean = mean;
            // At a lap's end; and when the reading that left held nearly
            // all of the spread (a spike leaving a flat line), since what
            // the running sums keep is then mostly rounding: a flat window
            // a hair off its readings' value with no spread, against which
            // the next reading on the line would be infinitely far. Real
            // readings do that rarely (it takes a reading far from all the
            // others to leave), so it stays O(1) amortised.
            if next == 0 || (self.m2 <= before * 1e-9 && x != old) {
                self.recompute();
            }
        }
    }

    /// Exact mean and squared deviations, summed in buffer order (oldest
    /// first when `head` has come round to 0). Readings that are all equal
    /// give exactly that mean and a spread of exactly 0.
    #[cold]
    #[inline(never)]
    fn recompute(&mut self) {
        let v = &self.buf[..self.len()];
        if let Some(&first) = v.first()
            && v.iter().all(|&x| x == first)
        {
            (self.mean, self.m2) = (first, 0.0);
            return;
        }
        let mean = v.iter().sum::<f64>() / self.len as f64;
        self.m2 = v.iter().map(|x| (x - mean) * (x - mean)).sum();
        self.mean = mean;
    }

    /// Readings oldest first.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let (newer, older) = self.buf[..self.len()].split_at(self.head as usize);
        older.iter().chain(newer).copied()
    }

    pub fn summary(&self) -> WindowSummary {
        summarize(self.iter())
    }
}

/// Exponentially weighted mean and variance.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ewma {
    pub alpha: f64,
    pub mean: f64,
    pub var: f64,
    pub count: u64,
}

impl Ewma {
    pub fn new(alpha: f64) -> Self {
        Self {
            alpha: alpha.clamp(1e-6, 1.0),
            mean: 0.0,
            var: 0.0,
            count: 0,
        }
    }

    pub fn push(&mut self, x: f64) {
        if self.count == 0 {
            self.mean = x;
            self.var = 0.0;
        } else {
            let d = x - self.mean;
            let incr = self.alpha * d;
            self.mean += incr;
            self.var = (1.0 - self.alpha) * (self.var + d * incr);
        }
        self.count += 1;
    }

    pub fn std(&self) -> f64 {
        self.var.max(0.0).sqrt()
    }
}

/// Summarise readings for a trace (non-finite ones are skipped). Sorting
/// makes this O(n log n): it runs when a trace is written, not per sample.
pub fn summarize(values: impl Iterator<Item = f64>) -> WindowSummary {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return WindowSummary::default();
    }
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let median = median_sorted(&v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
    dev.sort_by(f64::total_cmp);
    WindowSummary {
        count: v.len(),
        mean,
        std: var.sqrt(),
        median,
        mad: median_sorted(&dev),
        min: v[0],
        max: v[v.len() - 1],
    }
}

/// Median of sorted, non-empty values.
pub fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

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
    fn window_matches_a_direct_computation_through_many_laps() {
        let mut w = Window::new(7);
        let xs: Vec<f64> = (0..100)
            .map(|i| ((i * 37) % 11) as f64 * 1e6 + 0.5)
            .collect();
        for (i, &x) in xs.iter().enumerate() {
            w.push(x);
            let tail = &xs[i.saturating_sub(6)..=i];
            let s = summarize(tail.iter().copied());
            assert!((w.mean() - s.mean).abs() < 1e-6, "mean at {i}");
            assert!(
                (w.std() - s.std).abs() < 1e-3,
                "std at {i}: {} vs {}",
                w.std(),
                s.std
            );
        }
    }

    #[test]
    fn a_window_a_spike_has_left_is_exactly_flat() {
        for level in [0.0, 0.1, 87.97, -3.3, 1e-200, 1e12] {
            for spike in [3.0, 0.066, 12_345.678, 1.9237e8, -1e5] {
                for phase in 0..10 {
                    let mut w = Window::new(10);
                    for _ in 0..10 + phase {
                        w.push(level);
                    }
                    w.push(spike);
                    for i in 0..25 {
                        w.push(level);
                        if i >= 9 {
                            assert_eq!(w.mean(), level, "{level} after {spike}, phase {phase}");
                            assert_eq!(w.variance(), 0.0, "{level} after {spike}, phase {phase}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_window_of_one_has_no_spread() {
        let mut w = Window::new(1);
        for x in [3.0, -1e150, 0.1, 1e150, 0.3, 7.0] {
            w.push(x);
            assert_eq!(w.mean(), x);
            assert_eq!(w.variance().to_bits(), 0.0f64.to_bits());
        }
    }

    #[test]
    fn summary_of_known_values() {
        let s = summarize([1.0, 2.0, 3.0, 4.0, 100.0, f64::NAN].into_iter());
        assert_eq!(s.count, 5);
        assert_eq!(s.median, 3.0);
        assert_eq!(s.mad, 1.0);
        assert_eq!((s.min, s.max), (1.0, 100.0));
        assert_eq!(summarize(std::iter::empty()).count, 0);
    }

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

    #[test]
    fn ewma_tracks_a_step() {
        let mut e = Ewma::new(0.5);
        for _ in 0..50 {
            e.push(10.0);
        }
        assert_eq!(e.mean, 10.0);
        assert_eq!(e.var, 0.0);
        e.push(20.0);
        assert_eq!(e.mean, 15.0);
        assert!(e.var > 0.0);
    }
}
