#![allow(clippy::unwrap_used)]

use sentinel_explain::incident::{IncidentConfig, Manager};
use sentinel_model::{AlertState, Labels};

use super::*;

const MIN: i64 = 60_000;

fn t(mins: i64) -> Timestamp {
    Timestamp(1_790_000_000_000 + mins * MIN)
}

fn alert(name: &str) -> Alert {
    let labels: Labels = [
        ("alertname", name),
        ("severity", "critical"),
        ("namespace", "shop"),
        ("pod", "checkout-1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Alert {
        fingerprint: format!("fp-{name}"),
        labels,
        annotations: Labels::new(),
        starts_at: t(0),
        ends_at: None,
        state: AlertState::Active,
        generator_url: String::new(),
        silenced_by: Vec::new(),
        inhibited_by: Vec::new(),
    }
}

/// A manager holding one incident opened by `alerts`.
fn incident_of(alerts: &[Alert]) -> (Manager, String) {
    let mut m = Manager::new(IncidentConfig::default());
    m.alerts(t(0), alerts);
    let id = m.incidents()[0].id.clone();
    (m, id)
}

fn put(op: &SilenceOp) -> &NewSilence {
    match op {
        SilenceOp::Put { silence, .. } => silence,
        SilenceOp::Expire { .. } => panic!("expected a put, got {op:?}"),
    }
}

#[test]
fn an_acknowledged_incident_silences_its_alerts_and_extends_them() {
    let alerts = vec![alert("KubePodCrashLooping")];
    let (mut m, id) = incident_of(&alerts);
    let mut s = Silencer::new(SilenceConfig::default());
    assert!(
        s.plan(t(1), m.incidents(), &alerts).is_empty(),
        "an open incident silences nothing"
    );
    m.acknowledge(&id, "ana", "rolling back", t(2)).unwrap();
    let ops = s.plan(t(2), m.incidents(), &alerts);
    assert_eq!(ops.len(), 1);
    let new = put(&ops[0]);
    assert_eq!(new.id, None);
    assert_eq!(new.created_by, "ana");
    assert!(
        new.comment.contains("rolling back") && new.comment.contains(&id),
        "{}",
        new.comment
    );
    assert_eq!(new.matchers.len(), 4, "every label of the alert, exactly");
    assert!(new.matchers.contains(&Matcher::equal("pod", "checkout-1")));
    assert_eq!(new.ends_at, t(62));
    // Nothing more while Alertmanager has not answered.
    assert!(s.plan(t(2), m.incidents(), &alerts).is_empty());
    let answer = SilenceResult::Put {
        fingerprint: "fp-KubePodCrashLooping".into(),
        result: Ok("s-1".into()),
    };
    assert_eq!(s.answer(t(2), answer), None);
    let v = s.views();
    assert_eq!(v[0].id.as_deref(), Some("s-1"));
    assert_eq!(v[0].until, Some(t(62)));
    assert_eq!(v[0].incident, id);
    // Not due yet; due with less than 20 minutes left: extended by id.
    assert!(s.plan(t(30), m.incidents(), &alerts).is_empty());
    let ops = s.plan(t(43), m.incidents(), &alerts);
    assert_eq!(put(&ops[0]).id.as_deref(), Some("s-1"));
    assert_eq!(put(&ops[0]).ends_at, t(103));
}

#[test]
fn the_silence_is_expired_when_the_alert_resolves_or_the_incident_does() {
    let alerts = vec![alert("A"), alert("B")];
    let (mut m, id) = incident_of(&alerts);
    m.acknowledge(&id, "ana", "", t(1)).unwrap();
    let mut s = Silencer::new(SilenceConfig::default());
    let ops = s.plan(t(1), m.incidents(), &alerts);
    assert_eq!(ops.len(), 2);
    assert!(put(&ops[0]).comment.contains("Acknowledged in Sentinel"));
    for (fp, sid) in [("fp-A", "s-a"), ("fp-B", "s-b")] {
        s.answer(
            t(1),
            SilenceResult::Put {
                fingerprint: fp.into(),
                result: Ok(sid.into()),
            },
        );
    }
    // A resolves: its silence is expired, B's stays.
    m.alerts(t(3), &alerts[1..]);
    let ops = s.plan(t(3), m.incidents(), &alerts[1..]);
    assert_eq!(
        ops,
        vec![SilenceOp::Expire {
            fingerprint: "fp-A".into(),
            id: "s-a".into()
        }]
    );
    s.answer(
        t(3),
        SilenceResult::Expired {
            fingerprint: "fp-A".into(),
            result: Ok(()),
        },
    );
    assert_eq!(s.views().len(), 1);
    // The incident is resolved by hand: B's silence goes too.
    m.resolve(&id, "ana", "fixed", t(4)).unwrap();
    let ops = s.plan(t(4), m.incidents(), &alerts[1..]);
    assert_eq!(
        ops,
        vec![SilenceOp::Expire {
            fingerprint: "fp-B".into(),
            id: "s-b".into()
        }]
    );
    // Already expired in Alertmanager by someone else: forgotten, no retry.
    let gone = SilenceResult::Expired {
        fingerprint: "fp-B".into(),
        result: Err("silence s-b already expired".into()),
    };
    assert_eq!(s.answer(t(4), gone), None);
    assert!(s.views().is_empty());
    assert!(s.plan(t(5), m.incidents(), &alerts[1..]).is_empty());
}

#[test]
fn a_failure_is_reported_and_retried_after_a_minute() {
    let alerts = vec![alert("A")];
    let (mut m, id) = incident_of(&alerts);
    m.acknowledge(&id, "ana", "", t(1)).unwrap();
    let mut s = Silencer::new(SilenceConfig::default());
    assert_eq!(s.plan(t(1), m.incidents(), &alerts).len(), 1);
    let notice = s
        .answer(
            t(1),
            SilenceResult::Put {
                fingerprint: "fp-A".into(),
                result: Err("403 Forbidden".into()),
            },
        )
        .unwrap();
    assert!(
        notice.contains("403 Forbidden") && notice.contains(&id),
        "{notice}"
    );
    assert_eq!(s.views()[0].error.as_deref(), Some("403 Forbidden"));
    let soon = Timestamp(t(1).0 + 30_000);
    assert!(s.plan(soon, m.incidents(), &alerts).is_empty());
    let later = Timestamp(t(1).0 + 61_000);
    let ops = s.plan(later, m.incidents(), &alerts);
    assert_eq!(put(&ops[0]).id, None, "asked again");
    // A request that could not be queued is asked again on the next plan.
    s.unsent(&ops[0]);
    assert_eq!(s.plan(later, m.incidents(), &alerts).len(), 1);
}
