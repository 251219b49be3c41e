//! Prometheus alerting-rule files, both ways.
//!
//! [`import`] turns the alerting rules Sentinel can evaluate itself (a
//! selector compared with a number, directly or through `rate`,
//! `increase`, `delta`, `deriv`; `absent`, `absent_over_time`) into rules of
//! Sentinel's format and lists the others with the reason. [`export`]
//! writes Sentinel's rules as a Prometheus rule file whose expressions
//! compute the same series from kube-state-metrics and cAdvisor.

mod export;
mod promql;

use std::collections::{BTreeMap, BTreeSet};

use sentinel_model::{Duration, Severity};
use serde::{Deserialize, Serialize};

use crate::duration::{duration, ser_duration};
use crate::rules::{DetectorSpec, Rule, RuleError, RuleFile, Selector};
pub use export::{Exported, export, is_fed, read_selectors};
pub use promql::{Expr, VectorSelector, parse as parse_promql};

/// A Prometheus rule file (`groups:`), as far as Sentinel reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromRuleFile {
    pub groups: Vec<PromGroup>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromGroup {
    pub name: String,
    pub rules: Vec<PromRule>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct PromRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    pub expr: String,
    #[serde(
        default,
        rename = "for",
        deserialize_with = "duration",
        serialize_with = "ser_duration",
        skip_serializing_if = "is_zero"
    )]
    pub for_: Duration,
    #[serde(
        default,
        deserialize_with = "duration",
        serialize_with = "ser_duration",
        skip_serializing_if = "is_zero"
    )]
    pub keep_firing_for: Duration,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

fn is_zero(d: &Duration) -> bool {
    d.millis() == 0
}

/// A rule left out, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// What an import produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    pub rules: RuleFile,
    pub skipped: Vec<Skipped>,
}

/// Whether a YAML document is a Prometheus rule file (it has `groups:`).
pub fn is_prometheus_format(yaml: &str) -> bool {
    serde_yaml::from_str::<serde_yaml::Value>(yaml)
        .ok()
        .and_then(|v| v.get("groups").cloned())
        .is_some()
}

/// Reads a rule file in either format: Sentinel's (`rules:`) or
/// Prometheus' (`groups:`, converted by [`import`]).
pub fn load(yaml: &str) -> Result<Imported, RuleError> {
    if is_prometheus_format(yaml) {
        import(yaml)
    } else {
        Ok(Imported {
            rules: RuleFile::parse(yaml)?,
            skipped: Vec::new(),
        })
    }
}

/// Converts a Prometheus rule file's alerting rules.
pub fn import(yaml: &str) -> Result<Imported, RuleError> {
    let file: PromRuleFile = serde_yaml::from_str(yaml)
        .map_err(|e| RuleError(format!("not a Prometheus rule file: {e}")))?;
    let mut rules = Vec::new();
    let mut skipped = Vec::new();
    let mut names = BTreeSet::new();
    for group in &file.groups {
        for r in &group.rules {
            let Some(alert) = &r.alert else {
                let name = r.record.clone().unwrap_or_default();
                skipped.push(Skipped {
                    name,
                    reason: "a recording rule (Sentinel records its own series)".into(),
                });
                continue;
            };
            match convert(r, alert) {
                Ok(mut rule) => {
                    rule.name = unique(&mut names, alert, rule.severity);
                    rules.push(rule);
                }
                Err(reason) => skipped.push(Skipped {
                    name: alert.clone(),
                    reason: format!("`{}` is not evaluable by Sentinel: {reason}", r.expr.trim()),
                }),
            }
        }
    }
    let rules = RuleFile { rules };
    rules.validate()?;
    Ok(Imported { rules, skipped })
}

/// Prometheus lets two rules share an alert name (one per severity);
/// Sentinel names each rule once.
fn unique(names: &mut BTreeSet<String>, alert: &str, severity: Severity) -> String {
    let mut name = alert.to_string();
    if names.contains(&name) {
        name = format!("{alert} ({})", severity.as_str());
    }
    let mut n = 2;
    while names.contains(&name) {
        name = format!("{alert} #{n}");
        n += 1;
    }
    names.insert(name.clone());
    name
}

