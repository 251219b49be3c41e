use std::sync::Arc;

use sentinel_model::{
    AlertState, Duration, Labels, RuleRef, RuleTrace, SeriesKey, SilenceNote, WindowSummary,
};
use sentinel_protocol::TrayLevel;
use sentinel_runtime::snapshot::{Health, Mode, SourceStatus};

use super::*;

pub(crate) fn alert(
    fp: &str,
    name: &str,
    severity: &str,
    at: i64,
    pairs: &[(&str, &str)],
) -> Alert {
    let mut labels: Labels = pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    labels.insert("alertname".into(), name.into());
    labels.insert("severity".into(), severity.into());
    Alert {
        fingerprint: fp.into(),
        labels,
        annotations: Labels::new(),
        starts_at: Timestamp(at),
        ends_at: None,
        state: AlertState::Active,
        generator_url: String::new(),
        silenced_by: Vec::new(),
        inhibited_by: Vec::new(),
    }
}

fn finding(rule: &str, at: i64, pairs: &[(&str, &str)], severity: Severity) -> Finding {
    let series = SeriesKey::new("pod_p95_latency_ms", pairs.iter().copied());
    let at = Timestamp(at);
    Finding {
        id: format!("{rule}/{series}/{}", at.0),
        rule: rule.into(),
        series: series.clone(),
        severity,
        state: RuleState::Firing,
        active_at: at,
        fired_at: at,
        resolved_at: None,
        summary: format!("p95 latency of {series} is high"),
        trace: RuleTrace {
            rule: RuleRef {
                name: rule.into(),
                detector: "zscore".into(),
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
            threshold: None,
            transitions: vec![],
            points: vec![],
            state: RuleState::Firing,
            severity,
            explanation: String::new(),
            mark: None,
        },
    }
}

/// A critical alert silenced by ana, a warning inhibited by a firing
/// warning, a watchdog, and an engine finding.
fn snap() -> Snapshot {
    let mut s = Snapshot::empty(Mode::Live, Timestamp(100_000));
    s.sources = vec![SourceStatus {
        name: "alertmanager".into(),
        kind: "alertmanager",
        interval: Duration::from_secs(10),
        health: Health::Ok,
        last_ok: Some(Timestamp(99_000)),
        last_error: None,
        latency: None,
        notes: Vec::new(),
    }];
    let mut silenced = alert(
        "s1",
        "KubeCPUOvercommit",
        "critical",
        40_000,
        &[("namespace", "kube-system")],
    );
    silenced.state = AlertState::Suppressed;
    silenced.silenced_by = vec!["sil-1".into(), "sil-gone".into()];
    let mut inhibited = alert(
        "i1",
        "HighRequestLatency",
        "warning",
        50_000,
        &[("namespace", "shop"), ("service", "checkout")],
    );
    inhibited.state = AlertState::Suppressed;
    inhibited.inhibited_by = vec!["e1".into(), "not-here".into()];
    s.alerts = Arc::new(vec![
        silenced,
        inhibited,
        alert(
            "e1",
            "HighErrorRate",
            "warning",
            30_000,
            &[("namespace", "shop"), ("service", "checkout")],
        ),
        alert("w1", "Watchdog", "info", 10_000, &[]),
    ]);
    s.alert_silences = Arc::new(vec![SilenceNote {
        id: "sil-1".into(),
        ends_at: Timestamp(3_700_000),
        created_by: "ana".into(),
        comment: "known, ticket OPS-12".into(),
    }]);
    s.findings = Arc::new(vec![finding(
        "LatencyP95Anomaly",
        20_000,
        &[("namespace", "data"), ("pod", "postgres-0")],
        Severity::Warning,
    )]);
    s
}

fn fps(rows: &[AlertRow]) -> Vec<&str> {
    rows.iter().map(|r| r.fingerprint.as_str()).collect()
}

fn query(text: &str, held: bool) -> AlertQuery {
    AlertQuery {
        text: (!text.is_empty()).then(|| text.to_string()),
        held,
        ..AlertQuery::default()
    }
}

#[test]
fn alerts_alertmanager_holds_back_are_neither_shown_nor_counted_unless_asked() {
    let s = snap();
    let all = alerts(&s, &AlertQuery::default()).unwrap();
    let finding_id = s.findings[0].id.as_str();
    assert_eq!(fps(&all), ["e1", finding_id, "w1"], "newest first");
    assert!(all.iter().all(|r| r.held.is_none()));
    assert_eq!(firing_count(&s), 3);
    assert_eq!(held_count(&s), 2);
    // The silenced critical does not make the worst severity critical.
    assert_eq!(worst(&s), Some(Severity::Warning));
    let o = crate::overview(&s, None);
    assert_eq!((o.alerts_total, o.alerts_held), (3, 2));
    assert_eq!(fps(&o.alerts), ["e1", finding_id, "w1"]);
    assert_eq!(o.tray, TrayLevel::Warning);

    let with_held = alerts(&s, &query("", true)).unwrap();
    assert_eq!(fps(&with_held), ["i1", "s1", "e1", finding_id, "w1"]);
    // A page is the head of that order, whatever its length.
    for n in 0..=6 {
        let q = AlertQuery {
            limit: Some(n),
            ..query("", true)
        };
        let page = alerts(&s, &q).unwrap();
        assert_eq!(fps(&page), fps(&with_held)[..n.min(5)], "limit {n}");
    }
    let silenced = &with_held[1];
    let held = silenced.held.as_ref().unwrap();
    assert_eq!(held.silences.len(), 2);
    assert_eq!(
        held.silences[0],
        HoldingSilence {
            id: "sil-1".into(),
            until: Some(Timestamp(3_700_000)),
            by: "ana".into(),
            comment: "known, ticket OPS-12".into(),
        }
    );
    // A silence not listed (yet) is known by its id only.
    assert_eq!(held.silences[1].id, "sil-gone");
    assert_eq!(held.silences[1].until, None);
    // Inhibitors by name, or by fingerprint when not in the feed.
    let inhibited = with_held[0].held.as_ref().unwrap();
    assert_eq!(inhibited.inhibited_by, ["HighErrorRate", "not-here"]);

    // "Why?" says so.
    let why = crate::explain(&s, "s1").unwrap();
    let said = why
        .steps
        .iter()
        .find(|l| l.starts_with("Alertmanager holds it back"))
        .unwrap();
    assert!(
        said.contains("silenced by ana until") && said.contains("(known, ticket OPS-12)"),
        "{said}"
    );
    assert!(said.contains("silenced by silence sil-gone"), "{said}");
    let why = crate::explain(&s, "i1").unwrap();
    assert!(
        why.steps
            .iter()
            .any(|l| l.contains("inhibited by HighErrorRate, not-here")),
        "{:?}",
        why.steps
    );
}

#[test]
fn nothing_but_held_back_alerts_leaves_the_tray_calm() {
    let mut s = snap();
    Arc::make_mut(&mut s.alerts).retain(|a| a.held_back());
    Arc::make_mut(&mut s.findings).clear();
    assert_eq!(worst(&s), None);
    assert_eq!(crate::tray_level(&s), TrayLevel::Ok);
    assert_eq!(firing_count(&s), 0);
}

#[test]
fn the_filter_reaches_alerts_and_findings_and_a_bad_one_is_refused() {
    let s = snap();
    let finding_id = s.findings[0].id.clone();
    let hit = |text: &str, held: bool| fps(&alerts(&s, &query(text, held)).unwrap()).join(",");
    assert_eq!(hit("namespace=shop", false), "e1");
    assert_eq!(hit("namespace=shop", true), "i1,e1");
    assert_eq!(hit("checkout", true), "i1,e1");
    assert_eq!(hit("postgres", false), finding_id);
    assert_eq!(
        hit("alertname=~\"High.*|Latency.*\"", false),
        format!("e1,{finding_id}")
    );
    assert_eq!(
        hit("severity!=info namespace!=shop", true),
        format!("s1,{finding_id}")
    );
    // The filter comes before the limit: the page is of what matches.
    let q = AlertQuery {
        limit: Some(1),
        ..query("namespace=shop", true)
    };
    assert_eq!(fps(&alerts(&s, &q).unwrap()), ["i1"]);
    let e = alerts(&s, &query("pod=~[", false)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(
        e.message.contains("is not a regular expression"),
        "{}",
        e.message
    );
}
