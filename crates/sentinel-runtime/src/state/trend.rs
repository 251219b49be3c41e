//! Recent usage kept per pod and per node, for the pods page's sparklines
//! and for incident captures: a fixed number of points spread over the
//! same span of time whatever the poll interval, so a capture holds the
//! baseline before an onset at fast polls and on large clusters too.

use std::collections::VecDeque;

use sentinel_model::{Duration, Timestamp};

/// How far back a trend reaches: its capacity's points, one per
/// `TREND_SPAN / capacity` (2 s at 450 points, 15 s at 60).
pub(super) const TREND_SPAN: Duration = Duration::from_mins(15);

/// One point of a pod's recent usage, compact; NaN where there was no
/// reading. A point stands for the polls of its slot: it holds the last
/// of their readings, dated by it.
#[derive(Debug, Clone, Copy)]
pub(super) struct TrendPoint {
    pub(super) at: Timestamp,
    pub(super) cpu_cores: f32,
    pub(super) memory_bytes: f32,
    /// p95 latency of the requests served over the slot.
    pub(super) p95_seconds: f32,
}

impl TrendPoint {
    /// Takes a later reading of the same slot: its readings where it has
    /// them, the slot's p95 as it now stands.
    pub(super) fn update(&mut self, later: TrendPoint) {
        self.at = later.at;
        if later.cpu_cores.is_finite() {
            self.cpu_cores = later.cpu_cores;
        }
        if later.memory_bytes.is_finite() {
            self.memory_bytes = later.memory_bytes;
        }
        self.p95_seconds = later.p95_seconds;
    }
}

/// When the points of a family of trends (the pods', the nodes') open.
/// Every trend of a family takes its readings at the same polls, so one
/// clock decides for all of them.
#[derive(Debug, Default)]
pub(super) struct Slots {
    opened: Option<Timestamp>,
}

impl Slots {
    /// Whether readings at `at` start new points rather than update the
    /// points of the current slot. A slot is `TREND_SPAN / capacity` wide;
    /// a poll within a tenth of that of its end starts the next one, so
    /// polls as far apart as a slot (the app's default 2 s, up to 1,000
    /// pods) keep every reading despite jitter. A reading older than the
    /// slot starts a new one.
    pub(super) fn open(&mut self, at: Timestamp, capacity: usize) -> bool {
        let width = TREND_SPAN.millis() / capacity.max(1) as i64;
        let opens = self
            .opened
            .is_none_or(|o| at < o || at.since(o).millis() * 10 >= width * 9);
        if opens {
            self.opened = Some(at);
        }
        opens
    }

    /// Whether a point dated `at` is of the current slot.
    pub(super) fn holds(&self, at: Timestamp) -> bool {
        self.opened.is_some_and(|o| at >= o)
    }
}

/// Adds `point` to `trend`, updating its last point instead when both are
/// of the current slot; the oldest point goes when the trend is full.
pub(super) fn record<P>(
    trend: &mut VecDeque<P>,
    capacity: usize,
    in_slot: impl Fn(&P) -> bool,
    point: P,
    update: impl FnOnce(&mut P, P),
) {
    if let Some(last) = trend.back_mut().filter(|p| in_slot(p)) {
        update(last, point);
        return;
    }
    while trend.len() >= capacity.max(1) {
        trend.pop_front();
    }
    trend.push_back(point);
}

/// The readings of one field of a trend, without the points that had none.
pub(super) fn readings(
    trend: &VecDeque<TrendPoint>,
    field: impl Fn(&TrendPoint) -> f32,
) -> Vec<(Timestamp, f64)> {
    trend
        .iter()
        .filter_map(|p| {
            let v = field(p);
            v.is_finite().then_some((p.at, widen(v)))
        })
        .collect()
}

