use sentinel_model::{
    Alert, AlertState, ClusterEvent, Duration, EventType, Finding, Labels, ObjectRef, OwnerKind,
    OwnerRef, PodPhase, PodState, RuleRef, RuleState, RuleTrace, SeriesKey, Severity, Timestamp,
    WindowSummary,
};

use super::notify::{Notifier, NotifyConfig, QuietHours};
use super::*;

mod calls;
mod merge;
mod services;

const MIN: i64 = 60_000;

fn t(mins: f64) -> Timestamp {
    Timestamp(1_790_000_000_000 + (mins * MIN as f64) as i64)
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn alert(name: &str, severity: &str, at: Timestamp, pairs: &[(&str, &str)]) -> Alert {
    let mut l = labels(pairs);
    l.insert("alertname".into(), name.into());
    l.insert("severity".into(), severity.into());
    Alert {
        fingerprint: format!("{name}/{pairs:?}"),
        labels: l,
        annotations: labels(&[("summary", &format!("{name} fired"))]),
        starts_at: at,
        ends_at: None,
        state: AlertState::Active,
        generator_url: String::new(),
        silenced_by: Vec::new(),
        inhibited_by: Vec::new(),
    }
}

fn finding(rule: &str, at: Timestamp, pairs: &[(&str, &str)], severity: Severity) -> Finding {
    let series = SeriesKey::new("pod_memory_usage_ratio", pairs.iter().copied());
    Finding {
        id: format!("{rule}/{series}/{}", at.0),
        rule: rule.into(),
        series: series.clone(),
        severity,
        state: RuleState::Firing,
        active_at: at,
        fired_at: at,
        resolved_at: None,
        summary: format!("{rule} on {series}"),
        trace: RuleTrace {
            rule: RuleRef {
                name: rule.into(),
                detector: "threshold".into(),
                params: vec![],
                severity,
                for_: Duration(0),
                keep_firing_for: Duration(0),
            },
            series,
            at,
            value: 0.9,
            window: WindowSummary::default(),
            computed: vec![],
            comparisons: vec![],
            band: None,
            threshold: Some(0.85),
            transitions: vec![],
            points: vec![],
            state: RuleState::Firing,
            severity,
            explanation: String::new(),
            mark: None,
        },
    }
}

/// `f` as the engine reports it when it resolves at `at`.
fn resolved(f: &Finding, at: Timestamp) -> Finding {
    let mut f = f.clone();
    f.state = RuleState::Resolved;
    f.resolved_at = Some(at);
    f
}

fn event(reason: &str, kind: &str, ns: Option<&str>, name: &str, at: Timestamp) -> ClusterEvent {
    ClusterEvent {
        kind: EventType::Normal,
        reason: reason.into(),
        message: format!("{reason} {name}"),
        involved_object: ObjectRef {
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        },
        count: 1,
        first_timestamp: at,
        last_timestamp: at,
        source: "test".into(),
    }
}

fn pod(ns: &str, name: &str, rs: &str, node: &str) -> PodState {
    PodState {
        uid: name.into(),
        namespace: ns.into(),
        name: name.into(),
        labels: Labels::new(),
        owner: Some(OwnerRef {
            kind: OwnerKind::ReplicaSet,
            name: rs.into(),
        }),
        node: Some(node.into()),
        phase: PodPhase::Running,
        created_at: t(0.0),
        containers: vec![],
    }
}

/// The demo shop: checkout and cart on node-1, payments on node-2;
/// frontend → checkout → payments.
fn manager() -> Manager {
    let mut m = Manager::new(IncidentConfig {
        cluster: "demo".into(),
        ..IncidentConfig::default()
    });
    let pods = [
        pod(
            "shop",
            "checkout-5d8f7c9b4-abcde",
            "checkout-5d8f7c9b4",
            "node-1",
        ),
        pod(
            "shop",
            "checkout-7f6d5c4b3-fghij",
            "checkout-7f6d5c4b3",
            "node-1",
        ),
        pod("shop", "cart-6c5b4a3d2-klmno", "cart-6c5b4a3d2", "node-1"),
        pod(
            "shop",
            "payments-4b3a2c1d0-pqrst",
            "payments-4b3a2c1d0",
            "node-2",
        ),
    ];
    m.topology_mut().set_pods(&pods);
    m.topology_mut().set_calls([
        ("shop/frontend".into(), "shop/checkout".into()),
        ("shop/checkout".into(), "shop/payments".into()),
    ]);
    m
}

fn actions(inc: &Incident) -> Vec<(Action, &str)> {
    inc.changes
        .iter()
        .map(|c| (c.action, c.by.as_str()))
        .collect()
}

#[test]
fn one_incident_per_problem_with_the_rollout_before_it() {
    let mut m = manager();
    let new_pod = [("namespace", "shop"), ("pod", "checkout-7f6d5c4b3-fghij")];
    m.event(&event(
        "ScalingReplicaSet",
        "Deployment",
        Some("shop"),
        "checkout",
        t(1.0),
    ));
    m.event(&event(
        "Pulled",
        "Pod",
        Some("shop"),
        "checkout-7f6d5c4b3-fghij",
        t(1.1),
    ));
    m.event(&event(
        "Killing",
        "Pod",
        Some("shop"),
        "checkout-7f6d5c4b3-fghij",
        t(3.0),
    ));
    m.finding(&finding(
        "PodMemoryHigh",
        t(2.5),
        &new_pod,
        Severity::Critical,
    ));
    m.alerts(
        t(3.5),
        &[alert("KubePodCrashLooping", "warning", t(3.5), &new_pod)],
    );
    // The sibling pod of the same deployment, and an unrelated namespace.
    let sibling = [("namespace", "shop"), ("pod", "checkout-5d8f7c9b4-abcde")];
    m.alerts(
        t(4.0),
        &[
            alert("KubePodCrashLooping", "warning", t(3.5), &new_pod),
            alert("KubePodNotReady", "warning", t(4.0), &sibling),
            alert(
                "TargetDown",
                "warning",
                t(4.0),
                &[("namespace", "monitoring"), ("service", "grafana")],
            ),
        ],
    );

    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    let inc = &all[0];
    assert_eq!(inc.severity, Severity::Critical);
    assert_eq!(
        inc.title,
        "PodMemoryHigh on Pod/shop/checkout-7f6d5c4b3-fghij"
    );
    assert_eq!(inc.cluster, "demo");
    let titles: Vec<&str> = inc.members.iter().map(|m| m.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "PodMemoryHigh",
            "ScalingReplicaSet",
            "Killing",
            "KubePodCrashLooping",
            "KubePodNotReady"
        ]
    );
    assert_eq!(inc.members[1].kind, MemberKind::Rollout);
    assert_eq!(
        inc.members[0].finding_id.as_deref(),
        Some(inc.members[0].key.trim_start_matches("finding:"))
    );
    // Normal noise (Pulled) joins nothing.
    assert!(inc.members.iter().all(|m| m.title != "Pulled"));
    assert_eq!(inc.onset(), t(2.5));
    assert_eq!(all[1].title, "TargetDown on Service/monitoring/grafana");
    assert_eq!(all[1].group(), "monitoring");

    // The same signals in the same order give the same ids.
    let mut again = manager();
    again.event(&event(
        "ScalingReplicaSet",
        "Deployment",
        Some("shop"),
        "checkout",
        t(1.0),
    ));
    again.finding(&finding(
        "PodMemoryHigh",
        t(2.5),
        &new_pod,
        Severity::Critical,
    ));
    assert_eq!(again.incidents()[0].id, inc.id);
    assert!(inc.id.starts_with("inc-") && inc.id.len() == 12);
}

