//! The demo cluster as Prometheus would scrape it: kube-state-metrics,
//! cAdvisor (through the kubelet), the kubelet's resource metrics and the
//! services' own HTTP metrics, with the names and labels the real exporters
//! use. A real Prometheus scraping this can be queried with the usual
//! dashboard PromQL, which is how the live-source tests run against a
//! simulated cluster.
//!
//! The sim reports CPU as cores over the last step; cAdvisor exposes a
//! cumulative `container_cpu_usage_seconds_total`, so [`Exposition`]
//! integrates across frames and must see every frame in order. The calls
//! between the demo's services are counted as Istio's sidecars count them
//! (`mesh.rs`).

use std::collections::HashMap;
use std::fmt::Write as _;

use sentinel_model::{LATENCY_BUCKETS_SECONDS, PodState, PodUsage, Timestamp};

use crate::Frame;

mod families;
mod mesh;
mod workloads;

use families::Families;

/// CPU and memory of the pause container (`container="POD"`).
const PAUSE_CORES: f64 = 0.0005;
const PAUSE_BYTES: f64 = 1_048_576.0;

/// One metric family: its samples as `name{labels}` and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub kind: &'static str,
    pub help: &'static str,
    pub samples: Vec<(String, f64)>,
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Self {
        Self {
            name,
            kind,
            help,
            samples: Vec::new(),
        }
    }

    fn push(&mut self, suffix: &str, labels: &[(&str, &str)], value: f64) {
        self.push_more(suffix, labels, &[], value);
    }

    /// A sample whose labels are `base` followed by `extra`.
    fn push_more(
        &mut self,
        suffix: &str,
        base: &[(&str, &str)],
        extra: &[(&str, &str)],
        value: f64,
    ) {
        let mut s = String::with_capacity(64);
        s.push_str(self.name);
        s.push_str(suffix);
        s.push('{');
        for (i, (k, v)) in base.iter().chain(extra).enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(k);
            s.push_str("=\"");
            escape_into(&mut s, v);
            s.push('"');
        }
        s.push('}');
        self.samples.push((s, value));
    }
}

