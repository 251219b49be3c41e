#![allow(clippy::unwrap_used)]

use sentinel_model::{
    ContainerState, ContainerStatus, Duration, Finding, Labels, OwnerKind, OwnerRef, PodPhase,
    PodState, RuleRef, RuleState, RuleTrace, SeriesKey, Severity, Timestamp, Transition,
    WindowSummary,
};

use super::*;
use crate::incident::{IncidentConfig, Manager};
use crate::live::{self, CapturedSeries};

const T0: i64 = 1_790_000_000_000;

fn at(secs: i64) -> Timestamp {
    Timestamp(T0 + secs * 1000)
}

fn pod() -> PodState {
    PodState {
        uid: "3f2504e0-4f89-11d3-9a0c-0305e82c3301".into(),
        namespace: "shop".into(),
        name: "checkout-5d8f7c9b4-abcde".into(),
        labels: Labels::new(),
        owner: Some(OwnerRef {
            kind: OwnerKind::ReplicaSet,
            name: "checkout-5d8f7c9b4".into(),
        }),
        node: Some("node-1".into()),
        phase: PodPhase::Running,
        created_at: at(-600),
        containers: vec![ContainerStatus {
            name: "app".into(),
            image: "registry.acme-corp.io/shop/checkout:2.8.0".into(),
            ready: false,
            restart_count: 4,
            state: ContainerState::Waiting {
                reason: "CrashLoopBackOff".into(),
            },
            last_termination_reason: Some("OOMKilled".into()),
            cpu_request_millis: 100,
            memory_limit_bytes: 256 << 20,
            ports: Default::default(),
            probes: Default::default(),
        }],
    }
}

fn finding() -> Finding {
    let series = SeriesKey::new(
        "pod_memory_usage_ratio",
        [
            ("namespace", "shop"),
            ("pod", "checkout-5d8f7c9b4-abcde"),
            ("owner", "ops@acme-corp.io"),
        ],
    );
    let rule = RuleRef {
        name: "memory-high".into(),
        detector: "threshold".into(),
        params: vec![],
        severity: Severity::Critical,
        for_: Duration(120_000),
        keep_firing_for: Duration(0),
    };
    Finding {
        id: "memory-high/1".into(),
        rule: "memory-high".into(),
        series: series.clone(),
        severity: Severity::Critical,
        state: RuleState::Firing,
        active_at: at(0),
        fired_at: at(120),
        resolved_at: None,
        summary: "memory high".into(),
        trace: RuleTrace {
            rule,
            series,
            at: at(120),
            value: 0.97,
            window: WindowSummary::default(),
            computed: vec![],
            comparisons: vec![],
            band: Some((0.3, 0.6)),
            threshold: Some(0.85),
            transitions: vec![
                Transition {
                    at: at(0),
                    from: RuleState::Inactive,
                    to: RuleState::Pending,
                    reason: "above 0.85".into(),
                },
                Transition {
                    at: at(120),
                    from: RuleState::Pending,
                    to: RuleState::Firing,
                    reason: "held for 2m".into(),
                },
            ],
            points: (0..40)
                .map(|k| (at(k * 5 - 80), 0.4 + k as f64 * 0.015))
                .collect(),
            state: RuleState::Firing,
            severity: Severity::Critical,
            explanation: "memory of checkout above 85% for 2m".into(),
            mark: None,
        },
    }
}

