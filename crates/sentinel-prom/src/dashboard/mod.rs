//! The dashboard's query set and how its answers become model values.
//!
//! One poll asks for usage and request counters over the range that is new
//! since the last poll (aligned to the step, so every poll's points fall on
//! the same grid), and for the cluster's objects as kube-state-metrics
//! exposes them at the newest step, all in parallel. Request and latency
//! come back as cumulative counters: the runtime turns counter deltas into
//! rates and quantiles exactly as it does for the demo cluster (the same
//! interpolation as `histogram_quantile`).

use std::collections::{BTreeMap, HashMap};

use sentinel_model::{
    Duration, LATENCY_BUCKETS_SECONDS, Labels, LatencyHistogram, NodeState, NodeUsage, PodState,
    PodUsage, Timestamp,
};

use crate::error::PromError;
use crate::parse::{QueryData, Series};
use crate::prometheus::Prometheus;

mod fresh;
mod objects;
mod workloads;

pub use fresh::Freshness;
pub use objects::objects;
pub use workloads::{KUBE_WORKLOADS, workloads};

pub const POD_CPU: &str = r#"sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="",container!="POD"}[1m]))"#;
pub const POD_MEMORY: &str = r#"sum by (namespace, pod) (container_memory_working_set_bytes{container!="",container!="POD"})"#;
pub const POD_REQUESTS: &str = r#"sum by (namespace, pod) (http_requests_total)"#;
pub const POD_ERRORS: &str = r#"sum by (namespace, pod) (http_requests_total{code=~"5.."})"#;
pub const POD_LATENCY: &str =
    r#"sum by (namespace, pod, le) (http_request_duration_seconds_bucket)"#;
pub const NODE_CPU: &str = r#"sum by (node) (rate(node_cpu_usage_seconds_total[1m]))"#;
pub const NODE_MEMORY: &str = r#"sum by (node) (node_memory_working_set_bytes)"#;
/// Restarts per pod at every step, so that a crash loop before the first
/// poll is seen as one (the objects are read at the newest step only).
pub const POD_RESTARTS: &str =
    r#"sum by (namespace, pod) (kube_pod_container_status_restarts_total)"#;
/// Every kube-state-metrics family the pods and nodes panels need, in one
/// request. `== 1` keeps only the phase and conditions that hold.
pub const KUBE_STATE: &str = concat!(
    r#"kube_pod_status_phase == 1 or kube_node_status_condition == 1 or "#,
    r#"{__name__=~"kube_pod_info|kube_pod_created|kube_pod_labels|kube_pod_container_info|"#,
    r#"kube_pod_container_status_restarts_total|kube_pod_container_status_ready|"#,
    r#"kube_pod_container_status_waiting_reason|kube_pod_container_status_terminated_reason|"#,
    r#"kube_pod_container_status_last_terminated_reason|kube_pod_container_resource_requests|"#,
    r#"kube_pod_container_resource_limits|kube_node_info|kube_node_status_capacity|"#,
    r#"kube_node_spec_unschedulable"}"#
);

/// The jobs whose series feed the dashboard (as of the newest step).
pub const FEEDERS: &str = concat!(
    r#"count by (job) ({__name__=~"kube_pod_info|container_cpu_usage_seconds_total|"#,
    r#"container_memory_working_set_bytes|node_cpu_usage_seconds_total|"#,
    r#"node_memory_working_set_bytes|http_requests_total"})"#
);
/// When Prometheus last scraped anything, at every step. While it is down
/// (or not scraping), a range query repeats each series' last sample for
/// five minutes: counters that stand still, then jump when it is back.
pub const LAST_SCRAPE: &str = "max(timestamp(up))";

/// Jobs whose every target failed its last scrape. A source remembers
/// which jobs fed it: when one of them is down, Prometheus keeps answering
/// with its last sample for five minutes (or until a stale marker, which a
/// restarted Prometheus never writes), so its data only looks fresh.
pub const JOBS_DOWN: &str = r#"max by (job) (up) == 0"#;

