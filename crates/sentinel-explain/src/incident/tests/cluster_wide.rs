//! Signals with no place (cluster-wide rules): which incident they join.

use super::*;

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
