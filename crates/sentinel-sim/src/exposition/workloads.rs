//! The workload controllers as kube-state-metrics exposes them: the
//! Deployments' counts and conditions, the StatefulSets' and DaemonSets'
//! counts and revisions, the Jobs' runs and the CronJobs' schedules.

use sentinel_model::{JobOutcome, Workload, WorkloadKind};

use super::Family;

fn secs(t: sentinel_model::Timestamp) -> f64 {
    t.millis() as f64 / 1000.0
}

/// The families of `workloads` (the newest listing).
pub(super) fn families(workloads: &[Workload]) -> Vec<Family> {
    let g = "gauge";
    let f = |name: &'static str| Family::new(name, g, "kube-state-metrics workload family.");
    let (mut d_spec, mut d_status, mut d_ready, mut d_avail, mut d_updated) = (
        f("kube_deployment_spec_replicas"),
        f("kube_deployment_status_replicas"),
        f("kube_deployment_status_replicas_ready"),
        f("kube_deployment_status_replicas_available"),
        f("kube_deployment_status_replicas_updated"),
    );
    let (mut d_gen, mut d_observed, mut d_created, mut d_condition) = (
        f("kube_deployment_metadata_generation"),
        f("kube_deployment_status_observed_generation"),
        f("kube_deployment_created"),
        f("kube_deployment_status_condition"),
    );
    let (mut s_replicas, mut s_ready, mut s_updated, mut s_gen, mut s_observed) = (
        f("kube_statefulset_replicas"),
        f("kube_statefulset_status_replicas_ready"),
        f("kube_statefulset_status_replicas_updated"),
        f("kube_statefulset_metadata_generation"),
        f("kube_statefulset_status_observed_generation"),
    );
    let (mut s_current, mut s_update, mut s_created) = (
        f("kube_statefulset_status_current_revision"),
        f("kube_statefulset_status_update_revision"),
        f("kube_statefulset_created"),
    );
    let (mut ds_desired, mut ds_ready, mut ds_updated, mut ds_gen, mut ds_observed) = (
        f("kube_daemonset_status_desired_number_scheduled"),
        f("kube_daemonset_status_number_ready"),
        f("kube_daemonset_status_updated_number_scheduled"),
        f("kube_daemonset_metadata_generation"),
        f("kube_daemonset_status_observed_generation"),
    );
    let mut ds_created = f("kube_daemonset_created");
    let (mut j_owner, mut j_completions, mut j_active, mut j_succeeded, mut j_failed) = (
        f("kube_job_owner"),
        f("kube_job_spec_completions"),
        f("kube_job_status_active"),
        f("kube_job_status_succeeded"),
        f("kube_job_status_failed"),
    );
    let (mut j_start, mut j_end, mut j_complete, mut j_failed_cond, mut j_created) = (
        f("kube_job_status_start_time"),
        f("kube_job_status_completion_time"),
        f("kube_job_complete"),
        f("kube_job_failed"),
        f("kube_job_created"),
    );
    let (mut c_info, mut c_created, mut c_suspend, mut c_active) = (
        f("kube_cronjob_info"),
        f("kube_cronjob_created"),
        f("kube_cronjob_spec_suspend"),
        f("kube_cronjob_status_active"),
    );
    let (mut c_last, mut c_success) = (
        f("kube_cronjob_status_last_schedule_time"),
        f("kube_cronjob_status_last_successful_time"),
    );
    for w in workloads {
        let ns = w.namespace.as_str();
        let (replicas, ready) = (f64::from(w.replicas), f64::from(w.ready));
        let updated = w
            .rollout
            .as_ref()
            .map_or(replicas, |r| f64::from(r.updated));
        match w.kind {
            WorkloadKind::Deployment => {
                let l = [("namespace", ns), ("deployment", w.name.as_str())];
                // Every pod its ReplicaSets hold, old ones included.
                let held: u32 = workloads
                    .iter()
                    .filter(|r| {
                        r.kind == WorkloadKind::ReplicaSet
                            && r.namespace == w.namespace
                            && r.owner.as_deref() == Some(w.name.as_str())
                    })
                    .map(|r| r.replicas)
                    .sum();
                d_spec.push("", &l, replicas);
                d_status.push("", &l, f64::from(held));
                d_ready.push("", &l, ready);
                d_avail.push("", &l, ready);
                d_updated.push("", &l, updated);
                d_gen.push("", &l, 1.0);
                d_observed.push("", &l, 1.0);
                d_created.push("", &l, secs(w.created_at));
                let reason = match &w.rollout {
                    Some(r) if r.stalled.is_some() => "ProgressDeadlineExceeded",
                    Some(_) => "ReplicaSetUpdated",
                    None => "NewReplicaSetAvailable",
                };
                let status = if reason == "ProgressDeadlineExceeded" {
                    "false"
                } else {
                    "true"
                };
                d_condition.push_more(
                    "",
                    &l,
                    &[
                        ("condition", "Progressing"),
                        ("status", status),
                        ("reason", reason),
                    ],
                    1.0,
                );
            }
            WorkloadKind::StatefulSet => {
                let l = [("namespace", ns), ("statefulset", w.name.as_str())];
                s_replicas.push("", &l, replicas);
                s_ready.push("", &l, ready);
                s_updated.push("", &l, updated);
                s_gen.push("", &l, 1.0);
                s_observed.push("", &l, 1.0);
                s_created.push("", &l, secs(w.created_at));
                s_current.push_more("", &l, &[("revision", w.revision.as_str())], 1.0);
                s_update.push_more("", &l, &[("revision", w.revision.as_str())], 1.0);
            }
            WorkloadKind::DaemonSet => {
                let l = [("namespace", ns), ("daemonset", w.name.as_str())];
                ds_desired.push("", &l, replicas);
                ds_ready.push("", &l, ready);
                ds_updated.push("", &l, updated);
                ds_gen.push("", &l, 1.0);
                ds_observed.push("", &l, 1.0);
                ds_created.push("", &l, secs(w.created_at));
            }
            WorkloadKind::Job => {
                let Some(run) = w.job() else { continue };
                let l = [("namespace", ns), ("job_name", w.name.as_str())];
                let owner = w.owner.as_deref().unwrap_or("<none>");
                let kind = if w.owner.is_some() {
                    "CronJob"
                } else {
                    "<none>"
                };
                j_owner.push_more(
                    "",
                    &l,
                    &[
                        ("owner_kind", kind),
                        ("owner_name", owner),
                        ("owner_is_controller", "true"),
                    ],
                    1.0,
                );
                j_completions.push("", &l, replicas);
                j_active.push("", &l, f64::from(run.active));
                j_succeeded.push("", &l, f64::from(run.succeeded));
                j_failed.push("", &l, f64::from(run.failed));
                j_created.push("", &l, secs(w.created_at));
                if let Some(t) = run.started_at {
                    j_start.push("", &l, secs(t));
                }
                let (complete, failed) = match &run.outcome {
                    JobOutcome::Running => (false, false),
                    JobOutcome::Complete { at } => {
                        j_end.push("", &l, secs(*at));
                        (true, false)
                    }
                    JobOutcome::Failed { .. } => (false, true),
                };
                for (family, holds) in [(&mut j_complete, complete), (&mut j_failed_cond, failed)] {
                    for (c, v) in [("true", holds), ("false", !holds)] {
                        family.push_more("", &l, &[("condition", c)], f64::from(u8::from(v)));
                    }
                }
            }
            WorkloadKind::CronJob => {
                let Some(s) = w.schedule() else { continue };
                let l = [("namespace", ns), ("cronjob", w.name.as_str())];
                let policy = if s.concurrency.is_empty() {
                    "Allow"
                } else {
                    s.concurrency.as_str()
                };
                c_info.push_more(
                    "",
                    &l,
                    &[
                        ("schedule", s.schedule.as_str()),
                        ("concurrency_policy", policy),
                        ("timezone", s.time_zone.as_deref().unwrap_or("")),
                    ],
                    1.0,
                );
                c_created.push("", &l, secs(w.created_at));
                c_suspend.push("", &l, f64::from(u8::from(s.suspended)));
                c_active.push("", &l, f64::from(s.active));
                if let Some(t) = s.last_schedule {
                    c_last.push("", &l, secs(t));
                }
                if let Some(t) = s.last_success {
                    c_success.push("", &l, secs(t));
                }
            }
            WorkloadKind::ReplicaSet => {}
        }
    }
    vec![
        d_spec,
        d_status,
        d_ready,
        d_avail,
        d_updated,
        d_gen,
        d_observed,
        d_created,
        d_condition,
        s_replicas,
        s_ready,
        s_updated,
        s_gen,
        s_observed,
        s_current,
        s_update,
        s_created,
        ds_desired,
        ds_ready,
        ds_updated,
        ds_gen,
        ds_observed,
        ds_created,
        j_owner,
        j_completions,
        j_active,
        j_succeeded,
        j_failed,
        j_start,
        j_end,
        j_complete,
        j_failed_cond,
        j_created,
        c_info,
        c_created,
        c_suspend,
        c_active,
        c_last,
        c_success,
    ]
}
