#![allow(clippy::unwrap_used)]

use sentinel_model::{JobOutcome, Timestamp, WorkloadKind};

use super::*;
use crate::parse::Point;

/// Series as kube-state-metrics exposes them, one per line:
/// `name{a="b",…} value`.
fn exposition(text: &str) -> Vec<Series> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (head, value) = l.rsplit_once(' ').unwrap();
            let (name, labels) = head.split_once('{').unwrap_or((head, "}"));
            let mut metric = Labels::new();
            metric.insert("__name__".into(), name.into());
            for pair in labels
                .trim_end_matches('}')
                .split("\",")
                .filter(|p| !p.is_empty())
            {
                let (k, v) = pair.split_once("=\"").unwrap();
                metric.insert(k.into(), v.trim_end_matches('"').into());
            }
            Series {
                metric,
                values: vec![Point {
                    at: Timestamp(1_790_000_000_000),
                    value: value.parse().unwrap(),
                }],
            }
        })
        .collect()
}

fn find<'a>(ws: &'a [Workload], name: &str) -> &'a Workload {
    ws.iter().find(|w| w.name == name).unwrap()
}

#[test]
fn deployments_stateful_sets_and_daemon_sets_with_their_rollouts() {
    let ws = workloads(&exposition(
        r#"
        kube_deployment_spec_replicas{namespace="shop",deployment="checkout"} 3
        kube_deployment_status_replicas{namespace="shop",deployment="checkout"} 4
        kube_deployment_status_replicas_ready{namespace="shop",deployment="checkout"} 3
        kube_deployment_status_replicas_available{namespace="shop",deployment="checkout"} 3
        kube_deployment_status_replicas_updated{namespace="shop",deployment="checkout"} 1
        kube_deployment_metadata_generation{namespace="shop",deployment="checkout"} 7
        kube_deployment_status_observed_generation{namespace="shop",deployment="checkout"} 7
        kube_deployment_spec_paused{namespace="shop",deployment="checkout"} 0
        kube_deployment_created{namespace="shop",deployment="checkout"} 1.7592e+09
        kube_deployment_status_condition{namespace="shop",deployment="checkout",condition="Progressing",status="false",reason="ProgressDeadlineExceeded"} 1
        kube_deployment_status_condition{namespace="shop",deployment="checkout",condition="ReplicaFailure",status="true",reason="FailedCreate"} 1
        kube_deployment_spec_replicas{namespace="shop",deployment="cart"} 2
        kube_deployment_status_replicas{namespace="shop",deployment="cart"} 2
        kube_deployment_status_replicas_ready{namespace="shop",deployment="cart"} 2
        kube_deployment_status_replicas_available{namespace="shop",deployment="cart"} 2
        kube_deployment_status_replicas_updated{namespace="shop",deployment="cart"} 2
        kube_deployment_metadata_generation{namespace="shop",deployment="cart"} 3
        kube_deployment_status_observed_generation{namespace="shop",deployment="cart"} 3
        kube_deployment_status_condition{namespace="shop",deployment="cart",condition="Progressing",status="true",reason="NewReplicaSetAvailable"} 1
        kube_statefulset_replicas{namespace="db",statefulset="postgres"} 3
        kube_statefulset_status_replicas_ready{namespace="db",statefulset="postgres"} 2
        kube_statefulset_status_replicas_updated{namespace="db",statefulset="postgres"} 1
        kube_statefulset_metadata_generation{namespace="db",statefulset="postgres"} 4
        kube_statefulset_status_observed_generation{namespace="db",statefulset="postgres"} 4
        kube_statefulset_status_current_revision{namespace="db",statefulset="postgres",revision="postgres-5c8d"} 1
        kube_statefulset_status_update_revision{namespace="db",statefulset="postgres",revision="postgres-7b6f"} 1
        kube_daemonset_status_desired_number_scheduled{namespace="monitoring",daemonset="node-exporter"} 4
        kube_daemonset_status_number_ready{namespace="monitoring",daemonset="node-exporter"} 4
        kube_daemonset_status_updated_number_scheduled{namespace="monitoring",daemonset="node-exporter"} 4
        kube_daemonset_metadata_generation{namespace="monitoring",daemonset="node-exporter"} 2
        kube_daemonset_status_observed_generation{namespace="monitoring",daemonset="node-exporter"} 2
        "#,
    ))
    .unwrap();
    assert_eq!(ws.len(), 4);
    let checkout = find(&ws, "checkout");
    assert_eq!(
        (checkout.kind, checkout.replicas, checkout.ready),
        (WorkloadKind::Deployment, 3, 3)
    );
    assert_eq!(checkout.created_at, Timestamp(1_759_200_000_000));
    let r = checkout.rollout.as_ref().unwrap();
    assert_eq!(
        r.waiting,
        "exceeded its progress deadline with 1 out of 3 new replicas updated"
    );
    // The condition's reason is all there is of it.
    assert_eq!(r.stalled.as_deref(), Some("ProgressDeadlineExceeded"));
    assert_eq!(r.failure.as_deref(), Some("FailedCreate"));
    assert_eq!(r.progressed_at, None);
    // Done: no rollout.
    assert_eq!(find(&ws, "cart").rollout, None);
    let postgres = find(&ws, "postgres");
    assert_eq!(postgres.revision, "postgres-7b6f");
    assert_eq!(
        postgres.rollout.as_ref().unwrap().waiting,
        "rolling update to complete 1 pods at revision postgres-7b6f"
    );
    let exporter = find(&ws, "node-exporter");
    assert_eq!((exporter.replicas, exporter.ready), (4, 4));
    assert_eq!(exporter.rollout, None);
}

