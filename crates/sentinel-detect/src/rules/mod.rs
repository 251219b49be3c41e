//! Rules are data: a YAML file names, per rule, a selector over series, a
//! detector with its parameters, a severity, the `for` and
//! `keep_firing_for` of its lifecycle, and an explanation template.
//! The format is documented in docs/rules.md.

use std::collections::BTreeMap;

use sentinel_model::{Duration, SeriesKey, Severity};
use serde::{Deserialize, Serialize};

mod spec;

use crate::duration::{duration, ser_duration};
pub use crate::duration::{format_duration, parse_duration};
pub use spec::DetectorSpec;

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
            if !r.detector.is_valid() {
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
pub const DEFAULT_PACK: &str = include_str!("../../rules/default.yaml");

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
            "JobFailed",
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
    fn every_detector_kind_refuses_parameters_it_cannot_run_with() {
        let rule = |detector: &str| {
            RuleFile::parse(&format!(
                "rules:\n- name: a\n  selector: {{metric: m}}\n  detector: {detector}\n  severity: warning\n  explain: x\n"
            ))
        };
        for good in [
            "{kind: threshold, op: '>', value: 1}",
            "{kind: zscore, window: 100000, warning: 0, critical: 0}",
            "{kind: ewma, alpha: 1}",
            "{kind: mad, window: 2}",
            "{kind: seasonal, period: 1w, slots: 10080}",
            "{kind: rate_of_change, op: '>', value: 0, counter: true}",
            "{kind: absent, after: 1ms}",
            "{kind: psi, baseline: 100000, window: 10, bins: 100, moderate: 0}",
            "{kind: likelihood}",
        ] {
            assert!(rule(good).is_ok(), "{good}: {:?}", rule(good).err());
        }
        for (kind, bad) in [
            ("threshold", "{kind: threshold, op: '>', value: .inf}"),
            ("zscore", "{kind: zscore, window: 100001}"),
            ("zscore", "{kind: zscore, warning: 4, critical: 3}"),
            ("zscore", "{kind: zscore, warning: .nan}"),
            ("ewma", "{kind: ewma, alpha: 0}"),
            ("ewma", "{kind: ewma, alpha: 1.5}"),
            ("mad", "{kind: mad, window: 1}"),
            ("mad", "{kind: mad, warning: -1}"),
            ("seasonal", "{kind: seasonal, period: 0s}"),
            ("seasonal", "{kind: seasonal, period: 1d, slots: 10081}"),
            ("seasonal", "{kind: seasonal, period: 1d, warning: .nan}"),
            (
                "seasonal",
                "{kind: seasonal, period: 1d, warning: 3, critical: 2}",
            ),
            (
                "rate_of_change",
                "{kind: rate_of_change, op: '<', value: .nan}",
            ),
            ("absent", "{kind: absent, after: 0s}"),
            // PSI buffers its baseline per series until it is complete.
            ("psi", "{kind: psi, baseline: 4000000000}"),
            ("psi", "{kind: psi, baseline: 9}"),
            ("psi", "{kind: psi, window: 100001}"),
            ("psi", "{kind: psi, bins: 1}"),
            ("psi", "{kind: psi, moderate: -0.1}"),
            ("psi", "{kind: psi, moderate: 0.3, severe: 0.2}"),
            (
                "likelihood",
                "{kind: likelihood, warning: 0.9, critical: 0.8}",
            ),
        ] {
            let e = rule(bad).err().unwrap_or(RuleError(String::new()));
            assert_eq!(
                e.0,
                format!("rule a: invalid parameters for the {kind} detector"),
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
