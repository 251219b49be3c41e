//! Streaming statistics: O(1) per sample, no allocation after construction.

mod tails;

use sentinel_model::WindowSummary;
use serde::{Deserialize, Serialize};

pub use tails::{ln_gamma, normal_tail, poisson_tail};

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
