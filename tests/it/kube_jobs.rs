//! Jobs and CronJobs as the API server serves them (batch/v1): a CronJob
//! whose newest run ran out of retries fires `JobFailed` and heads the
//! Workloads page with the reason; a later run that succeeds resolves the
//! finding and clears the row, though the failed Job stays listed (as the
//! CronJob's history limit keeps it). The incident it opens is explained
//! from the Job's condition, how its pod ended and what its log said. Jobs
//! forbidden, the page says so. A CronJob whose run hangs under
//! `concurrencyPolicy: Forbid` starts no more: `CronJobLate` fires and the
//! page says what holds it back, until a run starts.

use sentinel_model::RuleState;
use sentinel_protocol::WorkloadQuery;
use sentinel_runtime::Snapshot;
use serde_json::{Value, json};

use crate::fakekube::FakeKube;
use crate::kube::{NODES, PODS, node, watch, within};

const JOBS: &str = "/apis/batch/v1/jobs";
const CRON_JOBS: &str = "/apis/batch/v1/cronjobs";

const HOUR: i64 = 3_600_000;

fn now_ms() -> i64 {
    use sentinel_runtime::clock::Clock;
    sentinel_runtime::clock::SystemClock.now().millis()
}

fn rfc3339(ms: i64) -> String {
    sentinel_model::Timestamp(ms).to_rfc3339()
}

/// The CronJob's runs are days old, but its controller scheduled today's
/// 02:00 run (not listed): it is not late.
fn cron_job() -> Value {
    let today_2am = (now_ms() - 2 * HOUR).div_euclid(24 * HOUR) * 24 * HOUR + 2 * HOUR;
    let mut c = cron_job_as_of("2026-11-20T02:00:00Z");
    c["status"]["lastScheduleTime"] = json!(rfc3339(today_2am));
    c
}

fn cron_job_as_of(last_schedule: &str) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "invoice-export", "namespace": "billing", "uid": "cj1",
            "creationTimestamp": "2026-10-01T00:00:00Z"},
        "spec": {"schedule": "0 2 * * *", "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
            "jobTemplate": {"spec": {"backoffLimit": 2, "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "export", "image": "acme/invoice-export:3.1"}]}}}}},
        "status": {"lastScheduleTime": last_schedule,
            "lastSuccessfulTime": "2026-11-19T02:04:00Z"}})
}

/// A run of the CronJob, as the Job controller leaves it: `complete` or
/// out of retries.
fn run(name: &str, day: u32, complete: bool) -> Value {
    let start = format!("2026-11-{day}T02:00:00Z");
    let end = format!("2026-11-{day}T02:04:00Z");
    let (status, condition) = if complete {
        (
            json!({"startTime": start, "completionTime": end, "succeeded": 1}),
            json!({"type": "Complete", "status": "True", "lastTransitionTime": end}),
        )
    } else {
        (
            json!({"startTime": start, "failed": 3}),
            json!({"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit",
                "lastTransitionTime": end}),
        )
    };
    let mut status = status;
    status["conditions"] = json!([condition]);
    json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": "billing", "uid": name,
            "creationTimestamp": start,
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob",
                "name": "invoice-export", "uid": "cj1", "controller": true}]},
        "spec": {"backoffLimit": 2, "completions": 1, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "export", "image": "acme/invoice-export:3.1"}]}}},
        "status": status})
}

/// One of the failed run's pods: failed, never to be ready again.
fn failed_pod() -> Value {
    json!({"metadata": {"name": "invoice-export-29012340-x7k2p", "namespace": "billing",
            "creationTimestamp": "2026-11-20T02:00:00Z",
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job",
                "name": "invoice-export-29012340", "uid": "invoice-export-29012340",
                "controller": true}]},
        "spec": {"nodeName": "worker-1", "restartPolicy": "Never",
            "containers": [{"name": "export", "image": "acme/invoice-export:3.1"}]},
        "status": {"phase": "Failed", "containerStatuses": [{"name": "export",
            "image": "acme/invoice-export:3.1", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 1, "reason": "Error",
                "startedAt": "2026-11-20T02:03:00Z", "finishedAt": "2026-11-20T02:03:10Z"}}}]}})
}

