//! Retention on real SQLite files: raw samples age into one-minute rollups,
//! samples around incidents stay, and the disk budget is kept.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sentinel_model::{Labels, SeriesKey, Timestamp};
use sentinel_store::{INCIDENT_MARGIN_MS, Input, Record, Recorder, Retention, StepKind, Store};

const DAY: i64 = 86_400_000;
const T0: i64 = 1_700_000_000_000 - 1_700_000_000_000 % DAY;

fn t(ms: i64) -> Timestamp {
    Timestamp(ms)
}

async fn fresh(dir: &tempfile::TempDir) -> Store {
    Store::open(dir.path().join("h.db"), t(T0))
        .await
        .unwrap()
        .store
}

/// `days` of one series every 30 s (a sawtooth), with the engine's steps,
/// and an incident an hour long on the second day.
async fn ten_days(store: &Store, days: i64) -> i64 {
    let mut r = Recorder::new(store.cursor().await.unwrap());
    r.record(Record::Define {
        handle: 0,
        key: SeriesKey::new("cpu", [("node", "a")]),
    });
    let mut at = T0;
    let mut i = 0u64;
    while at < T0 + days * DAY {
        r.record(Record::Step {
            at: t(at),
            kind: StepKind::Feed,
        });
        r.record(Record::Sample {
            handle: 0,
            at: t(at),
            value: (i % 7) as f64,
        });
        if i.is_multiple_of(20_000) {
            store.write(&r.take(true)).await.unwrap();
        }
        at += 30_000;
        i += 1;
    }
    r.record(Record::Incident(Box::new(sentinel_store::IncidentRow {
        id: "inc-1".into(),
        opened_at: t(T0 + DAY + 3_600_000),
        updated_at: t(T0 + DAY + 2 * 3_600_000),
        state: "resolved".into(),
        severity: "critical".into(),
        namespaces: vec!["shop".into()],
        body: "{}".into(),
    })));
    store.write(&r.take(true)).await.unwrap();
    at - 30_000
}