fn escape_into(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Prometheus label names allow `[a-zA-Z0-9_]`; kube-state-metrics maps the
/// rest of a Kubernetes label key to `_`.
fn label_name(key: &str) -> String {
    let mut s = String::from("label_");
    s.extend(
        key.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
    );
    s
}

/// A sample value as the text formats write it (`NaN`, `+Inf`, `-Inf`).
pub fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn le_label(bound: f64) -> String {
    if bound.is_infinite() {
        "+Inf".into()
    } else {
        format!("{bound}")
    }
}

/// Cumulative counters the sim does not keep itself.
#[derive(Debug, Default)]
pub struct Exposition {
    last_at: Option<Timestamp>,
    /// CPU seconds per pod uid and container (`""` is the pod's total).
    pod_cpu: HashMap<(String, String), f64>,
    node_cpu: HashMap<String, f64>,
    /// `http_request_duration_seconds_sum` per pod uid, and the histogram
    /// count it was last advanced to.
    latency_sum: HashMap<String, (f64, u64)>,
    /// Requests counted per call between services.
    mesh: mesh::Mesh,
    /// The newest listing of the workload controllers (frames carry one
    /// only when it changed).
    workloads: Vec<sentinel_model::Workload>,
}

impl Exposition {
    pub fn new() -> Self {
        Self::default()
    }

    /// Advances the counters to this frame. Call once per frame, in order.
    pub fn observe(&mut self, frame: &Frame) {
        let dt = self.last_at.map_or(0.0, |t| {
            (frame.at.millis() - t.millis()).max(0) as f64 / 1000.0
        });
        self.last_at = Some(frame.at);
        if let Some(w) = &frame.workloads {
            self.workloads.clone_from(w);
        }
        for (u, pod) in with_pods(frame) {
            // The sim always knows a pod's usage; no reading adds nothing.
            for (container, cores) in split_cpu(pod, u.cpu_cores.unwrap_or(0.0)) {
                *self
                    .pod_cpu
                    .entry((pod.uid.clone(), container.to_string()))
                    .or_default() += cores * dt;
            }
            let count = u.latency.0[LATENCY_BUCKETS_SECONDS.len() - 1];
            let entry = self.latency_sum.entry(pod.uid.clone()).or_default();
            if count > entry.1 {
                // Requests in this step took about the step's median latency.
                let delta = count - entry.1;
                entry.0 += delta as f64 * u.latency.quantile(0.5).unwrap_or(0.0);
            }
            entry.1 = count;
        }
        for u in &frame.node_usage {
            *self.node_cpu.entry(u.node.clone()).or_default() += u.cpu_cores * dt;
        }
        self.mesh.observe(with_pods(frame));
    }

    /// The families of one scrape of `frame` (after [`Exposition::observe`]).
    pub fn families(&self, frame: &Frame) -> Vec<Family> {
        let mut f = Families::default();
        for pod in &frame.pods {
            f.pod(pod);
        }
        for node in &frame.nodes {
            f.node(node);
        }
        for (u, pod) in with_pods(frame) {
            let node = pod.node.as_deref().unwrap_or("");
            for (container, _) in split_cpu(pod, u.cpu_cores.unwrap_or(0.0)) {
                let id = format!("/kubepods/pod{}/{container}", pod.uid);
                let labels = [
                    ("namespace", pod.namespace.as_str()),
                    ("pod", pod.name.as_str()),
                    ("container", container),
                    ("node", node),
                    ("id", id.as_str()),
                ];
                let secs = self
                    .pod_cpu
                    .get(&(pod.uid.clone(), container.to_string()))
                    .copied()
                    .unwrap_or(0.0);
                f.cpu.push("", &labels, secs);
                if let Some(bytes) = u.memory_bytes {
                    f.memory
                        .push("", &labels, split_memory(pod, bytes, container));
                }
            }
            let base = [("namespace", u.namespace.as_str()), ("pod", u.pod.as_str())];
            let ok = u.requests_total.saturating_sub(u.errors_total);
            f.requests
                .push_more("", &base, &[("code", "200")], ok as f64);
            f.requests
                .push_more("", &base, &[("code", "500")], u.errors_total as f64);
            for (i, bound) in LATENCY_BUCKETS_SECONDS.iter().enumerate() {
                let le = le_label(*bound);
                f.latency
                    .push_more("_bucket", &base, &[("le", &le)], u.latency.0[i] as f64);
            }
            let (sum, _) = self.latency_sum.get(&pod.uid).copied().unwrap_or_default();
            f.latency.push("_sum", &base, sum);
            f.latency.push(
                "_count",
                &base,
                u.latency.0[LATENCY_BUCKETS_SECONDS.len() - 1] as f64,
            );
        }
        for u in &frame.node_usage {
            let secs = self.node_cpu.get(&u.node).copied().unwrap_or(0.0);
            f.node_cpu.push("", &[("node", &u.node)], secs);
            f.node_memory.push("", &[("node", &u.node)], u.memory_bytes);
        }
        let mut out = f.into_vec();
        out.extend(self.mesh.families());
        out.extend(workloads::families(&self.workloads));
        out
    }

    /// One scrape in the Prometheus text format (version 0.0.4).
    pub fn render(&self, frame: &Frame) -> String {
        let mut out = String::with_capacity(frame.pods.len() * 4096);
        for family in self.families(frame) {
            let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
            let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind);
            for (series, value) in &family.samples {
                let _ = writeln!(out, "{series} {}", fmt_value(*value));
            }
        }
        out
    }
}

/// Each usage entry with its pod (entries for unknown pods are skipped).
fn with_pods(frame: &Frame) -> impl Iterator<Item = (&PodUsage, &PodState)> {
    let pods: HashMap<(&str, &str), &PodState> = frame
        .pods
        .iter()
        .map(|p| ((p.namespace.as_str(), p.name.as_str()), p))
        .collect();
    frame
        .pod_usage
        .iter()
        .filter_map(move |u| Some((u, *pods.get(&(u.namespace.as_str(), u.pod.as_str()))?)))
}

