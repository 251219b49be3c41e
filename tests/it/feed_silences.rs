//! Silences set from the alert feed in a real Alertmanager
//! (scripts/stack.sh): the alerts they match are held back, shown apart,
//! and back once the silence is expired.

use std::sync::Arc;
use std::time::Duration;

use sentinel_prom::{Alertmanager, Endpoint, Prometheus};
use sentinel_protocol::{AlertQuery, ErrorKind, SilenceArgs, SilenceRef};
use sentinel_runtime::{Runtime, SystemClock};

use crate::silences::{post_alert, within};
use crate::stack::Stack;

/// The feed's own silences: set on one alert in a real Alertmanager, the
/// alert is held back (left out of the feed and the count, shown with who
/// silenced it and why when asked); expired, it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_silenced_from_the_feed_is_held_back_until_the_silence_is_expired() {
    let stack = Stack::shared();
    let name = format!("SentinelFeedSilence{}", std::process::id());
    post_alert(&stack.alertmanager, &name, "web-1");
    let am = Alertmanager::new(Endpoint::new(&stack.alertmanager)).unwrap();
    let prom = Prometheus::new(Endpoint::new(&stack.prometheus)).unwrap();
    let db = crate::support::tempdir("feed-silence").join("h.db");
    let store = sentinel_runtime::Store::open(&db, sentinel_model::Timestamp(0))
        .await
        .unwrap()
        .store;
    let rt = Runtime::builder(Arc::new(SystemClock))
        .live(prom, Some(am.clone()), Duration::from_secs(1))
        .history(store)
        .start();
    let mine = |held: bool| AlertQuery {
        text: Some(format!("alertname={name}")),
        held,
        ..AlertQuery::default()
    };
    let feed = |held: bool| sentinel_service::alerts(&rt.snapshot(), &mine(held)).unwrap();
    within("the alert in the feed", async {
        while feed(false).is_empty() {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await;
    let row = feed(false).remove(0);
    assert!(row.held.is_none());

    let set = |minutes: u32, comment: &str, fp: &str| {
        let args = SilenceArgs {
            fingerprint: fp.to_string(),
            minutes,
            comment: comment.to_string(),
            labels: Vec::new(),
        };
        let rt = &rt;
        async move { sentinel_service::silence_alert(rt, &args, "ana").await }
    };
    let e = set(30, "x", "no-such-alert").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = set(30, " ", &row.fingerprint).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    let before = rt.now();
    let made = set(30, "deploy in progress", &row.fingerprint)
        .await
        .unwrap();
    assert_eq!(made.matching, 1, "{made:?}");
    assert_eq!(made.matchers.len(), row.labels.len());
    let silence = made.silence;
    assert_eq!(silence.by, "ana");
    let until = silence.until.unwrap();
    assert!(
        until.since(before) >= sentinel_model::Duration::from_mins(30),
        "{until:?} from {before:?}"
    );
    // In Alertmanager: active, matching every label exactly.
    let listed = am
        .silences()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id == silence.id)
        .unwrap();
    assert_eq!(listed.state, "active");
    assert_eq!(listed.created_by, "ana");
    assert_eq!(listed.matchers.len(), row.labels.len());
    assert!(
        listed
            .matchers
            .iter()
            .all(|m| !m.is_regex && m.is_equal && row.labels.get(&m.name) == Some(&m.value))
    );

    // Held back at the next poll: out of the feed and the count; shown,
    // with who and why, when asked for.
    let held = within("the alert held back", async {
        loop {
            let rows = feed(true);
            if feed(false).is_empty()
                && let Some(h) = rows.first().and_then(|r| r.held.clone())
                && h.silences.first().is_some_and(|s| !s.by.is_empty())
            {
                return h;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await;
    assert_eq!(held.silences.len(), 1);
    let s = &held.silences[0];
    assert_eq!(
        (s.id.as_str(), s.by.as_str(), s.comment.as_str()),
        (silence.id.as_str(), "ana", "deploy in progress")
    );
    assert_eq!(
        s.until.map(|t| t.millis() / 1000),
        Some(until.millis() / 1000)
    );
    let snap = rt.snapshot();
    assert!(sentinel_service::held_count(&snap) >= 1);
    let why = sentinel_service::explain(&snap, &row.fingerprint).unwrap();
    assert!(
        why.steps
            .iter()
            .any(|l| l.contains("holds it back: silenced by ana until")),
        "{:?}",
        why.steps
    );

    // Expired: back in the feed, not held.
    sentinel_service::expire_silence(
        &rt,
        &SilenceRef {
            id: silence.id.clone(),
        },
        "ana",
    )
    .await
    .unwrap();
    within("the alert back in the feed", async {
        while feed(false).first().is_none_or(|r| r.held.is_some()) {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await;
    let state = am
        .silences()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id == silence.id)
        .map(|s| s.state);
    assert_eq!(state.as_deref(), Some("expired"));

    // Fewer labels: one silence for the same alert on every pod.
    let wide = format!("SentinelFeedSilenceWide{}", std::process::id());
    post_alert(&stack.alertmanager, &wide, "web-2");
    post_alert(&stack.alertmanager, &wide, "web-3");
    let both = |held: bool| {
        let q = AlertQuery {
            text: Some(format!("alertname={wide}")),
            held,
            ..AlertQuery::default()
        };
        sentinel_service::alerts(&rt.snapshot(), &q).unwrap()
    };
    within("both pods' alerts in the feed", async {
        while both(false).len() < 2 {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await;
    let args = SilenceArgs {
        fingerprint: both(false)[0].fingerprint.clone(),
        minutes: 30,
        comment: "rolling restart".into(),
        labels: vec!["alertname".into(), "namespace".into()],
    };
    let made = sentinel_service::silence_alert(&rt, &args, "ana")
        .await
        .unwrap();
    assert_eq!(made.matching, 2);
    assert_eq!(
        made.matchers,
        [
            format!("alertname=\"{wide}\""),
            "namespace=\"ack-test\"".to_string()
        ]
    );
    within("both held back by the one silence", async {
        loop {
            let held = both(true);
            if both(false).is_empty()
                && held.len() == 2
                && held.iter().all(|r| {
                    r.held
                        .as_ref()
                        .is_some_and(|h| h.silences.iter().any(|s| s.id == made.silence.id))
                })
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await;
    sentinel_service::expire_silence(
        &rt,
        &SilenceRef {
            id: made.silence.id.clone(),
        },
        "ana",
    )
    .await
    .unwrap();
    // Both are in the audit log, under the operator.
    rt.shutdown(Duration::from_secs(10)).await;
    let store = sentinel_runtime::Store::open_read_only(&db).await.unwrap();
    let set = store.audit(Some(&row.fingerprint)).await.unwrap();
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!(
        (set[0].actor.as_str(), set[0].action.as_str()),
        ("ana", "silenced")
    );
    assert!(
        set[0].detail.contains(&silence.id) && set[0].detail.contains("deploy in progress"),
        "{}",
        set[0].detail
    );
    let expired = store.audit(Some(&silence.id)).await.unwrap();
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0].action, "unsilenced");

    // Without an Alertmanager there is nowhere to silence.
    let prom = Prometheus::new(Endpoint::new(&stack.prometheus)).unwrap();
    let bare = Runtime::builder(Arc::new(SystemClock))
        .live(prom, None, Duration::from_secs(60))
        .start();
    let args = SilenceArgs {
        fingerprint: row.fingerprint.clone(),
        minutes: 30,
        comment: "x".into(),
        labels: Vec::new(),
    };
    let e = sentinel_service::silence_alert(&bare, &args, "ana")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable);
    assert!(e.message.contains("no Alertmanager"), "{}", e.message);
}