/// The usage queries, in the order [`Poll`] reads them.
pub const RANGE_QUERIES: [&str; 8] = [
    POD_CPU,
    POD_MEMORY,
    POD_REQUESTS,
    POD_ERRORS,
    POD_LATENCY,
    NODE_CPU,
    NODE_MEMORY,
    POD_RESTARTS,
];

/// Usage at one step of the grid.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UsageAt {
    pub at: Timestamp,
    pub pods: Vec<PodUsage>,
    pub nodes: Vec<NodeUsage>,
}

/// What one poll returned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Poll {
    /// One entry per step with any data, oldest first.
    pub usage: Vec<UsageAt>,
    /// The objects at the newest step; `None` if kube-state-metrics had none.
    pub pods: Option<Vec<PodState>>,
    pub nodes: Option<Vec<NodeState>>,
    /// The workload controllers at the newest step; `None` if
    /// kube-state-metrics had none.
    pub workloads: Option<Vec<sentinel_model::Workload>>,
    /// Bytes of JSON received, and requests made.
    pub bytes: usize,
    pub requests: usize,
    /// Queries that returned no series, by constant name.
    pub empty: Vec<&'static str>,
    /// Jobs whose series feed the dashboard now (see [`FEEDERS`]).
    pub feeders: Vec<String>,
    /// Jobs whose every target is down (see [`JOBS_DOWN`]).
    pub jobs_down: Vec<String>,
}

/// Runs the query set over `[start, end]` at `step` (all in parallel).
pub async fn poll(
    prom: &Prometheus,
    start: Timestamp,
    end: Timestamp,
    step: Duration,
    fresh: &mut Freshness,
) -> Result<Poll, PromError> {
    let ranges = RANGE_QUERIES.map(|q| prom.query_range_sized(q, start, end, step));
    let [a, b, c, d, e, f, g, h] = ranges;
    let (a, b, c, d, e, f, g, h, k, w, feeders, down, scraped) = tokio::join!(
        a,
        b,
        c,
        d,
        e,
        f,
        g,
        h,
        prom.query_sized(KUBE_STATE, end),
        prom.query_sized(KUBE_WORKLOADS, end),
        prom.query_sized(FEEDERS, end),
        prom.query_sized(JOBS_DOWN, end),
        prom.query_range_sized(LAST_SCRAPE, start, end, step)
    );
    let results = [a?, b?, c?, d?, e?, f?, g?, h?];
    let (kube, kube_bytes) = k?;
    let (kube_workloads, workloads_bytes) = w?;
    let (feeders, feeders_bytes) = feeders?;
    let (down, down_bytes) = down?;
    let (scraped, scraped_bytes) = scraped?;
    let mut bytes = kube_bytes + workloads_bytes + feeders_bytes + down_bytes + scraped_bytes;
    let mut series: Vec<Vec<Series>> = Vec::with_capacity(RANGE_QUERIES.len());
    let mut empty = Vec::new();
    for ((data, n), name) in results.into_iter().zip(RANGE_NAMES) {
        bytes += n;
        let s = data.into_series();
        if s.is_empty() {
            empty.push(name);
        }
        series.push(s);
    }
    let kube = kube.into_series();
    if kube.is_empty() {
        empty.push("KUBE_STATE");
    }
    let mut poll = assemble(series);
    let scraped: Vec<_> = scraped
        .into_series()
        .into_iter()
        .flat_map(|s| s.values)
        .collect();
    fresh.drop_stale(&mut poll.usage, &scraped, step);
    let (pods, nodes) = objects(&kube, end);
    poll.pods = pods;
    poll.nodes = nodes;
    poll.workloads = workloads(&kube_workloads.into_series()).map(|mut w| {
        workloads::fill_images(&mut w, poll.pods.as_deref().unwrap_or_default());
        w
    });
    poll.bytes = bytes;
    poll.requests = RANGE_QUERIES.len() + 5;
    poll.empty = empty;
    let jobs = |d: QueryData| -> Vec<String> {
        d.into_series()
            .into_iter()
            .filter_map(|s| s.metric.get("job").cloned())
            .collect()
    };
    poll.feeders = jobs(feeders);
    poll.jobs_down = jobs(down);
    Ok(poll)
}