/// How a pod's CPU splits over its cgroups: the pod total (`""`), the pause
/// container, and each container by its CPU request.
fn split_cpu(pod: &sentinel_model::PodState, cores: f64) -> Vec<(&str, f64)> {
    let mut out = vec![("", cores), ("POD", PAUSE_CORES.min(cores))];
    let rest = (cores - PAUSE_CORES).max(0.0);
    let total: u32 = pod.containers.iter().map(|c| c.cpu_request_millis).sum();
    let n = pod.containers.len().max(1) as f64;
    for c in &pod.containers {
        let share = if total > 0 {
            f64::from(c.cpu_request_millis) / f64::from(total)
        } else {
            1.0 / n
        };
        out.push((c.name.as_str(), rest * share));
    }
    out
}

fn split_memory(pod: &sentinel_model::PodState, bytes: f64, container: &str) -> f64 {
    match container {
        "" => bytes,
        "POD" => PAUSE_BYTES.min(bytes),
        name => {
            let rest = (bytes - PAUSE_BYTES).max(0.0);
            let total: u64 = pod.containers.iter().map(|c| c.memory_limit_bytes).sum();
            let n = pod.containers.len().max(1) as f64;
            let share = pod
                .containers
                .iter()
                .find(|c| c.name == name)
                .map_or(0.0, |c| {
                    if total > 0 {
                        c.memory_limit_bytes as f64 / total as f64
                    } else {
                        1.0 / n
                    }
                });
            (rest * share).round()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Sim, SimConfig};

    fn scrape(steps: usize) -> String {
        let mut sim = Sim::new(SimConfig::default(), Timestamp(1_700_000_000_000));
        let mut exp = Exposition::new();
        let mut last = None;
        for i in 1..=steps {
            let frame = sim.step(Timestamp(1_700_000_000_000 + 2000 * i as i64));
            exp.observe(&frame);
            last = Some(frame);
        }
        last.map(|f| exp.render(&f)).unwrap_or_default()
    }

    #[test]
    fn cpu_counter_integrates_cores_over_time() {
        let mut sim = Sim::new(SimConfig::default(), Timestamp(0));
        let mut exp = Exposition::new();
        let first = sim.step(Timestamp(2000));
        exp.observe(&first);
        let u = &first.pod_usage[0];
        let uid = first
            .pods
            .iter()
            .find(|p| p.name == u.pod)
            .map(|p| p.uid.clone())
            .unwrap();
        // The first frame starts the clock; each later one adds cores × 2 s.
        let mut expected = 0.0;
        for i in 2..=10 {
            let frame = sim.step(Timestamp(2000 * i));
            let cores = frame
                .pod_usage
                .iter()
                .find(|x| x.pod == u.pod)
                .unwrap()
                .cpu_cores
                .unwrap();
            expected += cores * 2.0;
            exp.observe(&frame);
        }
        let got = exp.pod_cpu[&(uid, String::new())];
        assert!(expected > 0.0);
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
    }

    #[test]
    fn scrape_has_the_names_dashboards_query() {
        let text = scrape(3);
        for want in [
            "# TYPE kube_pod_info gauge",
            "kube_pod_status_phase{namespace=\"shop\"",
            "container_cpu_usage_seconds_total{namespace=",
            "container=\"POD\"",
            "container=\"\"",
            "kube_node_status_condition{node=",
            "http_request_duration_seconds_bucket{",
            "le=\"+Inf\"",
            "node_memory_working_set_bytes{node=",
        ] {
            assert!(text.contains(want), "missing {want}");
        }
        // Every sample line is `name{labels} value` with a parseable value.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, v) = line.rsplit_once(' ').unwrap_or_default();
            assert!(
                v.parse::<f64>().is_ok() || v == "NaN" || v.ends_with("Inf"),
                "{line}"
            );
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let mut s = String::new();
        escape_into(&mut s, "a\"b\\c\nd");
        assert_eq!(s, "a\\\"b\\\\c\\nd");
        assert_eq!(
            label_name("app.kubernetes.io/name"),
            "label_app_kubernetes_io_name"
        );
    }
}
