//! Distribution drift: the population stability index (PSI) and a
//! chi-square test of the recent window's histogram against a baseline.

use sentinel_model::Severity;
use serde::{Deserialize, Serialize};

use super::{Check, Eval, Op, Verdict, level_from};
use crate::stats::normal_tail;

/// The first `baseline` readings fix the bin edges (their quantiles) and the
/// expected shares; afterwards the last `window` readings are binned
/// incrementally (O(bins) per reading for PSI). PSI ≥ `moderate` warns,
/// ≥ `severe` is critical; the chi-square p-value is reported with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Psi {
    pub baseline: usize,
    pub window: usize,
    pub bins: usize,
    pub moderate: f64,
    pub severe: f64,
    learning: Vec<f64>,
    edges: Vec<f64>,
    expected: Vec<f64>,
    counts: Vec<u32>,
    ring: Vec<u16>,
    head: usize,
    len: usize,
}

impl Psi {
    pub fn new(baseline: usize, window: usize, bins: usize, moderate: f64, severe: f64) -> Self {
        Self {
            baseline: baseline.max(2),
            window: window.max(2),
            bins: bins.clamp(2, 100),
            moderate,
            severe,
            learning: Vec::new(),
            edges: Vec::new(),
            expected: Vec::new(),
            counts: Vec::new(),
            ring: Vec::new(),
            head: 0,
            len: 0,
        }
    }

    fn bin(&self, x: f64) -> usize {
        self.edges.partition_point(|e| *e < x)
    }

    fn freeze(&mut self) {
        let mut v = std::mem::take(&mut self.learning);
        v.sort_by(f64::total_cmp);
        let mut edges: Vec<f64> = (1..self.bins)
            .map(|i| v[(i * v.len() / self.bins).min(v.len() - 1)])
            .collect();
        edges.dedup();
        self.edges = edges;
        let n = self.edges.len() + 1;
        let mut expected = vec![0.0; n];
        for x in &v {
            expected[self.edges.partition_point(|e| e < x)] += 1.0;
        }
        self.expected = expected.iter().map(|c| c / v.len() as f64).collect();
        self.counts = vec![0; n];
        self.ring = vec![0; self.window];
    }

    /// Inputs: `[PSI, chi-square, p-value]`; while warming, `[readings,
    /// 1 while learning the baseline]`.
    pub fn observe(&mut self, x: f64) -> Verdict {
        if self.edges.is_empty() && self.expected.is_empty() {
            self.learning.push(x);
            let n = self.learning.len() as f64;
            if self.learning.len() >= self.baseline {
                self.freeze();
            }
            return Verdict::warming([n, 1.0, 0.0, 0.0]);
        }
        let b = self.bin(x);
        if self.len == self.window {
            let old = self.ring[self.head] as usize;
            self.counts[old] -= 1;
        } else {
            self.len += 1;
        }
        self.ring[self.head] = b as u16;
        self.counts[b] += 1;
        self.head = (self.head + 1) % self.window;
        if self.len < self.window {
            return Verdict::warming([self.len as f64, 0.0, 0.0, 0.0]);
        }
        let n = self.len as f64;
        let (mut psi, mut chi2) = (0.0, 0.0);
        for (c, e) in self.counts.iter().zip(&self.expected) {
            let a = (f64::from(*c) / n).max(1e-4);
            let e = e.max(1e-4);
            psi += (a - e) * (a / e).ln();
            let expected = e * n;
            chi2 += (f64::from(*c) - expected).powi(2) / expected;
        }
        let p = chi_square_p(chi2, (self.counts.len() - 1).max(1) as f64);
        let level = level_from(psi, self.moderate, self.severe);
        Verdict::ready(level, [psi, chi2, p, 0.0])
    }

    pub fn explain(&self, v: &Verdict) -> Eval {
        let [psi, chi2, p, _] = v.inputs;
        if !v.ready {
            let note = if v.inputs[1] > 0.0 {
                "learning the baseline distribution"
            } else {
                "filling the comparison window"
            };
            return Eval::warming(note).value("readings", v.inputs[0]);
        }
        Eval::default()
            .ready()
            .value("PSI", psi)
            .value("chi-square", chi2)
            .value("p-value", p)
            .check(Check::new(
                "PSI",
                psi,
                Op::Ge,
                self.severe,
                Some(Severity::Critical),
            ))
            .check(Check::new(
                "PSI",
                psi,
                Op::Ge,
                self.moderate,
                Some(Severity::Warning),
            ))
    }
}

/// Upper tail of the chi-square distribution (Wilson–Hilferty).
pub fn chi_square_p(x: f64, k: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let h = 2.0 / (9.0 * k);
    let z = ((x / k).cbrt() - (1.0 - h)) / h.sqrt();
    normal_tail(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi_square_tail_matches_tables() {
        // 95th percentiles: k=1 → 3.841, k=9 → 16.919.
        assert!((chi_square_p(16.919, 9.0) - 0.05).abs() < 0.003);
        assert!((chi_square_p(3.841, 1.0) - 0.05).abs() < 0.01);
        assert_eq!(chi_square_p(0.0, 3.0), 1.0);
    }

    #[test]
    fn same_distribution_is_stable_and_a_shift_is_severe() {
        let mut d = Psi::new(200, 100, 10, 0.1, 0.25);
        let wave = |i: usize| ((i * 7919) % 100) as f64;
        for i in 0..400 {
            let v = d.observe(wave(i));
            let e = d.explain(&v);
            if e.ready {
                assert!(
                    e.level.is_none(),
                    "stable data drifted at {i}: {:?}",
                    e.values()
                );
            }
        }
        let mut last = Eval::default();
        for i in 0..100 {
            let v = d.observe(wave(i) + 60.0);
            last = d.explain(&v);
        }
        assert_eq!(last.level, Some(Severity::Critical));
        assert!(last.values()[0].1 > 0.25);
    }
}
