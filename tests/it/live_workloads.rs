//! Prometheus alone gives the Workloads page: the simulated cluster's
//! controllers, exposed as kube-state-metrics exposes them and scraped by a
//! real Prometheus (scripts/stack.sh), become its Deployments,
//! StatefulSets, DaemonSets and CronJob with its runs, as the Kubernetes
//! API would give them.

use std::sync::Arc;
use std::time::Duration;

use sentinel_prom::{Endpoint, Prometheus};
use sentinel_protocol::WorkloadQuery;
use sentinel_runtime::{PrometheusSource, Runtime, SystemClock};

use crate::stack::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_alone_lists_the_clusters_workloads() {
    let stack = tokio::task::spawn_blocking(Stack::shared).await.unwrap();
    let rt = Runtime::builder(Arc::new(SystemClock))
        .mode(sentinel_runtime::Mode::Live)
        .source(PrometheusSource::new(
            "prometheus",
            Prometheus::new(Endpoint::new(&stack.prometheus)).unwrap(),
            Duration::from_secs(2),
        ))
        .start();
    let snap = tokio::time::timeout(
        Duration::from_secs(60),
        rt.wait_for(|s| {
            s.workloads
                .iter()
                .any(|w| w.kind == sentinel_model::WorkloadKind::CronJob)
        }),
    )
    .await
    .expect("workloads within 60 s")
    .unwrap();
    let page = sentinel_service::list_workloads(&snap, &WorkloadQuery::default()).unwrap();
    let kinds = |k: &str| page.rows.iter().filter(|r| r.kind == k).count();
    assert!(
        kinds("Deployment") >= 5 && kinds("StatefulSet") >= 1 && kinds("DaemonSet") >= 1,
        "{:?}",
        page.rows
            .iter()
            .map(|r| format!("{} {}/{}", r.kind, r.namespace, r.name))
            .collect::<Vec<_>>()
    );
    let frontend = page
        .rows
        .iter()
        .find(|r| r.kind == "Deployment" && r.namespace == "shop" && r.name == "frontend")
        .expect("shop/frontend");
    assert!(frontend.replicas > 0, "{frontend:?}");
    // Its images, which kube-state-metrics' workload series do not carry,
    // from the pods it owns.
    assert!(
        frontend.images.iter().any(|i| i.contains("shop-frontend:")),
        "{frontend:?}"
    );
    assert!(
        page.rows
            .iter()
            .filter(|r| r.batch.is_none())
            .all(|r| r.replicas > 0),
        "{:?}",
        page.rows
    );
    // The CronJob with its schedule, read as the API gives it: its next run
    // known, none late (the demo's runs keep their schedule).
    let cron = page.rows.iter().find(|r| r.kind == "CronJob").unwrap();
    let runs = cron.batch.as_ref().unwrap();
    assert!(
        runs.schedule.ends_with(" * * * *") && runs.schedule_error.is_none() && runs.late.is_none(),
        "{runs:?}"
    );
    assert!(runs.next.is_some_and(|t| t > snap.at), "{runs:?}");
    // Its Jobs fold into it, as on the API's page.
    assert_eq!(kinds("Job"), 0, "{:?}", page.rows);
    rt.shutdown(Duration::from_secs(5)).await;
}