/// An incident opened by the finding, with a capture of the OOM-killed pod
/// and an event naming an address and a token, and its explanation.
pub(crate) fn fixture() -> (Incident, Explanation, Vec<Finding>) {
    let mut m = Manager::new(IncidentConfig {
        cluster: "prod-eu".into(),
        ..IncidentConfig::default()
    });
    let p = pod();
    m.topology_mut().set_pods(std::slice::from_ref(&p));
    let f = finding();
    m.finding(&f);
    let id = m.incidents()[0].id.clone();
    let event = sentinel_model::ClusterEvent {
        kind: sentinel_model::EventType::Warning,
        reason: "BackOff".into(),
        message: "Back-off restarting failed container; last probe from 10.42.3.17 with token=s3cr3tT0ken"
            .into(),
        involved_object: sentinel_model::ObjectRef {
            kind: "Pod".into(),
            namespace: Some("shop".into()),
            name: p.name.clone(),
        },
        count: 3,
        first_timestamp: at(60),
        last_timestamp: at(110),
        source: "kubelet".into(),
    };
    // The warning joins the incident as a member, so it is on the timeline.
    m.event(&event);
    let memory = CapturedSeries {
        name: "container_memory_working_set_bytes".into(),
        labels: [("namespace", "shop"), ("pod", "checkout-5d8f7c9b4-abcde")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        points: (0..30)
            .map(|k| (at(k * 10 - 200), 1e8 + k as f64 * 5e6))
            .collect(),
    };
    m.capture(
        &id,
        at(130),
        vec![live::pod_json(&p), live::event_json(&event, 0)],
        vec![memory],
        vec![],
    );
    let inc = m.get(&id).unwrap().clone();
    let e = inc
        .capture
        .as_ref()
        .map(|c| crate::explain(&c.to_capture(inc.onset())))
        .unwrap();
    (inc, e, vec![f])
}

fn report(format: Format, scrubber: Option<&mut Scrubber>) -> String {
    let (inc, e, findings) = fixture();
    let input = ReportInput {
        incident: &inc,
        explanation: &e,
        findings: &findings,
        generated_at: at(900),
    };
    render(&input, format, scrubber)
}

#[test]
fn the_html_page_holds_every_part_and_every_citation_resolves() {
    let (inc, e, _) = fixture();
    assert_eq!(e.top().map(|c| c.cause.as_str()), Some("oom_killed"));
    let html = report(Format::Html, None);
    assert!(html.starts_with("<!DOCTYPE html>"));
    for part in [
        "<h2>Explanation</h2>",
        "<h2>Candidate causes</h2>",
        "<code>oom_killed</code>",
        "<h2 id=\"evidence\">Evidence</h2>",
        "<h2 id=\"timeline\">Timeline</h2>",
        "<h2 id=\"traces\">Rule traces</h2>",
        "<h2>Captured series</h2>",
        "What to try",
        inc.id.as_str(),
        "memory-high on pod_memory_usage_ratio",
    ] {
        assert!(html.contains(part), "missing {part:?}");
    }
    // The trace's steps, in words.
    for step in finding().trace.sentences() {
        assert!(html.contains(&html::esc(&step)), "missing step {step:?}");
    }
    // One chart per trace and per captured series, inline, and no scripts.
    assert_eq!(
        html.matches("<svg").count(),
        2,
        "trace chart + memory chart"
    );
    assert!(!html.contains("<script"));
    assert!(!html.contains("src=\"http"), "nothing is fetched");
    // Every evidence id an explanation cites has its anchor in the page.
    let cited: Vec<&String> = e.sentences().flat_map(|s| s.cites.iter()).collect();
    assert!(!cited.is_empty());
    for id in cited {
        assert!(html.contains(&format!("href=\"#ev-{id}\"")), "{id}");
        assert!(
            html.contains(&format!("id=\"ev-{id}\"")),
            "{id} has no anchor"
        );
    }
}

#[test]
fn markdown_says_the_same_with_embedded_charts() {
    let md = report(Format::Markdown, None);
    for part in [
        "## Explanation",
        "## Candidate causes",
        "`oom_killed`",
        "## Evidence",
        "## Timeline",
        "## Rule traces",
        "## Captured series",
        "| Time | Kind | Subject | Detail |",
    ] {
        assert!(md.contains(part), "missing {part:?}");
    }
    assert_eq!(md.matches("](data:image/svg+xml;base64,").count(), 2);
    // Names read as written; a trace's heading escapes Markdown's underscores.
    assert!(md.contains("checkout-5d8f7c9b4-abcde"));
    assert!(
        md.contains(r"memory-high on pod\_memory\_usage\_ratio"),
        "underscores escaped, not emphasis"
    );
    assert!(!md.contains("<svg"), "charts are images, not raw markup");
}

#[test]
fn redaction_removes_identifiers_everywhere_and_says_so() {
    let planted = [
        "10.42.3.17",
        "s3cr3tT0ken",
        "ops@acme-corp.io",
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "acme-corp",
    ];
    let plain = report(Format::Html, None);
    assert!(
        planted[..3].iter().all(|p| plain.contains(p)),
        "the fixture plants what redaction must remove"
    );
    for format in [Format::Html, Format::Markdown] {
        let mut s = Scrubber::new(&["acme-corp".into()]).unwrap();
        let out = report(format, Some(&mut s));
        for p in planted {
            assert!(!out.contains(p), "{p} survived redaction in {format:?}");
        }
        assert!(out.contains("Redacted: "), "the report says it is redacted");
        // What the explanation needs still reads.
        assert!(out.contains("oom_killed"));
        assert!(out.contains("checkout-5d8f7c9b4-abcde"));
    }
}

#[test]
fn markup_in_data_is_escaped() {
    let (mut inc, e, findings) = fixture();
    inc.title = "<img src=x onerror=alert(1)> *bold* | pipe".into();
    let input = ReportInput {
        incident: &inc,
        explanation: &e,
        findings: &findings,
        generated_at: at(900),
    };
    let html = render(&input, Format::Html, None);
    assert!(!html.contains("<img"), "markup in data is escaped");
    assert!(html.contains("&lt;img src=x"));
    let md = render(&input, Format::Markdown, None);
    assert!(md.contains("# &lt;img src=x onerror=alert(1)&gt; \\*bold\\* \\| pipe"));
}
