//! Containers' declared ports and probes on the watched cluster, read by the
//! explainer: a Service that targets a port name its pods do not declare,
//! and a liveness probe on a port the container does not serve.

use std::time::Duration as StdDuration;

use sentinel_protocol::{Analysis, PodRef};
use sentinel_runtime::Snapshot;
use serde_json::json;

use crate::kube::{
    EVENTS, PODS, SERVICES, analysed, crash_loop, crash_looping, minutes_ago, one_node, pod,
};

fn evidence_has(a: &Analysis, texts: &[&str]) {
    let evidence: Vec<&str> = a.evidence.iter().map(|e| e.text.as_str()).collect();
    for text in texts {
        assert!(
            evidence.iter().any(|e| e.contains(text)),
            "{text}: {evidence:#?}"
        );
    }
}

/// `payments`' Service targets the port named `http`; its pod declares
/// 8080 as `web`. Kubernetes resolves the name to nothing, so the Service
/// has no endpoints, though its selector matches. A client crash-looping on
/// refused connections opens an incident; its capture takes the payments pod
/// along (it is not part of the incident), and the analysis names the port,
/// not the selector.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_targeting_a_port_name_its_pods_do_not_declare_is_named() {
    let dir = crate::support::tempdir("kube-port-name");
    let ago = minutes_ago();
    let fake = one_node().await;
    let mut payments = pod("payments-7d8e9f-a", "worker-1", "shop/payments:4.2.0");
    payments["metadata"]["labels"] = json!({"app": "payments"});
    payments["metadata"]["ownerReferences"][0]["name"] = json!("payments-7d8e9f");
    payments["spec"]["containers"][0]["ports"] =
        json!([{"name": "web", "containerPort": 8080, "protocol": "TCP"}]);
    fake.put(PODS, payments);
    fake.put(
        SERVICES,
        json!({"metadata": {"name": "payments", "namespace": "shop"},
            "spec": {"type": "ClusterIP", "selector": {"app": "payments"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}}),
    );
    let (rt, snap) = crash_loop(
        &fake,
        &dir,
        |restarts| crash_looping(&ago, restarts),
        &["fatal: dial tcp payments.shop.svc.cluster.local:80: connect: connection refused"],
        2,
        ("an analysis naming the port", |s: &Snapshot| {
            analysed(s, "service_port_mismatch").is_some()
        }),
    )
    .await;
    let (id, a) = analysed(&snap, "service_port_mismatch").unwrap();
    assert_eq!(a.candidates[0].cause, "service_port_mismatch", "{a:#?}");
    assert_eq!(a.candidates[0].object, "Service/shop/payments", "{a:#?}");
    assert!(
        a.candidates
            .iter()
            .all(|c| c.cause != "service_selector_mismatch"),
        "the selector matches: {a:#?}"
    );
    evidence_has(
        &a,
        &[
            "Service/shop/payments port 80 → targetPort http/TCP",
            "containers of Pod/shop/payments-7d8e9f-a declare 8080/TCP (web)",
            "connection refused",
        ],
    );
    let inc = snap.incidents.iter().find(|i| i.id == id).unwrap();
    let objects = &inc.capture.as_ref().unwrap().objects;
    assert_eq!(
        objects["Endpoints/shop/payments"]["subsets"],
        json!([]),
        "no pod resolves the name"
    );
    assert!(
        objects.contains_key("Pod/shop/payments-7d8e9f-a"),
        "{:?}",
        objects.keys()
    );
    // The pod drawer says the Service's target is not declared there.
    let r = PodRef {
        namespace: "shop".into(),
        name: "payments-7d8e9f-a".into(),
    };
    let d = sentinel_service::pod_detail(&rt, &r).await.unwrap();
    assert_eq!(
        d.services,
        vec!["payments (ClusterIP, 80→http, a port this pod does not declare)".to_string()]
    );
    assert_eq!(d.containers[0].ports, vec!["8080/TCP (web)".to_string()]);
    rt.shutdown(StdDuration::from_secs(5)).await;
}

/// `checkout`'s liveness probe asks port 8081; the container serves (and
/// declares) 8080. The kubelet's Unhealthy events say the connection was
/// refused; the analysis names the probe's port, citing the probe and the
/// declared ports, which only the watched spec holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_liveness_probe_on_a_port_the_container_does_not_declare_is_named() {
    let dir = crate::support::tempdir("kube-probe-port");
    let ago = minutes_ago();
    let fake = one_node().await;
    let crashing = |restarts| {
        let mut p = crash_looping(&ago, restarts);
        let c = &mut p["spec"]["containers"][0];
        c["ports"] = json!([{"name": "http", "containerPort": 8080, "protocol": "TCP"}]);
        c["livenessProbe"] = json!({"httpGet": {"path": "/healthz", "port": 8081, "scheme": "HTTP"},
            "initialDelaySeconds": 10, "timeoutSeconds": 1, "periodSeconds": 10,
            "successThreshold": 1, "failureThreshold": 3});
        p["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] = json!(137);
        p
    };
    fake.put(
        EVENTS,
        json!({"metadata": {"name": "checkout-6f7c9d-a.2", "namespace": "shop", "uid": "ev2"},
            "regarding": {"kind": "Pod", "namespace": "shop", "name": "checkout-6f7c9d-a"},
            "reason": "Unhealthy", "type": "Warning",
            "note": "Liveness probe failed: Get \"http://10.244.1.7:8081/healthz\": dial tcp 10.244.1.7:8081: connect: connection refused",
            "deprecatedCount": 9, "deprecatedFirstTimestamp": ago(4),
            "deprecatedLastTimestamp": ago(1), "reportingController": "kubelet"}),
    );
    let (rt, snap) = crash_loop(
        &fake,
        &dir,
        crashing,
        &[],
        1,
        ("an analysis naming the probe's port", |s: &Snapshot| {
            analysed(s, "liveness_probe_wrong_port").is_some()
        }),
    )
    .await;
    let (_, a) = analysed(&snap, "liveness_probe_wrong_port").unwrap();
    assert_eq!(a.candidates[0].cause, "liveness_probe_wrong_port", "{a:#?}");
    assert_eq!(
        a.candidates[0].object, "Pod/shop/checkout-6f7c9d-a",
        "{a:#?}"
    );
    evidence_has(
        &a,
        &[
            "Liveness probe {\"path\":\"/healthz\",\"port\":8081,\"scheme\":\"HTTP\"}",
            "container ports 8080/http",
            "8081/healthz\": dial tcp 10.244.1.7:8081: connect: connection refused",
        ],
    );
    // The pod drawer shows the declared port and the probe.
    let r = PodRef {
        namespace: "shop".into(),
        name: "checkout-6f7c9d-a".into(),
    };
    let d = sentinel_service::pod_detail(&rt, &r).await.unwrap();
    assert_eq!(d.containers[0].ports, vec!["8080/TCP (http)".to_string()]);
    assert_eq!(
        d.containers[0].probes,
        vec!["Liveness httpGet :8081/healthz, every 10s, timeout 1s, after 10s".to_string()]
    );
    rt.shutdown(StdDuration::from_secs(5)).await;
}
