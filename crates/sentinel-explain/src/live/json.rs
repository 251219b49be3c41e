//! Model values written back as the Kubernetes JSON the API serves (the
//! fields the explainer reads): pods, nodes, events, Services and their
//! Endpoints; workload controllers are in `workload_json.rs`.

use sentinel_model::{
    ClusterEvent, ContainerState, EventType, NodeState, OwnerKind, PodPhase, PodState, Probe,
    ProbeAction, ServiceState, Timestamp,
};
use std::collections::BTreeMap;

use serde_json::{Value, json};

pub(super) fn time(t: Timestamp) -> String {
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
            let mut spec = json!({
                "name": c.name,
                "image": c.image,
                "resources": {
                    "limits": limits,
                    "requests": {"cpu": format!("{}m", c.cpu_request_millis)},
                },
            });
            if !c.ports.is_empty() {
                let ports: Vec<Value> = c
                    .ports
                    .iter()
                    .map(|p| {
                        let mut v = json!({"containerPort": p.port, "protocol": p.protocol});
                        if !p.name.is_empty() {
                            v["name"] = json!(p.name);
                        }
                        v
                    })
                    .collect();
                spec["ports"] = json!(ports);
            }
            for pr in c.probes.iter() {
                spec[pr.kind.field()] = probe_json(pr);
            }
            spec
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

/// A port as the spec writes it: a number, else a name.
fn int_or_string(port: &str) -> Value {
    port.parse::<i64>()
        .map_or_else(|_| json!(port), |n| json!(n))
}

fn probe_json(p: &Probe) -> Value {
    let mut v = json!({
        "initialDelaySeconds": p.initial_delay_seconds,
        "timeoutSeconds": p.timeout_seconds,
        "periodSeconds": p.period_seconds,
        "failureThreshold": p.failure_threshold,
    });
    let (key, action) = match &p.action {
        ProbeAction::HttpGet { path, port, scheme } => (
            "httpGet",
            json!({"path": path, "port": int_or_string(port), "scheme": scheme}),
        ),
        ProbeAction::TcpSocket { port } => ("tcpSocket", json!({"port": int_or_string(port)})),
        ProbeAction::Grpc { port } => ("grpc", json!({"port": port})),
        ProbeAction::Exec { command } => ("exec", json!({"command": command})),
    };
    v[key] = action;
    v
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

/// A Service as the API serves it: its selector and ports, which is what
/// routing evidence reads.
pub fn service_json(s: &ServiceState) -> Value {
    let ports: Vec<Value> = s
        .ports
        .iter()
        .map(|p| {
            let target = int_or_string(&p.target);
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
    // Grouped by the ports they resolve to, as the endpoints controller
    // packs subsets.
    let mut subsets: BTreeMap<Vec<ResolvedPort>, (Vec<Value>, Vec<Value>)> = BTreeMap::new();
    for p in pods {
        if p.namespace != s.namespace || !s.selects(&p.labels) || p.phase != PodPhase::Running {
            continue;
        }
        let ports = resolved_ports(s, p);
        if ports.is_empty() && !s.ports.is_empty() {
            // No port of the Service resolves on this pod (a named
            // targetPort it does not declare): the controller skips it.
            continue;
        }
        let address = json!({
            "nodeName": p.node,
            "targetRef": {"kind": "Pod", "namespace": p.namespace, "name": p.name},
        });
        let (ready, not_ready) = subsets.entry(ports).or_default();
        if !p.containers.is_empty() && p.ready_count() == p.containers.len() {
            ready.push(address);
        } else {
            not_ready.push(address);
        }
    }
    let subsets: Vec<Value> = subsets
        .into_iter()
        .map(|(ports, (ready, not_ready))| {
            let ports: Vec<Value> = ports
                .into_iter()
                .map(|(name, port, protocol)| json!({"name": name, "port": port, "protocol": protocol}))
                .collect();
            json!({"addresses": ready, "notReadyAddresses": not_ready, "ports": ports})
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": s.name, "namespace": s.namespace},
        "subsets": subsets,
    })
}

/// A Service port's name, the container port it reaches, its protocol.
type ResolvedPort = (String, i32, String);

/// The Service's ports that reach this pod, with the container port each
/// targets.
fn resolved_ports(s: &ServiceState, p: &PodState) -> Vec<ResolvedPort> {
    s.ports
        .iter()
        .filter_map(|sp| Some((sp.name.clone(), sp.target_on(p)?, sp.protocol.clone())))
        .collect()
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
