use sentinel_model::{
    ContainerState, ContainerStatus, NodeState, OwnerKind, OwnerRef, PodPhase, PodState,
    ServiceState,
};

use super::*;

/// Pod `shop/web-…` labelled `app=web`, running on node-1.
pub(super) fn web_pod(at: Timestamp, containers: Vec<ContainerStatus>) -> PodState {
    PodState {
        uid: "u1".into(),
        namespace: "shop".into(),
        name: "web-6b7c8d9e0-uvwxy".into(),
        labels: Labels::from([("app".into(), "web".into())]),
        owner: None,
        node: Some("node-1".into()),
        phase: PodPhase::Running,
        created_at: at,
        containers,
    }
}

/// Service `shop/storefront` selecting `app=selector`, port 80 to `target`.
pub(super) fn storefront(at: Timestamp, selector: &str, target: &str) -> ServiceState {
    ServiceState {
        namespace: "shop".into(),
        name: "storefront".into(),
        selector: Labels::from([("app".into(), selector.into())]),
        kind: "ClusterIP".into(),
        ports: vec![sentinel_model::ServicePort {
            name: "http".into(),
            port: 80,
            target: target.into(),
            protocol: "TCP".into(),
        }],
        created_at: at,
    }
}

#[test]
fn an_oom_killed_pod_reads_back_as_one() {
    let at = Timestamp(1_790_000_000_000);
    let pod = PodState {
        uid: "u1".into(),
        namespace: "shop".into(),
        name: "checkout-5d8f7c9b4-abcde".into(),
        labels: Labels::new(),
        owner: Some(OwnerRef {
            kind: OwnerKind::ReplicaSet,
            name: "checkout-5d8f7c9b4".into(),
        }),
        node: Some("node-1".into()),
        phase: PodPhase::Running,
        created_at: at,
        containers: vec![ContainerStatus {
            name: "app".into(),
            image: "shop/checkout:2.8.0".into(),
            ready: false,
            restart_count: 4,
            state: ContainerState::Waiting {
                reason: "CrashLoopBackOff".into(),
            },
            last_termination_reason: Some("OOMKilled".into()),
            cpu_request_millis: 100,
            memory_limit_bytes: 256 << 20,
            ports: Default::default(),
            probes: Default::default(),
        }],
    };
    let cap = capture(at, objects_json([&pod], [], []), Vec::new());
    let e = crate::explain(&cap);
    let top = e.top().expect("a cause");
    assert_eq!(top.cause, "oom_killed", "{}", e.render());
    assert!(e.render().contains("256"), "{}", e.render());
}

/// kube-state-metrics gives a node's conditions without a reason or a
/// message: the cause and its evidence say what is there, no `""`.
#[test]
fn a_node_without_a_reason_is_not_ready_without_empty_quotes() {
    let at = Timestamp(1_790_000_000_000);
    let node = node(false, at);
    let cap = capture(at, objects_json([], [&node], []), Vec::new());
    let e = crate::explain(&cap);
    let top = e.top().expect("a cause");
    assert_eq!(top.cause, "node_not_ready", "{}", e.render());
    let text = e.render();
    assert!(text.contains("Node/node-1 is NotReady."), "{text}");
    assert!(text.contains("Node/node-1 Ready=False"), "{text}");
    assert!(!text.contains("\"\""), "{text}");
    assert!(!text.contains("()"), "{text}");
}

fn node(ready: bool, since: Timestamp) -> NodeState {
    NodeState {
        name: "node-1".into(),
        labels: Labels::new(),
        cpu_capacity_millis: 4000,
        memory_capacity_bytes: 16 << 30,
        conditions: vec![sentinel_model::NodeCondition {
            kind: "Ready".into(),
            status: ready,
            since,
            reason: String::new(),
        }],
        unschedulable: false,
    }
}