#[tokio::test]
async fn raw_samples_age_into_rollups_and_incidents_keep_theirs() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir).await;
    assert_eq!(store.retention().await.unwrap(), Retention::default());
    let newest = ten_days(&store, 10).await;
    let before = store.usage().await.unwrap();
    assert_eq!(before.rollup_minutes, 0);
    assert_eq!(before.oldest_raw_ms, Some(T0));

    let done = store.enforce().await.unwrap();
    let cut = newest - 7 * DAY;
    assert!(done.aged_chunks > 0, "{done:?}");
    assert_eq!(done.raw_before_ms, Some(cut));
    let after = store.usage().await.unwrap();
    assert!(after.raw_chunks < before.raw_chunks);
    assert!(after.rollup_minutes > 0);
    // What is left of the raw samples before the cut is the incident's
    // window, with its margin.
    let inc_from = T0 + DAY + 3_600_000 - INCIDENT_MARGIN_MS;
    let inc_to = T0 + DAY + 2 * 3_600_000 + INCIDENT_MARGIN_MS;
    let mut input = store.input().await.unwrap();
    let mut early = Vec::new();
    while let Some(step) = input.next().await.unwrap() {
        if let Input::Feed { at, readings, .. } = step
            // (the chunk that straddles the cut keeps its earlier samples)
            && at.millis() < cut - 6 * 3_600_000
            && !readings.is_empty()
        {
            early.push(at.millis());
        }
    }
    assert!(!early.is_empty(), "the incident's samples are kept raw");
    // Chunks straddle the window's edges; none is far from it.
    for at in &early {
        assert!(
            (inc_from - 6 * 3_600_000..=inc_to + 6 * 3_600_000).contains(at),
            "raw sample at {at} outside the incident"
        );
    }
    assert!(early.iter().any(|a| (inc_from..=inc_to).contains(a)));

    // Rollups hold what the raw samples said: the sawtooth 0..6 at two
    // samples a minute.
    let labels: Labels = [("node".to_string(), "a".to_string())]
        .into_iter()
        .collect();
    let rolled = store.rollups("cpu", &labels, T0, cut).await.unwrap();
    assert!(rolled.len() > 1000, "{}", rolled.len());
    let first = rolled[0];
    assert_eq!(first.minute_ms, T0);
    assert_eq!(first.count, 2);
    assert_eq!((first.min, first.max, first.avg), (0.0, 1.0, 0.5));
    for r in &rolled {
        assert!(r.count <= 2 && r.min <= r.avg && r.avg <= r.max && r.max <= 6.0);
        assert!(
            !(inc_from..=inc_to).contains(&r.minute_ms),
            "the incident's own minutes are still raw"
        );
    }
    // Everything left raw plus everything rolled up is every sample taken.
    let raw_left: u64 = {
        let s = store.stats().await.unwrap();
        s.samples
    };
    let rolled_count: u64 = rolled.iter().map(|r| r.count).sum();
    assert_eq!(
        raw_left + rolled_count,
        (10 * DAY / 30_000) as u64,
        "no sample lost or counted twice"
    );

    // Minute by minute over the whole span: rollups where samples aged,
    // raw samples where kept, every sample counted once.
    let (all, raw_from) = store.minutes("cpu", &labels, T0, newest).await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.count).sum::<u64>(),
        (10 * DAY / 30_000) as u64
    );
    assert!(all.windows(2).all(|w| w[0].minute_ms < w[1].minute_ms));
    assert!(
        raw_from.is_some_and(|f| f < cut && f >= inc_from - 6 * 3_600_000),
        "the incident's raw samples come first: {raw_from:?}"
    );

    // Enforcing again changes nothing.
    assert!(store.enforce().await.unwrap().is_empty());

    // Shorter rollup retention drops the oldest rollups, never the
    // incident's raw samples.
    store
        .set_retention(Retention {
            raw_days: 2,
            rollup_days: 3,
            budget_mib: 2048,
        })
        .await
        .unwrap();
    let done = store.enforce().await.unwrap();
    assert!(done.rollups_deleted > 0 && done.aged_chunks > 0, "{done:?}");
    let u = store.usage().await.unwrap();
    // Rollups go a day (a block) at a time.
    assert!(u.oldest_rollup_ms.unwrap() >= newest - 4 * DAY);
    let rolled = store.rollups("cpu", &labels, T0, newest).await.unwrap();
    assert!(rolled.iter().all(|r| r.minute_ms >= newest - 4 * DAY));
    assert!(rolled.iter().any(|r| r.minute_ms < newest - 2 * DAY));
    let s = store.stats().await.unwrap();
    assert_eq!(s.first_ms.map(|f| f <= inc_to), Some(true), "{s:?}");
}

#[tokio::test]
async fn retention_settings_are_checked_and_kept_in_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir).await;
    for bad in [
        Retention {
            raw_days: 0,
            ..Retention::default()
        },
        Retention {
            raw_days: 10,
            rollup_days: 5,
            ..Retention::default()
        },
        Retention {
            budget_mib: 1,
            ..Retention::default()
        },
    ] {
        let e = store.set_retention(bad).await.unwrap_err().to_string();
        assert!(e.contains("must be"), "{e}");
    }
    let mine = Retention {
        raw_days: 3,
        rollup_days: 30,
        budget_mib: 512,
    };
    store.set_retention(mine).await.unwrap();
    store.close().await;
    let store = fresh(&dir).await;
    assert_eq!(store.retention().await.unwrap(), mine);
    let ro = Store::open_read_only(dir.path().join("h.db"))
        .await
        .unwrap();
    assert!(ro.set_retention(mine).await.is_err());
    assert!(ro.enforce().await.is_err());
}

/// A fresh history with a disk budget of `mib`.
async fn under_budget(dir: &tempfile::TempDir, mib: u64) -> Store {
    let store = fresh(dir).await;
    store
        .set_retention(Retention {
            budget_mib: mib,
            ..Retention::default()
        })
        .await
        .unwrap();
    store
}

/// Series of noise that compresses badly (about 8 bytes a sample).
struct Noise {
    series: u32,
    x: u64,
}

