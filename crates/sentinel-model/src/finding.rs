//! Findings of the anomaly engine and the rule trace that explains each one.
//! The trace is data (it is stored and replayed) and renders as sentences.

use serde::{Deserialize, Serialize};

use crate::{Duration, Labels, Severity, Timestamp};

/// A series: a metric name and its labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SeriesKey {
    pub metric: String,
    pub labels: Labels,
}

impl SeriesKey {
    pub fn new<'a>(metric: &str, labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            metric: metric.to_string(),
            labels: labels
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

impl std::fmt::Display for SeriesKey {
    /// PromQL's selector form: `metric{a="x", b="y"}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.metric)?;
        if !self.labels.is_empty() {
            f.write_str("{")?;
            for (i, (k, v)) in self.labels.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{k}=\"{v}\"")?;
            }
            f.write_str("}")?;
        }
        Ok(())
    }
}

/// The lifecycle of a rule on one series, with Prometheus' `for` semantics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleState {
    Inactive,
    Pending,
    Firing,
    Resolved,
}

impl RuleState {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleState::Inactive => "inactive",
            RuleState::Pending => "pending",
            RuleState::Firing => "firing",
            RuleState::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub at: Timestamp,
    pub from: RuleState,
    pub to: RuleState,
    pub reason: String,
}

/// A value the detector computed (z, likelihood, PSI, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Computed {
    pub name: String,
    pub value: f64,
}

/// One comparison against a threshold and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub name: String,
    pub value: f64,
    pub op: String,
    pub threshold: f64,
    pub passed: bool,
    /// The severity this comparison decides, if any.
    pub severity: Option<Severity>,
}

/// The detector's input window at evaluation time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowSummary {
    pub count: usize,
    pub mean: f64,
    pub std: f64,
    pub median: f64,
    pub mad: f64,
    pub min: f64,
    pub max: f64,
}

/// The rule as it was when it fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRef {
    pub name: String,
    pub detector: String,
    /// Detector parameters, `name = value`, as written in the rule file.
    pub params: Vec<(String, String)>,
    pub severity: Severity,
    pub for_: Duration,
    pub keep_firing_for: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    FalsePositive,
    Confirmed,
}

impl Mark {
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::FalsePositive => "false positive",
            Mark::Confirmed => "confirmed",
        }
    }
}

/// An operator's verdict on a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatorMark {
    pub mark: Mark,
    pub at: Timestamp,
}

/// Everything that explains a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleTrace {
    pub rule: RuleRef,
    pub series: SeriesKey,
    /// The evaluation this trace describes and the value seen then.
    pub at: Timestamp,
    pub value: f64,
    pub window: WindowSummary,
    pub computed: Vec<Computed>,
    pub comparisons: Vec<Comparison>,
    /// The expected range at `at`, when the detector has one.
    pub band: Option<(f64, f64)>,
    /// The fixed threshold, when the rule has one.
    pub threshold: Option<f64>,
    pub transitions: Vec<Transition>,
    /// The readings of the series up to `at` that the engine held (the
    /// captured evidence the chart shows).
    pub points: Vec<(Timestamp, f64)>,
    pub state: RuleState,
    pub severity: Severity,
    /// The rule's explanation template, filled in.
    pub explanation: String,
    pub mark: Option<OperatorMark>,
}