#[test]
fn lifecycle_ack_auto_resolve_reopen_with_an_audit_trail() {
    let mut m = manager();
    let p = [("namespace", "shop"), ("pod", "cart-6c5b4a3d2-klmno")];
    m.alerts(t(0.0), &[alert("KubePodNotReady", "warning", t(0.0), &p)]);
    let id = m.incidents()[0].id.clone();
    assert_eq!(m.take_updates()[0].action, Some(Action::Opened));

    assert_eq!(
        m.acknowledge(&id, "  ", "x", t(1.0)),
        Err(LifecycleError::NoActor)
    );
    assert!(matches!(
        m.acknowledge("inc-nope", "ana", "", t(1.0)),
        Err(LifecycleError::NotFound(_))
    ));
    m.acknowledge(&id, "ana", "looking at the cart pods", t(1.0))
        .unwrap();
    let inc = m.get(&id).unwrap();
    assert_eq!(inc.state, IncidentState::Acknowledged);
    assert_eq!(inc.ack.as_ref().unwrap().note, "looking at the cart pods");
    assert!(
        m.acknowledge(&id, "ana", "", t(1.5)).is_err(),
        "already acknowledged"
    );

    // A worse member escalates; the alert clearing starts the quiet period.
    m.alerts(
        t(2.0),
        &[
            alert("KubePodNotReady", "warning", t(0.0), &p),
            alert("KubePodCrashLooping", "critical", t(2.0), &p),
        ],
    );
    assert_eq!(m.get(&id).unwrap().severity, Severity::Critical);
    m.alerts(t(3.0), &[]);
    m.tick(t(7.0));
    assert_eq!(
        m.get(&id).unwrap().state,
        IncidentState::Acknowledged,
        "quiet for 4m only"
    );
    m.tick(t(8.0));
    let inc = m.get(&id).unwrap();
    assert_eq!(inc.state, IncidentState::Resolved);
    assert_eq!(inc.resolved_at, Some(t(8.0)));

    assert_eq!(inc.onset(), t(0.0));

    // It recurs within the reopen window: the same incident opens again,
    // analysed around the recurrence.
    m.alerts(t(20.0), &[alert("KubePodNotReady", "warning", t(20.0), &p)]);
    assert_eq!(m.incidents().len(), 1);
    let inc = m.get(&id).unwrap();
    assert_eq!(inc.state, IncidentState::Open);
    assert_eq!(inc.onset(), t(20.0));
    assert!(inc.ack.is_none(), "a reopened incident needs a new ack");
    assert!(m.reopen(&id, "ana", "", t(21.0)).is_err(), "it is open");
    m.resolve(&id, "bo", "fixed the probe", t(22.0)).unwrap();
    assert_eq!(
        actions(m.get(&id).unwrap()),
        [
            (Action::Opened, AUTOMATIC),
            (Action::Acknowledged, "ana"),
            (Action::Escalated, AUTOMATIC),
            (Action::Resolved, AUTOMATIC),
            (Action::Reopened, AUTOMATIC),
            (Action::Resolved, "bo"),
        ]
    );
    m.reopen(&id, "bo", "it is back", t(23.0)).unwrap();
    assert_eq!(m.get(&id).unwrap().state, IncidentState::Open);
    // Reopened by hand with nothing new: still the recurrence's episode.
    assert_eq!(m.get(&id).unwrap().onset(), t(20.0));

    // Long after, the same problem is a new incident.
    m.resolve(&id, "bo", "", t(24.0)).unwrap();
    m.alerts(
        t(120.0),
        &[alert("KubePodNotReady", "warning", t(120.0), &p)],
    );
    assert_eq!(m.incidents().len(), 2);
}

