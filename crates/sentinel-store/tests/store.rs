//! The store on real SQLite files.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sentinel_model::{Mark, SeriesKey, Timestamp};
use sentinel_store::{Input, Record, Recorder, StepKind, Store, StoreError};

fn t(ms: i64) -> Timestamp {
    Timestamp(ms)
}

async fn record(store: &Store, records: Vec<Record>) {
    let mut r = Recorder::new(store.cursor().await.unwrap());
    for rec in records {
        r.record(rec);
    }
    store.write(&r.take(true)).await.unwrap();
}

fn feed(handle: u32, at: i64, value: f64) -> Record {
    Record::Sample {
        handle,
        at: t(at),
        value,
    }
}

fn step(at: i64, kind: StepKind) -> Record {
    Record::Step { at: t(at), kind }
}

#[tokio::test]
async fn the_input_log_reads_back_step_by_step() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let store = Store::open(&path, t(1_700_000_000_000))
        .await
        .unwrap()
        .store;
    let a = SeriesKey::new("a", [("pod", "x")]);
    let b = SeriesKey::new("b", []);
    let mut recs = vec![
        step(0, StepKind::Reset),
        Record::Define {
            handle: 0,
            key: a.clone(),
        },
        Record::Define {
            handle: 1,
            key: b.clone(),
        },
    ];
    for i in 0..1000 {
        recs.push(feed(0, i * 2000, i as f64));
        if i % 2 == 0 {
            recs.push(feed(1, i * 2000, -(i as f64)));
        }
        recs.push(step(i * 2000, StepKind::Feed));
        recs.push(step(i * 2000 + 1000, StepKind::Tick));
    }
    recs.push(Record::Remove {
        handle: 1,
        at: t(2_000_000),
    });
    recs.push(feed(0, 2_000_000, 9.0));
    recs.push(step(2_000_000, StepKind::Feed));
    record(&store, recs).await;

    let mut input = store.input().await.unwrap();
    assert_eq!(input.next().await.unwrap(), Some(Input::Reset(t(0))));
    let mut feeds = 0;
    let mut readings = 0;
    let mut last = None;
    while let Some(step) = input.next().await.unwrap() {
        match step {
            Input::Feed {
                at,
                removed,
                readings: r,
            } => {
                feeds += 1;
                readings += r.len();
                if at == t(2_000_000) {
                    assert_eq!(removed.len(), 1);
                    assert_eq!(input.key(removed[0]), Some(&b));
                }
                last = Some((at, r));
            }
            Input::Tick(at) => assert_eq!(at.millis() % 2000, 1000),
            Input::Reset(_) | Input::Mark { .. } => panic!("one reset only, no marks"),
        }
    }
    assert_eq!(feeds, 1001);
    assert_eq!(readings, 1000 + 500 + 1);
    let (at, r) = last.unwrap();
    assert_eq!(at, t(2_000_000));
    assert_eq!(r.len(), 1);
    assert_eq!(input.key(r[0].0), Some(&a));
    assert_eq!(r[0].1, 9.0);

    let stats = store.stats().await.unwrap();
    assert_eq!(stats.samples, 1501);
    assert_eq!(stats.series, 2);
    assert_eq!(stats.engine_steps, 2002);
    assert!(stats.bytes > 0 && stats.sample_bytes < 1501 * 4);
}

#[tokio::test]
async fn reopening_continues_the_numbering_and_keeps_feedback() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let key = SeriesKey::new("a", []);
    for round in 0..2 {
        let store = Store::open(&path, t(1_700_000_000_000))
            .await
            .unwrap()
            .store;
        record(
            &store,
            vec![
                Record::Define {
                    handle: 0,
                    key: key.clone(),
                },
                feed(0, round * 10, 1.0),
                Record::Mark {
                    id: format!("f{round}"),
                    mark: Mark::Confirmed,
                    at: t(round),
                },
            ],
        )
        .await;
        store.close().await;
    }
    let store = Store::open_read_only(&path).await.unwrap();
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.series, 1, "the same key is the same series");
    assert_eq!(stats.samples, 2);
    assert_eq!(stats.chunks, 2, "the second run started its own chunk");
    let marks = store.marks().await.unwrap();
    assert_eq!(marks.len(), 2);
    assert_eq!(marks["f1"].mark, Mark::Confirmed);
    let batch = sentinel_store::WriteBatch {
        series: vec![(99, "b".into(), "{}".into())],
        ..Default::default()
    };
    assert!(matches!(
        store.write(&batch).await,
        Err(StoreError::ReadOnly)
    ));
}

#[tokio::test]
async fn a_damaged_file_is_moved_aside_and_a_fresh_one_started() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    std::fs::write(
        &path,
        b"this is not a database, it is a shopping list\n".repeat(100),
    )
    .unwrap();
    let opened = Store::open(&path, t(1_700_000_000_000)).await.unwrap();
    let notice = opened.notice.expect("the user is told");
    assert!(notice.contains("moved to"), "{notice}");
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".damaged-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert!(
        std::fs::read(aside[0].path())
            .unwrap()
            .starts_with(b"this is not")
    );
    assert_eq!(opened.store.stats().await.unwrap().samples, 0);
}

