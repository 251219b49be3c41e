//! The Connections page's commands on Tauri's mock runtime: a credential
//! goes in and never comes out, a connection is tested against the real
//! Prometheus of scripts/stack.sh, saved (the settings file holds names,
//! not secrets) and applied (the backend switches to live and back), and
//! the UI's stream follows the new backend.

use std::time::Duration as StdDuration;

use sentinel_app::{AppState, BackendOptions, Keys, Settings};
use sentinel_protocol::{
    Command, ConnectionKind, ConnectionSpec, CredentialRef, CredentialState, DeleteCredential,
    KindRef, ListConnections, ListContexts, NewCredential, NoArgs, RemoveConnection,
    SaveConnection, SetCredential, TestConnection,
};
use sentinel_runtime::{DemoConfig, Health, Mode};
use sentinel_sim::SimConfig;
use serde_json::json;
use tauri::Manager;
use tauri::test::MockRuntime;

use crate::ipc::invoke;
use crate::stack::Stack;

const PLANTED: &str = "s3cr3t-planted-7f4e9a";

/// Calls a command and keeps its raw answer, to search it for the secret.
fn call<C: Command>(
    w: &tauri::WebviewWindow<MockRuntime>,
    args: &C::Args,
    seen: &mut String,
) -> Result<C::Output, sentinel_protocol::IpcError> {
    let raw = invoke(w, C::NAME, json!({ "args": args }));
    let v = match &raw {
        Ok(v) | Err(v) => v.clone(),
    };
    seen.push_str(&v.to_string());
    match raw {
        Ok(v) => Ok(serde_json::from_value(v).expect("typed output")),
        Err(e) => Err(serde_json::from_value(e).expect("typed error")),
    }
}

fn wait<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + StdDuration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within 30 s"
        );
        std::thread::sleep(StdDuration::from_millis(100));
    }
}

