//! The first poll of a source that lists pods and nodes as of its newest
//! step only (kube-state-metrics through Prometheus) and their usage over
//! the last ten minutes: a node or pod not ready now was not not-ready all
//! along, and the engine must not say so.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use sentinel_model::{
    ContainerState, ContainerStatus, Duration, NodeCondition, NodeState, NodeUsage, PodPhase,
    PodState, PodUsage, RuleState, Timestamp,
};
use sentinel_runtime::{Batch, Clock, Runtime, SourceCtx, Store, SystemClock};

use crate::support::Scripted;

/// A node that is NotReady now, with a pod on it that is not ready.
fn objects(now: Timestamp) -> (Vec<NodeState>, Vec<PodState>) {
    let node = NodeState {
        name: "node-1".into(),
        labels: Default::default(),
        cpu_capacity_millis: 4000,
        memory_capacity_bytes: 16 << 30,
        conditions: vec![NodeCondition {
            kind: "Ready".into(),
            status: false,
            since: now,
            reason: String::new(),
        }],
        unschedulable: false,
    };
    let pod = PodState {
        uid: "u1".into(),
        namespace: "shop".into(),
        name: "cart-0".into(),
        labels: Default::default(),
        owner: None,
        node: Some("node-1".into()),
        phase: PodPhase::Running,
        created_at: now.saturating_sub(Duration::from_mins(60)),
        containers: vec![ContainerStatus {
            name: "cart".into(),
            image: "shop/cart:1".into(),
            ready: false,
            restart_count: 0,
            state: ContainerState::Waiting {
                reason: "ContainerCreating".into(),
            },
            last_termination_reason: None,
            cpu_request_millis: 100,
            memory_limit_bytes: 1 << 30,
            ports: Default::default(),
            probes: Default::default(),
        }],
    };
    (vec![node], vec![pod])
}