#[test]
fn jobs_and_cron_jobs_with_their_runs_and_schedules() {
    let ws = workloads(&exposition(
        r#"
        kube_cronjob_info{namespace="ops",cronjob="backup",schedule="0 2 * * *",concurrency_policy="Forbid",timezone="Europe/Berlin"} 1
        kube_cronjob_created{namespace="ops",cronjob="backup"} 1.7e+09
        kube_cronjob_spec_suspend{namespace="ops",cronjob="backup"} 0
        kube_cronjob_status_active{namespace="ops",cronjob="backup"} 1
        kube_cronjob_status_last_schedule_time{namespace="ops",cronjob="backup"} 1.7899992e+09
        kube_cronjob_status_last_successful_time{namespace="ops",cronjob="backup"} 1.7899128e+09
        kube_cronjob_spec_starting_deadline_seconds{namespace="ops",cronjob="backup"} 300
        kube_job_owner{namespace="ops",job_name="backup-29833320",owner_kind="CronJob",owner_name="backup",owner_is_controller="true"} 1
        kube_job_spec_completions{namespace="ops",job_name="backup-29833320"} 1
        kube_job_status_active{namespace="ops",job_name="backup-29833320"} 0
        kube_job_status_succeeded{namespace="ops",job_name="backup-29833320"} 0
        kube_job_status_failed{namespace="ops",job_name="backup-29833320"} 4
        kube_job_status_failed{namespace="ops",job_name="backup-29833320",reason="BackoffLimitExceeded"} 1
        kube_job_status_failed{namespace="ops",job_name="backup-29833320",reason="DeadlineExceeded"} 0
        kube_job_status_start_time{namespace="ops",job_name="backup-29833320"} 1.7899128e+09
        kube_job_failed{namespace="ops",job_name="backup-29833320",condition="true"} 1
        kube_job_owner{namespace="ops",job_name="migrate",owner_kind="<none>",owner_name="<none>",owner_is_controller="<none>"} 1
        kube_job_status_succeeded{namespace="ops",job_name="migrate"} 1
        kube_job_status_start_time{namespace="ops",job_name="migrate"} 1.78999e+09
        kube_job_status_completion_time{namespace="ops",job_name="migrate"} 1.7899901e+09
        kube_job_complete{namespace="ops",job_name="migrate",condition="true"} 1
        kube_job_status_active{namespace="ops",job_name="reindex"} 1
        "#,
    ))
    .unwrap();
    let backup = find(&ws, "backup");
    let s = backup.schedule().unwrap();
    assert_eq!(
        (
            s.schedule.as_str(),
            s.time_zone.as_deref(),
            s.concurrency.as_str()
        ),
        ("0 2 * * *", Some("Europe/Berlin"), "Forbid")
    );
    assert_eq!(
        (s.suspended, s.active, s.starting_deadline_secs),
        (false, 1, Some(300))
    );
    assert_eq!(s.last_schedule, Some(Timestamp(1_789_999_200_000)));
    assert_eq!(s.last_success, Some(Timestamp(1_789_912_800_000)));

    let failed = find(&ws, "backup-29833320");
    assert_eq!(failed.owner.as_deref(), Some("backup"));
    let run = failed.job().unwrap();
    assert_eq!((run.failed, run.succeeded), (4, 0));
    assert_eq!(
        run.outcome,
        JobOutcome::Failed {
            at: Timestamp(1_789_912_800_000),
            reason: "BackoffLimitExceeded".into(),
            message: String::new(),
        }
    );
    let migrate = find(&ws, "migrate");
    assert_eq!(migrate.owner, None);
    assert_eq!(
        migrate.job().unwrap().outcome,
        JobOutcome::Complete {
            at: Timestamp(1_789_990_100_000)
        }
    );
    assert_eq!((migrate.replicas, migrate.ready), (1, 1));
    assert_eq!(
        find(&ws, "reindex").job().unwrap().outcome,
        JobOutcome::Running
    );
}

