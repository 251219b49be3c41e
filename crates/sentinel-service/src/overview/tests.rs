use std::sync::Arc;

use sentinel_model::{Alert, AlertState, Duration, Labels, Timestamp};
use sentinel_runtime::snapshot::{Health, Mode, SourceStatus};

use super::*;
use crate::feed::alerts;
use sentinel_protocol::AlertQuery;

fn alert(severity: &str) -> Alert {
    let mut labels = Labels::new();
    labels.insert("alertname".into(), format!("A{severity}"));
    labels.insert("severity".into(), severity.into());
    Alert {
        fingerprint: severity.into(),
        labels,
        annotations: Labels::new(),
        starts_at: Timestamp(0),
        ends_at: None,
        state: AlertState::Active,
        generator_url: String::new(),
        silenced_by: Vec::new(),
        inhibited_by: Vec::new(),
    }
}

fn snap(health: Health, severities: &[&str]) -> Snapshot {
    let mut s = Snapshot::empty(Mode::Demo, Timestamp(10_000));
    s.sources = vec![SourceStatus {
        name: "demo".into(),
        kind: "demo",
        interval: Duration::from_secs(2),
        health,
        last_ok: Some(Timestamp(9_000)),
        last_error: None,
        latency: None,
        notes: Vec::new(),
    }];
    s.alerts = Arc::new(severities.iter().map(|s| alert(s)).collect());
    s
}

#[test]
fn an_empty_chart_says_why_when_a_source_knows() {
    let mut s = snap(Health::Ok, &[]);
    s.sources[0].notes = vec![
        sentinel_runtime::PanelNote {
            panel: "source".into(),
            message: "scrape target x (job k) is down: refused".into(),
        },
        sentinel_runtime::PanelNote {
            panel: "p95".into(),
            message: "metric http_request_duration_seconds_bucket is absent".into(),
        },
    ];
    let o = overview(&s, None);
    let reason = |id: &str| {
        o.charts
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.empty_reason.clone())
    };
    assert_eq!(
        reason("p95").as_deref(),
        Some("demo: metric http_request_duration_seconds_bucket is absent")
    );
    // A panel with nothing specific gets the source-wide reason.
    assert_eq!(
        reason("cpu").as_deref(),
        Some("demo: scrape target x (job k) is down: refused")
    );
    // With no notes and no errors, there is no reason to give.
    assert_eq!(
        overview(&snap(Health::Ok, &[]), None).charts[0].empty_reason,
        None
    );
}

#[test]
fn nodes_needing_a_look_come_first_then_by_name_as_read() {
    let node = |name: &str, ready: bool, cpu: f64| sentinel_runtime::snapshot::NodeView {
        node: sentinel_model::NodeState {
            name: name.into(),
            labels: Labels::new(),
            cpu_capacity_millis: 1000,
            memory_capacity_bytes: 1000,
            conditions: vec![NodeCondition {
                kind: "Ready".into(),
                status: ready,
                since: Timestamp(0),
                reason: String::new(),
            }],
            unschedulable: false,
        },
        cpu_cores: Some(cpu),
        memory_bytes: Some(100.0),
        pods: 1,
    };
    let mut s = snap(Health::Ok, &[]);
    s.nodes = Arc::new(vec![
        node("ip-10-0-1-101", true, 0.2),
        node("ip-10-0-1-20", true, 0.3),
        node("ip-10-0-1-3", true, 0.1),
        node("ip-10-0-2-9", true, 0.95),
        node("ip-10-0-3-7", false, 0.1),
        node("ip-10-0-2-10", true, 0.8),
    ]);
    let names: Vec<String> = nodes(&s).into_iter().map(|r| r.name).collect();
    assert_eq!(
        names,
        [
            "ip-10-0-3-7",
            "ip-10-0-2-9",
            "ip-10-0-2-10",
            "ip-10-0-1-3",
            "ip-10-0-1-20",
            "ip-10-0-1-101"
        ]
    );
}

#[test]
fn a_node_condition_without_a_reason_has_no_brackets() {
    let mut c = NodeCondition {
        kind: "Ready".into(),
        status: false,
        since: Timestamp(0),
        reason: "KubeletNotReady".into(),
    };
    assert_eq!(condition_text(&c), "Ready=False (KubeletNotReady)");
    c.reason.clear();
    assert_eq!(condition_text(&c), "Ready=False");
    c.kind = "MemoryPressure".into();
    c.status = true;
    assert_eq!(condition_text(&c), "MemoryPressure=True");
}

#[test]
fn tray_shows_the_worst_thing_and_stale_beats_everything() {
    assert_eq!(tray_level(&snap(Health::Ok, &[])), TrayLevel::Ok);
    assert_eq!(
        tray_level(&snap(Health::Ok, &["none", "info"])),
        TrayLevel::Ok
    );
    assert_eq!(
        tray_level(&snap(Health::Ok, &["info", "warning"])),
        TrayLevel::Warning
    );
    assert_eq!(
        tray_level(&snap(Health::Ok, &["warning", "critical"])),
        TrayLevel::Critical
    );
    assert_eq!(tray_level(&snap(Health::Stale, &[])), TrayLevel::Stale);
    assert_eq!(
        tray_level(&snap(Health::Down, &["critical"])),
        TrayLevel::Stale
    );
    // Starting is not stale: the first poll is on its way.
    assert_eq!(tray_level(&snap(Health::Starting, &[])), TrayLevel::Ok);
}

#[test]
fn ticks_without_news_are_not_sent() {
    let a = snap(Health::Ok, &[]);
    let mut b = snap(Health::Ok, &[]);
    b.at = Timestamp(11_000);
    assert!(!worth_sending(&a, &b, 1_000), "only the clock moved");
    assert!(worth_sending(&a, &b, 5_000), "but ages must not freeze");
    b.data_at = Some(Timestamp(11_000));
    assert!(worth_sending(&a, &b, 1_000), "new data");
    assert!(
        worth_sending(&a, &snap(Health::Stale, &[]), 0),
        "health changed"
    );
}

#[test]
fn alert_query_filters_by_severity_and_limits() {
    let s = snap(Health::Ok, &["info", "warning", "critical"]);
    let crit = alerts(
        &s,
        &AlertQuery {
            min_severity: Some(Severity::Warning),
            ..AlertQuery::default()
        },
    )
    .unwrap();
    assert_eq!(crit.len(), 2);
    assert!(crit.iter().all(|a| a.severity >= Severity::Warning));
    assert_eq!(
        alerts(
            &s,
            &AlertQuery {
                limit: Some(1),
                ..AlertQuery::default()
            }
        )
        .unwrap()
        .len(),
        1
    );
    let o = overview(&s, Some(Timestamp(5_000)));
    assert_eq!(
        o.status.notifications_paused_until, None,
        "a pause that ended is not shown"
    );
    assert_eq!(o.alerts_total, 3);
}
