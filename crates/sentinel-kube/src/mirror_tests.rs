#![allow(clippy::unwrap_used)]

use sentinel_model::{EventType, ObjectRef, PodPhase, WorkloadKind};

use super::*;

fn pod(name: &str) -> PodState {
    PodState {
        uid: name.into(),
        namespace: "shop".into(),
        name: name.into(),
        labels: Default::default(),
        owner: None,
        node: None,
        phase: PodPhase::Running,
        created_at: Timestamp(0),
        containers: vec![],
    }
}

fn names(v: &[PodState]) -> Vec<&str> {
    v.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn a_relist_replaces_the_pods_whole_and_only_when_done() {
    let mut m = Mirror::new();
    m.apply(Update::Pod(Step::Init), Timestamp(0));
    m.apply(Update::Pod(Step::InitApply(pod("b"))), Timestamp(0));
    m.apply(Update::Pod(Step::InitApply(pod("a"))), Timestamp(0));
    assert_eq!(m.take_pods(), None, "nothing before the list is complete");
    m.apply(Update::Pod(Step::InitDone), Timestamp(0));
    assert_eq!(names(&m.take_pods().unwrap()), ["a", "b"]);
    assert_eq!(m.take_pods(), None, "unchanged");
    m.apply(Update::Pod(Step::Apply(pod("c"))), Timestamp(0));
    m.apply(Update::Pod(Step::Delete(pod("a"))), Timestamp(0));
    assert_eq!(names(&m.take_pods().unwrap()), ["b", "c"]);
    // After a 410 Gone the watcher lists again: pods deleted meanwhile go.
    m.apply(Update::Pod(Step::Init), Timestamp(0));
    m.apply(Update::Pod(Step::InitApply(pod("c"))), Timestamp(0));
    assert_eq!(m.pod_count(), 2, "the old set stays until the list is done");
    m.apply(Update::Pod(Step::InitDone), Timestamp(0));
    assert_eq!(names(&m.take_pods().unwrap()), ["c"]);
}

fn event(count: u32, last: i64) -> ClusterEvent {
    ClusterEvent {
        kind: EventType::Warning,
        reason: "BackOff".into(),
        message: "Back-off restarting failed container".into(),
        involved_object: ObjectRef {
            kind: "Pod".into(),
            namespace: Some("shop".into()),
            name: "a".into(),
        },
        count,
        first_timestamp: Timestamp(0),
        last_timestamp: Timestamp(last),
        source: "kubelet".into(),
    }
}

#[test]
fn events_are_news_once_per_change() {
    let mut m = Mirror::new();
    m.apply(
        Update::Event(Step::InitApply(("e1".into(), event(1, 10)))),
        Timestamp(0),
    );
    m.apply(
        Update::Event(Step::Apply(("e1".into(), event(1, 10)))),
        Timestamp(0),
    );
    assert_eq!(m.take_events().len(), 1);
    // A relist hands back what was seen: not news.
    m.apply(Update::Event(Step::Init), Timestamp(0));
    m.apply(
        Update::Event(Step::InitApply(("e1".into(), event(1, 10)))),
        Timestamp(0),
    );
    assert!(m.take_events().is_empty());
    // It happened again: news.
    m.apply(
        Update::Event(Step::Apply(("e1".into(), event(2, 20)))),
        Timestamp(0),
    );
    assert_eq!(m.take_events()[0].count, 2);
}

fn deploy(revision: &str, image: &str) -> Workload {
    Workload {
        kind: WorkloadKind::Deployment,
        namespace: "shop".into(),
        name: "checkout".into(),
        owner: None,
        revision: revision.into(),
        images: vec![format!("checkout={image}")],
        replicas: 2,
        ready: 2,
        created_at: Timestamp(0),
        batch: None,
        rollout: None,
    }
}

#[test]
fn rollouts_are_derived_live_and_across_a_relist() {
    let mut m = Mirror::new();
    m.apply(
        Update::Workload(WorkloadKind::Deployment, Step::Init),
        Timestamp(0),
    );
    m.apply(
        Update::Workload(
            WorkloadKind::Deployment,
            Step::InitApply(deploy("1", "a:1")),
        ),
        Timestamp(0),
    );
    m.apply(
        Update::Workload(WorkloadKind::Deployment, Step::InitDone),
        Timestamp(0),
    );
    assert!(m.take_events().is_empty(), "the first list is the baseline");
    assert_eq!(m.take_workloads().unwrap().len(), 1);
    m.apply(
        Update::Workload(WorkloadKind::Deployment, Step::Apply(deploy("2", "a:2"))),
        Timestamp(7),
    );
    let e = m.take_events();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].reason, convert::ROLLOUT);
    assert_eq!(e[0].last_timestamp, Timestamp(7));
    // Rolled out while the watch was down: the relist still reports it.
    m.apply(
        Update::Workload(WorkloadKind::Deployment, Step::Init),
        Timestamp(8),
    );
    m.apply(
        Update::Workload(
            WorkloadKind::Deployment,
            Step::InitApply(deploy("3", "a:3")),
        ),
        Timestamp(8),
    );
    m.apply(
        Update::Workload(WorkloadKind::Deployment, Step::InitDone),
        Timestamp(9),
    );
    assert!(m.take_events()[0].message.contains("revision 3 (was 2)"));
}

#[test]
fn a_failure_holds_until_the_watch_reports_again() {
    let mut m = Mirror::new();
    m.apply(
        Update::Failed(Watched::Events, "forbidden".into()),
        Timestamp(0),
    );
    assert_eq!(m.failures()[&Watched::Events], "forbidden");
    m.apply(Update::Pod(Step::InitDone), Timestamp(0));
    assert_eq!(m.failures().len(), 1, "another watch says nothing of it");
    m.apply(Update::Event(Step::Init), Timestamp(0));
    assert!(m.failures().is_empty());
}

