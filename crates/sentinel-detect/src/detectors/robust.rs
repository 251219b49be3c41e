//! Robust (median/MAD) and seasonal baselines.

use sentinel_model::{Duration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Direction, Eval, Verdict, signed_z, z_checks, z_level};
use crate::stats::{Ewma, Window, median_sorted};

/// Modified z-score `0.6745 (x - median) / MAD` over a trailing window. The
/// median and MAD are recomputed every `window / 8` readings (amortised
/// O(log n) per reading); a zero MAD falls back to the mean absolute
/// deviation, and a flat window makes any move infinitely unusual.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mad {
    pub window: Window,
    pub warmup: usize,
    pub warning: f64,
    pub critical: f64,
    /// The scale never counts as smaller than this.
    pub min_spread: f64,
    /// Which side of the median counts.
    #[serde(default)]
    pub direction: Direction,
    median: f64,
    scale: f64,
    since: usize,
}

impl Mad {
    pub fn new(window: usize, warmup: usize, warning: f64, critical: f64) -> Self {
        Self {
            window: Window::new(window),
            warmup,
            warning,
            critical,
            min_spread: 0.0,
            direction: Direction::Both,
            median: 0.0,
            scale: 0.0,
            since: usize::MAX,
        }
    }

    fn refresh(&mut self) {
        let mut v: Vec<f64> = self.window.iter().collect();
        v.sort_by(f64::total_cmp);
        let median = median_sorted(&v);
        let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
        dev.sort_by(f64::total_cmp);
        let mad = median_sorted(&dev);
        let mean_abs = dev.iter().sum::<f64>() / dev.len().max(1) as f64;
        self.median = median;
        // Scale so that the result is comparable to a z-score.
        self.scale = if mad > 0.0 {
            mad / 0.6745
        } else {
            mean_abs * 1.2533
        };
        self.since = 0;
    }

    /// Inputs: `[x, readings before x]`; the median and scale stay in the
    /// state until the next refresh.
    pub fn observe(&mut self, x: f64) -> Verdict {
        let n = self.window.len();
        if n >= self.warmup.max(1) && self.since >= (self.window.capacity() / 8).max(1) {
            self.refresh();
        }
        self.window.push(x);
        self.since = self.since.saturating_add(1);
        let inputs = [x, n as f64, 0.0, 0.0];
        if n < self.warmup.max(1) {
            return Verdict::warming(inputs);
        }
        let z = signed_z(x, self.median, self.scale.max(self.min_spread));
        let level = z_level(self.direction.excess(z), self.warning, self.critical);
        Verdict::ready(level, inputs)
    }

    pub fn explain(&self, v: &Verdict) -> Eval {
        let [x, n, ..] = v.inputs;
        if !v.ready {
            return Eval::warming("warming up").value("readings", n);
        }
        let scale = self.scale.max(self.min_spread);
        let z = self.direction.shown(signed_z(x, self.median, scale));
        let e = Eval::default()
            .ready()
            .value("robust z", z)
            .value("median", self.median)
            .value("MAD", self.scale * 0.6745)
            .value(SINCE, self.since as f64);
        Eval {
            band: Some((
                self.median - self.warning * scale,
                self.median + self.warning * scale,
            )),
            ..z_checks(
                e,
                self.direction,
                self.direction.name("|robust z|", "robust z"),
                z,
                self.warning,
                self.critical,
            )
        }
    }
}

/// How stale the median and MAD are: they are recomputed every
/// `window / 8` readings, so the window summary a trace shows (taken now)
/// may differ from them.
const SINCE: &str = "readings since the median and MAD";

/// A baseline per slot of a period (the same time of day, or of week): an
/// EWMA mean and variance per slot, used once the slot has been seen in at
/// least `min_cycles` periods.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seasonal {
    pub period: Duration,
    pub min_cycles: u64,
    pub warning: f64,
    pub critical: f64,
    /// Which side of the slot's mean counts.
    #[serde(default)]
    pub direction: Direction,
    slots: Vec<Ewma>,
}

impl Seasonal {
    pub fn new(
        period: Duration,
        slots: usize,
        alpha: f64,
        min_cycles: u64,
        warning: f64,
        critical: f64,
    ) -> Self {
        Self {
            period,
            min_cycles,
            warning,
            critical,
            direction: Direction::Both,
            slots: vec![Ewma::new(alpha); slots.clamp(1, 10_080)],
        }
    }