/// An incident reopened by hand long after its members stopped stays open
/// for the quiet period from the reopening, not resolved again at once.
#[test]
fn an_incident_reopened_by_hand_is_not_resolved_again_at_once() {
    let mut m = manager();
    let f = finding(
        "PodMemoryHigh",
        t(0.0),
        &[("namespace", "shop"), ("pod", "cart-6c5b4a3d2-klmno")],
        Severity::Critical,
    );
    m.finding(&f);
    m.finding(&resolved(&f, t(1.0)));
    m.tick(t(6.5));
    let id = m.incidents()[0].id.clone();
    assert_eq!(m.get(&id).unwrap().state, IncidentState::Resolved);
    m.reopen(&id, "ana", "not fixed yet", t(20.0)).unwrap();
    m.tick(t(20.1));
    assert_eq!(m.get(&id).unwrap().state, IncidentState::Open);
    m.tick(t(24.9));
    assert_eq!(m.get(&id).unwrap().state, IncidentState::Open);
    m.tick(t(25.1));
    assert_eq!(m.get(&id).unwrap().state, IncidentState::Resolved);
}

/// Alerts found already firing, listed newest first (as the demo's and
/// many an Alertmanager's list is): the incident opens with the one that
/// began it, and is named after it.
#[test]
fn alerts_found_firing_open_their_incident_with_the_first() {
    let mut m = manager();
    let payments = [("namespace", "shop"), ("pod", "payments-4b3a2c1d0-pqrst")];
    m.alerts(
        t(5.0),
        &[
            alert("KubePodNotReady", "warning", t(1.0), &payments),
            alert(
                "KubeNodeNotReady",
                "critical",
                t(0.5),
                &[("node", "node-2")],
            ),
        ],
    );
    let all = m.incidents();
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].title, "KubeNodeNotReady on Node/node-2");
    assert_eq!(all[0].opened_at, t(0.5));
    let titles: Vec<&str> = all[0].members.iter().map(|m| m.title.as_str()).collect();
    assert_eq!(titles, ["KubeNodeNotReady", "KubePodNotReady"]);
}

#[test]
fn node_and_dependency_links() {
    let mut m = manager();
    m.alerts(
        t(0.0),
        &[alert(
            "KubeNodeNotReady",
            "critical",
            t(0.0),
            &[("node", "node-2")],
        )],
    );
    // payments runs on node-2; cart on node-1 does not belong.
    let payments = [("namespace", "shop"), ("pod", "payments-4b3a2c1d0-pqrst")];
    let cart = [("namespace", "shop"), ("pod", "cart-6c5b4a3d2-klmno")];
    m.alerts(
        t(1.0),
        &[
            alert(
                "KubeNodeNotReady",
                "critical",
                t(0.0),
                &[("node", "node-2")],
            ),
            alert("KubePodNotReady", "warning", t(1.0), &payments),
            alert("KubePodNotReady", "warning", t(1.0), &cart),
        ],
    );
    m.event(&event("NodeNotReady", "Node", None, "node-2", t(0.5)));
    // checkout calls payments: its errors are the same problem.
    m.finding(&finding(
        "ErrorRateHigh",
        t(2.0),
        &[("namespace", "shop"), ("service", "checkout")],
        Severity::Warning,
    ));
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    let titles: Vec<&str> = all[0].members.iter().map(|m| m.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "KubeNodeNotReady",
            "KubePodNotReady",
            "NodeNotReady",
            "ErrorRateHigh"
        ]
    );
    assert_eq!(all[0].members[2].kind, MemberKind::NodeCondition);
    assert_eq!(
        all[1].members[0].subject.pod.as_deref(),
        Some("cart-6c5b4a3d2-klmno")
    );

    // A cluster-wide series joins what opened around the same time, by time.
    m.finding(&finding("ClusterErrorRate", t(2.5), &[], Severity::Warning));
    assert_eq!(m.incidents().len(), 2);
    m.finding(&finding(
        "ClusterErrorRate",
        t(30.0),
        &[],
        Severity::Warning,
    ));
    assert_eq!(m.incidents().len(), 3);
}

