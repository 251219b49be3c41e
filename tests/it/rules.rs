//! Rule files both ways against real tools: the exported pack passes
//! `promtool check rules` and its expressions run on a real Prometheus
//! scraping the simulated cluster; imported Prometheus rules fire in
//! Sentinel's engine on the series they name.

use std::process::Command;

use sentinel_detect::promrules::PromRuleFile;
use sentinel_prom::{Endpoint, Prometheus};
use sentinel_protocol::{AlertOrigin, Update};
use sentinel_runtime::{Clock, SystemClock};

use crate::stack::Stack;
use crate::support::{binary, tempdir};

fn sentinel(args: &[&str]) -> std::process::Output {
    let out = Command::new(binary("sentinel"))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exported_pack_passes_promtool_and_runs_on_a_real_prometheus() {
    let stack = Stack::shared();
    let dir = tempdir("rules-export");
    let file = dir.join("sentinel.rules.yaml");
    let out = sentinel(&[
        "rules",
        "export",
        "--step",
        "2s",
        "--out",
        file.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("left out LatencyDistributionDrift: PSI"),
        "{stderr}"
    );

    let check = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&file)
        .output()
        .expect("run promtool");
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(said.contains("SUCCESS"), "{said}");

    // Every expression is one Prometheus evaluates (promtool checks syntax,
    // not whether the functions and label matching work on real data).
    let parsed: PromRuleFile =
        serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let rules = &parsed.groups[0].rules;
    assert!(rules.len() >= 10, "{} rules", rules.len());
    let prom = Prometheus::new(Endpoint::new(&stack.prometheus)).unwrap();
    let now = SystemClock.now();
    for r in rules {
        prom.query(&r.expr, now)
            .await
            .unwrap_or_else(|e| panic!("{:?}: {} fails on Prometheus: {e}", r.alert, r.expr));
    }

    // The node CPU ratio means what Sentinel's series means: one value per
    // node of the simulated cluster, a fraction of its capacity.
    let cpu = rules
        .iter()
        .find(|r| r.alert.as_deref() == Some("NodeCPUHigh"))
        .unwrap();
    let ratio = cpu.expr.trim_end_matches(" > 0.8");
    let series = within_a_minute(&prom, ratio).await;
    let nodes: std::collections::BTreeSet<String> = series
        .iter()
        .map(|s| s.metric.get("node").cloned().unwrap_or_default())
        .collect();
    let overview_nodes = watch_once(&stack.prometheus, &[]).0;
    assert_eq!(nodes, overview_nodes, "{ratio}");
    for s in &series {
        let v = s.values[0].value;
        assert!(v > 0.0 && v < 1.0, "{:?}: {v}", s.metric);
    }
}

/// The answer of `expr` once it has any series (scrapes need a moment on a
/// fresh stack).
async fn within_a_minute(prom: &Prometheus, expr: &str) -> Vec<sentinel_prom::parse::Series> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let got = prom
            .query(expr, SystemClock.now())
            .await
            .unwrap()
            .into_series();
        if !got.is_empty() || std::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// Node names and the engine's alert rows from one `sentinel watch --once`.
fn watch_once(
    prometheus: &str,
    extra: &[&str],
) -> (
    std::collections::BTreeSet<String>,
    Vec<sentinel_protocol::AlertRow>,
) {
    let mut args = vec![
        "watch",
        "--prometheus",
        prometheus,
        "--once",
        "--json",
        "--interval",
        "2s",
    ];
    args.extend_from_slice(extra);
    let out = sentinel(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in stdout.lines() {
        if let Ok(Update::Overview(o)) = serde_json::from_str::<Update>(line) {
            let nodes = o.nodes.iter().map(|n| n.name.clone()).collect();
            return (nodes, o.alerts);
        }
    }
    panic!("no overview in {stdout}");
}

const PROMETHEUS_RULES: &str = r#"
groups:
- name: imported
  rules:
  - alert: NodeKnown
    expr: kube_node_info{node=~".+"} > 0
    labels: {severity: critical}
    annotations:
      summary: "Node {{ $labels.node }} is known to kube-state-metrics"
  - alert: NeverFires
    expr: kube_node_info > 1e9
    labels: {severity: critical}
  - alert: ClusterWide
    expr: sum(up) > 0
  - record: job:up:sum
    expr: sum by (job) (up)
"#;

#[test]
fn imported_prometheus_rules_fire_in_the_engine_on_live_series() {
    let stack = Stack::shared();
    let dir = tempdir("rules-import");
    let file = dir.join("prometheus.rules.yaml");
    std::fs::write(&file, PROMETHEUS_RULES).unwrap();

    // `sentinel rules import` says what it took and what it left.
    let out = sentinel(&["rules", "import", file.to_str().unwrap()]);
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(yaml.contains("name: NodeKnown"), "{yaml}");
    assert!(yaml.contains("metric: kube_node_info"), "{yaml}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("left out ClusterWide: `sum(up) > 0` is not evaluable by Sentinel: unsupported aggregation `sum`"),
        "{stderr}"
    );
    assert!(stderr.contains("left out job:up:sum"), "{stderr}");
    let imported = dir.join("imported.yaml");
    sentinel(&[
        "rules",
        "import",
        file.to_str().unwrap(),
        "--out",
        imported.to_str().unwrap(),
    ]);
    let check = sentinel(&["rules", "check", imported.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("2 rules Sentinel evaluates, 0 left out")
    );

    // The watch reads kube_node_info from Prometheus for the imported rule
    // and the engine raises one finding per node, with the node's label.
    let (nodes, alerts) = watch_once(&stack.prometheus, &["--rules", file.to_str().unwrap()]);
    let fired: std::collections::BTreeSet<String> = alerts
        .iter()
        .filter(|a| a.origin == AlertOrigin::Engine && a.name == "NodeKnown")
        .map(|a| {
            assert!(a.summary.starts_with("Node "), "{}", a.summary);
            a.labels.get("node").cloned().unwrap_or_default()
        })
        .collect();
    assert!(!nodes.is_empty());
    assert_eq!(fired, nodes);
    assert!(!alerts.iter().any(|a| a.name == "NeverFires"));

    // A rule file that does not parse is refused with its name.
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: soon\n",
    )
    .unwrap();
    let out = Command::new(binary("sentinel"))
        .args([
            "watch",
            "--prometheus",
            &stack.prometheus,
            "--once",
            "--rules",
        ])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml") && err.contains("bad duration"),
        "{err}"
    );
}
