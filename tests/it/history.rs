//! History: record the demo into a real SQLite file, replay it offline, and
//! get the very findings the live engine reported.

use std::path::Path;
use std::process::Command;
use std::time::Duration as StdDuration;

use sentinel_model::{Duration, Finding, Mark};
use sentinel_runtime::replay::Replay;
use sentinel_runtime::{Clock, DemoConfig, Runtime, SystemClock};
use sentinel_sim::SimConfig;
use sentinel_store::Store;

fn sentinel(args: &[&str]) -> std::process::Output {
    let out = Command::new(crate::support::binary("sentinel"))
        .args(args)
        .output()
        .expect("run sentinel");
    assert!(
        out.status.success(),
        "sentinel {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Findings printed by `sentinel replay --json`.
fn replayed(db: &Path) -> Vec<Finding> {
    let out = sentinel(&["replay", db.to_str().unwrap(), "--json"]);
    let mut findings = Vec::new();
    let mut ended = false;
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        match v["type"].as_str() {
            Some("finding") => findings.push(serde_json::from_value(v["finding"].clone()).unwrap()),
            Some("end") => ended = true,
            other => panic!("unexpected line type {other:?}"),
        }
    }
    assert!(ended, "no end line");
    findings
}

/// Order within one engine step follows series registration, which replay
/// does not promise to repeat; compare as sorted JSON.
fn canonical(fs: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> = fs
        .iter()
        .map(|f| serde_json::to_string(f).unwrap())
        .collect();
    v.sort();
    v
}

/// `sentinel demo --db` for `duration` (after its 15-minute backfill) into
/// a fresh test directory `name`: the history file.
fn recorded_demo(name: &str, duration: &str) -> std::path::PathBuf {
    let dir = crate::support::tempdir(name);
    let db = dir.join("demo.db");
    sentinel(&[
        "demo",
        "--db",
        db.to_str().unwrap(),
        "--duration",
        duration,
        "--interval",
        "500ms",
    ]);
    db
}

#[test]
fn a_recorded_demo_replays_offline_to_the_same_findings() {
    let db = recorded_demo("history", "5s");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let live = rt.block_on(async {
        let store = Store::open_read_only(&db).await.unwrap();
        store.reported_findings().await.unwrap()
    });
    assert!(
        live.len() >= 3,
        "the demo's 15 minutes of backfill report findings: {}",
        live.len()
    );
    let first = replayed(&db);
    let second = replayed(&db);
    assert_eq!(
        serde_json::to_string(&first).unwrap(),
        serde_json::to_string(&second).unwrap(),
        "two replays differ"
    );
    assert_eq!(
        canonical(&first),
        canonical(&live),
        "replay differs from what was reported live"
    );

    let stats = sentinel(&["history", "stats", db.to_str().unwrap(), "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert!(s["samples"].as_u64().unwrap() > 10_000, "{s}");
    assert!(s["span_seconds"].as_f64().unwrap() >= 900.0, "{s}");
    let bps = s["bytes_per_sample"].as_f64().unwrap();
    assert!(bps > 0.0 && bps < 16.0, "{s}");
    assert_eq!(
        s["findings_reported"].as_u64().unwrap() as usize,
        live.len()
    );
    let sources = s["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "{s}");
    assert!(
        sources[0].as_str().unwrap().ends_with("/demo (demo)"),
        "{s}"
    );

    // Retention: changed and applied from the command line, kept in the file.
    let out = sentinel(&[
        "history",
        "retention",
        db.to_str().unwrap(),
        "--raw-days",
        "3",
        "--apply",
        "--json",
    ]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["retention"]["raw_days"], 3, "{r}");
    assert_eq!(
        r["applied"]["aged_chunks"], 0,
        "a fresh recording keeps all: {r}"
    );
    assert!(r["usage"]["raw_bytes"].as_u64().unwrap() > 0, "{r}");
    let out = sentinel(&["history", "retention", db.to_str().unwrap(), "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["retention"]["raw_days"], 3, "{r}");

    // A time window prints only what was reported inside it.
    let last = live
        .iter()
        .map(Finding::reported_at)
        .max()
        .unwrap()
        .millis();
    let from = format!("{}", last as f64 / 1000.0);
    let out = sentinel(&["replay", db.to_str().unwrap(), "--from", &from, "--json"]);
    let n = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"type\":\"finding\""))
        .count();
    let expected = live
        .iter()
        .filter(|f| f.reported_at().millis() >= last)
        .count();
    assert_eq!(n, expected);
    assert!(n < live.len());
}

/// The rest of a replay from where it is: each step's findings as JSON.
async fn rest(r: &mut Replay) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(step) = r.step().await.unwrap() {
        out.extend(
            step.findings
                .iter()
                .map(|f| serde_json::to_string(f).unwrap()),
        );
    }
    out
}

#[test]
fn seeking_back_and_forth_continues_exactly_as_the_first_time() {
    let db = recorded_demo("history-seek", "3s");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open_read_only(&db).await.unwrap();
        let pack = sentinel_detect::default_pack;
        // The whole recording once, with checkpoints every minute.
        let mut r = Replay::open(&store, pack())
            .await
            .unwrap()
            .with_checkpoints(Duration::from_mins(1));
        let all = rest(&mut r).await;
        let end = r.fed_to().unwrap();
        assert!(all.len() >= 3, "{} findings", all.len());
        assert!(r.checkpoints() >= 10, "{} checkpoints", r.checkpoints());
        // Back to several moments, in no order: the state equals a fresh
        // replay's at that moment, and what follows is what followed then.
        for back in [10, 3, 12, 1, 0, 7] {
            let to = end.saturating_sub(Duration::from_mins(back));
            let mut fresh = Replay::open(&store, pack()).await.unwrap();
            let before = fresh.seek(to).await.unwrap();
            r.seek(to).await.unwrap();
            assert_eq!(r.steps(), fresh.steps(), "{back} min back");
            assert_eq!(r.fed_to(), fresh.fed_to());
            assert!(r.engine() == fresh.engine(), "engine state {back} min back");
            let after_seek = rest(&mut r).await;
            assert_eq!(after_seek, rest(&mut fresh).await, "{back} min back");
            // The first pass, split at the same step, is the same findings.
            let mut split = before
                .iter()
                .map(|f| serde_json::to_string(f).unwrap())
                .collect::<Vec<_>>();
            split.extend(after_seek);
            assert_eq!(split, all, "{back} min back");
        }
        // Forward from the start, and past the end.
        let mut r2 = Replay::open(&store, pack())
            .await
            .unwrap()
            .with_checkpoints(Duration::from_mins(1));
        let mid = end.saturating_sub(Duration::from_mins(5));
        r2.seek(mid).await.unwrap();
        assert!(r2.fed_to().unwrap() <= mid);
        r2.seek(end.saturating_add(Duration::from_mins(60)))
            .await
            .unwrap();
        assert_eq!(r2.fed_to(), Some(end));
        assert!(r2.step().await.unwrap().is_none(), "at the end");
        // Without checkpoints there is no way back, and it says so.
        let mut r3 = Replay::open(&store, pack()).await.unwrap();
        r3.seek(end).await.unwrap();
        let e = r3.seek(mid).await.unwrap_err().to_string();
        assert!(e.contains("cannot go back"), "{e}");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_are_saved_and_replay_shows_them() {
    let dir = crate::support::tempdir("history-marks");
    let db = dir.join("marks.db");
    let rt = crate::support::recording_demo(&db).await;
    let snap = tokio::time::timeout(
        StdDuration::from_secs(60),
        rt.wait_for(|s| !s.findings.is_empty()),
    )
    .await
    .unwrap()
    .unwrap();
    let id = snap.findings[0].id.clone();
    assert!(
        rt.mark_finding(id.clone(), Mark::FalsePositive)
            .await
            .unwrap()
            .is_some()
    );
    rt.shutdown(StdDuration::from_secs(30)).await;

    let store = Store::open_read_only(&db).await.unwrap();
    let marks = store.marks().await.unwrap();
    assert_eq!(marks[&id].mark, Mark::FalsePositive);
    let mut replay = Replay::open(&store, sentinel_detect::default_pack())
        .await
        .unwrap();
    while replay.step().await.unwrap().is_some() {}
    let f = replay
        .engine()
        .finding(&id)
        .expect("replay knows the finding");
    assert_eq!(
        f.trace.mark.as_ref().map(|m| m.mark),
        Some(Mark::FalsePositive)
    );
}

fn has_notice(s: &sentinel_runtime::Snapshot, text: &str) -> bool {
    s.notices.iter().any(|(_, m)| m.contains(text))
}

fn sh(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", cmd])
        .status()
        .is_ok_and(|s| s.success())
}

/// A full disk (a small tmpfs): recording pauses with a clear message, live
/// data keeps flowing, and recording resumes when space returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_pauses_recording_and_space_resumes_it() {
    let dir = crate::support::tempdir("history-full");
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let m = mnt.display();
    assert!(
        sh(&format!("mount -t tmpfs -o size=320k tmpfs {m}")),
        "this test mounts a small tmpfs and needs root"
    );
    struct Unmount(String);
    impl Drop for Unmount {
        fn drop(&mut self) {
            sh(&format!("umount -l {}", self.0));
        }
    }
    let _guard = Unmount(m.to_string());
    let db = mnt.join("full.db");
    let store = Store::open(&db, SystemClock.now()).await.unwrap().store;
    let rt = Runtime::demo(DemoConfig {
        sim: SimConfig { seed: 3, pods: 200 },
        interval: StdDuration::from_millis(200),
        backfill: Duration::from_secs(900),
        ..DemoConfig::default()
    })
    .history(store)
    .start();
    let wait = |text: &'static str| {
        tokio::time::timeout(
            StdDuration::from_secs(60),
            rt.wait_for(move |s| has_notice(s, text)),
        )
    };
    let paused = wait("Recording paused").await.expect("no pause").unwrap();
    assert!(has_notice(&paused, "disk is full"), "{:?}", paused.notices);
    // Live data keeps arriving while nothing can be written.
    let at = paused.data_at;
    let later = tokio::time::timeout(
        StdDuration::from_secs(30),
        rt.wait_for(move |s| s.data_at > at && s.data_at.is_some()),
    )
    .await
    .expect("live data stopped")
    .unwrap();
    assert!(later.data_at > at);
    assert!(sh(&format!("mount -o remount,size=64m {m}")));
    let resumed = wait("Recording resumed").await.expect("no resume").unwrap();
    assert!(
        !has_notice(&resumed, "Recording paused"),
        "the pause notice stays after the resume: {:?}",
        resumed.notices
    );
    rt.shutdown(StdDuration::from_secs(30)).await;
    let store = Store::open_read_only(&db).await.unwrap();
    assert!(store.stats().await.unwrap().samples > 0);
}

/// Killed while writing, again and again: the file stays consistent and
/// replays. Half the kills land at any time from the start; the other half
/// once something was shown as saved, so the check of what was shown does
/// not depend on how fast the machine gets there.
#[test]
fn sigkill_while_recording_never_damages_the_history() {
    let dir = crate::support::tempdir("history-kill");
    let db = dir.join("killed.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut seed = 11u64;
    let mut checked = 0usize;
    for i in 0..100 {
        let mut child = Command::new(crate::support::binary("sentinel"))
            .args([
                "demo",
                "--db",
                db.to_str().unwrap(),
                "--duration",
                "60s",
                "--interval",
                "100ms",
                "--backfill",
                "5m",
                "--json",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // What the UI was told: findings shown, and up to when the history
        // said it had saved everything.
        let stdout = child.stdout.take().unwrap();
        let (saved_tx, saved_rx) = std::sync::mpsc::channel::<()>();
        let reader = std::thread::spawn(move || {
            use std::io::BufRead;
            let mut saved: Option<i64> = None;
            let mut shown: std::collections::BTreeMap<String, i64> = Default::default();
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(sentinel_protocol::Update::Overview(o)) = serde_json::from_str(&line) else {
                    continue;
                };
                if let Some(t) = o.status.history_saved_at {
                    if saved.is_none() {
                        let _ = saved_tx.send(());
                    }
                    saved = Some(t.millis());
                }
                for a in o.alerts {
                    if a.origin == sentinel_protocol::AlertOrigin::Engine {
                        shown.insert(a.fingerprint, a.starts_at.millis());
                    }
                }
            }
            (saved, shown)
        });
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let ms = (seed >> 33) % 1200;
        if i % 2 == 0 {
            // At any point from the start, the backfill's writes included.
            std::thread::sleep(StdDuration::from_millis(200 + ms));
        } else {
            // At any point once something was shown as saved, however
            // long this machine takes to get there.
            let _ = saved_rx.recv_timeout(StdDuration::from_secs(30));
            std::thread::sleep(StdDuration::from_millis(ms));
        }
        child.kill().unwrap(); // SIGKILL
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("damaged"), "run {i}: {err}");
        let (saved, shown) = reader.join().unwrap();
        // Every finding shown as fired at or before "saved" is in the file.
        if let Some(saved) = saved {
            let owed: Vec<&String> = shown
                .iter()
                .filter(|(_, at)| **at <= saved)
                .map(|(id, _)| id)
                .collect();
            if !owed.is_empty() {
                let kept: std::collections::HashSet<String> = rt.block_on(async {
                    let store = Store::open_read_only(&db).await.unwrap();
                    let ids = store
                        .reported_findings()
                        .await
                        .unwrap()
                        .into_iter()
                        .map(|f| f.id)
                        .collect();
                    store.close().await;
                    ids
                });
                for id in owed {
                    assert!(
                        kept.contains(id),
                        "run {i}: {id} was shown as saved, and is lost"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} findings were shown as saved");
    rt.block_on(async {
        let store = Store::open_read_only(&db).await.unwrap();
        assert_eq!(store.integrity().await.unwrap(), "ok");
        let stats = store.stats().await.unwrap();
        assert!(stats.samples > 10_000, "{stats:?}");
        let mut replay = Replay::open(&store, sentinel_detect::default_pack())
            .await
            .unwrap();
        let mut steps = 0;
        while replay.step().await.unwrap().is_some() {
            steps += 1;
        }
        assert!(steps > 100);
    });
}

/// One incident as a bundle: a history file of its own that replays
/// offline, with the identifiers asked for gone from every byte of it.
#[test]
fn an_incident_bundle_replays_and_holds_no_redacted_name() {
    let dir = crate::support::tempdir("bundle");
    let db = dir.join("demo.db");
    sentinel(&[
        "demo",
        "--db",
        db.to_str().unwrap(),
        "--duration",
        "3s",
        "--interval",
        "1s",
    ]);
    let (incident, pods) = tauri::async_runtime::block_on(async {
        let store = Store::open_read_only(&db).await.unwrap();
        let rows = store.incidents(&Default::default()).await.unwrap();
        let mut pods = std::collections::BTreeSet::new();
        for (_, key) in store.series_keys().await.unwrap() {
            if let Some(p) = key.labels.get("pod") {
                pods.insert(p.clone());
            }
        }
        store.close().await;
        (rows[0].id.clone(), pods)
    });
    let shop: Vec<&String> = pods.iter().filter(|p| p.starts_with("checkout-")).collect();
    assert!(!shop.is_empty(), "{pods:?}");

    let bundle = dir.join("incident.db");
    let out = sentinel(&[
        "history",
        "bundle",
        db.to_str().unwrap(),
        "--incident",
        &incident,
        "--pattern",
        r"checkout-[a-z0-9]+-[a-z0-9]+",
        "--out",
        bundle.to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("identifiers redacted"), "{said}");

    // The Kubernetes events are kept (the API server forgets them after an
    // hour) and go into the bundle, redacted like the rest.
    let events = sentinel(&["history", "events", db.to_str().unwrap()]);
    let events = String::from_utf8_lossy(&events.stdout);
    assert!(
        events.contains("BackOff") && events.contains("ScalingReplicaSet"),
        "{events}"
    );
    let kept = sentinel(&["history", "events", bundle.to_str().unwrap(), "--json"]);
    let kept: Vec<sentinel_model::ClusterEvent> = String::from_utf8_lossy(&kept.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!kept.is_empty());
    assert!(
        kept.iter()
            .filter(|e| e.involved_object.kind == "Pod")
            .all(|e| !e.involved_object.name.starts_with("checkout-")),
        "{kept:?}"
    );

    // It replays offline, to findings.
    let found = replayed(&bundle);
    assert!(!found.is_empty());
    // Not one byte of a redacted pod name is left, where the original has them.
    let original = std::fs::read(&db).unwrap();
    let bytes = std::fs::read(&bundle).unwrap();
    let has = |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(shop.iter().any(|p| has(&original, p)));
    for p in &shop {
        assert!(!has(&bytes, p), "{p} is still in the bundle");
    }
    assert!(has(&bytes, "<redacted-1>"));

    // A bundle is always a new file.
    let again = Command::new(crate::support::binary("sentinel"))
        .args([
            "history",
            "bundle",
            db.to_str().unwrap(),
            "--incident",
            &incident,
            "--out",
        ])
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}