/// A kept `f32` as the `f64` of its six significant digits (about what an
/// `f32` holds): `0.308519`, not `0.3085191547870636`, in captures saved
/// to the history and in what the UI is sent.
pub(super) fn widen(v: f32) -> f64 {
    let d = f64::from(v);
    if d == 0.0 || !d.is_finite() {
        return d;
    }
    let digits = 5 - d.abs().log10().floor() as i32;
    if digits >= 0 {
        let p = 10f64.powi(digits);
        (d * p).round() / p
    } else {
        let p = 10f64.powi(-digits);
        (d / p).round() * p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_readings_widen_to_their_six_digits() {
        let shown = |v: f32| widen(v).to_string();
        assert_eq!(shown(0.308_519_15), "0.308519");
        assert_eq!(shown(0.1), "0.1");
        assert_eq!(shown(180_303_072.0), "180303000");
        assert_eq!(shown(6.65), "6.65");
        assert_eq!(shown(-2.5e-7), "-0.00000025");
        assert_eq!(shown(0.0), "0");
        assert!(widen(f32::NAN).is_nan());
        // Within an f32's precision of what was kept.
        for v in [1.234_567_8_f32, 98_765.43, 3.3e-5, 7.0e12] {
            let d = widen(v);
            assert!(((d - f64::from(v)) / f64::from(v)).abs() < 1e-5, "{v} {d}");
        }
    }

    /// Keeps the value of readings every `poll_ms` for `minutes`, as the
    /// state does; returns the trend.
    fn polled(poll_ms: i64, capacity: usize, minutes: i64) -> VecDeque<(Timestamp, f32)> {
        let mut slots = Slots::default();
        let mut trend = VecDeque::new();
        let mut at = Timestamp(1_700_000_000_000);
        let end = at.saturating_add(Duration::from_mins(minutes));
        let mut n = 0.0;
        while at <= end {
            let opens = slots.open(at, capacity);
            let in_slot = |p: &(Timestamp, f32)| !opens && slots.holds(p.0);
            record(&mut trend, capacity, in_slot, (at, n), |p, q| *p = q);
            // A little jitter, as real polls have.
            at = at.saturating_add(Duration(poll_ms + [0, 37, -41][n as usize % 3]));
            n += 1.0;
        }
        trend
    }

    #[test]
    fn a_trend_spans_its_time_whatever_the_poll() {
        // At the app's default poll, every reading is a point.
        let t = polled(2000, 450, 20);
        assert_eq!(t.len(), 450);
        assert!(
            t.iter()
                .zip(t.iter().skip(1))
                .all(|(a, b)| b.1 == a.1 + 1.0)
        );
        // Faster polls, and a large cluster's fewer points: still about
        // fifteen minutes back, each point the last reading of its slot.
        for (poll, capacity) in [(500, 450), (2000, 60), (250, 60)] {
            let t = polled(poll, capacity, 20);
            assert_eq!(t.len(), capacity, "{poll} ms");
            let span = t.back().unwrap().0.since(t.front().unwrap().0).millis();
            assert!(
                (13 * 60_000..=15 * 60_000).contains(&span),
                "{poll} ms, {capacity} points: {span} ms"
            );
            // The last point is the slot still open.
            let gaps: Vec<i64> = t
                .iter()
                .zip(t.iter().skip(1))
                .take(capacity - 2)
                .map(|(a, b)| b.0.since(a.0).millis())
                .collect();
            let width = TREND_SPAN.millis() / capacity as i64;
            assert!(
                gaps.iter()
                    .all(|g| *g >= width * 9 / 10 - poll && *g <= width + poll),
                "{poll} ms: {gaps:?}"
            );
        }
        // Slower polls than a slot keep every reading, reaching further.
        let t = polled(5000, 450, 20);
        assert_eq!(t.len(), 241);
    }

    #[test]
    fn a_later_reading_keeps_what_it_lacks() {
        let nan = f32::NAN;
        let mut p = TrendPoint {
            at: Timestamp(0),
            cpu_cores: 0.5,
            memory_bytes: nan,
            p95_seconds: 0.2,
        };
        p.update(TrendPoint {
            at: Timestamp(500),
            cpu_cores: nan,
            memory_bytes: 1e8,
            p95_seconds: nan,
        });
        assert_eq!(p.at, Timestamp(500));
        assert_eq!((p.cpu_cores, p.memory_bytes), (0.5, 1e8));
        // The slot's p95 is the slot's, not the last poll's.
        assert!(p.p95_seconds.is_nan());
    }
}
