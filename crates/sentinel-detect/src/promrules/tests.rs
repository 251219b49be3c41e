use super::*;
use crate::detectors::Op;
use crate::engine::Engine;
use sentinel_model::{RuleState, SeriesKey, Timestamp};

const KUBE_PROMETHEUS: &str = r#"
groups:
- name: kubernetes-apps
  interval: 30s
  rules:
  - alert: KubePodCrashLooping
    annotations:
      description: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is in waiting state (reason: "CrashLoopBackOff").'
      summary: Pod is crash looping.
    expr: |
      max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1
    for: 15m
    labels:
      severity: warning
  - alert: KubeContainerRestarts
    expr: increase(kube_pod_container_status_restarts_total{namespace=~".+"}[10m]) > 2
    labels: {severity: critical}
    annotations:
      summary: "{{ $labels.namespace }}/{{ $labels.pod }} restarted {{ $value | humanize }} times in 10m"
  - alert: NodeNotReady
    expr: kube_node_status_condition{condition="Ready",status="true"} == 0
    for: 5m
    keep_firing_for: 2m
    labels: {severity: page}
  - alert: NodeNotReady
    expr: kube_node_status_condition{condition="Ready",status="true"} == 0
    for: 30m
    labels: {severity: critical}
  - alert: ApiAbsent
    expr: absent(up{job="apiserver"})
    for: 10m
    labels: {severity: critical}
  - alert: HighLoad
    expr: 4 < node_load1
  - alert: ErrorBudget
    expr: sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.05
  - record: job:up:sum
    expr: sum by (job) (up)
"#;

#[test]
fn a_prometheus_rule_file_imports_what_sentinel_can_evaluate() {
    let got = import(KUBE_PROMETHEUS).unwrap();
    let names: Vec<&str> = got.rules.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "KubeContainerRestarts",
            "NodeNotReady",
            "NodeNotReady (critical)",
            "ApiAbsent",
            "HighLoad"
        ]
    );
    let restarts = &got.rules.rules[0];
    assert_eq!(
        restarts.detector,
        DetectorSpec::RateOfChange {
            per: Duration::from_mins(10),
            op: Op::Gt,
            value: 2.0,
            counter: true
        }
    );
    assert_eq!(restarts.selector.labels["namespace"], "*");
    assert_eq!(restarts.severity, Severity::Critical);
    assert_eq!(
        restarts.explain,
        "{namespace}/{pod} restarted {value} times in 10m"
    );
    let ready = &got.rules.rules[1];
    assert_eq!(ready.selector.metric, "kube_node_status_condition");
    assert_eq!(ready.selector.labels["condition"], "Ready");
    assert_eq!(ready.for_, Duration::from_mins(5));
    assert_eq!(ready.keep_firing_for, Duration::from_mins(2));
    assert_eq!(ready.severity, Severity::Critical);
    assert_eq!(
        ready.detector,
        DetectorSpec::Threshold {
            op: Op::Eq,
            value: 0.0
        }
    );
    let absent = &got.rules.rules[3];
    assert_eq!(
        absent.detector,
        DetectorSpec::Absent {
            after: Duration::from_mins(10)
        }
    );
    assert_eq!(absent.for_, Duration(0));
    let load = &got.rules.rules[4];
    assert_eq!(
        load.detector,
        DetectorSpec::Threshold {
            op: Op::Gt,
            value: 4.0
        }
    );
    assert_eq!(load.severity, Severity::Warning);

    let skipped: Vec<(&str, &str)> = got
        .skipped
        .iter()
        .map(|s| (s.name.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert_eq!(skipped[0].0, "KubePodCrashLooping");
    assert!(
        skipped[0]
            .1
            .contains("unsupported function `max_over_time`"),
        "{skipped:?}"
    );
    assert!(skipped[1].1.contains("unsupported aggregation `sum`"));
    assert_eq!(skipped[2].0, "job:up:sum");
    assert!(skipped[2].1.contains("recording rule"));
}

#[test]
fn imported_rules_fire_in_the_engine_with_prometheus_for_semantics() {
    let got = import(KUBE_PROMETHEUS).unwrap();
    let mut engine = Engine::new(got.rules);
    let key = SeriesKey::new(
        "kube_node_status_condition",
        [("node", "n1"), ("condition", "Ready"), ("status", "true")],
    );
    let id = engine.series(&key);
    let mut firing_at = None;
    let mut out = Vec::new();
    for s in 0..=500 {
        let at = Timestamp::from_secs(s);
        let value = if s < 100 { 1.0 } else { 0.0 };
        engine.observe(id, at, value, &mut out);
        for f in out.drain(..) {
            if f.rule == "NodeNotReady" && f.state == RuleState::Firing && firing_at.is_none() {
                firing_at = Some(s);
            }
        }
    }
    // Not ready from t=100; `for: 5m` holds it pending until t=400.
    assert_eq!(firing_at, Some(400));
}

#[test]
fn either_format_loads_and_bad_files_are_errors() {
    let sentinel = load(crate::rules::DEFAULT_PACK).unwrap();
    assert!(sentinel.skipped.is_empty());
    assert_eq!(sentinel.rules, crate::default_pack());
    assert!(
        load("groups: 3")
            .unwrap_err()
            .0
            .contains("not a Prometheus rule file")
    );
    let bad = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: soon\n";
    assert!(load(bad).unwrap_err().0.contains("bad duration"));
}

#[test]
fn the_default_pack_exports_to_prometheus_rules() {
    let out = export(&crate::default_pack(), Duration::from_secs(5));
    let rules = &out.file.groups[0].rules;
    let by = |name: &str| -> Vec<&PromRule> {
        rules
            .iter()
            .filter(|r| r.alert.as_deref() == Some(name))
            .collect()
    };
    let cpu = by("NodeCPUHigh");
    assert_eq!(cpu.len(), 1);
    assert_eq!(
        cpu[0].expr,
        r#"(sum by (node) (rate(node_cpu_usage_seconds_total[1m])) / on (node) sum by (node) (kube_node_status_capacity{resource="cpu"})) > 0.8"#
    );
    assert_eq!(cpu[0].for_, Duration::from_mins(2));
    assert_eq!(cpu[0].labels["severity"], "warning");
    assert_eq!(
        cpu[0].annotations["summary"],
        "Node {{ $labels.node }} has used {{ $value | humanizePercentage }} of its CPU, above 80%, for 2m."
    );
    assert_eq!(by("TargetDown")[0].expr, "up < 1");
    assert_eq!(by("SourceAbsent")[0].expr, "absent_over_time(up[1m])");
    let restarts = by("ContainerRestarting");
    assert_eq!(
        restarts[0].expr,
        "increase((sum by (namespace, pod) (kube_pod_container_status_restarts_total))[5m:]) > 0"
    );
    assert_eq!(restarts[0].keep_firing_for, Duration::from_mins(10));
    // A critical graded rule gives a warning and a critical alert.
    let errors = by("ErrorRateAnomaly");
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].labels["severity"], "warning");
    assert_eq!(errors[1].labels["severity"], "critical");
    assert!(
        errors[1].expr.contains(
            "quantile_over_time(0.5, (100 * sum(rate(http_requests_total{code=~\"5..\"}[1m]))"
        ),
        "{}",
        errors[1].expr
    );
    assert!(
        errors[1].expr.contains("[750s:]"),
        "window 150 × 5s: {}",
        errors[1].expr
    );
    // It watches rises only: the signed deviation, not its size.
    assert!(
        errors[1].expr.starts_with("((100 * sum")
            && errors[1]
                .expr
                .contains("[1m]))) - quantile_over_time(0.5, "),
        "{}",
        errors[1].expr
    );
    let cpu = by("ClusterCPUAnomaly");
    assert!(cpu[1].expr.starts_with("abs("), "{}", cpu[1].expr);
    let left: Vec<&str> = out.skipped.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(left, ["RequestRateUnusual", "LatencyDistributionDrift"]);
    assert!(out.yaml.contains(
        "# Left out LatencyDistributionDrift: PSI distribution drift has no PromQL counterpart"
    ));
    // The text is the file: it parses back into the same groups.
    let back: PromRuleFile = serde_yaml::from_str(&out.yaml).unwrap();
    assert_eq!(back, out.file);
}

