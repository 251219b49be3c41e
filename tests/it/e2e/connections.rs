//! The Connections page: the real Prometheus of `scripts/stack.sh` added,
//! tested, applied (the app goes live) and removed (the demo again).

use fantoccini::Locator;

use super::Session;
use super::driver::{click, count, eventually, save, text};

pub(super) async fn run(s: &Session<'_>) {
    let (c, dir) = (s.c, s.dir);
    let config = s.config;
    // Connections: add the real Prometheus of scripts/stack.sh, test it,
    // save and apply (the app goes live on it), then remove it (demo again).
    let stack = tokio::task::spawn_blocking(crate::stack::Stack::shared)
        .await
        .unwrap();
    click(c, Locator::Css("#tab-connections")).await;
    eventually(10, "the connections page", || async {
        text(c, "#conn-demo").await.contains("demo cluster")
    })
    .await;
    click(c, Locator::Css("#add-prometheus")).await;
    c.find(Locator::Css("#conn-url"))
        .await
        .unwrap()
        .send_keys(&stack.prometheus)
        .await
        .unwrap();
    click(c, Locator::Css("#conn-test")).await;
    eventually(20, "a test report", || async {
        text(c, "#conn-report").await.contains("Connection works")
    })
    .await;
    assert!(text(c, "#conn-report").await.contains("Prometheus 2."));
    save(c, dir, "connection-test.png").await;
    click(c, Locator::Css("#conn-save")).await;
    eventually(30, "the Prometheus source to answer", || async {
        let health = text(c, "tr.conn-row[data-kind=prometheus] .conn-health").await;
        health.contains("prometheus ok") && health.contains(" ms")
    })
    .await;
    save(c, dir, "connections.png").await;
    let saved = std::fs::read_to_string(config.join("settings.toml")).unwrap();
    assert!(saved.contains(&stack.prometheus), "{saved}");
    click(c, Locator::Css("#tab-dashboard")).await;
    eventually(30, "the dashboard, live", || async {
        let status = text(c, "#status-bar").await;
        status.contains("Live") && status.contains("prometheus (prometheus) ok")
    })
    .await;
    click(c, Locator::Css("#tab-connections")).await;
    eventually(10, "the connection rows", || async {
        count(c, "tr.conn-row[data-kind=prometheus] .conn-remove").await == 1
    })
    .await;
    click(
        c,
        Locator::Css("tr.conn-row[data-kind=prometheus] .conn-remove"),
    )
    .await;
    eventually(30, "the demo cluster again", || async {
        text(c, "#conn-demo").await.contains("demo cluster")
    })
    .await;
    click(c, Locator::Css("#tab-dashboard")).await;
    // The table keeps its filter ("postgres") across the switch.
    eventually(30, "the demo's pods again", || async {
        count(c, "#pod-rows tr").await >= 3
            && text(c, "#status-bar").await.contains("demo (demo) ok")
    })
    .await;
}