/// A cluster-wide rule that fires, stops and fires again soon after while
/// its incident is live stays in that incident; the same rule firing again
/// once its incident has gone quiet opens its own.
#[test]
fn a_cluster_wide_rule_firing_again_rejoins_its_incident() {
    let mut m = manager();
    let first = finding("ClusterCPUAnomaly", t(0.0), &[], Severity::Critical);
    m.finding(&first);
    m.finding(&resolved(&first, t(1.6)));
    // 3.5 minutes after the opening: past the 2 minutes a cluster-wide
    // signal joins by time alone, and 1.9 minutes after it stopped.
    let again = finding("ClusterCPUAnomaly", t(3.5), &[], Severity::Warning);
    m.finding(&again);
    let all = m.incidents();
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].members.len(), 2);
    assert!(all[0].members[1].is_active());
    // Quiet since 3.6; at 6.5 (still inside the 5 quiet minutes) the CPU
    // moving again is news, not the first incident carrying on.
    m.finding(&resolved(&again, t(3.6)));
    m.finding(&finding(
        "ClusterCPUAnomaly",
        t(6.5),
        &[],
        Severity::Warning,
    ));
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[0].members.len(), 2, "{all:#?}");
    assert!(all[0].state.is_active());
}

/// A cluster-wide signal that fires again after another incident opened
/// belongs to that one, which its timing ties it to, not to the incident
/// it fired in before, however recently that one was touched: the noisy
/// neighbour's incident, its latency alert still updating, must not take
/// the cluster's CPU moving as a node goes down minutes later.
#[test]
fn a_cluster_wide_signal_joins_the_incident_that_opened_beside_it() {
    let mut m = manager();
    let email = [("namespace", "shop"), ("service", "email")];
    let mut latency = alert("HighRequestLatency", "warning", t(0.0), &email);
    m.alerts(t(0.0), std::slice::from_ref(&latency));
    let cpu = finding("ClusterCPUAnomaly", t(0.1), &[], Severity::Warning);
    m.finding(&cpu);
    m.finding(&resolved(&cpu, t(0.5)));
    assert_eq!(m.incidents().len(), 1);
    let node = finding(
        "NodeNotReady",
        t(3.0),
        &[("node", "ip-10-0-3-22")],
        Severity::Critical,
    );
    m.finding(&node);
    // The latency alert's value moves: its incident is the last touched.
    latency.annotations.insert(
        "summary".into(),
        "p95 latency of shop/email is 2125 ms".into(),
    );
    m.alerts(t(3.2), std::slice::from_ref(&latency));
    m.finding(&finding(
        "ClusterCPUAnomaly",
        t(3.4),
        &[],
        Severity::Warning,
    ));
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    let of = |rule: &str| {
        all.iter()
            .find(|i| i.members.iter().any(|x| x.title == rule))
            .unwrap()
    };
    let node_incident = of("NodeNotReady");
    assert_eq!(
        node_incident
            .members
            .iter()
            .filter(|x| x.title == "ClusterCPUAnomaly")
            .count(),
        1,
        "{all:#?}"
    );
    assert_eq!(of("HighRequestLatency").members.len(), 2, "{all:#?}");
}

/// The cluster's CPU falls as a node comes back (its capacity returns): that
/// belongs to the node's incident, not to an incident of its own that
/// nothing could explain.
#[test]
fn a_cluster_wide_signal_as_a_node_recovers_joins_the_nodes_incident() {
    let mut m = manager();
    let node = finding(
        "NodeNotReady",
        t(0.0),
        &[("node", "ip-10-0-3-22")],
        Severity::Critical,
    );
    m.finding(&node);
    m.finding(&resolved(&node, t(3.0)));
    m.finding(&finding(
        "ClusterCPUAnomaly",
        t(3.3),
        &[],
        Severity::Warning,
    ));
    let all = m.incidents();
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].members[1].title, "ClusterCPUAnomaly");
    assert_eq!(all[0].title, "NodeNotReady on Node/ip-10-0-3-22");
    // Well after the node's trouble, the cluster's CPU moving is news.
    m.finding(&finding(
        "ClusterMemoryAnomaly",
        t(6.0),
        &[],
        Severity::Warning,
    ));
    assert_eq!(m.incidents().len(), 2);
}

/// The cluster's error rate rising a minute after checkout's errors began
/// belongs to the incident those errors joined, however long ago it opened
/// (on latency, minutes before).
#[test]
fn a_cluster_wide_signal_joins_the_incident_where_trouble_just_began() {
    let mut m = manager();
    let checkout = [("namespace", "shop"), ("service", "checkout")];
    let latency = alert("HighRequestLatency", "warning", t(0.0), &checkout);
    m.alerts(t(0.0), std::slice::from_ref(&latency));
    let errors = alert("HighErrorRate", "critical", t(4.0), &checkout);
    m.alerts(t(4.0), &[latency.clone(), errors.clone()]);
    m.finding(&finding("ErrorRateAnomaly", t(5.0), &[], Severity::Warning));
    let all = m.incidents();
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].members.len(), 3);
    // Three minutes after anything began there, it is news of its own.
    m.finding(&finding(
        "ClusterCPUAnomaly",
        t(8.0),
        &[],
        Severity::Warning,
    ));
    assert_eq!(m.incidents().len(), 2);
}

