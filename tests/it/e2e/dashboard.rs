//! The dashboard: the pods, charts, nodes and alerts fill; the corrupt
//! settings file is reported; incidents reach the desktop and a click on
//! one opens it; a node's and a pod's drawers; the pods filter.

use fantoccini::Locator;

use super::Session;
use super::driver::{click, count, dunstctl, eventually, save, text};

pub(super) async fn run(s: &Session<'_>) {
    let (c, dir) = (s.c, s.dir);
    let config = s.config;
    let notify_log = s.notify_log;
    // The dashboard fills: every pod, five charts, nodes, alerts, a status bar.
    eventually(30, "the pods table to fill", || async {
        count(c, "#pod-rows tr").await >= 40
    })
    .await;
    assert_eq!(count(c, "#charts canvas").await, 5);
    eventually(10, "chart values", || async {
        !text(c, ".chart .latest").await.contains("no data")
    })
    .await;
    assert!(count(c, "#nodes .node").await >= 3);
    assert!(count(c, "#alert-feed li.alert").await >= 1);
    assert!(count(c, "#cards .card").await == 8);
    save(c, dir, "main.png").await;
    // textContent, not WebDriver's visible text: long notices are ellipsised.
    let status = c
        .execute(
            "return document.querySelector('#status-bar').textContent",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        status.contains("Demo") && status.contains("demo (demo) ok"),
        "{status}"
    );
    assert!(
        status.contains("is invalid"),
        "the corrupt settings file is reported: {status}"
    );
    assert!(!config.join("settings.toml").exists(), "and moved aside");

    // The demo opens with incidents in progress: they reached the desktop,
    // as incident notifications.
    eventually(10, "a desktop notification", || async {
        std::fs::read_to_string(notify_log)
            .is_ok_and(|log| log.contains("Incident inc-") || log.contains("incidents in "))
    })
    .await;

    // Clicking a notification opens the window on its incident.
    eventually(10, "a notification on screen", || async {
        dunstctl(&["count", "displayed"])
            .and_then(|n| n.trim().parse::<u32>().ok())
            .is_some_and(|n| n >= 1)
    })
    .await;
    assert!(
        !text(c, "#incident-detail").await.contains(" · inc-"),
        "no incident open yet"
    );
    assert!(dunstctl(&["action", "0"]).is_some(), "dunstctl action");
    // Nothing was selected before: the page opened on the notification's incident.
    eventually(10, "the clicked notification's incident", || async {
        text(c, "#incident-detail").await.contains(" · inc-")
    })
    .await;
    save(c, dir, "notification-click.png").await;
    click(c, Locator::Css("#tab-dashboard")).await;

    // Hovering a chart shows the value under the pointer.
    c.execute(
        "const cv = document.querySelector('#charts canvas'); const r = cv.getBoundingClientRect();
         cv.parentElement.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + r.width * 0.7, clientY: r.top + 60, bubbles: true}));",
        vec![],
    )
    .await
    .unwrap();
    eventually(5, "a hover tooltip", || async {
        text(c, ".chart .tooltip").await.contains('%')
    })
    .await;

    // A node's card opens its detail: conditions, capacity, use, its pods;
    // one of its pods opens that pod's own detail.
    click(c, Locator::Css("#nodes div.node[data-node]")).await;
    eventually(10, "the node detail", || async {
        count(c, "#node-pods tr.pod-row").await >= 1
            && text(c, "#node-conditions").await.contains("KubeletReady")
    })
    .await;
    let node = text(c, "#node-detail-name").await;
    let pods_line = text(c, "#node-detail-pods").await;
    assert!(pods_line.ends_with("in trouble"), "{pods_line}");
    assert_eq!(
        count(c, "#node-detail svg.spark").await,
        2,
        "CPU and memory sparklines"
    );
    assert!(
        text(c, "#node-detail")
            .await
            .contains("CPU requested by its pods")
    );
    save(c, dir, "node-detail.png").await;
    let first_pod = text(c, "#node-pods tr.pod-row td.pod-name").await;
    click(c, Locator::Css("#node-pods tr.pod-row td.pod-name")).await;
    eventually(10, "its pod's detail", || async {
        text(c, "#pod-detail-name").await == first_pod && count(c, "#node-detail").await == 0
    })
    .await;
    let detail = text(c, "#pod-detail").await;
    assert!(detail.contains(&format!("node {node}")), "{detail}");
    // And back: the pod's node opens the node's detail.
    click(c, Locator::Css("#pod-detail a.node-link")).await;
    eventually(10, "the node detail again", || async {
        text(c, "#node-detail-name").await == node && count(c, "#pod-detail").await == 0
    })
    .await;
    // Escape closes it.
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{e00c}")
        .await
        .unwrap();
    eventually(5, "Escape to close the drawer", || async {
        count(c, "#node-detail").await == 0
    })
    .await;

    // Filter by text, then open a pod.
    c.find(Locator::Css("#pod-filter"))
        .await
        .unwrap()
        .send_keys("postgres")
        .await
        .unwrap();
    eventually(10, "the filter to apply", || async {
        count(c, "#pod-rows tr").await == 3
    })
    .await;
    for row in c.find_all(Locator::Css("#pod-rows tr")).await.unwrap() {
        assert!(row.text().await.unwrap().contains("postgres-"));
    }
    assert!(text(c, "#pod-count").await.contains("of 3 matching"));
    click(c, Locator::Css("#pod-rows tr td.pod-name")).await;
    eventually(10, "the pod detail", || async {
        text(c, "#pod-detail-name")
            .await
            .starts_with("data/postgres-")
    })
    .await;
    let detail = text(c, "#pod-detail").await;
    assert!(
        detail.contains("docker.io/library/postgres:16.4"),
        "{detail}"
    );
    assert!(
        count(c, "#pod-detail svg.spark").await == 2,
        "CPU and memory sparklines"
    );
    save(c, dir, "pod-detail.png").await;
    // The demo cluster has no container logs, and the drawer says why.
    click(c, Locator::Css("#log-tail")).await;
    eventually(10, "the logs explanation", || async {
        text(c, "#log-error")
            .await
            .contains("Kubernetes or a Loki connection")
    })
    .await;
}
