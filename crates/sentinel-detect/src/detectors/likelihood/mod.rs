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
//!    (after warm-up) scores 1, if it passes the old extreme by enough: a
//!    fraction of the tail's scale, estimated from the most extreme values
//!    seen. In plain noise each new record passes the last by a little, and
//!    a series sets a few of them however long it runs; a real departure
//!    leaves the tail behind.
//! 4. **Refractory period**: after a score of at least `refractory_level`,
//!    scores are damped for `refractory` samples, so one incident is reported
//!    once, not once per sample.
//!
//! All state is fixed-size; `observe` is O(1) and does not allocate (but
//! once after a restore, when the tails first grow back to capacity). The
//! defaults were tuned on the tuning half of NAB (see docs/detection.md).

use serde::{Deserialize, Serialize};

use crate::stats::{Window, normal_tail};

mod calibrate;
mod tails;

pub use calibrate::{Calibrator, MIN_RATE};
pub use tails::MAX_RECORD_TAIL;
use tails::Tails;

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
    /// History the context view's short-term surprise is compared against
    /// (by default one and a half times `history`, at most
    /// [`MAX_HISTORY`]). Longer than `history`:
    /// novel contexts are rare events, and their usual rate is only as good
    /// as the number of them it is counted over.
    pub context_history: Option<usize>,
    /// Samples before any verdict (the series is warming up).
    pub warmup: usize,
    /// A new extreme must pass the seen range by this fraction of it.
    pub novelty_margin: f64,
    /// And pass the old extreme by this many of the tail's scale (estimated
    /// from the `record_tail` most extreme values seen at that end, from
    /// their spacings); 0 counts every new extreme.
    pub record_margin: f64,
    /// The most extreme values kept at each end to estimate that scale (at
    /// most [`MAX_RECORD_TAIL`] are used).
    pub record_tail: usize,
    /// After a score of at least `refractory_level`, damp for this many samples.
    pub refractory: usize,
    pub refractory_level: f64,
    /// Factor applied to scores inside the refractory period.
    pub damp: f64,
    /// Quantisation levels for context novelty (0 turns the view off).
    pub bins: u32,
}

/// The longest window or history a rule may ask for, in samples: each is a
/// buffer of that many readings per series.
pub const MAX_HISTORY: usize = 100_000;

impl LikelihoodParams {
    /// The context view's history, in samples.
    pub fn context_history(&self) -> usize {
        self.context_history
            .unwrap_or((self.history.saturating_mul(3) / 2).min(MAX_HISTORY))
    }

    /// Whether these parameters make a working detector: windows of at least
    /// two readings and at most [`MAX_HISTORY`], margins and levels finite
    /// and not negative, a damping factor in [0, 1].
    pub fn is_valid(&self) -> bool {
        let sizes = [self.window, self.history, self.context_history()];
        sizes.iter().all(|n| (2..=MAX_HISTORY).contains(n))
            && (1..=MAX_HISTORY).contains(&self.short)
            && (0.0..f64::INFINITY).contains(&self.novelty_margin)
            && (0.0..f64::INFINITY).contains(&self.record_margin)
            && self.record_tail <= MAX_RECORD_TAIL
            && self.refractory_level.is_finite()
            && (0.0..=1.0).contains(&self.damp)
    }
}

impl Default for LikelihoodParams {
    fn default() -> Self {
        Self {
            window: 200,
            short: 10,
            history: 1200,
            context_history: None,
            warmup: 150,
            novelty_margin: 0.0,
            record_margin: 0.25,
            record_tail: 20,
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
    /// The `record_tail` most extreme values at each end (absent from
    /// snapshots written before they were kept).
    #[serde(default)]
    tails: Tails,
}

impl Likelihood {
    pub fn new(p: LikelihoodParams) -> Self {
        Self {
            values: Window::new(p.window),
            deviation: Calibrator::new(p.short, p.history),
            context: Calibrator::new(p.short, p.context_history()),
            seen: 0,
            // Finite sentinels keep the state serialisable.
            min: f64::MAX,
            max: f64::MIN,
            quiet_until: 0,
            prev_q: [0; 2],
            tails: Tails::new(p.record_tail),
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
        let (up, down) = (x - self.max, self.min - x);
        // The tails' scales are only worked out for a new extreme.
        let m = self.p.record_margin;
        r.extreme = self.seen as usize >= self.p.warmup
            && ((up > margin && up > m * self.tails.above())
                || (down > margin && down > m * self.tails.below()));
        self.tails.push(x, self.p.record_tail);
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
    fn noise_records_that_barely_pass_the_old_ones_do_not_count() {
        // Roughly normal noise (a sum of four uniforms), eight runs of it.
        let bell = |i: u64| (0..4).map(|k| noise(4 * i + k)).sum::<f64>();
        let extremes = |record_margin: f64, run: u64| {
            let mut d = Likelihood::new(LikelihoodParams {
                record_margin,
                ..LikelihoodParams::default()
            });
            let from = run * 1_000_000;
            let n = (from..from + 10_000)
                .filter(|&i| d.observe(bell(i)).extreme)
                .count();
            (n, d)
        };
        let (mut all, mut kept, mut wide) = (0, 0, 0);
        for run in 0..8 {
            // Every new high or low of plain noise is a record...
            all += extremes(0.0, run).0;
            // ...but many pass the last by a small fraction of the tail's
            // scale (for an exponential tail, a margin of m scales keeps
            // e^-m of them; a normal tail is lighter).
            kept += extremes(LikelihoodParams::default().record_margin, run).0;
            wide += extremes(1.0, run).0;
        }
        assert!(all >= 30, "records in noise: {all}");
        assert!(kept * 4 <= all * 3, "{kept} of {all} kept");
        assert!(wide * 2 <= all, "{wide} of {all} kept with a margin of 1");
        // A real departure leaves the tail behind.
        let (_, mut d) = extremes(LikelihoodParams::default().record_margin, 0);
        let r = d.observe(6.0);
        assert!(r.extreme && r.score == 1.0, "{r:?}");
    }

    #[test]
    fn the_context_view_keeps_one_and_a_half_times_the_history() {
        let run = |context_history: Option<usize>| {
            let mut d = Likelihood::new(LikelihoodParams {
                context_history,
                ..LikelihoodParams::default()
            });
            // Noise with a rare odd shape: novel contexts now and then.
            (0..6000u64)
                .map(|i| {
                    let odd = if i % 397 == 0 { 3.0 } else { 0.0 };
                    d.observe(noise(i) + odd).score.to_bits()
                })
                .collect::<Vec<_>>()
        };
        let default = run(None);
        assert_eq!(default, run(Some(1800)));
        assert_ne!(default, run(Some(1200)));
    }

    #[test]
    fn a_snapshot_without_the_tails_still_loads() {
        // Snapshots written before the tails were kept have no such fields.
        let mut d = Likelihood::new(LikelihoodParams::default());
        for i in 0..300 {
            d.observe(noise(i));
        }
        let mut json = serde_json::to_value(&d).unwrap();
        let map = json.as_object_mut().unwrap();
        assert!(map.remove("tails").is_some());
        let restored: Likelihood = serde_json::from_value(json).unwrap();
        assert!(restored.tails.is_empty() && restored.seen() == 300);
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
