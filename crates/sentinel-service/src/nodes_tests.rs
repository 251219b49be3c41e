use std::sync::Arc;

use sentinel_model::{
    AlertState, ContainerState, ContainerStatus, NodeCondition, NodeState, ObjectRef, Timestamp,
};
use sentinel_runtime::snapshot::{Mode, NodeView};

use super::*;
use crate::feed::tests::alert;

const NODE: &str = "ip-10-0-1-20";

fn condition(kind: &str, status: bool, reason: &str) -> NodeCondition {
    NodeCondition {
        kind: kind.into(),
        status,
        since: Timestamp(1_000),
        reason: reason.into(),
    }
}

fn node(name: &str) -> NodeView {
    NodeView {
        node: NodeState {
            name: name.into(),
            labels: [
                ("node-role.kubernetes.io/control-plane", ""),
                ("topology.kubernetes.io/zone", "eu-west-1a"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            cpu_capacity_millis: 4_000,
            memory_capacity_bytes: 16 << 30,
            conditions: vec![
                condition("Ready", true, "KubeletReady"),
                condition("MemoryPressure", true, "KubeletHasInsufficientMemory"),
                condition("DiskPressure", false, "KubeletHasNoDiskPressure"),
            ],
            unschedulable: true,
        },
        cpu_cores: Some(1.0),
        memory_bytes: Some(4.0 * (1u64 << 30) as f64),
        pods: 4,
    }
}

/// A pod on `node` with one container: ready or not, its restarts, its
/// CPU request.
fn pod(name: &str, node: &str, phase: PodPhase, ready: bool, restarts: u32, cpu: u32) -> PodView {
    PodView {
        pod: PodState {
            uid: name.into(),
            namespace: "shop".into(),
            name: name.into(),
            labels: Labels::new(),
            owner: None,
            node: Some(node.into()),
            phase,
            created_at: Timestamp(0),
            containers: vec![ContainerStatus {
                name: "app".into(),
                image: "shop/app:1".into(),
                ready,
                restart_count: restarts,
                state: ContainerState::Running {
                    started_at: Timestamp(0),
                },
                last_termination_reason: None,
                cpu_request_millis: cpu,
                memory_limit_bytes: 256 << 20,
                ports: Default::default(),
                probes: Default::default(),
            }],
        },
        cpu_cores: None,
        memory_bytes: None,
    }
}

fn event(kind: EventType, object: &str, ns: Option<&str>, name: &str, at: i64) -> ClusterEvent {
    ClusterEvent {
        kind,
        reason: format!("{object}Reason{at}"),
        message: String::new(),
        involved_object: ObjectRef {
            kind: object.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        },
        count: 1,
        first_timestamp: Timestamp(at),
        last_timestamp: Timestamp(at),
        source: String::new(),
    }
}

fn snap() -> Snapshot {
    let mut s = Snapshot::empty(Mode::Live, Timestamp(10_000));
    s.nodes = Arc::new(vec![node(NODE), node("ip-10-0-2-21")]);
    s.pods = Arc::new(vec![
        pod("web-1", NODE, PodPhase::Running, true, 0, 100),
        pod("web-2", NODE, PodPhase::Running, false, 3, 200),
        pod("job-1", NODE, PodPhase::Succeeded, false, 0, 500),
        pod("web-3", NODE, PodPhase::Pending, false, 0, 400),
        pod("web-9", "ip-10-0-2-21", PodPhase::Running, false, 7, 100),
    ]);
    s.events = Arc::new(vec![
        event(EventType::Warning, "Node", None, NODE, 1),
        event(EventType::Normal, "Pod", Some("shop"), "web-1", 2),
        event(EventType::Warning, "Pod", Some("shop"), "web-2", 3),
        event(EventType::Warning, "Pod", Some("shop"), "web-9", 4),
        event(EventType::Normal, "Node", None, "ip-10-0-2-21", 5),
        event(EventType::Normal, "Node", None, NODE, 6),
    ]);
    let mut held = alert("held", "KubeNodeNotReady", "critical", 5, &[("node", NODE)]);
    held.state = AlertState::Suppressed;
    s.alerts = Arc::new(vec![
        alert(
            "node",
            "NodeMemoryPressure",
            "warning",
            1,
            &[("node", NODE)],
        ),
        alert(
            "pod",
            "KubePodNotReady",
            "warning",
            2,
            &[("namespace", "shop"), ("pod", "web-2")],
        ),
        alert(
            "other",
            "KubePodCrashLooping",
            "critical",
            3,
            &[("namespace", "shop"), ("pod", "web-9")],
        ),
        alert(
            "elsewhere",
            "KubePodNotReady",
            "warning",
            4,
            &[("namespace", "data"), ("pod", "web-2")],
        ),
        held,
    ]);
    s
}

fn detail() -> NodeDetail {
    node_detail_of(&snap(), &NodeRef { name: NODE.into() }, None).unwrap()
}

#[test]
fn its_pods_in_trouble_come_first_and_what_is_placed_is_summed() {
    let d = detail();
    let names: Vec<&str> = d.pods.iter().map(|p| p.name.as_str()).collect();
    // Not ready (most restarts first), then the rest by name; the finished
    // job counts as no trouble.
    assert_eq!(names, ["web-2", "web-3", "job-1", "web-1"]);
    assert_eq!((d.pods_total, d.pods_in_trouble), (4, 2));
    // The finished job no longer holds its request.
    assert_eq!(d.cpu_requested_millis, 100 + 200 + 400);
    assert_eq!(d.memory_limits_bytes, 3 * (256 << 20));
    assert_eq!(d.cpu_capacity_millis, 4_000);
    assert!(d.row.cordoned);
    assert_eq!(d.roles, ["control-plane"]);
}

#[test]
fn its_conditions_say_which_are_abnormal() {
    let d = detail();
    let abnormal: Vec<(&str, bool)> = d
        .conditions
        .iter()
        .map(|c| (c.kind.as_str(), c.abnormal))
        .collect();
    assert_eq!(
        abnormal,
        [
            ("Ready", false),
            ("MemoryPressure", true),
            ("DiskPressure", false)
        ]
    );
    assert_eq!(d.conditions[1].reason, "KubeletHasInsufficientMemory");
    assert_eq!(
        d.row.problems,
        ["MemoryPressure=True (KubeletHasInsufficientMemory)"]
    );
}

#[test]
fn its_events_and_its_pods_warnings_newest_first() {
    let reasons: Vec<String> = detail().events.into_iter().map(|e| e.reason).collect();
    assert_eq!(reasons, ["NodeReason6", "PodReason3", "NodeReason1"]);
}

#[test]
fn alerts_on_the_node_or_its_pods_not_those_held_back() {
    let fps: Vec<String> = detail().alerts.into_iter().map(|a| a.fingerprint).collect();
    // Worst first, then newest; a pod of the same name in another
    // namespace is not its pod.
    assert_eq!(fps, ["pod", "node"]);
}

#[test]
fn a_node_no_longer_listed_is_not_found() {
    let e = node_detail_of(
        &snap(),
        &NodeRef {
            name: "gone".into(),
        },
        None,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("gone"), "{}", e.message);
}