#[tokio::test]
async fn a_truncated_database_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    {
        let store = Store::open(&path, t(1_700_000_000_000))
            .await
            .unwrap()
            .store;
        let mut recs = vec![Record::Define {
            handle: 0,
            key: SeriesKey::new("a", []),
        }];
        for i in 0..20_000 {
            recs.push(feed(0, i * 1000, (i % 97) as f64 * 1.37));
        }
        record(&store, recs).await;
        store.close().await;
    }
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len > 8192, "{len}");
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    let opened = Store::open(&path, t(1_700_000_000_000)).await.unwrap();
    assert!(opened.notice.is_some(), "truncation went unnoticed");
    assert_eq!(opened.store.stats().await.unwrap().samples, 0);
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    {
        let store = Store::open(&path, t(1_700_000_000_000))
            .await
            .unwrap()
            .store;
        store.close().await;
    }
    // Pretend a later version migrated it further.
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99990101000000, 'from the future', 1, x'00', 0)",
        )
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path, t(1_700_000_000_000)).await.unwrap_err();
    assert!(matches!(err, StoreError::Newer { .. }), "{err}");
    assert!(err.to_string().contains("newer Sentinel"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file was touched"
    );
    assert!(matches!(
        Store::open_read_only(&path).await.unwrap_err(),
        StoreError::Newer { .. }
    ));
}

fn incident(id: &str, opened: i64, state: &str, severity: &str, ns: &[&str]) -> Record {
    Record::Incident(Box::new(sentinel_store::IncidentRow {
        id: id.into(),
        opened_at: t(opened),
        updated_at: t(opened + 10),
        state: state.into(),
        severity: severity.into(),
        namespaces: ns.iter().map(|s| s.to_string()).collect(),
        body: format!("{{\"id\":\"{id}\",\"state\":\"{state}\"}}"),
    }))
}

#[tokio::test]
async fn incidents_keep_their_newest_version_and_filter() {
    use sentinel_store::{AuditRow, IncidentFilter};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("h.db"), t(1))
        .await
        .unwrap()
        .store;
    record(
        &store,
        vec![
            incident("inc-a", 100, "open", "warning", &["shop"]),
            incident("inc-b", 200, "open", "critical", &["shop_x", "payments"]),
            incident("inc-c", 300, "resolved", "info", &[]),
        ],
    )
    .await;
    // A later version replaces the earlier one, in a later batch or the same.
    record(
        &store,
        vec![
            incident("inc-a", 100, "acknowledged", "warning", &["shop"]),
            incident("inc-a", 100, "resolved", "critical", &["shop"]),
            Record::Audit(AuditRow {
                at: t(150),
                actor: "ana".into(),
                action: "acknowledged".into(),
                target: "inc-a".into(),
                detail: "looking".into(),
            }),
            Record::Audit(AuditRow {
                at: t(160),
                actor: "ana".into(),
                action: "resolved".into(),
                target: "inc-a".into(),
                detail: String::new(),
            }),
        ],
    )
    .await;
    let ids = |rows: Vec<sentinel_store::IncidentRow>| -> Vec<String> {
        rows.into_iter().map(|r| r.id).collect()
    };
    let all = store.incidents(&IncidentFilter::default()).await.unwrap();
    assert_eq!(
        ids(all.clone()),
        ["inc-c", "inc-b", "inc-a"],
        "newest first"
    );
    let a = store.incident("inc-a").await.unwrap().unwrap();
    assert_eq!(
        (a.state.as_str(), a.severity.as_str()),
        ("resolved", "critical")
    );
    assert!(a.body.contains("resolved"));
    assert_eq!(a.namespaces, ["shop"]);
    assert!(store.incident("inc-z").await.unwrap().is_none());

    let f = |f: IncidentFilter| {
        let store = &store;
        async move { ids(store.incidents(&f).await.unwrap()) }
    };
    // "shop" must not match "shop_x" (LIKE's `_` is escaped).
    let ns = f(IncidentFilter {
        namespace: Some("shop".into()),
        ..Default::default()
    });
    assert_eq!(ns.await, ["inc-a"]);
    let sev = f(IncidentFilter {
        min_severity: Some("critical".into()),
        ..Default::default()
    });
    assert_eq!(sev.await, ["inc-b", "inc-a"]);
    let open = f(IncidentFilter {
        states: vec!["open".into(), "acknowledged".into()],
        ..Default::default()
    });
    assert_eq!(open.await, ["inc-b"]);
    let window = f(IncidentFilter {
        since: Some(t(205)),
        until: Some(t(300)),
        ..Default::default()
    });
    assert_eq!(window.await, ["inc-b"]);

    let audit = store.audit(Some("inc-a")).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["acknowledged", "resolved"]);
    assert!(store.audit(Some("inc-b")).await.unwrap().is_empty());
}