fn convert(r: &PromRule, alert: &str) -> Result<Rule, String> {
    let expr = promql::parse(&r.expr)?;
    let mut for_ = r.for_;
    let (arg, detector) = match expr {
        Expr::Compare { lhs, op, rhs } => {
            let (side, op, value) = match (*lhs, *rhs) {
                (e, Expr::Number(n)) => (e, op, n),
                (Expr::Number(n), e) => (e, flip(op), n),
                _ => return Err("it compares two series".into()),
            };
            if !value.is_finite() {
                return Err("it compares with a value that is not finite".into());
            }
            match side {
                Expr::Vector(s) => (s, DetectorSpec::Threshold { op, value }),
                Expr::Call {
                    name,
                    arg,
                    range: Some(range),
                } if matches!(name.as_str(), "rate" | "increase" | "delta" | "deriv") => {
                    let per_range = matches!(name.as_str(), "increase" | "delta");
                    let detector = DetectorSpec::RateOfChange {
                        per: if per_range {
                            range
                        } else {
                            Duration::from_secs(1)
                        },
                        op,
                        value,
                        counter: matches!(name.as_str(), "rate" | "increase"),
                    };
                    (arg, detector)
                }
                Expr::Call { name, .. } => {
                    return Err(format!("it compares `{name}` with a number"));
                }
                _ => return Err("it compares two numbers".into()),
            }
        }
        Expr::Call {
            name, arg, range, ..
        } if name == "absent" || name == "absent_over_time" => {
            let window = range.unwrap_or(Duration(0));
            let mut after = Duration(window.millis() + for_.millis());
            if after.millis() == 0 {
                after = Duration::from_mins(1);
            }
            for_ = Duration(0);
            (arg, DetectorSpec::Absent { after })
        }
        Expr::Call { name, .. } => return Err(format!("`{name}` without a comparison")),
        Expr::Vector(_) | Expr::Number(_) => return Err("it has no comparison".into()),
    };
    let severity = severity(r.labels.get("severity").map(String::as_str));
    Ok(Rule {
        name: alert.to_string(),
        selector: Selector {
            metric: arg.metric,
            labels: arg.labels,
        },
        detector,
        severity,
        for_,
        keep_firing_for: r.keep_firing_for,
        explain: explanation(r, alert),
    })
}

fn flip(op: crate::detectors::Op) -> crate::detectors::Op {
    use crate::detectors::Op;
    match op {
        Op::Gt => Op::Lt,
        Op::Ge => Op::Le,
        Op::Lt => Op::Gt,
        Op::Le => Op::Ge,
        other => other,
    }
}

/// Prometheus' severity label, read as for Alertmanager's alerts; a rule
/// without one warns.
fn severity(label: Option<&str>) -> Severity {
    label.map_or(Severity::Warning, Severity::from_label)
}

/// The summary (else description) with Go template references turned into
/// Sentinel's `{name}` placeholders.
fn explanation(r: &PromRule, alert: &str) -> String {
    let text = r
        .annotations
        .get("summary")
        .or_else(|| r.annotations.get("description"))
        .or_else(|| r.annotations.get("message"))
        .cloned()
        .unwrap_or_else(|| format!("{alert} ({}) is {{value}}.", r.expr.trim()));
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = rest[start + 2..start + len]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        let mut parts = inner.split('|');
        let head = parts.next().unwrap_or("").trim();
        let filter = parts.map(str::trim).find(|f| f.starts_with("humanize"));
        let placeholder = if head == "$value" || head == ".Value" {
            Some(match filter {
                Some("humanizePercentage") => "value:%".to_string(),
                Some("humanizeDuration") => "value:s".to_string(),
                _ => "value".to_string(),
            })
        } else {
            head.strip_prefix("$labels.")
                .or_else(|| head.strip_prefix(".Labels."))
                .map(str::to_string)
        };
        match placeholder {
            Some(p) => out.push_str(&format!("{{{p}}}")),
            None => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
