//! The app started again on its history: a source that reads the same past
//! again (Prometheus does, on every start) gives the new engine the same
//! findings, and the incidents they made stay as they were.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use sentinel_detect::RuleFile;
use sentinel_explain::incident::{Incident, IncidentState};
use sentinel_model::{Duration, SeriesKey, Timestamp};
use sentinel_runtime::{Batch, Clock, Runtime, SourceCtx, Store, SystemClock};

use crate::support::Scripted;

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(StdDuration::from_secs(60), f)
        .await
        .expect("timed out")
}

fn rules() -> RuleFile {
    RuleFile::parse(
        "rules:\n  - name: CartErrors\n    selector: {metric: errors}\n    \
         detector: {kind: threshold, op: \">\", value: 1}\n    severity: critical\n    \
         explain: \"cart errors at {value}\"\n",
    )
    .unwrap()
}

/// Runs until the spell's incident has resolved and the history holds it.
async fn run(db: &std::path::Path, anchor: Timestamp) -> Incident {
    // Reads ten minutes of an error rate from `anchor` on, as a backfill: a
    // spell above the threshold at its start, long over by now. Then polls.
    let past = Scripted {
        name: "prom",
        kind: "prometheus",
        run: move |ctx: SourceCtx| async move {
            let key = SeriesKey::new("errors", [("namespace", "shop"), ("service", "cart")]);
            for k in 0..60 {
                let at = Timestamp(anchor.millis() + k * 10_000);
                let value = if (5..10).contains(&k) { 5.0 } else { 0.0 };
                ctx.send(Batch {
                    at,
                    backfill: true,
                    readings: Some(vec![(key.clone(), at, value)]),
                    ..Batch::default()
                })
                .await;
            }
            loop {
                let at = ctx.clock.now();
                ctx.send(Batch {
                    at,
                    readings: Some(vec![(key.clone(), at, 0.0)]),
                    ..Batch::default()
                })
                .await;
                tokio::time::sleep(StdDuration::from_millis(200)).await;
            }
        },
    };
    let store = Store::open(db, SystemClock.now()).await.unwrap().store;
    let rt = Runtime::builder(Arc::new(SystemClock))
        .rules(rules())
        .history(store)
        .source(past)
        .start();
    let resolved = |s: &sentinel_runtime::Snapshot| {
        s.incidents
            .iter()
            .find(|i| i.title.starts_with("CartErrors") && i.state == IncidentState::Resolved)
            .map(|i| Incident::clone(i))
    };
    // Live for a few ticks, so that anything the backfill opened had its
    // chance to show and resolve.
    let live = within(rt.wait_for(|s| s.sources[0].last_ok.is_some()))
        .await
        .unwrap();
    let snap = within(rt.wait_for(|s| {
        s.at.since(live.at) > Duration(2500) && s.saved_through.is_some_and(|t| t >= live.at)
    }))
    .await
    .unwrap();
    let all: Vec<_> = snap.incidents.iter().map(|i| &i.title).collect();
    assert_eq!(all.len(), 1, "{all:#?}");
    let inc = resolved(&snap).unwrap_or_else(|| panic!("{:#?}", snap.incidents));
    rt.shutdown(StdDuration::from_secs(30)).await;
    inc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_past_read_again_after_a_restart_leaves_its_incident_as_it_was() {
    let dir = crate::support::tempdir("restart");
    let db = dir.join("h.db");
    let anchor = SystemClock.now().saturating_sub(Duration::from_mins(10));
    let first = run(&db, anchor).await;
    // Started again: the backfill reads the same ten minutes.
    let again = run(&db, anchor).await;
    assert_eq!(again.id, first.id);
    assert_eq!(
        again.changes, first.changes,
        "the incident was neither opened nor resolved again"
    );
    assert_eq!(again.members, first.members);
    let store = Store::open_read_only(&db).await.unwrap();
    let stored = store.incident(&first.id).await.unwrap().unwrap();
    let stored: Incident = serde_json::from_str(&stored.body).unwrap();
    assert_eq!(stored.changes, first.changes);
}

/// The demo invents a new past at every start: the last run's incidents stay
/// in the history, and the new run does not continue them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_starts_again_with_its_own_incidents() {
    let dir = crate::support::tempdir("restart-demo");
    let db = dir.join("h.db");
    let rt = crate::support::recording_demo(&db).await;
    let snap = within(rt.wait_for(|s| s.incidents.iter().any(|i| i.state.is_active())))
        .await
        .unwrap();
    let before: Vec<String> = snap.incidents.iter().map(|i| i.id.clone()).collect();
    within(rt.wait_for(|s| s.saved_through.is_some_and(|t| t >= snap.at)))
        .await
        .unwrap();
    rt.shutdown(StdDuration::from_secs(30)).await;

    let rt = crate::support::recording_demo(&db).await;
    let snap = within(rt.wait_for(|s| !s.pods.is_empty() && !s.incidents.is_empty()))
        .await
        .unwrap();
    let carried: Vec<&str> = snap
        .incidents
        .iter()
        .map(|i| i.id.as_str())
        .filter(|id| before.iter().any(|b| b == id))
        .collect();
    assert!(carried.is_empty(), "{carried:?}");
    rt.shutdown(StdDuration::from_secs(30)).await;
    let store = Store::open_read_only(&db).await.unwrap();
    for id in &before {
        assert!(store.incident(id).await.unwrap().is_some(), "{id} kept");
    }
}
