use sentinel_model::{
    Alert, AlertState, ClusterEvent, Duration, EventType, Finding, Labels, ObjectRef, OwnerKind,
    OwnerRef, PodPhase, PodState, RuleRef, RuleState, RuleTrace, SeriesKey, Severity, Timestamp,
    WindowSummary,
};

use super::notify::{Notifier, NotifyConfig, QuietHours};
use super::*;

mod calls;
mod cluster_wide;
mod links;
mod merge;
mod notifications;
mod quiet;
mod restore;
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
