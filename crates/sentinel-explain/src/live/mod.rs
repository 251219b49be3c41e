//! A capture from what the app holds of a live cluster: pods, nodes and
//! events written back as the Kubernetes JSON `kubectl get -o json` prints,
//! and series as captured metrics, so the explainer reads a live incident
//! exactly as it reads a case folder (and the capture can be saved as one).

use sentinel_model::{
    ClusterEvent, ContainerState, EventType, Labels, NodeState, OwnerKind, PodPhase, PodState,
    ServiceState, Timestamp, Workload, WorkloadKind,
};
use serde_json::{Value, json};

use crate::capture::Capture;
use crate::kube::{Objects, SEEN_AT, node_in_trouble};
use crate::metrics::Series;

fn time(t: Timestamp) -> String {
    t.to_rfc3339()
}

fn owner_kind(k: OwnerKind) -> &'static str {
    match k {
        OwnerKind::ReplicaSet => "ReplicaSet",
        OwnerKind::StatefulSet => "StatefulSet",
        OwnerKind::DaemonSet => "DaemonSet",
        OwnerKind::Job => "Job",
    }
}

fn phase(p: PodPhase) -> &'static str {
    match p {
        PodPhase::Pending => "Pending",
        PodPhase::Running => "Running",
        PodPhase::Succeeded => "Succeeded",
        PodPhase::Failed => "Failed",
        PodPhase::Unknown => "Unknown",
    }
}

/// A pod as the API serves it (the fields the explainer reads).
pub fn pod_json(p: &PodState) -> Value {
    let containers: Vec<Value> = p
        .containers
        .iter()
        .map(|c| {
            let mut limits = serde_json::Map::new();
            if c.memory_limit_bytes > 0 {
                limits.insert("memory".into(), json!(c.memory_limit_bytes.to_string()));
            }
            json!({
                "name": c.name,
                "image": c.image,
                "resources": {
                    "limits": limits,
                    "requests": {"cpu": format!("{}m", c.cpu_request_millis)},
                },
            })
        })
        .collect();
    let statuses: Vec<Value> = p
        .containers
        .iter()
        .map(|c| {
            let state = match &c.state {
                ContainerState::Running { started_at } => {
                    json!({"running": {"startedAt": time(*started_at)}})
                }
                ContainerState::Waiting { reason } => json!({"waiting": {"reason": reason}}),
                ContainerState::Terminated { reason, exit_code } => {
                    json!({"terminated": {"reason": reason, "exitCode": exit_code}})
                }
            };
            let last = match c.last_termination_reason.as_deref() {
                Some(r) => {
                    let code = if r == "OOMKilled" { 137 } else { 1 };
                    json!({"terminated": {"reason": r, "exitCode": code}})
                }
                None => json!({}),
            };
            json!({
                "name": c.name,
                "image": c.image,
                "ready": c.ready,
                "restartCount": c.restart_count,
                "state": state,
                "lastState": last,
            })
        })
        .collect();
    let owners: Vec<Value> = p
        .owner
        .iter()
        .map(|o| json!({"kind": owner_kind(o.kind), "name": o.name, "controller": true}))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": p.name,
            "namespace": p.namespace,
            "uid": p.uid,
            "labels": p.labels,
            "creationTimestamp": time(p.created_at),
            "ownerReferences": owners,
        },
        "spec": {"nodeName": p.node, "containers": containers},
        "status": {"phase": phase(p.phase), "containerStatuses": statuses},
    })
}

pub fn node_json(n: &NodeState) -> Value {
    let conditions: Vec<Value> = n
        .conditions
        .iter()
        .map(|c| {
            json!({
                "type": c.kind,
                "status": if c.status { "True" } else { "False" },
                "reason": c.reason,
                "lastTransitionTime": time(c.since),
            })
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": n.name, "labels": n.labels},
        "spec": {"unschedulable": n.unschedulable},
        "status": {
            "conditions": conditions,
            "capacity": {
                "cpu": format!("{}m", n.cpu_capacity_millis),
                "memory": n.memory_capacity_bytes.to_string(),
            },
        },
    })
}

pub fn event_json(e: &ClusterEvent, k: usize) -> Value {
    let o = &e.involved_object;
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": format!("{}.{k:x}", o.name),
            "namespace": o.namespace.clone().unwrap_or_else(|| "default".into()),
        },
        "type": match e.kind { EventType::Normal => "Normal", EventType::Warning => "Warning" },
        "reason": e.reason,
        "message": e.message,
        "involvedObject": {"kind": o.kind, "namespace": o.namespace, "name": o.name},
        "count": e.count,
        "firstTimestamp": time(e.first_timestamp),
        "lastTimestamp": time(e.last_timestamp),
        "source": {"component": e.source},
    })
}

