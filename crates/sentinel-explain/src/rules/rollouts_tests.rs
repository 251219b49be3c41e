#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use crate::capture::Capture;
use crate::explain::{Explanation, explain};

const ONSET: &str = "2026-03-10T17:41:00Z";

/// Checkout at revision 7, none of its 3 new pods updated, with
/// `conditions`.
fn checkout(conditions: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "checkout", "namespace": "shop", "generation": 7,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "annotations": {"deployment.kubernetes.io/revision": "7"}},
        "spec": {"replicas": 3, "progressDeadlineSeconds": 900},
        "status": {"observedGeneration": 7, "replicas": 3, "updatedReplicas": 0,
            "readyReplicas": 3, "availableReplicas": 3, "conditions": conditions}})
}

fn gave_up(at: &str) -> Value {
    json!({"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
        "message": "ReplicaSet \"checkout-7d9f\" has timed out progressing.",
        "lastUpdateTime": at, "lastTransitionTime": at})
}

fn refused(message: &str) -> Value {
    json!({"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
        "message": message, "lastTransitionTime": "2026-03-10T14:20:00Z"})
}

const QUOTA: &str = "pods \"checkout-7d9f-q8x2m\" is forbidden: exceeded quota: shop-compute, requested: requests.cpu=1, used: requests.cpu=3500m, limited: requests.cpu=4";

/// The new ReplicaSet (revision 7) and its pod, crash-looping.
fn new_revision() -> [Value; 2] {
    [
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "checkout-7d9f", "namespace": "shop",
                "annotations": {"deployment.kubernetes.io/revision": "7"},
                "ownerReferences": [{"kind": "Deployment", "name": "checkout", "controller": true}]}}),
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "checkout-7d9f-x2k4q", "namespace": "shop",
                "creationTimestamp": "2026-03-10T17:20:00Z",
                "ownerReferences": [{"kind": "ReplicaSet", "name": "checkout-7d9f", "controller": true}]},
            "spec": {"containers": [{"name": "app", "image": "shop/checkout:2.9.0"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "app", "ready": false, "restartCount": 6,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                        "finishedAt": "2026-03-10T17:39:00Z"}}}]}}),
    ]
}

fn stalled_reading(label: &str, name: &str, secs: u32) -> String {
    format!(
        "timestamp,series,value\n2026-03-10T17:40:00Z,\"rollout_stalled_seconds{{namespace=\"\"shop\"\",{label}=\"\"{name}\"\"}}\",{secs}\n"
    )
}

fn capture(items: Vec<Value>, metrics: Option<&str>) -> Capture {
    let objects = json!({"kind": "List", "items": items});
    let onset = sentinel_model::Timestamp::parse(ONSET).unwrap();
    Capture::parse(onset, Some(&objects.to_string()), metrics, None).unwrap()
}

/// The candidate of `cause`: what it says, its hints and score.
fn said(e: &Explanation, cause: &str) -> Option<(String, String, f64)> {
    let c = e.candidates.iter().find(|c| c.cause == cause)?;
    let said: Vec<&str> = c.sentences.iter().map(|s| s.text.as_str()).collect();
    Some((said.join(" "), c.mitigation.join(" "), c.score))
}