#[test]
fn a_failed_job_pods_log_is_asked_for_once() {
    let failed = |name: &str, owner: OwnerKind| {
        let mut p = pod(name);
        p.owner = Some(sentinel_model::OwnerRef {
            kind: owner,
            name: "export-1".into(),
        });
        p.phase = PodPhase::Failed;
        p.containers = vec![sentinel_model::ContainerStatus {
            name: "export".into(),
            image: "acme/export:1".into(),
            ready: false,
            restart_count: 0,
            state: ContainerState::Terminated {
                reason: "Error".into(),
                exit_code: 1,
            },
            last_termination_reason: None,
            cpu_request_millis: 0,
            memory_limit_bytes: 0,
            ports: Default::default(),
            probes: Default::default(),
        }];
        p
    };
    let mut m = Mirror::new();
    m.apply(Update::Pod(Step::Init), Timestamp(0));
    m.apply(
        Update::Pod(Step::InitApply(failed("export-1-a", OwnerKind::Job))),
        Timestamp(0),
    );
    // A failed pod of no Job is read as it is.
    m.apply(
        Update::Pod(Step::InitApply(failed("web-1", OwnerKind::ReplicaSet))),
        Timestamp(0),
    );
    m.apply(Update::Pod(Step::InitDone), Timestamp(0));
    assert_eq!(
        m.take_restarted(10),
        [("shop".into(), "export-1-a".into(), "export".into())]
    );
    // Seen failed before: not again.
    m.apply(
        Update::Pod(Step::Apply(failed("export-1-a", OwnerKind::Job))),
        Timestamp(1),
    );
    assert!(m.take_restarted(10).is_empty());
    // A retry that fails after running is.
    let mut retry = failed("export-1-b", OwnerKind::Job);
    retry.phase = PodPhase::Running;
    m.apply(Update::Pod(Step::Apply(retry.clone())), Timestamp(2));
    retry.phase = PodPhase::Failed;
    m.apply(Update::Pod(Step::Apply(retry)), Timestamp(3));
    assert_eq!(m.take_restarted(10).len(), 1);
}

#[test]
fn the_log_of_a_run_that_holds_a_late_cron_job_back_is_asked_for_every_ten_minutes() {
    use sentinel_model::{Batch, JobOutcome, JobRun, Schedule, Workload};
    let hour = 3_600_000;
    let workload = |kind, name: &str, owner: Option<&str>, batch| Workload {
        kind,
        namespace: "shop".into(),
        name: name.into(),
        owner: owner.map(Into::into),
        revision: String::new(),
        images: vec![],
        replicas: 0,
        ready: 0,
        created_at: Timestamp(0),
        batch: Some(batch),
        rollout: None,
    };
    let cron = |concurrency: &str| {
        workload(
            WorkloadKind::CronJob,
            "backup",
            None,
            Batch::CronJob(Schedule {
                schedule: "0 * * * *".into(),
                time_zone: None,
                concurrency: concurrency.into(),
                starting_deadline_secs: None,
                suspended: false,
                active: 1,
                last_schedule: Some(Timestamp(hour)),
                last_success: None,
            }),
        )
    };
    let run = workload(
        WorkloadKind::Job,
        "backup-1",
        Some("backup"),
        Batch::Job(JobRun {
            active: 1,
            succeeded: 0,
            failed: 0,
            started_at: Some(Timestamp(hour)),
            outcome: JobOutcome::Running,
        }),
    );
    let mut p = pod("backup-1-x");
    p.owner = Some(sentinel_model::OwnerRef {
        kind: OwnerKind::Job,
        name: "backup-1".into(),
    });
    p.containers = vec![sentinel_model::ContainerStatus {
        name: "backup".into(),
        image: "acme/backup:2".into(),
        ready: true,
        restart_count: 0,
        state: ContainerState::Running {
            started_at: Timestamp(hour),
        },
        last_termination_reason: None,
        cpu_request_millis: 0,
        memory_limit_bytes: 0,
        ports: Default::default(),
        probes: Default::default(),
    }];
    let setup = |concurrency: &str| {
        let mut m = Mirror::new();
        m.apply(Update::Pod(Step::Apply(p.clone())), Timestamp(0));
        m.apply(
            Update::Workload(WorkloadKind::CronJob, Step::Apply(cron(concurrency))),
            Timestamp(0),
        );
        m.apply(
            Update::Workload(WorkloadKind::Job, Step::Apply(run.clone())),
            Timestamp(0),
        );
        m
    };
    let asked = [(
        "shop".to_string(),
        "backup-1-x".to_string(),
        "backup".to_string(),
    )];
    let mut m = setup("Forbid");
    // The next run is due at 2h: not late yet.
    m.late_runs(Timestamp(2 * hour + 60_000));
    assert!(m.take_restarted(10).is_empty());
    m.late_runs(Timestamp(2 * hour + 5 * 60_000));
    assert_eq!(m.take_restarted(10), asked);
    m.late_runs(Timestamp(2 * hour + 14 * 60_000));
    assert!(m.take_restarted(10).is_empty(), "asked for ten minutes ago");
    m.late_runs(Timestamp(2 * hour + 15 * 60_000));
    assert_eq!(m.take_restarted(10), asked);
    // Under Allow a run going holds nothing back.
    let mut m = setup("Allow");
    m.late_runs(Timestamp(3 * hour));
    assert!(m.take_restarted(10).is_empty());
}
