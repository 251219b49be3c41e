//! Kubernetes objects (k8s-openapi) to Sentinel's model: only the fields the
//! runtime, the incident manager and the explainer read, so ten thousand
//! pods stay a few megabytes. Pure; every field may be missing.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Event as CoreEvent, Node, ObjectReference, Pod, Service};
use k8s_openapi::api::events::v1::Event as NewEvent;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use sentinel_model::{
    ClusterEvent, EventType, Labels, NodeCondition, NodeState, ObjectRef, OwnerKind, OwnerRef,
    PodPhase, PodState, ServicePort, ServiceState, Timestamp, Workload, WorkloadKind, quantity,
};

/// The revision annotation the Deployment controller keeps.
pub const REVISION: &str = "deployment.kubernetes.io/revision";

pub(crate) fn time(t: &Time) -> Timestamp {
    Timestamp(t.0.as_millisecond())
}

fn micro(t: &MicroTime) -> Timestamp {
    Timestamp(t.0.as_millisecond())
}

fn labels(m: &ObjectMeta) -> Labels {
    m.labels.clone().unwrap_or_default()
}

pub(crate) fn text(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

pub(crate) fn amount(map: Option<&BTreeMap<String, Quantity>>, key: &str) -> Option<f64> {
    map.and_then(|m| m.get(key)).and_then(|q| quantity(&q.0))
}

pub(crate) fn clamp_u32(v: f64) -> u32 {
    if v.is_finite() && v > 0.0 {
        v.min(f64::from(u32::MAX)) as u32
    } else {
        0
    }
}

pub(crate) fn clamp_u64(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.min(u64::MAX as f64) as u64
    } else {
        0
    }
}

/// The controlling owner, when it is a kind pods are grouped by.
fn owner(m: &ObjectMeta) -> Option<OwnerRef> {
    let refs = m.owner_references.as_ref()?;
    let r = refs
        .iter()
        .find(|r| r.controller == Some(true))
        .or(refs.first())?;
    let kind = match r.kind.as_str() {
        "ReplicaSet" => OwnerKind::ReplicaSet,
        "StatefulSet" => OwnerKind::StatefulSet,
        "DaemonSet" => OwnerKind::DaemonSet,
        "Job" => OwnerKind::Job,
        _ => return None,
    };
    Some(OwnerRef {
        kind,
        name: r.name.clone(),
    })
}

fn phase(p: Option<&str>) -> PodPhase {
    match p {
        Some("Pending") => PodPhase::Pending,
        Some("Running") => PodPhase::Running,
        Some("Succeeded") => PodPhase::Succeeded,
        Some("Failed") => PodPhase::Failed,
        _ => PodPhase::Unknown,
    }
}

/// A pod; `None` without a name (never served by a real API server).
pub fn pod(p: &Pod) -> Option<PodState> {
    let m = &p.metadata;
    let name = m.name.clone()?;
    let statuses = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let containers = p
        .spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .map(|c| super::container::container(c, statuses.iter().find(|s| s.name == c.name)))
                .collect()
        })
        .unwrap_or_default();
    Some(PodState {
        uid: m.uid.clone().unwrap_or_else(|| name.clone()),
        namespace: text(&m.namespace),
        name,
        labels: labels(m),
        owner: owner(m),
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
        phase: phase(p.status.as_ref().and_then(|s| s.phase.as_deref())),
        created_at: m.creation_timestamp.as_ref().map(time).unwrap_or_default(),
        containers,
    })
}

pub fn node(n: &Node) -> Option<NodeState> {
    let name = n.metadata.name.clone()?;
    let status = n.status.as_ref();
    let cap = status.and_then(|s| s.capacity.as_ref());
    let conditions = status
        .and_then(|s| s.conditions.as_ref())
        .map(|cs| {
            cs.iter()
                .map(|c| NodeCondition {
                    kind: c.type_.clone(),
                    status: c.status == "True",
                    since: c
                        .last_transition_time
                        .as_ref()
                        .map(time)
                        .unwrap_or_default(),
                    reason: text(&c.reason),
                })
                .collect()
        })
        .unwrap_or_default();
    Some(NodeState {
        name,
        labels: labels(&n.metadata),
        cpu_capacity_millis: amount(cap, "cpu").map_or(0, |c| clamp_u32(c * 1000.0)),
        memory_capacity_bytes: amount(cap, "memory").map_or(0, clamp_u64),
        conditions,
        unschedulable: n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true),
    })
}

fn object(r: Option<&ObjectReference>) -> ObjectRef {
    ObjectRef {
        kind: r.and_then(|r| r.kind.clone()).unwrap_or_default(),
        namespace: r.and_then(|r| r.namespace.clone()),
        name: r.and_then(|r| r.name.clone()).unwrap_or_default(),
    }
}

