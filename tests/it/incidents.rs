//! Incidents on the demo cluster: correlation, the live analysis with cited
//! evidence, operator actions and their audit trail in the history file.

use std::time::Duration as StdDuration;

use sentinel_model::{Duration, Severity, Timestamp};
use sentinel_protocol::{
    ExportArgs, IncidentAction, IncidentActionArgs, IncidentQuery, IncidentState, ReportFormat,
};
use sentinel_runtime::{DemoConfig, Runtime};
use sentinel_sim::SimConfig;

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(StdDuration::from_secs(60), f)
        .await
        .expect("timed out")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_incidents_are_correlated_explained_and_acted_on() {
    let dir = crate::support::tempdir("incidents");
    let db = dir.join("h.db");
    // Fifteen minutes of history: the bad checkout rollout (OOM kills), the
    // noisy neighbour, and the start of the payments slowdown.
    let rt = crate::support::recording_demo(&db).await;
    let snap = within(rt.wait_for(|s| s.data_at.is_some() && !s.incidents.is_empty()))
        .await
        .unwrap();
    let page = sentinel_service::list_incidents(&snap, &IncidentQuery::default());
    assert!(page.total >= 2, "{page:#?}");
    // One incident per problem: the checkout rollout is one incident holding
    // the rollout, the restarts and the findings on its pods.
    let checkout: Vec<_> = page
        .rows
        .iter()
        .filter(|r| r.title.contains("KubePodCrashLooping on Pod/shop/checkout"))
        .collect();
    assert_eq!(checkout.len(), 1, "{page:#?}");
    let detail = sentinel_service::incident_detail(&snap, &checkout[0].id).unwrap();
    let kinds: Vec<&str> = detail.timeline.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"rollout"), "{kinds:?}");
    assert!(kinds.contains(&"opened"), "{kinds:?}");
    assert!(
        detail.timeline.windows(2).all(|w| w[0].at <= w[1].at),
        "timeline in order"
    );
    assert!(!detail.traces.is_empty(), "each finding's rule trace");
    // The analysis names the OOM kill and cites only evidence it lists.
    let a = detail.analysis.as_ref().unwrap();
    let ids: Vec<&str> = a.evidence.iter().map(|e| e.id.as_str()).collect();
    let top = &a.candidates[0];
    assert_eq!(top.cause, "oom_killed", "{a:#?}");
    for s in a
        .summary
        .iter()
        .chain(a.candidates.iter().flat_map(|c| c.sentences.iter()))
    {
        assert!(!s.cites.is_empty(), "uncited: {}", s.text);
        assert!(s.cites.iter().all(|c| ids.contains(&c.as_str())), "{s:?}");
    }
    // Filters.
    let critical = sentinel_service::list_incidents(
        &snap,
        &IncidentQuery {
            min_severity: Some(Severity::Critical),
            ..Default::default()
        },
    );
    assert!(
        critical
            .rows
            .iter()
            .all(|r| r.severity == Severity::Critical)
    );
    let shop = sentinel_service::list_incidents(
        &snap,
        &IncidentQuery {
            namespace: Some("shop".into()),
            ..Default::default()
        },
    );
    assert!(
        shop.rows
            .iter()
            .all(|r| r.namespaces.contains(&"shop".to_string()))
    );
    assert!(shop.total >= 1);
    let in_cluster = |c: &str| {
        sentinel_service::list_incidents(
            &snap,
            &IncidentQuery {
                cluster: Some(c.into()),
                ..Default::default()
            },
        )
        .total
    };
    assert_eq!(page.clusters, ["demo"]);
    assert_eq!(in_cluster("demo"), page.total);
    assert_eq!(in_cluster("elsewhere"), 0);
    // The time filter keeps what was touched at or after the given time.
    let newest = page.rows.iter().map(|r| r.updated_at).max().unwrap();
    let since = |t: Timestamp| {
        sentinel_service::list_incidents(
            &snap,
            &IncidentQuery {
                since: Some(t),
                ..Default::default()
            },
        )
    };
    let recent = since(newest);
    assert!(recent.total >= 1, "{recent:#?}");
    assert!(recent.rows.iter().all(|r| r.updated_at >= newest));
    assert_eq!(since(Timestamp(newest.0 + 1)).total, 0);

    // The rollout incident: reopen it if it resolved itself during the
    // backfill, acknowledge it (the row says who; a second ack is refused), resolve it.
    let id = checkout[0].id.clone();
    // Depending on where the backfill ended it may still be open.
    let was_resolved = checkout[0].state == IncidentState::Resolved;
    let act = |action| {
        let args = IncidentActionArgs {
            id: id.clone(),
            action,
            note: "rolling back checkout".into(),
        };
        let rt = &rt;
        async move { within(sentinel_service::act_on_incident(rt, &args, "ana")).await }
    };
    if was_resolved {
        assert_eq!(
            act(IncidentAction::Reopen).await.unwrap().state,
            IncidentState::Open
        );
    } else {
        let refused = act(IncidentAction::Reopen).await.unwrap_err();
        assert_eq!(refused.kind, sentinel_protocol::ErrorKind::InvalidArgument);
    }
    let row = act(IncidentAction::Acknowledge).await.unwrap();
    assert_eq!(row.state, IncidentState::Acknowledged);
    assert_eq!(row.acknowledged_by.as_deref(), Some("ana"));
    let again = act(IncidentAction::Acknowledge).await.unwrap_err();
    assert_eq!(again.kind, sentinel_protocol::ErrorKind::InvalidArgument);
    assert!(again.message.contains("acknowledged"), "{again:?}");
    assert_eq!(
        act(IncidentAction::Resolve).await.unwrap().state,
        IncidentState::Resolved
    );
    let missing = IncidentActionArgs {
        id: "inc-00000000".into(),
        action: IncidentAction::Resolve,
        note: String::new(),
    };
    let err = within(sentinel_service::act_on_incident(&rt, &missing, "ana"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, sentinel_protocol::ErrorKind::NotFound);

    // A redacted HTML report: written into the reports folder, with the
    // analysis, the timeline, the traces and their charts; the export is audited.
    let reports = dir.join("reports");
    let export = |redact, patterns: Vec<String>| {
        let args = ExportArgs {
            id: id.clone(),
            format: ReportFormat::Html,
            redact,
            patterns,
        };
        let (rt, reports) = (&rt, &reports);
        async move { within(sentinel_service::export_incident(rt, reports, &args, "ana")).await }
    };
    let bad = export(true, vec!["(unclosed".into()]).await.unwrap_err();
    assert_eq!(bad.kind, sentinel_protocol::ErrorKind::InvalidArgument);
    assert!(bad.message.contains("(unclosed"), "{bad:?}");
    let saved = export(true, vec!["checkout".into()]).await.unwrap();
    assert!(
        saved.path.ends_with(&format!("{id}-redacted.html")),
        "{saved:?}"
    );
    let html = std::fs::read_to_string(&saved.path).unwrap();
    assert_eq!(html.len() as u64, saved.bytes);
    for part in [
        "oom_killed",
        "<h2 id=\"timeline\">",
        "<h2 id=\"traces\">",
        "<svg",
        "Redacted: ",
    ] {
        assert!(html.contains(part), "the report lacks {part:?}");
    }
    if let Some(k) = html.find("checkout") {
        let from = html.floor_char_boundary(k.saturating_sub(200));
        panic!("an operator pattern survived: {}", &html[from..k + 20]);
    }

    // The history holds the incident and the audit trail.
    rt.shutdown(StdDuration::from_secs(10)).await;
    let store = sentinel_runtime::Store::open_read_only(&db).await.unwrap();
    let stored = store.incident(&id).await.unwrap().expect("stored");
    assert_eq!(stored.state, "resolved");
    let audit = store.audit(Some(&id)).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    let expected: &[&str] = if was_resolved {
        &["reopened", "acknowledged", "resolved", "exported"]
    } else {
        &["acknowledged", "resolved", "exported"]
    };
    assert_eq!(actions, expected, "{audit:?}");
    assert!(audit.iter().all(|a| a.actor == "ana"));
    assert_eq!(audit[audit.len() - 2].detail, "rolling back checkout");
    assert!(
        audit.last().unwrap().detail.contains(&saved.path),
        "{audit:?}"
    );
    drop(store);

    // The CLI writes the same incident from the history file, offline, as
    // Markdown; an unknown id names the ones there are.
    let md = dir.join("report.md");
    let out = std::process::Command::new(crate::support::binary("sentinel"))
        .args(["export", &id, "--db"])
        .arg(&db)
        .arg("--out")
        .arg(&md)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&md).unwrap();
    for part in [
        "## Explanation",
        "`oom_killed`",
        "## Timeline",
        "## Rule traces",
        "data:image/svg+xml;base64,",
    ] {
        assert!(text.contains(part), "the Markdown report lacks {part:?}");
    }
    assert!(
        text.contains("| resolved | ana | rolling back checkout |"),
        "the stored lifecycle"
    );
    let out = std::process::Command::new(crate::support::binary("sentinel"))
        .args(["export", "inc-00000000", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no incident inc-00000000") && err.contains(&id),
        "{err}"
    );
}

