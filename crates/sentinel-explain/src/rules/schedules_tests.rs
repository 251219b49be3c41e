#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use crate::capture::Capture;
use crate::explain::explain;

const ONSET: &str = "2026-03-12T02:05:30Z";

/// A nightly CronJob last scheduled on the 10th, with `spec` merged in.
fn cron_job(spec: Value) -> Value {
    let mut c = json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "backup", "namespace": "ops",
            "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"schedule": "0 2 * * *"},
        "status": {"lastScheduleTime": "2026-03-10T02:00:00Z",
            "lastSuccessfulTime": "2026-03-09T02:40:00Z"}});
    for (k, v) in spec.as_object().unwrap() {
        c["spec"][k] = v.clone();
    }
    c
}

/// The run of the 10th, still going, and its pod.
fn hung_run() -> [Value; 2] {
    [
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "backup-29553960", "namespace": "ops",
                "creationTimestamp": "2026-03-10T02:00:00Z",
                "ownerReferences": [{"kind": "CronJob", "name": "backup", "controller": true}]},
            "status": {"startTime": "2026-03-10T02:00:01Z", "active": 1}}),
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "backup-29553960-q8x2m", "namespace": "ops",
                "creationTimestamp": "2026-03-10T02:00:01Z",
                "ownerReferences": [{"kind": "Job", "name": "backup-29553960", "controller": true}]},
            "status": {"phase": "Running"}}),
    ]
}

const LOGS: &str = r#"{"ts": "2026-03-10T02:00:03Z", "namespace": "ops", "pod": "backup-29553960-q8x2m", "container": "backup", "line": "dumping orders"}
{"ts": "2026-03-10T02:01:10Z", "namespace": "ops", "pod": "backup-29553960-q8x2m", "container": "backup", "line": "waiting for lock on table orders"}
"#;

const LATE_READING: &str = "timestamp,series,value\n\
    2026-03-12T02:05:30Z,\"cronjob_late_seconds{namespace=\"\"ops\"\",cronjob=\"\"backup\"\"}\",86730\n";

fn capture(items: Vec<Value>, metrics: Option<&str>, logs: Option<&str>) -> Capture {
    let objects = json!({"kind": "List", "items": items});
    let onset = sentinel_model::Timestamp::parse(ONSET).unwrap();
    Capture::parse(onset, Some(&objects.to_string()), metrics, logs).unwrap()
}

fn late(cap: &Capture) -> Option<(String, String, f64)> {
    let e = explain(cap);
    let c = e.candidates.iter().find(|c| c.cause == "cronjob_late")?;
    let said: Vec<&str> = c.sentences.iter().map(|s| s.text.as_str()).collect();
    Some((said.join(" "), c.mitigation.join(" "), c.score))
}

#[test]
fn a_run_that_hangs_under_forbid_is_named_with_its_last_log_line() {
    let [job, pod] = hung_run();
    let cap = capture(
        vec![cron_job(json!({"concurrencyPolicy": "Forbid"})), job, pod],
        Some(LATE_READING),
        Some(LOGS),
    );
    let e = explain(&cap);
    let top = e.top().unwrap();
    assert_eq!(top.cause, "cronjob_late");
    assert!(e.confident, "{}", e.render());
    let (said, hint, _) = late(&cap).unwrap();
    for want in [
        "CronJob backup has started no run since 2026-03-10T02:00:00",
        "the run due at 2026-03-11T02:00:00",
        "(2 runs due by the onset)",
        "Its run backup-29553960 started 2d before the onset and is still running",
        "concurrencyPolicy Forbid",
        "log ends with \"waiting for lock on table orders\"",
    ] {
        assert!(said.contains(want), "{want}: {said}");
    }
    assert!(
        hint.contains("kubectl delete job backup-29553960 -n ops")
            && hint.contains("activeDeadlineSeconds"),
        "{hint}"
    );
}

