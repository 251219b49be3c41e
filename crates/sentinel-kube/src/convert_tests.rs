#![allow(clippy::unwrap_used)]

use serde_json::json;

use sentinel_model::{ContainerPort, ContainerState, ProbeKind};

use super::*;

/// A pod as a v1.33 API server serves it (trimmed of managedFields).
fn oom_pod() -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "checkout-7d9f8b6c5-x2x9q", "namespace": "shop",
            "uid": "5c1e2f0a-8d3b-4f7e-9a61-0b2c3d4e5f60",
            "creationTimestamp": "2026-11-20T09:58:00Z",
            "labels": {"app": "checkout", "pod-template-hash": "7d9f8b6c5"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": "checkout-7d9f8b6c5", "uid": "a1", "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {
            "nodeName": "worker-2",
            "containers": [{"name": "checkout", "image": "shop/checkout:1.4.3",
                "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                    {"containerPort": 9901, "protocol": "UDP"}],
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                    "initialDelaySeconds": 5, "timeoutSeconds": 1, "periodSeconds": 10,
                    "successThreshold": 1, "failureThreshold": 3},
                "readinessProbe": {"tcpSocket": {"port": 8081}, "timeoutSeconds": 2}},
                {"name": "envoy", "image": "envoyproxy/envoy:v1.31.0"}]
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [{
                "name": "checkout", "image": "docker.io/shop/checkout:1.4.3", "imageID": "x",
                "ready": false, "restartCount": 4, "started": false,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                    "startedAt": "2026-11-20T10:01:00Z", "finishedAt": "2026-11-20T10:02:00Z"}}
            }]
        }
    }))
    .unwrap()
}

#[test]
fn a_pod_keeps_what_the_explainer_reads() {
    let p = pod(&oom_pod()).unwrap();
    assert_eq!(
        (p.namespace.as_str(), p.name.as_str()),
        ("shop", "checkout-7d9f8b6c5-x2x9q")
    );
    assert_eq!(p.uid, "5c1e2f0a-8d3b-4f7e-9a61-0b2c3d4e5f60");
    assert_eq!(
        p.owner,
        Some(OwnerRef {
            kind: OwnerKind::ReplicaSet,
            name: "checkout-7d9f8b6c5".into()
        })
    );
    assert_eq!(p.node.as_deref(), Some("worker-2"));
    assert_eq!(p.phase, PodPhase::Running);
    assert_eq!(
        p.created_at,
        Timestamp::parse("2026-11-20T09:58:00Z").unwrap()
    );
    let c = &p.containers[0];
    assert_eq!(c.image, "docker.io/shop/checkout:1.4.3");
    assert_eq!(c.restart_count, 4);
    assert_eq!(
        c.state,
        ContainerState::Waiting {
            reason: "CrashLoopBackOff".into()
        }
    );
    assert_eq!(c.last_termination_reason.as_deref(), Some("OOMKilled"));
    assert_eq!(
        (c.cpu_request_millis, c.memory_limit_bytes),
        (250, 256 << 20)
    );
    assert_eq!(
        c.ports.to_vec(),
        vec![
            ContainerPort {
                name: "http".into(),
                port: 8080,
                protocol: "TCP".into()
            },
            ContainerPort {
                name: String::new(),
                port: 9901,
                protocol: "UDP".into()
            },
        ]
    );
    let probes: Vec<_> = c
        .probes
        .iter()
        .map(|p| {
            (
                p.kind,
                p.describe(),
                p.initial_delay_seconds,
                p.timeout_seconds,
                p.period_seconds,
                p.failure_threshold,
            )
        })
        .collect();
    assert_eq!(
        probes,
        vec![
            (
                ProbeKind::Liveness,
                "httpGet :http/healthz".to_string(),
                5,
                1,
                10,
                3
            ),
            // Unset timing reads as the API server's defaults.
            (
                ProbeKind::Readiness,
                "tcpSocket :8081".to_string(),
                0,
                2,
                10,
                3
            ),
        ]
    );
    // A container with no status yet is being created, from its spec.
    let e = &p.containers[1];
    assert_eq!(e.image, "envoyproxy/envoy:v1.31.0");
    assert!(!e.ready);
    assert_eq!(
        e.state,
        ContainerState::Waiting {
            reason: "ContainerCreating".into()
        }
    );
    assert_eq!(p.last_termination_reason(), Some("CrashLoopBackOff"));
}

#[test]
fn a_bare_pod_maps_without_panicking() {
    let bare: Pod = serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap();
    let p = pod(&bare).unwrap();
    assert_eq!(
        (p.phase, p.containers.len(), p.owner),
        (PodPhase::Unknown, 0, None)
    );
    assert!(pod(&Pod::default()).is_none(), "no name, no pod");
}

