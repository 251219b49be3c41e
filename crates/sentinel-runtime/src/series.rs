//! Rolling time series kept by the backend and the downsampling that keeps
//! what the UI receives small (largest-triangle-three-buckets).

use std::collections::VecDeque;

use sentinel_model::{Duration, Timestamp};

/// A bounded window of `(time, value)` points, oldest first.
#[derive(Debug, Clone)]
pub struct Rolling {
    window: Duration,
    points: VecDeque<(Timestamp, f64)>,
}

impl Rolling {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            points: VecDeque::new(),
        }
    }

    /// Appends a point and drops those older than the window before it.
    /// Points out of order are ignored: a series only moves forward.
    pub fn push(&mut self, at: Timestamp, value: f64) {
        if !value.is_finite() || self.points.back().is_some_and(|(t, _)| *t >= at) {
            return;
        }
        self.points.push_back((at, value));
        let oldest = at.saturating_sub(self.window);
        while self.points.front().is_some_and(|(t, _)| *t < oldest) {
            self.points.pop_front();
        }
    }

    pub fn last(&self) -> Option<(Timestamp, f64)> {
        self.points.back().copied()
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    pub fn to_vec(&self) -> Vec<(Timestamp, f64)> {
        self.points.iter().copied().collect()
    }
}

/// Largest-triangle-three-buckets: at most `threshold` points that keep the
/// shape of the series (peaks survive, unlike plain averaging). The first and
/// last points are always kept.
pub fn lttb(data: &[(Timestamp, f64)], threshold: usize) -> Vec<(Timestamp, f64)> {
    if threshold >= data.len() || threshold < 3 {
        return data.to_vec();
    }
    let mut out = Vec::with_capacity(threshold);
    let every = (data.len() - 2) as f64 / (threshold - 2) as f64;
    let mut a = 0usize;
    out.push(data[0]);
    for i in 0..threshold - 2 {
        let avg_start = ((i + 1) as f64 * every) as usize + 1;
        let avg_end = (((i + 2) as f64 * every) as usize + 1).min(data.len());
        let span = &data[avg_start.min(avg_end - 1)..avg_end];
        let n = span.len() as f64;
        let avg_x = span.iter().map(|p| p.0.millis() as f64).sum::<f64>() / n;
        let avg_y = span.iter().map(|p| p.1).sum::<f64>() / n;
        let range_start = (i as f64 * every) as usize + 1;
        let range_end = ((i + 1) as f64 * every) as usize + 1;
        let (ax, ay) = (data[a].0.millis() as f64, data[a].1);
        let mut best = range_start;
        let mut best_area = -1.0;
        for (j, p) in data.iter().enumerate().take(range_end).skip(range_start) {
            let area =
                ((ax - avg_x) * (p.1 - ay) - (ax - p.0.millis() as f64) * (avg_y - ay)).abs();
            if area > best_area {
                best_area = area;
                best = j;
            }
        }
        out.push(data[best]);
        a = best;
    }
    out.push(data[data.len() - 1]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_drops_old_and_out_of_order_points() {
        let mut r = Rolling::new(Duration::from_secs(10));
        for s in 0..30 {
            r.push(Timestamp::from_secs(s), s as f64);
        }
        r.push(Timestamp::from_secs(5), 1.0);
        r.push(Timestamp::from_secs(31), f64::NAN);
        assert_eq!(r.len(), 11);
        assert_eq!(r.last(), Some((Timestamp::from_secs(29), 29.0)));
    }

    #[test]
    fn lttb_keeps_ends_and_spikes() {
        let mut data: Vec<_> = (0..1000).map(|i| (Timestamp(i * 1000), 1.0)).collect();
        data[500].1 = 100.0;
        let d = lttb(&data, 100);
        assert_eq!(d.len(), 100);
        assert_eq!(d[0], data[0]);
        assert_eq!(d[99], data[999]);
        assert!(d.iter().any(|p| p.1 == 100.0), "the spike survives");
        assert!(d.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(lttb(&data[..10], 100).len(), 10);
    }
}
