//! Live sources against a real Prometheus and Alertmanager scraping the
//! simulated cluster (scripts/stack.sh), and against a fake server for the
//! faults: timeouts, huge and malformed bodies, refused credentials.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentinel_model::{AlertState, Timestamp};
use sentinel_prom::{Alertmanager, Endpoint, Matcher, NewSilence, Prometheus};
use sentinel_protocol::Update;
use sentinel_runtime::{Clock, Health, PrometheusSource, Runtime, SystemClock};

use crate::stack::{Fault, Stack, fake_server};

fn watch_once(prometheus: &str, extra: &[&str]) -> Vec<Update> {
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
    let out = Command::new(crate::support::binary("sentinel"))
        .args(&args)
        .output()
        .expect("run sentinel watch");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not an Update ({e}): {l}")))
        .collect()
}

async fn within<T>(what: &str, d: Duration, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(d, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {d:?}"))
}

#[test]
fn watch_once_shows_the_simulated_cluster_through_a_real_prometheus() {
    let stack = Stack::shared();
    let am = ["--alertmanager", stack.alertmanager.as_str()];
    let updates = watch_once(&stack.prometheus, &am);
    let [Update::Overview(o), Update::Pods(pods)] = updates.as_slice() else {
        panic!(
            "expected an overview and a pods page, got {} updates",
            updates.len()
        );
    };
    let health: Vec<_> = o
        .status
        .sources
        .iter()
        .map(|s| (s.kind.as_str(), s.health))
        .collect();
    assert_eq!(
        health,
        [
            ("prometheus", sentinel_protocol::Health::Ok),
            ("alertmanager", sentinel_protocol::Health::Ok)
        ],
        "{:?}",
        o.status.sources
    );
    // The same pods the simulation has, by name, with their nodes and images.
    let mut sim = sentinel_sim::Sim::new(sentinel_sim::SimConfig::default(), Timestamp(0));
    let frame = sim.step(Timestamp(2000));
    let mut want: Vec<String> = frame
        .pods
        .iter()
        .map(|p| format!("{}/{}", p.namespace, p.name))
        .collect();
    let mut got: Vec<String> = pods
        .rows
        .iter()
        .map(|p| format!("{}/{}", p.namespace, p.name))
        .collect();
    want.sort();
    got.sort();
    // Pods the scenario replaces (rollouts, evictions) change names; most do not.
    let common = want.iter().filter(|w| got.contains(w)).count();
    assert!(
        common >= 35,
        "only {common} of {} pods in common: {got:?}",
        want.len()
    );
    assert!(
        pods.rows
            .iter()
            .all(|p| p.node.is_some() || p.phase != "Running")
    );
    // Charts have the history Prometheus holds, not just one point.
    let cpu = o.charts.iter().find(|c| c.id == "cpu").expect("cpu chart");
    assert!(
        cpu.points.len() >= 2,
        "cpu chart has {} points",
        cpu.points.len()
    );
    let requests = o
        .charts
        .iter()
        .find(|c| c.id == "requests")
        .expect("requests chart");
    assert!(
        !requests.points.is_empty(),
        "the request-rate chart is empty"
    );
    // The card is the same number PromQL gives for the newest step.
    let at = Timestamp(cpu.points.last().expect("a point").0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let prom = Prometheus::new(Endpoint::new(&stack.prometheus)).unwrap();
    let q = r#"100 * sum(rate(node_cpu_usage_seconds_total[1m])) / sum(kube_node_status_capacity{resource="cpu"})"#;
    let series = rt.block_on(prom.query(q, at)).unwrap().into_series();
    let expected = series[0].values[0].value;
    let card = o.cards.cpu_percent.expect("cpu card");
    assert!(
        (card - expected).abs() < 1e-6,
        "card {card} vs PromQL {expected}"
    );
    // Alerts come from Alertmanager: the Watchdog always fires.
    assert!(
        o.alerts.iter().any(|a| a.name == "Watchdog"),
        "{:?}",
        o.alerts.iter().map(|a| &a.name).collect::<Vec<_>>()
    );
}

#[test]
fn watch_once_without_alertmanager_takes_alerts_from_prometheus() {
    let stack = Stack::shared();
    let updates = watch_once(&stack.prometheus, &[]);
    let Some(Update::Overview(o)) = updates.first() else {
        panic!("no overview")
    };
    assert_eq!(o.status.sources.len(), 1);
    assert!(o.alerts.iter().any(|a| a.name == "Watchdog"));
}

#[test]
fn watch_once_with_a_dead_prometheus_exits_0_and_says_why() {
    let stack = Stack::shared();
    let updates = watch_once(
        "http://127.0.0.1:9",
        &["--alertmanager", &stack.alertmanager, "--timeout", "1s"],
    );
    let Some(Update::Overview(o)) = updates.first() else {
        panic!("no overview")
    };
    let prom = &o.status.sources[0];
    assert_eq!(prom.health, sentinel_protocol::Health::Down);
    let msg = prom.message.as_deref().unwrap_or_default();
    assert!(
        msg.contains("cannot connect to http://127.0.0.1:9"),
        "{msg}"
    );
    assert_eq!(o.status.sources[1].health, sentinel_protocol::Health::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silences_are_created_seen_and_expired_in_a_real_alertmanager() {
    let stack = Stack::shared();
    let am = Alertmanager::new(Endpoint::new(&stack.alertmanager)).unwrap();
    let now = SystemClock.now();
    let id = am
        .create_silence(&NewSilence {
            id: None,
            matchers: vec![Matcher::equal("alertname", "Watchdog")],
            starts_at: now,
            ends_at: now.saturating_add(sentinel_model::Duration::from_mins(10)),
            created_by: "sentinel-test".into(),
            comment: "ack: looking into it".into(),
        })
        .await
        .unwrap();
    let listed = am.silences().await.unwrap();
    let s = listed
        .iter()
        .find(|s| s.id == id)
        .expect("the new silence is listed");
    assert_eq!(s.state, "active");
    assert_eq!(s.comment, "ack: looking into it");
    // Alertmanager marks the alert suppressed.
    within("watchdog suppressed", Duration::from_secs(20), async {
        loop {
            let alerts = am.alerts(&Default::default()).await.unwrap();
            if alerts
                .iter()
                .any(|a| a.labels["alertname"] == "Watchdog" && a.state == AlertState::Suppressed)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await;
    am.expire_silence(&id).await.unwrap();
    let listed = am.silences().await.unwrap();
    assert_eq!(
        listed.iter().find(|s| s.id == id).map(|s| s.state.as_str()),
        Some("expired")
    );
    // Bad requests get Alertmanager's reason, not a panic.
    let err = am.expire_silence("no-such-silence").await.unwrap_err();
    assert!(matches!(err.kind(), "status" | "api"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_killed_mid_run_goes_stale_then_recovers() {
    let stack = tokio::task::spawn_blocking(Stack::up).await.unwrap();
    let mut e = Endpoint::new(&stack.prometheus);
    e.timeout = Duration::from_secs(1);
    e.retries = 0;
    let interval = Duration::from_secs(1);
    let rt = Runtime::builder(Arc::new(SystemClock))
        .mode(sentinel_runtime::Mode::Live)
        .source(PrometheusSource::new(
            "prometheus",
            Prometheus::new(e).unwrap(),
            interval,
        ))
        .start();
    let ok = within(
        "first data",
        Duration::from_secs(20),
        rt.wait_for(|s| s.sources[0].health == Health::Ok && !s.pods.is_empty()),
    )
    .await
    .unwrap();
    let pods = ok.pods.len();
    let killed = Instant::now();
    stack.stop("prometheus");
    let stale = within(
        "stale",
        Duration::from_secs(10),
        rt.wait_for(|s| s.sources[0].health == Health::Stale),
    )
    .await
    .unwrap();
    let to_stale = killed.elapsed();
    // Two intervals and the one-second grace, plus one poll's timeout.
    assert!(
        to_stale <= Duration::from_secs(5),
        "stale after {to_stale:?}"
    );
    assert!(
        stale.sources[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("cannot connect"),
        "{:?}",
        stale.sources[0].last_error
    );
    // The last good picture stays on screen.
    assert_eq!(stale.pods.len(), pods);
    let restarted = Instant::now();
    stack.start("prometheus");
    let back = within(
        "recovered",
        Duration::from_secs(30),
        rt.wait_for(|s| s.sources[0].health == Health::Ok),
    )
    .await
    .unwrap();
    assert!(back.sources[0].last_error.is_none());
    // A scrape target that dies: Prometheus is fine, but the series the
    // target fed are its last samples repeated. The source goes stale (and,
    // five intervals on, down: which one the check sees depends on how soon
    // Prometheus marks the target down) and says which job is down.
    stack.stop("exporter");
    let why = tokio::time::timeout(
        Duration::from_secs(30),
        rt.wait_for(|s| {
            matches!(s.sources[0].health, Health::Stale | Health::Down)
                && s.sources[0]
                    .notes
                    .iter()
                    .any(|n| n.message.contains("(job kubernetes-demo) is down"))
        }),
    )
    .await
    .unwrap_or_else(|_| panic!("no diagnosis within 30 s: {:?}", rt.snapshot().sources))
    .unwrap();
    let error = why.sources[0].last_error.as_deref().unwrap_or_default();
    assert!(
        error.contains("every target of job kubernetes-demo is down"),
        "{error}"
    );
    println!(
        "dead source detected (stale) in {:.2} s; recovered {:.2} s after restart",
        to_stale.as_secs_f64(),
        restarted.elapsed().as_secs_f64()
    );
    rt.shutdown(Duration::from_secs(5)).await;
}

fn client(url: &str) -> Prometheus {
    let mut e = Endpoint::new(url);
    e.timeout = Duration::from_millis(500);
    e.retries = 1;
    e.max_bytes = 8 << 20;
    Prometheus::new(e).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_give_clear_errors_not_panics() {
    let at = Timestamp(1_700_000_000_000);
    let slow = client(&fake_server(Fault::Slow(Duration::from_secs(5))).await);
    let t = Instant::now();
    let err = slow.query("up", at).await.unwrap_err();
    assert_eq!(err.kind(), "timeout", "{err}");
    // One retry: two timeouts and a pause, not five seconds.
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

    let huge = client(&fake_server(Fault::Huge(200 << 20)).await);
    let err = huge.query("up", at).await.unwrap_err();
    assert_eq!(err.kind(), "too_large", "{err}");
    assert!(err.to_string().contains("8388608-byte limit"), "{err}");

    let bad = client(
        &fake_server(Fault::Body(
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{",
        ))
        .await,
    );
    let err = bad.query("up", at).await.unwrap_err();
    assert_eq!(err.kind(), "malformed", "{err}");

    let html = client(&fake_server(Fault::Body("<html>login</html>")).await);
    let err = html.query("up", at).await.unwrap_err();
    assert!(err.to_string().contains("got HTML"), "{err}");

    let denied = client(&fake_server(Fault::Status(401, "")).await);
    assert_eq!(
        denied.query("up", at).await.unwrap_err().kind(),
        "unauthorized"
    );

    let forbidden = client(&fake_server(Fault::Status(
        403,
        "services \"prometheus-k8s:9090\" is forbidden: User \"dev\" cannot get resource \"services/proxy\"",
    ))
    .await);
    let err = forbidden.query("up", at).await.unwrap_err();
    assert_eq!(err.kind(), "forbidden");
    // The server's own reason reaches the operator, verb and resource included.
    assert!(
        err.to_string()
            .contains("403 Forbidden: services \"prometheus-k8s:9090\" is forbidden: User \"dev\" cannot get resource \"services/proxy\""),
        "{err}"
    );

    let bad_query = client(&fake_server(Fault::Status(
        400,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error"}"#,
    ))
    .await);
    let err = bad_query.query("up{", at).await.unwrap_err();
    assert_eq!(err.kind(), "api");
    assert!(
        err.to_string().starts_with("bad_data: invalid parameter"),
        "{err}"
    );
}

#[test]
fn the_demo_exporter_passes_promtool_check_metrics() {
    let stack = Stack::shared();
    let body = Command::new("curl")
        .args(["-fsS", &format!("{}/metrics", stack.exporter)])
        .output()
        .expect("curl");
    assert!(body.status.success());
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool");
    use std::io::Write;
    check.stdin.take().unwrap().write_all(&body.stdout).unwrap();
    let out = check.wait_with_output().unwrap();
    let problems =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && problems.trim().is_empty(),
        "promtool: {problems}"
    );
}
