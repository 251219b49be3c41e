//! A detector built from its spec.

use sentinel_model::{Severity, Timestamp, WindowSummary};
use serde::{Deserialize, Serialize};

use crate::detectors::Direction;
use crate::detectors::drift::Psi;
use crate::detectors::likelihood::Likelihood;
use crate::detectors::robust::{Mad, Seasonal};
use crate::detectors::simple::{Absent, EwmaZ, RateOfChange, Threshold, ZParams, ZScore, z_passed};
use crate::detectors::{Check, Eval, Op, Verdict, level_from};
use crate::rules::DetectorSpec;
use crate::stats::Ewma;

/// One detector's per-series state. The light detectors every dashboard
/// series runs (threshold, z-score, EWMA) keep only what changes per
/// reading, and read their parameters from the rule's [`DetectorSpec`], so a
/// series' rules sit in a few cache lines; the heavy ones are boxed.
///
/// A plain one-byte tag (`repr(u8)`, the seasonal state boxed so the enum
/// stays small): reading the kind is one load, not the decoding of a niche
/// in some variant's field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Detector {
    Threshold,
    Zscore(ZScore),
    Ewma(EwmaZ),
    Mad(Box<Mad>),
    Seasonal(Box<Seasonal>),
    RateOfChange(RateOfChange),
    Absent(Absent),
    Psi(Box<Psi>),
    Likelihood {
        state: Box<Likelihood>,
        warning: f64,
        critical: f64,
    },
}

impl Detector {
    pub fn new(spec: &DetectorSpec, severity: Severity) -> Self {
        match *spec {
            DetectorSpec::Threshold { .. } => Detector::Threshold,
            DetectorSpec::Zscore { window, .. } => Detector::Zscore(ZScore::new(window)),
            DetectorSpec::Ewma { alpha, .. } => Detector::Ewma(EwmaZ {
                ewma: Ewma::new(alpha),
            }),
            DetectorSpec::Mad {
                window,
                warmup,
                warning,
                critical,
                min_spread,
                direction,
            } => {
                let mut d = Mad::new(window, warmup, warning, critical);
                d.min_spread = min_spread;
                d.direction = direction;
                Detector::Mad(Box::new(d))
            }
            DetectorSpec::Seasonal {
                period,
                slots,
                alpha,
                min_cycles,
                warning,
                critical,
                direction,
            } => {
                let mut d = Seasonal::new(period, slots, alpha, min_cycles, warning, critical);
                d.direction = direction;
                Detector::Seasonal(Box::new(d))
            }
            DetectorSpec::RateOfChange {
                per,
                op,
                value,
                counter,
            } => Detector::RateOfChange(RateOfChange {
                per,
                op,
                value,
                counter,
                severity,
                prev: None,
            }),
            DetectorSpec::Absent { after } => Detector::Absent(Absent {
                after,
                severity,
                last: None,
            }),
            DetectorSpec::Psi {
                baseline,
                window,
                bins,
                moderate,
                severe,
            } => Detector::Psi(Box::new(Psi::new(baseline, window, bins, moderate, severe))),
            DetectorSpec::Likelihood {
                params,
                warning,
                critical,
            } => Detector::Likelihood {
                state: Box::new(Likelihood::new(params)),
                warning,
                critical,
            },
        }
    }

    /// Whether the detector grades its own findings (warning / critical).
    pub fn graded(&self) -> bool {
        !matches!(
            self,
            Detector::Threshold | Detector::RateOfChange(_) | Detector::Absent(_)
        )
    }

