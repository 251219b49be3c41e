//! Container logs from Loki: history over HTTP, a live tail over the
//! WebSocket (against the fake Loki), what Loki dropped counted, a tail that
//! Loki closes resumed without repeating a line, refused credentials and
//! oversized messages named.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use sentinel_model::Secret;
use sentinel_prom::{Auth, Endpoint, Loki};
use sentinel_protocol::{LogPage, LogQuery, LogSourceChoice};
use sentinel_runtime::{Clock, Runtime, SystemClock};

use crate::fakeloki::FakeLoki;

fn runtime(url: &str, token: &str) -> Runtime {
    let mut e = Endpoint::new(url);
    e.auth = Auth::Bearer(Secret::new(token));
    e.timeout = StdDuration::from_secs(5);
    Runtime::builder(Arc::new(SystemClock))
        .loki(Loki::new(e).unwrap())
        .start()
}

fn query(follow: bool, after: u64) -> LogQuery {
    LogQuery {
        namespace: "shop".into(),
        pod: "checkout-1".into(),
        container: Some("app".into()),
        tail: 50,
        follow,
        after,
        source: LogSourceChoice::Auto,
    }
}

/// Follows until `done` holds for everything read so far.
async fn follow_until(
    rt: &Runtime,
    cursor: &mut u64,
    seen: &mut Vec<String>,
    done: impl Fn(&[String], &LogPage) -> bool,
) -> LogPage {
    let until = tokio::time::Instant::now() + StdDuration::from_secs(20);
    loop {
        let page = sentinel_service::pod_logs(rt, &query(true, *cursor))
            .await
            .unwrap();
        seen.extend(page.lines.iter().map(|l| l.text.clone()));
        *cursor = page.next;
        if done(seen, &page) {
            return page;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "follow: {seen:?} {page:?}"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

fn now_ns() -> i128 {
    i128::from(SystemClock.now().millis()) * 1_000_000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loki_history_and_live_tail_reach_the_log_view() {
    let loki = FakeLoki::start("l0ki").await;
    let t0 = now_ns() - 60_000_000_000;
    for i in 0..3 {
        loki.add(t0 + i, "checkout-1", &format!("GET /cart {i}"));
    }
    loki.add(t0, "other-pod", "not this one");
    let rt = runtime(&loki.url, "l0ki");

    // The last lines, over HTTP.
    let page = sentinel_service::pod_logs(&rt, &query(false, 0))
        .await
        .unwrap();
    assert_eq!(page.source, "loki");
    let lines: Vec<&str> = page.lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(lines, ["GET /cart 0", "GET /cart 1", "GET /cart 2"]);

    // Follow: the history first, then what is pushed, with Loki's drops counted.
    let (mut cursor, mut seen) = (0, Vec::new());
    follow_until(&rt, &mut cursor, &mut seen, |s, _| s.len() >= 3).await;
    let t1 = now_ns();
    // Two lines may share a timestamp; both are kept.
    loki.push(
        "checkout-1",
        &[
            (t1, "POST /pay 500"),
            (t1 + 1, "panic: boom"),
            (t1 + 1, "goroutine 1 [running]"),
        ],
        4,
    );
    let page = follow_until(&rt, &mut cursor, &mut seen, |s, _| s.len() >= 6).await;
    assert_eq!(
        &seen[3..],
        ["POST /pay 500", "panic: boom", "goroutine 1 [running]"]
    );
    assert_eq!(page.upstream_dropped, 4);
    assert!(page.ended.is_none());

    // Loki closes the tail: the follow reconnects from the last line's time
    // and skips what it already has there, so nothing repeats.
    loki.close_tails();
    let until = tokio::time::Instant::now() + StdDuration::from_secs(20);
    while loki.tails().len() < 2 {
        assert!(tokio::time::Instant::now() < until, "no reconnect");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let resumed = &loki.tails()[1];
    let start: i128 = url::form_urlencoded::parse(resumed.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "start")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    assert_eq!(start, t1 + 1, "resumed from the last line seen");
    loki.push("checkout-1", &[(t1 + 2, "after the restart")], 0);
    follow_until(&rt, &mut cursor, &mut seen, |s, _| s.len() >= 7).await;
    for line in ["panic: boom", "goroutine 1 [running]"] {
        assert_eq!(
            seen.iter().filter(|l| l.as_str() == line).count(),
            1,
            "{seen:?}"
        );
    }
    assert_eq!(seen.last().map(String::as_str), Some("after the restart"));

    // A message larger than the limit is refused, not read into memory;
    // the follow says so and comes back.
    loki.push_raw(format!(
        r#"{{"streams":[{{"stream":{{}},"values":[["{}","{}"]]}}]}}"#,
        t1 + 3,
        "x".repeat(sentinel_prom::loki::MAX_MESSAGE + 10)
    ));
    follow_until(&rt, &mut cursor, &mut seen, |_, p| {
        p.notice
            .as_deref()
            .is_some_and(|n| n.contains("larger than"))
    })
    .await;
    let tails = loki.tails().len();
    let until = tokio::time::Instant::now() + StdDuration::from_secs(20);
    while loki.tails().len() <= tails {
        assert!(
            tokio::time::Instant::now() < until,
            "no reconnect after the big message"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    rt.shutdown(StdDuration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_and_a_missing_loki_are_named() {
    let loki = FakeLoki::start("l0ki").await;
    let rt = runtime(&loki.url, "wrong");
    let err = sentinel_service::pod_logs(&rt, &query(false, 0))
        .await
        .unwrap_err();
    assert!(err.message.contains("refused the credentials"), "{err:?}");
    let page = sentinel_service::pod_logs(&rt, &query(true, 0))
        .await
        .unwrap();
    let mut ended = page.ended;
    let until = tokio::time::Instant::now() + StdDuration::from_secs(10);
    while ended.is_none() {
        assert!(
            tokio::time::Instant::now() < until,
            "the follow did not end"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
        ended = sentinel_service::pod_logs(&rt, &query(true, 0))
            .await
            .unwrap()
            .ended;
    }
    assert!(ended.unwrap().contains("refused the credentials"));
    rt.shutdown(StdDuration::from_secs(5)).await;

    // Asking for Loki when there is none, or for the API server without a context.
    let rt = Runtime::builder(Arc::new(SystemClock)).start();
    let err = sentinel_service::pod_logs(&rt, &query(false, 0))
        .await
        .unwrap_err();
    assert!(err.message.contains("Kubernetes or a Loki"), "{err:?}");
    rt.shutdown(StdDuration::from_secs(5)).await;
    let rt = runtime(&loki.url, "l0ki");
    let q = LogQuery {
        source: LogSourceChoice::Kubernetes,
        ..query(false, 0)
    };
    let err = sentinel_service::pod_logs(&rt, &q).await.unwrap_err();
    assert!(err.message.contains("need a Kubernetes context"), "{err:?}");

    // "Test connection" on the right and the wrong token.
    let mut e = Endpoint::new(&loki.url);
    e.auth = Auth::Bearer(Secret::new("l0ki"));
    let r = sentinel_service::test_loki(&Loki::new(e).unwrap()).await;
    assert!(r.ok, "{r:?}");
    let mut e = Endpoint::new(&loki.url);
    e.auth = Auth::Bearer(Secret::new("nope"));
    let r = sentinel_service::test_loki(&Loki::new(e).unwrap()).await;
    assert!(
        !r.ok && r.checks[0].detail.contains("refused the credentials"),
        "{r:?}"
    );
    rt.shutdown(StdDuration::from_secs(5)).await;
}