fn job_failed<'a>(s: &'a Snapshot, job: &str) -> Option<&'a sentinel_model::Finding> {
    s.findings.iter().find(|f| {
        f.rule == "JobFailed" && f.series.labels.get("job_name").map(String::as_str) == Some(job)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_job_whose_last_run_failed_fires_until_a_later_run_succeeds() {
    let dir = crate::support::tempdir("kube-jobs");
    let fake = FakeKube::start("t0ken").await;
    fake.put(NODES, node("worker-1"));
    fake.put(PODS, failed_pod());
    fake.log(
        "billing",
        "invoice-export-29012340-x7k2p",
        "export",
        "ERROR upload to s3://acme-invoices failed: AccessDenied (status 403)",
    );
    fake.put(CRON_JOBS, cron_job());
    fake.put(JOBS, run("invoice-export-29011000", 19, true));
    fake.put(JOBS, run("invoice-export-29012340", 20, false));
    let rt = watch(&fake, &dir).await;

    let s = within(
        "JobFailed on the newest run",
        rt.wait_for(|s| {
            job_failed(s, "invoice-export-29012340").is_some_and(|f| f.state == RuleState::Firing)
        }),
    )
    .await
    .unwrap();
    let f = job_failed(&s, "invoice-export-29012340").unwrap();
    assert_eq!(f.series.labels.get("namespace").unwrap(), "billing");
    assert!(
        f.summary.contains("billing/invoice-export-29012340 failed"),
        "{}",
        f.summary
    );
    // Only the newest finished run is read: the older, complete one has no
    // finding, and the failed pod is not "not ready" (the Job says it).
    assert!(job_failed(&s, "invoice-export-29011000").is_none());
    assert!(
        s.findings.iter().all(|f| f.rule != "PodNotReady"),
        "{:?}",
        s.findings.iter().map(|f| &f.rule).collect::<Vec<_>>()
    );

    // The incident it opens names the Job, from its condition, its pod's
    // end and its log.
    // It failed days before Sentinel saw it; the incident's own finding
    // says that failure is what it is about: confident.
    crate::kube::explained(
        &rt,
        "job_failed",
        &[
            "invoice-export-29012340 failed: its pods failed 3 times",
            "ended with Error",
            "AccessDenied (status 403)",
        ],
    )
    .await;

    let page = sentinel_service::list_workloads(&s, &WorkloadQuery::default()).unwrap();
    assert_eq!(page.rows.len(), 1, "the Jobs fold into their CronJob");
    let row = &page.rows[0];
    assert_eq!(
        (row.kind.as_str(), row.name.as_str()),
        ("CronJob", "invoice-export")
    );
    assert!(row.in_trouble());
    let runs = row.batch.as_ref().unwrap();
    assert_eq!(runs.schedule, "0 2 * * *");
    let last = runs.last.as_ref().unwrap();
    assert_eq!(
        (last.job.as_str(), last.failed_pods),
        ("invoice-export-29012340", 3)
    );
    assert!(
        matches!(&last.outcome, sentinel_model::JobOutcome::Failed { reason, .. } if reason == "BackoffLimitExceeded")
    );
    assert_eq!(
        runs.last_success,
        sentinel_model::Timestamp::parse("2026-11-19T02:04:00Z")
    );

    // The next night's run succeeds; the failed one stays listed.
    fake.put(JOBS, run("invoice-export-29013780", 21, true));
    let s = within(
        "the failure resolved by the later success",
        rt.wait_for(|s| {
            job_failed(s, "invoice-export-29012340").is_some_and(|f| f.state == RuleState::Resolved)
        }),
    )
    .await
    .unwrap();
    assert!(
        job_failed(&s, "invoice-export-29013780").is_none(),
        "a success fires nothing"
    );
    let page = sentinel_service::list_workloads(&s, &WorkloadQuery::default()).unwrap();
    let runs = page.rows[0].batch.as_ref().unwrap();
    assert!(!page.rows[0].in_trouble());
    assert_eq!(runs.last.as_ref().unwrap().job, "invoice-export-29013780");
    assert!(page.notes.is_empty(), "{:?}", page.notes);

    // Jobs forbidden: the page says why they may be missing or old, and
    // keeps what it last read.
    fake.forbid(JOBS);
    fake.compact();
    let s = within(
        "the jobs note",
        rt.wait_for(|s| {
            sentinel_service::list_workloads(s, &WorkloadQuery::default())
                .is_ok_and(|p| p.notes.iter().any(|n| n.contains("403 Forbidden")))
        }),
    )
    .await
    .unwrap();
    let page = sentinel_service::list_workloads(&s, &WorkloadQuery::default()).unwrap();
    assert!(
        page.notes[0].starts_with("kubernetes")
            && page.notes[0].contains("RBAC needs get, list and watch on jobs"),
        "{:?}",
        page.notes
    );
    assert_eq!(page.rows.len(), 1);
    rt.shutdown(std::time::Duration::from_secs(5)).await;
}

fn cron_job_late(s: &Snapshot) -> Option<&sentinel_model::Finding> {
    s.findings.iter().find(|f| {
        f.rule == "CronJobLate"
            && f.series.labels.get("cronjob").map(String::as_str) == Some("nightly-backup")
    })
}

/// An hourly CronJob under `Forbid` whose run started two hours ago and
/// hangs: the controller has skipped every run since.
fn hourly(last_schedule: i64, active: bool) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "CronJob",
    "metadata": {"name": "nightly-backup", "namespace": "ops", "uid": "cj2",
        "creationTimestamp": "2026-10-01T00:00:00Z"},
    "spec": {"schedule": "0 * * * *", "concurrencyPolicy": "Forbid",
        "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "backup", "image": "acme/backup:2"}]}}}}},
    "status": {"lastScheduleTime": rfc3339(last_schedule),
        "active": if active {
            json!([{"kind": "Job", "name": "nightly-backup-hung", "namespace": "ops"}])
        } else {
            json!([])
        }}})
}

