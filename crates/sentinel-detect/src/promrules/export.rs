//! Sentinel's rules as a Prometheus rule file.
//!
//! The series the runtime feeds the engine (docs/rules.md) are written as
//! the PromQL that computes them from kube-state-metrics, cAdvisor and the
//! services' own metrics; any other metric is used as it is. Thresholds,
//! rates and absence translate exactly; the z-score family becomes a
//! z-score over `*_over_time` windows (an approximation, said in the
//! rule's annotations); PSI, likelihood and seasonal baselines have no
//! PromQL counterpart and are left out with the reason.

use std::collections::BTreeMap;

use sentinel_model::{Duration, Severity, percent};

use super::{PromGroup, PromRule, PromRuleFile, Skipped};
use crate::detectors::Direction;
use crate::duration::format_duration;
use crate::rules::{DetectorSpec, Rule, RuleFile};

/// What an export produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Exported {
    /// The rule file, with a comment naming what was left out.
    pub yaml: String,
    pub file: PromRuleFile,
    pub skipped: Vec<Skipped>,
}

/// A series the runtime computes, as PromQL. `%M%` is where the rule's
/// label matchers go in each inner selector.
struct Fed {
    metric: &'static str,
    labels: &'static [&'static str],
    promql: &'static str,
}

const FED: [Fed; 11] = [
    Fed {
        metric: "node_cpu_usage_ratio",
        labels: &["node"],
        promql: r#"sum by (node) (rate(node_cpu_usage_seconds_total{%M%}[1m])) / on (node) sum by (node) (kube_node_status_capacity{resource="cpu"%M%})"#,
    },
    Fed {
        metric: "node_ready",
        labels: &["node"],
        promql: r#"max by (node) (kube_node_status_condition{condition="Ready",status="true"%M%})"#,
    },
    Fed {
        metric: "pod_memory_usage_ratio",
        labels: &["namespace", "pod"],
        promql: r#"sum by (namespace, pod) (container_memory_working_set_bytes{container!="",container!="POD"%M%}) / on (namespace, pod) sum by (namespace, pod) (kube_pod_container_resource_limits{resource="memory"%M%})"#,
    },
    Fed {
        metric: "pod_ready",
        labels: &["namespace", "pod"],
        promql: r#"min by (namespace, pod) (kube_pod_container_status_ready{%M%}) * on (namespace, pod) max by (namespace, pod) (kube_pod_status_phase{phase="Running"%M%})"#,
    },
    Fed {
        metric: "pod_container_restarts_total",
        labels: &["namespace", "pod"],
        promql: r#"sum by (namespace, pod) (kube_pod_container_status_restarts_total{%M%})"#,
    },
    Fed {
        metric: "cluster_cpu_percent",
        labels: &[],
        promql: r#"100 * sum(rate(node_cpu_usage_seconds_total[1m])) / sum(kube_node_status_capacity{resource="cpu"})"#,
    },
    Fed {
        metric: "cluster_memory_percent",
        labels: &[],
        promql: r#"100 * sum(node_memory_working_set_bytes) / sum(kube_node_status_capacity{resource="memory"})"#,
    },
    Fed {
        metric: "cluster_request_rate",
        labels: &[],
        promql: r#"sum(rate(http_requests_total[1m]))"#,
    },
    Fed {
        metric: "cluster_error_percent",
        labels: &[],
        promql: r#"100 * sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))"#,
    },
    Fed {
        metric: "cluster_latency_p95_ms",
        labels: &[],
        promql: r#"1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))"#,
    },
    // Sentinel's `up` is per source; Prometheus' is per scrape target, the
    // closest counterpart (the `source` label has none).
    Fed {
        metric: "up",
        labels: &["job", "instance"],
        promql: r#"up{%M%}"#,
    },
];

/// Whether the runtime computes `metric` itself (docs/rules.md lists
/// these); other metrics are read from Prometheus as they are.
pub fn is_fed(metric: &str) -> bool {
    FED.iter().any(|f| f.metric == metric)
}