#[test]
fn a_quota_refusing_the_new_pods_is_read_from_the_condition_when_the_events_are_gone() {
    let d = checkout(json!([refused(QUOTA), gave_up("2026-03-10T14:35:00Z")]));
    let reading = stalled_reading("deployment", "checkout", 11_700);
    let e = explain(&capture(vec![d], Some(&reading)));
    let top = e.top().unwrap();
    assert_eq!(
        (top.cause.as_str(), top.object.to_string().as_str()),
        ("namespace_cpu_quota_exceeded", "Deployment/shop/checkout"),
        "{}",
        e.render()
    );
    assert!(e.confident, "{}", e.render());
    let (text, hint, _) = said(&e, "namespace_cpu_quota_exceeded").unwrap();
    for want in [
        "Deployment/shop/checkout cannot create what it needs in namespace shop: quota shop-compute is used up (requested: requests.cpu=1, used: requests.cpu=3500m",
        // The deadline in its spec (900 s) before the condition.
        "The rollout of Deployment checkout to revision 7 has made no progress since 2026-03-10T14:20:00",
        "0 of 3 pods are of the new revision",
        "ReplicaSet \"checkout-7d9f\" has timed out progressing (ProgressDeadlineExceeded)",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    assert!(
        hint.contains("Raise quota shop-compute") && hint.contains("maxSurge 0"),
        "{hint}"
    );
    // Nothing else is proposed about the rollout: the quota is its cause.
    assert!(said(&e, "rollout_stalled").is_none(), "{}", e.render());

    // A missing service account, the same way.
    let sa = "pods \"checkout-7d9f-\" is forbidden: error looking up service account shop/checkout-runner: serviceaccount \"checkout-runner\" not found";
    let e = explain(&capture(
        vec![checkout(json!([refused(sa)]))],
        Some(&reading),
    ));
    assert_eq!(e.top().unwrap().cause, "service_account_missing");
    // A refusal of another kind (a webhook) is quoted as the API gave it.
    let webhook = "admission webhook \"policy.example.com\" denied the request: image tag latest is not allowed";
    let e = explain(&capture(
        vec![checkout(json!([refused(webhook)]))],
        Some(&reading),
    ));
    let (text, hint, _) = said(&e, "rollout_stalled").unwrap();
    assert!(
        text.contains(&format!(
            "The API server refuses its new pods: \"{webhook}\"."
        )),
        "{text}"
    );
    assert!(hint.starts_with("Fix what the API server says"), "{hint}");

    // Refused while no rollout stands still (a scale-up short of pods):
    // the quota, without a word about a rollout.
    let e = explain(&capture(vec![checkout(json!([refused(QUOTA)]))], None));
    let (text, hint, _) = said(&e, "namespace_cpu_quota_exceeded").unwrap();
    assert!(
        !text.contains("rollout") && !hint.contains("maxSurge"),
        "{text} {hint}"
    );
    let e = explain(&capture(vec![checkout(json!([refused(webhook)]))], None));
    assert!(e.candidates.is_empty(), "{}", e.render());
}

#[test]
fn a_rollout_past_its_deadline_names_its_new_pods_below_their_own_cause() {
    let [rs, pod] = new_revision();
    let d = checkout(json!([gave_up("2026-03-10T17:35:00Z")]));
    // A crash whose cause nothing captured tells: the stalled rollout and
    // the pod it waits on are the best account.
    let e = explain(&capture(vec![d.clone(), rs.clone(), pod.clone()], None));
    assert_eq!(e.top().unwrap().cause, "rollout_stalled", "{}", e.render());
    let (text, hint, _) = said(&e, "rollout_stalled").unwrap();
    assert!(
        text.contains("The pods of its new ReplicaSet checkout-7d9f are not ready: checkout-7d9f-x2k4q (Running, app CrashLoopBackOff)"),
        "{text}"
    );
    assert!(
        hint.contains("kubectl rollout undo deployment/checkout -n shop")
            && hint.contains("kubectl describe rs checkout-7d9f -n shop"),
        "{hint}"
    );
    // An image that does not exist is what the pod's own evidence names,
    // with more confidence than the rollout it holds up.
    let mut pulling = pod;
    pulling["status"]["containerStatuses"][0]["state"] =
        json!({"waiting": {"reason": "ImagePullBackOff"}});
    pulling["status"]["containerStatuses"][0]["restartCount"] = json!(0);
    let event = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "checkout-7d9f-x2k4q.1", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "checkout-7d9f-x2k4q"},
        "reason": "Failed", "type": "Warning",
        "message": "Failed to pull image \"shop/checkout:2.9.0\": rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/shop/checkout:2.9.0\": failed to resolve reference \"docker.io/shop/checkout:2.9.0\": docker.io/shop/checkout:2.9.0: not found",
        "firstTimestamp": "2026-03-10T17:20:00Z", "lastTimestamp": "2026-03-10T17:38:00Z", "count": 9});
    let e = explain(&capture(vec![d.clone(), rs.clone(), pulling, event], None));
    assert_eq!(e.top().unwrap().cause, "image_not_found", "{}", e.render());
    let (text, _, score) = said(&e, "rollout_stalled").unwrap();
    assert!(text.contains("(Running, app ImagePullBackOff)"), "{text}");
    assert!(score < e.top().unwrap().score);

    // No pod of the new revision captured: the stalled rollout is all
    // there is, and it is named.
    let reading = stalled_reading("deployment", "checkout", 1_500);
    let e = explain(&capture(vec![d, rs], Some(&reading)));
    let top = e.top().unwrap();
    assert_eq!(top.cause, "rollout_stalled", "{}", e.render());
    assert!(e.confident, "{}", e.render());
    let (text, ..) = said(&e, "rollout_stalled").unwrap();
    assert!(
        text.contains("has made no progress since 2026-03-10T17:20:00"),
        "{text}"
    );
}

