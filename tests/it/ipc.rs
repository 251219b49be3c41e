//! The IPC contract on Tauri's mock runtime: every protocol command is
//! registered and granted, and round-trips typed values.

use std::time::Duration as StdDuration;

use sentinel_app::{AppState, BackendOptions, build_app};
use sentinel_model::Duration;
use sentinel_protocol::{
    AlertQuery, AnalyseCase, CaseRef, Command, ErrorKind, ExportArgs, ExportIncident,
    GetNodeDetail, GetOverview, GetPodDetail, IpcError, ListAlerts, ListPods, ListWorkloads,
    NoArgs, NodeRef, PauseArgs, PauseNotifications, PodQuery, PodRef, ReportFormat, Subscribe,
    WorkloadQuery,
};
use sentinel_runtime::DemoConfig;
use sentinel_sim::SimConfig;
use serde_json::{Value, json};
use tauri::Manager;
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::InvokeRequest;

fn app() -> (tauri::App<MockRuntime>, tauri::WebviewWindow<MockRuntime>) {
    app_with(None, None)
}

/// Blocks until the app's backend shows pods (live sources answer first).
fn wait_for_pods(app: &tauri::App<MockRuntime>) {
    let state = app.state::<AppState>();
    tauri::async_runtime::block_on(async {
        tokio::time::timeout(
            StdDuration::from_secs(30),
            state.runtime().wait_for(|s| !s.pods.is_empty()),
        )
        .await
    })
    .expect("pods within 30 s")
    .expect("runtime running");
}

fn app_with(
    live: Option<sentinel_app::live::Live>,
    kube: Option<sentinel_app::settings::KubeSettings>,
) -> (tauri::App<MockRuntime>, tauri::WebviewWindow<MockRuntime>) {
    let backend = BackendOptions {
        demo: DemoConfig {
            sim: SimConfig { seed: 5, pods: 40 },
            interval: StdDuration::from_millis(200),
            backfill: Duration::from_secs(45),
            ..DemoConfig::default()
        },
        notices: vec![],
        history: None,
        live,
        reports: Some(crate::support::tempdir("ipc-reports")),
        narrative: None,
        notify: None,
        kube,
        rules: None,
        ..BackendOptions::default()
    };
    let (app, webview) = mock_app(backend);
    let state = app.state::<AppState>();
    tauri::async_runtime::block_on(async {
        tokio::time::timeout(
            StdDuration::from_secs(30),
            state.runtime().wait_for(|s| s.data_at.is_some()),
        )
        .await
    })
    .expect("data within 30 s")
    .expect("runtime running");
    (app, webview)
}

/// The app on Tauri's mock runtime with its main window.
pub(crate) fn mock_app(
    backend: BackendOptions,
) -> (tauri::App<MockRuntime>, tauri::WebviewWindow<MockRuntime>) {
    let app = build_app(mock_builder(), backend)
        .build(mock_context(noop_assets()))
        .expect("mock app");
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("mock window");
    (app, window)
}

pub(crate) fn invoke(
    w: &tauri::WebviewWindow<MockRuntime>,
    cmd: &str,
    body: Value,
) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: tauri::ipc::CallbackFn(0),
        error: tauri::ipc::CallbackFn(1),
        url: "tauri://localhost".parse().expect("url"),
        body: tauri::ipc::InvokeBody::Json(body),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(w, request).map(|b| b.deserialize::<Value>().expect("json body"))
}

/// Calls a command the way `ui/src/ipc.rs` does and decodes its typed output.
pub(crate) fn call<C: Command>(
    w: &tauri::WebviewWindow<MockRuntime>,
    args: &C::Args,
) -> Result<C::Output, IpcError> {
    match invoke(w, C::NAME, json!({ "args": args })) {
        Ok(v) => Ok(serde_json::from_value(v).expect("typed output")),
        Err(e) => Err(serde_json::from_value(e.clone())
            .unwrap_or_else(|_| panic!("untyped error from {}: {e}", C::NAME))),
    }
}

#[test]
fn the_app_watches_a_real_prometheus_when_the_settings_name_one() {
    let stack = crate::stack::Stack::shared();
    let live = sentinel_app::live::Live {
        prometheus: sentinel_prom::Prometheus::new(sentinel_prom::Endpoint::new(&stack.prometheus))
            .unwrap(),
        alertmanager: Some(
            sentinel_prom::Alertmanager::new(sentinel_prom::Endpoint::new(&stack.alertmanager))
                .unwrap(),
        ),
    };
    let (app, w) = app_with(Some(live), None);
    // The alert feed may answer first: wait for Prometheus' pods.
    wait_for_pods(&app);
    let o = call::<GetOverview>(&w, &NoArgs {}).unwrap();
    assert_eq!(o.status.mode, sentinel_protocol::Mode::Live);
    let kinds: Vec<&str> = o.status.sources.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["prometheus", "alertmanager"]);
    assert!(o.pods_total >= 35, "{} pods", o.pods_total);
}