fn event_type(t: Option<&str>) -> EventType {
    if t == Some("Warning") {
        EventType::Warning
    } else {
        EventType::Normal
    }
}

/// The key events are told apart by: uid, else namespace/name.
pub fn event_key(m: &ObjectMeta) -> String {
    m.uid
        .clone()
        .unwrap_or_else(|| format!("{}/{}", text(&m.namespace), text(&m.name)))
}

/// A core/v1 event.
pub fn core_event(e: &CoreEvent) -> ClusterEvent {
    let first = e
        .first_timestamp
        .as_ref()
        .map(time)
        .or(e.event_time.as_ref().map(micro))
        .or(e.metadata.creation_timestamp.as_ref().map(time))
        .unwrap_or_default();
    let last = e
        .last_timestamp
        .as_ref()
        .map(time)
        .or(e
            .series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref().map(micro)))
        .unwrap_or(first);
    ClusterEvent {
        kind: event_type(e.type_.as_deref()),
        reason: text(&e.reason),
        message: text(&e.message),
        involved_object: object(Some(&e.involved_object)),
        count: e
            .count
            .or(e.series.as_ref().and_then(|s| s.count))
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(1)
            .max(1),
        first_timestamp: first,
        last_timestamp: last.max(first),
        source: e
            .source
            .as_ref()
            .and_then(|s| s.component.clone())
            .or(e.reporting_component.clone())
            .unwrap_or_default(),
    }
}

/// An events.k8s.io/v1 event, the same event in the newer shape.
pub fn new_event(e: &NewEvent) -> ClusterEvent {
    let first = e
        .deprecated_first_timestamp
        .as_ref()
        .map(time)
        .or(e.event_time.as_ref().map(micro))
        .or(e.metadata.creation_timestamp.as_ref().map(time))
        .unwrap_or_default();
    let last = e
        .series
        .as_ref()
        .map(|s| micro(&s.last_observed_time))
        .or(e.deprecated_last_timestamp.as_ref().map(time))
        .unwrap_or(first);
    ClusterEvent {
        kind: event_type(e.type_.as_deref()),
        reason: text(&e.reason),
        message: text(&e.note),
        involved_object: object(e.regarding.as_ref()),
        count: e
            .series
            .as_ref()
            .map(|s| s.count)
            .or(e.deprecated_count)
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(1)
            .max(1),
        first_timestamp: first,
        last_timestamp: last.max(first),
        source: e
            .reporting_controller
            .clone()
            .or(e
                .deprecated_source
                .as_ref()
                .and_then(|s| s.component.clone()))
            .unwrap_or_default(),
    }
}

