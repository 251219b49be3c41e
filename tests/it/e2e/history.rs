//! The History page: a bundle, retention, trends, and replays (the whole
//! file, an incident, the last 15 minutes) with the scrubber and the state
//! as of then.

use fantoccini::Locator;

use super::Session;
use super::driver::{click, count, eventually, save, text};

pub(super) async fn run(s: &Session<'_>) {
    let (c, dir) = (s.c, s.dir);
    // History: the incidents the file holds; one written as a redacted bundle.
    click(c, Locator::Css("#tab-history")).await;
    eventually(20, "stored incidents", || async {
        count(c, "#history-table tr.stored-incident").await >= 1
    })
    .await;
    click(c, Locator::Css("#history-table tr.stored-incident .bundle")).await;
    eventually(20, "the bundle", || async {
        let said = text(c, "#bundle-said").await;
        said.starts_with("Saved") && said.contains("identifiers redacted")
    })
    .await;
    // Retention: what the file takes, and a shorter raw retention kept.
    eventually(10, "the history's usage", || async {
        text(c, "#retention-usage").await.starts_with("Using ")
    })
    .await;
    let raw = c.find(Locator::Css("#retention-raw")).await.unwrap();
    raw.clear().await.unwrap();
    raw.send_keys("3").await.unwrap();
    click(c, Locator::Css("#retention-save")).await;
    eventually(10, "the retention saved", || async {
        text(c, "#retention-said").await.starts_with("Saved")
    })
    .await;
    // Trends over days, from what the history keeps.
    eventually(10, "the CPU trend", || async {
        count(c, "#trend-chart polyline").await == 1
            && text(c, "#trend-note").await.contains("raw samples")
    })
    .await;
    click(c, Locator::Css("#replay-open")).await;
    eventually(20, "the offline replay", || async {
        text(c, "#replay-summary").await.starts_with("Replayed")
    })
    .await;
    save(c, dir, "history.png").await;
    // The status bar says Replay; live sources record on in the background.
    eventually(10, "Replay mode in the status bar", || async {
        text(c, "#status-mode").await == "Replay"
            && text(c, "#status-replay")
                .await
                .contains("recording in the background")
    })
    .await;
    // Watch it again: the recorded charts, and play moves the scrub time.
    assert_eq!(count(c, "#replay-view .replay-chart").await, 5);
    assert!(count(c, ".replay-others .replay-mark.mark-incident").await >= 1);
    assert!(count(c, ".replay-others .replay-mark.mark-alert").await >= 1);
    c.execute(
        "document.querySelector('#replay-view').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    save(c, dir, "replay-scrubber.png").await;
    let start = text(c, "#replay-time").await;
    click(c, Locator::Css("#replay-play")).await;
    eventually(10, "the replay to play", || async {
        text(c, "#replay-time").await != start
    })
    .await;
    click(c, Locator::Css("#replay-play")).await;
    // Scrub to the end: the incidents of the recording are open by then.
    c.execute(
        "const s = document.querySelector('#replay-scrubber'); s.value = s.max; s.dispatchEvent(new Event('input'));",
        vec![],
    )
    .await
    .unwrap();
    eventually(10, "incidents at the end", || async {
        count(c, "#replay-incidents li").await >= 1
    })
    .await;
    // As of then: the pods table and the alert feed from the recording, and
    // a finding's Why as its trace stood then.
    eventually(10, "the pods then", || async {
        count(c, "#replay-pods tr.replay-pod").await >= 1
            && text(c, "#replay-pods-head")
                .await
                .split_once(" pods, ")
                .is_some_and(|(n, rest)| {
                    n.parse::<usize>().is_ok_and(|n| n >= 40) && rest.contains(" nodes")
                })
    })
    .await;
    // Each node then, as the head counts them, with whether it was ready.
    let head = text(c, "#replay-pods-head").await;
    let nodes: usize = head
        .split_once(" pods, ")
        .and_then(|(_, rest)| rest.split(' ').next()?.parse().ok())
        .unwrap_or(0);
    assert!(nodes >= 1, "{head}");
    assert_eq!(
        count(c, "#replay-nodes li.replay-node").await,
        nodes,
        "{head}"
    );
    assert!(
        text(c, "#replay-nodes").await.contains("Ready · "),
        "{}",
        text(c, "#replay-nodes").await
    );
    eventually(10, "findings firing then", || async {
        count(c, "#replay-firing li[data-origin=engine]").await >= 1
    })
    .await;
    click(c, Locator::Css("#replay-firing li[data-origin=engine]")).await;
    eventually(10, "the Why of then", || async {
        let why = text(c, "#replay-why").await;
        why.starts_with("Why: ") && why.contains("firing then")
    })
    .await;
    // Paused live sources, said in the status bar; closing the replay
    // leaves Replay mode and lets them go on.
    click(c, Locator::Css("#replay-pause-live")).await;
    eventually(10, "live sources paused", || async {
        text(c, "#status-replay")
            .await
            .contains("live sources paused")
    })
    .await;
    c.execute(
        "document.querySelector('.replay-moment').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    save(c, dir, "replay.png").await;
    click(c, Locator::Css("#replay-close")).await;
    eventually(10, "Demo mode again", || async {
        text(c, "#status-mode").await == "Demo" && count(c, "#status-replay").await == 0
    })
    .await;
    // An incident of this history replayed straight from its row, then the
    // last 15 minutes.
    c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    click(
        c,
        Locator::Css("#history-table tr.stored-incident .replay-incident"),
    )
    .await;
    eventually(20, "the incident's replay", || async {
        let s = text(c, "#replay-summary").await;
        s.starts_with("Replayed") && s.contains("/replays/inc-")
    })
    .await;
    c.find(Locator::Css("#replay-last option[value='15']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(c, Locator::Css("#replay-range")).await;
    eventually(20, "the range's replay", || async {
        let s = text(c, "#replay-summary").await;
        s.starts_with("Replayed") && s.contains("/replays/range-")
    })
    .await;
    click(c, Locator::Css("#replay-close")).await;
}