    /// The hot path: the verdict on one reading. `p` is built from the
    /// rule's spec and severity, the ones the detector was built from.
    #[inline]
    pub fn observe(&mut self, p: &Params, at: Timestamp, x: f64) -> Verdict {
        match self {
            Detector::Threshold => p.threshold().observe(x),
            Detector::Zscore(d) => d.observe(&p.z, x),
            Detector::Ewma(d) => d.observe(&p.z, x),
            Detector::Mad(d) => d.observe(x),
            Detector::Seasonal(d) => d.observe(at, x),
            Detector::RateOfChange(d) => d.observe(at, x),
            Detector::Absent(d) => d.observe(at),
            Detector::Psi(d) => d.observe(x),
            Detector::Likelihood {
                state,
                warning,
                critical,
            } => {
                let r = state.observe(x);
                if !r.ready {
                    return Verdict::warming([state.seen() as f64, 0.0, 0.0, 0.0]);
                }
                let level = level_from(r.score, *warning, *critical);
                Verdict::ready(level, [r.score, r.z, r.tail, r.novelty])
            }
        }
    }

    /// What the detector computed and compared for `v`, the verdict it just
    /// gave (its state must not have moved on since).
    pub fn explain(&self, spec: &DetectorSpec, severity: Severity, v: &Verdict) -> Eval {
        match self {
            Detector::Threshold => threshold(spec, severity).explain(v),
            Detector::Zscore(d) => d.explain(&z_params(spec), v),
            Detector::Ewma(d) => d.explain(&z_params(spec), v),
            Detector::Mad(d) => d.explain(v),
            Detector::Seasonal(d) => d.explain(v),
            Detector::RateOfChange(d) => d.explain(v),
            Detector::Absent(d) => d.explain(v),
            Detector::Psi(d) => d.explain(v),
            Detector::Likelihood {
                state,
                warning,
                critical,
            } => {
                let [score, z, tail, novelty] = v.inputs;
                if !v.ready {
                    return Eval::warming("warming up").value("readings", score);
                }
                let w = state.window();
                Eval::default()
                    .with_band(w.mean() - 2.0 * w.std(), w.mean() + 2.0 * w.std())
                    .ready()
                    .value("score", score)
                    .value("z", z)
                    .value("tail probability", tail)
                    .value("context novelty", novelty)
                    .check(Check::new(
                        "score",
                        score,
                        Op::Ge,
                        *critical,
                        Some(Severity::Critical),
                    ))
                    .check(Check::new(
                        "score",
                        score,
                        Op::Ge,
                        *warning,
                        Some(Severity::Warning),
                    ))
            }
        }
    }

    /// The first comparison that held in [`Detector::explain`]'s evaluation
    /// of `v`, computed directly where that is cheap (a rule going pending
    /// asks for it on every flap).
    pub fn passed(&self, spec: &DetectorSpec, severity: Severity, v: &Verdict) -> Option<Check> {
        match self {
            Detector::Threshold => Some(threshold(spec, severity).check(v)).filter(|c| c.passed),
            Detector::Zscore(_) | Detector::Ewma(_) => z_passed(v, &z_params(spec)),
            _ => self
                .explain(spec, severity, v)
                .checks()
                .find(|c| c.passed)
                .copied(),
        }
    }

    /// Evaluate without a reading (only absence detectors can change).
    pub fn tick(&self, now: Timestamp) -> Option<Verdict> {
        match self {
            Detector::Absent(d) => Some(d.check(now)),
            _ => None,
        }
    }

    /// The detector's own input window, if it keeps one.
    pub fn window(&self) -> Option<WindowSummary> {
        match self {
            Detector::Zscore(d) => Some(d.window.summary()),
            Detector::Mad(d) => Some(d.window.summary()),
            Detector::Likelihood { state, .. } => Some(state.window().summary()),
            _ => None,
        }
    }
}

/// A rule's detector parameters as a reading needs them: loads from one
/// small struct, where matching the rule's [`DetectorSpec`] would cost a
/// branch or two per reading.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    pub severity: Severity,
    /// A threshold's comparison.
    pub op: Op,
    pub value: f64,
    /// The z-score family's.
    pub z: ZParams,
    /// A light rule with `for` (set by the engine): going pending waits in
    /// its slot for the next reading.
    pub defer: bool,
}

