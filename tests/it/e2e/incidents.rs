//! The Incidents page (timeline, analysis, acknowledgement, a redacted
//! report, the narrative off), a capture folder analysed offline, and the
//! Everywhere page.

use std::time::Duration;

use fantoccini::Locator;

use super::Session;
use super::driver::{click, context, count, eventually, save, text};
use crate::support;

pub(super) async fn run(s: &Session<'_>) {
    let (c, dir) = (s.c, s.dir);
    let home = s.home;
    // The Incidents page: the demo's incidents, one opened with its
    // timeline, analysis and evidence; acknowledging it shows who did it.
    click(c, Locator::Css("#tab-incidents")).await;
    eventually(15, "incidents listed", || async {
        count(c, "#incident-table tr.incident-row").await >= 2
    })
    .await;
    // Filtered to the demo cluster and the last hour: the demo's incidents stay.
    for (select, value) in [("#incident-cluster", "demo"), ("#incident-window", "60")] {
        c.find(Locator::Css(select))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
    }
    eventually(10, "the cluster and time filters", || async {
        let rows = count(c, "#incident-table tr.incident-row").await;
        rows >= 2 && text(c, "#incident-table td.cluster").await == "demo"
    })
    .await;
    click(
        c,
        Locator::Css("#incident-table tr.incident-row td.incident-title"),
    )
    .await;
    save(c, dir, "incident-first.png").await;
    eventually(10, "the incident detail", || async {
        count(c, "#incident-timeline li").await >= 2
    })
    .await;
    // The rollout incident: its analysis names the OOM kill with evidence.
    click(
        c,
        Locator::XPath("//tr[contains(@class,'incident-row')]/td[contains(., 'KubePodCrashLooping on Pod/shop/checkout')]"),
    )
    .await;
    eventually(10, "the rollout incident's analysis", || async {
        text(c, "#incident-analysis").await.contains("oom_killed")
            && count(c, "#incident-evidence tr").await >= 1
    })
    .await;
    assert!(
        count(c, "#incident-analysis a.cite").await >= 1,
        "the analysis cites its evidence"
    );
    // Its Alertmanager alerts explain themselves, firing or long resolved
    // (then from the history).
    click(c, Locator::Css("#incident-timeline li.k-alert button.why")).await;
    eventually(10, "the timeline alert's why", || async {
        text(c, "#why-steps").await.contains("Alertmanager report")
    })
    .await;
    assert_eq!(count(c, "#why-panel .banner.error").await, 0);
    save(c, dir, "incident-alert-why.png").await;
    click(c, Locator::Css("#why-panel .close")).await;
    // A resolved incident is reopened first, so it can be acknowledged.
    if c.find(Locator::Css("#incident-reopen")).await.is_ok() {
        click(c, Locator::Css("#incident-reopen")).await;
        eventually(10, "reopened", || async {
            text(c, "#incident-state").await == "open"
        })
        .await;
    }
    c.find(Locator::Css("#incident-note"))
        .await
        .unwrap()
        .send_keys("looking at it")
        .await
        .unwrap();
    click(c, Locator::Css("#incident-ack-button")).await;
    eventually(10, "acknowledged with the note", || async {
        text(c, "#incident-ack").await.contains("looking at it")
    })
    .await;
    // Export a redacted report: the app says where it saved it, in its data dir.
    click(c, Locator::Css("#report-redact")).await;
    click(c, Locator::Css("#report-export")).await;
    eventually(15, "the report saved", || async {
        text(c, "#report-saved").await.contains("-redacted.html")
    })
    .await;
    let saved = text(c, "#report-saved").await;
    let path = saved
        .strip_prefix("Saved ")
        .and_then(|s| s.split(" (").next())
        .unwrap_or_default()
        .to_string();
    assert!(
        path.starts_with(&home.join("data").display().to_string()),
        "{saved}"
    );
    let report = std::fs::read_to_string(&path).unwrap();
    assert!(
        report.contains("oom_killed") && report.contains("<svg"),
        "{path}"
    );
    // The narrative is off by default and says how to turn it on.
    click(c, Locator::Css("#narrative-ask")).await;
    eventually(10, "the narrative explains it is off", || async {
        text(c, "#narrative-error")
            .await
            .contains("narrative is off")
    })
    .await;
    // Both keep saying so while the incident's page refreshes with new data.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        text(c, "#report-saved").await.contains("-redacted.html"),
        "{}",
        context(c, "#report-saved").await
    );
    assert!(
        text(c, "#narrative-error")
            .await
            .contains("narrative is off")
    );
    save(c, dir, "incidents.png").await;

    // A capture folder opened for offline analysis takes the detail panel.
    let case = support::root().join("tests/scenarios/explain/28-oom-after-rollout");
    c.find(Locator::Css("#case-path"))
        .await
        .unwrap()
        .send_keys(&case.display().to_string())
        .await
        .unwrap();
    click(c, Locator::Css("#case-open")).await;
    eventually(10, "the capture's analysis", || async {
        text(c, "#case-title")
            .await
            .contains("28-oom-after-rollout")
            && text(c, "#incident-analysis").await.contains("oom_killed")
    })
    .await;
    save(c, dir, "capture.png").await;
    click(c, Locator::Css("#case-close")).await;
    click(c, Locator::Css("#tab-dashboard")).await;

    // Broken everywhere: the one (demo) cluster at a glance, its unhealthy
    // pods and firing alerts, each naming the cluster.
    click(c, Locator::Css("#tab-everywhere")).await;
    eventually(10, "the everywhere page", || async {
        count(c, "#cluster-cards .cluster-card").await == 1
            && count(c, "#everywhere-alerts tbody tr").await >= 1
    })
    .await;
    assert!(text(c, "#cluster-cards").await.contains("demo"));
    assert!(
        text(c, "#everywhere-alerts tbody tr")
            .await
            .starts_with("demo")
    );
    save(c, dir, "everywhere.png").await;
}
