//! Rules are data: a YAML file names, per rule, a selector over series, a
//! detector with its parameters, a severity, the `for` and
//! `keep_firing_for` of its lifecycle, and an explanation template.
//! The format is documented in docs/rules.md.

use std::collections::BTreeMap;

use sentinel_model::{Duration, SeriesKey, Severity};
use serde::{Deserialize, Serialize};

use crate::duration::{duration, ser_duration};
pub use crate::duration::{format_duration, parse_duration};

use crate::detectors::Op;
use crate::detectors::likelihood::LikelihoodParams;

/// A rule file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    pub selector: Selector,
    pub detector: DetectorSpec,
    pub severity: Severity,
    #[serde(
        default,
        rename = "for",
        deserialize_with = "duration",
        serialize_with = "ser_duration"
    )]
    pub for_: Duration,
    #[serde(
        default,
        deserialize_with = "duration",
        serialize_with = "ser_duration"
    )]
    pub keep_firing_for: Duration,
    /// `{labelname}`, `{value}`, `{threshold}`, `{for}` and the detector's
    /// computed values (`{z}`, `{PSI}`, …) are filled in.
    pub explain: String,
}

/// Which series a rule applies to: a metric name and label matchers. A
/// matcher value is exact, or `!value` for "not equal", or `*` for "present".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    pub metric: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl Selector {
    pub fn matches(&self, key: &SeriesKey) -> bool {
        key.metric == self.metric
            && self.labels.iter().all(|(k, want)| {
                let have = key.labels.get(k);
                match want.as_str() {
                    "*" => have.is_some(),
                    w if w.starts_with('!') => have.map(String::as_str) != Some(&w[1..]),
                    w => have.map(String::as_str) == Some(w),
                }
            })
    }
}

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

/// An error in a rule file, naming the rule or the position.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError(pub String);

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RuleError {}

impl RuleFile {
    pub fn parse(yaml: &str) -> Result<RuleFile, RuleError> {
        let file: RuleFile = serde_yaml::from_str(yaml).map_err(|e| RuleError(e.to_string()))?;
        file.validate()?;
        Ok(file)
    }

    pub fn validate(&self) -> Result<(), RuleError> {
        let mut names = std::collections::BTreeSet::new();
        for r in &self.rules {
            let bad = |why: &str| Err(RuleError(format!("rule {}: {why}", r.name)));
            if r.name.trim().is_empty() {
                return Err(RuleError("a rule has an empty name".into()));
            }
            if !names.insert(&r.name) {
                return bad("the name is used twice");
            }
            if r.selector.metric.is_empty() {
                return bad("the selector names no metric");
            }
            if r.for_.millis() < 0 || r.keep_firing_for.millis() < 0 {
                return bad("durations must not be negative");
            }
            let ok = match &r.detector {
                DetectorSpec::Threshold { value, .. }
                | DetectorSpec::RateOfChange { value, .. } => value.is_finite(),
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
                    ..
                } => {
                    period.millis() > 0
                        && *slots >= 1
                        && *slots <= 10_080
                        && *alpha > 0.0
                        && *alpha <= 1.0
                }
                DetectorSpec::Absent { after } => after.millis() > 0,
                DetectorSpec::Psi {
                    baseline,
                    window,
                    bins,
                    moderate,
                    severe,
                } => {
                    *baseline >= 10
                        && *window >= 10
                        && *window <= 100_000
                        && (2..=100).contains(bins)
                        && moderate <= severe
                }
                DetectorSpec::Likelihood {
                    params,
                    warning,
                    critical,
                } => params.is_valid() && warning <= critical,
            };
            if !ok {
                return bad(&format!(
                    "invalid parameters for the {} detector",
                    r.detector.kind()
                ));
            }
        }
        Ok(())
    }
}

/// The rule pack the app ships (docs/rules.md describes each rule).
pub const DEFAULT_PACK: &str = include_str!("../rules/default.yaml");

pub fn default_pack() -> RuleFile {
    // The pack is checked by a unit test; an error here cannot ship.
    RuleFile::parse(DEFAULT_PACK).unwrap_or(RuleFile { rules: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pack_parses_and_names_what_the_product_promises() {
        let pack = RuleFile::parse(DEFAULT_PACK).unwrap();
        let names: Vec<&str> = pack.rules.iter().map(|r| r.name.as_str()).collect();
        for want in [
            "NodeCPUHigh",
            "PodMemoryHigh",
            "TargetDown",
            "SourceAbsent",
            "ContainerRestarting",
            "PodNotReady",
            "NodeNotReady",
            "ErrorRateAnomaly",
            "LatencyP95Anomaly",
            "ClusterCPUAnomaly",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        let cpu = pack.rules.iter().find(|r| r.name == "NodeCPUHigh").unwrap();
        assert_eq!(cpu.for_, Duration::from_mins(2));
        assert_eq!(cpu.severity, Severity::Warning);
    }

    #[test]
    fn bad_rule_files_are_named_errors() {
        let e = RuleFile::parse("rules: [{name: x}]").unwrap_err();
        assert!(e.0.contains("missing field"), "{e}");
        let e = RuleFile::parse(
            "rules:\n- name: a\n  selector: {metric: m}\n  detector: {kind: zscore, window: 1}\n  severity: warning\n  explain: x\n",
        )
        .unwrap_err();
        assert_eq!(e.0, "rule a: invalid parameters for the zscore detector");
        let e = RuleFile::parse(
            "rules:\n- name: a\n  selector: {metric: m}\n  detector: {kind: absent, after: soon}\n  severity: warning\n  explain: x\n",
        )
        .unwrap_err();
        assert!(e.0.contains("bad duration"), "{e}");
        let likelihood = |params: &str| {
            RuleFile::parse(&format!(
                "rules:\n- name: a\n  selector: {{metric: m}}\n  detector: {{kind: likelihood, params: {{{params}}}}}\n  severity: warning\n  explain: x\n"
            ))
        };
        assert!(likelihood("record_margin: 0.5, record_tail: 30").is_ok());
        assert!(likelihood("history: 100000, context_history: 2").is_ok());
        // The context view's default history stays within the bound too.
        assert!(likelihood("history: 100000").is_ok());
        for bad in [
            "record_margin: -1",
            "record_margin: .nan",
            "record_tail: 100000",
            // Each window is a buffer per series: no rule may ask for gigabytes.
            "history: 4000000000",
            "context_history: 1000000",
            "window: 1",
            "damp: 2",
            "novelty_margin: .inf",
        ] {
            let e = likelihood(bad).unwrap_err();
            assert_eq!(
                e.0, "rule a: invalid parameters for the likelihood detector",
                "{bad}"
            );
        }
    }

    #[test]
    fn selectors_match_exact_negated_and_present_labels() {
        let s = Selector {
            metric: "m".into(),
            labels: [
                ("ns".to_string(), "shop".to_string()),
                ("pod".into(), "*".into()),
                ("c".into(), "!x".into()),
            ]
            .into_iter()
            .collect(),
        };
        assert!(s.matches(&SeriesKey::new("m", [("ns", "shop"), ("pod", "a")])));
        assert!(!s.matches(&SeriesKey::new("m", [("ns", "shop")])));
        assert!(!s.matches(&SeriesKey::new(
            "m",
            [("ns", "shop"), ("pod", "a"), ("c", "x")]
        )));
        assert!(!s.matches(&SeriesKey::new("n", [("ns", "shop"), ("pod", "a")])));
    }
}
