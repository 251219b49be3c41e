#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use super::*;

fn deploy(spec: Value, status: Value) -> Deployment {
    let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "checkout", "namespace": "shop", "generation": 4},
        "spec": {"replicas": 3, "selector": {}, "template": {}},
        "status": {"observedGeneration": 4}});
    for (k, v) in spec.as_object().unwrap() {
        d["spec"][k] = v.clone();
    }
    for (k, v) in status.as_object().unwrap() {
        d["status"][k] = v.clone();
    }
    serde_json::from_value(d).unwrap()
}

fn progressing(status: &str, reason: &str, at: &str) -> Value {
    json!([{"type": "Progressing", "status": status, "reason": reason,
        "message": "ReplicaSet \"checkout-7d9f\" has timed out progressing.",
        "lastUpdateTime": at, "lastTransitionTime": at}])
}

fn t(s: &str) -> sentinel_model::Timestamp {
    sentinel_model::Timestamp::parse(s).unwrap()
}

#[test]
fn a_deployment_rolling_out_is_read_as_kubectl_rollout_status_reads_it() {
    // One new pod created of three; the controller saw progress at 10:02.
    let r = deployment(&deploy(
        json!({}),
        json!({"replicas": 4, "updatedReplicas": 1, "availableReplicas": 3,
            "conditions": progressing("True", "ReplicaSetUpdated", "2026-11-24T10:02:00Z")}),
    ))
    .unwrap();
    assert_eq!((r.updated, r.wanted), (1, 3));
    assert_eq!(r.waiting, "1 out of 3 new replicas have been updated");
    assert_eq!(r.progressed_at, Some(t("2026-11-24T10:02:00Z")));
    assert_eq!(r.stalled, None);
    // All updated, an old pod still going.
    let r = deployment(&deploy(
        json!({}),
        json!({"replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}),
    ))
    .unwrap();
    assert_eq!(r.waiting, "1 old replicas are pending termination");
    // New pods not yet available while the rollout is under way.
    let r = deployment(&deploy(
        json!({}),
        json!({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 2,
            "conditions": progressing("True", "ReplicaSetUpdated", "2026-11-24T10:02:00Z")}),
    ))
    .unwrap();
    assert_eq!(r.waiting, "2 of 3 updated replicas are available");
    // The controller has not seen the new spec.
    let r = deployment(&deploy(
        json!({}),
        json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 3}),
    ))
    .unwrap();
    assert!(r.waiting.contains("spec update to be observed"), "{r:?}");
}

#[test]
fn a_deployment_past_its_deadline_is_stalled_since_its_last_progress() {
    let r = deployment(&deploy(
        json!({"progressDeadlineSeconds": 300}),
        json!({"replicas": 4, "updatedReplicas": 1, "availableReplicas": 3,
            "conditions": progressing("False", "ProgressDeadlineExceeded", "2026-11-24T10:07:00Z")}),
    ))
    .unwrap();
    assert_eq!(
        r.stalled.as_deref(),
        Some("ReplicaSet \"checkout-7d9f\" has timed out progressing.")
    );
    assert!(
        r.waiting.starts_with("exceeded its progress deadline"),
        "{r:?}"
    );
    // The condition is set when the deadline passes: the last progress
    // was a deadline before.
    assert_eq!(r.progressed_at, Some(t("2026-11-24T10:02:00Z")));
}