/// An incident a cluster-wide signal opened takes the name of the first
/// signal with a place that joins it, which says where to look; later ones
/// leave it.
#[test]
fn a_cluster_wide_incident_is_named_after_its_first_placed_signal() {
    let mut m = manager();
    m.finding(&finding(
        "ClusterCPUAnomaly",
        t(0.0),
        &[],
        Severity::Warning,
    ));
    assert_eq!(m.incidents()[0].title, "ClusterCPUAnomaly on cluster");
    m.finding(&finding("ClusterErrorRate", t(0.2), &[], Severity::Warning));
    assert_eq!(m.incidents()[0].title, "ClusterCPUAnomaly on cluster");
    let latency = alert(
        "HighRequestLatency",
        "warning",
        t(0.5),
        &[("namespace", "shop"), ("service", "email")],
    );
    m.alerts(t(0.5), std::slice::from_ref(&latency));
    let errors = alert(
        "HighErrorRate",
        "critical",
        t(1.0),
        &[("namespace", "shop"), ("service", "email")],
    );
    m.alerts(t(1.0), &[latency, errors]);
    let all = m.incidents();
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].title, "HighRequestLatency on Service/shop/email");
    // The timeline still says what opened it.
    assert_eq!(all[0].members[0].title, "ClusterCPUAnomaly");
}

#[test]
fn a_pod_joins_its_nodes_incident_only_while_the_node_is_in_trouble() {
    let checkout = [("namespace", "shop"), ("pod", "checkout-5d8f7c9b4-abcde")];
    // The node is NotReady from minute 0 to 3; checkout runs on it.
    let node_down = || {
        let mut m = manager();
        let node = alert(
            "KubeNodeNotReady",
            "critical",
            t(0.0),
            &[("node", "node-1")],
        );
        m.alerts(t(0.0), &[node]);
        m.alerts(t(3.0), &[]);
        m
    };
    // A minute after it recovered: the recovery's aftermath.
    let mut m = node_down();
    m.finding(&finding(
        "PodNotReady",
        t(4.0),
        &checkout,
        Severity::Warning,
    ));
    assert_eq!(m.incidents().len(), 1);
    assert_eq!(m.incidents()[0].members.len(), 2);

    // Two and a half minutes after (the node's incident still open, and
    // touched within the window): a problem of its own, with its rollout.
    let mut m = node_down();
    m.event(&event(
        "ScalingReplicaSet",
        "Deployment",
        Some("shop"),
        "checkout",
        t(5.0),
    ));
    m.finding(&finding(
        "PodNotReady",
        t(5.5),
        &checkout,
        Severity::Warning,
    ));
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[0].members.len(), 1, "the node's incident keeps its own");
    assert_eq!(all[0].state, IncidentState::Open);
    let titles: Vec<&str> = all[1].members.iter().map(|m| m.title.as_str()).collect();
    assert_eq!(titles, ["PodNotReady", "ScalingReplicaSet"]);

    // After the node's incident resolved, it does not reopen it either.
    let mut m = node_down();
    m.tick(t(8.5));
    assert_eq!(m.incidents()[0].state, IncidentState::Resolved);
    m.finding(&finding(
        "PodNotReady",
        t(10.0),
        &checkout,
        Severity::Warning,
    ));
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[0].state, IncidentState::Resolved);
}

#[test]
fn a_node_joins_an_incident_of_its_pods_only_while_they_are_in_trouble() {
    let checkout = [("namespace", "shop"), ("pod", "checkout-5d8f7c9b4-abcde")];
    let node = |at: f64| alert("KubeNodeNotReady", "critical", t(at), &[("node", "node-1")]);
    // checkout's pod on node-1 is not ready from minute 0 to 2.
    let pod_down = || {
        let mut m = manager();
        let f = finding("PodNotReady", t(0.0), &checkout, Severity::Warning);
        m.finding(&f);
        m.finding(&resolved(&f, t(2.0)));
        m
    };
    // The node's alert while its pod is still in trouble: the pod was the
    // first symptom.
    let mut m = pod_down();
    m.alerts(t(1.0), &[node(1.0)]);
    assert_eq!(m.incidents().len(), 1);
    // Three minutes after the pod recovered: the node's own problem.
    let mut m = pod_down();
    m.alerts(t(5.0), &[node(5.0)]);
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[1].title, "KubeNodeNotReady on Node/node-1");
}

