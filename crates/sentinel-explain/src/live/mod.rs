//! A capture from what the app holds of a live cluster: pods, nodes and
//! events written back as the Kubernetes JSON `kubectl get -o json` prints,
//! and series as captured metrics, so the explainer reads a live incident
//! exactly as it reads a case folder (and the capture can be saved as one).

use sentinel_model::{Labels, Timestamp};
use serde_json::{Value, json};

use crate::capture::Capture;
use crate::kube::{Objects, SEEN_AT, node_in_trouble};
use crate::metrics::Series;

mod json;
mod workload_json;
pub use json::{
    endpoints_json, event_json, looked_up, node_json, objects_json, pod_json, service_json,
};
pub use workload_json::workload_json;

/// A series for the capture from readings the app holds.
pub fn series(name: &str, labels: &Labels, points: Vec<(Timestamp, f64)>) -> Series {
    Series {
        name: name.to_string(),
        labels: labels.clone(),
        points,
    }
}

/// The series a live capture takes from the app's own readings, named as
/// recording rules over the usual metrics would name them: a pod's CPU
/// (cores, summed over its containers), its memory working set (bytes), its
/// p95 latency (seconds, of the requests served since the step before), and
/// a node's CPU use (a fraction of its capacity).
pub const POD_CPU: &str = "namespace_pod:container_cpu_usage_seconds_total:sum_rate";
pub const POD_MEMORY: &str = "container_memory_working_set_bytes";
pub const POD_P95: &str = "namespace_pod:http_request_duration_seconds:p95";
pub const NODE_CPU: &str = "node_cpu_usage_ratio";

/// A series as kept in an incident's capture.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CapturedSeries {
    pub name: String,
    pub labels: Labels,
    pub points: Vec<(Timestamp, f64)>,
}

/// What the app saw of the objects around an incident while it was active.
/// Later captures update objects that still exist and keep those that are
/// gone (the OOM-killed pod a rollback deleted is still evidence). A node
/// that recovers keeps its last troubled version in `earlier`: read through
/// Prometheus there are no events, and its NotReady spell would otherwise
/// leave no trace while the incident stays open for its other members.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LiveCapture {
    pub taken_at: Timestamp,
    /// `Kind/namespace/name` → the object as the API serves it.
    pub objects: std::collections::BTreeMap<String, Value>,
    pub metrics: Vec<CapturedSeries>,
    /// Container log lines (a crashed container's previous log).
    #[serde(default)]
    pub logs: Vec<crate::capture::LogLine>,
    /// `Kind/namespace/name` → the object's last version in trouble, when
    /// it is well now (nodes), marked with when it was last seen so.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub earlier: std::collections::BTreeMap<String, Value>,
    /// The known service dependencies around the incident, `(caller,
    /// callee)` as `namespace/service`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<(String, String)>,
}

/// Objects a capture keeps at most, and points per series.
pub const CAPTURE_OBJECTS: usize = 400;
/// Log lines a capture keeps at most.
pub const CAPTURE_LOGS: usize = 1000;
const CAPTURE_POINTS: usize = 480;
/// Of those, at most this many from up to [`ONSET_AFTER_MS`] after the
/// onset: the baseline and the change the explainer compares.
const ONSET_POINTS: usize = 360;
const ONSET_AFTER_MS: i64 = 5 * 60_000;

/// Keeps a captured series within [`CAPTURE_POINTS`]: its points up to
/// shortly after the onset (thinned evenly to [`ONSET_POINTS`] when there
/// are more), then the latest. What goes is the middle: dropping the
/// oldest would lose, in an incident open for long, the baseline before
/// its onset that its explanation rests on.
fn trim(points: &mut Vec<(Timestamp, f64)>, onset: Timestamp) {
    if points.len() <= CAPTURE_POINTS {
        return;
    }
    let edge = onset.0.saturating_add(ONSET_AFTER_MS);
    let around = points.partition_point(|p| p.0.0 <= edge);
    let kept = around.min(ONSET_POINTS);
    let mut out: Vec<(Timestamp, f64)> = (0..kept).map(|j| points[j * around / kept]).collect();
    let later = &points[around..];
    out.extend_from_slice(&later[later.len().saturating_sub(CAPTURE_POINTS - kept)..]);
    *points = out;
}