const RANGE_NAMES: [&str; 8] = [
    "POD_CPU",
    "POD_MEMORY",
    "POD_REQUESTS",
    "POD_ERRORS",
    "POD_LATENCY",
    "NODE_CPU",
    "NODE_MEMORY",
    "POD_RESTARTS",
];

type PodKey = (String, String);

#[derive(Default)]
struct PodAcc {
    cpu: Option<f64>,
    memory: Option<f64>,
    requests: f64,
    errors: f64,
    restarts: Option<f64>,
    /// Cumulative count per source bucket bound.
    buckets: Vec<(f64, f64)>,
}

fn pod_key(m: &Labels) -> Option<PodKey> {
    Some((m.get("namespace")?.clone(), m.get("pod")?.clone()))
}

/// Turns the range answers (in [`RANGE_QUERIES`] order) into per-step usage.
pub fn assemble(series: Vec<Vec<Series>>) -> Poll {
    let mut pods: BTreeMap<Timestamp, HashMap<PodKey, PodAcc>> = BTreeMap::new();
    // CPU and memory of each node at each step, as far as answered.
    type NodeAcc = (Option<f64>, Option<f64>);
    let mut nodes: BTreeMap<Timestamp, BTreeMap<String, NodeAcc>> = BTreeMap::new();
    for (i, group) in series.into_iter().enumerate() {
        for s in group {
            if i == 5 || i == 6 {
                let Some(node) = s.metric.get("node") else {
                    continue;
                };
                for p in s.values {
                    let e = nodes
                        .entry(p.at)
                        .or_default()
                        .entry(node.clone())
                        .or_default();
                    if i == 5 {
                        e.0 = Some(p.value);
                    } else {
                        e.1 = Some(p.value);
                    }
                }
                continue;
            }
            let Some(key) = pod_key(&s.metric) else {
                continue;
            };
            let le = s
                .metric
                .get("le")
                .and_then(|v| crate::parse::parse_value(v));
            for p in s.values {
                let acc = pods
                    .entry(p.at)
                    .or_default()
                    .entry(key.clone())
                    .or_default();
                match i {
                    0 => acc.cpu = Some(p.value),
                    1 => acc.memory = Some(p.value),
                    2 => acc.requests = p.value,
                    3 => acc.errors = p.value,
                    7 => acc.restarts = Some(p.value),
                    _ => {
                        if let Some(le) = le {
                            acc.buckets.push((le, p.value));
                        }
                    }
                }
            }
        }
    }
    let mut steps: BTreeMap<Timestamp, UsageAt> = BTreeMap::new();
    for (at, by_pod) in pods {
        let mut list: Vec<PodUsage> = by_pod
            .into_iter()
            .filter(|(_, a)| a.cpu.is_some() || a.memory.is_some())
            .map(|((namespace, pod), a)| PodUsage {
                namespace,
                pod,
                // A rate is missing where its window held fewer than two
                // samples (a new container): no reading, not an idle pod.
                cpu_cores: a.cpu.filter(|v| v.is_finite()),
                memory_bytes: a.memory.filter(|v| v.is_finite()),
                requests_total: counter(a.requests),
                errors_total: counter(a.errors),
                latency: rebucket(a.buckets),
                restarts: a
                    .restarts
                    .filter(|r| r.is_finite() && *r >= 0.0)
                    .map(|r| r.min(f64::from(u32::MAX)) as u32),
            })
            .collect();
        list.sort_by(|a, b| (&a.namespace, &a.pod).cmp(&(&b.namespace, &b.pod)));
        steps
            .entry(at)
            .or_insert_with(|| UsageAt {
                at,
                ..UsageAt::default()
            })
            .pods = list;
    }
    for (at, by_node) in nodes {
        steps
            .entry(at)
            .or_insert_with(|| UsageAt {
                at,
                ..UsageAt::default()
            })
            .nodes = by_node
            .into_iter()
            // Both or neither: a CPU rate is missing where its window held
            // fewer than two samples (a new series, a gap), and read as 0
            // it drew the cluster's CPU falling to nothing.
            .filter_map(|(node, usage)| match usage {
                (Some(cpu), Some(mem)) => Some(NodeUsage {
                    node,
                    cpu_cores: cpu,
                    memory_bytes: mem,
                }),
                _ => None,
            })
            .collect();
    }
    Poll {
        usage: steps.into_values().collect(),
        ..Poll::default()
    }
}