#[test]
fn rules_on_plain_metrics_survive_export_and_import() {
    let original = import(KUBE_PROMETHEUS).unwrap().rules;
    let out = export(&original, Duration::from_secs(5));
    let again = import(&out.yaml).unwrap();
    assert!(again.skipped.is_empty(), "{:?}", again.skipped);
    for (a, b) in original.rules.iter().zip(&again.rules.rules) {
        assert_eq!(a.name, b.name);
        assert_eq!(a.selector, b.selector);
        assert_eq!(a.severity, b.severity);
        assert_eq!(a.for_, b.for_);
        assert_eq!(a.detector, b.detector, "{}", a.name);
    }
}

/// A percentage in a template survives the trip both ways: Prometheus'
/// `humanizePercentage` is `{value:%}` here, `humanizeDuration` `{value:s}`.
#[test]
fn percentages_and_durations_in_templates_cross_both_ways() {
    let got = import(
        r#"
groups:
- name: disk
  rules:
  - alert: DiskFilling
    expr: node_filesystem_usage_ratio > 0.9
    annotations:
      summary: "{{ $labels.instance }} has used {{ $value | humanizePercentage }} of its disk"
  - alert: BackupLate
    expr: backup_age_seconds > 86400
    annotations:
      summary: "The last backup ran {{ $value | humanizeDuration }} ago"
"#,
    )
    .unwrap();
    let rule = &got.rules.rules[0];
    assert_eq!(rule.explain, "{instance} has used {value:%} of its disk");
    assert_eq!(
        got.rules.rules[1].explain,
        "The last backup ran {value:s} ago"
    );
    let back = export(&got.rules, Duration::from_secs(15));
    assert!(
        back.yaml.contains(
            "{{ $labels.instance }} has used {{ $value | humanizePercentage }} of its disk"
        ) && back
            .yaml
            .contains("The last backup ran {{ $value | humanizeDuration }} ago"),
        "{}",
        back.yaml
    );
}