impl LiveCapture {
    /// Adds what is seen now: objects (pods, nodes, events) and series, of
    /// an incident with this onset.
    /// Takes in another incident's capture (the incidents were merged):
    /// its objects this one lacks, its series' points, logs and the
    /// versions of objects seen in trouble earlier. What this one holds of
    /// an object stays.
    pub fn absorb(&mut self, other: LiveCapture, onset: Timestamp) {
        let at = self.taken_at.max(other.taken_at);
        for (k, v) in other.earlier {
            self.earlier.entry(k).or_insert(v);
        }
        for c in other.calls {
            if !self.calls.contains(&c) {
                self.calls.push(c);
            }
        }
        let objects = other
            .objects
            .into_iter()
            .filter(|(k, _)| !self.objects.contains_key(k))
            .map(|(_, v)| v)
            .collect();
        self.merge(at, onset, objects, other.metrics, other.logs);
    }

    pub fn merge(
        &mut self,
        at: Timestamp,
        onset: Timestamp,
        objects: Vec<Value>,
        metrics: Vec<CapturedSeries>,
        logs: Vec<crate::capture::LogLine>,
    ) {
        let before = std::mem::replace(&mut self.taken_at, at);
        for l in logs {
            if self.logs.len() < CAPTURE_LOGS && !self.logs.contains(&l) {
                self.logs.push(l);
            }
        }
        for o in objects {
            let key = format!(
                "{}/{}/{}",
                crate::kube::str_at(&o, "/kind"),
                crate::kube::str_at(&o, "/metadata/namespace"),
                crate::kube::str_at(&o, "/metadata/name")
            );
            if self.objects.len() >= CAPTURE_OBJECTS && !self.objects.contains_key(&key) {
                continue;
            }
            if let Some(old) = self.objects.insert(key.clone(), o)
                && node_in_trouble(&old)
                && !self.objects.get(&key).is_some_and(node_in_trouble)
            {
                self.earlier.insert(key, seen_so(old, before));
            }
        }
        for mut m in metrics {
            trim(&mut m.points, onset);
            match self
                .metrics
                .iter_mut()
                .find(|x| x.name == m.name && x.labels == m.labels)
            {
                Some(x) => {
                    let last = x.points.last().map_or(i64::MIN, |p| p.0.0);
                    x.points
                        .extend(m.points.into_iter().filter(|p| p.0.0 > last));
                    trim(&mut x.points, onset);
                }
                None => self.metrics.push(m),
            }
        }
    }

    /// The capture as the explainer reads it, with the incident's onset.
    pub fn to_capture(&self, onset: Timestamp) -> Capture {
        let items: Vec<Value> = self
            .objects
            .values()
            .chain(self.earlier.values())
            .cloned()
            .collect();
        let metrics = self
            .metrics
            .iter()
            .map(|m| series(&m.name, &m.labels, m.points.clone()))
            .collect();
        let mut c = capture(
            onset,
            json!({"apiVersion": "v1", "kind": "List", "items": items}),
            metrics,
        );
        c.logs = self.logs.clone();
        c.calls = self.calls.clone();
        c
    }
}

/// `v` marked as last seen so at `at`.
fn seen_so(mut v: Value, at: Timestamp) -> Value {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        let notes = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Some(notes) = notes.as_object_mut() {
            notes.insert(SEEN_AT.into(), json!(at.to_rfc3339()));
        }
    }
    v
}

/// A capture of live state; what it holds is all the explainer may cite.
pub fn capture(onset: Timestamp, objects: Value, metrics: Vec<Series>) -> Capture {
    Capture {
        onset,
        objects: Objects::from_value(objects),
        metrics,
        logs: Vec::new(),
        calls: Vec::new(),
    }
}

#[cfg(test)]
mod port_tests;
#[cfg(test)]
mod tests;
