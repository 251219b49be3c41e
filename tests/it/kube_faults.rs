//! The Kubernetes source when the API server misbehaves: a list that never
//! comes (the source says the server is not answering, instead of
//! "starting" for good) and a list that is not JSON; both recover by
//! themselves once the server does.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use sentinel_runtime::{Health, Runtime, Snapshot, SystemClock};

use crate::fakekube::FakeKube;
use crate::kube::{PODS, one_node, pod};

async fn watch(fake: &FakeKube, dir: &std::path::Path) -> Runtime {
    let conn = sentinel_kube::connect(Some(&fake.kubeconfig(dir)), None)
        .await
        .unwrap();
    Runtime::builder(Arc::new(SystemClock))
        .kubernetes(conn, StdDuration::from_millis(500))
        .start()
}

async fn until(
    rt: &Runtime,
    what: &str,
    secs: u64,
    f: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    tokio::time::timeout(StdDuration::from_secs(secs), rt.wait_for(f))
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {secs} s"))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_api_server_is_named_and_recovers() {
    let dir = crate::support::tempdir("kube-slow");
    let fake = one_node().await;
    fake.put(
        PODS,
        pod("checkout-6f7c9d-a", "worker-1", "shop/checkout:1.4.2"),
    );
    fake.slow(PODS, StdDuration::from_secs(3600));
    let rt = watch(&fake, &dir).await;
    let s = until(&rt, "the source to say so", 30, |s| {
        s.sources[0].last_error.is_some()
    })
    .await;
    let err = s.sources[0].last_error.clone().unwrap();
    assert!(err.contains("not answering"), "{err}");
    until(&rt, "stale", 10, |s| {
        matches!(s.sources[0].health, Health::Stale | Health::Down)
    })
    .await;
    // The server answers again: the source lists again by itself.
    fake.slow(PODS, StdDuration::ZERO);
    let s = until(&rt, "ok", 40, |s| s.sources[0].health == Health::Ok).await;
    assert_eq!(s.pods.len(), 1);
    rt.shutdown(StdDuration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_list_is_an_error_not_a_panic_and_recovers() {
    let dir = crate::support::tempdir("kube-malformed");
    let fake = one_node().await;
    fake.put(
        PODS,
        pod("checkout-6f7c9d-a", "worker-1", "shop/checkout:1.4.2"),
    );
    fake.malformed(PODS, true);
    let rt = watch(&fake, &dir).await;
    let s = until(&rt, "the error", 30, |s| s.sources[0].last_error.is_some()).await;
    let err = s.sources[0].last_error.clone().unwrap();
    assert!(err.contains("pods"), "{err}");
    until(&rt, "stale", 10, |s| {
        matches!(s.sources[0].health, Health::Stale | Health::Down)
    })
    .await;
    fake.malformed(PODS, false);
    let s = until(&rt, "recovered", 60, |s| {
        s.sources[0].health == Health::Ok && s.pods.len() == 1
    })
    .await;
    assert!(s.sources[0].last_error.is_none());
    rt.shutdown(StdDuration::from_secs(5)).await;
}