    fn slot(&self, at: Timestamp) -> usize {
        let p = self.period.millis().max(1);
        let phase = at.millis().rem_euclid(p);
        ((phase as i128 * self.slots.len() as i128) / p as i128) as usize
    }

    /// Inputs: `[x, slot, slot mean, slot std]` (the slot's baseline before
    /// `x`); while warming, `[x, slot, readings in slot, 0]`.
    pub fn observe(&mut self, at: Timestamp, x: f64) -> Verdict {
        let i = self.slot(at).min(self.slots.len() - 1);
        let s = self.slots[i];
        // A slot sees several readings per period; count periods, not readings.
        let per_period = 1 + (self.period.millis() / self.slots.len() as i64 / 1000).max(0) as u64;
        self.slots[i].push(x);
        let cycles = s.count / per_period.max(1);
        if cycles < self.min_cycles || s.count == 0 {
            return Verdict::warming([x, i as f64, s.count as f64, 0.0]);
        }
        let z = signed_z(x, s.mean, s.std());
        let level = z_level(self.direction.excess(z), self.warning, self.critical);
        Verdict::ready(level, [x, i as f64, s.mean, s.std()])
    }

    pub fn explain(&self, v: &Verdict) -> Eval {
        let [x, slot, mean, std] = v.inputs;
        if !v.ready {
            return Eval::warming("not enough history at this time of the period")
                .value("slot", slot)
                .value("readings in slot", mean);
        }
        let z = self.direction.shown(signed_z(x, mean, std));
        let e = Eval::default()
            .ready()
            .value("seasonal z", z)
            .value("slot", slot)
            .value("slot mean", mean)
            .value("slot std", std);
        Eval {
            band: Some((mean - self.warning * std, mean + self.warning * std)),
            ..z_checks(
                e,
                self.direction,
                self.direction.name("|seasonal z|", "seasonal z"),
                z,
                self.warning,
                self.critical,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Direction, Mad, SINCE, Seasonal};
    use sentinel_model::{Duration, Severity, Timestamp};

    #[test]
    fn robust_and_seasonal_rules_watch_only_their_side() {
        for (dir, rise, drop) in [
            (Direction::Both, true, true),
            (Direction::Up, true, false),
            (Direction::Down, false, true),
        ] {
            for (last, want) in [(500.0, rise), (-300.0, drop)] {
                let want = want.then_some(Severity::Critical);
                let mut m = Mad::new(20, 5, 3.5, 6.0);
                m.direction = dir;
                // A period of 10 s in 10 slots: every reading has its own slot.
                let mut s = Seasonal::new(Duration(10_000), 10, 0.3, 2, 2.0, 3.0);
                s.direction = dir;
                for i in 0..60 {
                    let x = 100.0 + f64::from(i % 3);
                    m.observe(x);
                    s.observe(Timestamp(i64::from(i) * 1000), x);
                }
                let (vm, vs) = (m.observe(last), s.observe(Timestamp(60_000), last));
                assert_eq!((vm.level, vs.level), (want, want), "{dir:?} at {last}");
                let e = m.explain(&vm);
                let c = e.checks().next().copied();
                let name = if dir == Direction::Both {
                    "|robust z|"
                } else {
                    "robust z"
                };
                assert_eq!(c.map(|c| (c.name, c.passed)), Some((name, want.is_some())));
                let e = s.explain(&vs);
                assert_eq!(e.level, want, "{dir:?} at {last}");
            }
        }
    }

    #[test]
    fn a_robust_check_is_named_for_its_score() {
        let mut d = Mad::new(20, 5, 3.5, 6.0);
        let mut last = None;
        for i in 0..30 {
            last = Some(d.observe(if i < 29 {
                100.0 + (i % 3) as f64
            } else {
                500.0
            }));
        }
        let e = d.explain(&last.unwrap());
        let first = e.checks().find(|c| c.passed).unwrap();
        assert_eq!((first.name, first.threshold), ("|robust z|", 6.0));
        // Recomputed every 20 / 8 = 2 readings: one or two readings old.
        let since = e.values().iter().find(|(n, _)| *n == SINCE).unwrap().1;
        assert!(since == 1.0 || since == 2.0, "{since}");
    }
}