pub(crate) fn images(spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> Vec<String> {
    spec.map(|s| {
        s.containers
            .iter()
            .map(|c| format!("{}={}", c.name, text(&c.image)))
            .collect()
    })
    .unwrap_or_default()
}

pub(crate) fn count(n: Option<i32>) -> u32 {
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

pub(crate) fn workload(
    kind: WorkloadKind,
    m: &ObjectMeta,
    revision: String,
    images: Vec<String>,
    replicas: u32,
    ready: u32,
) -> Option<Workload> {
    Some(Workload {
        kind,
        namespace: text(&m.namespace),
        name: m.name.clone()?,
        owner: m
            .owner_references
            .as_ref()
            .and_then(|r| r.iter().find(|r| r.controller == Some(true)))
            .map(|r| r.name.clone()),
        revision,
        images,
        replicas,
        ready,
        created_at: m.creation_timestamp.as_ref().map(time).unwrap_or_default(),
        batch: None,
        rollout: None,
    })
}

fn annotation(m: &ObjectMeta, key: &str) -> String {
    m.annotations
        .as_ref()
        .and_then(|a| a.get(key).cloned())
        .unwrap_or_default()
}

/// A Service's selector and ports. A target port left out is the port
/// itself, as the API defaults it.
pub fn service(s: &Service) -> Option<ServiceState> {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let spec = s.spec.as_ref();
    let ports = spec
        .and_then(|s| s.ports.as_ref())
        .map(|ports| {
            ports
                .iter()
                .map(|p| ServicePort {
                    name: text(&p.name),
                    port: p.port,
                    target: match &p.target_port {
                        Some(IntOrString::Int(n)) => n.to_string(),
                        Some(IntOrString::String(name)) => name.clone(),
                        None => p.port.to_string(),
                    },
                    protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                })
                .collect()
        })
        .unwrap_or_default();
    Some(ServiceState {
        namespace: text(&s.metadata.namespace),
        name: s.metadata.name.clone()?,
        selector: spec.and_then(|s| s.selector.clone()).unwrap_or_default(),
        kind: spec
            .and_then(|s| s.type_.clone())
            .unwrap_or_else(|| "ClusterIP".into()),
        ports,
        created_at: s
            .metadata
            .creation_timestamp
            .as_ref()
            .map(time)
            .unwrap_or_default(),
    })
}

pub fn deployment(d: &Deployment) -> Option<Workload> {
    let spec = d.spec.as_ref();
    let status = d.status.as_ref();
    let mut w = workload(
        WorkloadKind::Deployment,
        &d.metadata,
        annotation(&d.metadata, REVISION),
        images(spec.and_then(|s| s.template.spec.as_ref())),
        count(spec.and_then(|s| s.replicas)),
        count(status.and_then(|s| s.ready_replicas)),
    )?;
    w.rollout = crate::rollout::deployment(d);
    Some(w)
}

pub fn replica_set(r: &ReplicaSet) -> Option<Workload> {
    let spec = r.spec.as_ref();
    workload(
        WorkloadKind::ReplicaSet,
        &r.metadata,
        annotation(&r.metadata, REVISION),
        images(
            spec.and_then(|s| s.template.as_ref())
                .and_then(|t| t.spec.as_ref()),
        ),
        count(spec.and_then(|s| s.replicas)),
        count(r.status.as_ref().and_then(|s| s.ready_replicas)),
    )
}

pub fn stateful_set(s: &StatefulSet) -> Option<Workload> {
    let spec = s.spec.as_ref();
    let status = s.status.as_ref();
    let mut w = workload(
        WorkloadKind::StatefulSet,
        &s.metadata,
        status
            .and_then(|st| st.update_revision.clone())
            .unwrap_or_default(),
        images(spec.and_then(|sp| sp.template.spec.as_ref())),
        count(spec.and_then(|sp| sp.replicas)),
        count(status.and_then(|st| st.ready_replicas)),
    )?;
    w.rollout = crate::rollout::stateful_set(s);
    Some(w)
}

pub fn daemon_set(d: &DaemonSet) -> Option<Workload> {
    let status = d.status.as_ref();
    let mut w = workload(
        WorkloadKind::DaemonSet,
        &d.metadata,
        // A DaemonSet's template generation is its revision.
        d.metadata
            .generation
            .map(|g| g.to_string())
            .unwrap_or_default(),
        images(d.spec.as_ref().and_then(|s| s.template.spec.as_ref())),
        status.map_or(0, |s| count(Some(s.desired_number_scheduled))),
        status.map_or(0, |s| count(Some(s.number_ready))),
    )?;
    w.rollout = crate::rollout::daemon_set(d);
    Some(w)
}

/// The change event Sentinel records when a workload rolls out: a new
/// revision or new images. `None` when neither changed.
pub fn rollout(before: &Workload, after: &Workload, at: Timestamp) -> Option<ClusterEvent> {
    if before.revision == after.revision && before.images == after.images {
        return None;
    }
    let mut message = format!(
        "{} {}/{} rolled out",
        after.kind.as_str(),
        after.namespace,
        after.name
    );
    if before.revision != after.revision {
        message.push_str(&format!(
            " revision {} (was {})",
            show(&after.revision),
            show(&before.revision)
        ));
    }
    let changed: Vec<String> = after
        .images
        .iter()
        .filter(|i| !before.images.contains(i))
        .map(|i| {
            let name = i.split_once('=').map_or(i.as_str(), |(n, _)| n);
            let was = before
                .images
                .iter()
                .find(|b| b.split_once('=').map(|(n, _)| n) == Some(name))
                .and_then(|b| b.split_once('=').map(|(_, img)| img))
                .unwrap_or("none");
            let now = i.split_once('=').map_or("", |(_, img)| img);
            format!("{name} image {now} (was {was})")
        })
        .collect();
    if !changed.is_empty() {
        message.push_str(": ");
        message.push_str(&changed.join(", "));
    }
    Some(ClusterEvent {
        kind: EventType::Normal,
        reason: ROLLOUT.into(),
        message,
        involved_object: ObjectRef {
            kind: after.kind.as_str().into(),
            namespace: Some(after.namespace.clone()),
            name: after.name.clone(),
        },
        count: 1,
        first_timestamp: at,
        last_timestamp: at,
        source: "sentinel".into(),
    })
}

/// The reason of the change events Sentinel derives from workloads.
pub const ROLLOUT: &str = "Rollout";

fn show(s: &str) -> &str {
    if s.is_empty() { "unknown" } else { s }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