/// A workload controller as the API serves it: revision, owner and the
/// template's images, which is what rollout evidence reads.
pub fn workload_json(w: &Workload) -> Value {
    let containers: Vec<Value> = w
        .images
        .iter()
        .map(|i| {
            let (name, image) = i.split_once('=').unwrap_or(("", i.as_str()));
            json!({"name": name, "image": image})
        })
        .collect();
    let mut meta = json!({
        "name": w.name,
        "namespace": w.namespace,
        "creationTimestamp": time(w.created_at),
    });
    if matches!(w.kind, WorkloadKind::Deployment | WorkloadKind::ReplicaSet)
        && !w.revision.is_empty()
    {
        meta["annotations"] = json!({"deployment.kubernetes.io/revision": w.revision});
    }
    if let (Some(owner), WorkloadKind::ReplicaSet) = (&w.owner, w.kind) {
        meta["ownerReferences"] =
            json!([{"kind": "Deployment", "name": owner, "controller": true}]);
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": w.kind.as_str(),
        "metadata": meta,
        "spec": {
            "replicas": w.replicas,
            "template": {"spec": {"containers": containers}},
        },
        "status": {"readyReplicas": w.ready},
    })
}

/// A Service as the API serves it: its selector and ports, which is what
/// routing evidence reads.
pub fn service_json(s: &ServiceState) -> Value {
    let ports: Vec<Value> = s
        .ports
        .iter()
        .map(|p| {
            // A named target port is a string, a numbered one a number.
            let target = p
                .target
                .parse::<i64>()
                .map_or_else(|_| json!(p.target), |n| json!(n));
            let mut v = json!({"port": p.port, "targetPort": target, "protocol": p.protocol});
            if !p.name.is_empty() {
                v["name"] = json!(p.name);
            }
            v
        })
        .collect();
    let mut spec = json!({"type": s.kind, "ports": ports});
    if !s.selector.is_empty() {
        spec["selector"] = json!(s.selector);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": s.name,
            "namespace": s.namespace,
            "creationTimestamp": time(s.created_at),
        },
        "spec": spec,
    })
}

/// A Service's Endpoints as the API serves them: the pods its selector
/// picks, ready or not. Written beside the Service so a capture that holds
/// only some of its pods still tells a Service with endpoints from one
/// without.
pub fn endpoints_json<'a>(s: &ServiceState, pods: impl IntoIterator<Item = &'a PodState>) -> Value {
    let (mut ready, mut not_ready) = (Vec::new(), Vec::new());
    for p in pods {
        if p.namespace != s.namespace || !s.selects(&p.labels) || p.phase != PodPhase::Running {
            continue;
        }
        let address = json!({
            "nodeName": p.node,
            "targetRef": {"kind": "Pod", "namespace": p.namespace, "name": p.name},
        });
        if !p.containers.is_empty() && p.ready_count() == p.containers.len() {
            ready.push(address);
        } else {
            not_ready.push(address);
        }
    }
    let subsets = if ready.is_empty() && not_ready.is_empty() {
        json!([])
    } else {
        json!([{"addresses": ready, "notReadyAddresses": not_ready}])
    };
    json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": s.name, "namespace": s.namespace},
        "subsets": subsets,
    })
}

/// The Services that log lines fail to look up (`lookup payments.shop.svc…:
/// no such host`), as `(namespace, name)`: the namespace the host names, else
/// the line's. A capture that holds some Services must hold these where they
/// exist, or the explainer would say there is no such Service.
pub fn looked_up(logs: &[crate::capture::LogLine]) -> std::collections::BTreeSet<(String, String)> {
    logs.iter()
        .filter_map(|l| {
            let host = crate::rules::routing::host_in(&l.line)?;
            let mut parts = host.split('.');
            let name = parts.next().filter(|n| !n.is_empty())?;
            let ns = parts.next().unwrap_or(&l.namespace);
            Some((ns.to_string(), name.to_string()))
        })
        .collect()
}

/// The objects as one `List`.
pub fn objects_json<'a>(
    pods: impl IntoIterator<Item = &'a PodState>,
    nodes: impl IntoIterator<Item = &'a NodeState>,
    events: impl IntoIterator<Item = &'a ClusterEvent>,
) -> Value {
    let mut items: Vec<Value> = pods.into_iter().map(pod_json).collect();
    items.extend(nodes.into_iter().map(node_json));
    items.extend(
        events
            .into_iter()
            .enumerate()
            .map(|(k, e)| event_json(e, k)),
    );
    json!({"apiVersion": "v1", "kind": "List", "items": items})
}

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
mod tests;
