//! "Why?" for what the app no longer holds: after a restart, an incident's
//! old findings and alerts are explained from the history file.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use sentinel_detect::RuleFile;
use sentinel_model::{Mark, SeriesKey, Severity};
use sentinel_protocol::{AlertOrigin, AlertRef, ErrorKind, MarkArgs};
use sentinel_runtime::{Batch, Clock, Runtime, SourceCtx, SystemClock};
use sentinel_store::Store;

use crate::support::Scripted;

/// The explanation's steps say the operator marked it so.
fn assert_marked(e: &sentinel_protocol::Explanation, mark: &str) {
    let said = format!("Marked {mark} by the operator");
    assert!(
        e.steps.iter().any(|s| s.starts_with(&said)),
        "{:?}",
        e.steps
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn why_reads_what_the_app_no_longer_holds_from_the_history() {
    let dir = crate::support::tempdir("why-history");
    let db = dir.join("why.db");

    // Record the demo until it has a finding and a warning alert; mark the
    // finding.
    let rt = crate::support::recording_demo(&db).await;
    let snap = tokio::time::timeout(
        StdDuration::from_secs(60),
        rt.wait_for(|s| {
            !s.findings.is_empty() && s.alerts.iter().any(|a| a.severity() >= Severity::Warning)
        }),
    )
    .await
    .unwrap()
    .unwrap();
    let finding = snap.findings[0].clone();
    let alert = snap
        .alerts
        .iter()
        .find(|a| a.severity() >= Severity::Warning)
        .unwrap()
        .clone();
    assert!(
        rt.mark_finding(finding.id.clone(), Mark::FalsePositive)
            .await
            .unwrap()
            .is_some()
    );
    // While held, the answer is the live one.
    let live = sentinel_service::explain_ref(&rt, &AlertRef::new(finding.id.clone()))
        .await
        .unwrap();
    assert!(!live.from_history);
    rt.shutdown(StdDuration::from_secs(30)).await;

    // The app starts again on the same history, with nothing live yet.
    let store = Store::open(&db, SystemClock.now()).await.unwrap().store;
    let rt = Runtime::builder(Arc::new(SystemClock))
        .history(store)
        .start();
    let snap = rt.snapshot();
    assert!(sentinel_service::explain(&snap, &finding.id).is_none());
    assert!(sentinel_service::explain(&snap, &alert.fingerprint).is_none());

    // The finding: its trace as recorded, with the operator's mark.
    let e = sentinel_service::explain_ref(&rt, &AlertRef::new(finding.id.clone()))
        .await
        .unwrap();
    assert!(e.from_history);
    assert_eq!(e.origin, AlertOrigin::Engine);
    assert_eq!(e.title, format!("{} on {}", finding.rule, finding.series));
    assert_eq!(e.mark, Some(Mark::FalsePositive));
    let trace = e.trace.as_ref().expect("the recorded trace");
    assert_eq!(trace.rule, finding.trace.rule);
    assert_eq!(trace.transitions[0], finding.trace.transitions[0]);
    assert!(
        e.steps.iter().any(|s| s.starts_with("Rule ")),
        "{:?}",
        e.steps
    );
    assert_marked(&e, "false positive");

    // It can still be marked: the verdict goes to the history.
    let args = MarkArgs {
        fingerprint: finding.id.clone(),
        mark: Mark::Confirmed,
    };
    let e = sentinel_service::mark_finding(&rt, &args).await.unwrap();
    assert!(e.from_history);
    assert_eq!(e.mark, Some(Mark::Confirmed));
    assert_marked(&e, "confirmed");

    // The alert: the firing that started when the incident's member did.
    let since = Some(alert.starts_at);
    let e = sentinel_service::explain_ref(
        &rt,
        &AlertRef {
            fingerprint: alert.fingerprint.clone(),
            since,
        },
    )
    .await
    .unwrap();
    assert!(e.from_history && e.trace.is_none() && e.mark.is_none());
    assert_eq!(e.origin, AlertOrigin::Alertmanager);
    assert_eq!(e.title, alert.name());
    assert_eq!(e.severity, alert.severity());
    assert!(
        e.steps[0].starts_with(&format!(
            "Alertmanager reported {} as firing since {}",
            alert.name(),
            alert.starts_at.to_rfc3339()
        )),
        "{:?}",
        e.steps
    );
    assert!(
        e.steps
            .iter()
            .any(|s| s.contains(&format!("alertname=\"{}\"", alert.name()))),
        "{:?}",
        e.steps
    );

    // Unknown to both: a clear error.
    let err = sentinel_service::explain_ref(&rt, &AlertRef::new("no-such-alert"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(
        err.message.contains("not in the history"),
        "{}",
        err.message
    );
    // Marking what the history does not hold either is refused.
    let args = MarkArgs {
        fingerprint: "no-such-finding".into(),
        mark: Mark::Confirmed,
    };
    let err = sentinel_service::mark_finding(&rt, &args)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    rt.shutdown(StdDuration::from_secs(30)).await;

    // The verdict was kept: the history has it, and so does the next look.
    let store = Store::open_read_only(&db).await.unwrap();
    assert_eq!(
        store.marks().await.unwrap()[&finding.id].mark,
        Mark::Confirmed
    );
    let again = store
        .latest_findings(std::slice::from_ref(&finding.id))
        .await
        .unwrap();
    assert_eq!(again[0].mark().map(|m| m.mark), Some(Mark::Confirmed));

    // Without a history there is nowhere to look.
    let rt = Runtime::builder(Arc::new(SystemClock)).start();
    let err = sentinel_service::explain_ref(&rt, &AlertRef::new(finding.id.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.message.contains("no history"), "{}", err.message);
    rt.shutdown(StdDuration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_resolved_finding_the_engine_still_holds_is_explained_and_marked() {
    // Sixty series above 1, then below: sixty findings fire and resolve in
    // two polls, more than the app's picture keeps resolved (50).
    let flapping = Scripted {
        name: "flapping",
        kind: "prometheus",
        run: |ctx: SourceCtx| async move {
            for value in [2.0, 0.0] {
                let at = ctx.clock.now();
                let readings = (0..60)
                    .map(|i| {
                        let i = i.to_string();
                        (SeriesKey::new("flap", [("i", i.as_str())]), at, value)
                    })
                    .collect();
                ctx.send(Batch {
                    at,
                    readings: Some(readings),
                    ..Batch::default()
                })
                .await;
                tokio::time::sleep(StdDuration::from_millis(200)).await;
            }
            std::future::pending::<()>().await;
        },
    };
    let dir = crate::support::tempdir("why-older");
    let db = dir.join("older.db");
    let store = Store::open(&db, SystemClock.now()).await.unwrap().store;
    let rules = RuleFile::parse(
        "rules:\n  - name: Flap\n    selector: {metric: flap}\n    \
         detector: {kind: threshold, op: \">\", value: 1}\n    severity: warning\n    \
         explain: \"flap {i} is {value}\"\n",
    )
    .unwrap();
    let rt = Runtime::builder(Arc::new(SystemClock))
        .rules(rules)
        .history(store)
        .source(flapping)
        .start();
    // All sixty resolved, and the history has written them.
    let snap = tokio::time::timeout(
        StdDuration::from_secs(30),
        rt.wait_for(|s| {
            let resolved = s
                .findings
                .iter()
                .filter(|f| f.resolved_at.is_some())
                .count();
            resolved == 50 && s.saved_through.is_some_and(|t| Some(t) >= s.data_at)
        }),
    )
    .await
    .unwrap()
    .unwrap();
    let shown: Vec<&str> = snap.findings.iter().map(|f| f.id.as_str()).collect();
    let store = Store::open_read_only(&db).await.unwrap();
    let older = store
        .reported_findings()
        .await
        .unwrap()
        .into_iter()
        .find(|f| !shown.contains(&f.id.as_str()))
        .expect("a resolved finding the picture no longer shows");

    let e = sentinel_service::explain_ref(&rt, &AlertRef::new(older.id.clone()))
        .await
        .unwrap();
    assert!(e.from_history);
    assert_eq!(e.state, "resolved");
    // The engine still holds it: the mark is the engine's, and is answered.
    let args = MarkArgs {
        fingerprint: older.id.clone(),
        mark: Mark::FalsePositive,
    };
    let e = sentinel_service::mark_finding(&rt, &args).await.unwrap();
    assert_eq!(e.mark, Some(Mark::FalsePositive));
    assert_marked(&e, "false positive");
    rt.shutdown(StdDuration::from_secs(30)).await;
    let store = Store::open_read_only(&db).await.unwrap();
    assert_eq!(
        store.marks().await.unwrap()[&older.id].mark,
        Mark::FalsePositive
    );
}
