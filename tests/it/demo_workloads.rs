//! The demo's stuck rollout on the Workloads page: checkout's revision 2
//! crash-loops beside revision 1's pods. As in Kubernetes, the Deployment
//! stays whole (the old pods serve), so it is the rollout that tells:
//! checkout comes first, rolling out, its new pod not ready, its revision
//! dated by the rollout.

use std::time::Duration;

use sentinel_protocol::WorkloadQuery;
use sentinel_runtime::{DemoConfig, Runtime};

use crate::demo_causes::wait;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_rollout_comes_first_rolling_out_with_its_new_pod_not_ready() {
    // Two minutes after the rollout, before the rollback.
    let rt = Runtime::demo(DemoConfig {
        live_at_loop_s: 180,
        ..DemoConfig::default()
    })
    .start();
    let snap = wait(
        &rt,
        30,
        |s| {
            s.workloads
                .iter()
                .any(|w| w.name == "checkout" && w.revision == "2")
                && s.pods.iter().any(|p| p.pod.name.starts_with("checkout-"))
        },
        "checkout's revision 2",
    )
    .await;
    let page = sentinel_service::list_workloads(&snap, &WorkloadQuery::default()).unwrap();
    let first = &page.rows[0];
    assert_eq!(
        (first.namespace.as_str(), first.name.as_str()),
        ("shop", "checkout")
    );
    assert!(first.rolling, "{first:?}");
    let updated = first.updated.expect("its current ReplicaSet");
    assert!(updated.ready < updated.replicas, "{first:?}");
    assert_eq!(first.revision, "2");
    assert!(
        first.images.iter().any(|i| i.ends_with(":2.8.0")),
        "{first:?}"
    );
    // Dated by the rollout, not by when the Deployment was created.
    let created = snap
        .workloads
        .iter()
        .find(|w| w.name == "checkout" && w.kind == sentinel_model::WorkloadKind::Deployment)
        .unwrap()
        .created_at;
    assert!(first.since > created, "{first:?}");
    // Every other workload is whole.
    assert!(
        page.rows[1..]
            .iter()
            .all(|r| r.ready >= r.replicas && !r.rolling)
    );
    // The demo's CronJob runs when its schedule says: its next run is
    // known, none is late.
    let cron = page.rows.iter().find(|r| r.kind == "CronJob").unwrap();
    let runs = cron.batch.as_ref().unwrap();
    assert!(
        runs.late.is_none() && runs.schedule_error.is_none(),
        "{runs:?}"
    );
    assert!(runs.next.is_some_and(|t| t > snap.at), "{runs:?}");
    rt.shutdown(Duration::from_secs(5)).await;
}
