//! How members join across objects: a node's pods, a service's callers,
//! and the node that holds them.

use super::*;

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
