//! The Kubernetes source against the fake API server: kube-rs lists and
//! watches real Kubernetes JSON; pods, nodes, events and rollouts reach the
//! snapshot; a 410 Gone relists; 403 and 401 are named; an API server
//! without events.k8s.io/v1 is read through core/v1.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use sentinel_runtime::{Health, Runtime, Snapshot, SystemClock};
use serde_json::{Value, json};

use crate::fakekube::FakeKube;

pub(crate) const PODS: &str = "/api/v1/pods";
pub(crate) const NODES: &str = "/api/v1/nodes";
pub(crate) const EVENTS: &str = "/apis/events.k8s.io/v1/events";
const CORE_EVENTS: &str = "/api/v1/events";
pub(crate) const DEPLOYMENTS: &str = "/apis/apps/v1/deployments";
pub(crate) const SERVICES: &str = "/api/v1/services";

pub(crate) fn node(name: &str) -> Value {
    json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {"capacity": {"cpu": "4", "memory": "16Gi"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                "lastTransitionTime": "2026-11-20T08:00:00Z"}]}})
}

pub(crate) fn pod(name: &str, node: &str, image: &str) -> Value {
    json!({"metadata": {"name": name, "namespace": "shop",
            "creationTimestamp": "2026-11-20T09:00:00Z", "labels": {"app": "checkout"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": "checkout-6f7c9d", "uid": "rs1", "controller": true}]},
        "spec": {"nodeName": node, "containers": [{"name": "checkout", "image": image,
            "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m"}}}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "checkout", "image": image,
            "imageID": "", "ready": true, "restartCount": 0,
            "state": {"running": {"startedAt": "2026-11-20T09:00:05Z"}}}]}})
}

pub(crate) fn deployment(revision: &str, image: &str) -> Value {
    json!({"metadata": {"name": "checkout", "namespace": "shop",
            "annotations": {"deployment.kubernetes.io/revision": revision}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "checkout"}},
            "template": {"metadata": {"labels": {"app": "checkout"}},
                "spec": {"containers": [{"name": "checkout", "image": image}]}}},
        "status": {"readyReplicas": 2}})
}

fn backoff_event(api_new: bool) -> Value {
    let regarding = json!({"kind": "Pod", "namespace": "shop", "name": "checkout-6f7c9d-a"});
    if api_new {
        json!({"metadata": {"name": "checkout-6f7c9d-a.1", "namespace": "shop", "uid": "ev1"},
            "regarding": regarding, "reason": "BackOff", "type": "Warning",
            "note": "Back-off restarting failed container checkout",
            "deprecatedCount": 3, "deprecatedFirstTimestamp": "2026-11-20T09:01:00Z",
            "deprecatedLastTimestamp": "2026-11-20T09:03:00Z", "reportingController": "kubelet"})
    } else {
        json!({"metadata": {"name": "checkout-6f7c9d-a.1", "namespace": "shop", "uid": "ev1"},
            "involvedObject": regarding, "reason": "BackOff", "type": "Warning",
            "message": "Back-off restarting failed container checkout", "count": 3,
            "firstTimestamp": "2026-11-20T09:01:00Z", "lastTimestamp": "2026-11-20T09:03:00Z",
            "source": {"component": "kubelet"}})
    }
}

/// `checkout-6f7c9d-a` crash-looping (created 5 minutes ago, its last
/// run ended with an error a minute ago), `ago` giving the time minutes back.
pub(crate) fn crash_looping(ago: &dyn Fn(i64) -> String, restarts: u32) -> Value {
    let mut p = pod("checkout-6f7c9d-a", "worker-1", "shop/checkout:1.4.3");
    p["metadata"]["creationTimestamp"] = json!(ago(5));
    p["status"]["containerStatuses"][0] = json!({"name": "checkout",
        "image": "shop/checkout:1.4.3", "imageID": "", "ready": false, "restartCount": restarts,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"reason": "Error", "exitCode": 1,
            "startedAt": ago(1), "finishedAt": ago(1)}}});
    p
}