#[test]
fn no_workload_series_is_no_answer_and_strays_are_skipped() {
    assert_eq!(workloads(&[]), None);
    // Series without the object's label, or another family, are left out.
    let ws = workloads(&exposition(
        r#"
        kube_deployment_spec_replicas{namespace="shop"} 3
        kube_pod_info{namespace="shop",pod="a"} 1
        "#,
    ));
    assert_eq!(ws, None);
}

#[test]
fn images_come_from_the_newest_pod_each_controller_owns() {
    use sentinel_model::{
        ContainerState, ContainerStatus, OwnerKind, OwnerRef, PodPhase, PodState,
    };
    let pod = |name: &str, owner: (OwnerKind, &str), image: &str, created: i64| {
        let c = ContainerStatus {
            name: "app".into(),
            image: image.into(),
            ready: true,
            restart_count: 0,
            state: ContainerState::Running {
                started_at: Timestamp(created),
            },
            last_termination_reason: None,
            cpu_request_millis: 0,
            memory_limit_bytes: 0,
            ports: Default::default(),
            probes: Default::default(),
        };
        PodState {
            namespace: "shop".into(),
            name: name.into(),
            uid: name.into(),
            node: None,
            owner: Some(OwnerRef {
                kind: owner.0,
                name: owner.1.into(),
            }),
            phase: PodPhase::Running,
            created_at: Timestamp(created),
            labels: Labels::new(),
            containers: vec![c],
        }
    };
    let pods = [
        pod(
            "checkout-5c4b-a",
            (OwnerKind::ReplicaSet, "checkout-5c4b"),
            "shop/checkout:2.7",
            1,
        ),
        // The rollout's new pod: the newest.
        pod(
            "checkout-7d9f-b",
            (OwnerKind::ReplicaSet, "checkout-7d9f"),
            "shop/checkout:2.8",
            2,
        ),
        pod(
            "postgres-0",
            (OwnerKind::StatefulSet, "postgres"),
            "postgres:17.2",
            1,
        ),
    ];
    let mut ws = workloads(&exposition(
        r#"
        kube_deployment_spec_replicas{namespace="shop",deployment="checkout"} 3
        kube_statefulset_replicas{namespace="shop",statefulset="postgres"} 1
        kube_deployment_spec_replicas{namespace="shop",deployment="cart"} 2
        "#,
    ))
    .unwrap();
    fill_images(&mut ws, &pods);
    assert_eq!(find(&ws, "checkout").images, ["app=shop/checkout:2.8"]);
    assert_eq!(find(&ws, "postgres").images, ["app=postgres:17.2"]);
    assert!(find(&ws, "cart").images.is_empty());
}