fn hung_run(started: i64, done: bool) -> Value {
    let status = if done {
        json!({"startTime": rfc3339(started), "succeeded": 1,
            "completionTime": rfc3339(now_ms()),
            "conditions": [{"type": "Complete", "status": "True",
                "lastTransitionTime": rfc3339(now_ms())}]})
    } else {
        json!({"startTime": rfc3339(started), "active": 1})
    };
    json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "nightly-backup-hung", "namespace": "ops", "uid": "hung",
            "creationTimestamp": rfc3339(started),
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob",
                "name": "nightly-backup", "uid": "cj2", "controller": true}]},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "backup", "image": "acme/backup:2"}]}}},
        "status": status})
}

/// The hung run's pod, running.
fn hung_pod(started: i64) -> Value {
    json!({"metadata": {"name": "nightly-backup-hung-4xk9s", "namespace": "ops",
            "creationTimestamp": rfc3339(started),
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job",
                "name": "nightly-backup-hung", "uid": "hung", "controller": true}]},
        "spec": {"nodeName": "worker-1", "restartPolicy": "Never",
            "containers": [{"name": "backup", "image": "acme/backup:2"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "backup",
            "image": "acme/backup:2", "imageID": "", "ready": true, "restartCount": 0,
            "state": {"running": {"startedAt": rfc3339(started)}}}]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_job_held_back_by_a_hung_run_fires_late_until_a_run_starts() {
    let dir = crate::support::tempdir("kube-cron-late");
    let fake = FakeKube::start("t0ken").await;
    fake.put(NODES, node("worker-1"));
    let hour = now_ms().div_euclid(HOUR) * HOUR;
    fake.put(CRON_JOBS, hourly(hour - 2 * HOUR, true));
    fake.put(JOBS, hung_run(hour - 2 * HOUR + 4_000, false));
    fake.put(PODS, hung_pod(hour - 2 * HOUR + 5_000));
    fake.log(
        "ops",
        "nightly-backup-hung-4xk9s",
        "backup",
        "waiting for lock on table orders",
    );
    let rt = watch(&fake, &dir).await;

    let s = within(
        "CronJobLate on the held-back CronJob",
        rt.wait_for(|s| cron_job_late(s).is_some_and(|f| f.state == RuleState::Firing)),
    )
    .await
    .unwrap();
    let f = cron_job_late(&s).unwrap();
    assert!(
        f.summary.contains(
            "CronJob ops/nightly-backup has not started the run it was due to start (1h ago)"
        ),
        "{}",
        f.summary
    );
    // A run under way is not a failure.
    assert!(s.findings.iter().all(|f| f.rule != "JobFailed"));

    let page = sentinel_service::list_workloads(&s, &WorkloadQuery::default()).unwrap();
    let row = &page.rows[0];
    assert_eq!(row.name, "nightly-backup");
    assert!(row.in_trouble());
    let runs = row.batch.as_ref().unwrap();
    let late = runs.late.as_ref().unwrap();
    assert_eq!(late.since.millis(), hour - HOUR);
    assert!(late.missed >= 2, "the runs due an hour ago and now");
    assert!(
        late.why.contains("run nightly-backup-hung (started ")
            && late.why.contains("h ago) is still running")
            && late.why.contains("Forbid"),
        "{}",
        late.why
    );

    // The incident it opens is explained: the run that hangs, Forbid, and
    // where its pod's log stops.
    crate::kube::explained(
        &rt,
        "cronjob_late",
        &[
            "CronJob nightly-backup has started no run since",
            "Its run nightly-backup-hung started",
            "concurrencyPolicy Forbid",
            "log ends with \"waiting for lock on table orders\"",
        ],
    )
    .await;

    // The hung run is killed; the controller starts this hour's.
    fake.put(JOBS, hung_run(hour - 2 * HOUR + 4_000, true));
    fake.put(CRON_JOBS, hourly(hour, false));
    let s = within(
        "the lateness resolved by a run starting",
        rt.wait_for(|s| cron_job_late(s).is_some_and(|f| f.state == RuleState::Resolved)),
    )
    .await
    .unwrap();
    let page = sentinel_service::list_workloads(&s, &WorkloadQuery::default()).unwrap();
    let runs = page.rows[0].batch.as_ref().unwrap();
    assert!(!page.rows[0].in_trouble());
    assert_eq!(runs.late, None);
    assert_eq!(runs.next.map(|t| t.millis()), Some(hour + HOUR));
    rt.shutdown(std::time::Duration::from_secs(5)).await;
}