#[test]
fn a_node_with_pressure() {
    let n: Node = serde_json::from_value(json!({
        "metadata": {"name": "worker-2", "labels": {"kubernetes.io/hostname": "worker-2"}},
        "spec": {"unschedulable": true},
        "status": {
            "capacity": {"cpu": "4", "memory": "16393852Ki", "pods": "110"},
            "conditions": [
                {"type": "MemoryPressure", "status": "True", "reason": "KubeletHasInsufficientMemory",
                 "lastTransitionTime": "2026-11-20T10:00:00Z", "lastHeartbeatTime": "2026-11-20T10:05:00Z"},
                {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "lastTransitionTime": "2026-11-19T08:00:00Z"}
            ]
        }
    }))
    .unwrap();
    let s = node(&n).unwrap();
    assert_eq!(s.cpu_capacity_millis, 4000);
    assert_eq!(s.memory_capacity_bytes, 16_393_852 * 1024);
    assert!(s.unschedulable && s.is_ready());
    let problems: Vec<&str> = s.problems().map(|c| c.kind.as_str()).collect();
    assert_eq!(problems, ["MemoryPressure"]);
    assert_eq!(s.conditions[0].reason, "KubeletHasInsufficientMemory");
}

#[test]
fn both_event_apis_map_to_the_same_event() {
    let core: CoreEvent = serde_json::from_value(json!({
        "metadata": {"name": "checkout-7d9f8b6c5-x2x9q.17f", "namespace": "shop", "uid": "e1"},
        "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "checkout-7d9f8b6c5-x2x9q"},
        "reason": "BackOff", "message": "Back-off restarting failed container checkout",
        "type": "Warning", "count": 7,
        "firstTimestamp": "2026-11-20T10:01:00Z", "lastTimestamp": "2026-11-20T10:06:00Z",
        "source": {"component": "kubelet", "host": "worker-2"}
    }))
    .unwrap();
    let new: NewEvent = serde_json::from_value(json!({
        "metadata": {"name": "checkout-7d9f8b6c5-x2x9q.17f", "namespace": "shop", "uid": "e1"},
        "eventTime": null,
        "regarding": {"kind": "Pod", "namespace": "shop", "name": "checkout-7d9f8b6c5-x2x9q"},
        "reason": "BackOff", "note": "Back-off restarting failed container checkout",
        "type": "Warning", "deprecatedCount": 7,
        "deprecatedFirstTimestamp": "2026-11-20T10:01:00Z",
        "deprecatedLastTimestamp": "2026-11-20T10:06:00Z",
        "deprecatedSource": {"component": "kubelet", "host": "worker-2"}
    }))
    .unwrap();
    let a = core_event(&core);
    assert_eq!(a, new_event(&new));
    assert_eq!(a.kind, EventType::Warning);
    assert_eq!(a.count, 7);
    assert_eq!(a.involved_object.name, "checkout-7d9f8b6c5-x2x9q");
    assert_eq!(
        a.last_timestamp,
        Timestamp::parse("2026-11-20T10:06:00Z").unwrap()
    );
    assert_eq!(a.source, "kubelet");
    assert_eq!(event_key(&core.metadata), "e1");
}

fn deploy(revision: &str, image: &str) -> Workload {
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "checkout", "namespace": "shop",
            "annotations": {"deployment.kubernetes.io/revision": revision}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "checkout"}},
            "template": {"metadata": {"labels": {"app": "checkout"}},
                "spec": {"containers": [{"name": "checkout", "image": image}]}}},
        "status": {"readyReplicas": 2}
    }))
    .unwrap();
    deployment(&d).unwrap()
}

#[test]
fn a_new_revision_is_a_rollout_with_old_and_new_image() {
    let before = deploy("3", "shop/checkout:1.4.2");
    assert_eq!((before.replicas, before.ready), (3, 2));
    assert!(rollout(&before, &before.clone(), Timestamp(5)).is_none());
    let after = deploy("4", "shop/checkout:1.4.3");
    let e = rollout(&before, &after, Timestamp(5)).unwrap();
    assert_eq!(e.reason, ROLLOUT);
    assert_eq!(
        e.message,
        "Deployment shop/checkout rolled out revision 4 (was 3): \
         checkout image shop/checkout:1.4.3 (was shop/checkout:1.4.2)"
    );
    assert_eq!(e.involved_object.kind, "Deployment");
    assert_eq!(e.first_timestamp, Timestamp(5));
}

#[test]
fn a_replica_set_names_its_deployment_and_revision() {
    let r: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "checkout-7d9f8b6c5", "namespace": "shop",
            "annotations": {"deployment.kubernetes.io/revision": "4"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout",
                "uid": "d1", "controller": true}]},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "checkout"}},
            "template": {"spec": {"containers": [{"name": "checkout", "image": "shop/checkout:1.4.3"}]}}}
    }))
    .unwrap();
    let w = replica_set(&r).unwrap();
    assert_eq!(w.owner.as_deref(), Some("checkout"));
    assert_eq!(w.revision, "4");
    assert_eq!(w.images, ["checkout=shop/checkout:1.4.3"]);
}
