//! Incidents on the watched (fake) cluster explained from what the
//! Kubernetes source reads: a rollout's ReplicaSets, a crashed container's
//! previous log; and the container logs the pod panel tails and follows.

use std::time::Duration as StdDuration;

use sentinel_runtime::{Runtime, Snapshot};
use serde_json::json;

use crate::kube::{
    DEPLOYMENTS, PODS, crash_loop, crash_looping, deployment, minutes_ago, one_node, pod, watch,
    within,
};

/// A live OOM kill after a rollout, on the (fake) cluster: the incident's
/// analysis names the OOM kill and the rollout, read from the ReplicaSets
/// the source watches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_oom_kill_after_a_rollout_is_explained_with_the_rollout() {
    let dir = crate::support::tempdir("kube-oom");
    let ago = minutes_ago();
    let fake = one_node().await;
    fake.put(DEPLOYMENTS, deployment("2", "shop/checkout:1.4.3"));
    for (name, revision, image, created) in [
        ("checkout-5b4c3d", "1", "shop/checkout:1.4.2", ago(120)),
        ("checkout-6f7c9d", "2", "shop/checkout:1.4.3", ago(3)),
    ] {
        fake.put(
            "/apis/apps/v1/replicasets",
            json!({"metadata": {"name": name, "namespace": "shop", "creationTimestamp": created,
                    "annotations": {"deployment.kubernetes.io/revision": revision},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                        "name": "checkout", "uid": "d1", "controller": true}]},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "checkout"}},
                    "template": {"spec": {"containers": [{"name": "checkout", "image": image}]}}}}),
        );
    }
    let crashing = |restarts: u32| {
        let mut p = pod("checkout-6f7c9d-a", "worker-1", "shop/checkout:1.4.3");
        p["metadata"]["creationTimestamp"] = json!(ago(3));
        p["status"]["containerStatuses"][0] = json!({"name": "checkout",
            "image": "shop/checkout:1.4.3", "imageID": "", "ready": false, "restartCount": restarts,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}});
        p
    };
    fake.put(PODS, crashing(2));
    let rt = watch(&fake, &dir).await;
    within(
        "the pod",
        rt.wait_for(|s| s.pods.len() == 1 && s.workloads.len() == 3),
    )
    .await
    .unwrap();
    // It restarts again: the engine's restart rule fires and opens an incident.
    fake.put(PODS, crashing(3));
    let snap = within(
        "an analysed incident",
        rt.wait_for(|s| {
            s.incidents.iter().any(|i| {
                sentinel_service::incident_detail(s, &i.id)
                    .and_then(|d| d.analysis)
                    .is_some_and(|a| !a.candidates.is_empty())
            })
        }),
    )
    .await
    .unwrap();
    let id = snap.incidents[0].id.clone();
    let a = sentinel_service::incident_detail(&snap, &id)
        .unwrap()
        .analysis
        .unwrap();
    assert_eq!(a.candidates[0].cause, "oom_killed", "{a:#?}");
    let evidence: Vec<&str> = a.evidence.iter().map(|e| e.text.as_str()).collect();
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("rolled out revision 2") && e.contains("revision 1")),
        "{evidence:#?}"
    );
    rt.shutdown(StdDuration::from_secs(5)).await;
}

/// Logs through the command the pod panel calls: a tail, then a follow read
/// from its cursor as the container writes; the demo cluster says why it
/// has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_logs_tail_and_follow() {
    use sentinel_protocol::LogQuery;
    let dir = crate::support::tempdir("kube-logs");
    let fake = one_node().await;
    fake.put(
        PODS,
        pod("checkout-6f7c9d-a", "worker-1", "shop/checkout:1.4.2"),
    );
    for i in 0..300 {
        fake.log(
            "shop",
            "checkout-6f7c9d-a",
            "checkout",
            &format!("GET /cart {i} 200"),
        );
    }
    let rt = watch(&fake, &dir).await;
    let q = LogQuery {
        namespace: "shop".into(),
        pod: "checkout-6f7c9d-a".into(),
        container: Some("checkout".into()),
        tail: 50,
        follow: false,
        after: 0,
        source: Default::default(),
    };
    let page = sentinel_service::pod_logs(&rt, &q).await.unwrap();
    assert_eq!(page.lines.len(), 50);
    assert_eq!(page.lines[49].text, "GET /cart 299 200");
    let bad = sentinel_service::pod_logs(
        &rt,
        &LogQuery {
            tail: 0,
            ..q.clone()
        },
    )
    .await;
    assert_eq!(
        bad.unwrap_err().kind,
        sentinel_protocol::ErrorKind::InvalidArgument
    );

    // Follow: the tail first, then what the container writes next.
    let follow = LogQuery {
        tail: 5,
        follow: true,
        ..q.clone()
    };
    let mut cursor = 0;
    let mut seen = Vec::new();
    let until = tokio::time::Instant::now() + StdDuration::from_secs(20);
    let mut wrote = false;
    while seen.len() < 7 && tokio::time::Instant::now() < until {
        let page = sentinel_service::pod_logs(
            &rt,
            &LogQuery {
                after: cursor,
                ..follow.clone()
            },
        )
        .await
        .unwrap();
        seen.extend(page.lines.into_iter().map(|l| l.text));
        cursor = page.next;
        if seen.len() >= 5 && !wrote {
            fake.log("shop", "checkout-6f7c9d-a", "checkout", "POST /pay 500");
            fake.log(
                "shop",
                "checkout-6f7c9d-a",
                "checkout",
                "panic: out of memory",
            );
            wrote = true;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert_eq!(seen[0], "GET /cart 295 200");
    assert_eq!(&seen[5..], ["POST /pay 500", "panic: out of memory"]);
    rt.shutdown(StdDuration::from_secs(5)).await;

    // The demo cluster: no logs, and it says why.
    let demo = Runtime::demo(sentinel_runtime::DemoConfig::default()).start();
    let e = sentinel_service::pod_logs(&demo, &q).await.unwrap_err();
    assert!(
        e.message.contains("Kubernetes or a Loki connection"),
        "{}",
        e.message
    );
    demo.shutdown(StdDuration::from_secs(5)).await;
}

/// A crash loop on the watched cluster: the restarted container's previous
/// log is read and captured, and the analysis cites it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_crash_loop_is_explained_from_the_containers_log() {
    let dir = crate::support::tempdir("kube-crashlog");
    let ago = minutes_ago();
    let fake = one_node().await;
    let analysed = |s: &Snapshot| {
        s.incidents.iter().find_map(|i| {
            sentinel_service::incident_detail(s, &i.id)
                .and_then(|d| d.analysis)
                .filter(|a| a.evidence.iter().any(|e| e.text.contains("DATABASE_URL")))
        })
    };
    let (rt, snap) = crash_loop(
        &fake,
        &dir,
        |restarts| crash_looping(&ago, restarts),
        &[
            "starting checkout 1.4.3",
            "fatal: missing required setting DATABASE_URL",
        ],
        1,
        ("an analysis citing the log", |s: &Snapshot| {
            analysed(s).is_some()
        }),
    )
    .await;
    let a = analysed(&snap).unwrap();
    assert_eq!(a.candidates[0].cause, "config_error_crash_loop", "{a:#?}");
    rt.shutdown(StdDuration::from_secs(5)).await;
}
