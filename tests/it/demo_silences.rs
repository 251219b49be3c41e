//! The demo cluster holds its alerts back as Alertmanager does: silenced
//! from the feed, or by acknowledging their incident, they are reported as
//! suppressed until the silence is expired or the incident resolved.

use std::time::Duration;

use sentinel_model::AlertState;
use sentinel_protocol::{
    AlertQuery, ErrorKind, IncidentAction, IncidentActionArgs, SilenceArgs, SilenceRef,
};
use sentinel_runtime::{Clock, DemoConfig, Runtime, SystemClock};

use crate::demo_causes::wait;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_holds_back_what_is_silenced_from_its_feed_or_by_an_acknowledgement() {
    let dir = crate::support::tempdir("demo-silences");
    let db = dir.join("h.db");
    let store = sentinel_store::Store::open(&db, SystemClock.now())
        .await
        .unwrap()
        .store;
    // 30 s into the dependency slowdown: its alerts are firing.
    let rt = Runtime::demo(DemoConfig {
        live_at_loop_s: 720,
        interval: Duration::from_millis(500),
        ..DemoConfig::default()
    })
    .history(store)
    .start();
    let watchdog = |held: bool| AlertQuery {
        text: Some("alertname=Watchdog".into()),
        held,
        ..AlertQuery::default()
    };
    let feed = |held: bool| sentinel_service::alerts(&rt.snapshot(), &watchdog(held)).unwrap();
    wait(
        &rt,
        30,
        |s| s.alerts.iter().any(|a| a.name() == "Watchdog"),
        "the watchdog",
    )
    .await;
    let row = feed(false).remove(0);
    assert!(row.held.is_none());

    // Silenced from the feed by its name alone, as "ana".
    let args = SilenceArgs {
        fingerprint: row.fingerprint.clone(),
        minutes: 30,
        comment: "known noisy".into(),
        labels: vec!["alertname".into()],
    };
    let set = sentinel_service::silence_alert(&rt, &args, "ana")
        .await
        .unwrap();
    assert_eq!(set.matchers, vec!["alertname=\"Watchdog\"".to_string()]);
    assert_eq!(set.matching, 1);
    let id = set.silence.id.clone();
    let snap = wait(
        &rt,
        10,
        |s| s.alerts.iter().any(|a| a.silenced_by == [id.clone()]),
        "the watchdog held back",
    )
    .await;
    let held = snap.alerts.iter().find(|a| a.name() == "Watchdog").unwrap();
    assert_eq!(held.state, AlertState::Suppressed);
    assert!(feed(false).is_empty(), "out of the feed");
    let shown = feed(true).remove(0).held.expect("shown as held back");
    assert_eq!(shown.silences[0].by, "ana");
    assert_eq!(shown.silences[0].comment, "known noisy");
    assert_eq!(shown.silences[0].until, set.silence.until);

    // Expired: back at the next step; a second expiry is refused as
    // Alertmanager refuses it.
    sentinel_service::expire_silence(&rt, &SilenceRef { id: id.clone() }, "ana")
        .await
        .unwrap();
    wait(
        &rt,
        10,
        |s| {
            s.alerts
                .iter()
                .any(|a| a.name() == "Watchdog" && !a.held_back())
        },
        "the watchdog back",
    )
    .await;
    assert_eq!(feed(false).len(), 1);
    let e = sentinel_service::expire_silence(&rt, &SilenceRef { id }, "ana")
        .await
        .unwrap_err();
    assert!(e.message.contains("already expired"), "{}", e.message);

    // Acknowledged, an open incident's firing alerts are silenced by the
    // operator with the note, and held back until it is resolved.
    let snap = wait(
        &rt,
        60,
        |s| {
            s.incidents.iter().any(|i| {
                i.state == sentinel_explain::incident::IncidentState::Open
                    && i.merged_into.is_none()
                    && sentinel_service::incident_detail(s, &i.id).is_some_and(|d| {
                        d.timeline.iter().any(|e| {
                            e.kind == "alert"
                                && e.ended_at.is_none()
                                && e.fingerprint
                                    .as_ref()
                                    .is_some_and(|f| s.alerts.iter().any(|a| &a.fingerprint == f))
                        })
                    })
            })
        },
        "an open incident with a firing alert",
    )
    .await;
    let inc = snap
        .incidents
        .iter()
        .find(|i| {
            i.state == sentinel_explain::incident::IncidentState::Open && i.merged_into.is_none()
        })
        .unwrap()
        .id
        .clone();
    sentinel_service::act_on_incident(
        &rt,
        &IncidentActionArgs {
            id: inc.clone(),
            action: IncidentAction::Acknowledge,
            note: "on it".into(),
        },
        "bo",
    )
    .await
    .unwrap();
    let snap = wait(
        &rt,
        10,
        |s| {
            s.silences.iter().any(|v| {
                v.incident == inc
                    && v.id.as_ref().is_some_and(|id| {
                        s.alerts.iter().any(|a| {
                            a.fingerprint == v.fingerprint && a.silenced_by == [id.clone()]
                        })
                    })
            })
        },
        "the incident's alert held back",
    )
    .await;
    let view = snap
        .silences
        .iter()
        .find(|v| v.incident == inc)
        .unwrap()
        .clone();
    let note = snap
        .alert_silences
        .iter()
        .find(|n| Some(&n.id) == view.id.as_ref())
        .unwrap();
    assert_eq!(note.created_by, "bo");
    assert_eq!(
        note.comment,
        format!("Acknowledged in Sentinel ({inc}): on it")
    );
    sentinel_service::act_on_incident(
        &rt,
        &IncidentActionArgs {
            id: inc.clone(),
            action: IncidentAction::Resolve,
            note: String::new(),
        },
        "bo",
    )
    .await
    .unwrap();
    wait(
        &rt,
        10,
        |s| {
            s.silences.iter().all(|v| v.incident != inc)
                && s.alerts
                    .iter()
                    .filter(|a| a.fingerprint == view.fingerprint)
                    .all(|a| !a.held_back())
        },
        "the silence expired with the incident resolved",
    )
    .await;

    // Refusals name the demo's Alertmanager.
    let e = sentinel_service::silence_alert(
        &rt,
        &SilenceArgs {
            labels: Vec::new(),
            ..args
        },
        "ana",
    )
    .await
    .map(|_| ())
    .and(
        sentinel_service::expire_silence(
            &rt,
            &SilenceRef {
                id: "demo-9999".into(),
            },
            "ana",
        )
        .await,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{}", e.message);
    assert!(
        e.message.contains("the demo's Alertmanager"),
        "{}",
        e.message
    );

    // The audit log holds both actions on the feed's silence.
    rt.shutdown(Duration::from_secs(30)).await;
    let store = sentinel_runtime::Store::open_read_only(&db).await.unwrap();
    let actions: Vec<String> = store
        .audit(None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| format!("{} {}", r.actor, r.action))
        .collect();
    for want in ["ana silenced", "ana unsilenced"] {
        assert!(actions.iter().any(|a| a == want), "{actions:?}");
    }
}