/// Read through Prometheus there are no events: a node NotReady for three
/// minutes, captured again once it is Ready while its incident stays open,
/// still names the cause, as last seen so.
#[test]
fn a_node_that_recovered_keeps_its_troubled_version() {
    let at = Timestamp(1_790_000_000_000);
    let later = Timestamp(at.0 + 180_000);
    let mut live = LiveCapture::default();
    live.merge(
        at,
        at,
        vec![node_json(&node(false, at))],
        Vec::new(),
        Vec::new(),
    );
    live.merge(
        later,
        at,
        vec![node_json(&node(true, later))],
        Vec::new(),
        Vec::new(),
    );
    assert_eq!(live.objects.len(), 1);
    assert_eq!(live.earlier.len(), 1, "{:#?}", live.earlier);

    let cap = live.to_capture(at);
    assert_eq!(
        cap.objects.of_kind("Node").len(),
        1,
        "the node as it is now"
    );
    assert_eq!(cap.objects.earlier_of_kind("Node").len(), 1);
    let e = crate::explain(&cap);
    let top = e.top().expect("a cause");
    assert_eq!(top.cause, "node_not_ready", "{}", e.render());
    let text = e.render();
    let seen = crate::report::chart::clock(at, true);
    assert!(
        text.contains(&format!(
            "Node/node-1 is NotReady (as last seen at {seen} UTC; it has recovered since)."
        )),
        "{text}"
    );

    // NotReady again: the current version says so, once.
    live.merge(
        Timestamp(later.0 + 60_000),
        at,
        vec![node_json(&node(false, later))],
        Vec::new(),
        Vec::new(),
    );
    let e = crate::explain(&live.to_capture(at));
    let text = e.render();
    assert!(!text.contains("recovered since"), "{text}");
    assert_eq!(text.matches("Node/node-1 Ready=False").count(), 1, "{text}");

    // The kept version survives the store's round trip.
    let back: LiveCapture = serde_json::from_value(serde_json::to_value(&live).unwrap()).unwrap();
    assert_eq!(back, live);
}

/// A node that went NotReady minutes after the onset, as the incident's
/// last alerts ended (the next problem starting), is not its cause; one that
/// went NotReady a minute after it is.
#[test]
fn a_node_down_well_after_the_onset_is_a_later_problem() {
    let onset = Timestamp(1_790_000_000_000);
    for (after, named) in [(60_000, true), (210_000, false)] {
        let n = node(false, Timestamp(onset.0 + after));
        let e = crate::explain(&capture(onset, objects_json([], [&n], []), Vec::new()));
        assert_eq!(
            e.candidates.iter().any(|c| c.cause == "node_not_ready"),
            named,
            "{after} ms after: {}",
            e.render()
        );
    }
}

/// An incident open for long is captured again every 30 s with the app's
/// 15-minute trend: the capture keeps the baseline before its onset, which
/// its explanation rests on, and the latest readings, within its budget.
#[test]
fn a_long_incident_keeps_the_baseline_before_its_onset() {
    let onset = Timestamp(1_790_000_000_000);
    let trend = |now: i64| -> Vec<(Timestamp, f64)> {
        (0..450)
            .map(|k| {
                let t = now - (449 - k) * 2000;
                (Timestamp(t), if t < onset.0 { 0.1 } else { 2.0 })
            })
            .collect()
    };
    let labels = Labels::from([("pod".to_string(), "payments-0".to_string())]);
    let mut live = LiveCapture::default();
    let mut now = onset.0 + 60_000;
    while now <= onset.0 + 40 * 60_000 {
        let m = CapturedSeries {
            name: POD_P95.into(),
            labels: labels.clone(),
            points: trend(now),
        };
        live.merge(Timestamp(now), onset, Vec::new(), vec![m], Vec::new());
        now += 30_000;
    }
    let points = &live.metrics[0].points;
    assert!(points.len() <= CAPTURE_POINTS, "{}", points.len());
    assert_eq!(
        points.first().map(|p| p.0),
        Some(Timestamp(onset.0 + 60_000 - 449 * 2000))
    );
    assert_eq!(points.last().map(|p| p.0), Some(Timestamp(now - 30_000)));
    assert!(points.windows(2).all(|w| w[0].0 < w[1].0));
    let cut = onset.0 - crate::metrics::BASELINE_GUARD_MS;
    let baseline = points.iter().filter(|p| p.0.0 < cut).count();
    assert!(baseline > 100, "{baseline}");
    let shift = crate::metrics::shift(points, onset, crate::metrics::BASELINE_GUARD_MS)
        .expect("the change is still there to see");
    assert_eq!((shift.before, shift.after), (0.1, 2.0));
    assert_eq!(
        shift.changed_at.map(|t| (t.0 - onset.0).abs() <= 4000),
        Some(true)
    );
}

