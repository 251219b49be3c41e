//! Writing a finding's trace: what the detector computed, what the rule
//! compared, the readings captured, and the explanation filled in.

use std::collections::VecDeque;

use sentinel_model::{
    Comparison, Computed, RuleRef, RuleTrace, SeriesKey, Timestamp, brief, percent,
};

use crate::detectors::Eval;
use crate::history::Recent;
use crate::lifecycle::Lifecycle;
use crate::rules::{Rule, format_duration};
use crate::state::Detector;
use crate::stats::summarize;

/// JSON has no infinity: the largest finite number stands for it.
fn finite(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(f64::MIN, f64::MAX)
    }
}

/// What was seen when a trace is written.
pub(crate) struct Evidence<'a> {
    pub key: &'a SeriesKey,
    /// The series' recent readings.
    pub recent: Recent<'a>,
    /// The readings of the current episode (empty when inactive).
    pub episode: &'a VecDeque<(Timestamp, f64)>,
    pub at: Timestamp,
    pub value: f64,
}

pub(crate) fn build_trace(
    rule: &Rule,
    detector: &Detector,
    life: &Lifecycle,
    seen: Evidence<'_>,
    eval: &Eval,
) -> RuleTrace {
    let Evidence {
        key,
        recent,
        episode,
        at,
        value,
    } = seen;
    let window = detector
        .window()
        .unwrap_or_else(|| summarize(recent.iter().map(|p| p.1)));
    let computed: Vec<Computed> = eval
        .values()
        .iter()
        .map(|(n, v)| Computed {
            name: (*n).to_string(),
            value: finite(*v),
        })
        .collect();
    let comparisons = eval
        .checks()
        .map(|c| Comparison {
            name: c.name.to_string(),
            value: finite(c.value),
            op: c.op.as_str().to_string(),
            threshold: finite(c.threshold),
            passed: c.passed,
            severity: c.severity,
        })
        .collect();
    let mut trace = RuleTrace {
        rule: RuleRef {
            name: rule.name.clone(),
            detector: rule.detector.kind().to_string(),
            params: rule.detector.params(),
            severity: rule.severity,
            for_: rule.for_,
            keep_firing_for: rule.keep_firing_for,
        },
        series: key.clone(),
        at,
        value: finite(value),
        window,
        computed,
        comparisons,
        band: eval.band.map(|(a, b)| (finite(a), finite(b))),
        threshold: rule.detector.threshold(),
        transitions: life.transitions(),
        points: if episode.is_empty() {
            recent.iter().collect()
        } else {
            episode.iter().copied().collect()
        },
        state: life.state,
        severity: life.severity,
        explanation: String::new(),
        mark: None,
    };
    trace.explanation = explain(rule, &trace);
    trace
}

/// Fill the rule's template: labels, `value`, `threshold`, `for`,
/// `keep_firing_for`, the rule's parameters and the computed values, numbers
/// to three significant digits (the trace's steps keep them exact); a
/// number's name followed by `:%` gives it as a percentage (`{value:%}`:
/// 0.934 → 93.4%), by `:s` a number of seconds as a duration (`{value:s}`:
/// 7500 → 2h). Unknown names stay as written.
pub fn explain(rule: &Rule, trace: &RuleTrace) -> String {
    let number = |name: &str| -> Option<f64> {
        match name {
            "value" => Some(trace.value),
            "threshold" => trace.threshold,
            _ => trace
                .computed
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.value)
                .or_else(|| {
                    let (_, v) = trace.rule.params.iter().find(|(k, _)| k == name)?;
                    v.parse().ok()
                }),
        }
    };
    let lookup = |name: &str| -> Option<String> {
        if let Some(base) = name.strip_suffix(":%") {
            return number(base).map(percent);
        }
        if let Some(base) = name.strip_suffix(":s") {
            #[allow(clippy::cast_possible_truncation)]
            return number(base).map(|v| sentinel_model::Duration::from_secs(v as i64).human());
        }
        if let Some(v) = trace.series.labels.get(name) {
            return Some(v.clone());
        }
        Some(match name {
            "value" => brief(trace.value),
            "threshold" => brief(trace.threshold?),
            "for" => format_duration(rule.for_),
            "keep_firing_for" => format_duration(rule.keep_firing_for),
            "metric" => trace.series.metric.clone(),
            "severity" => trace.severity.as_str().to_string(),
            _ => {
                if let Some(c) = trace.computed.iter().find(|c| c.name == name) {
                    brief(c.value)
                } else {
                    trace.rule.params.iter().find(|(k, _)| k == name)?.1.clone()
                }
            }
        })
    };
    let t = &rule.explain;
    let mut out = String::with_capacity(t.len() + 32);
    let mut rest = t.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}