#[test]
fn connections_are_tested_saved_applied_and_removed() {
    let stack = Stack::shared();
    let dir = crate::support::tempdir("connections");
    let settings_file = dir.join("settings.toml");
    let backend = BackendOptions {
        demo: DemoConfig {
            sim: SimConfig { seed: 5, pods: 40 },
            interval: StdDuration::from_millis(1000),
            ..DemoConfig::default()
        },
        reports: Some(dir.join("reports")),
        settings: Some((settings_file.clone(), Settings::default())),
        keys: Keys::session_only(),
        ..BackendOptions::default()
    };
    let (app, w) = crate::ipc::mock_app(backend);
    let state = app.state::<AppState>();
    let mut seen = String::new();

    let c = call::<ListConnections>(&w, &NoArgs {}, &mut seen).unwrap();
    assert!(c.demo && c.rows.is_empty());
    assert!(!c.keyring.available, "a session-only store says so");

    // The credential goes in; the answer says where, not what.
    let stored = call::<SetCredential>(
        &w,
        &NewCredential {
            name: "lab/prometheus".into(),
            value: PLANTED.into(),
        },
        &mut seen,
    )
    .unwrap();
    assert!(stored.stored && stored.session_only);

    // Testing before saving: a dead address is named, the real one answers.
    let dead = ConnectionSpec {
        url: "http://127.0.0.1:9".into(),
        ..ConnectionSpec::new(ConnectionKind::Prometheus)
    };
    let r = call::<TestConnection>(&w, &dead, &mut seen).unwrap();
    assert!(!r.ok);
    assert!(
        r.checks[0]
            .detail
            .contains("cannot connect to http://127.0.0.1:9"),
        "{r:?}"
    );
    // Something else answers: the test says what, and what to type.
    let what_answers = |kind, url: String, seen: &mut String| {
        let spec = ConnectionSpec {
            url,
            ..ConnectionSpec::new(kind)
        };
        let r = call::<TestConnection>(&w, &spec, seen).unwrap();
        assert!(!r.ok && r.checks.len() == 2, "{r:?}");
        assert_eq!(r.checks[1].name, "what answers", "{r:?}");
        r.checks[1].detail.clone()
    };
    let said = what_answers(
        ConnectionKind::Prometheus,
        stack.alertmanager.clone(),
        &mut seen,
    );
    assert!(
        said.starts_with("this address is Alertmanager 0.")
            && said.ends_with("not Prometheus: add it with \"Add Alertmanager\""),
        "{said}"
    );
    let said = what_answers(
        ConnectionKind::Alertmanager,
        stack.prometheus.clone(),
        &mut seen,
    );
    assert!(said.starts_with("this address is Prometheus 2."), "{said}");
    // A URL pasted from Prometheus' own page.
    let said = what_answers(
        ConnectionKind::Prometheus,
        format!("{}/graph", stack.prometheus),
        &mut seen,
    );
    assert!(
        said.contains(&format!(
            "answers at {}: use that address",
            stack.prometheus
        )),
        "{said}"
    );
    let missing = ConnectionSpec {
        url: stack.prometheus.clone(),
        token_name: Some("lab/nothing".into()),
        ..ConnectionSpec::new(ConnectionKind::Prometheus)
    };
    let r = call::<TestConnection>(&w, &missing, &mut seen).unwrap();
    assert!(!r.ok);
    assert!(r.checks[0].detail.contains("lab/nothing"), "{r:?}");
    let prom = ConnectionSpec {
        url: stack.prometheus.clone(),
        token_name: Some("lab/prometheus".into()),
        ..ConnectionSpec::new(ConnectionKind::Prometheus)
    };
    let r = call::<TestConnection>(&w, &prom, &mut seen).unwrap();
    assert!(
        r.checks[0].ok && r.checks[0].detail.starts_with("Prometheus 2."),
        "{r:?}"
    );
    assert!(r.latency_ms.is_some());
    // The demo exporter counts calls as Istio's sidecars do; once
    // Prometheus has two scrapes of them, the test reads the call graph.
    let graph = wait("the call graph", || {
        let r = call::<TestConnection>(&w, &prom, &mut seen).unwrap();
        let c = r.checks.into_iter().find(|c| c.name == "call graph")?;
        assert!(c.ok, "{c:?}");
        c.detail.starts_with("2 calls").then_some(c.detail)
    });
    assert_eq!(graph, "2 calls between services, from Istio's metrics");

    // Saving applies: the backend goes live on the stack, and the UI's
    // stream (following the backend) sees it.
    let mut follow = state.follow();
    let c = call::<SaveConnection>(&w, &prom, &mut seen).unwrap();
    assert_eq!(c.rows.len(), 1);
    assert_eq!(c.rows[0].credential, CredentialState::Stored);
    assert!(!c.demo);
    let live = tauri::async_runtime::block_on(async {
        tokio::time::timeout(StdDuration::from_secs(30), async {
            loop {
                let s = follow.latest();
                if s.mode == Mode::Live && s.sources.iter().any(|x| x.health == Health::Ok) {
                    return s;
                }
                assert!(follow.changed().await, "the app closed");
            }
        })
        .await
        .expect("live within 30 s")
    });
    assert_eq!(live.sources[0].kind, "prometheus");
    // The live source reads the same graph, for the incidents.
    let calls = wait("the calls in the snapshot", || {
        let s = follow.latest();
        (!s.calls.is_empty()).then(|| s.calls.clone())
    });
    assert_eq!(*calls, crate::calls::demo_calls());
    let c = wait("latency", || {
        let c = call::<ListConnections>(&w, &NoArgs {}, &mut seen).unwrap();
        c.rows[0].sources.first()?.latency_ms.map(|_| c)
    });
    assert_eq!(c.rows[0].sources[0].health, sentinel_protocol::Health::Ok);
    assert!(c.rows[0].sources[0].last_ok.is_some());

    let text = std::fs::read_to_string(&settings_file).unwrap();
    assert!(
        text.contains("token_keyring = \"lab/prometheus\""),
        "{text}"
    );
    assert!(!text.contains(PLANTED), "the settings file holds no secret");

    // A bad connection is refused and changes nothing.
    let bad = ConnectionSpec {
        url: "prometheus:9090".into(),
        ..ConnectionSpec::new(ConnectionKind::Prometheus)
    };
    let err = call::<SaveConnection>(&w, &bad, &mut seen).unwrap_err();
    assert!(err.message.contains("http://"), "{err:?}");
    assert_eq!(std::fs::read_to_string(&settings_file).unwrap(), text);

    // Kubernetes contexts of a kubeconfig that is not there: a clear error.
    let err = call::<ListContexts>(
        &w,
        &sentinel_protocol::ContextsQuery {
            kubeconfig: Some(dir.join("nope.yaml").display().to_string()),
        },
        &mut seen,
    )
    .unwrap_err();
    assert!(err.message.contains("kubeconfig"), "{err:?}");

    // Removing the only connection returns to the demo cluster; a replay
    // with live sources paused keeps them paused on the new runtime.
    call::<sentinel_protocol::SetReplayMode>(
        &w,
        &sentinel_protocol::ReplayMode {
            file: Some("/tmp/x.sentinel.db".into()),
            pause_live: true,
        },
        &mut seen,
    )
    .unwrap();
    let c = call::<RemoveConnection>(
        &w,
        &KindRef {
            cluster: String::new(),
            kind: ConnectionKind::Prometheus,
        },
        &mut seen,
    )
    .unwrap();
    assert!(c.rows.is_empty() && c.demo);
    assert_eq!(state.runtime().snapshot().mode, Mode::Demo);
    assert!(
        state.runtime().sources_paused(),
        "the new runtime is held too"
    );
    call::<sentinel_protocol::SetReplayMode>(
        &w,
        &sentinel_protocol::ReplayMode {
            file: None,
            pause_live: false,
        },
        &mut seen,
    )
    .unwrap();
    assert!(!state.runtime().sources_paused());

    // A Loki beside the demo cluster: the pod drawer's logs come from it.
    let loki = tauri::async_runtime::block_on(crate::fakeloki::FakeLoki::start(PLANTED));
    let pod = wait("the demo's pods", || {
        state
            .runtime()
            .snapshot()
            .pods
            .first()
            .map(|v| v.pod.clone())
    });
    let ns_now = i128::from(sentinel_runtime::Clock::now(&sentinel_runtime::SystemClock).millis())
        * 1_000_000;
    loki.add(ns_now - 1_000_000_000, &pod.name, "GET /healthz 200");
    let spec = ConnectionSpec {
        url: loki.url.clone(),
        token_name: Some("lab/prometheus".into()),
        ..ConnectionSpec::new(ConnectionKind::Loki)
    };
    let r = call::<TestConnection>(&w, &spec, &mut seen).unwrap();
    assert!(r.ok, "{r:?}");
    let c = call::<SaveConnection>(&w, &spec, &mut seen).unwrap();
    assert_eq!(c.rows[0].spec.kind, ConnectionKind::Loki);
    assert!(c.demo, "Loki alone keeps the demo cluster");
    let page = call::<sentinel_protocol::GetPodLogs>(
        &w,
        &sentinel_protocol::LogQuery {
            namespace: pod.namespace.clone(),
            pod: pod.name.clone(),
            container: None,
            tail: 10,
            follow: false,
            after: 0,
            source: Default::default(),
        },
        &mut seen,
    )
    .unwrap();
    assert_eq!(page.source, "loki");
    assert_eq!(page.lines[0].text, "GET /healthz 200");
    call::<RemoveConnection>(
        &w,
        &KindRef {
            cluster: String::new(),
            kind: ConnectionKind::Loki,
        },
        &mut seen,
    )
    .unwrap();

    let gone = call::<DeleteCredential>(
        &w,
        &CredentialRef {
            name: "lab/prometheus".into(),
        },
        &mut seen,
    )
    .unwrap();
    assert!(!gone.stored);
    assert!(!seen.contains(PLANTED), "no answer carries the secret");
    tauri::async_runtime::block_on(state.runtime().shutdown(StdDuration::from_secs(5)));
}