/// A Service written back from the app's model: its selector and ports as
/// the routing rules read them.
#[test]
fn a_service_that_selects_no_pod_reads_back_as_a_selector_mismatch() {
    let at = Timestamp(1_790_000_000_000);
    let mut pod = web_pod(at, Vec::new());
    let svc = |selector: &str| storefront(at, selector, "8080");
    let list = |s: &ServiceState, p: &PodState| {
        let mut v = objects_json([p], [], []);
        v["items"].as_array_mut().unwrap().push(service_json(s));
        v
    };
    let json = service_json(&svc("web-v2"));
    assert_eq!(json["spec"]["ports"][0]["targetPort"], 8080);
    assert_eq!(json["spec"]["selector"]["app"], "web-v2");

    let e = crate::explain(&capture(at, list(&svc("web-v2"), &pod), Vec::new()));
    let top = e.top().expect("a cause");
    assert_eq!(top.cause, "service_selector_mismatch", "{}", e.render());
    let text = e.render();
    assert!(
        text.contains("Service/shop/storefront selects {app=web-v2}"),
        "{text}"
    );
    assert!(text.contains("is labelled app=web instead"), "{text}");

    // Its pods exist but are not in the capture: its Endpoints say so, and
    // nothing is claimed.
    let mut elsewhere = pod.clone();
    elsewhere.name = "web-v2-5c6d7e8f9-abcde".into();
    elsewhere.labels.insert("app".into(), "web-v2".into());
    elsewhere.containers = vec![ContainerStatus {
        name: "app".into(),
        image: "shop/web:2".into(),
        ready: true,
        restart_count: 0,
        state: ContainerState::Running { started_at: at },
        last_termination_reason: None,
        cpu_request_millis: 100,
        memory_limit_bytes: 0,
        ports: Default::default(),
        probes: Default::default(),
    }];
    let mut partial = list(&svc("web-v2"), &pod);
    let ep = endpoints_json(&svc("web-v2"), [&pod, &elsewhere]);
    assert_eq!(
        ep["subsets"][0]["addresses"][0]["targetRef"]["name"],
        elsewhere.name
    );
    partial["items"].as_array_mut().unwrap().push(ep);
    let e = crate::explain(&capture(at, partial, Vec::new()));
    assert!(
        e.candidates
            .iter()
            .all(|c| c.cause != "service_selector_mismatch"),
        "{}",
        e.render()
    );
    // With no pod to pick, its Endpoints are empty and cited.
    let mut bare = list(&svc("web-v2"), &pod);
    bare["items"]
        .as_array_mut()
        .unwrap()
        .push(endpoints_json(&svc("web-v2"), [&pod]));
    let e = crate::explain(&capture(at, bare, Vec::new()));
    assert_eq!(
        e.top().map(|c| c.cause.as_str()),
        Some("service_selector_mismatch")
    );
    assert!(
        e.render()
            .contains("Endpoints shop/storefront has no ready addresses"),
        "{}",
        e.render()
    );

    // Selecting the pod, it is no cause.
    pod.labels.insert("app".into(), "web-v2".into());
    let e = crate::explain(&capture(at, list(&svc("web-v2"), &pod), Vec::new()));
    assert!(
        e.candidates
            .iter()
            .all(|c| c.cause != "service_selector_mismatch"),
        "{}",
        e.render()
    );
}