#[test]
fn incidents_restored_after_a_restart_can_still_resolve() {
    let checkout = [("namespace", "shop"), ("service", "checkout")];
    let firing = alert("HighErrorRate", "critical", t(0.0), &checkout);
    let mut before = manager();
    before.alerts(t(0.0), std::slice::from_ref(&firing));
    before.finding(&finding(
        "ErrorRateAnomaly",
        t(0.5),
        &checkout,
        Severity::Warning,
    ));
    let saved: Vec<Incident> = before.incidents().to_vec();
    assert_eq!(saved[0].active_members(), 2);

    // The app starts again at minute 10. The old engine's finding ends
    // then; the alert is expected in the next alert set.
    let mut m = manager();
    m.restore(saved.clone(), t(10.0));
    let inc = &m.incidents()[0];
    assert_eq!(inc.active_members(), 1);
    assert_eq!(inc.members[1].ended_at, Some(t(10.0)));
    assert_eq!(m.take_updates().len(), 1, "the store learns of it");
    // Still firing: it stays; then it stops, and five quiet minutes later
    // the incident resolves.
    m.alerts(t(10.1), std::slice::from_ref(&firing));
    assert_eq!(m.incidents()[0].active_members(), 1);
    m.alerts(t(11.0), &[]);
    assert_eq!(m.incidents()[0].active_members(), 0);
    m.tick(t(16.1));
    assert_eq!(m.incidents()[0].state, IncidentState::Resolved);

    // An alert that stopped while the app was down ends with the first
    // alert set, which is no news: the incident is not touched.
    let mut m = manager();
    m.restore(saved.clone(), t(10.0));
    m.alerts(t(10.1), &[]);
    assert_eq!(m.incidents()[0].active_members(), 0);
    assert_eq!(m.incidents()[0].updated_at, saved[0].updated_at);

    // A first alert set from before the alert started (a source that reads
    // its past first) ends it no earlier than it started.
    let mut m = manager();
    m.restore(saved.clone(), t(10.0));
    m.alerts(t(-5.0), &[]);
    let alert = &m.incidents()[0].members[0];
    assert_eq!(alert.ended_at, Some(alert.at), "{alert:#?}");

    // Down for an hour, the app backfills the last 15 minutes: a new
    // problem on the same service then is not the old incident's.
    let mut m = manager();
    m.restore(saved, t(60.0));
    m.alerts(t(45.0), &[]);
    m.finding(&finding(
        "ErrorRateAnomaly",
        t(50.0),
        &checkout,
        Severity::Warning,
    ));
    assert_eq!(m.incidents().len(), 2, "{:#?}", m.incidents());
}

/// After a restart the backfill reads the last minutes again, and the new
/// engine reports the findings the old one did, under the same ids. Those
/// of an incident that had resolved stay in it, ended: no second incident,
/// no resolved incident with active members.
#[test]
fn a_backfill_that_reads_a_resolved_incident_again_leaves_it_as_it_was() {
    let checkout = [("namespace", "shop"), ("service", "checkout")];
    let fired = finding("ErrorRateAnomaly", t(0.0), &checkout, Severity::Warning);
    let over = resolved(&fired, t(2.0));
    let mut before = manager();
    before.finding(&fired);
    before.finding(&over);
    before.tick(t(8.0));
    let saved: Vec<Incident> = before.incidents().to_vec();
    assert_eq!(saved[0].state, IncidentState::Resolved);

    let mut m = manager();
    m.restore(saved.clone(), t(10.0));
    assert_eq!(
        m.incidents(),
        &saved[..],
        "a resolved incident comes back as it was"
    );
    // The backfill's engine, on the same readings.
    m.finding(&fired);
    let inc = &m.incidents()[0];
    assert_eq!(m.incidents().len(), 1, "{:#?}", m.incidents());
    assert_eq!(inc.active_members(), 0, "{inc:#?}");
    m.finding(&over);
    m.tick(t(10.1));
    assert_eq!(m.incidents(), &saved[..]);

    // Without it restored (the old behaviour), the same readings opened
    // the incident anew, under the same id: open again, and a store that
    // saves by id would have written it over the resolved one.
    let mut m = manager();
    m.finding(&fired);
    assert_eq!(m.incidents()[0].id, saved[0].id);
    assert_eq!(m.incidents()[0].state, IncidentState::Open);

    // Another cluster's resolved incidents stay out of this one's list.
    let mut elsewhere = saved;
    elsewhere[0].cluster = "prod".into();
    let mut m = manager();
    m.restore(elsewhere, t(10.0));
    assert!(m.incidents().is_empty());
}

#[test]
fn a_storm_keeps_memory_and_updates_bounded() {
    let mut m = Manager::new(IncidentConfig {
        max_members: 100,
        ..IncidentConfig::default()
    });
    // 10,000 short-lived alerts on one service within a minute.
    for k in 0..10_000 {
        let at = Timestamp(t(0.0).0 + k * 6);
        let a = alert(
            &format!("Flap{k}"),
            "warning",
            at,
            &[("namespace", "shop"), ("service", "cart")],
        );
        m.alerts(at, &[a]);
    }
    m.alerts(t(1.0), &[]);
    assert_eq!(m.incidents().len(), 1);
    let inc = &m.incidents()[0];
    assert!(inc.members.len() <= 150, "{}", inc.members.len());
    assert_eq!(inc.members.len() as u32 + inc.dropped, 10_000);
    assert_eq!(inc.members[0].title, "Flap0", "the first member stays");
}

