//! The detector a rule names, with its parameters as written in YAML and
//! the bounds they must keep.

use sentinel_model::Duration;
use serde::{Deserialize, Serialize};

use crate::detectors::likelihood::LikelihoodParams;
use crate::detectors::{Direction, Op};
use crate::duration::{duration, ser_duration};

/// A detector and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DetectorSpec {
    /// `value op threshold`.
    Threshold { op: Op, value: f64 },
    /// Rolling z-score.
    Zscore {
        #[serde(default = "d_window")]
        window: usize,
        #[serde(default = "d_warmup")]
        warmup: usize,
        #[serde(default = "d_warning")]
        warning: f64,
        #[serde(default = "d_critical")]
        critical: f64,
        /// Spread below which deviations are never unusual (same unit as the series).
        #[serde(default)]
        min_spread: f64,
        /// Which side of the baseline counts: `both` (default), `up`, `down`.
        #[serde(default, skip_serializing_if = "Direction::is_both")]
        direction: Direction,
    },
    /// EWMA mean and variance.
    Ewma {
        #[serde(default = "d_alpha")]
        alpha: f64,
        #[serde(default = "d_warmup")]
        warmup: usize,
        #[serde(default = "d_warning")]
        warning: f64,
        #[serde(default = "d_critical")]
        critical: f64,
        /// Spread below which deviations are never unusual (same unit as the series).
        #[serde(default)]
        min_spread: f64,
        /// Which side of the baseline counts: `both` (default), `up`, `down`.
        #[serde(default, skip_serializing_if = "Direction::is_both")]
        direction: Direction,
    },
    /// Median / MAD (modified z-score).
    Mad {
        #[serde(default = "d_window")]
        window: usize,
        #[serde(default = "d_warmup")]
        warmup: usize,
        #[serde(default = "d_mad_warning")]
        warning: f64,
        #[serde(default = "d_mad_critical")]
        critical: f64,
        /// Spread below which deviations are never unusual (same unit as the series).
        #[serde(default)]
        min_spread: f64,
        /// Which side of the baseline counts: `both` (default), `up`, `down`.
        #[serde(default, skip_serializing_if = "Direction::is_both")]
        direction: Direction,
    },
    /// Same time of the period (day or week).
    Seasonal {
        #[serde(deserialize_with = "duration", serialize_with = "ser_duration")]
        period: Duration,
        #[serde(default = "d_slots")]
        slots: usize,
        #[serde(default = "d_alpha")]
        alpha: f64,
        #[serde(default = "d_cycles")]
        min_cycles: u64,
        #[serde(default = "d_warning")]
        warning: f64,
        #[serde(default = "d_critical")]
        critical: f64,
        /// Which side of the baseline counts: `both` (default), `up`, `down`.
        #[serde(default, skip_serializing_if = "Direction::is_both")]
        direction: Direction,
    },
    /// Change per `per` between readings; `counter` treats drops as resets.
    RateOfChange {
        #[serde(
            default = "d_per",
            deserialize_with = "duration",
            serialize_with = "ser_duration"
        )]
        per: Duration,
        op: Op,
        value: f64,
        #[serde(default)]
        counter: bool,
    },
    /// No reading for `after`.
    Absent {
        #[serde(deserialize_with = "duration", serialize_with = "ser_duration")]
        after: Duration,
    },
    /// Distribution drift by PSI (and chi-square).
    Psi {
        #[serde(default = "d_psi_baseline")]
        baseline: usize,
        #[serde(default = "d_window")]
        window: usize,
        #[serde(default = "d_bins")]
        bins: usize,
        #[serde(default = "d_moderate")]
        moderate: f64,
        #[serde(default = "d_severe")]
        severe: f64,
    },
    /// Anomaly likelihood: a calibrated probability of unusualness.
    Likelihood {
        #[serde(default)]
        params: LikelihoodParams,
        #[serde(default = "d_lk_warning")]
        warning: f64,
        #[serde(default = "d_lk_critical")]
        critical: f64,
    },
}

