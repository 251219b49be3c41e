//! A recorded incident, backfilled into a real Prometheus with `promtool
//! tsdb create-blocks-from openmetrics`, read back by `sentinel watch`: the
//! CPU chart follows what the cluster did, and the engine's findings name
//! the pods that crash-looped in it.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration as StdDuration;

use sentinel_model::{Duration, Timestamp};
use sentinel_protocol::{AlertOrigin, Update};
use sentinel_runtime::{Clock, SystemClock};
use sentinel_sim::SimConfig;

use crate::demo_causes::{payments_with_its_callers, slow_dependency_named};
use crate::stack::Stack;
use crate::support::{binary, tempdir};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real Prometheus holding `frames` (backfilled with promtool), with
/// no scrape targets of its own: while it runs, its address.
struct Backfilled {
    _prom: Killed,
    url: String,
}

/// `frames` backfilled into a fresh Prometheus, less the series whose name
/// starts with one of `without`.
fn backfill(dir: &std::path::Path, frames: &[sentinel_sim::Frame], without: &[&str]) -> Backfilled {
    let om = dir.join("incident.om");
    let mut history = sentinel_sim::openmetrics::history(frames);
    if !without.is_empty() {
        history = history
            .lines()
            .filter(|l| !without.iter().any(|w| l.starts_with(w)))
            .fold(String::with_capacity(history.len()), |mut out, l| {
                out.push_str(l);
                out.push('\n');
                out
            });
    }
    std::fs::write(&om, history).unwrap();

    let data = dir.join("tsdb");
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&data)
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let config_file = dir.join("prom.yml");
    std::fs::write(
        &config_file,
        "global:\n  scrape_interval: 15s\nscrape_configs: []\n",
    )
    .unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let prom = Killed(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.retention.time=100y")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus"),
    );
    let deadline = std::time::Instant::now() + StdDuration::from_secs(30);
    let client = sentinel_prom::Prometheus::new(sentinel_prom::Endpoint::new(&url)).unwrap();
    let probe = tokio::runtime::Runtime::new().unwrap();
    while probe.block_on(client.version()).is_err() {
        assert!(std::time::Instant::now() < deadline, "Prometheus not ready");
        std::thread::sleep(StdDuration::from_millis(200));
    }
    Backfilled { _prom: prom, url }
}

/// The 30 minutes ending now, at 15 s steps, starting `loop_at` seconds
/// into the demo's incident loop.
fn recording(config: SimConfig, loop_at: i64) -> (Timestamp, Vec<sentinel_sim::Frame>) {
    let step = Duration::from_secs(15);
    let now = SystemClock.now();
    let end = Timestamp(now.millis() / step.millis() * step.millis());
    let start = end.saturating_sub(Duration::from_mins(30));
    (
        end,
        sentinel_sim::openmetrics::frames(config, start, end, step, loop_at),
    )
}

