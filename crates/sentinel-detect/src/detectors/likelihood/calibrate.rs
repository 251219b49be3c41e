//! The likelihood layer: a raw surprise's short-term mean against that
//! mean's own long history.

use serde::{Deserialize, Serialize};

use crate::stats::{Window, normal_tail, poisson_tail};

/// The likelihood layer: how unusual the short-term mean of a raw surprise
/// is against that mean's own long history (upper normal tail).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibrator {
    short: Window,
    history: Window,
}

impl Calibrator {
    pub fn new(short: usize, history: usize) -> Self {
        Self {
            short: Window::new(short),
            history: Window::new(history),
        }
    }

    /// Add a raw surprise; the tail probability of the current short mean.
    pub fn push(&mut self, raw: f64) -> f64 {
        let (avg, mean, sd) = self.advance(raw);
        normal(avg, mean, sd)
    }

    /// As [`push`](Self::push) for a surprise that counts events (each raw
    /// value in [0, 1] is a fraction of one novel context): the geometric
    /// mean of the normal tail and the Poisson tail of the short window's
    /// count at the history's rate (at least [`MIN_RATE`]). When events are
    /// rare the history's spread is tiny and the normal tail alone calls a
    /// single event a one-in-10¹⁰⁰ surprise; the count model asks how rare
    /// that many events are at the usual rate.
    pub fn push_counts(&mut self, raw: f64) -> f64 {
        let (avg, mean, sd) = self.advance(raw);
        let n = self.short.len() as f64;
        let counts = poisson_tail(avg * n, (mean * n).max(MIN_RATE));
        (normal(avg, mean, sd) * counts).sqrt()
    }

    /// Add `raw`: the new short mean, and the history's mean and spread as
    /// they were before it (the spread at least 1e-4).
    fn advance(&mut self, raw: f64) -> (f64, f64, f64) {
        self.short.push(raw);
        let avg = self.short.mean();
        let (mean, sd) = (self.history.mean(), self.history.std().max(1e-4));
        self.history.push(avg);
        (avg, mean, sd)
    }
}

/// Expected events per short window below which the count model does not
/// go: one in a hundred windows.
pub const MIN_RATE: f64 = 0.01;

/// The upper normal tail of `avg` (0.5 at or below the mean).
fn normal(avg: f64, mean: f64, sd: f64) -> f64 {
    if avg > mean {
        normal_tail((avg - mean) / sd)
    } else {
        0.5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_temper_a_lone_event_but_not_a_burst() {
        let (mut normal, mut counts) = (Calibrator::new(10, 1200), Calibrator::new(10, 1200));
        for i in 0..3000 {
            let raw = if i % 500 == 0 { 1.0 } else { 0.0 };
            normal.push(raw);
            counts.push_counts(raw);
        }
        // One novel context, at the usual rate of one in 500 readings.
        let (n1, c1) = (normal.push(1.0), counts.push_counts(1.0));
        assert!(n1 < 1e-11, "normal alone: {n1}");
        assert!(c1 > 1e4 * n1 && c1 < 1e-5, "tempered: {c1} vs {n1}");
        // Four more within the short window: a burst is still rare.
        let burst = (0..4)
            .map(|_| counts.push_counts(1.0))
            .last()
            .unwrap_or(1.0);
        assert!(burst < 1e-6 * c1, "burst: {burst}");
    }
}
