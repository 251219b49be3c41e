//! The History page's commands on Tauri's mock runtime: the incidents the
//! history file holds, and one of them written as a redacted bundle that
//! replays offline; the audit log says who exported it.

use std::time::Duration as StdDuration;

use sentinel_app::{AppState, BackendOptions};
use sentinel_protocol::{BundleIncident, BundleRequest, ErrorKind, HistoryQuery, ListHistory};
use sentinel_runtime::DemoConfig;
use sentinel_sim::SimConfig;
use tauri::Manager;

use crate::ipc::call;

#[test]
fn stored_incidents_are_listed_and_bundled() {
    let dir = crate::support::tempdir("history-page");
    let backend = BackendOptions {
        demo: DemoConfig {
            sim: SimConfig { seed: 5, pods: 40 },
            interval: StdDuration::from_millis(500),
            ..DemoConfig::default()
        },
        history: Some(dir.join("history.db")),
        reports: Some(dir.join("reports")),
        ..BackendOptions::default()
    };
    let (app, w) = crate::ipc::mock_app(backend);
    let state = app.state::<AppState>();

    // The demo's incidents reach the file (the writer commits every second).
    let deadline = std::time::Instant::now() + StdDuration::from_secs(60);
    let page = loop {
        let p = call::<ListHistory>(&w, &HistoryQuery::default()).unwrap();
        if !p.rows.is_empty() {
            break p;
        }
        assert!(std::time::Instant::now() < deadline, "no stored incident");
        std::thread::sleep(StdDuration::from_millis(200));
    };
    assert!(page.recorded);
    assert!(
        page.file.unwrap().ends_with("history.demo.db"),
        "the demo keeps its own file"
    );
    let first = &page.rows[0];
    assert!(!first.title.is_empty() && first.opened_at <= first.updated_at);
    let err = call::<ListHistory>(
        &w,
        &HistoryQuery {
            limit: Some(0),
            ..HistoryQuery::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);

    // The incident may be stored from the start-up backfill before the
    // source's first live answer is: wait for that, so the bundle names it.
    tauri::async_runtime::block_on(async {
        let rt = state.runtime();
        let store = rt.history().unwrap();
        for _ in 0..100 {
            if !store.sources().await.unwrap().is_empty() {
                return;
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
        panic!("the demo source is not in the history");
    });

    // A redacted bundle of it, written beside the reports, replays offline.
    let b = call::<BundleIncident>(
        &w,
        &BundleRequest {
            id: first.id.clone(),
            redact: true,
            patterns: vec![],
        },
    )
    .unwrap();
    assert!(b.path.contains("reports/bundles/"), "{}", b.path);
    assert!(b.series > 0 && b.redacted.is_some_and(|n| n > 0), "{b:?}");
    let steps = tauri::async_runtime::block_on(async {
        let store = sentinel_store::Store::open_read_only(&b.path)
            .await
            .unwrap();
        let mut replay =
            sentinel_runtime::replay::Replay::open(&store, sentinel_detect::default_pack())
                .await
                .unwrap();
        let mut steps = 0;
        while replay.step().await.unwrap().is_some() {
            steps += 1;
        }
        steps
    });
    assert!(steps > 10, "{steps} steps");
    // The app replays it too, offline, read-only.
    let r = call::<sentinel_protocol::ReplayFile>(
        &w,
        &sentinel_protocol::ReplayRequest {
            path: b.path.clone(),
        },
    )
    .unwrap();
    assert_eq!(r.steps, steps as u64);
    assert_eq!(
        r.sources,
        ["demo/demo (demo)"],
        "where it was recorded from"
    );
    assert!(r.readings > 0 && r.from <= r.to);
    // Markers for the scrubber: the incident opened, alerts that fired.
    let kinds = |k: &str| r.markers.iter().filter(|m| m.kind == k).count();
    assert!(kinds("incident") >= 1, "{:?}", r.markers);
    assert!(
        r.markers
            .iter()
            .any(|m| m.kind == "alert" && m.label == "Watchdog fired"),
        "{:?}",
        r.markers
    );
    assert!(r.markers.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(
        r.incidents.iter().any(|i| i.id == first.id),
        "{:?}",
        r.incidents
    );
    assert_eq!(
        r.findings.len(),
        r.findings_total.min(sentinel_protocol::REPLAY_FINDINGS)
    );
    // Any moment of it: the pods, nodes, alerts and findings then, each
    // firing finding with its Why as it stood then.
    let state_at = |at: sentinel_model::Timestamp| {
        call::<sentinel_protocol::ReplayState>(
            &w,
            &sentinel_protocol::ReplayAt {
                path: b.path.clone(),
                at,
            },
        )
        .unwrap()
    };
    let end = state_at(r.to.unwrap());
    assert!(end.objects_recorded);
    // The demo's 40 pods, and any a rollout has surged in at that moment.
    assert!((40..=46).contains(&end.pods_total), "{}", end.pods_total);
    assert!(!end.nodes.is_empty());
    assert!(end.pods.len() <= sentinel_protocol::REPLAY_PODS);
    let engine_rows: Vec<_> = end
        .alerts
        .iter()
        .filter(|a| a.origin == sentinel_protocol::AlertOrigin::Engine)
        .collect();
    assert!(!engine_rows.is_empty(), "{:?}", end.alerts);
    for row in &engine_rows {
        let e = end
            .explanations
            .iter()
            .find(|e| e.fingerprint == row.fingerprint)
            .expect("a Why for each firing finding");
        assert!(e.trace.is_some() && !e.steps.is_empty());
        assert!(
            e.trace
                .as_ref()
                .unwrap()
                .transitions
                .iter()
                .all(|t| t.at <= end.at)
        );
    }
    // Before the first finding fired, none was firing.
    let first_fired = r
        .findings
        .iter()
        .filter(|f| f.state == "firing")
        .map(|f| f.at)
        .min()
        .unwrap();
    let before = state_at(first_fired.saturating_sub(sentinel_model::Duration::from_secs(1)));
    assert!(
        before
            .alerts
            .iter()
            .all(|a| a.origin != sentinel_protocol::AlertOrigin::Engine),
        "{:?}",
        before.alerts
    );
    let err = call::<sentinel_protocol::ReplayState>(
        &w,
        &sentinel_protocol::ReplayAt {
            path: dir.join("nothing.db").display().to_string(),
            at: r.to.unwrap(),
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    let err = call::<sentinel_protocol::ReplayFile>(
        &w,
        &sentinel_protocol::ReplayRequest {
            path: dir.join("nothing.db").display().to_string(),
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert!(err.message.contains("no such file"), "{}", err.message);
    let err = call::<BundleIncident>(
        &w,
        &BundleRequest {
            id: "inc-nope".into(),
            redact: false,
            patterns: vec![],
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);

    // Part of the app's own history, replayed: an incident, then a range.
    use sentinel_protocol::{ReplayHistory, ReplayRange};
    let inc = call::<ReplayHistory>(
        &w,
        &ReplayRange {
            incident: Some(first.id.clone()),
            ..ReplayRange::default()
        },
    )
    .unwrap();
    assert!(inc.path.contains("reports/replays/"), "{}", inc.path);
    assert!(inc.incidents.iter().any(|i| i.id == first.id));
    assert!(
        inc.readings > 0
            && inc.from
                >= Some(
                    first
                        .opened_at
                        .saturating_sub(sentinel_model::Duration::from_mins(16))
                )
    );
    let to = inc.to.unwrap();
    let range = |from, to| {
        call::<ReplayHistory>(
            &w,
            &ReplayRange {
                incident: None,
                from: Some(from),
                to: Some(to),
            },
        )
    };
    let last = range(
        to.saturating_sub(sentinel_model::Duration::from_mins(5)),
        to,
    )
    .unwrap();
    // Whole chunks that overlap the range come along (the engine warms up
    // on them), so it covers at least the range.
    assert!(last.readings > 0);
    assert!(last.from <= Some(to.saturating_sub(sentinel_model::Duration::from_mins(5))));
    assert!(last.to <= Some(to));
    // The moment view reads the replay's own file.
    assert!(state_at(to).objects_recorded);
    assert_eq!(range(to, to).unwrap_err().kind, ErrorKind::InvalidArgument);
    assert_eq!(
        call::<ReplayHistory>(&w, &ReplayRange::default())
            .unwrap_err()
            .kind,
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        call::<ReplayHistory>(
            &w,
            &ReplayRange {
                incident: Some("inc-nope".into()),
                ..ReplayRange::default()
            },
        )
        .unwrap_err()
        .kind,
        ErrorKind::NotFound
    );
    // Only the newest few replays stay on disk.
    for _ in 0..5 {
        range(
            to.saturating_sub(sentinel_model::Duration::from_mins(1)),
            to,
        )
        .unwrap();
    }
    let names: Vec<String> = std::fs::read_dir(dir.join("reports/replays"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let kept = names.iter().filter(|n| n.ends_with(".sentinel.db")).count();
    assert_eq!(kept, 5, "replays kept: {names:?}");
    // No WAL or shared-memory file outlives its replay.
    for n in &names {
        let main = n.trim_end_matches("-wal").trim_end_matches("-shm");
        assert!(names.iter().any(|m| m == main), "{n} without its file");
    }

    // The export is in the audit log.
    let audited = tauri::async_runtime::block_on(async {
        let rt = state.runtime();
        let store = rt.history().unwrap();
        // The writer commits within a second.
        for _ in 0..50 {
            let rows = store.audit(Some(&first.id)).await.unwrap();
            if rows.iter().any(|r| r.detail.starts_with("bundle ")) {
                return true;
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
        false
    });
    assert!(audited, "the bundle export is not in the audit log");
    for (_, rt) in &state.fleet().clusters {
        tauri::async_runtime::block_on(rt.shutdown(StdDuration::from_secs(5)));
    }
}

#[test]
fn retention_is_shown_with_usage_and_kept_when_changed() {
    use sentinel_protocol::{GetRetention, NoArgs, RetentionSettings, SetRetention};
    let dir = crate::support::tempdir("history-retention");
    let backend = BackendOptions {
        demo: DemoConfig {
            sim: SimConfig { seed: 6, pods: 20 },
            interval: StdDuration::from_millis(500),
            ..DemoConfig::default()
        },
        history: Some(dir.join("history.db")),
        ..BackendOptions::default()
    };
    let (app, w) = crate::ipc::mock_app(backend);
    let state = app.state::<AppState>();
    // The defaults, and the samples the demo's backfill wrote.
    let deadline = std::time::Instant::now() + StdDuration::from_secs(60);
    let view = loop {
        let v = call::<GetRetention>(&w, &NoArgs {}).unwrap();
        if v.usage.raw_bytes > 0 {
            break v;
        }
        assert!(std::time::Instant::now() < deadline, "nothing recorded");
        std::thread::sleep(StdDuration::from_millis(200));
    };
    assert_eq!(
        view.settings,
        RetentionSettings {
            raw_days: 7,
            rollup_days: 90,
            budget_mib: 2048
        }
    );
    assert!(view.file.ends_with("history.demo.db"));
    let u = &view.usage;
    assert!(
        u.file_bytes >= u.used_bytes && u.used_bytes > u.raw_bytes,
        "{u:?}"
    );
    assert!(u.oldest_raw < u.newest_raw);

    let err = call::<SetRetention>(
        &w,
        &RetentionSettings {
            raw_days: 30,
            rollup_days: 10,
            budget_mib: 2048,
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert!(
        err.message.contains("rollups must be kept"),
        "{}",
        err.message
    );

    let mine = RetentionSettings {
        raw_days: 2,
        rollup_days: 30,
        budget_mib: 512,
    };
    let kept = call::<SetRetention>(&w, &mine).unwrap();
    assert_eq!(kept.settings, mine);
    assert_eq!(call::<GetRetention>(&w, &NoArgs {}).unwrap().settings, mine);
    let audited = tauri::async_runtime::block_on(async {
        let rt = state.runtime();
        let store = rt.history().unwrap();
        for _ in 0..50 {
            let rows = store.audit(Some("history")).await.unwrap();
            if rows
                .iter()
                .any(|r| r.action == "retention" && r.detail.contains("raw 2 days"))
            {
                return true;
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
        false
    });
    assert!(audited, "the change is not in the audit log");

    // Trends: the demo's CPU over a day, from raw samples (nothing has aged).
    use sentinel_protocol::{HistoryTrend, TrendQuery};
    let t = call::<HistoryTrend>(
        &w,
        &TrendQuery {
            metric: "cluster_cpu_percent".into(),
            days: 1,
        },
    )
    .unwrap();
    // Thinned over what the history holds (some 16 minutes), not the day.
    assert_eq!(t.bucket_minutes, 1);
    assert!(t.to.since(t.from) < sentinel_model::Duration::from_mins(60));
    assert!(t.points.len() >= 4, "{} points", t.points.len());
    assert!(t.points.len() <= sentinel_protocol::TREND_POINTS);
    assert!(t.raw_since.is_some_and(|r| r >= t.from && r <= t.to));
    for p in &t.points {
        assert!(p.1 <= p.2 && p.2 <= p.3 && p.3 <= 100.0, "{p:?}");
    }
    assert!(t.points.windows(2).all(|w| w[0].0 < w[1].0));
    for bad in [
        TrendQuery {
            metric: "secret_sauce".into(),
            days: 1,
        },
        TrendQuery {
            metric: "cluster_cpu_percent".into(),
            days: 0,
        },
    ] {
        assert_eq!(
            call::<HistoryTrend>(&w, &bad).unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
    }

    // Replay mode: the status bar says so, and live sources pause when asked.
    use sentinel_protocol::{GetOverview, Mode, ReplayMode, SetReplayMode};
    let o = call::<SetReplayMode>(
        &w,
        &ReplayMode {
            file: Some("/tmp/inc.sentinel.db".into()),
            pause_live: true,
        },
    )
    .unwrap();
    assert_eq!(o.status.mode, Mode::Replay);
    assert_eq!(o.status.replaying.as_deref(), Some("/tmp/inc.sentinel.db"));
    assert!(state.runtime().sources_paused());
    let deadline = std::time::Instant::now() + StdDuration::from_secs(10);
    while !call::<GetOverview>(&w, &NoArgs {})
        .unwrap()
        .status
        .sources_paused
    {
        assert!(std::time::Instant::now() < deadline, "sources not paused");
        std::thread::sleep(StdDuration::from_millis(100));
    }
    // Recording in the background instead.
    let o = call::<SetReplayMode>(
        &w,
        &ReplayMode {
            file: Some("/tmp/inc.sentinel.db".into()),
            pause_live: false,
        },
    )
    .unwrap();
    assert_eq!(o.status.mode, Mode::Replay);
    assert!(!state.runtime().sources_paused());
    let o = call::<SetReplayMode>(
        &w,
        &ReplayMode {
            file: None,
            pause_live: true,
        },
    )
    .unwrap();
    assert_eq!(o.status.mode, Mode::Demo);
    assert!(o.status.replaying.is_none());
    assert!(
        !state.runtime().sources_paused(),
        "leaving replay lets them go"
    );
    for (_, rt) in &state.fleet().clusters {
        tauri::async_runtime::block_on(rt.shutdown(StdDuration::from_secs(5)));
    }
    // Kept in the history file itself.
    let r = tauri::async_runtime::block_on(async {
        let s = sentinel_store::Store::open_read_only(dir.join("history.demo.db"))
            .await
            .unwrap();
        s.retention().await.unwrap()
    });
    assert_eq!((r.raw_days, r.rollup_days, r.budget_mib), (2, 30, 512));
}