impl Noise {
    fn define(r: &mut Recorder, series: u32) -> Self {
        for h in 0..series {
            r.record(Record::Define {
                handle: h,
                key: SeriesKey::new("noise", [("i", h.to_string().as_str())]),
            });
        }
        Self {
            series,
            x: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// A reading of every series at `at`.
    fn sample(&mut self, r: &mut Recorder, at: i64) {
        for h in 0..self.series {
            self.x ^= self.x << 13;
            self.x ^= self.x >> 7;
            self.x ^= self.x << 17;
            r.record(Record::Sample {
                handle: h,
                at: t(at),
                value: (self.x >> 11) as f64,
            });
        }
    }
}

#[tokio::test]
async fn the_disk_budget_drops_the_oldest_samples_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = under_budget(&dir, 16).await;
    // About 24 MB of noisy samples over one day (well inside the raw days).
    let mut r = Recorder::new(store.cursor().await.unwrap());
    let mut noise = Noise::define(&mut r, 100);
    let step = 30_000;
    let n = 30_000i64;
    for k in 0..n {
        let at = T0 + k * step / 10;
        noise.sample(&mut r, at);
        if k % 5000 == 0 {
            store.write(&r.take(true)).await.unwrap();
        }
    }
    store.write(&r.take(true)).await.unwrap();
    let before = store.usage().await.unwrap();
    assert!(before.used_bytes > 16 << 20, "{before:?}");

    let done = store.enforce().await.unwrap();
    assert_eq!(done.aged_chunks, 0, "nothing is older than the raw days");
    assert!(done.budget_hit && !done.over_budget, "{done:?}");
    assert!(done.budget_chunks > 0, "{done:?}");
    let after = store.usage().await.unwrap();
    assert!(
        after.used_bytes <= 16 << 20,
        "{} bytes used",
        after.used_bytes
    );
    // The oldest went first: what is left raw is the newest.
    assert!(after.oldest_raw_ms > before.oldest_raw_ms);
    assert_eq!(after.newest_raw_ms, before.newest_raw_ms);
    // Not rolled up: a minute's summary would take what its samples do.
    assert_eq!(after.rollup_minutes, 0);
    // Enough is kept: it ends near nine tenths of the budget, not near zero.
    assert!(
        after.used_bytes >= 8 << 20,
        "{} bytes used",
        after.used_bytes
    );
    assert_eq!(store.integrity().await.unwrap(), "ok");
}

fn change(at: i64, kind: &'static str, key: &str, body: Option<&str>) -> Record {
    Record::Object(Box::new(sentinel_store::ObjectChange {
        at: t(at),
        kind,
        key: key.into(),
        body: body.map(String::from),
    }))
}

#[tokio::test]
async fn objects_are_kept_as_changes_and_read_as_of_any_moment() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir).await;
    assert!(!store.has_objects().await.unwrap());
    let mut r = Recorder::new(store.cursor().await.unwrap());
    for rec in [
        change(T0, "pod", "shop/a", Some(r#"{"v":1}"#)),
        change(T0, "node", "n1", Some(r#"{"n":1}"#)),
        change(T0 + 10, "pod", "shop/a", Some(r#"{"v":2}"#)),
        change(T0 + 10, "pod", "shop/b", Some(r#"{"v":1}"#)),
        change(T0 + 20, "pod", "shop/a", None),
        change(T0 + 30, "alert", "f1", Some(r#"{"s":"active"}"#)),
    ] {
        r.record(rec);
    }
    store.write(&r.take(true)).await.unwrap();
    assert!(store.has_objects().await.unwrap());
    let at = |ms: i64| {
        let store = store.clone();
        async move {
            store
                .objects_at(ms)
                .await
                .unwrap()
                .into_iter()
                .map(|o| format!("{}:{}={}", o.kind, o.key, o.body))
                .collect::<Vec<_>>()
        }
    };
    assert!(at(T0 - 1).await.is_empty());
    assert_eq!(at(T0).await, ["node:n1={\"n\":1}", "pod:shop/a={\"v\":1}"]);
    assert_eq!(
        at(T0 + 15).await,
        [
            "node:n1={\"n\":1}",
            "pod:shop/a={\"v\":2}",
            "pod:shop/b={\"v\":1}"
        ]
    );
    assert_eq!(
        at(T0 + 25).await,
        ["node:n1={\"n\":1}", "pod:shop/b={\"v\":1}"]
    );
    let later = at(T0 + 40).await;
    assert_eq!(later.len(), 3, "{later:?}");

    // A bundle from the middle carries the picture at its start.
    let out = dir.path().join("b.db");
    let stats = store
        .bundle(&out, t(T0 + 15), t(T0 + 40), &mut |s: &str| s.to_string())
        .await
        .unwrap();
    assert_eq!(stats.objects, 3 + 2, "three as of the start, two changes");
    let b = Store::open_read_only(&out).await.unwrap();
    let got: Vec<String> = b
        .objects_at(T0 + 40)
        .await
        .unwrap()
        .into_iter()
        .map(|o| format!("{}:{}", o.kind, o.key))
        .collect();
    assert_eq!(got, ["alert:f1", "node:n1", "pod:shop/b"]);

    // Compaction keeps what any later moment needs.
    let removed = store.compact_objects(T0 + 25).await.unwrap();
    assert_eq!(removed, 3, "shop/a's two versions and its removal");
    assert_eq!(at(T0 + 40).await, later);

    // One alert's life: it went away and came back.
    let mut r = Recorder::new(store.cursor().await.unwrap());
    r.record(change(T0 + 50, "alert", "f1", None));
    r.record(change(T0 + 60, "alert", "f1", Some(r#"{"s":"again"}"#)));
    r.record(change(T0 + 60, "alert", "f2", Some(r#"{"s":"other"}"#)));
    store.write(&r.take(true)).await.unwrap();
    let active = Some(r#"{"s":"active"}"#.to_string());
    let again = Some(r#"{"s":"again"}"#.to_string());
    assert_eq!(
        store.alert_changes("f1", 10).await.unwrap(),
        [(T0 + 30, active), (T0 + 50, None), (T0 + 60, again.clone())]
    );
    assert_eq!(
        store.alert_changes("f1", 2).await.unwrap(),
        [(T0 + 50, None), (T0 + 60, again)],
        "the newest, oldest first"
    );
    assert!(store.alert_changes("nope", 10).await.unwrap().is_empty());
    assert!(
        store.alert_changes("shop/a", 10).await.unwrap().is_empty(),
        "only alerts"
    );
}

#[test]
fn minute_blocks_round_trip_and_a_cut_one_is_damaged() {
    use sentinel_store::chunk::{Minute, decode_minutes, encode_minutes};
    let minutes: Vec<Minute> = (0..500)
        .map(|i| Minute {
            minute_ms: T0 + i * 60_000,
            min: (i % 13) as f64 * 0.37,
            max: 100.0 + (i % 7) as f64,
            sum: 1234.5 + i as f64,
            count: 4.0,
        })
        .collect();
    let bytes = encode_minutes(&minutes);
    assert_eq!(decode_minutes(&bytes, 500).unwrap(), minutes);
    // Smaller than the rows would be (48 bytes a minute at least).
    assert!(bytes.len() < 500 * 16, "{} bytes", bytes.len());
    for cut in [0, 3, 10, bytes.len() / 2, bytes.len() - 1] {
        assert!(decode_minutes(&bytes[..cut], 500).is_err(), "cut at {cut}");
    }
}

#[tokio::test]
async fn pod_changes_count_against_the_budget_and_the_latest_stay() {
    let dir = tempfile::tempdir().unwrap();
    let store = under_budget(&dir, 16).await;
    let mut r = Recorder::new(store.cursor().await.unwrap());
    let mut noise = Noise::define(&mut r, 20);
    // A day of samples (about 4 MB) and 30,000 changes of 50 pods (about
    // 18 MB of JSON) over it: a churning cluster.
    let body = "x".repeat(600);
    for k in 0..30_000i64 {
        let at = T0 + k * 2_880;
        noise.sample(&mut r, at);
        let key = format!("shop/pod-{}", k % 50);
        r.record(change(
            at,
            "pod",
            &key,
            Some(&format!("{{\"v\":{k},\"pad\":\"{body}\"}}")),
        ));
        if k % 5000 == 0 {
            store.write(&r.take(true)).await.unwrap();
        }
    }
    store.write(&r.take(true)).await.unwrap();
    let before = store.usage().await.unwrap();
    assert!(before.used_bytes > 16 << 20, "{before:?}");

    let done = store.enforce().await.unwrap();
    assert!(done.budget_hit && !done.over_budget, "{done:?}");
    assert!(done.objects_compacted > 10_000, "{done:?}");
    let after = store.usage().await.unwrap();
    assert!(after.used_bytes <= 16 << 20, "{} bytes", after.used_bytes);
    // Every pod is still there as it last was.
    let now = store.objects_at(T0 + DAY).await.unwrap();
    assert_eq!(now.len(), 50);
    assert!(now.iter().any(|o| o.body.starts_with("{\"v\":29999,")));
    assert_eq!(store.integrity().await.unwrap(), "ok");
}
