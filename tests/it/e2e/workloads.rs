//! The Workloads page: the demo's controllers filtered by kind, its
//! CronJob with its schedule, and a row opening its pods.

use fantoccini::Locator;

use super::Session;
use super::driver::{click, count, eventually, save, text};

pub(super) async fn run(s: &Session<'_>) {
    let (c, dir) = (s.c, s.dir);
    // The Workloads page: the demo's controllers, filtered by kind; a row
    // opens the dashboard's pods filtered to it.
    click(c, Locator::Css("#tab-workloads")).await;
    eventually(10, "the workloads", || async {
        count(c, "#workload-table tr.workload-row").await >= 10
            && text(c, "#workload-counts").await.contains("in trouble")
    })
    .await;
    save(c, dir, "workloads.png").await;
    let filter = c.find(Locator::Css("#workload-filter")).await.unwrap();
    filter.send_keys("statefulset").await.unwrap();
    eventually(10, "the StatefulSets alone", || async {
        let rows = count(c, "#workload-table tr.workload-row").await;
        rows >= 1
            && text(c, "#workload-table tbody")
                .await
                .matches("StatefulSet")
                .count()
                == rows
    })
    .await;
    // The demo's batch work is a CronJob, shown with its schedule (every
    // 20 minutes, from the minute its first run came) and its next run,
    // never late.
    filter.clear().await.unwrap();
    filter.send_keys("cronjob").await.unwrap();
    eventually(10, "the CronJob with its schedule", || async {
        let schedule = text(c, "#workload-table code.schedule").await;
        let minutes: Vec<u32> = schedule
            .strip_suffix(" * * * *")
            .unwrap_or_default()
            .split(',')
            .filter_map(|m| m.parse().ok())
            .collect();
        let body = text(c, "#workload-table tbody").await;
        count(c, "#workload-table tr.workload-row").await == 1
            && body.contains("search-reindex")
            && minutes.len() == 3
            && minutes.windows(2).all(|w| w[1] == w[0] + 20)
            && body.contains("next run in")
            && !body.contains("late")
    })
    .await;
    filter.clear().await.unwrap();
    filter.send_keys("acme/checkout:").await.unwrap();
    eventually(10, "checkout's Deployment", || async {
        count(c, "#workload-table tr.workload-row").await == 1
    })
    .await;
    click(
        c,
        Locator::Css("#workload-table tr.workload-row td.pod-name"),
    )
    .await;
    eventually(10, "its pods on the dashboard", || async {
        let rows = count(c, "#pod-rows tr").await;
        rows >= 1
            && text(c, "#pod-rows").await.matches("checkout-").count() == rows
            && text(c, "#pod-count")
                .await
                .contains(&format!("of {rows} matching"))
    })
    .await;
}
