//! A detector built from its spec.

use sentinel_model::{Severity, Timestamp, WindowSummary};
use serde::{Deserialize, Serialize};

use crate::detectors::drift::Psi;
use crate::detectors::likelihood::Likelihood;
use crate::detectors::robust::{Mad, Seasonal};
use crate::detectors::simple::{Absent, EwmaZ, RateOfChange, Threshold, ZScore};
use crate::detectors::{Check, Eval, Op};
use crate::rules::DetectorSpec;
use crate::stats::Ewma;

/// One detector's per-series state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Detector {
    Threshold(Threshold),
    Zscore(ZScore),
    Ewma(EwmaZ),
    Mad(Mad),
    Seasonal(Seasonal),
    RateOfChange(RateOfChange),
    Absent(Absent),
    Psi(Psi),
    Likelihood {
        state: Box<Likelihood>,
        warning: f64,
        critical: f64,
    },
}

impl Detector {
    pub fn new(spec: &DetectorSpec, severity: Severity) -> Self {
        match *spec {
            DetectorSpec::Threshold { op, value } => Detector::Threshold(Threshold {
                op,
                value,
                severity,
            }),
            DetectorSpec::Zscore {
                window,
                warmup,
                warning,
                critical,
                min_spread,
            } => Detector::Zscore(ZScore {
                min_spread,
                ..ZScore::new(window, warmup, warning, critical)
            }),
            DetectorSpec::Ewma {
                alpha,
                warmup,
                warning,
                critical,
                min_spread,
            } => Detector::Ewma(EwmaZ {
                ewma: Ewma::new(alpha),
                warmup: warmup as u64,
                warning,
                critical,
                min_spread,
            }),
            DetectorSpec::Mad {
                window,
                warmup,
                warning,
                critical,
                min_spread,
            } => {
                let mut d = Mad::new(window, warmup, warning, critical);
                d.min_spread = min_spread;
                Detector::Mad(d)
            }
            DetectorSpec::Seasonal {
                period,
                slots,
                alpha,
                min_cycles,
                warning,
                critical,
            } => Detector::Seasonal(Seasonal::new(
                period, slots, alpha, min_cycles, warning, critical,
            )),
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
            } => Detector::Psi(Psi::new(baseline, window, bins, moderate, severe)),
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
            Detector::Threshold(_) | Detector::RateOfChange(_) | Detector::Absent(_)
        )
    }

    pub fn observe(&mut self, at: Timestamp, x: f64) -> Eval {
        match self {
            Detector::Threshold(d) => d.observe(x),
            Detector::Zscore(d) => d.observe(x),
            Detector::Ewma(d) => d.observe(x),
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
                    return Eval::warming("warming up").value("readings", state.seen() as f64);
                }
                let w = state.window();
                Eval::default()
                    .with_band(w.mean() - 2.0 * w.std(), w.mean() + 2.0 * w.std())
                    .ready()
                    .value("score", r.score)
                    .value("z", r.z)
                    .value("tail probability", r.tail)
                    .value("context novelty", r.novelty)
                    .check(Check::new(
                        "score",
                        r.score,
                        Op::Ge,
                        *critical,
                        Some(Severity::Critical),
                    ))
                    .check(Check::new(
                        "score",
                        r.score,
                        Op::Ge,
                        *warning,
                        Some(Severity::Warning),
                    ))
            }
        }
    }

    /// Evaluate without a reading (only absence detectors can change).
    pub fn tick(&self, now: Timestamp) -> Option<Eval> {
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