fn d_window() -> usize {
    60
}
fn d_warmup() -> usize {
    5
}
fn d_warning() -> f64 {
    2.0
}
fn d_critical() -> f64 {
    3.0
}
fn d_alpha() -> f64 {
    0.1
}
fn d_mad_warning() -> f64 {
    3.5
}
fn d_mad_critical() -> f64 {
    5.0
}
fn d_slots() -> usize {
    24
}
fn d_cycles() -> u64 {
    2
}
fn d_per() -> Duration {
    Duration::from_secs(60)
}
fn d_psi_baseline() -> usize {
    300
}
fn d_bins() -> usize {
    10
}
fn d_moderate() -> f64 {
    0.10
}
fn d_severe() -> f64 {
    0.25
}
fn d_lk_warning() -> f64 {
    0.5
}
fn d_lk_critical() -> f64 {
    0.8
}

impl DetectorSpec {
    /// Parameters the detector can run with: finite thresholds in order,
    /// and windows a buffer per series can afford (at most 100,000
    /// readings), so no rule file can ask for gigabytes.
    pub fn is_valid(&self) -> bool {
        match self {
            DetectorSpec::Threshold { value, .. } | DetectorSpec::RateOfChange { value, .. } => {
                value.is_finite()
            }
            DetectorSpec::Zscore {
                window,
                warning,
                critical,
                ..
            }
            | DetectorSpec::Mad {
                window,
                warning,
                critical,
                ..
            } => *window >= 2 && *window <= 100_000 && 0.0 <= *warning && warning <= critical,
            DetectorSpec::Ewma {
                alpha,
                warning,
                critical,
                ..
            } => *alpha > 0.0 && *alpha <= 1.0 && 0.0 <= *warning && warning <= critical,
            DetectorSpec::Seasonal {
                period,
                slots,
                alpha,
                warning,
                critical,
                ..
            } => {
                period.millis() > 0
                    && *slots >= 1
                    && *slots <= 10_080
                    && *alpha > 0.0
                    && *alpha <= 1.0
                    && 0.0 <= *warning
                    && warning <= critical
            }
            DetectorSpec::Absent { after } => after.millis() > 0,
            DetectorSpec::Psi {
                baseline,
                window,
                bins,
                moderate,
                severe,
            } => {
                // The baseline is buffered until it is complete, so it is
                // bounded like a window.
                (10..=100_000).contains(baseline)
                    && (10..=100_000).contains(window)
                    && (2..=100).contains(bins)
                    && 0.0 <= *moderate
                    && moderate <= severe
            }
            DetectorSpec::Likelihood {
                params,
                warning,
                critical,
            } => params.is_valid() && warning <= critical,
        }
    }

    /// The light kinds every dashboard series runs. Their note on what held
    /// (`Detector::passed`) reads only the verdict's value, mean and
    /// variance, never the detector's state, so the engine can take it one
    /// reading later.
    pub fn light(&self) -> bool {
        matches!(
            self,
            DetectorSpec::Threshold { .. }
                | DetectorSpec::Zscore { .. }
                | DetectorSpec::Ewma { .. }
        )
    }

    pub fn kind(&self) -> &'static str {
        match self {
            DetectorSpec::Threshold { .. } => "threshold",
            DetectorSpec::Zscore { .. } => "zscore",
            DetectorSpec::Ewma { .. } => "ewma",
            DetectorSpec::Mad { .. } => "mad",
            DetectorSpec::Seasonal { .. } => "seasonal",
            DetectorSpec::RateOfChange { .. } => "rate_of_change",
            DetectorSpec::Absent { .. } => "absent",
            DetectorSpec::Psi { .. } => "psi",
            DetectorSpec::Likelihood { .. } => "likelihood",
        }
    }

    /// Parameters as written, for traces.
    pub fn params(&self) -> Vec<(String, String)> {
        let v = serde_json::to_value(self).unwrap_or_default();
        let mut out = Vec::new();
        if let serde_json::Value::Object(map) = v {
            for (k, v) in map {
                if k == "kind" {
                    continue;
                }
                match v {
                    serde_json::Value::Object(inner) => {
                        for (ik, iv) in inner {
                            out.push((format!("{k}.{ik}"), plain(&iv)));
                        }
                    }
                    v => out.push((k, plain(&v))),
                }
            }
        }
        out
    }

    /// A fixed threshold, if the detector has one (for charts).
    pub fn threshold(&self) -> Option<f64> {
        match self {
            DetectorSpec::Threshold { value, .. } | DetectorSpec::RateOfChange { value, .. } => {
                Some(*value)
            }
            _ => None,
        }
    }
}

fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}
