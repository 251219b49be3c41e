//! Bounds under a storm, and the notification policy: grouping, rate
//! limits, reminders and quiet hours.

use super::*;

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
