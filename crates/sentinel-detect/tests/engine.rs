//! The engine end to end: rules from YAML, readings in, findings and traces out.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use sentinel_detect::{Engine, RuleFile, default_pack};
use sentinel_model::{Duration, Finding, Mark, RuleState, SeriesKey, Severity, Timestamp};

fn t(s: i64) -> Timestamp {
    Timestamp::from_secs(1_700_000_000 + s)
}

fn rules(yaml: &str) -> RuleFile {
    RuleFile::parse(yaml).unwrap()
}

const CPU: &str = r#"
rules:
  - name: NodeCPUHigh
    selector: {metric: node_cpu_usage_ratio}
    detector: {kind: threshold, op: ">", value: 0.8}
    for: 2m
    severity: warning
    explain: "Node {node} has used {value} of its CPU, above {threshold}, for {for}."
"#;

#[test]
fn a_threshold_rule_fires_after_for_and_its_trace_says_why() {
    let mut e = Engine::new(rules(CPU));
    let key = SeriesKey::new("node_cpu_usage_ratio", [("node", "n1")]);
    let id = e.series(&key);
    let mut out = Vec::new();
    for s in 0..30 {
        e.observe(id, t(s * 10), 0.5, &mut out);
    }
    assert!(out.is_empty());
    // Above the threshold from t=300; 2 minutes later it fires.
    for s in 30..50 {
        e.observe(id, t(s * 10), 0.93, &mut out);
    }
    assert_eq!(out.len(), 1, "{out:#?}");
    let f = &out[0];
    assert_eq!(f.state, RuleState::Firing);
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.active_at, t(300));
    assert_eq!(f.fired_at, t(420));
    let tr = &f.trace;
    assert_eq!(tr.transitions.len(), 2);
    assert_eq!(
        (tr.transitions[0].to, tr.transitions[0].at),
        (RuleState::Pending, t(300))
    );
    assert_eq!(
        (tr.transitions[1].to, tr.transitions[1].at),
        (RuleState::Firing, t(420))
    );
    assert_eq!(tr.threshold, Some(0.8));
    assert!(
        tr.comparisons
            .iter()
            .any(|c| c.passed && c.op == ">" && c.threshold == 0.8)
    );
    assert_eq!(
        tr.explanation,
        "Node n1 has used 0.93 of its CPU, above 0.8, for 2m."
    );
    // The evidence spans the readings before `pending` through `firing`.
    assert!(
        tr.points.iter().any(|p| p.0 < t(300)),
        "{:?}",
        tr.points.first()
    );
    assert!(tr.points.iter().any(|p| p.0 == t(300)));
    assert_eq!(tr.points.last(), Some(&(t(420), 0.93)));
    assert_eq!(
        tr.points.len(),
        31 + 12,
        "all 31 readings up to pending, 12 after"
    );
    let text = tr.sentences().join("\n");
    assert!(
        text.contains("Rule NodeCPUHigh watches node_cpu_usage_ratio{node=\"n1\"}"),
        "{text}"
    );
    assert!(text.contains("inactive → pending at"), "{text}");
    assert!(text.contains("pending → firing at"), "{text}");
    // Times as people read them: `2026-11-23 22:03:47.608 UTC`.
    let at = text.split("pending → firing at ").nth(1).unwrap_or("");
    assert!(
        at.get(10..11) == Some(" ") && at.get(23..28) == Some(" UTC:"),
        "{text}"
    );
    assert!(
        text.contains("Check value: 0.93 > 0.8 (warning) → true."),
        "{text}"
    );

    // Back under: resolved, with the transition appended.
    out.clear();
    e.observe(id, t(500), 0.4, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].state, RuleState::Resolved);
    assert_eq!(out[0].resolved_at, Some(t(500)));
    assert_eq!(
        out[0].trace.transitions.last().map(|x| x.to),
        Some(RuleState::Resolved)
    );
    assert_eq!(e.firing().count(), 0);
    assert_eq!(e.resolved().count(), 1);
}

