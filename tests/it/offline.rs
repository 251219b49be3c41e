//! A history recorded from a real Prometheus and Alertmanager replays with
//! every source down: the same findings, the pods and alerts of any moment,
//! and nothing asked of the network.

use std::process::Command;

use sentinel_model::Finding;
use sentinel_store::Store;

use crate::stack::Stack;

fn reachable(url: &str) -> bool {
    Command::new("curl")
        .args(["-fsS", "--max-time", "1", &format!("{url}/-/ready")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_live_recording_replays_with_every_source_down() {
    let stack = Stack::up();
    stack.wait_for_scrapes(5);
    let dir = crate::support::tempdir("offline");
    let db = dir.join("live.db");
    // A rule that fires on any live cluster, so there are findings to compare.
    let rules = dir.join("busy.yaml");
    std::fs::write(
        &rules,
        r#"rules:
  - name: ClusterBusy
    selector: {metric: cluster_cpu_percent}
    detector: {kind: threshold, op: ">", value: 0}
    severity: warning
    explain: "CPU {value} > {threshold}"
"#,
    )
    .unwrap();
    let out = Command::new(crate::support::binary("sentinel"))
        .args(["watch", "--prometheus", &stack.prometheus])
        .arg("--rules")
        .arg(&rules)
        .args(["--alertmanager", &stack.alertmanager])
        .args(["--interval", "1s", "--duration", "6s", "--json", "--db"])
        .arg(&db)
        .output()
        .expect("run sentinel watch");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (prometheus, alertmanager) = (stack.prometheus.clone(), stack.alertmanager.clone());
    // Every source down.
    drop(stack);
    assert!(!reachable(&prometheus) && !reachable(&alertmanager));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (live, stats) = rt.block_on(async {
        let store = Store::open_read_only(&db).await.unwrap();
        let live = store.reported_findings().await.unwrap();
        let stats = store.stats().await.unwrap();
        store.close().await;
        (live, stats)
    });
    assert!(stats.samples > 1000, "{stats:?}");
    assert!(
        live.iter().any(|f| f.rule == "ClusterBusy"),
        "no finding recorded: {live:?}"
    );
    let kinds: Vec<&str> = stats
        .sources
        .iter()
        .filter_map(|s| s.rsplit_once('(').map(|(_, k)| k.trim_end_matches(')')))
        .collect();
    assert!(
        kinds.contains(&"prometheus") && kinds.contains(&"alertmanager"),
        "{:?}",
        stats.sources
    );

    // The CLI replays it to the findings reported live.
    let out = Command::new(crate::support::binary("sentinel"))
        .args(["replay", "--json"])
        .arg(&db)
        .output()
        .expect("run sentinel replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut replayed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "finding")
        .map(|v| {
            let f: Finding = serde_json::from_value(v["finding"].clone()).unwrap();
            serde_json::to_string(&f).unwrap()
        })
        .collect();
    let mut recorded: Vec<String> = live
        .iter()
        .map(|f| serde_json::to_string(f).unwrap())
        .collect();
    replayed.sort();
    recorded.sort();
    assert_eq!(
        replayed, recorded,
        "replay differs from what was reported live"
    );

    // The app's replay: what the engine reports again, and the pods and
    // Alertmanager's alerts of the last moment, read from the file alone.
    let path = db.display().to_string();
    let r = rt
        .block_on(sentinel_service::replay_file(
            &sentinel_protocol::ReplayRequest { path: path.clone() },
        ))
        .unwrap();
    assert_eq!(r.findings_total, live.len());
    let frame = rt
        .block_on(sentinel_service::replay_state(
            &sentinel_protocol::ReplayAt {
                path,
                at: r.to.unwrap(),
            },
        ))
        .unwrap();
    assert!(frame.objects_recorded);
    assert!(frame.pods_total > 10, "{}", frame.pods_total);
    assert!(
        frame
            .alerts
            .iter()
            .any(|a| a.origin == sentinel_protocol::AlertOrigin::Alertmanager
                && a.name == "Watchdog"),
        "{:?}",
        frame.alerts
    );
}
