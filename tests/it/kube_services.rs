//! Services on the watched cluster, read by the explainer: a selector that
//! matches no pod, and a Service a client fails to look up.

use std::time::Duration as StdDuration;

use sentinel_runtime::Snapshot;
use serde_json::json;

use crate::kube::{
    PODS, SERVICES, analysed, crash_loop, crash_looping, minutes_ago, one_node, pod,
};

/// A Service whose selector matches no pod (its pods carry another label),
/// on the watched cluster: a client crash-looping on refused connections to
/// it opens an incident, whose capture holds the namespace's Services and
/// their Endpoints, and the analysis names the selector.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_selects_no_pod_is_named_from_the_watched_cluster() {
    let dir = crate::support::tempdir("kube-selector");
    let ago = minutes_ago();
    let fake = one_node().await;
    let mut payments = pod("payments-7d8e9f-a", "worker-1", "shop/payments:4.2.0");
    payments["metadata"]["labels"] = json!({"app": "payments"});
    payments["metadata"]["ownerReferences"][0]["name"] = json!("payments-7d8e9f");
    fake.put(PODS, payments);
    let service = |name: &str, app: &str| {
        json!({"metadata": {"name": name, "namespace": "shop",
                "creationTimestamp": "2026-11-20T08:00:00Z"},
            "spec": {"type": "ClusterIP", "selector": {"app": app},
                "ports": [{"name": "http", "port": 8080, "targetPort": 8080, "protocol": "TCP"}]}})
    };
    // payments' selector was edited to a label its pods do not carry.
    fake.put(SERVICES, service("payments", "payments-v2"));
    fake.put(SERVICES, service("checkout", "checkout"));
    let (rt, snap) = crash_loop(
        &fake,
        &dir,
        |restarts| crash_looping(&ago, restarts),
        &["fatal: dial tcp payments.shop.svc.cluster.local:8080: connect: connection refused"],
        2,
        ("an analysis naming the selector", |s: &Snapshot| {
            analysed(s, "service_selector_mismatch").is_some()
        }),
    )
    .await;
    let (id, a) = analysed(&snap, "service_selector_mismatch").unwrap();
    let mismatch: Vec<_> = a
        .candidates
        .iter()
        .filter(|c| c.cause == "service_selector_mismatch")
        .collect();
    // The most likely cause; payments only: checkout's Service selects its
    // (crashing) pod.
    assert_eq!(a.candidates[0].cause, "service_selector_mismatch", "{a:#?}");
    assert_eq!(mismatch.len(), 1, "{a:#?}");
    assert_eq!(mismatch[0].object, "Service/shop/payments", "{a:#?}");
    let evidence: Vec<&str> = a.evidence.iter().map(|e| e.text.as_str()).collect();
    for text in [
        "Service/shop/payments selects {app=payments-v2}",
        "Endpoints shop/payments has no ready addresses",
        "connection refused",
    ] {
        assert!(
            evidence.iter().any(|e| e.contains(text)),
            "{text}: {evidence:#?}"
        );
    }
    // The capture holds both Services, each with its Endpoints.
    let inc = snap.incidents.iter().find(|i| i.id == id).unwrap();
    let objects = &inc.capture.as_ref().unwrap().objects;
    for key in [
        "Service/shop/payments",
        "Service/shop/checkout",
        "Endpoints/shop/payments",
        "Endpoints/shop/checkout",
    ] {
        assert!(objects.contains_key(key), "{key}: {:?}", objects.keys());
    }
    assert_eq!(
        objects["Endpoints/shop/checkout"]["subsets"][0]["notReadyAddresses"][0]["targetRef"]["name"],
        "checkout-6f7c9d-a"
    );
    rt.shutdown(StdDuration::from_secs(5)).await;
}

/// A client that fails to look up a Service in another namespace, which
/// exists: the capture takes that Service too, so the analysis does not say
/// there is no such Service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_a_client_fails_to_look_up_is_captured_wherever_it_is() {
    let dir = crate::support::tempdir("kube-lookup");
    let ago = minutes_ago();
    let fake = one_node().await;
    for (ns, name) in [("shop", "checkout"), ("billing", "ledger")] {
        fake.put(
            SERVICES,
            json!({"metadata": {"name": name, "namespace": ns},
                "spec": {"selector": {"app": name}, "ports": [{"port": 8080}]}}),
        );
    }
    let captured = |s: &Snapshot| {
        s.incidents.iter().find_map(|i| {
            let objects = &i.capture.as_ref()?.objects;
            let logged = i
                .capture
                .as_ref()?
                .logs
                .iter()
                .any(|l| l.line.contains("no such host"));
            (logged && objects.contains_key("Service/billing/ledger")).then(|| i.id.clone())
        })
    };
    let (rt, snap) = crash_loop(
        &fake,
        &dir,
        |restarts| crash_looping(&ago, restarts),
        &["fatal: dial tcp: lookup ledger.billing.svc.cluster.local on 10.96.0.10:53: no such host"],
        1,
        ("a capture with the log and the Service it names", |s: &Snapshot| {
            captured(s).is_some()
        }),
    )
    .await;
    let id = captured(&snap).unwrap();
    let a = sentinel_service::incident_detail(&snap, &id)
        .unwrap()
        .analysis
        .unwrap();
    assert!(
        a.candidates
            .iter()
            .all(|c| c.cause != "wrong_service_address"),
        "{a:#?}"
    );
    rt.shutdown(StdDuration::from_secs(5)).await;
}
