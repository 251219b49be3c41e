//! A node's detail: its conditions, what is placed on it against what it
//! holds, its pods (those in trouble first), the events about it and its
//! pods' warnings, the alerts that name it, and its recent use.

use std::cmp::Reverse;
use std::collections::HashSet;

use sentinel_model::{ClusterEvent, EventType, Labels, PodPhase, PodState};
use sentinel_protocol::{
    ConditionRow, ErrorKind, EventRow, IpcError, NODE_PODS_SHOWN, NodeDetail, NodeRef, Point,
};
use sentinel_runtime::snapshot::{NodeTrend, PodView};
use sentinel_runtime::{Runtime, Snapshot};

use crate::{ipc_error, natural_cmp};

/// Events shown, newest first.
const EVENTS_SHOWN: usize = 30;
/// Alerts shown, worst first.
const ALERTS_SHOWN: usize = 50;
/// Points per sparkline.
const TREND_POINTS: usize = 120;

/// Not ready or not running, unless it finished.
fn in_trouble(p: &PodState) -> bool {
    match p.phase {
        PodPhase::Succeeded => false,
        PodPhase::Running => p.ready_count() < p.containers.len(),
        PodPhase::Pending | PodPhase::Failed | PodPhase::Unknown => true,
    }
}

/// Still holds what it asked the node for.
fn placed(p: &PodState) -> bool {
    !matches!(p.phase, PodPhase::Succeeded | PodPhase::Failed)
}

fn event_row(e: &ClusterEvent) -> EventRow {
    EventRow {
        kind: format!("{:?}", e.kind),
        reason: e.reason.clone(),
        message: e.message.clone(),
        object: match &e.involved_object.namespace {
            Some(ns) => format!("{}/{ns}/{}", e.involved_object.kind, e.involved_object.name),
            None => format!("{}/{}", e.involved_object.kind, e.involved_object.name),
        },
        last_seen: e.last_timestamp,
        count: e.count,
    }
}

fn roles(labels: &Labels) -> Vec<String> {
    labels
        .keys()
        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect()
}

/// The node `r` names as `s` holds it, with `trend` for its charts.
pub fn node_detail_of(
    s: &Snapshot,
    r: &NodeRef,
    trend: Option<NodeTrend>,
) -> Result<NodeDetail, IpcError> {
    let Some(n) = s.nodes.iter().find(|n| n.node.name == r.name) else {
        return Err(IpcError::new(
            ErrorKind::NotFound,
            format!("node {} is no longer listed", r.name),
        ));
    };
    let on_node: Vec<&PodView> = s
        .pods
        .iter()
        .filter(|v| v.pod.node.as_deref() == Some(r.name.as_str()))
        .collect();
    let (mut cpu_requested_millis, mut memory_limits_bytes) = (0u64, 0u64);
    for v in on_node.iter().filter(|v| placed(&v.pod)) {
        for c in &v.pod.containers {
            cpu_requested_millis += u64::from(c.cpu_request_millis);
            memory_limits_bytes = memory_limits_bytes.saturating_add(c.memory_limit_bytes);
        }
    }
    let pods_in_trouble = on_node.iter().filter(|v| in_trouble(&v.pod)).count();
    let mut listed = on_node.clone();
    listed.sort_by(|a, b| {
        (Reverse(in_trouble(&a.pod)), Reverse(a.pod.restarts()))
            .cmp(&(Reverse(in_trouble(&b.pod)), Reverse(b.pod.restarts())))
            .then_with(|| a.pod.namespace.cmp(&b.pod.namespace))
            .then_with(|| natural_cmp(&a.pod.name, &b.pod.name))
    });
    // Its pods, by namespace and name, for their events and alerts.
    let names: HashSet<(&str, &str)> = on_node
        .iter()
        .map(|v| (v.pod.namespace.as_str(), v.pod.name.as_str()))
        .collect();
    let events = s
        .events
        .iter()
        .rev()
        .filter(|e| {
            let o = &e.involved_object;
            match (o.kind.as_str(), o.namespace.as_deref()) {
                ("Node", _) => o.name == r.name,
                ("Pod", Some(ns)) => {
                    e.kind == EventType::Warning && names.contains(&(ns, o.name.as_str()))
                }
                _ => false,
            }
        })
        .take(EVENTS_SHOWN)
        .map(event_row)
        .collect();
    let alerts = crate::feed::about(s, ALERTS_SHOWN, |l| {
        l.get("node").is_some_and(|v| *v == r.name)
            || match (l.get("namespace"), l.get("pod")) {
                (Some(ns), Some(pod)) => names.contains(&(ns.as_str(), pod.as_str())),
                _ => false,
            }
    });
    let trend = trend.unwrap_or_default();
    let points = |d: &[(sentinel_model::Timestamp, f64)]| {
        sentinel_runtime::series::lttb(d, TREND_POINTS)
            .into_iter()
            .map(|(t, v)| Point(t.millis(), v))
            .collect()
    };
    Ok(NodeDetail {
        at: s.at,
        row: crate::overview::node_row(n),
        labels: n.node.labels.clone(),
        roles: roles(&n.node.labels),
        cpu_capacity_millis: n.node.cpu_capacity_millis,
        memory_capacity_bytes: n.node.memory_capacity_bytes,
        cpu_cores: n.cpu_cores,
        memory_bytes: n.memory_bytes,
        cpu_requested_millis,
        memory_limits_bytes,
        conditions: n
            .node
            .conditions
            .iter()
            .map(|c| ConditionRow {
                kind: c.kind.clone(),
                status: c.status,
                reason: c.reason.clone(),
                since: c.since,
                abnormal: c.is_abnormal(),
            })
            .collect(),
        pods: listed
            .into_iter()
            .take(NODE_PODS_SHOWN)
            .map(crate::pods::row)
            .collect(),
        pods_total: on_node.len(),
        pods_in_trouble,
        events,
        alerts,
        cpu: points(&trend.cpu_percent),
        memory: points(&trend.memory_percent),
    })
}

/// Everything the node detail panel shows, as of now.
pub async fn node_detail(rt: &Runtime, r: &NodeRef) -> Result<NodeDetail, IpcError> {
    let s = rt.snapshot();
    let trend = rt.node_trend(r.name.clone()).await.map_err(ipc_error)?;
    node_detail_of(&s, r, trend)
}

#[cfg(test)]
#[path = "nodes_tests.rs"]
mod tests;
