//! Pods and nodes rebuilt from kube-state-metrics' series.

use std::collections::BTreeMap;

use sentinel_model::{
    ContainerState, ContainerStatus, Labels, NodeCondition, NodeState, OwnerKind, OwnerRef,
    PodPhase, PodState, Timestamp,
};

use super::{PodKey, counter, pod_key};
use crate::parse::Series;

#[derive(Default)]
struct PodBuild {
    uid: String,
    node: Option<String>,
    owner: Option<OwnerRef>,
    phase: Option<PodPhase>,
    created: Option<Timestamp>,
    labels: Labels,
    containers: BTreeMap<String, ContainerStatus>,
}

fn phase(s: &str) -> Option<PodPhase> {
    Some(match s {
        "Pending" => PodPhase::Pending,
        "Running" => PodPhase::Running,
        "Succeeded" => PodPhase::Succeeded,
        "Failed" => PodPhase::Failed,
        "Unknown" => PodPhase::Unknown,
        _ => return None,
    })
}

fn owner_kind(s: &str) -> Option<OwnerKind> {
    Some(match s {
        "ReplicaSet" => OwnerKind::ReplicaSet,
        "StatefulSet" => OwnerKind::StatefulSet,
        "DaemonSet" => OwnerKind::DaemonSet,
        "Job" => OwnerKind::Job,
        _ => return None,
    })
}

/// Rebuilds pods and nodes from kube-state-metrics series. Pods without a
/// `kube_pod_info` series are left out (they are being deleted).
pub fn objects(
    series: &[Series],
    at: Timestamp,
) -> (Option<Vec<PodState>>, Option<Vec<NodeState>>) {
    let mut pods: BTreeMap<PodKey, PodBuild> = BTreeMap::new();
    let mut nodes: BTreeMap<String, NodeState> = BTreeMap::new();
    let mut saw_pod_info = false;
    for s in series {
        let m = &s.metric;
        let Some(value) = s.values.last().map(|p| p.value) else {
            continue;
        };
        let name = m.get("__name__").map_or("", String::as_str);
        let get = |k: &str| m.get(k).cloned().unwrap_or_default();
        if let Some(node) = name.strip_prefix("kube_node_").and(m.get("node")) {
            let n = nodes.entry(node.clone()).or_insert_with(|| NodeState {
                name: node.clone(),
                labels: Labels::new(),
                cpu_capacity_millis: 0,
                memory_capacity_bytes: 0,
                conditions: Vec::new(),
                unschedulable: false,
            });
            match name {
                "kube_node_status_capacity" => match m.get("resource").map(String::as_str) {
                    Some("cpu") => {
                        n.cpu_capacity_millis =
                            (value * 1000.0).round().clamp(0.0, u32::MAX as f64) as u32
                    }
                    Some("memory") => n.memory_capacity_bytes = counter(value),
                    _ => {}
                },
                "kube_node_status_condition" => n.conditions.push(NodeCondition {
                    kind: get("condition"),
                    status: m.get("status").is_some_and(|s| s == "true"),
                    since: at,
                    reason: match m.get("status").map(String::as_str) {
                        Some("unknown") => "NodeStatusUnknown".into(),
                        _ => String::new(),
                    },
                }),
                "kube_node_spec_unschedulable" => n.unschedulable = value == 1.0,
                _ => {}
            }
            continue;
        }
        let Some(key) = pod_key(m) else { continue };
        let p = pods.entry(key).or_default();
        if let Some(uid) = m.get("uid") {
            p.uid.clone_from(uid);
        }
        match name {
            "kube_pod_info" => {
                saw_pod_info = true;
                p.node = m.get("node").filter(|n| !n.is_empty()).cloned();
                p.owner = owner_kind(&get("created_by_kind")).map(|kind| OwnerRef {
                    kind,
                    name: get("created_by_name"),
                });
                continue;
            }
            "kube_pod_status_phase" => {
                p.phase = phase(&get("phase"));
                continue;
            }
            "kube_pod_created" => {
                p.created = Some(Timestamp((value * 1000.0) as i64));
                continue;
            }
            "kube_pod_labels" => {
                p.labels = m
                    .iter()
                    .filter_map(|(k, v)| Some((k.strip_prefix("label_")?.to_string(), v.clone())))
                    .collect();
                continue;
            }
            _ => {}
        }
        let Some(cname) = m.get("container") else {
            continue;
        };
        let c = p
            .containers
            .entry(cname.clone())
            .or_insert_with(|| ContainerStatus {
                name: cname.clone(),
                image: String::new(),
                ready: false,
                restart_count: 0,
                state: ContainerState::Running { started_at: at },
                last_termination_reason: None,
                cpu_request_millis: 0,
                memory_limit_bytes: 0,
                ports: Default::default(),
                probes: Default::default(),
            });
        let resource = m.get("resource").map(String::as_str);
        match name {
            "kube_pod_container_info" => c.image = get("image"),
            "kube_pod_container_status_restarts_total" => {
                c.restart_count = counter(value).min(u64::from(u32::MAX)) as u32;
            }
            "kube_pod_container_status_ready" => c.ready = value == 1.0,
            "kube_pod_container_status_waiting_reason" if value == 1.0 => {
                c.state = ContainerState::Waiting {
                    reason: get("reason"),
                };
            }
            "kube_pod_container_status_terminated_reason" if value == 1.0 => {
                c.state = ContainerState::Terminated {
                    reason: get("reason"),
                    exit_code: 0,
                };
            }
            "kube_pod_container_status_last_terminated_reason" if value == 1.0 => {
                c.last_termination_reason = Some(get("reason"));
            }
            "kube_pod_container_resource_requests" if resource == Some("cpu") => {
                c.cpu_request_millis =
                    (value * 1000.0).round().clamp(0.0, f64::from(u32::MAX)) as u32;
            }
            "kube_pod_container_resource_limits" if resource == Some("memory") => {
                c.memory_limit_bytes = counter(value);
            }
            _ => {}
        }
    }
    let pods = saw_pod_info.then(|| {
        pods.into_iter()
            .filter(|(_, b)| !b.uid.is_empty() && b.phase.is_some())
            .map(|((namespace, name), b)| {
                let created_at = b.created.unwrap_or(at);
                PodState {
                    uid: b.uid,
                    namespace,
                    name,
                    labels: b.labels,
                    owner: b.owner,
                    node: b.node,
                    phase: b.phase.unwrap_or(PodPhase::Unknown),
                    created_at,
                    containers: b
                        .containers
                        .into_values()
                        .map(|mut c| {
                            if let ContainerState::Running { started_at } = &mut c.state {
                                *started_at = created_at;
                            }
                            c
                        })
                        .collect(),
                }
            })
            .collect()
    });
    let nodes = (!nodes.is_empty()).then(|| {
        nodes
            .into_values()
            .map(|mut n| {
                n.conditions.sort_by(|a, b| a.kind.cmp(&b.kind));
                n
            })
            .collect()
    });
    (pods, nodes)
}