/// The selectors of the series `rules` name that the runtime does not
/// compute, to be read from Prometheus as they are (no duplicates).
pub fn read_selectors(rules: &RuleFile) -> Vec<String> {
    let mut out: Vec<String> = rules
        .rules
        .iter()
        .filter(|r| !is_fed(&r.selector.metric))
        .map(|r| series(r).0)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The PromQL for a rule's series, and whether it is a plain selector
/// (which takes a range directly; anything else needs a subquery).
fn series(rule: &Rule) -> (String, bool) {
    let sel = &rule.selector;
    let fed = FED.iter().find(|f| f.metric == sel.metric);
    let mut matchers = String::new();
    for (label, want) in &sel.labels {
        if fed.is_some_and(|f| !f.labels.contains(&label.as_str())) {
            continue;
        }
        let m = match want.as_str() {
            "*" => format!(r#"{label}!="""#),
            w if w.starts_with('!') => format!("{label}!={:?}", &w[1..]),
            w => format!("{label}={w:?}"),
        };
        matchers.push(',');
        matchers.push_str(&m);
    }
    match fed {
        Some(f) => {
            let q = f
                .promql
                .replace("%M%", &matchers)
                .replace("{,", "{")
                .replace("{}", "");
            (q, f.promql == "up{%M%}")
        }
        None => {
            let m = matchers.trim_start_matches(',');
            if m.is_empty() {
                (sel.metric.clone(), true)
            } else {
                (format!("{}{{{m}}}", sel.metric), true)
            }
        }
    }
}

/// `x[range]` for a selector, `(x)[range:]` (a subquery) otherwise.
fn ranged(q: &str, plain: bool, range: Duration) -> String {
    if plain {
        format!("{q}[{}]", format_duration(range))
    } else {
        format!("({q})[{}:]", format_duration(range))
    }
}

fn number(v: f64) -> String {
    format!("{v}")
}

/// Writes `rules` as one Prometheus rule group. `step` is the poll
/// interval, which turns the detectors' windows (in readings) into time.
pub fn export(rules: &RuleFile, step: Duration) -> Exported {
    let step = Duration(step.millis().max(1000));
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for rule in &rules.rules {
        match alerts(rule, step) {
            Ok(mut a) => out.append(&mut a),
            Err(reason) => skipped.push(Skipped {
                name: rule.name.clone(),
                reason,
            }),
        }
    }
    let file = PromRuleFile {
        groups: vec![PromGroup {
            name: "sentinel".into(),
            rules: out,
        }],
    };
    let mut yaml =
        String::from("# Sentinel's rules as Prometheus alerting rules (docs/rules.md).\n");
    for s in &skipped {
        yaml.push_str(&format!("# Left out {}: {}\n", s.name, s.reason));
    }
    yaml.push_str(&serde_yaml::to_string(&file).unwrap_or_default());
    Exported {
        yaml,
        file,
        skipped,
    }
}

fn alerts(rule: &Rule, step: Duration) -> Result<Vec<PromRule>, String> {
    let (q, plain) = series(rule);
    let win = |readings: usize| Duration(step.millis().saturating_mul(readings as i64));
    let base = |expr: String, severity: Severity, threshold: String, note: Option<String>| {
        let mut annotations = BTreeMap::new();
        annotations.insert("summary".to_string(), template(rule, &threshold, severity));
        let params: Vec<String> = rule
            .detector
            .params()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        annotations.insert(
            "sentinel_rule".to_string(),
            format!(
                "{} ({} {})",
                rule.name,
                rule.detector.kind(),
                params.join(" ")
            ),
        );
        if let Some(n) = note {
            annotations.insert("sentinel_note".to_string(), n);
        }
        PromRule {
            alert: Some(rule.name.clone()),
            record: None,
            expr,
            for_: rule.for_,
            keep_firing_for: rule.keep_firing_for,
            labels: [("severity".to_string(), severity.as_str().to_string())].into(),
            annotations,
        }
    };
    let graded = |z: String, warning: f64, critical: f64, note: String| {
        let mut levels = vec![(Severity::Warning.min(rule.severity), warning)];
        if rule.severity == Severity::Critical {
            levels.push((Severity::Critical, critical));
        }
        levels
            .into_iter()
            .map(|(sev, k)| {
                base(
                    format!("{z} > {}", number(k)),
                    sev,
                    number(k),
                    Some(note.clone()),
                )
            })
            .collect()
    };
    fn avg(r: &str) -> String {
        format!("avg_over_time({r})")
    }
    fn median(r: &str) -> String {
        format!("quantile_over_time(0.5, {r})")
    }
    // The deviation the rule watches over its spread: `abs(x - center)`
    // both ways, `x - center` above, `center - x` below.
    let zscore =
        |center: fn(&str) -> String, window: Duration, min_spread: f64, direction: Direction| {
            let r = ranged(&q, plain, window);
            let x = if plain { q.clone() } else { format!("({q})") };
            let spread = if min_spread > 0.0 {
                format!("clamp_min(stddev_over_time({r}), {})", number(min_spread))
            } else {
                format!("stddev_over_time({r})")
            };
            let center = center(&r);
            match direction {
                Direction::Both => format!("abs({x} - {center}) / {spread}"),
                Direction::Up => format!("({x} - {center}) / {spread}"),
                Direction::Down => format!("({center} - {x}) / {spread}"),
            }
        };
    Ok(match &rule.detector {
        DetectorSpec::Threshold { op, value } => {
            let x = if plain { q.clone() } else { format!("({q})") };
            vec![base(
                format!("{x} {} {}", op.as_str(), number(*value)),
                rule.severity,
                number(*value),
                None,
            )]
        }
        DetectorSpec::RateOfChange {
            per,
            op,
            value,
            counter,
        } => {
            // Over `per` itself when that spans a few polls (increase and
            // delta are the change per `per`); else a per-second rate scaled.
            let expr = if per.millis() >= 4 * step.millis() {
                let f = if *counter { "increase" } else { "delta" };
                format!("{f}({})", ranged(&q, plain, *per))
            } else {
                let window = Duration(4 * step.millis());
                let f = if *counter { "rate" } else { "deriv" };
                let per_s = per.millis() as f64 / 1000.0;
                format!("{f}({}) * {}", ranged(&q, plain, window), number(per_s))
            };
            vec![base(
                format!("{expr} {} {}", op.as_str(), number(*value)),
                rule.severity,
                number(*value),
                None,
            )]
        }
        DetectorSpec::Absent { after } => vec![base(
            format!("absent_over_time({})", ranged(&q, plain, *after)),
            rule.severity,
            String::new(),
            None,
        )],
        DetectorSpec::Zscore {
            window,
            warning,
            critical,
            min_spread,
            direction,
            ..
        } => graded(
            zscore(avg, win(*window), *min_spread, *direction),
            *warning,
            *critical,
            format!(
                "z-score over the last {window} readings at {}",
                format_duration(step)
            ),
        ),
        DetectorSpec::Ewma {
            alpha,
            warning,
            critical,
            min_spread,
            direction,
            ..
        } => {
            // An EWMA with weight alpha averages about 2/alpha - 1 readings.
            let readings = ((2.0 / alpha) - 1.0).round().max(2.0) as usize;
            graded(
                zscore(avg, win(readings), *min_spread, *direction),
                *warning,
                *critical,
                format!("EWMA alpha={alpha} approximated by a {readings}-reading window"),
            )
        }
        DetectorSpec::Mad {
            window,
            warning,
            critical,
            min_spread,
            direction,
            ..
        } => graded(
            zscore(median, win(*window), *min_spread, *direction),
            *warning,
            *critical,
            "robust z approximated with the standard deviation (PromQL has no MAD)".into(),
        ),
        DetectorSpec::Seasonal { .. } => {
            return Err("a seasonal baseline has no PromQL counterpart".into());
        }
        DetectorSpec::Psi { .. } => {
            return Err("PSI distribution drift has no PromQL counterpart".into());
        }
        DetectorSpec::Likelihood { .. } => {
            return Err("anomaly likelihood has no PromQL counterpart".into());
        }
    })
}

/// The rule's explanation as a Prometheus template: labels and the value
/// become `{{ $labels.x }}` and `{{ $value }}`, parameters are filled in.
fn template(rule: &Rule, threshold: &str, severity: Severity) -> String {
    let mut out = String::new();
    let mut rest = rule.explain.as_str();
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + len];
        let params: BTreeMap<String, String> = rule.detector.params().into_iter().collect();
        let as_percent = |v: &str| v.parse::<f64>().ok().map(percent);
        let fill = match name {
            "value:%" | "score:%" | "rate:%" => "{{ $value | humanizePercentage }}".to_string(),
            "value:s" => "{{ $value | humanizeDuration }}".to_string(),
            "threshold:%" => as_percent(threshold).unwrap_or_else(|| threshold.to_string()),
            p if p.strip_suffix(":%").is_some_and(|b| params.contains_key(b)) => {
                let v = &params[&p[..p.len() - 2]];
                as_percent(v).unwrap_or_else(|| v.clone())
            }
            "value" | "z" | "robust z" | "score" | "rate" | "PSI" => "{{ $value }}".to_string(),
            "threshold" => threshold.to_string(),
            "for" => format_duration(rule.for_),
            "keep_firing_for" => format_duration(rule.keep_firing_for),
            "metric" => rule.selector.metric.clone(),
            "severity" => severity.as_str().to_string(),
            "mean" => "the window's mean".into(),
            "median" => "the window's median".into(),
            "std" | "MAD" => "the window's spread".into(),
            p if params.contains_key(p) => params[p].clone(),
            // Prometheus' `up` names its scrape target, not a Sentinel source.
            "source" if rule.selector.metric == "up" => {
                "{{ $labels.job }} ({{ $labels.instance }})".to_string()
            }
            l if !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                format!("{{{{ $labels.{l} }}}}")
            }
            _ => rest[start..start + len + 1].to_string(),
        };
        out.push_str(&fill);
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}