#[test]
fn a_job_refused_is_cited_from_the_controllers_event() {
    let event = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "backup.1", "namespace": "ops"},
        "involvedObject": {"kind": "CronJob", "namespace": "ops", "name": "backup"},
        "reason": "FailedCreate", "type": "Warning",
        "message": "Error creating job: jobs.batch \"backup-29555400\" is forbidden: exceeded quota: ops-quota, requested: limits.memory=4Gi, used: limits.memory=14Gi, limited: limits.memory=16Gi",
        "firstTimestamp": "2026-03-11T02:00:00Z", "lastTimestamp": "2026-03-12T02:00:00Z",
        "count": 2});
    let cap = capture(vec![cron_job(json!({})), event], Some(LATE_READING), None);
    let (said, hint, _) = late(&cap).unwrap();
    assert!(
        said.contains("The CronJob controller reported FailedCreate: \"Error creating job")
            && said.contains("exceeded quota: ops-quota"),
        "{said}"
    );
    assert!(
        hint.starts_with("The Job is refused by a ResourceQuota"),
        "{hint}"
    );
    // A run going under Allow does not hold the others back.
    let [job, pod] = hung_run();
    let cap = capture(vec![cron_job(json!({})), job, pod], None, None);
    let (said, hint, _) = late(&cap).unwrap();
    assert!(
        said.contains("concurrencyPolicy Allow does not wait for it"),
        "{said}"
    );
    assert!(hint.contains("kube-controller-manager"), "{hint}");
    // Forbid, its run not captured but listed active in its status.
    let mut c = cron_job(json!({"concurrencyPolicy": "Forbid"}));
    c["status"]["active"] = json!([{"kind": "Job", "namespace": "ops", "name": "backup-29553960"}]);
    let (said, hint, _) = late(&capture(vec![c], None, None)).unwrap();
    assert!(
        said.contains("Its status lists 1 run(s) still active, and concurrencyPolicy Forbid"),
        "{said}"
    );
    assert!(hint.contains("kubectl get jobs -n ops"), "{hint}");
}

#[test]
fn nothing_is_proposed_for_a_cron_job_on_time_suspended_or_unreadable() {
    let on_time = {
        let mut c = cron_job(json!({}));
        c["status"]["lastScheduleTime"] = json!("2026-03-12T02:00:00Z");
        c
    };
    for c in [
        on_time,
        cron_job(json!({"suspend": true})),
        cron_job(json!({"schedule": "0 2 * *"})),
    ] {
        assert!(late(&capture(vec![c.clone()], None, None)).is_none(), "{c}");
    }
    // In its time zone: 02:00 in Tokyo is 17:00 UTC the day before, so
    // the run of the 12th (Tokyo) was due at 2026-03-11T17:00Z and is late.
    let mut tokyo = cron_job(json!({"timeZone": "Asia/Tokyo"}));
    tokyo["status"]["lastScheduleTime"] = json!("2026-03-10T17:00:00Z");
    let (said, ..) = late(&capture(vec![tokyo], None, None)).unwrap();
    assert!(
        said.contains("the run due at 2026-03-11T17:00:00"),
        "{said}"
    );
}

#[test]
fn a_late_cron_job_beside_another_incident_weighs_by_when_it_was_due() {
    let [job, pod] = hung_run();
    let items = vec![cron_job(json!({"concurrencyPolicy": "Forbid"})), job, pod];
    let (.., own) = late(&capture(items.clone(), Some(LATE_READING), None)).unwrap();
    let (.., beside) = late(&capture(items.clone(), None, None)).unwrap();
    assert!((own - 0.9).abs() < 1e-9, "{own}");
    // Due a day before the onset: weighed down.
    assert!(beside < 0.5, "{beside}");
    // Another CronJob's reading does not count.
    let other = LATE_READING.replace("\"\"backup\"\"", "\"\"restore\"\"");
    let (.., other) = late(&capture(items, Some(&other), None)).unwrap();
    assert!((other - beside).abs() < 1e-9);
}

#[test]
fn a_live_capture_writes_the_cron_job_back_as_the_rule_reads_it() {
    use sentinel_model::{Batch, Schedule, Timestamp, Workload, WorkloadKind};
    let w = Workload {
        kind: WorkloadKind::CronJob,
        namespace: "ops".into(),
        name: "backup".into(),
        owner: None,
        revision: String::new(),
        images: vec!["backup=acme/backup:2".into()],
        replicas: 0,
        ready: 0,
        created_at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
        batch: Some(Batch::CronJob(Schedule {
            schedule: "0 2 * * *".into(),
            time_zone: Some("Europe/Berlin".into()),
            concurrency: "Forbid".into(),
            starting_deadline_secs: Some(300),
            suspended: false,
            active: 1,
            last_schedule: Timestamp::parse("2026-03-10T01:00:00Z"),
            last_success: None,
        })),
        rollout: None,
    };
    let (said, ..) = late(&capture(vec![crate::live::workload_json(&w)], None, None)).unwrap();
    for want in [
        // 02:00 in Berlin is 01:00 UTC in March.
        "the run due at 2026-03-11T01:00:00",
        "Its status lists 1 run(s) still active",
    ] {
        assert!(said.contains(want), "{want}: {said}");
    }
}
