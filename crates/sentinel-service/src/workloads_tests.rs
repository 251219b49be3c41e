use std::sync::Arc;

use sentinel_model::{Batch, JobOutcome, JobRun, Schedule, Timestamp};
use sentinel_runtime::snapshot::Mode;

use super::*;

fn workload(
    kind: WorkloadKind,
    name: &str,
    owner: Option<&str>,
    revision: &str,
    (replicas, ready): (u32, u32),
    created: i64,
) -> Workload {
    Workload {
        kind,
        namespace: "shop".into(),
        name: name.into(),
        owner: owner.map(Into::into),
        revision: revision.into(),
        images: vec![format!("app=shop/{name}:{revision}")],
        replicas,
        ready,
        created_at: Timestamp(created),
        batch: None,
        rollout: None,
    }
}

fn job(name: &str, owner: Option<&str>, outcome: JobOutcome, failed: u32) -> Workload {
    let mut w = workload(WorkloadKind::Job, name, owner, "", (1, 0), 10_000);
    w.ready = u32::from(matches!(outcome, JobOutcome::Complete { .. }));
    w.batch = Some(Batch::Job(JobRun {
        active: u32::from(outcome == JobOutcome::Running),
        succeeded: w.ready,
        failed,
        started_at: Some(Timestamp(10_000)),
        outcome,
    }));
    w
}

fn cron(name: &str, last_schedule: i64) -> Workload {
    let mut w = workload(WorkloadKind::CronJob, name, None, "", (0, 0), 1_000);
    w.batch = Some(Batch::CronJob(Schedule {
        schedule: "0 2 * * *".into(),
        time_zone: None,
        concurrency: String::new(),
        starting_deadline_secs: None,
        suspended: false,
        active: 0,
        last_schedule: Some(Timestamp(last_schedule)),
        last_success: None,
    }));
    w
}

fn failed(at: i64) -> JobOutcome {
    JobOutcome::Failed {
        at: Timestamp(at),
        reason: "BackoffLimitExceeded".into(),
        message: "Job has reached the specified backoff limit".into(),
    }
}

fn complete(at: i64) -> JobOutcome {
    JobOutcome::Complete { at: Timestamp(at) }
}

fn snap() -> Snapshot {
    use WorkloadKind::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
    let mut s = Snapshot::empty(Mode::Live, Timestamp(100_000));
    s.workloads = Arc::new(vec![
        // checkout: rolled out at 50,000, the old revision still holds a pod.
        workload(Deployment, "checkout", None, "2", (3, 2), 1_000),
        workload(
            ReplicaSet,
            "checkout-aaa",
            Some("checkout"),
            "1",
            (1, 1),
            1_000,
        ),
        workload(
            ReplicaSet,
            "checkout-bbb",
            Some("checkout"),
            "2",
            (2, 1),
            50_000,
        ),
        // cart: rolled out at 40,000 and done.
        workload(Deployment, "cart", None, "3", (2, 2), 2_000),
        workload(ReplicaSet, "cart-ccc", Some("cart"), "2", (0, 0), 20_000),
        workload(ReplicaSet, "cart-ddd", Some("cart"), "3", (2, 2), 40_000),
        workload(StatefulSet, "postgres", None, "postgres-7f", (3, 3), 500),
        workload(DaemonSet, "node-exporter", None, "1", (3, 3), 600),
    ]);
    s
}

fn names(p: &WorkloadPage) -> Vec<&str> {
    p.rows.iter().map(|r| r.name.as_str()).collect()
}

#[test]
fn short_of_ready_pods_first_then_the_latest_changed() {
    let p = list_workloads(&snap(), &WorkloadQuery::default()).unwrap();
    // ReplicaSets are folded into their Deployments.
    assert_eq!(names(&p), ["checkout", "cart", "node-exporter", "postgres"]);
    assert_eq!((p.matched, p.total), (4, 4));
    let checkout = &p.rows[0];
    assert!(checkout.rolling);
    assert_eq!((checkout.ready, checkout.replicas), (2, 3));
    assert_eq!(
        checkout.updated,
        Some(Updated {
            replicas: 2,
            ready: 1
        })
    );
    assert_eq!(p.rows[3].updated, None, "a StatefulSet has no ReplicaSets");
    assert_eq!(checkout.since, Timestamp(50_000));
    // cart's old ReplicaSet holds nothing: its rollout is done.
    assert!(!p.rows[1].rolling);
    assert_eq!(p.rows[1].since, Timestamp(40_000));
    assert_eq!(p.rows[3].since, Timestamp(500));
}

