//! Incidents that went quiet: what still joins them and what opens anew.

use super::*;

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