/// The storm benchmark: 10,000 alerts a minute, at most one notification
/// per group every 30 seconds, and a loop that stays free between polls.
#[test]
fn an_alert_storm_is_rate_limited_per_group() {
    // Many services in few namespaces: new incidents keep opening in every
    // group, so each group would speak on every poll without its bucket.
    let out = std::process::Command::new(crate::support::binary("sentinel"))
        .args([
            "bench",
            "storm",
            "--minutes",
            "1",
            "--namespaces",
            "4",
            "--services",
            "500",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["alerts"], 10_000, "{v}");
    let sent = v["notifications"].as_u64().unwrap();
    assert!(sent >= 1, "{v}");
    // The shared bucket: 3 at once, then one per 10 s.
    assert!(sent <= 3 + 60 / 10, "{v}");
    let closest = v["closest_in_one_group_s"]
        .as_f64()
        .expect("a group spoke twice");
    assert!(closest >= 30.0, "{v}");
    assert!(v["incidents"].as_u64().unwrap() > 100, "{v}");
    assert!(v["held_back"].as_u64().unwrap() > sent, "{v}");
    assert!(v["held_back"].as_u64().unwrap() > 0, "{v}");
    assert!(
        v["largest_incident_members_kept"].as_u64().unwrap() <= 2_000,
        "{v}"
    );
}

/// After a restart the active incidents come back from the history, but their
/// findings are no longer in memory: the report takes their traces from the
/// history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_incident_reports_the_traces_the_history_holds() {
    let dir = crate::support::tempdir("incidents-restored");
    let db = dir.join("h.db");
    let open = || async {
        sentinel_runtime::Store::open(&db, Timestamp(0))
            .await
            .unwrap()
            .store
    };
    let with_findings = |s: &sentinel_runtime::Snapshot| {
        s.incidents
            .iter()
            .find(|i| i.state.is_active() && i.members.iter().any(|m| m.finding_id.is_some()))
            .map(|i| i.id.clone())
    };
    let rt = Runtime::demo(DemoConfig {
        sim: SimConfig { seed: 3, pods: 60 },
        interval: StdDuration::from_millis(200),
        backfill: Duration::from_secs(900),
        ..DemoConfig::default()
    })
    .history(open().await)
    .start();
    let snap = within(rt.wait_for(|s| with_findings(s).is_some()))
        .await
        .unwrap();
    let id = with_findings(&snap).unwrap();
    rt.shutdown(StdDuration::from_secs(30)).await;
    drop(rt);

    // No sources this time: only what the history restores.
    let rt = Runtime::builder(std::sync::Arc::new(sentinel_runtime::SystemClock))
        .history(open().await)
        .start();
    let snap = within(rt.wait_for(|s| s.incidents.iter().any(|i| i.id == id)))
        .await
        .unwrap();
    assert!(
        snap.findings.is_empty(),
        "nothing detected since the restart"
    );
    // The engine that raised its findings is gone: they ended at the
    // restart, so the incident can resolve once its problem is over.
    let restored = snap.incidents.iter().find(|i| i.id == id).unwrap();
    let findings: Vec<_> = restored
        .members
        .iter()
        .filter(|m| m.finding_id.is_some())
        .collect();
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|m| m.ended_at.is_some()),
        "{findings:#?}"
    );
    let args = ExportArgs {
        id: id.clone(),
        format: ReportFormat::Html,
        redact: false,
        patterns: vec![],
    };
    let from_memory = sentinel_service::render_report(&snap, &args, &[]).unwrap();
    assert!(!from_memory.text.contains("Rule traces"));
    let saved = within(sentinel_service::export_incident(
        &rt,
        &dir.join("reports"),
        &args,
        "ana",
    ))
    .await
    .unwrap();
    let html = std::fs::read_to_string(&saved.path).unwrap();
    assert!(
        html.contains("<h2 id=\"traces\">Rule traces</h2>"),
        "{}",
        saved.path
    );
    rt.shutdown(StdDuration::from_secs(10)).await;
}