#[test]
fn a_stateful_set_waits_on_its_highest_ordinal_not_ready_and_needs_it_deleted() {
    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "postgres", "namespace": "shop", "generation": 4},
        "spec": {"replicas": 3},
        "status": {"observedGeneration": 4, "replicas": 3, "updatedReplicas": 1,
            "currentRevision": "postgres-5c8d", "updateRevision": "postgres-7b6f"}});
    let pod = |i: u32, rev: &str, ready: bool| {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("postgres-{i}"), "namespace": "shop",
                "labels": {"controller-revision-hash": rev},
                "ownerReferences": [{"kind": "StatefulSet", "name": "postgres", "controller": true}]},
            "spec": {"containers": [{"name": "db", "image": "postgres:17.2",
                "readinessProbe": {"httpGet": {"port": 8008, "path": "/readiness"}}}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
                "containerStatuses": [{"name": "db", "ready": ready, "restartCount": 0,
                    "state": {"running": {"startedAt": "2026-03-10T17:20:00Z"}}}]}})
    };
    let items = vec![
        sts,
        pod(0, "postgres-5c8d", true),
        // Of the old revision and not ready: not what the update waits on.
        pod(1, "postgres-5c8d", false),
        pod(2, "postgres-7b6f", false),
    ];
    // Mid-update with nothing saying it stands still: nothing proposed.
    let e = explain(&capture(items.clone(), None));
    assert!(said(&e, "rollout_stalled").is_none(), "{}", e.render());

    let reading = stalled_reading("statefulset", "postgres", 900);
    let e = explain(&capture(items, Some(&reading)));
    let top = e.top().unwrap();
    assert_eq!(top.cause, "rollout_stalled", "{}", e.render());
    let (text, hint, _) = said(&e, "rollout_stalled").unwrap();
    for want in [
        "The rollout of StatefulSet postgres has made no progress for 15m by the onset: 1 of 3 pods are of the new revision.",
        "it waits for postgres-2 (Running, not ready: db's readiness probe http-get :8008/readiness has not passed)",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    assert!(!text.contains("postgres-1"), "{text}");
    assert!(
        hint.contains("kubectl delete pod postgres-2 -n shop"),
        "{hint}"
    );
}

#[test]
fn a_stalled_rollout_captured_beside_another_incident_weighs_by_when_it_stalled() {
    let d = checkout(json!([gave_up("2026-03-07T10:00:00Z")]));
    let own = stalled_reading("deployment", "checkout", 300_000);
    let (.., signalled) = said(
        &explain(&capture(vec![d.clone()], Some(&own))),
        "rollout_stalled",
    )
    .unwrap();
    let (.., beside) = said(&explain(&capture(vec![d.clone()], None)), "rollout_stalled").unwrap();
    assert!((signalled - 0.6).abs() < 1e-9, "{signalled}");
    assert!(beside < 0.2, "{beside}");
    // Another Deployment's reading does not count.
    let other = stalled_reading("deployment", "cart", 300_000);
    let (.., other) = said(&explain(&capture(vec![d], Some(&other))), "rollout_stalled").unwrap();
    assert!((other - beside).abs() < 1e-9);
}

#[test]
fn a_live_capture_writes_the_rollout_back_as_the_rule_reads_it() {
    use sentinel_model::{Rollout, Timestamp, Workload, WorkloadKind};
    let w = Workload {
        kind: WorkloadKind::Deployment,
        namespace: "shop".into(),
        name: "checkout".into(),
        owner: None,
        revision: "7".into(),
        images: vec!["app=shop/checkout:2.9.0".into()],
        replicas: 3,
        ready: 3,
        created_at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
        batch: None,
        rollout: Some(Rollout {
            updated: 1,
            wanted: 3,
            waiting: "exceeded its progress deadline with 1 out of 3 new replicas updated".into(),
            progressed_at: Timestamp::parse("2026-03-10T14:20:00Z"),
            stalled: Some("ReplicaSet \"checkout-7d9f\" has timed out progressing.".into()),
            failure: Some(QUOTA.into()),
        }),
    };
    let reading = stalled_reading("deployment", "checkout", 11_700);
    let e = explain(&capture(
        vec![crate::live::workload_json(&w)],
        Some(&reading),
    ));
    let (text, ..) = said(&e, "namespace_cpu_quota_exceeded").unwrap();
    for want in [
        "quota shop-compute is used up",
        "to revision 7 has made no progress since 2026-03-10T14:20:00",
        "1 of 3 pods are of the new revision",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
}
