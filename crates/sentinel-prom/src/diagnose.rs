//! Why a panel has no data: a target is down, a metric is absent, a label is
//! missing, kube-state-metrics is not scraped. Shown instead of an empty
//! chart, and by "Test connection".

use std::collections::BTreeSet;

use sentinel_model::Timestamp;
use serde::Serialize;

use crate::error::PromError;
use crate::prometheus::Prometheus;

/// One reason, for one panel of the dashboard (`cpu`, `memory`, `requests`,
/// `errors`, `p95`, `pods`, `nodes`) or for the source as a whole (`source`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub panel: &'static str,
    pub message: String,
}

/// The metric each panel needs, whether its series need `namespace`/`pod`
/// labels, and who exposes it.
const NEEDS: [(&str, &[&str], bool, &str); 7] = [
    (
        "container_cpu_usage_seconds_total",
        &["pods"],
        true,
        "cAdvisor (the kubelet's /metrics/cadvisor)",
    ),
    (
        "container_memory_working_set_bytes",
        &["pods"],
        true,
        "cAdvisor (the kubelet's /metrics/cadvisor)",
    ),
    (
        "node_cpu_usage_seconds_total",
        &["cpu", "nodes"],
        false,
        "the kubelet's /metrics/resource",
    ),
    (
        "node_memory_working_set_bytes",
        &["memory", "nodes"],
        false,
        "the kubelet's /metrics/resource",
    ),
    (
        "kube_pod_info",
        &["pods", "cpu", "memory"],
        true,
        "kube-state-metrics",
    ),
    (
        "http_requests_total",
        &["requests", "errors"],
        true,
        "the services' own /metrics",
    ),
    (
        "http_request_duration_seconds_bucket",
        &["p95"],
        true,
        "the services' own /metrics",
    ),
];

/// Looks at targets and at which metrics exist, and says what is missing.
/// Empty when everything the dashboard needs is there.
pub async fn diagnose(prom: &Prometheus, at: Timestamp) -> Result<Vec<Diagnosis>, PromError> {
    let names: Vec<&str> = NEEDS.iter().map(|n| n.0).collect();
    let regex = names.join("|");
    let present_q = format!("count by (__name__) ({{__name__=~\"{regex}\"}})");
    let labelled_q =
        format!("count by (__name__) ({{__name__=~\"{regex}\",namespace!=\"\",pod!=\"\"}})");
    let (targets, present, labelled) = tokio::join!(
        prom.targets(),
        prom.query(&present_q, at),
        prom.query(&labelled_q, at)
    );
    let names_of = |d: crate::parse::QueryData| -> BTreeSet<String> {
        d.into_series()
            .into_iter()
            .filter_map(|s| s.metric.get("__name__").cloned())
            .collect()
    };
    let present = names_of(present?);
    let labelled = names_of(labelled?);
    let mut out = Vec::new();
    for t in targets?
        .active_targets
        .iter()
        .filter(|t| t.health == "down")
    {
        let job = t.labels.get("job").map_or("?", String::as_str);
        let why = if t.last_error.is_empty() {
            "no error given".to_string()
        } else {
            t.last_error.clone()
        };
        out.push(Diagnosis {
            panel: "source",
            message: format!("scrape target {} (job {job}) is down: {why}", t.scrape_url),
        });
    }
    for (metric, panels, needs_pod, from) in NEEDS {
        let message = if !present.contains(metric) {
            if metric == "kube_pod_info" {
                "kube-state-metrics is not scraped: there is no kube_pod_info series".to_string()
            } else {
                format!("metric {metric} is absent: {from} is not scraped")
            }
        } else if needs_pod && !labelled.contains(metric) {
            format!("{metric} has no namespace/pod labels: check the scrape job's relabelling")
        } else {
            continue;
        };
        for panel in panels {
            out.push(Diagnosis {
                panel,
                message: message.clone(),
            });
        }
    }
    Ok(out)
}