/// Minutes back from now, as RFC 3339: for objects a test dates relative
/// to when it runs.
pub(crate) fn minutes_ago() -> impl Fn(i64) -> String {
    use sentinel_runtime::Clock;
    let now = SystemClock.now();
    move |mins| sentinel_model::Timestamp(now.0 - mins * 60_000).to_rfc3339()
}

/// Waits for an incident explained with `cause` first and confident, and
/// checks its sentences say each of `wants`; returns its analysis.
pub(crate) async fn explained(
    rt: &Runtime,
    cause: &str,
    wants: &[&str],
) -> sentinel_protocol::Analysis {
    let (_, analysis) = within(
        &format!("an incident explained as {cause}"),
        rt.wait_for(|s| analysed(s, cause).is_some()),
    )
    .await
    .map(|s| analysed(&s, cause).unwrap())
    .unwrap();
    let top = &analysis.candidates[0];
    assert_eq!(top.cause, cause, "{analysis:?}");
    assert!(analysis.confident, "{analysis:?}");
    let said: Vec<&str> = top.sentences.iter().map(|s| s.text.as_str()).collect();
    let said = said.join(" ");
    for want in wants {
        assert!(said.contains(want), "{want}: {said}");
    }
    analysis
}

/// A fake API server serving one Ready node, `worker-1`.
pub(crate) async fn one_node() -> FakeKube {
    let fake = FakeKube::start("t0ken").await;
    fake.put(NODES, node("worker-1"));
    fake
}

/// The first incident whose analysis lists `cause`, with its id.
pub(crate) fn analysed(s: &Snapshot, cause: &str) -> Option<(String, sentinel_protocol::Analysis)> {
    s.incidents.iter().find_map(|i| {
        let a = sentinel_service::incident_detail(s, &i.id).and_then(|d| d.analysis)?;
        a.candidates
            .iter()
            .any(|c| c.cause == cause)
            .then_some((i.id.clone(), a))
    })
}

/// Puts `checkout-6f7c9d-a` crash-looping on `fake` (its log saying
/// `lines`), watches the cluster until it holds `pods` pods, restarts the
/// container once more, and returns the runtime once `until` holds, with
/// that snapshot.
pub(crate) async fn crash_loop(
    fake: &FakeKube,
    dir: &std::path::Path,
    patch: impl Fn(u32) -> Value,
    lines: &[&str],
    pods: usize,
    (what, until): (&str, impl Fn(&Snapshot) -> bool),
) -> (Runtime, Arc<Snapshot>) {
    fake.put(PODS, patch(2));
    for line in lines {
        fake.log("shop", "checkout-6f7c9d-a", "checkout", line);
    }
    let rt = watch(fake, dir).await;
    within("the pods", rt.wait_for(|s| s.pods.len() == pods))
        .await
        .unwrap();
    fake.put(PODS, patch(3));
    let snap = within(what, rt.wait_for(until)).await.unwrap();
    (rt, snap)
}