fn notifier_case() -> (Manager, Notifier) {
    (manager(), Notifier::new(NotifyConfig::default()))
}

#[test]
fn notifications_are_grouped_and_rate_limited() {
    let (mut m, mut n) = notifier_case();
    let mut sent = Vec::new();
    // An alert storm: 10,000 alerts a minute over 20 namespaces for 5 minutes.
    for s in 0..300 {
        let at = Timestamp(t(0.0).0 + s * 1000);
        let batch: Vec<Alert> = (0..167)
            .map(|k| {
                let ns = format!("team-{}", (s * 167 + k) % 20);
                alert(
                    &format!("A{}", s * 167 + k),
                    "critical",
                    at,
                    &[("namespace", &ns), ("service", &format!("svc{}", k % 7))],
                )
            })
            .collect();
        m.alerts(at, &batch);
        let updates = m.take_updates();
        n.offer(&updates, |id| m.get(id));
        sent.extend(n.poll(at, m.incidents()).into_iter().map(|x| (at, x)));
    }
    assert!(!sent.is_empty());
    let mut per_group: std::collections::HashMap<&str, Vec<Timestamp>> = Default::default();
    for (at, x) in &sent {
        per_group.entry(x.group.as_str()).or_default().push(*at);
    }
    for (g, times) in &per_group {
        for w in times.windows(2) {
            assert!(
                w[1].since(w[0]) >= Duration::from_secs(30),
                "{g}: {times:?}"
            );
        }
    }
    // The global bucket: 3 at once, then one per 10 s.
    assert!(sent.len() <= 3 + 300 / 10, "{}", sent.len());
    assert!(n.suppressed > 0);
    assert!(
        sent.iter()
            .any(|(_, x)| x.covers > 1 && x.title.contains("incidents in team-"))
    );
}

#[test]
fn reminders_stop_at_ack_and_quiet_hours_hold_back() {
    let (mut m, mut n) = notifier_case();
    let p = [("namespace", "shop"), ("pod", "cart-6c5b4a3d2-klmno")];
    m.alerts(t(0.0), &[alert("KubePodNotReady", "warning", t(0.0), &p)]);
    n.offer(&m.take_updates(), |id| m.get(id));
    let first = n.poll(t(0.0), m.incidents());
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].incident, m.incidents()[0].id);
    assert!(
        first[0]
            .title
            .starts_with("[warning] KubePodNotReady on Pod/shop/cart-")
    );
    assert!(n.poll(t(10.0), m.incidents()).is_empty());
    let again = n.poll(t(15.0), m.incidents());
    assert_eq!(again.len(), 1, "re-notified after 15 minutes");
    assert!(again[0].body.contains("still open"));
    let id = m.incidents()[0].id.clone();
    m.acknowledge(&id, "ana", "", t(16.0)).unwrap();
    assert!(
        n.poll(t(40.0), m.incidents()).is_empty(),
        "acknowledged: no reminders"
    );

    // Quiet hours 22:00–07:00 in UTC+1: a warning at 23:30 local waits no
    // notification; a critical one gets through.
    let quiet = QuietHours {
        start_min: 22 * 60,
        end_min: 7 * 60,
        utc_offset_min: 60,
        allow_critical: true,
    };
    let night = Timestamp(
        1_790_000_000_000 - 1_790_000_000_000 % (24 * 60 * MIN) + 22 * 60 * MIN + 30 * MIN,
    );
    assert!(quiet.contains(night));
    assert!(!quiet.contains(Timestamp(night.0 + 8 * 60 * MIN)));
    let (mut m, mut n) = notifier_case();
    n.set_config(NotifyConfig {
        quiet: Some(quiet),
        ..NotifyConfig::default()
    });
    m.alerts(night, &[alert("KubePodNotReady", "warning", night, &p)]);
    m.alerts(
        night,
        &[
            alert("KubePodNotReady", "warning", night, &p),
            alert("KubeNodeNotReady", "critical", night, &[("node", "node-9")]),
        ],
    );
    n.offer(&m.take_updates(), |id| m.get(id));
    let out = n.poll(night, m.incidents());
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].severity, Severity::Critical);
    // Snoozed: nothing at all.
    n.snooze(Some(Timestamp(night.0 + 60 * MIN)));
    m.alerts(
        night,
        &[alert(
            "KubeNodeNotReady",
            "critical",
            night,
            &[("node", "node-8")],
        )],
    );
    n.offer(&m.take_updates(), |id| m.get(id));
    assert!(n.poll(Timestamp(night.0 + MIN), m.incidents()).is_empty());
}

