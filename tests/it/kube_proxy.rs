//! A context and no Prometheus URL: `sentinel watch` finds Prometheus
//! behind the API server's service proxy (the fake API server relays to the
//! real Prometheus of scripts/stack.sh) and reads the cluster's usage
//! through it with the kubeconfig's credentials.

use sentinel_prom::{Endpoint, Prometheus};
use sentinel_protocol::{Health, Update};
use sentinel_runtime::{Clock, SystemClock};

use crate::fakekube::FakeKube;
use crate::kube::{NODES, PODS, node, pod};
use crate::stack::Stack;

async fn watch_once(kubeconfig: &std::path::Path) -> std::process::Output {
    let kubeconfig = kubeconfig.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(crate::support::binary("sentinel"))
            .args([
                "watch",
                "--once",
                "--json",
                "--interval",
                "1s",
                "--kubeconfig",
            ])
            .arg(&kubeconfig)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_is_found_and_read_through_the_service_proxy() {
    let stack = tokio::task::spawn_blocking(Stack::shared).await.unwrap();
    let dir = crate::support::tempdir("kube-proxy");
    let fake = FakeKube::start("t0ken").await;
    // The API server knows the nodes Prometheus has metrics of.
    let prom = Prometheus::new(Endpoint::new(&stack.prometheus)).unwrap();
    let mut nodes = Vec::new();
    for _ in 0..60 {
        nodes = prom
            .query("kube_node_info", SystemClock.now())
            .await
            .unwrap()
            .into_series()
            .into_iter()
            .filter_map(|s| s.metric.get("node").cloned())
            .collect();
        if !nodes.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    assert!(!nodes.is_empty(), "the stack's Prometheus has no nodes");
    for n in &nodes {
        fake.put(NODES, node(n));
    }
    fake.put(
        PODS,
        pod("checkout-6f7c9d-a", &nodes[0], "shop/checkout:1.4.2"),
    );
    fake.proxy("monitoring", "prometheus-operated:9090", &stack.prometheus);
    let kubeconfig = fake.kubeconfig(&dir);

    let out = watch_once(&kubeconfig).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Prometheus: {}/api/v1/namespaces/monitoring/services/prometheus-operated:9090/proxy",
            fake.url
        )),
        "{stderr}"
    );
    let overview = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| match serde_json::from_str(l) {
            Ok(Update::Overview(o)) => Some(o),
            _ => None,
        })
        .expect("an overview");
    let prom = overview
        .status
        .sources
        .iter()
        .find(|s| s.kind == "prometheus")
        .expect("a Prometheus source");
    assert_eq!(prom.health, Health::Ok, "{:?}", prom.message);
    let cpu = overview.charts.iter().find(|c| c.id == "cpu").unwrap();
    assert!(
        !cpu.points.is_empty(),
        "CPU read through the proxy: {cpu:?}"
    );

    // The usual services were tried in order, and the queries went through
    // the proxy with the kubeconfig's token (the fake answers 401 otherwise).
    let requests = fake.requests();
    let probe = |svc: &str| {
        requests
            .iter()
            .position(|r| r.contains(&format!("/services/{svc}/proxy/api/v1/status/buildinfo")))
    };
    assert!(probe("prometheus-k8s:9090") < probe("prometheus-operated:9090"));
    assert!(
        requests.iter().any(|r| r.starts_with(
            "POST /api/v1/namespaces/monitoring/services/prometheus-operated:9090/proxy/api/v1/query_range"
        )),
        "{requests:?}"
    );

    // Credentials that may not use the proxy: said, and the watch goes on
    // with the cluster alone.
    fake.forbid("/api/v1/namespaces/monitoring/services/prometheus-operated:9090/proxy");
    let out = watch_once(&kubeconfig).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("no Prometheus found through the API server's service proxy")
            && stderr.contains(
                "monitoring/prometheus-operated:9090 (403 Forbidden: the credentials may not get services/proxy)"
            )
            && stderr.contains("monitoring/prometheus-k8s:9090 (no such service)"),
        "{stderr}"
    );
}

/// The app's way: the runtime looks for Prometheus in the background and
/// the source turns healthy once found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_finds_prometheus_in_the_background() {
    let stack = tokio::task::spawn_blocking(Stack::shared).await.unwrap();
    let dir = crate::support::tempdir("kube-proxy-runtime");
    let fake = FakeKube::start("t0ken").await;
    fake.proxy("monitoring", "prometheus-server:80", &stack.prometheus);
    let conn = sentinel_kube::connect(Some(&fake.kubeconfig(&dir)), None)
        .await
        .unwrap();
    let rt = sentinel_runtime::Runtime::builder(std::sync::Arc::new(SystemClock))
        .discovered_prometheus(
            conn,
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(5),
        )
        .start();
    let snap = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        rt.wait_for(|s| s.sources[0].health == sentinel_runtime::Health::Ok),
    )
    .await
    .expect("Prometheus found and polled")
    .unwrap();
    assert_eq!(snap.sources[0].name, "prometheus (fake service proxy)");
    assert!(
        !snap.pods.is_empty(),
        "pods from kube-state-metrics through the proxy"
    );
    rt.shutdown(std::time::Duration::from_secs(5)).await;
}
