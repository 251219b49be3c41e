//! Rollouts as the API server's controllers report them (apps/v1): a
//! Deployment past its progress deadline fires `DeploymentRolloutStuck`
//! and heads the Workloads page, stalled, until its rollout completes, and
//! its incident is explained from its conditions (a quota refusing its new
//! pods); a
//! StatefulSet mid-update shows what its rolling update waits for.

use sentinel_model::RuleState;
use sentinel_protocol::WorkloadQuery;
use sentinel_runtime::Snapshot;
use serde_json::{Value, json};

use crate::fakekube::FakeKube;
use crate::kube::{NODES, node, watch, within};

const DEPLOYMENTS: &str = "/apis/apps/v1/deployments";
const STATEFULSETS: &str = "/apis/apps/v1/statefulsets";

/// Why the API server refuses checkout's new pods.
const REFUSED: &str = "pods \"checkout-7d9f-q8x2m\" is forbidden: exceeded quota: shop-compute, requested: requests.cpu=1, used: requests.cpu=3500m, limited: requests.cpu=4";

/// Checkout mid-rollout: `stalled`, its new pods refused by a quota, the
/// controller gave up days ago (its events long gone); else the rollout
/// is done.
fn checkout(stalled: bool) -> Value {
    let status = if stalled {
        json!({"observedGeneration": 7, "replicas": 4, "updatedReplicas": 1,
            "readyReplicas": 3, "availableReplicas": 3, "unavailableReplicas": 1,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                    "lastUpdateTime": "2026-11-20T10:00:00Z", "lastTransitionTime": "2026-11-20T10:00:00Z"},
                {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                    "message": REFUSED,
                    "lastUpdateTime": "2026-11-20T10:00:00Z", "lastTransitionTime": "2026-11-20T10:00:00Z"},
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                    "message": "ReplicaSet \"checkout-7d9f\" has timed out progressing.",
                    "lastUpdateTime": "2026-11-20T10:10:00Z", "lastTransitionTime": "2026-11-20T10:10:00Z"}]})
    } else {
        json!({"observedGeneration": 8, "replicas": 3, "updatedReplicas": 3,
            "readyReplicas": 3, "availableReplicas": 3,
            "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                "message": "ReplicaSet \"checkout-5c4b\" has successfully progressed.",
                "lastUpdateTime": "2026-11-20T12:00:00Z", "lastTransitionTime": "2026-11-20T12:00:00Z"}]})
    };
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "checkout", "namespace": "shop", "uid": "d1",
            "generation": if stalled { 7 } else { 8 },
            "creationTimestamp": "2026-10-01T00:00:00Z",
            "annotations": {"deployment.kubernetes.io/revision": if stalled { "7" } else { "8" }}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "checkout"}},
            "template": {"metadata": {"labels": {"app": "checkout"}},
                "spec": {"containers": [{"name": "app", "image": "shop/checkout:2.8.0"}]}}},
        "status": status})
}

fn postgres() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "postgres", "namespace": "db", "uid": "s1", "generation": 3,
            "creationTimestamp": "2026-10-01T00:00:00Z"},
        "spec": {"replicas": 3, "serviceName": "postgres",
            "selector": {"matchLabels": {"app": "postgres"}},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {"metadata": {"labels": {"app": "postgres"}},
                "spec": {"containers": [{"name": "db", "image": "postgres:17.2"}]}}},
        "status": {"observedGeneration": 3, "replicas": 3, "readyReplicas": 2,
            "currentReplicas": 2, "updatedReplicas": 1,
            "currentRevision": "postgres-5c8d", "updateRevision": "postgres-7b6f"}})
}

fn stuck(s: &Snapshot) -> Option<&sentinel_model::Finding> {
    s.findings.iter().find(|f| {
        f.rule == "DeploymentRolloutStuck"
            && f.series.labels.get("deployment").map(String::as_str) == Some("checkout")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_past_its_deadline_fires_until_its_rollout_completes() {
    let dir = crate::support::tempdir("kube-rollouts");
    let fake = FakeKube::start("t0ken").await;
    fake.put(NODES, node("worker-1"));
    fake.put(DEPLOYMENTS, checkout(true));
    fake.put(STATEFULSETS, postgres());
    let rt = watch(&fake, &dir).await;

    let s = within(
        "DeploymentRolloutStuck on checkout",
        rt.wait_for(|s| stuck(s).is_some_and(|f| f.state == RuleState::Firing)),
    )
    .await
    .unwrap();
    let f = stuck(&s).unwrap();
    assert!(
        f.summary
            .starts_with("The rollout of Deployment shop/checkout has made no progress for"),
        "{}",
        f.summary
    );
    // The StatefulSet's update began with Sentinel: not stuck yet.
    assert!(
        s.findings
            .iter()
            .all(|f| f.rule != "StatefulSetRolloutStuck"),
        "{:?}",
        s.findings.iter().map(|f| &f.rule).collect::<Vec<_>>()
    );

    let page = sentinel_service::list_workloads(&s, &WorkloadQuery::default()).unwrap();
    let row = |n: &str| page.rows.iter().find(|r| r.name == n).unwrap();
    let row_checkout = row("checkout");
    assert!(row_checkout.in_trouble() && row_checkout.rolling);
    let r = row_checkout.rollout.as_ref().unwrap();
    assert_eq!(
        r.stalled.as_deref(),
        Some("ReplicaSet \"checkout-7d9f\" has timed out progressing.")
    );
    assert_eq!(r.failure.as_deref(), Some(REFUSED));
    // The deadline (600 s by default) before the condition was set.
    assert_eq!(
        r.progressed_at,
        sentinel_model::Timestamp::parse("2026-11-20T10:00:00Z")
    );
    let postgres = row("postgres");
    assert!(postgres.rolling);
    assert_eq!(
        postgres.rollout.as_ref().unwrap().waiting,
        "rolling update to complete 1 pods at revision postgres-7b6f"
    );

    // Its incident is explained from the Deployment's own conditions: no
    // pod of the new revision exists, and the events are gone.
    let analysis = crate::kube::explained(
        &rt,
        "namespace_cpu_quota_exceeded",
        &[
            "quota shop-compute is used up (requested: requests.cpu=1",
            "The rollout of Deployment checkout to revision 7 has made no progress since 2026-11-20T10:00:00",
            "has timed out progressing (ProgressDeadlineExceeded)",
        ],
    )
    .await;
    let top = &analysis.candidates[0];
    assert_eq!(top.object, "Deployment/shop/checkout", "{analysis:?}");
    assert!(
        top.mitigation.iter().any(|m| m.contains("maxSurge")),
        "{:?}",
        top.mitigation
    );

    // Fixed and rolled out again: resolved, the row is clear.
    fake.put(DEPLOYMENTS, checkout(false));
    let s = within(
        "the rollout completed",
        rt.wait_for(|s| stuck(s).is_some_and(|f| f.state == RuleState::Resolved)),
    )
    .await
    .unwrap();
    let page = sentinel_service::list_workloads(&s, &WorkloadQuery::default()).unwrap();
    let done = page.rows.iter().find(|r| r.name == "checkout").unwrap();
    assert!(!done.in_trouble() && !done.rolling && done.rollout.is_none());
    rt.shutdown(std::time::Duration::from_secs(5)).await;
}