#[test]
fn the_app_watches_the_kubernetes_context_the_settings_name() {
    // The fake API server runs on a runtime of its own, beside the app's.
    let server = tokio::runtime::Runtime::new().unwrap();
    let fake = server.block_on(crate::fakekube::FakeKube::start("t0ken"));
    fake.put(
        "/api/v1/nodes",
        serde_json::json!({"metadata": {"name": "worker-1"}}),
    );
    fake.put(
        "/api/v1/pods",
        serde_json::json!({"metadata": {"name": "web-0", "namespace": "prod"},
            "spec": {"nodeName": "worker-1", "containers": [{"name": "web", "image": "nginx:1.27"}]},
            "status": {"phase": "Running"}}),
    );
    let kube = sentinel_app::settings::KubeSettings {
        context: Some("fake".into()),
        kubeconfig: Some(fake.kubeconfig(&crate::support::tempdir("ipc-kube"))),
        discover_prometheus: true,
    };
    let (app, w) = app_with(None, Some(kube));
    wait_for_pods(&app);
    let o = call::<GetOverview>(&w, &NoArgs {}).unwrap();
    assert_eq!(o.status.mode, sentinel_protocol::Mode::Live);
    let kinds: Vec<&str> = o.status.sources.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["prometheus", "kubernetes"]);
    // No Prometheus URL: it was looked for behind the service proxy, and
    // the cluster has none there (the fake serves no services).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let said = loop {
        let o = call::<GetOverview>(&w, &NoArgs {}).unwrap();
        if let Some(m) = o.status.sources[0].message.clone() {
            break m;
        }
        assert!(std::time::Instant::now() < deadline, "no word on discovery");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        said.starts_with("no Prometheus found through the API server's service proxy; tried monitoring/prometheus-k8s:9090 (no such service)"),
        "{said}"
    );
    let page = call::<ListPods>(
        &w,
        &PodQuery {
            limit: 10,
            ..PodQuery::default()
        },
    )
    .unwrap();
    assert_eq!(page.rows[0].name, "web-0");
    assert_eq!(page.rows[0].node.as_deref(), Some("worker-1"));
    drop(app);
    drop(server);
}