/// A number for sentences; `f64::MAX` stands for infinity (JSON has none).
pub fn num(v: f64) -> String {
    if !v.is_finite() || v.abs() == f64::MAX {
        return if v.is_nan() {
            "n/a".into()
        } else if v > 0.0 {
            "∞".into()
        } else {
            "-∞".into()
        };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{v:.3e}")
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// A number for an explanation's prose: three significant digits, as a
/// person would say it (48.534 → "48.5", 2.552 → "2.55", 0.2744 → "0.274"),
/// whole numbers from 100 up ("1034"); `num` keeps the trace's steps exact.
pub fn brief(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() || a == f64::MAX || !(1e-3..100.0).contains(&a) {
        return num(v);
    }
    // Digits after the point that leave three significant ones.
    let decimals = (2 - a.log10().floor() as i32).clamp(0, 5) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A ratio as a percentage for sentences: 0.934 → "93.4%", 1 → "100%".
/// One decimal at most; below 0.1% the digits `num` gives.
pub fn percent(v: f64) -> String {
    if !v.is_finite() || v.abs() == f64::MAX {
        return num(v);
    }
    let p = v * 100.0;
    let digits = if p == 0.0 || p.abs() >= 0.1 {
        let one = format!("{p:.1}");
        one.strip_suffix(".0").map(str::to_string).unwrap_or(one)
    } else {
        num(p)
    };
    format!("{digits}%")
}

impl RuleTrace {
    /// The trace as plain sentences, in the order things happened.
    pub fn sentences(&self) -> Vec<String> {
        let mut out = Vec::new();
        let r = &self.rule;
        let params = r
            .params
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(format!(
            "Rule {} watches {} with the {} detector ({}), severity {}.",
            r.name,
            self.series,
            r.detector,
            if params.is_empty() {
                "no parameters".into()
            } else {
                params
            },
            r.severity.as_str()
        ));
        let w = &self.window;
        if w.count > 0 {
            out.push(format!(
                "Over its window of {} readings: mean {}, std {}, median {}, MAD {}, min {}, max {}.",
                w.count,
                num(w.mean),
                num(w.std),
                num(w.median),
                num(w.mad),
                num(w.min),
                num(w.max)
            ));
        }
        let computed = self
            .computed
            .iter()
            .map(|c| format!("{} = {}", c.name, num(c.value)))
            .collect::<Vec<_>>();
        out.push(if computed.is_empty() {
            format!(
                "At {} the value was {}.",
                self.at.to_text(),
                num(self.value)
            )
        } else {
            format!(
                "At {} the value was {}; computed {}.",
                self.at.to_text(),
                num(self.value),
                computed.join(", ")
            )
        });
        for c in &self.comparisons {
            let sev = c
                .severity
                .map(|s| format!(" ({})", s.as_str()))
                .unwrap_or_default();
            out.push(format!(
                "Check {}: {} {} {}{} → {}.",
                c.name,
                num(c.value),
                c.op,
                num(c.threshold),
                sev,
                if c.passed { "true" } else { "false" }
            ));
        }
        for t in &self.transitions {
            out.push(format!(
                "{} → {} at {}: {}.",
                t.from.as_str(),
                t.to.as_str(),
                t.at.to_text(),
                t.reason
            ));
        }
        out.push(format!(
            "Verdict: {} ({}). {}",
            self.state.as_str(),
            self.severity.as_str(),
            self.explanation
        ));
        if let Some(m) = &self.mark {
            out.push(format!(
                "Marked {} by the operator at {}.",
                m.mark.as_str(),
                m.at.to_text()
            ));
        }
        out
    }
}

/// What the engine reports: a rule's state on a series changed to firing or
/// resolved (or got worse while firing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable for the life of one firing: rule, series and start.
    pub id: String,
    pub rule: String,
    pub series: SeriesKey,
    pub severity: Severity,
    pub state: RuleState,
    /// When the condition first held (pending, or firing with no `for`).
    pub active_at: Timestamp,
    pub fired_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub summary: String,
    pub trace: RuleTrace,
}

impl Finding {
    pub fn mark(&self) -> Option<&OperatorMark> {
        self.trace.mark.as_ref()
    }

    /// When the engine reported this version of the finding: its newest
    /// transition (fired, escalated or resolved).
    pub fn reported_at(&self) -> Timestamp {
        self.trace
            .transitions
            .last()
            .map_or(self.fired_at, |t| t.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_keys_print_as_promql_selectors() {
        let k = SeriesKey::new("up", [("job", "api"), ("instance", "a:9090")]);
        assert_eq!(k.to_string(), r#"up{instance="a:9090", job="api"}"#);
        assert_eq!(SeriesKey::new("x", []).to_string(), "x");
    }

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(num(2.0), "2");
        assert_eq!(num(0.8534), "0.853");
        assert_eq!(num(1234.6), "1235");
        assert_eq!(num(f64::INFINITY), "∞");
        assert_eq!(num(3e-7), "3.000e-7");
        assert_eq!(brief(48.534), "48.5");
        assert_eq!(brief(2.552), "2.55");
        assert_eq!(brief(-2.206), "-2.21");
        assert_eq!(brief(0.27449), "0.274");
        assert_eq!(brief(0.001234), "0.00123");
        assert_eq!(brief(30.0), "30");
        assert_eq!(brief(99.96), "100");
        assert_eq!(brief(1034.4), "1034");
        assert_eq!(brief(0.0), "0");
        assert_eq!(brief(f64::MAX), "∞");
    }

    #[test]
    fn ratios_read_as_percentages() {
        assert_eq!(percent(0.934), "93.4%");
        assert_eq!(percent(0.9996), "100%");
        assert_eq!(percent(0.8), "80%");
        assert_eq!(percent(1.5), "150%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(-0.25), "-25%");
        assert_eq!(percent(0.00042), "0.042%");
        assert_eq!(percent(f64::NAN), "n/a");
    }
}