/// A runtime on `source` that records into a fresh history file.
async fn recording(name: &str, source: impl sentinel_runtime::Source) -> (Runtime, PathBuf) {
    let db = crate::support::tempdir(name).join("h.db");
    let store = Store::open(&db, SystemClock.now()).await.unwrap().store;
    let rt = Runtime::builder(Arc::new(SystemClock))
        .history(store)
        .source(source)
        .start();
    (rt, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_listed_as_of_now_are_not_read_into_the_past() {
    // Ten minutes of usage in steps of 10 s, the objects of the newest step
    // on the oldest batch (as `PrometheusSource` sends them); then live.
    let source = Scripted {
        name: "prom",
        kind: "prometheus",
        run: |ctx: SourceCtx| async move {
            let now = ctx.clock.now();
            let steps: Vec<Timestamp> = (0..=60)
                .rev()
                .map(|k| now.saturating_sub(Duration::from_secs(10 * k)))
                .collect();
            let usage = |at: Timestamp| Batch {
                at,
                pod_usage: Some(vec![PodUsage {
                    namespace: "shop".into(),
                    pod: "cart-0".into(),
                    cpu_cores: Some(0.1),
                    memory_bytes: Some(1e8),
                    requests_total: 0,
                    errors_total: 0,
                    latency: Default::default(),
                    restarts: Some(0),
                }]),
                node_usage: Some(vec![NodeUsage {
                    node: "node-1".into(),
                    cpu_cores: 1.0,
                    memory_bytes: 4e9,
                }]),
                ..Batch::default()
            };
            let (nodes, pods) = objects(now);
            for (i, at) in steps.iter().enumerate() {
                let mut b = usage(*at);
                b.backfill = i + 1 < steps.len();
                if i == 0 {
                    b.nodes = Some(nodes.clone());
                    b.pods = Some(pods.clone());
                    b.objects_at = Some(now);
                }
                ctx.send(b).await;
            }
            loop {
                tokio::time::sleep(StdDuration::from_millis(200)).await;
                let mut b = usage(ctx.clock.now());
                b.nodes = Some(nodes.clone());
                b.pods = Some(pods.clone());
                if !ctx.send(b).await {
                    return;
                }
            }
        },
    };
    let (rt, db) = recording("first-poll", source).await;
    let live = tokio::time::timeout(
        StdDuration::from_secs(30),
        rt.wait_for(|s| s.sources[0].last_ok.is_some()),
    )
    .await
    .unwrap()
    .unwrap();
    let started = live.data_at.unwrap().saturating_sub(Duration::from_secs(5));
    let snap = tokio::time::timeout(
        StdDuration::from_secs(30),
        rt.wait_for(|s| s.at.since(live.at) > Duration(1500)),
    )
    .await
    .unwrap()
    .unwrap();
    // Not ready for a few seconds, as far as anyone knows: NodeNotReady
    // (for 1m) and PodNotReady (for 5m) have not fired, and nothing
    // about either began ten minutes ago.
    let wrong: Vec<String> = snap
        .findings
        .iter()
        .filter(|f| f.rule == "NodeNotReady" || f.rule == "PodNotReady")
        .filter(|f| f.state == RuleState::Firing || f.active_at < started)
        .map(|f| {
            format!(
                "{} {:?} since {}",
                f.rule,
                f.state,
                f.active_at.to_rfc3339()
            )
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
    rt.shutdown(StdDuration::from_secs(30)).await;
    // The history dates the listing at its own step, not the oldest.
    let store = Store::open_read_only(&db).await.unwrap();
    let before = store.objects_at(started.millis() - 1).await.unwrap();
    let keys: Vec<&str> = before.iter().map(|o| o.key.as_str()).collect();
    assert!(keys.is_empty(), "{keys:?}");
    assert!(!store.objects_at(i64::MAX).await.unwrap().is_empty());
}

/// kube-state-metrics has no transition times: every listing dates each
/// node condition at its poll. A node NotReady all along is NotReady since
/// the first listing, and the history records it once, not at every poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_listed_at_every_poll_changes_only_when_it_does() {
    let source = Scripted {
        name: "prom",
        kind: "prometheus",
        run: |ctx: SourceCtx| async move {
            loop {
                let now = ctx.clock.now();
                let (nodes, _) = objects(now);
                let b = Batch {
                    at: now,
                    nodes: Some(nodes),
                    ..Batch::default()
                };
                if !ctx.send(b).await {
                    return;
                }
                tokio::time::sleep(StdDuration::from_millis(100)).await;
            }
        },
    };
    let (rt, db) = recording("node-listings", source).await;
    let first = tokio::time::timeout(
        StdDuration::from_secs(30),
        rt.wait_for(|s| !s.nodes.is_empty()),
    )
    .await
    .unwrap()
    .unwrap();
    let began = first.nodes[0].node.conditions[0].since;
    let snap = tokio::time::timeout(
        StdDuration::from_secs(30),
        rt.wait_for(|s| s.at.since(first.at) > Duration(1500)),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(snap.nodes[0].node.conditions[0].since, began);
    let saved = snap.at;
    tokio::time::timeout(
        StdDuration::from_secs(30),
        rt.wait_for(|s| s.saved_through.is_some_and(|t| t >= saved)),
    )
    .await
    .unwrap()
    .unwrap();
    rt.shutdown(StdDuration::from_secs(30)).await;
    // Its last change, as of the end, is its first listing.
    let store = Store::open_read_only(&db).await.unwrap();
    let node = store
        .objects_at(i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.kind == "node")
        .expect("the node recorded");
    assert!(
        node.at_ms <= began.millis(),
        "{} > {}",
        node.at_ms,
        began.millis()
    );
}

/// A new container's CPU rate is missing for its first minute while its
/// memory is read: the pod shows memory and no CPU, and its CPU trend
/// starts at its first rate, where a CPU of 0 used to stand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_without_a_cpu_rate_yet_has_no_cpu() {
    let source = Scripted {
        name: "prom",
        kind: "prometheus",
        run: |ctx: SourceCtx| async move {
            let (_, pods) = objects(ctx.clock.now());
            let usage = |at: Timestamp, cpu: Option<f64>| Batch {
                at,
                pod_usage: Some(vec![PodUsage {
                    namespace: "shop".into(),
                    pod: "cart-0".into(),
                    cpu_cores: cpu,
                    memory_bytes: Some(1e8),
                    requests_total: 0,
                    errors_total: 0,
                    latency: Default::default(),
                    restarts: Some(0),
                }]),
                ..Batch::default()
            };
            let mut first = usage(ctx.clock.now(), None);
            first.pods = Some(pods);
            ctx.send(first).await;
            let mut polls = 0;
            loop {
                tokio::time::sleep(StdDuration::from_millis(200)).await;
                polls += 1;
                // 2.4 s of polls without a rate, longer than a trend
                // point's 2 s, then one.
                let cpu = (polls > 12).then_some(0.25);
                if !ctx.send(usage(ctx.clock.now(), cpu)).await {
                    return;
                }
            }
        },
    };
    let (rt, _db) = recording("no-cpu-rate", source).await;
    let key = ("shop".to_string(), "cart-0".to_string());
    let first = tokio::time::timeout(
        StdDuration::from_secs(30),
        rt.wait_for(|s| s.pods.iter().any(|p| p.memory_bytes.is_some())),
    )
    .await
    .unwrap()
    .unwrap();
    let pod = &first.pods[0];
    assert_eq!((pod.cpu_cores, pod.memory_bytes), (None, Some(1e8)));
    let trend = rt.pod_trend(key.clone()).await.unwrap().unwrap();
    assert!(trend.cpu.is_empty(), "{:?}", trend.cpu);
    assert!(!trend.memory.is_empty());
    tokio::time::timeout(
        StdDuration::from_secs(30),
        rt.wait_for(|s| s.pods.iter().any(|p| p.cpu_cores.is_some())),
    )
    .await
    .unwrap()
    .unwrap();
    let trend = rt.pod_trend(key).await.unwrap().unwrap();
    let cpu: Vec<f64> = trend.cpu.iter().map(|p| p.1).collect();
    assert!(!cpu.is_empty() && cpu.iter().all(|c| *c == 0.25), "{cpu:?}");
    assert!(trend.memory.len() > trend.cpu.len());
    rt.shutdown(StdDuration::from_secs(30)).await;
}