#[test]
fn a_backfilled_incident_gives_the_charts_and_findings_it_recorded() {
    // The shared stack installs Prometheus and promtool when missing.
    let _ = Stack::shared();
    let dir = tempdir("backfill");
    // 840 s into the loop at the start: checkout's bad rollout comes 3
    // minutes before the end, so its first pod is crash-looping when the
    // recording ends (a pod already deleted by then is not among the
    // objects a first poll reads, and its history is not shown).
    let (end, frames) = recording(SimConfig { seed: 7, pods: 40 }, 840);
    let prom = backfill(&dir, &frames, &[]);
    let url = prom.url.clone();

    let out = Command::new(binary("sentinel"))
        .args([
            "watch",
            "--prometheus",
            &url,
            "--once",
            "--json",
            "--interval",
            "15s",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let overview = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| match serde_json::from_str(l) {
            Ok(Update::Overview(o)) => Some(o),
            _ => None,
        })
        .expect("an overview");

    // The CPU chart: the cluster's CPU as the recording had it, within the
    // smoothing of `rate(...[1m])`, at every step of the last 15 minutes.
    let truth: std::collections::BTreeMap<i64, f64> = frames
        .iter()
        .map(|f| {
            let cores: f64 = f.node_usage.iter().map(|u| u.cpu_cores).sum();
            let cap: f64 = f
                .nodes
                .iter()
                .map(|n| f64::from(n.cpu_capacity_millis) / 1000.0)
                .sum();
            (f.at.millis(), 100.0 * cores / cap)
        })
        .collect();
    let cpu = overview.charts.iter().find(|c| c.id == "cpu").unwrap();
    let window_start = end.saturating_sub(Duration::from_mins(14)).millis();
    let points: Vec<(i64, f64)> = cpu
        .points
        .iter()
        .filter(|p| p.0 >= window_start)
        .map(|p| (p.0, p.1))
        .collect();
    assert!(points.len() >= 50, "{} points in 14 minutes", points.len());
    let mut errors = Vec::new();
    for (t, v) in &points {
        // A minute's average, as rate() over 1m gives it.
        let near: Vec<f64> = truth.range(t - 60_000..=*t).map(|(_, v)| *v).collect();
        let mean = near.iter().sum::<f64>() / near.len() as f64;
        errors.push((v - mean).abs());
    }
    let mean_error = errors.iter().sum::<f64>() / errors.len() as f64;
    assert!(
        mean_error < 3.0,
        "CPU off by {mean_error:.2} points on average"
    );

    // The findings: the pods whose containers restarted in the window,
    // every one of them and no other.
    let mut restarted = BTreeSet::new();
    for pair in frames.windows(2) {
        if pair[1].at.millis() <= end.saturating_sub(Duration::from_mins(15)).millis() {
            continue;
        }
        for p in &pair[1].pods {
            let before = pair[0]
                .pods
                .iter()
                .find(|q| q.uid == p.uid)
                .map_or(0, |q| q.restarts());
            if p.restarts() > before {
                restarted.insert(format!("{}/{}", p.namespace, p.name));
            }
        }
    }
    assert!(!restarted.is_empty(), "the recording has the crash loop");
    let found: BTreeSet<String> = overview
        .alerts
        .iter()
        .filter(|a| a.origin == AlertOrigin::Engine && a.name == "ContainerRestarting")
        .map(|a| {
            format!(
                "{}/{}",
                a.labels.get("namespace").cloned().unwrap_or_default(),
                a.labels.get("pod").cloned().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(found, restarted);
    eprintln!(
        "backfill: {} frames, CPU mean error {mean_error:.2} points over {} points; restarted {restarted:?}",
        frames.len(),
        points.len()
    );
}

/// Prometheus alone (no Kubernetes API, no alert rules, no mesh), holding
/// the demo's slowdown and the service graph a tracing pipeline counts: the
/// engine's cluster-wide anomaly opens the incident, its capture takes the
/// pods of the services that slowed, and the calls read from
/// `traces_service_graph_request_total` (services named without their
/// namespace, placed by kube-state-metrics' pods) tell payments, the one
/// the others wait on.
#[test]
fn a_slow_dependency_is_named_from_prometheus_alone() {
    let _ = Stack::shared();
    let dir = tempdir("backfill-slow");
    // 300 s into the loop at the start: payments slows down 26 minutes in,
    // four minutes before the end, after the noisy neighbour has gone.
    let (_, frames) = recording(SimConfig { seed: 42, pods: 40 }, 300);
    let prom = backfill(&dir, &frames, &["istio_requests_total"]);
    let client = sentinel_prom::Prometheus::new(sentinel_prom::Endpoint::new(&prom.url)).unwrap();
    let tokio = tokio::runtime::Runtime::new().unwrap();
    tokio.block_on(async {
        let graph = sentinel_prom::calls::call_graph(&client, SystemClock.now())
            .await
            .unwrap();
        assert_eq!(graph.meshes, ["the service graph of traces"]);
        assert_eq!(
            graph.calls,
            [
                ("checkout".to_string(), "payments".to_string()),
                ("frontend".to_string(), "checkout".to_string())
            ]
        );
        let rt = sentinel_runtime::Runtime::builder(std::sync::Arc::new(SystemClock))
            .mode(sentinel_runtime::Mode::Live)
            .fresh_incidents()
            .live(client, None, StdDuration::from_secs(15))
            .start();
        let snap = crate::demo_causes::wait(
            &rt,
            60,
            |s| slow_dependency_named(s).is_some(),
            "a slow dependency named from Prometheus alone",
        )
        .await;
        assert_eq!(
            *snap.calls,
            crate::calls::demo_calls(),
            "the calls, from the service graph, placed in their namespace"
        );
        let (title, e) = slow_dependency_named(&snap).unwrap();
        assert!(title.ends_with("on cluster"), "{title}");
        payments_with_its_callers(&title, &e);
        rt.shutdown(StdDuration::from_secs(10)).await;
    });
}
