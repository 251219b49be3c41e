//! The alert feed: severity and matcher filters, a silence set and expired
//! from an alert's detail, "Why?" on a finding and on an Alertmanager
//! alert, and notifications paused from the status bar.

use fantoccini::Locator;

use super::Session;
use super::driver::{click, count, eventually, save, text};

pub(super) async fn run(s: &Session<'_>) {
    let (c, dir) = (s.c, s.dir);
    // Severity filter on the alert feed.
    click(c, Locator::Css("#pod-detail .close")).await;
    click(
        c,
        Locator::XPath("//div[@id='alerts']//button[text()='Critical']"),
    )
    .await;
    // The demo opens with a critical alert: the filter keeps it and only it.
    eventually(5, "the severity filter", || async {
        let shown = count(c, "#alert-feed li.alert").await;
        shown >= 1 && shown == count(c, "#alert-feed li.alert.critical").await
    })
    .await;
    save(c, dir, "alerts-critical.png").await;

    // Terms filter the feed in the backend: only the watchdog is left.
    click(
        c,
        Locator::XPath("//div[@id='alerts']//button[text()='All']"),
    )
    .await;
    let filter = c.find(Locator::Css("#alert-filter")).await.unwrap();
    filter.send_keys("alertname=Watchdog").await.unwrap();
    eventually(10, "the terms filter", || async {
        let rows = c
            .find_all(Locator::Css("#alert-feed li.alert .alert-name"))
            .await
            .unwrap_or_default();
        let mut names = Vec::new();
        for r in rows {
            names.push(r.text().await.unwrap_or_default());
        }
        !names.is_empty()
            && names.iter().all(|n| n == "Watchdog")
            && text(c, "#alerts-count").await == names.len().to_string()
    })
    .await;
    // Opened: its labels, as the silence form's toggles. The demo holds its
    // alerts back as Alertmanager does: silenced, the watchdog leaves the
    // feed and its count, and is listed apart with who silenced it and why.
    click(c, Locator::Css("#alert-feed li.alert .alert-name")).await;
    eventually(5, "the silence form", || async {
        text(c, "#alert-feed .silence-labels")
            .await
            .contains("alertname=Watchdog")
    })
    .await;
    c.find(Locator::Css("#alert-feed .silence-comment"))
        .await
        .unwrap()
        .send_keys("known noisy watchdog")
        .await
        .unwrap();
    save(c, dir, "alerts-filtered.png").await;
    click(c, Locator::Css("#alert-feed button.silence")).await;
    eventually(10, "the watchdog held back", || async {
        count(c, "#alert-feed li.alert").await == 0
            && text(c, "#alerts-count").await == "0"
            && text(c, "#alert-held").await.ends_with(" silenced")
    })
    .await;
    click(c, Locator::Css("#alert-held")).await;
    eventually(10, "the silenced watchdog listed", || async {
        text(c, "#alert-feed li.alert.held .held-line")
            .await
            .contains("(known noisy watchdog)")
    })
    .await;
    save(c, dir, "alerts-silenced.png").await;
    // Its detail stays open through the silence; expired from there, it is
    // back in the feed, held by nothing.
    eventually(5, "the expire button", || async {
        count(c, "#alert-feed button.expire-silence").await == 1
    })
    .await;
    click(c, Locator::Css("#alert-feed button.expire-silence")).await;
    eventually(10, "the watchdog back", || async {
        count(c, "#alert-feed li.alert.held").await == 0
            && count(c, "#alert-feed li.alert").await >= 1
            && text(c, "#alerts-count").await != "0"
    })
    .await;
    click(c, Locator::Css("#alert-held")).await;
    // A bad term says why; cleared, the whole feed is back.
    filter.clear().await.unwrap();
    filter.send_keys("pod=~(").await.unwrap();
    eventually(10, "the filter's error", || async {
        text(c, "#alerts-filter-error")
            .await
            .contains("\"pod=~(\" is not a regular expression")
    })
    .await;
    filter.clear().await.unwrap();
    filter.send_keys(" ").await.unwrap();
    eventually(10, "the feed unfiltered", || async {
        count(c, "#alerts-filter-error").await == 0
            && count(c, "#alert-feed li.alert.critical").await >= 1
    })
    .await;

    // "Why?" on one of the engine's findings: steps, a chart, and a mark that sticks.
    eventually(20, "an engine finding in the feed", || async {
        count(c, "#alert-feed li.alert[data-origin='sentinel']").await >= 1
    })
    .await;
    click(
        c,
        Locator::Css("#alert-feed li.alert[data-origin='sentinel'] button.why"),
    )
    .await;
    eventually(10, "the rule trace", || async {
        count(c, "#why-steps li").await >= 4
    })
    .await;
    let steps = text(c, "#why-steps").await;
    assert!(
        steps.contains("Rule ") && steps.contains("Verdict: firing"),
        "{steps}"
    );
    assert!(steps.contains(" → "), "state changes are listed: {steps}");
    assert_eq!(count(c, "#why-panel canvas").await, 1, "the series chart");
    click(c, Locator::Css("#mark-fp")).await;
    eventually(10, "the mark to show", || async {
        text(c, "#why-mark").await.contains("false positive")
    })
    .await;
    assert!(
        text(c, "#why-steps")
            .await
            .contains("Marked false positive by the operator")
    );
    save(c, dir, "why.png").await;
    click(c, Locator::Css("#why-panel .close")).await;
    eventually(10, "the mark in the feed", || async {
        text(c, "#alert-feed").await.contains("false positive")
    })
    .await;
    // An Alertmanager alert explains what can be known of it.
    click(
        c,
        Locator::Css("#alert-feed li.alert[data-origin='alertmanager'] button.why"),
    )
    .await;
    eventually(10, "the external explanation", || async {
        text(c, "#why-steps").await.contains("Alertmanager reports")
    })
    .await;
    assert!(
        !text(c, "#why-panel").await.contains("False positive"),
        "only findings can be marked"
    );
    click(c, Locator::Css("#why-panel .close")).await;

    // Pausing notifications from the status bar shows at once, and resumes.
    click(c, Locator::Css("#pause-notifications")).await;
    eventually(5, "the pause to show", || async {
        text(c, "#status-bar")
            .await
            .contains("notifications paused until")
    })
    .await;
    click(c, Locator::Css("#pause-notifications")).await;
    eventually(5, "the pause to end", || async {
        !text(c, "#status-bar")
            .await
            .contains("notifications paused")
    })
    .await;
}