#[test]
fn every_command_round_trips_on_the_mock_runtime() {
    let (_app, w) = app();
    let o = call::<GetOverview>(&w, &NoArgs {}).unwrap();
    assert_eq!(o.pods_total, 40);
    assert_eq!(o.charts.len(), 5);

    let page = call::<ListPods>(
        &w,
        &PodQuery {
            text: "redis".into(),
            limit: 10,
            ..PodQuery::default()
        },
    )
    .unwrap();
    assert_eq!(page.matched, 3);
    let bad = call::<ListPods>(
        &w,
        &PodQuery {
            limit: 0,
            ..PodQuery::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        bad.kind,
        ErrorKind::InvalidArgument,
        "the UI may not ask for unbounded pages"
    );

    let pod = &page.rows[0];
    let detail = call::<GetPodDetail>(
        &w,
        &PodRef {
            namespace: pod.namespace.clone(),
            name: pod.name.clone(),
        },
    )
    .unwrap();
    assert_eq!(detail.row.name, pod.name);
    let gone = call::<GetPodDetail>(
        &w,
        &PodRef {
            namespace: "x".into(),
            name: "y".into(),
        },
    )
    .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);

    // The node of that pod: it is among its pods, which its card counts.
    let node = pod.node.clone().expect("the demo's pods are scheduled");
    let detail = call::<GetNodeDetail>(&w, &NodeRef { name: node.clone() }).unwrap();
    assert_eq!(detail.row.name, node);
    assert!(detail.pods.iter().any(|p| p.name == pod.name));
    assert!(
        detail
            .pods
            .iter()
            .all(|p| p.node.as_deref() == Some(node.as_str()))
    );
    assert_eq!(detail.pods_total, detail.row.pods);
    assert!(detail.conditions.iter().any(|c| c.kind == "Ready"));
    assert!(detail.cpu_capacity_millis > 0 && detail.cpu_requested_millis > 0);
    let gone = call::<GetNodeDetail>(
        &w,
        &NodeRef {
            name: "no-such-node".into(),
        },
    )
    .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);

    // The demo's controllers, each Deployment with its ReplicaSets folded in.
    let workloads = call::<ListWorkloads>(&w, &WorkloadQuery::default()).unwrap();
    assert!(workloads.rows.iter().all(|r| r.kind != "ReplicaSet"));
    let checkout = workloads
        .rows
        .iter()
        .find(|r| r.namespace == "shop" && r.name == "checkout")
        .expect("the demo's checkout Deployment");
    assert_eq!(checkout.kind, "Deployment");
    assert!(checkout.images.iter().any(|i| i.contains("checkout")));
    assert!(workloads.rows.iter().any(|r| r.kind == "StatefulSet"));
    let found = call::<ListWorkloads>(
        &w,
        &WorkloadQuery {
            text: "statefulset".into(),
            ..WorkloadQuery::default()
        },
    )
    .unwrap();
    assert!(!found.rows.is_empty() && found.rows.iter().all(|r| r.kind == "StatefulSet"));

    let alerts = call::<ListAlerts>(&w, &AlertQuery::default()).unwrap();
    assert!(alerts.iter().any(|a| a.name == "Watchdog"));
    let crit = call::<ListAlerts>(
        &w,
        &AlertQuery {
            min_severity: Some(sentinel_model::Severity::Critical),
            ..AlertQuery::default()
        },
    )
    .unwrap();
    assert!(
        crit.iter()
            .all(|a| a.severity == sentinel_model::Severity::Critical)
    );
    // The feed's filter, through the command: only the watchdog.
    let text = |t: &str| AlertQuery {
        text: Some(t.to_string()),
        ..AlertQuery::default()
    };
    let watchdog = call::<ListAlerts>(&w, &text("alertname=Watchdog")).unwrap();
    assert!(!watchdog.is_empty() && watchdog.iter().all(|a| a.name == "Watchdog"));
    let bad = call::<ListAlerts>(&w, &text("pod=~(")).unwrap_err();
    assert_eq!(bad.kind, ErrorKind::InvalidArgument);
    assert!(
        bad.message.contains("is not a regular expression"),
        "{}",
        bad.message
    );

    let paused = call::<PauseNotifications>(&w, &PauseArgs { minutes: 60 }).unwrap();
    assert!(paused.paused_until.is_some());
    let o = call::<GetOverview>(&w, &NoArgs {}).unwrap();
    assert_eq!(
        o.status.notifications_paused_until, paused.paused_until,
        "the status bar shows the pause"
    );
    assert_eq!(
        call::<PauseNotifications>(&w, &PauseArgs { minutes: 0 })
            .unwrap()
            .paused_until,
        None
    );

    let missing = call::<ExportIncident>(
        &w,
        &ExportArgs {
            id: "inc-00000000".into(),
            format: ReportFormat::Html,
            redact: true,
            patterns: vec![],
        },
    )
    .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound, "{missing:?}");

    // A capture folder analysed offline, as `sentinel explain` does; bad
    // paths get a reason.
    let case = crate::support::root().join("tests/scenarios/explain/28-oom-after-rollout");
    let c = call::<AnalyseCase>(
        &w,
        &CaseRef {
            path: case.display().to_string(),
        },
    )
    .unwrap();
    assert_eq!(c.analysis.candidates[0].cause, "oom_killed", "{c:#?}");
    assert!(c.objects > 0);
    for (path, says) in [
        ("/nonexistent/case", "is not a folder"),
        ("/tmp", "has no case.json"),
    ] {
        let e = call::<AnalyseCase>(&w, &CaseRef { path: path.into() }).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e:?}");
        assert!(e.message.contains(says), "{e:?}");
    }

    let sub = invoke(
        &w,
        Subscribe::NAME,
        json!({ "args": {}, "channel": "__CHANNEL__:7" }),
    );
    assert_eq!(sub, Ok(Value::Null));
}

#[test]
fn malformed_arguments_get_an_error_not_a_panic() {
    let (_app, w) = app();
    let e = invoke(&w, ListPods::NAME, json!({ "args": { "limit": "many" } })).unwrap_err();
    assert!(
        e.to_string()
            .contains("invalid args `args` for command `list_pods`"),
        "{e}"
    );
    let e = invoke(&w, GetPodDetail::NAME, json!({})).unwrap_err();
    assert!(e.to_string().contains("args"), "{e}");
    // The app still answers afterwards.
    assert!(call::<GetOverview>(&w, &NoArgs {}).is_ok());
}

#[test]
fn every_protocol_command_is_registered_and_granted() {
    let (_app, w) = app();
    for name in sentinel_protocol::COMMAND_NAMES {
        // Wrong arguments on purpose: a registered command complains about
        // them; an unregistered one says it does not exist.
        if let Err(e) = invoke(&w, name, json!({ "bogus": true })) {
            let msg = e.to_string();
            assert!(
                !msg.contains("not found") && !msg.contains("not allowed"),
                "{name}: {msg}"
            );
        }
    }
    let caps: Value = serde_json::from_str(
        &std::fs::read_to_string(
            crate::support::root().join("src-tauri/capabilities/default.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let granted: Vec<&str> = caps["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in sentinel_protocol::COMMAND_NAMES {
        let permission = format!("allow-{}", name.replace('_', "-"));
        assert!(
            granted.contains(&permission.as_str()),
            "{permission} missing from capabilities/default.json"
        );
    }
    // Besides the commands, the window may only listen to the backend's
    // events (the tray's "open this incident").
    let extra: Vec<&str> = granted
        .iter()
        .copied()
        .filter(|p| {
            !sentinel_protocol::COMMAND_NAMES
                .iter()
                .any(|n| format!("allow-{}", n.replace('_', "-")) == *p)
        })
        .collect();
    assert_eq!(
        extra,
        ["core:event:allow-listen", "core:event:allow-unlisten"],
        "least privilege: nothing else is granted"
    );
}