#[test]
fn zscore_warms_up_then_grades_warning_and_critical() {
    let yaml = r#"
rules:
  - name: Z
    selector: {metric: m}
    detector: {kind: zscore, window: 20}
    severity: critical
    explain: "z = {z}"
"#;
    let mut e = Engine::new(rules(yaml));
    let id = e.series(&SeriesKey::new("m", []));
    let mut out = Vec::new();
    // Fewer than 5 readings: no verdict even for a wild value.
    for (i, v) in [1.0, 2.0, 1.0, 2.0, 1000.0].into_iter().enumerate() {
        e.observe(id, t(i as i64), v, &mut out);
    }
    assert!(out.is_empty(), "a verdict while warming up: {out:?}");
    let mut e = Engine::new(rules(yaml));
    let id = e.series(&SeriesKey::new("m", []));
    for i in 0..20 {
        e.observe(id, t(i), if i % 2 == 0 { 9.0 } else { 11.0 }, &mut out);
    }
    // mean 10, std 1: 12.5 is z = 2.5 (warning), 14 is z > 3 (critical).
    e.observe(id, t(20), 12.5, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].severity, Severity::Warning);
    e.observe(id, t(21), 40.0, &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].severity, Severity::Critical);
    let reason = &out[1].trace.transitions.last().unwrap().reason;
    assert!(
        reason.starts_with("severity rose to critical: |z| 26.8"),
        "{reason}"
    );
    assert_eq!(out[0].trace.window.count, 20);
    assert!(
        out[0]
            .trace
            .computed
            .iter()
            .any(|c| c.name == "z" && (c.value - 2.5).abs() < 0.1)
    );
    assert!(out[0].trace.band.is_some());
}

#[test]
fn absence_fires_on_tick_and_a_restart_counter_reset_is_not_negative() {
    let mut e = Engine::new(default_pack());
    let up = e.series(&SeriesKey::new("up", [("source", "demo")]));
    let restarts = e.series(&SeriesKey::new(
        "pod_container_restarts_total",
        [("namespace", "a"), ("pod", "p")],
    ));
    let mut out = Vec::new();
    for s in 0..10 {
        e.observe(up, t(s * 2), 1.0, &mut out);
        e.observe(restarts, t(s * 2), 7.0, &mut out);
    }
    assert!(out.is_empty(), "{out:#?}");
    e.tick(t(50), &mut out);
    assert!(out.is_empty(), "32 s of silence is under a minute");
    e.tick(t(90), &mut out);
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].rule, "SourceAbsent");
    assert_eq!(out[0].severity, Severity::Critical);
    // A counter that drops to 1 restarted: the increase is 1, so it fires.
    out.clear();
    e.observe(restarts, t(100), 1.0, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].rule, "ContainerRestarting");
    assert!(
        out[0]
            .trace
            .computed
            .iter()
            .any(|c| c.name == "counter reset" && c.value == 1.0)
    );
    assert!(
        out[0]
            .trace
            .computed
            .iter()
            .any(|c| c.name == "rate" && c.value > 0.0)
    );
}