/// Two clusters at once: the real Prometheus of scripts/stack.sh as `lab`,
/// a (fake) Kubernetes API with a crash-looping pod as `lab2`. The
/// dashboard shows one and names it, lists both, switches on request, and
/// the merged view shows what is broken in each, with its cluster.
#[test]
fn two_clusters_at_once_and_what_is_broken_everywhere() {
    let stack = Stack::shared();
    let dir = crate::support::tempdir("two-clusters");
    let tokio_rt = tokio::runtime::Runtime::new().unwrap();
    let fake = tokio_rt.block_on(crate::fakekube::FakeKube::start("t0ken"));
    fake.put(crate::kube::NODES, crate::kube::node("worker-1"));
    fake.put(
        crate::kube::PODS,
        crate::kube::pod("checkout-6f7c9d-a", "worker-1", "shop/checkout:1.4.2"),
    );
    let mut crashing = crate::kube::pod("checkout-6f7c9d-b", "worker-1", "shop/checkout:2.8.0");
    crashing["status"]["containerStatuses"][0]["ready"] = json!(false);
    crashing["status"]["containerStatuses"][0]["restartCount"] = json!(5);
    crashing["status"]["containerStatuses"][0]["state"] =
        json!({"waiting": {"reason": "CrashLoopBackOff"}});
    fake.put(crate::kube::PODS, crashing);

    let mut settings = Settings {
        poll_interval_ms: 1000,
        ..Settings::default()
    };
    settings.cluster = Some("lab".into());
    settings.prometheus = Some(sentinel_app::settings::Connection {
        url: stack.prometheus.clone(),
        token_keyring: None,
        ca_file: None,
        insecure_skip_verify: false,
    });
    settings
        .clusters
        .push(sentinel_app::settings::ClusterSettings {
            name: "lab2".into(),
            prometheus: None,
            alertmanager: None,
            kubernetes: Some(sentinel_app::settings::KubeSettings {
                context: None,
                kubeconfig: Some(fake.kubeconfig(&dir)),
                discover_prometheus: false,
            }),
            loki: None,
        });
    let keys = Keys::session_only();
    let mut backend = BackendOptions::from_settings(
        &settings,
        &keys,
        None,
        Some(dir.join("reports")),
        Vec::new(),
    );
    backend.settings = Some((dir.join("settings.toml"), settings));
    let (app, w) = crate::ipc::mock_app(backend);
    let state = app.state::<AppState>();
    let mut seen = String::new();

    // Both clusters have data.
    wait("both clusters", || {
        let fleet = state.fleet();
        fleet
            .snapshots()
            .iter()
            .all(|(_, s)| !s.pods.is_empty())
            .then_some(())
    });
    let o = call::<sentinel_protocol::GetOverview>(&w, &NoArgs {}, &mut seen).unwrap();
    assert_eq!(o.cluster, "lab");
    let names: Vec<&str> = o.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["lab", "lab2"]);
    let lab2 = &o.clusters[1];
    assert_eq!((lab2.pods_total, lab2.pods_unhealthy), (2, 1));

    // The dashboard switches to lab2, and its pods are lab2's.
    let o = call::<sentinel_protocol::SelectCluster>(
        &w,
        &sentinel_protocol::ClusterRef {
            name: "lab2".into(),
        },
        &mut seen,
    )
    .unwrap();
    assert_eq!(o.cluster, "lab2");
    assert_eq!(o.pods_total, 2);
    let page = call::<sentinel_protocol::ListPods>(
        &w,
        &sentinel_protocol::PodQuery {
            limit: 10,
            ..sentinel_protocol::PodQuery::default()
        },
        &mut seen,
    )
    .unwrap();
    assert!(
        page.rows
            .iter()
            .all(|r| r.name.starts_with("checkout-6f7c9d"))
    );
    let err = call::<sentinel_protocol::SelectCluster>(
        &w,
        &sentinel_protocol::ClusterRef {
            name: "nowhere".into(),
        },
        &mut seen,
    )
    .unwrap_err();
    assert_eq!(err.kind, sentinel_protocol::ErrorKind::NotFound);

    // Broken everywhere: lab2's crash loop with its cluster, and every
    // entry names one of the two clusters.
    let e = call::<sentinel_protocol::GetEverywhere>(&w, &NoArgs {}, &mut seen).unwrap();
    assert_eq!(e.clusters.len(), 2);
    assert!(
        e.pods
            .iter()
            .any(|p| p.cluster == "lab2" && p.pod.name == "checkout-6f7c9d-b"),
        "{:?}",
        e.pods
    );
    assert!(!e.pods.iter().any(|p| p.pod.name == "checkout-6f7c9d-a"));
    assert!(
        e.pods
            .iter()
            .map(|p| p.cluster.as_str())
            .chain(e.alerts.iter().map(|a| a.cluster.as_str()))
            .all(|c| c == "lab" || c == "lab2")
    );

    // The connections page lists each cluster's connections and sources.
    let c = call::<ListConnections>(&w, &NoArgs {}, &mut seen).unwrap();
    let rows: Vec<(&str, ConnectionKind)> = c
        .rows
        .iter()
        .map(|r| (r.spec.cluster.as_str(), r.spec.kind))
        .collect();
    assert_eq!(
        rows,
        [
            ("lab", ConnectionKind::Prometheus),
            ("lab2", ConnectionKind::Kubernetes)
        ]
    );
    assert!(c.rows[1].sources[0].name.starts_with("kubernetes"));
    for (_, rt) in &state.fleet().clusters {
        tauri::async_runtime::block_on(rt.shutdown(StdDuration::from_secs(5)));
    }
    drop(tokio_rt);
}
