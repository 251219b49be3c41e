//! The anomaly-likelihood detector, the engine's default streaming scorer.
//!
//! A raw deviation is not a score: a series that is always noisy produces
//! large z-scores all day. This detector turns deviation into a calibrated
//! probability of unusualness given the series' own recent history:
//!
//! 1. **Two raw views** per sample, each in [0, 1]: how far the value is from
//!    the trailing window (`|z|` through the normal CDF), and how novel its
//!    *context* is (the value quantised against the range seen so far,
//!    together with the two before it, counted in a fixed hash table: a
//!    shape the series has never drawn scores 1).
//! 2. **Likelihood per view**: the short-term mean of each raw view against
//!    the distribution of that mean over a long history; the upper normal
//!    tail (for the context view, whose raw values count novel contexts,
//!    tempered by the Poisson tail of that count at the usual rate). The
//!    rarer of the two tails wins, reported on a log scale: 0.5 is one in
//!    ~100 000, 1.0 one in ten billion.
//! 3. **New extremes**: a value above everything or below everything seen
//!    (after warm-up) scores 1.
//! 4. **Refractory period**: after a score of at least `refractory_level`,
//!    scores are damped for `refractory` samples, so one incident is reported
//!    once, not once per sample.
//!
//! All state is fixed-size; `observe` is O(1) and never allocates. The
//! defaults were tuned on the tuning half of NAB (see docs/detection.md).

use serde::{Deserialize, Serialize};

use crate::stats::{Window, normal_tail, poisson_tail};

/// Parameters, in samples.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LikelihoodParams {
    /// Trailing window for the raw z-score.
    pub window: usize,
    /// Samples averaged into the short-term surprise.
    pub short: usize,
    /// History the short-term surprise is compared against.
    pub history: usize,
    /// Samples before any verdict (the series is warming up).
    pub warmup: usize,
    /// A new extreme must pass the seen range by this fraction of it.
    pub novelty_margin: f64,
    /// After a score of at least `refractory_level`, damp for this many samples.
    pub refractory: usize,
    pub refractory_level: f64,
    /// Factor applied to scores inside the refractory period.
    pub damp: f64,
    /// Quantisation levels for context novelty (0 turns the view off).
    pub bins: u32,
}

impl Default for LikelihoodParams {
    fn default() -> Self {
        Self {
            window: 200,
            short: 10,
            history: 1200,
            warmup: 150,
            novelty_margin: 0.0,
            refractory: 150,
            refractory_level: 0.5,
            damp: 0.5,
            bins: 20,
        }
    }
}

/// What one observation computed, for traces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LikelihoodReading {
    /// `|x - mean| / std` over the trailing window (0 when the window is flat).
    pub z: f64,
    /// Raw deviation surprise in [0, 1].
    pub raw: f64,
    /// Raw context novelty in [0, 1].
    pub novelty: f64,
    /// Whether the value is a new extreme.
    pub extreme: bool,
    /// Probability that the short-term surprise is this high by chance.
    pub tail: f64,
    /// The final score in [0, 1].
    pub score: f64,
    /// False while warming up (and for rejected values): no verdict.
    pub ready: bool,
    /// Damped by the refractory period.
    pub damped: bool,
}

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

/// Values are clamped to this magnitude so that squares stay finite.
pub const MAX_MAGNITUDE: f64 = 1e150;
const CONTEXTS: usize = 1 << 13;
/// `ln(1 - 0.9999999999)`: the log scale's floor.
const LOG_FLOOR: f64 = -23.025_850_929_940_457;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Likelihood {
    p: LikelihoodParams,
    values: Window,
    deviation: Calibrator,
    context: Calibrator,
    seen: u64,
    min: f64,
    max: f64,
    quiet_until: u64,
    prev_q: [u32; 2],
    contexts: Vec<u16>,
}

impl Likelihood {
    pub fn new(p: LikelihoodParams) -> Self {
        Self {
            values: Window::new(p.window),
            deviation: Calibrator::new(p.short, p.history),
            context: Calibrator::new(p.short, p.history),
            seen: 0,
            // Finite sentinels keep the state serialisable.
            min: f64::MAX,
            max: f64::MIN,
            quiet_until: 0,
            prev_q: [0; 2],
            contexts: if p.bins > 0 {
                vec![0; CONTEXTS]
            } else {
                Vec::new()
            },
            p,
        }
    }

    pub fn params(&self) -> &LikelihoodParams {
        &self.p
    }

    /// Samples observed so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The trailing window the z-score is computed against.
    pub fn window(&self) -> &Window {
        &self.values
    }