pub(crate) async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(StdDuration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

pub(crate) async fn watch(fake: &FakeKube, dir: &std::path::Path) -> Runtime {
    let conn = sentinel_kube::connect(Some(&fake.kubeconfig(dir)), None)
        .await
        .unwrap();
    assert_eq!(conn.context, "fake");
    Runtime::builder(Arc::new(SystemClock))
        .kubernetes(conn, StdDuration::from_millis(200))
        .start()
}

fn pods(s: &Snapshot) -> Vec<String> {
    s.pods.iter().map(|p| p.pod.name.clone()).collect()
}

fn kube_source(s: &Snapshot) -> &sentinel_runtime::SourceStatus {
    s.sources.iter().find(|s| s.kind == "kubernetes").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_is_watched_rollouts_show_and_a_410_relists() {
    let dir = crate::support::tempdir("kube-watch");
    let fake = FakeKube::start("t0ken").await;
    for n in ["worker-1", "worker-2"] {
        fake.put(NODES, node(n));
    }
    fake.put(
        PODS,
        pod("checkout-6f7c9d-a", "worker-1", "shop/checkout:1.4.2"),
    );
    fake.put(
        PODS,
        pod("checkout-6f7c9d-b", "worker-2", "shop/checkout:1.4.2"),
    );
    fake.put(DEPLOYMENTS, deployment("1", "shop/checkout:1.4.2"));
    fake.put(EVENTS, backoff_event(true));
    let rt = watch(&fake, &dir).await;

    let snap = within(
        "the first list",
        rt.wait_for(|s| s.pods.len() == 2 && s.nodes.len() == 2 && s.workloads.len() == 1),
    )
    .await
    .unwrap();
    let p = &snap.pods[0].pod;
    assert_eq!(
        (p.namespace.as_str(), p.node.as_deref()),
        ("shop", Some("worker-1"))
    );
    assert_eq!(p.containers[0].memory_limit_bytes, 256 << 20);
    assert_eq!(snap.workloads.len(), 1);
    // The Workloads page's row for it, as the API server described it.
    let page =
        sentinel_service::list_workloads(&snap, &sentinel_protocol::WorkloadQuery::default())
            .unwrap();
    let w = &page.rows[0];
    assert_eq!(
        (w.kind.as_str(), w.name.as_str(), w.revision.as_str()),
        ("Deployment", "checkout", "1")
    );
    assert_eq!((w.ready, w.replicas, w.rolling), (2, 2, false));
    assert_eq!(w.images, ["checkout=shop/checkout:1.4.2"]);
    let snap = within(
        "the event",
        rt.wait_for(|s| s.events.iter().any(|e| e.reason == "BackOff")),
    )
    .await
    .unwrap();
    assert_eq!(kube_source(&snap).name, "kubernetes (fake)");
    assert!(
        matches!(kube_source(&snap).health, Health::Ok),
        "{:?}",
        kube_source(&snap)
    );
    // Lists are paged.
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.starts_with("GET /api/v1/pods?") && r.contains("limit=500")),
        "{:?}",
        fake.requests()
    );

    // Watched, not polled: a new pod and a rollout arrive as they happen.
    fake.put(
        PODS,
        pod("checkout-7a8b9c-c", "worker-2", "shop/checkout:1.4.3"),
    );
    fake.put(DEPLOYMENTS, deployment("2", "shop/checkout:1.4.3"));
    let snap = within(
        "the rollout",
        rt.wait_for(|s| s.events.iter().any(|e| e.reason == "Rollout")),
    )
    .await
    .unwrap();
    let rollout = snap.events.iter().find(|e| e.reason == "Rollout").unwrap();
    assert_eq!(
        rollout.message,
        "Deployment shop/checkout rolled out revision 2 (was 1): \
         checkout image shop/checkout:1.4.3 (was shop/checkout:1.4.2)"
    );
    assert_eq!(pods(&snap).len(), 3);
    fake.delete(PODS, "shop", "checkout-7a8b9c-c");
    within("the deletion", rt.wait_for(|s| s.pods.len() == 2))
        .await
        .unwrap();

    // A pod deleted while the watches were cut, then the history compacted:
    // resuming gets 410 Gone, and the relist drops the pod.
    let lists_before = fake
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /api/v1/pods?") && !r.contains("watch="))
        .count();
    fake.delete_unseen(PODS, "shop", "checkout-6f7c9d-a");
    fake.compact();
    let snap = within("the relist", rt.wait_for(|s| s.pods.len() == 1))
        .await
        .unwrap();
    assert!(!pods(&snap).contains(&"checkout-6f7c9d-a".to_string()));
    let lists_after = fake
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /api/v1/pods?") && !r.contains("watch="))
        .count();
    assert!(lists_after > lists_before, "a new list after 410");

    // Forbidden events: a note names the missing permission; pods still flow.
    fake.forbid(EVENTS);
    fake.compact();
    let snap = within(
        "the events note",
        rt.wait_for(|s| {
            kube_source(s)
                .notes
                .iter()
                .any(|n| n.panel == "events" && n.message.contains("403 Forbidden"))
        }),
    )
    .await
    .unwrap();
    assert!(matches!(
        kube_source(&snap).health,
        Health::Ok | Health::Starting
    ));
    // Forbidden pods: the source fails and says which verb on what.
    fake.forbid(PODS);
    fake.compact();
    let snap = within(
        "the pods failure",
        rt.wait_for(|s| {
            kube_source(s)
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("may not") && e.contains("pods"))
        }),
    )
    .await
    .unwrap();
    let err = kube_source(&snap).last_error.clone().unwrap();
    assert!(
        err.contains("cannot list resource \"pods\"")
            || err.contains("cannot watch resource \"pods\""),
        "{err}"
    );
    let snap = within(
        "stale",
        rt.wait_for(|s| matches!(kube_source(s).health, Health::Stale | Health::Down)),
    )
    .await
    .unwrap();
    assert_eq!(
        pods(&snap),
        ["checkout-6f7c9d-b"],
        "the last good pods stay"
    );
    // Permission restored: it recovers by itself.
    fake.allow(PODS);
    fake.allow(EVENTS);
    within(
        "recovery",
        rt.wait_for(|s| {
            matches!(kube_source(s).health, Health::Ok) && kube_source(s).notes.is_empty()
        }),
    )
    .await
    .unwrap();
    rt.shutdown(StdDuration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_servers_give_core_events_and_bad_tokens_are_named() {
    let dir = crate::support::tempdir("kube-core-events");
    let fake = FakeKube::start("t0ken").await;
    fake.unserve(EVENTS);
    fake.put(NODES, node("worker-1"));
    fake.put(
        PODS,
        pod("checkout-6f7c9d-a", "worker-1", "shop/checkout:1.4.2"),
    );
    fake.put(CORE_EVENTS, backoff_event(false));
    let rt = watch(&fake, &dir).await;
    let snap = within(
        "core events",
        rt.wait_for(|s| s.events.iter().any(|e| e.reason == "BackOff")),
    )
    .await
    .unwrap();
    let e = snap.events.iter().find(|e| e.reason == "BackOff").unwrap();
    assert_eq!((e.count, e.source.as_str()), (3, "kubelet"));
    rt.shutdown(StdDuration::from_secs(5)).await;

    // The wrong token: 401, said so.
    let other = FakeKube::start("another-token").await;
    let cfg = std::fs::read_to_string(other.kubeconfig(&dir))
        .unwrap()
        .replace("another-token", "t0ken");
    let path = dir.join("wrong-token");
    std::fs::write(&path, cfg).unwrap();
    let conn = sentinel_kube::connect(Some(&path), None).await.unwrap();
    let rt = Runtime::builder(Arc::new(SystemClock))
        .kubernetes(conn, StdDuration::from_millis(200))
        .start();
    let snap = within("401", rt.wait_for(|s| kube_source(s).last_error.is_some()))
        .await
        .unwrap();
    let err = kube_source(&snap).last_error.clone().unwrap();
    assert!(err.contains("401 Unauthorized"), "{err}");
    rt.shutdown(StdDuration::from_secs(5)).await;
}

/// `sentinel watch` with only a kubeconfig: the cluster's pods, and a clear
/// error for a context the file does not have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_watch_reads_a_kubeconfig() {
    let dir = crate::support::tempdir("kube-cli");
    let fake = one_node().await;
    fake.put(
        PODS,
        pod("checkout-6f7c9d-a", "worker-1", "shop/checkout:1.4.2"),
    );
    let kubeconfig = fake.kubeconfig(&dir);
    let run = |extra: &'static [&'static str]| {
        let kubeconfig = kubeconfig.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(crate::support::binary("sentinel"))
                .args([
                    "watch",
                    "--once",
                    "--json",
                    "--interval",
                    "1s",
                    "--kubeconfig",
                ])
                .arg(&kubeconfig)
                .args(extra)
                .output()
                .unwrap()
        })
    };
    let out = run(&[]).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let updates: Vec<sentinel_protocol::Update> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let [
        sentinel_protocol::Update::Overview(o),
        sentinel_protocol::Update::Pods(p),
    ] = updates.as_slice()
    else {
        panic!("{updates:?}");
    };
    assert_eq!(o.status.sources[0].kind, "kubernetes");
    assert_eq!(o.status.sources[0].health, sentinel_protocol::Health::Ok);
    assert_eq!(p.rows[0].name, "checkout-6f7c9d-a");
    assert_eq!(p.rows[0].node.as_deref(), Some("worker-1"));

    let out = run(&["--context", "prod"]).await.unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no context named \"prod\"") && err.contains("fake"),
        "{err}"
    );
}