/// A bad rollout's crash loop, rolled back: its incident goes quiet. A
/// different problem on the same service minutes later (a slow dependency)
/// opens an incident of its own; the crash loop coming back, or a signal
/// in the trouble's aftermath, joins the old one.
/// An event does not revive an incident whose trouble stopped: a rollout
/// of `checkout` six minutes after its slowdown's alerts ended waits for
/// the incident it begins (the crash loop it causes), which opens on its
/// own with the rollout in it, rather than joining the slowdown's and
/// pulling the crash loop in after it (no tick need have resolved the
/// slowdown's first: a backfill reads minutes of the past at once).
#[test]
fn an_event_does_not_revive_an_incident_that_went_quiet() {
    let mut m = manager();
    let svc = [("namespace", "shop"), ("service", "checkout")];
    let errors = alert("HighErrorRate", "critical", t(0.0), &svc);
    m.alerts(t(0.0), std::slice::from_ref(&errors));
    m.alerts(t(3.5), &[]);
    m.event(&event(
        "ScalingReplicaSet",
        "Deployment",
        Some("shop"),
        "checkout",
        t(9.5),
    ));
    let crash = alert(
        "KubePodCrashLooping",
        "critical",
        t(10.4),
        &[("namespace", "shop"), ("pod", "checkout-7f6d5c4b3-fghij")],
    );
    m.alerts(t(10.4), &[crash]);
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[0].members.len(), 1, "{all:#?}");
    assert_eq!(
        all[1].title,
        "KubePodCrashLooping on Pod/shop/checkout-7f6d5c4b3-fghij"
    );
    assert!(
        all[1]
            .members
            .iter()
            .any(|x| x.title == "ScalingReplicaSet"),
        "{all:#?}"
    );
}

/// A cluster-wide member lingers: the p95 anomaly keeps firing for two
/// minutes after its last reading above the limit, and is tied to the
/// incident by time alone. Once the incident's placed members stopped, it
/// does not keep the incident taking newcomers: in the demo, `payments`
/// slowing down a minute and a half after the noisy neighbour's latency
/// alerts ended joined their incident, which then named the noisy
/// neighbour for the slowdown.
#[test]
fn a_lingering_cluster_wide_member_does_not_keep_an_incident_open_to_others() {
    let payments = [("namespace", "shop"), ("service", "payments")];
    let checkout = [("namespace", "shop"), ("service", "checkout")];
    let mut m = manager();
    let latency = alert("HighRequestLatency", "warning", t(0.0), &payments);
    m.alerts(t(0.0), std::slice::from_ref(&latency));
    let p95 = finding("LatencyP95Anomaly", t(0.1), &[], Severity::Warning);
    m.finding(&p95);
    m.alerts(t(4.0), &[]);
    m.finding(&resolved(&p95, t(4.7)));
    let all = m.incidents();
    assert_eq!((all.len(), all[0].members.len()), (1, 2), "{all:#?}");
    // 1.4 minutes after the placed alert ended, 0.7 after the p95.
    m.alerts(
        t(5.4),
        &[alert("HighErrorRate", "critical", t(5.4), &checkout)],
    );
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[1].title, "HighErrorRate on Service/shop/checkout");
    // Within the minute after the placed alert ended, it still joins.
    let mut m = manager();
    m.alerts(t(0.0), std::slice::from_ref(&latency));
    m.alerts(t(4.0), &[]);
    m.alerts(
        t(4.6),
        &[alert("HighErrorRate", "critical", t(4.6), &checkout)],
    );
    assert_eq!(m.incidents().len(), 1, "{:#?}", m.incidents());
}

#[test]
fn a_quiet_incident_takes_only_its_aftermath_and_recurrences() {
    let pod = [("namespace", "shop"), ("pod", "checkout-5d8f7c9b4-abcde")];
    let svc = [("namespace", "shop"), ("service", "checkout")];
    let crash = |at: f64| alert("KubePodCrashLooping", "critical", t(0.0).max(t(at)), &pod);
    let quiet = || {
        let mut m = manager();
        m.alerts(t(0.0), &[crash(0.0)]);
        m.alerts(t(4.0), &[]);
        m
    };
    // Three minutes after the rollback: a problem of its own.
    let mut m = quiet();
    m.alerts(t(7.0), &[alert("HighErrorRate", "critical", t(7.0), &svc)]);
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[0].members.len(), 1);
    assert_eq!(all[1].title, "HighErrorRate on Service/shop/checkout");
    // Half a minute after: the crash loop's aftermath.
    let mut m = quiet();
    m.alerts(t(4.5), &[alert("HighErrorRate", "critical", t(4.5), &svc)]);
    assert_eq!(m.incidents().len(), 1, "{:#?}", m.incidents());
    // The crash loop again, quiet or resolved: a recurrence.
    let mut m = quiet();
    m.alerts(t(7.0), &[crash(7.0)]);
    assert_eq!(m.incidents().len(), 1, "{:#?}", m.incidents());
    let mut m = quiet();
    m.tick(t(9.5));
    assert_eq!(m.incidents()[0].state, IncidentState::Resolved);
    m.alerts(t(12.0), &[crash(12.0)]);
    let all = m.incidents();
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(
        all[0].state,
        IncidentState::Open,
        "reopened by the crash loop"
    );
    // A different problem after it resolved does not reopen it.
    let mut m = quiet();
    m.tick(t(9.5));
    m.alerts(
        t(12.0),
        &[alert("HighErrorRate", "critical", t(12.0), &svc)],
    );
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[0].state, IncidentState::Resolved);
}