    /// Observe one value. NaN and infinities are rejected (no verdict, state
    /// untouched); magnitudes beyond [`MAX_MAGNITUDE`] are clamped.
    pub fn observe(&mut self, x: f64) -> LikelihoodReading {
        let mut r = LikelihoodReading::default();
        if !x.is_finite() {
            return r;
        }
        let x = x.clamp(-MAX_MAGNITUDE, MAX_MAGNITUDE);
        // 1. Raw views, against the state before `x`.
        let std = self.values.std();
        let dev = (x - self.values.mean()).abs();
        r.z = if std > 0.0 {
            dev / std
        } else if dev > 0.0 && self.values.len() > 1 {
            f64::INFINITY
        } else {
            0.0
        };
        r.raw = if self.values.is_empty() {
            0.0
        } else {
            1.0 - 2.0 * normal_tail(r.z.min(40.0))
        };
        let margin = self.p.novelty_margin * (self.max - self.min).max(0.0);
        r.extreme =
            self.seen as usize >= self.p.warmup && (x > self.max + margin || x < self.min - margin);
        r.novelty = self.context_novelty(x);
        self.values.push(x);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        self.seen += 1;

        // 2. Likelihood of each view's short-term surprise.
        r.tail = self.deviation.push(r.raw);
        if self.p.bins > 0 {
            r.tail = r.tail.min(self.context.push_counts(r.novelty));
        }
        r.ready = self.seen as usize > self.p.warmup;
        if !r.ready {
            return r;
        }
        let likelihood = 1.0 - r.tail;
        let mut score = ((1.000_000_000_1 - likelihood).ln() / LOG_FLOOR).clamp(0.0, 1.0);
        // 3. New extremes.
        if r.extreme {
            score = 1.0;
        }
        // 4. Refractory damping.
        if self.seen < self.quiet_until {
            score *= self.p.damp;
            r.damped = true;
        } else if score >= self.p.refractory_level {
            self.quiet_until = self.seen + self.p.refractory as u64;
        }
        r.score = score;
        r
    }

    /// 1 for a context never seen, `1 / (1 + n)` for one seen `n` times.
    /// Collisions in the fixed table only ever make a context look familiar.
    fn context_novelty(&mut self, x: f64) -> f64 {
        if self.p.bins == 0 {
            return 0.0;
        }
        let range = self.max - self.min;
        let bins = f64::from(self.p.bins);
        let q = if self.seen > 0 && range > 0.0 && range.is_finite() {
            // Values beyond the seen range get their own levels at either end.
            (((x - self.min) / range) * bins).clamp(-1.0, bins) as i64 + 1
        } else {
            0
        } as u64;
        let key = mix(q | (u64::from(self.prev_q[0]) << 16) | (u64::from(self.prev_q[1]) << 32));
        let slot = &mut self.contexts[(key as usize) & (CONTEXTS - 1)];
        let novelty = 1.0 / (1.0 + f64::from(*slot));
        *slot = slot.saturating_add(1);
        self.prev_q = [q as u32, self.prev_q[0]];
        novelty
    }
}

/// A 64-bit finaliser (MurmurHash3's), for context keys.
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(i: u64) -> f64 {
        // A deterministic, roughly uniform sequence in [-1, 1).
        (mix(i) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    #[test]
    fn warm_up_gives_no_verdict() {
        let mut d = Likelihood::new(LikelihoodParams::default());
        for i in 0..150 {
            assert!(!d.observe(noise(i)).ready, "sample {i}");
        }
        assert!(d.observe(0.0).ready);
    }

    #[test]
    fn a_level_shift_scores_high_once_then_is_damped() {
        // With no margin every new high of plain noise is an extreme; a margin
        // of a tenth of the range leaves only real departures.
        let mut d = Likelihood::new(LikelihoodParams {
            novelty_margin: 0.1,
            ..LikelihoodParams::default()
        });
        let mut max_before: f64 = 0.0;
        for i in 0..2000 {
            max_before = max_before.max(d.observe(10.0 + noise(i)).score);
        }
        let after: Vec<LikelihoodReading> =
            (0..40).map(|i| d.observe(30.0 + noise(5000 + i))).collect();
        assert!(max_before < 0.5, "noise alone scored {max_before}");
        assert_eq!(after[0].score, 1.0);
        assert!(after[0].extreme);
        assert!(after[1..].iter().all(|r| r.damped && r.score <= 0.5));
    }

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

    #[test]
    fn non_finite_values_are_rejected_without_touching_state() {
        let mut d = Likelihood::new(LikelihoodParams::default());
        for i in 0..300 {
            d.observe(noise(i));
        }
        let before = d.clone();
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let r = d.observe(bad);
            assert!(!r.ready);
            assert_eq!(r.score, 0.0);
        }
        assert_eq!(d, before);
        // Huge values are clamped and never poison the state.
        let r = d.observe(1e308);
        assert!(r.score.is_finite() && r.ready);
        for i in 0..400 {
            assert!(d.observe(noise(i)).score.is_finite());
        }
    }

    #[test]
    fn a_constant_series_is_calm_and_a_blip_on_it_is_not() {
        let mut d = Likelihood::new(LikelihoodParams::default());
        for _ in 0..1000 {
            // A tail of 0.5 (nothing unusual) is 0.03 on the log scale.
            assert!(d.observe(5.0).score < 0.05);
        }
        assert_eq!(d.observe(6.0).score, 1.0);
    }
}