#[test]
fn text_finds_names_kinds_and_images() {
    let find = |t: &str| {
        let q = WorkloadQuery {
            text: t.into(),
            ..WorkloadQuery::default()
        };
        names(&list_workloads(&snap(), &q).unwrap())
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(find("statefulset"), ["postgres"]);
    assert_eq!(find("shop/cart:3"), ["cart"]);
    assert_eq!(find("CHECK"), ["checkout"]);
    assert!(find("nothing").is_empty());
    let other = WorkloadQuery {
        namespace: Some("data".into()),
        ..WorkloadQuery::default()
    };
    assert!(list_workloads(&snap(), &other).unwrap().rows.is_empty());
}

#[test]
fn pages_are_bounded() {
    let q = WorkloadQuery {
        limit: MAX_WORKLOADS + 1,
        ..WorkloadQuery::default()
    };
    let e = list_workloads(&snap(), &q).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    let one = WorkloadQuery {
        limit: 1,
        ..WorkloadQuery::default()
    };
    let p = list_workloads(&snap(), &one).unwrap();
    assert_eq!((names(&p), p.matched), (vec!["checkout"], 4));
}

#[test]
fn a_cron_job_whose_last_run_failed_comes_first_with_the_reason() {
    let mut s = snap();
    let mut w = (*s.workloads).clone();
    w.extend([
        // export: succeeded on day 1, failed on day 2 (its newest run).
        cron("export", 90_000),
        job("export-1", Some("export"), complete(20_000), 0),
        job("export-2", Some("export"), failed(95_000), 3),
        // report: failed, then succeeded: all well now.
        cron("report", 80_000),
        job("report-1", Some("report"), failed(30_000), 2),
        job("report-2", Some("report"), complete(85_000), 0),
        // A Job of its own, still running: not in trouble.
        job("migrate", None, JobOutcome::Running, 0),
        // A Job whose CronJob is not listed shows on its own.
        job("orphan-1", Some("gone"), complete(5_000), 0),
    ]);
    s.workloads = Arc::new(w);
    let p = list_workloads(&s, &WorkloadQuery::default()).unwrap();
    assert_eq!(
        names(&p),
        [
            "checkout",
            "export",
            "report",
            "cart",
            "migrate",
            "orphan-1",
            "node-exporter",
            "postgres"
        ]
    );
    assert_eq!(
        (p.matched, p.total),
        (8, 8),
        "a CronJob's Jobs are folded in"
    );
    // In trouble first (checkout is also rolling out), then the latest changed.
    let export = p.rows[1].batch.as_ref().unwrap();
    assert!(p.rows[1].in_trouble());
    assert_eq!(export.schedule, "0 2 * * *");
    let last = export.last.as_ref().unwrap();
    assert_eq!((last.job.as_str(), last.failed_pods), ("export-2", 3));
    assert_eq!(last.outcome, failed(95_000));
    assert_eq!(export.last_success, Some(Timestamp(20_000)));
    assert_eq!(
        p.rows[1].since,
        Timestamp(90_000),
        "dated by its last schedule"
    );
    let report = &p.rows[2];
    assert!(!report.in_trouble(), "a later success clears the failure");
    assert_eq!(
        report.batch.as_ref().unwrap().last.as_ref().unwrap().job,
        "report-2"
    );
    let migrate = &p.rows[4];
    assert!(!migrate.in_trouble());
    let runs = migrate.batch.as_ref().unwrap();
    assert_eq!((runs.active, runs.last.as_ref()), (1, None));
    assert_eq!(migrate.since, Timestamp(10_000), "dated by its start");
    // The kind finds them.
    let q = WorkloadQuery {
        text: "cronjob".into(),
        ..WorkloadQuery::default()
    };
    assert_eq!(
        names(&list_workloads(&s, &q).unwrap()),
        ["export", "report"]
    );
}

#[test]
fn a_cron_job_whose_run_is_late_says_what_holds_it_back() {
    let t = |s: &str| Timestamp::parse(s).unwrap();
    let nightly = |name: &str, concurrency: &str, active: u32| {
        let mut w = workload(WorkloadKind::CronJob, name, None, "", (0, 0), 0);
        w.created_at = t("2026-11-01T00:00:00Z");
        w.batch = Some(Batch::CronJob(Schedule {
            schedule: "0 2 * * *".into(),
            time_zone: Some("Etc/UTC".into()),
            concurrency: concurrency.into(),
            starting_deadline_secs: None,
            suspended: false,
            active,
            last_schedule: Some(t("2026-11-22T02:00:00Z")),
            last_success: Some(t("2026-11-21T02:09:00Z")),
        }));
        w
    };
    // export: the run of the 22nd hangs, and Forbid holds the later ones.
    let mut hung = job("export-29400120", Some("export"), JobOutcome::Running, 0);
    if let Some(Batch::Job(j)) = &mut hung.batch {
        j.started_at = Some(t("2026-11-22T02:00:04Z"));
    }
    // report: nothing running, no Job created.
    let mut s = Snapshot::empty(Mode::Live, t("2026-11-24T09:00:00Z"));
    let mut paused = nightly("paused", "", 0);
    if let Some(Batch::CronJob(c)) = &mut paused.batch {
        c.suspended = true;
    }
    let mut broken = nightly("broken", "", 0);
    if let Some(Batch::CronJob(c)) = &mut broken.batch {
        c.schedule = "0 2 * *".into();
    }
    let mut on_time = nightly("on-time", "", 0);
    if let Some(Batch::CronJob(c)) = &mut on_time.batch {
        c.last_schedule = Some(t("2026-11-24T02:00:00Z"));
    }
    s.workloads = Arc::new(vec![
        on_time,
        nightly("export", "Forbid", 1),
        hung,
        nightly("report", "Allow", 0),
        paused,
        broken,
    ]);
    let p = list_workloads(&s, &WorkloadQuery::default()).unwrap();
    assert_eq!(p.rows.len(), 5, "{:?}", names(&p));
    let row = |n: &str| p.rows.iter().find(|r| r.name == n).unwrap();
    let runs = |n: &str| row(n).batch.clone().unwrap();

    let export = runs("export");
    assert_eq!(export.schedule, "0 2 * * * (Etc/UTC)");
    let late = export.late.unwrap();
    // Due on the 23rd and the 24th, neither started.
    assert_eq!((late.since, late.missed), (t("2026-11-23T02:00:00Z"), 2));
    assert!(
        late.why.contains("run export-29400120 (started 2d ago)")
            && late.why.contains("concurrencyPolicy Forbid"),
        "{}",
        late.why
    );
    assert_eq!(export.next, None);
    let report = runs("report").late.unwrap();
    assert!(report.why.contains("no Job was created"), "{}", report.why);
    // Those late come first, with the failed ones.
    assert!(row("export").in_trouble() && row("report").in_trouble());
    assert_eq!(&names(&p)[..2], ["export", "report"]);

    let on_time = runs("on-time");
    assert_eq!(
        (on_time.late, on_time.next),
        (None, Some(t("2026-11-25T02:00:00Z")))
    );
    assert!(!row("on-time").in_trouble());
    let paused = runs("paused");
    assert!(paused.suspended && paused.late.is_none() && paused.next.is_none());
    let broken = runs("broken");
    assert!(broken.late.is_none());
    assert!(
        broken.schedule_error.unwrap().contains("expected 5 fields"),
        "a schedule that cannot be read says so"
    );
}

#[test]
fn a_stateful_set_rolling_out_says_what_it_waits_for_and_a_stalled_deployment_is_in_trouble() {
    use sentinel_model::Rollout;
    let mut s = snap();
    let mut w = (*s.workloads).clone();
    let rollout = |waiting: &str, stalled: Option<&str>| Rollout {
        updated: 1,
        wanted: 3,
        waiting: waiting.into(),
        progressed_at: Some(Timestamp(60_000)),
        stalled: stalled.map(Into::into),
        failure: None,
    };
    for x in w.iter_mut() {
        match x.name.as_str() {
            // postgres: its second pod of the new revision never gets ready.
            "postgres" => {
                x.rollout = Some(rollout(
                    "rolling update to complete 1 pods at revision postgres-7f",
                    None,
                ));
            }
            // cart: whole, but the controller gave up on its rollout.
            "cart" => {
                x.rollout = Some(rollout(
                    "exceeded its progress deadline with 1 out of 3 new replicas updated",
                    Some("ReplicaSet \"cart-eee\" has timed out progressing."),
                ));
            }
            _ => {}
        }
    }
    s.workloads = Arc::new(w);
    let p = list_workloads(&s, &WorkloadQuery::default()).unwrap();
    // Short of pods or stalled first, then rolling out.
    assert_eq!(names(&p), ["checkout", "cart", "postgres", "node-exporter"]);
    let cart = &p.rows[1];
    assert!(cart.in_trouble() && cart.rolling);
    let postgres = &p.rows[2];
    assert!(postgres.rolling && !postgres.in_trouble());
    let r = postgres.rollout.as_ref().unwrap();
    assert_eq!(
        (r.updated, r.wanted, r.waiting.as_str()),
        (
            1,
            3,
            "rolling update to complete 1 pods at revision postgres-7f"
        )
    );
    assert_eq!(p.rows[3].rollout, None);
    // Its new pods refused by the API server: in trouble before the
    // controller gives up.
    let mut refused = p.rows[2].clone();
    if let Some(r) = refused.rollout.as_mut() {
        r.failure = Some("pods \"postgres-1\" is forbidden: exceeded quota: db".into());
    }
    assert!(refused.in_trouble());
}