impl Params {
    pub fn new(spec: &DetectorSpec, severity: Severity) -> Self {
        let t = threshold(spec, severity);
        Self {
            severity,
            op: t.op,
            value: t.value,
            z: z_params(spec),
            defer: false,
        }
    }

    #[inline]
    pub fn threshold(&self) -> Threshold {
        Threshold {
            op: self.op,
            value: self.value,
            severity: self.severity,
        }
    }
}

/// A threshold rule's comparison. Any other spec (never: a detector is
/// built from its rule's) gives `> ∞`, which no reading passes (and which,
/// unlike NaN, equals itself, so engines compare equal).
fn threshold(spec: &DetectorSpec, severity: Severity) -> Threshold {
    let (op, value) = match *spec {
        DetectorSpec::Threshold { op, value } => (op, value),
        _ => (Op::Gt, f64::INFINITY),
    };
    Threshold {
        op,
        value,
        severity,
    }
}

/// A z-score family rule's parameters. Any other spec (never: a detector is
/// built from its rule's) never finishes warming up, so gives no verdict.
fn z_params(spec: &DetectorSpec) -> ZParams {
    match *spec {
        DetectorSpec::Zscore {
            warmup,
            warning,
            critical,
            min_spread,
            direction,
            ..
        }
        | DetectorSpec::Ewma {
            warmup,
            warning,
            critical,
            min_spread,
            direction,
            ..
        } => ZParams::new(warmup, warning, critical, min_spread, direction),
        _ => ZParams::new(
            usize::MAX,
            f64::INFINITY,
            f64::INFINITY,
            0.0,
            Direction::Both,
        ),
    }
}

/// A series' rules must stay small: see the engine's layout.
const _: () = assert!(std::mem::size_of::<Detector>() <= 56);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use sentinel_model::{Severity, Timestamp};

    use super::Detector;
    use crate::rules::{DetectorSpec, RuleFile};

    /// One spec of every kind: the default pack's and the bench set's.
    fn specs() -> Vec<DetectorSpec> {
        let mut all: Vec<DetectorSpec> = crate::default_pack()
            .rules
            .into_iter()
            .chain(RuleFile::parse(crate::bench::STREAMING_SET).unwrap().rules)
            .map(|r| r.detector)
            .collect();
        for extra in [
            "{kind: seasonal, period: 60s, slots: 6, min_cycles: 2}",
            // Limits out of order, negative, and a NaN spread floor: each
            // takes its own comparison in the hot path.
            "{kind: zscore, window: 20, warning: 3, critical: 2}",
            "{kind: ewma, alpha: 0.2, warning: -1, critical: 2}",
            "{kind: zscore, window: 20, min_spread: .nan}",
            "{kind: ewma, alpha: 0.2, min_spread: 0.5}",
        ] {
            all.push(serde_yaml::from_str(extra).unwrap());
        }
        all
    }

    proptest! {
        /// The hot path's verdict and the full evaluation a trace is written
        /// from never disagree.
        #[test]
        fn verdict_and_explanation_agree(
            xs in prop::collection::vec(prop_oneof![
                4 => -10.0f64..10.0,
                1 => Just(0.0),
                1 => -1e12f64..1e12,
            ], 1..400)
        ) {
            for spec in specs() {
                let sev = Severity::Critical;
                let mut d = Detector::new(&spec, sev);
                for (i, x) in xs.iter().enumerate() {
                    let at = Timestamp::from_secs(i as i64 * 10);
                    let v = d.observe(&super::Params::new(&spec, sev), at, *x);
                    let e = d.explain(&spec, sev, &v);
                    prop_assert_eq!(v.ready, e.ready, "{:?} at {}", spec.kind(), i);
                    prop_assert_eq!(v.level, e.level, "{:?} at {}", spec.kind(), i);
                    let first = e.checks().find(|c| c.passed).copied();
                    prop_assert_eq!(d.passed(&spec, sev, &v), first, "{:?} at {}", spec.kind(), i);
                }
            }
        }
    }
}