#[test]
fn pods_the_api_server_refused_are_kept_from_the_replica_failure_condition() {
    let refused = "pods \"checkout-7d9f-x2k4q\" is forbidden: exceeded quota: shop-compute, requested: requests.cpu=1, used: requests.cpu=3500m, limited: requests.cpu=4";
    let mut conditions = progressing("True", "ReplicaSetUpdated", "2026-11-24T10:02:00Z");
    conditions
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "ReplicaFailure",
        "status": "True", "reason": "FailedCreate", "message": refused,
        "lastUpdateTime": "2026-11-24T10:02:00Z", "lastTransitionTime": "2026-11-24T10:02:00Z"}));
    let status = json!({"replicas": 3, "updatedReplicas": 0, "availableReplicas": 3,
        "conditions": conditions.clone()});
    let r = deployment(&deploy(json!({}), status)).unwrap();
    assert_eq!(r.failure.as_deref(), Some(refused));
    assert_eq!(r.waiting, "0 out of 3 new replicas have been updated");
    // A condition no longer true says nothing.
    conditions[1]["status"] = json!("False");
    let status = json!({"replicas": 3, "updatedReplicas": 0, "availableReplicas": 3,
        "conditions": conditions});
    assert_eq!(
        deployment(&deploy(json!({}), status)).unwrap().failure,
        None
    );
}

#[test]
fn a_deployment_done_or_paused_has_no_rollout() {
    // Done: a pod unavailable afterwards is its readiness, not a rollout.
    let done = json!({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 2,
        "conditions": progressing("True", "NewReplicaSetAvailable", "2026-11-24T10:02:00Z")});
    assert_eq!(deployment(&deploy(json!({}), done)), None);
    let paused = json!({"replicas": 4, "updatedReplicas": 1, "availableReplicas": 3});
    assert_eq!(deployment(&deploy(json!({"paused": true}), paused)), None);
    // A status no controller reported (its counts left out read as 0).
    let bare: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "checkout", "namespace": "shop"},
        "spec": {"replicas": 2, "selector": {}, "template": {}},
        "status": {"readyReplicas": 2}}))
    .unwrap();
    assert_eq!(deployment(&bare), None);
}

fn sts(strategy: Value, status: Value) -> StatefulSet {
    serde_json::from_value(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "postgres", "namespace": "db", "generation": 2},
        "spec": {"replicas": 3, "selector": {}, "serviceName": "postgres", "template": {},
            "updateStrategy": strategy},
        "status": status}))
    .unwrap()
}

#[test]
fn a_stateful_set_rolls_out_while_its_revisions_differ() {
    let status = |updated: i32, current: &str| {
        json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": updated,
            "currentRevision": current, "updateRevision": "postgres-7b6f"})
    };
    let rolling = json!({"type": "RollingUpdate"});
    let r = stateful_set(&sts(rolling.clone(), status(1, "postgres-5c8d"))).unwrap();
    assert_eq!((r.updated, r.wanted), (1, 3));
    assert_eq!(
        r.waiting,
        "rolling update to complete 1 pods at revision postgres-7b6f"
    );
    assert_eq!(
        stateful_set(&sts(rolling, status(3, "postgres-7b6f"))),
        None
    );
    // Partitioned at 2: only ordinal 2 is updated, and then it is done
    // although the revisions still differ.
    let part = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}});
    let r = stateful_set(&sts(part.clone(), status(0, "postgres-5c8d"))).unwrap();
    assert_eq!((r.updated, r.wanted), (0, 1));
    assert_eq!(stateful_set(&sts(part, status(1, "postgres-5c8d"))), None);
    // OnDelete waits for pods to be deleted by hand.
    let on_delete = json!({"type": "OnDelete"});
    assert_eq!(
        stateful_set(&sts(on_delete, status(0, "postgres-5c8d"))),
        None
    );
}

#[test]
fn a_daemon_set_rolls_out_until_every_node_runs_the_new_pod() {
    let ds = |updated: i32| -> DaemonSet {
        serde_json::from_value(json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "node-exporter", "namespace": "monitoring", "generation": 5},
            "spec": {"selector": {}, "template": {}},
            "status": {"observedGeneration": 5, "desiredNumberScheduled": 4,
                "currentNumberScheduled": 4, "numberMisscheduled": 0, "numberReady": 4,
                "updatedNumberScheduled": updated, "numberAvailable": 4}}))
        .unwrap()
    };
    let r = daemon_set(&ds(2)).unwrap();
    assert_eq!(r.waiting, "2 out of 4 new pods have been updated");
    assert_eq!(daemon_set(&ds(4)), None);
}