fn counter(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.round() as u64
    } else {
        0
    }
}

/// Maps a histogram with any bucket bounds onto Sentinel's fixed bounds:
/// each of our buckets counts the requests of the largest source bucket
/// that fits inside it (exact when the bounds agree, a lower bound otherwise).
pub fn rebucket(mut source: Vec<(f64, f64)>) -> LatencyHistogram {
    source.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = [0u64; 11];
    let mut j = 0;
    let mut last = 0u64;
    for (i, bound) in LATENCY_BUCKETS_SECONDS.iter().enumerate() {
        while j < source.len() && source[j].0 <= *bound {
            last = last.max(counter(source[j].1));
            j += 1;
        }
        out[i] = last;
    }
    LatencyHistogram(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(labels: &[(&str, &str)], values: &[(i64, f64)]) -> Series {
        Series {
            metric: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            values: values
                .iter()
                .map(|(t, v)| crate::parse::Point {
                    at: Timestamp::from_secs(*t),
                    value: *v,
                })
                .collect(),
        }
    }

    /// A node's CPU rate is missing at a step (its window held one sample):
    /// the node has no usage there, rather than a CPU of 0.
    #[test]
    fn a_node_without_both_readings_has_no_usage_at_that_step() {
        let node = |values: &[(i64, f64)]| series(&[("node", "n1")], values);
        let mut series: Vec<Vec<Series>> = vec![Vec::new(); RANGE_QUERIES.len()];
        series[5] = vec![node(&[(10, 1.5)])];
        series[6] = vec![node(&[(0, 4e9), (10, 4e9)])];
        let poll = assemble(series);
        let at: Vec<(i64, usize)> = poll
            .usage
            .iter()
            .map(|u| (u.at.millis() / 1000, u.nodes.len()))
            .collect();
        assert_eq!(at, [(0, 0), (10, 1)]);
        assert_eq!(poll.usage[1].nodes[0].cpu_cores, 1.5);
    }

    /// A new container's CPU rate is missing for its first minute while its
    /// memory is read: the pod has memory and no CPU reading there, not a
    /// CPU of 0 (which sorted it last and drew it idle).
    #[test]
    fn a_pod_without_a_cpu_rate_has_no_cpu_reading() {
        let pod = [("namespace", "shop"), ("pod", "cart-0")];
        let mut answers: Vec<Vec<Series>> = vec![Vec::new(); RANGE_QUERIES.len()];
        answers[0] = vec![series(&pod, &[(10, 0.25)])];
        answers[1] = vec![series(&pod, &[(0, 2e8), (10, 2e8)])];
        answers[2] = vec![series(&pod, &[(0, f64::NAN), (10, 7.0)])];
        let poll = assemble(answers);
        let read: Vec<_> = poll
            .usage
            .iter()
            .map(|u| {
                (
                    u.at.millis() / 1000,
                    u.pods[0].cpu_cores,
                    u.pods[0].memory_bytes,
                )
            })
            .collect();
        assert_eq!(read, [(0, None, Some(2e8)), (10, Some(0.25), Some(2e8))]);
        assert_eq!(poll.usage[0].pods[0].requests_total, 0);
    }

    #[test]
    fn rebucket_keeps_equal_bounds_and_floors_others() {
        let same: Vec<(f64, f64)> = LATENCY_BUCKETS_SECONDS
            .iter()
            .enumerate()
            .map(|(i, b)| (*b, (i * 10) as f64))
            .collect();
        assert_eq!(
            rebucket(same).0,
            [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
        );
        // A histogram with 0.3 s and 1.5 s buckets: 0.3 fits under 0.5, 1.5 under 2.5.
        let other = vec![(0.3, 5.0), (1.5, 8.0), (f64::INFINITY, 9.0)];
        assert_eq!(rebucket(other).0, [0, 0, 0, 0, 0, 0, 5, 5, 8, 8, 9]);
    }
}
