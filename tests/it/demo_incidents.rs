//! The demo's other scripted problems, as the app's own captures explain
//! them: a node going down is the node's incident (not a slow dependency,
//! in a large cluster too), the cluster's CPU moving with a node is that
//! node's, a crash loop after a quiet incident is an incident of its own,
//! and a history begun mid-slowdown does not blame the next problem.

use std::time::Duration as StdDuration;

use sentinel_runtime::{Clock, DemoConfig, SystemClock};

use crate::demo_causes::{demo, demo_of, slow_dependency, wait};

/// Started as node 2 has just gone down, as the slowdown's alerts end:
/// the node's incident names the node, and not the slowdown some of its
/// pods were in before (one of each service's three; the demo's
/// Deployments are captured and say how many each wants). The slowdown's
/// own incident still names payments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_node_down_is_not_a_slow_dependency() {
    let rt = demo("demo-node-down", 1000).await;
    let node_named = |s: &sentinel_runtime::Snapshot| {
        s.incidents.iter().any(|i| {
            sentinel_service::analyse(s, i)
                .top()
                .is_some_and(|t| t.cause == "node_not_ready")
        })
    };
    let snap = tokio::time::timeout(StdDuration::from_secs(90), rt.wait_for(node_named))
        .await
        .expect("the node going down is named")
        .unwrap();
    for i in snap.incidents.iter() {
        let e = sentinel_service::analyse(&snap, i);
        if e.top().is_some_and(|t| t.cause == "node_not_ready") {
            assert!(
                e.candidates
                    .iter()
                    .all(|c| c.cause != "dependency_network_delay"),
                "{}: {}",
                i.title,
                e.render()
            );
        }
    }
    slow_dependency(&snap);
    rt.shutdown(StdDuration::from_secs(30)).await;
}

/// Started as node 2 has come back (its three minutes down are in the
/// history): the cluster's CPU rose as the node went down and fell as it
/// came back, and both moves are in the node's incident, which names the
/// node. No incident is made of cluster-wide signals alone, which nothing
/// could explain: not these, and not the cluster's CPU falling as the
/// noisy neighbour ended, long after the incidents it had joined went
/// quiet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clusters_cpu_moving_with_a_node_is_the_nodes_incident() {
    let rt = demo("demo-node-back", 1140).await;
    let moves = |i: &sentinel_explain::incident::Incident| {
        i.members
            .iter()
            .filter(|m| m.title == "ClusterCPUAnomaly")
            .count()
    };
    let snap = wait(
        &rt,
        60,
        |s| {
            s.incidents
                .iter()
                .any(|i| i.title.starts_with("KubeNodeNotReady on Node/") && moves(i) >= 2)
        },
        "the node's incident holds the cluster's CPU rising and falling",
    )
    .await;
    for i in snap.incidents.iter().filter(|i| i.merged_into.is_none()) {
        assert!(
            i.members.iter().any(|m| !m.subject.is_cluster()),
            "{} holds cluster-wide signals only: {:#?}",
            i.title,
            i.members
        );
        if i.title.starts_with("KubeNodeNotReady on Node/") && moves(i) >= 2 {
            let e = sentinel_service::analyse(&snap, i);
            assert_eq!(
                e.top().map(|t| t.cause.as_str()),
                Some("node_not_ready"),
                "{}",
                e.render()
            );
        }
    }
    rt.shutdown(StdDuration::from_secs(30)).await;
}

/// Started five minutes into the loop: the history holds the last cycle's
/// slowdown and node going down, then `checkout`'s rollout and its crash
/// loop. The crash loop is an incident of its own, opened with the rollout
/// and put after it; the slowdown's incident, quiet for six minutes when
/// the rollout came, takes neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loop_after_a_quiet_incident_is_its_own() {
    let rt = demo("demo-crash-after-slowdown", 300).await;
    let snap = wait(
        &rt,
        60,
        |s| {
            s.incidents.iter().any(|i| {
                i.title
                    .starts_with("KubePodCrashLooping on Pod/shop/checkout-")
                    && sentinel_service::analyse(s, i)
                        .top()
                        .is_some_and(|t| t.cause == "oom_killed")
            })
        },
        "the crash loop is an incident of its own",
    )
    .await;
    for i in snap.incidents.iter() {
        let titles: Vec<&str> = i.members.iter().map(|m| m.title.as_str()).collect();
        let crash = titles.contains(&"KubePodCrashLooping");
        assert!(
            !(crash && titles.contains(&"HighErrorRate")),
            "{}: {titles:?}",
            i.title
        );
        if crash {
            assert!(
                titles.contains(&"ScalingReplicaSet"),
                "{}: {titles:?}",
                i.title
            );
        }
    }
    rt.shutdown(StdDuration::from_secs(30)).await;
}

/// Started 540 s into the loop, the history begins four minutes into
/// `payments`' slowdown, and node 2 goes down a minute later. The demo
/// lived through the loop before its history, so the slowdown's alerts are
/// dated from when they began, before the history: its incident says it has
/// nothing before the onset to compare, and the node, four minutes after its
/// onset, is not its cause. (Dated at the history's start, as when the demo
/// began there, the node came 28 s after the onset and was named.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_begun_mid_slowdown_does_not_blame_the_next_problem() {
    let history_start = SystemClock
        .now()
        .saturating_sub(DemoConfig::default().backfill);
    let rt = demo("demo-mid-slowdown", 540).await;
    let slowdown = |s: &sentinel_runtime::Snapshot| {
        s.incidents
            .iter()
            .find(|i| i.title == "HighErrorRate on Service/shop/checkout")
            .cloned()
    };
    let snap = wait(
        &rt,
        60,
        |s| {
            slowdown(s).is_some()
                && s.incidents.iter().any(|i| {
                    sentinel_service::analyse(s, i)
                        .top()
                        .is_some_and(|t| t.cause == "node_not_ready")
                })
        },
        "the slowdown and the node's incidents",
    )
    .await;
    let inc = slowdown(&snap).unwrap();
    assert!(inc.opened_at < history_start, "{}", inc.opened_at.to_text());
    let e = sentinel_service::analyse(&snap, &inc);
    assert!(
        e.candidates.iter().all(|c| c.cause != "node_not_ready"),
        "{}",
        e.render()
    );
    assert!(
        e.render()
            .contains("after the onset). Readings from before"),
        "{}",
        e.render()
    );
    rt.shutdown(StdDuration::from_secs(30)).await;
}

/// On a demo of 2,000 pods, node 2's incident still names the node. Its
/// capture takes the pods on it, and used to take the workloads of every
/// pod in their namespaces too (hundreds), which filled the capture's
/// budget of objects before the node and its events were taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_clusters_node_down_is_named() {
    let rt = demo_of(
        "demo-node-down-large",
        1140,
        DemoConfig::default().interval,
        2000,
    )
    .await;
    wait(
        &rt,
        90,
        |s| {
            s.incidents.iter().any(|i| {
                i.title.starts_with("KubeNodeNotReady on Node/")
                    && sentinel_service::analyse(s, i)
                        .top()
                        .is_some_and(|t| t.cause == "node_not_ready")
            })
        },
        "node 2 going down is named at 2,000 pods",
    )
    .await;
    rt.shutdown(StdDuration::from_secs(30)).await;
}