/// The absence rule fired on a tick; a late poll then brings readings from
/// before that tick. The finding resolves then, not at a time before it
/// fired.
#[test]
fn a_late_reading_resolves_an_absence_no_earlier_than_it_fired() {
    let mut e = Engine::new(default_pack());
    let up = e.series(&SeriesKey::new("up", [("source", "prom")]));
    let mut out = Vec::new();
    for s in 0..10 {
        e.observe(up, t(s * 2), 1.0, &mut out);
    }
    e.tick(t(200), &mut out);
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].rule, "SourceAbsent");
    out.clear();
    // The gap's readings, stamped 20 s to 40 s: long before the tick.
    for s in 10..20 {
        e.observe(up, t(s * 2), 1.0, &mut out);
    }
    let resolved: Vec<_> = out.iter().filter(|f| f.resolved_at.is_some()).collect();
    assert_eq!(resolved.len(), 1, "{out:#?}");
    let f = resolved[0];
    assert_eq!(f.fired_at, t(200));
    assert_eq!(f.resolved_at, Some(t(200)), "{:#?}", f.trace.transitions);
    let times: Vec<Timestamp> = f.trace.transitions.iter().map(|x| x.at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn bad_readings_have_defined_outcomes() {
    let mut e = Engine::new(rules(CPU));
    let id = e.series(&SeriesKey::new("node_cpu_usage_ratio", [("node", "n1")]));
    let mut out = Vec::new();
    e.observe(id, t(10), 0.5, &mut out);
    e.observe(id, t(10), 0.99, &mut out); // duplicate timestamp
    e.observe(id, t(5), 0.99, &mut out); // out of order
    e.observe(id, t(11), f64::NAN, &mut out);
    e.observe(id, t(12), f64::INFINITY, &mut out);
    e.observe(id, t(13), f64::NEG_INFINITY, &mut out);
    let r = e.rejected();
    assert_eq!((r.out_of_order, r.non_finite), (2, 3));
    assert!(out.is_empty());
    // Huge values are clamped, and serialise.
    e.observe(id, t(20), 1e308, &mut out);
    e.observe(id, t(200), 1e308, &mut out);
    assert_eq!(out.len(), 1);
    assert!(serde_json::to_string(&out[0]).is_ok());
    // An unknown id is ignored.
    e.observe(sentinel_detect::SeriesId(99), t(300), 1.0, &mut out);
}

#[test]
fn a_constant_series_that_moves_fires_for_the_z_family() {
    let z = |min_spread: f64| {
        format!(
            "rules:\n- name: Z\n  selector: {{metric: cluster_cpu_percent}}\n  detector: {{kind: zscore, window: 60, min_spread: {min_spread}}}\n  for: 20s\n  severity: critical\n  explain: x\n"
        )
    };
    // With a floor on the spread, a one-point move on a flat line is z = 2: calm.
    let mut e = Engine::new(rules(&z(0.5)));
    let id = e.series(&SeriesKey::new("cluster_cpu_percent", []));
    let mut out = Vec::new();
    for s in 0..115 {
        e.observe(id, t(s * 2), if s < 100 { 42.0 } else { 43.0 }, &mut out);
    }
    assert!(out.is_empty(), "{out:#?}");

    let mut e = Engine::new(rules(&z(0.0)));
    let id = e.series(&SeriesKey::new("cluster_cpu_percent", []));
    let mut out = Vec::new();
    for s in 0..100 {
        e.observe(id, t(s * 2), 42.0, &mut out);
    }
    assert!(out.is_empty(), "flat is calm: {out:?}");
    for s in 100..115 {
        e.observe(id, t(s * 2), 43.0, &mut out);
    }
    // It fires after `for: 20s`; later, with 43 in the window, it resolves.
    // |z| is above 3 for the first five readings of 43 only, so it fires as
    // a warning: a severity must hold for `for`, as in Prometheus.
    assert_eq!(out[0].state, RuleState::Firing, "{out:#?}");
    assert_eq!(out[0].fired_at, t(220));
    assert_eq!(out[0].severity, Severity::Warning);
    assert!(out.iter().skip(1).all(|f| f.state == RuleState::Resolved));
    // The first move off a flat line is an infinite z, and the trace says so.
    let pending = &out[0].trace.transitions[0];
    assert_eq!(pending.to, RuleState::Pending);
    assert!(
        pending.reason.starts_with("|z| ∞ > 3"),
        "{}",
        pending.reason
    );
    let json = serde_json::to_string(&out).unwrap();
    let back: Vec<Finding> =
        serde_json::from_str(&json).expect("non-finite numbers leaked into JSON");
    assert_eq!(back, out);
}

#[test]
fn a_flat_line_a_spike_has_left_is_calm_again() {
    // The spike's readings leave the window by a subtraction: the running
    // sums must not leave the flat line a rounding error off its own mean
    // with no spread, which would make every reading on it infinitely far.
    let yaml = "rules:\n- name: Z\n  selector: {metric: m}\n  detector: {kind: zscore, window: 10}\n  for: 10s\n  severity: critical\n  explain: x\n";
    for spike in [3.0, 7.0, 0.1, 1e9, -12.5] {
        for level in [0.0, 0.066, 42.0] {
            for phase in 0..10 {
                let mut e = Engine::new(rules(yaml));
                let id = e.series(&SeriesKey::new("m", []));
                let mut out = Vec::new();
                let mut s = 0;
                for _ in 0..20 + phase {
                    e.observe(id, t(s * 2), level, &mut out);
                    s += 1;
                }
                // One reading off the line: pending, and back at the next.
                e.observe(id, t(s * 2), level + spike, &mut out);
                s += 1;
                for _ in 0..40 {
                    e.observe(id, t(s * 2), level, &mut out);
                    s += 1;
                }
                assert!(
                    out.is_empty(),
                    "spike {spike} on {level}, phase {phase}: {out:#?}"
                );
            }
        }
    }
}

#[test]
fn operator_marks_show_in_the_trace_and_survive_resolution() {
    let mut e = Engine::new(rules(CPU));
    let id = e.series(&SeriesKey::new("node_cpu_usage_ratio", [("node", "n1")]));
    let mut out = Vec::new();
    for s in 0..20 {
        e.observe(id, t(s * 10), 0.95, &mut out);
    }
    let fid = out[0].id.clone();
    assert!(e.mark(&fid, Mark::FalsePositive, t(300)));
    assert!(!e.mark("nope", Mark::Confirmed, t(300)));
    let f = e.finding(&fid).unwrap();
    assert_eq!(f.mark().map(|m| m.mark), Some(Mark::FalsePositive));
    assert!(
        f.trace
            .sentences()
            .last()
            .unwrap()
            .starts_with("Marked false positive")
    );
    e.observe(id, t(400), 0.1, &mut out);
    assert_eq!(
        e.resolved().next().unwrap().mark().map(|m| m.mark),
        Some(Mark::FalsePositive)
    );
}

fn run(engine: &mut Engine, data: &[(u8, i64, f64)], from: usize) -> Vec<Finding> {
    let metrics = [
        "cluster_cpu_percent",
        "node_cpu_usage_ratio",
        "cluster_latency_p95_ms",
        "cluster_request_rate",
    ];
    let keys: Vec<SeriesKey> = metrics
        .iter()
        .map(|m| SeriesKey::new(m, [("node", "n")]))
        .collect();
    let mut out = Vec::new();
    for &(s, dt, v) in &data[from..] {
        let id = engine.series(&keys[s as usize % keys.len()]);
        engine.observe(id, Timestamp(dt), v, &mut out);
        if dt % 7 == 0 {
            engine.tick(Timestamp(dt), &mut out);
        }
    }
    out
}

fn readings() -> impl Strategy<Value = Vec<(u8, i64, f64)>> {
    prop::collection::vec(
        (
            0u8..4,
            0i64..5_000,
            prop_oneof![8 => -10.0f64..200.0, 1 => Just(f64::NAN), 1 => Just(1e300)],
        ),
        1..800,
    )
    .prop_map(|v| {
        // Mostly increasing time with some duplicates and regressions.
        let mut at = 0;
        v.into_iter()
            .map(|(s, step, x)| {
                at += step - 500;
                (s, at, x)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_same_input_gives_identical_findings(data in readings()) {
        let a = run(&mut Engine::new(default_pack()), &data, 0);
        let b = run(&mut Engine::new(default_pack()), &data, 0);
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    }

    #[test]
    fn snapshot_and_restore_mid_stream_changes_nothing(data in readings(), cut in 0usize..400) {
        let cut = cut.min(data.len());
        let mut whole = Engine::new(default_pack());
        let expected = run(&mut whole, &data, 0);

        let mut first = Engine::new(default_pack());
        let mut got = run(&mut first, &data[..cut], 0);
        let saved = serde_json::to_string(&first).unwrap();
        let mut resumed: Engine = serde_json::from_str::<Engine>(&saved).unwrap().restored();
        got.extend(run(&mut resumed, &data, cut));
        prop_assert_eq!(serde_json::to_string(&got).unwrap(), serde_json::to_string(&expected).unwrap());
        prop_assert_eq!(resumed, whole);
    }
}

#[test]
fn durations_in_traces_read_as_written() {
    let f = RuleFile::parse(CPU).unwrap();
    assert_eq!(f.rules[0].for_, Duration::from_mins(2));
}

#[test]
fn removing_a_series_resolves_its_findings_and_reuses_the_slot() {
    let mut e = Engine::new(rules(CPU));
    let a = e.series(&SeriesKey::new("node_cpu_usage_ratio", [("node", "a")]));
    let mut out = Vec::new();
    for s in 0..20 {
        e.observe(a, t(s * 10), 0.95, &mut out);
    }
    assert_eq!(e.firing().count(), 1);
    out.clear();
    e.remove(a, t(300), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].state, RuleState::Resolved);
    assert_eq!(
        out[0].trace.transitions.last().unwrap().reason,
        "the series disappeared"
    );
    assert_eq!(e.firing().count(), 0);
    assert_eq!(e.series_count(), 0);
    let b = e.series(&SeriesKey::new("node_cpu_usage_ratio", [("node", "b")]));
    assert_eq!(b, a, "the slot is reused");
    assert_eq!(e.series_count(), 1);
    // The new series starts fresh: no history carried over.
    out.clear();
    e.observe(b, t(310), 0.95, &mut out);
    assert!(out.is_empty());
}

/// Readings for series `s` at step `i`: its own level, and a step up for
/// 90 readings at its own phase, so series fire at their own times.
fn churn_reading(s: usize, i: usize) -> f64 {
    let level = 0.3 + (s % 7) as f64 * 0.05;
    let noise = ((s * 7 + i * 13) % 11) as f64 * 0.002;
    let step = if (i + s * 17) % 200 < 90 { 0.6 } else { 0.0 };
    level + noise + step
}

#[test]
fn churn_leaves_the_remaining_series_exactly_as_if_they_had_been_alone() {
    // 300 series, then 240 of them go (their rules' states are compacted
    // away) and 60 new ones come (reusing the freed ids). The 60 survivors
    // and the newcomers must behave exactly as in an engine that only ever
    // had them: no state crosses from one series to another.
    let set = RuleFile::parse(sentinel_detect::bench::STREAMING_SET).unwrap();
    let key = |s: usize| SeriesKey::new("bench", [("series", s.to_string().as_str())]);
    let survives = |s: usize| s.is_multiple_of(5);
    let mut churned = Engine::new(set.clone());
    let mut alone = Engine::new(set);
    let mut ids: Vec<Option<sentinel_detect::SeriesId>> =
        (0..300).map(|s| Some(churned.series(&key(s)))).collect();
    let mut alone_ids: Vec<Option<sentinel_detect::SeriesId>> = (0..300)
        .map(|s| survives(s).then(|| alone.series(&key(s))))
        .collect();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..600 {
        let at = t(i as i64 * 2);
        if i == 200 {
            for (s, id) in ids.iter_mut().enumerate() {
                if !survives(s) {
                    churned.remove(id.take().unwrap(), at, &mut Vec::new());
                }
            }
            assert_eq!(churned.series_count(), 60);
        }
        if i == 300 {
            for s in 1000..1060 {
                ids.push(Some(churned.series(&key(s))));
                alone_ids.push(Some(alone.series(&key(s))));
            }
        }
        for (s, (id, lone)) in ids.iter().zip(&alone_ids).enumerate() {
            let s = if s >= 300 { s + 700 } else { s };
            if let (Some(id), Some(lone)) = (id, lone) {
                churned.observe(*id, at, churn_reading(s, i), &mut a);
                alone.observe(*lone, at, churn_reading(s, i), &mut b);
            }
        }
    }
    assert!(b.len() > 200, "the workload fires: {}", b.len());
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    let firing = |e: &Engine| e.firing().map(|f| f.id.clone()).collect::<Vec<_>>();
    assert_eq!(firing(&churned), firing(&alone));
}

#[test]
fn a_trace_holds_the_readings_before_pending_also_after_a_flap() {
    // A blip goes pending and straight back; later the condition holds for
    // good. The finding's evidence is the 32 readings up to the second
    // pending (blip included) and every reading after it.
    let mut e = Engine::new(rules(CPU));
    let id = e.series(&SeriesKey::new("node_cpu_usage_ratio", [("node", "n1")]));
    let mut out = Vec::new();
    let reading = |s: i64| match s {
        50 => 0.9,
        s if s >= 100 => 0.95,
        _ => 0.5,
    };
    for s in 0..=112 {
        e.observe(id, t(s * 10), reading(s), &mut out);
    }
    assert_eq!(out.len(), 1, "{out:#?}");
    let points = &out[0].trace.points;
    let want: Vec<(Timestamp, f64)> = (100 - 31..=112).map(|s| (t(s * 10), reading(s))).collect();
    assert_eq!(points, &want);
    assert_eq!(out[0].active_at, t(1000));
}

#[test]
fn a_snapshot_taken_the_reading_a_rule_went_pending_resumes_exactly() {
    // A light rule going pending keeps its start in its slot until the next
    // reading; a snapshot taken in between must carry it.
    let yaml = "rules:\n- name: Z\n  selector: {metric: cluster_cpu_percent}\n  detector: {kind: zscore, window: 60}\n  for: 20s\n  severity: critical\n  explain: x\n";
    let reading = |s: i64| match s {
        s if s < 100 => 42.0 + (s % 2) as f64,
        _ => 50.0,
    };
    let feed = |e: &mut Engine, from: i64, to: i64, out: &mut Vec<Finding>| {
        let id = e.series(&SeriesKey::new("cluster_cpu_percent", []));
        for s in from..to {
            e.observe(id, t(s * 2), reading(s), out);
        }
    };
    let mut whole = Engine::new(rules(yaml));
    let mut expected = Vec::new();
    feed(&mut whole, 0, 130, &mut expected);

    let mut first = Engine::new(rules(yaml));
    let mut got = Vec::new();
    feed(&mut first, 0, 101, &mut got);
    assert!(got.is_empty());
    let saved = serde_json::to_string(&first).unwrap();
    let mut resumed = serde_json::from_str::<Engine>(&saved).unwrap().restored();
    feed(&mut resumed, 101, 130, &mut got);
    assert_eq!(got, expected);
    assert_eq!(resumed, whole);
    // Pending at the jump, against the calm before it: |z| = 15 (mean 42.5,
    // spread 0.5), not what the next reading's baseline would give.
    let f = &expected[0];
    assert_eq!(f.active_at, t(200));
    let pending = &f.trace.transitions[0];
    assert_eq!((pending.to, pending.at), (RuleState::Pending, t(200)));
    assert!(
        pending.reason.starts_with("|z| 15 > 3"),
        "{}",
        pending.reason
    );
}
