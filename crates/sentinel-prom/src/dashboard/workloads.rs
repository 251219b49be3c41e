//! Workload controllers rebuilt from kube-state-metrics' series: the
//! Deployments, StatefulSets and DaemonSets with their rollouts (read as
//! `kubectl rollout status` reads the status the series carry), the Jobs
//! with their outcome and the CronJobs with their schedule, so that
//! Prometheus alone gives the Workloads page and the rules on Jobs,
//! CronJobs and rollouts.
//!
//! What kube-state-metrics does not carry is found elsewhere or left out:
//! a controller's images are its newest pod's ([`fill_images`]); a
//! Deployment's revision is not known, nor a condition's message and time
//! (a rollout's last progress is then counted from when Sentinel saw it
//! stand still), a StatefulSet's partition and a strategy's `OnDelete`,
//! nor when a Job failed (its start is given instead).

use std::collections::{BTreeMap, HashMap};

use sentinel_model::rollout::{DaemonSetStatus, DeploymentStatus, Progressing, StatefulSetStatus};
use sentinel_model::{
    Batch, JobOutcome, JobRun, Labels, OwnerKind, PodState, Schedule, Timestamp, Workload,
    WorkloadKind,
};

use crate::parse::Series;

/// Every kube-state-metrics family the workloads need, in one request.
/// `== 1` keeps only the conditions that hold.
pub const KUBE_WORKLOADS: &str = concat!(
    r#"kube_deployment_status_condition == 1 or kube_job_complete == 1 or "#,
    r#"kube_job_failed == 1 or "#,
    r#"{__name__=~"kube_deployment_(spec_replicas|spec_paused|metadata_generation|created|"#,
    r#"status_(observed_generation|replicas|replicas_ready|replicas_available|replicas_updated))|"#,
    r#"kube_statefulset_(replicas|metadata_generation|created|status_(observed_generation|"#,
    r#"replicas_ready|replicas_updated|current_revision|update_revision))|"#,
    r#"kube_daemonset_(metadata_generation|created|status_(observed_generation|"#,
    r#"desired_number_scheduled|number_ready|updated_number_scheduled))|"#,
    r#"kube_job_(owner|created|spec_completions|status_(active|succeeded|failed|start_time|"#,
    r#"completion_time))|kube_cronjob_(info|created|spec_suspend|status_active|"#,
    r#"status_last_schedule_time|status_last_successful_time|spec_starting_deadline_seconds)"}"#
);

/// One controller's series, by what they say.
#[derive(Default)]
struct Build {
    /// The family's suffix after `kube_<kind>_` → its value.
    values: BTreeMap<String, f64>,
    /// Labels of the info-like series (`schedule`, `revision`, …).
    labels: Labels,
    /// Conditions that hold: `(condition, status, reason)`.
    conditions: Vec<(String, String, String)>,
    /// A failed Job's reasons (`kube_job_status_failed{reason}` above 0).
    failed_reasons: Vec<String>,
}

impl Build {
    fn num(&self, k: &str) -> Option<f64> {
        self.values.get(k).copied().filter(|v| v.is_finite())
    }

    fn count(&self, k: &str) -> u32 {
        self.num(k)
            .map_or(0, |v| v.clamp(0.0, u32::MAX as f64) as u32)
    }

    fn int(&self, k: &str) -> Option<i64> {
        self.num(k).map(|v| v as i64)
    }

    fn time(&self, k: &str) -> Option<Timestamp> {
        self.num(k)
            .filter(|v| *v > 0.0)
            .map(|v| Timestamp((v * 1000.0) as i64))
    }

    fn label(&self, k: &str) -> &str {
        self.labels.get(k).map_or("", String::as_str)
    }

    fn holds(&self, condition: &str, status: &str) -> Option<&(String, String, String)> {
        self.conditions
            .iter()
            .find(|c| c.0 == condition && c.1 == status)
    }
}

const KINDS: [(&str, &str, WorkloadKind); 5] = [
    ("kube_deployment_", "deployment", WorkloadKind::Deployment),
    (
        "kube_statefulset_",
        "statefulset",
        WorkloadKind::StatefulSet,
    ),
    ("kube_daemonset_", "daemonset", WorkloadKind::DaemonSet),
    ("kube_job_", "job_name", WorkloadKind::Job),
    ("kube_cronjob_", "cronjob", WorkloadKind::CronJob),
];

/// Rebuilds the workload controllers from kube-state-metrics series; `None`
/// when none of their families answered (kube-state-metrics without those
/// collectors, or not scraped).
pub fn workloads(series: &[Series]) -> Option<Vec<Workload>> {
    let mut builds: BTreeMap<(usize, String, String), Build> = BTreeMap::new();
    for s in series {
        let m = &s.metric;
        let Some(value) = s.values.last().map(|p| p.value) else {
            continue;
        };
        let name = m.get("__name__").map_or("", String::as_str);
        let Some((k, suffix, label)) = KINDS
            .iter()
            .enumerate()
            .find_map(|(k, (prefix, label, _))| Some((k, name.strip_prefix(prefix)?, *label)))
        else {
            continue;
        };
        let (Some(ns), Some(obj)) = (m.get("namespace"), m.get(label)) else {
            continue;
        };
        let b = builds.entry((k, ns.clone(), obj.clone())).or_default();
        let get = |l: &str| m.get(l).cloned().unwrap_or_default();
        match suffix {
            "status_condition" => {
                b.conditions
                    .push((get("condition"), get("status"), get("reason")))
            }
            "complete" | "failed" => {
                b.conditions
                    .push((suffix.into(), get("condition"), String::new()))
            }
            // Per reason, whether the Job failed for it (not a count).
            "status_failed" if !get("reason").is_empty() => {
                if value > 0.0 {
                    b.failed_reasons.push(get("reason"));
                }
            }
            "info" | "owner" | "status_current_revision" | "status_update_revision" => {
                for (l, v) in m {
                    let key = match (suffix, l.as_str()) {
                        ("status_current_revision", "revision") => "current_revision",
                        ("status_update_revision", "revision") => "update_revision",
                        (_, l) => l,
                    };
                    b.labels.insert(key.into(), v.clone());
                }
            }
            _ => {
                b.values.insert(suffix.into(), value);
            }
        }
    }
    if builds.is_empty() {
        return None;
    }
    Some(
        builds
            .into_iter()
            .map(|((k, namespace, name), b)| build(KINDS[k].2, namespace, name, &b))
            .collect(),
    )
}

/// Fills in each controller's images, which its series do not carry, from
/// a pod it owns (`container=image`, in container order): a StatefulSet's,
/// DaemonSet's or Job's own pods, a Deployment's through its ReplicaSets
/// (`<deployment>-<hash>`). The newest such pod is taken, which in a
/// rollout is the new revision's.
pub fn fill_images(workloads: &mut [Workload], pods: &[PodState]) {
    let mut by_owner: HashMap<(&str, OwnerKind, &str), &PodState> = HashMap::new();
    for p in pods {
        let Some(o) = &p.owner else { continue };
        let (kind, name) = match o.kind {
            OwnerKind::ReplicaSet => match o.name.rsplit_once('-') {
                Some((d, _)) => (OwnerKind::ReplicaSet, d),
                None => continue,
            },
            k => (k, o.name.as_str()),
        };
        let e = by_owner
            .entry((p.namespace.as_str(), kind, name))
            .or_insert(p);
        if p.created_at > e.created_at {
            *e = p;
        }
    }
    for w in workloads.iter_mut().filter(|w| w.images.is_empty()) {
        let kind = match w.kind {
            WorkloadKind::Deployment => OwnerKind::ReplicaSet,
            WorkloadKind::StatefulSet => OwnerKind::StatefulSet,
            WorkloadKind::DaemonSet => OwnerKind::DaemonSet,
            WorkloadKind::Job => OwnerKind::Job,
            WorkloadKind::CronJob | WorkloadKind::ReplicaSet => continue,
        };
        if let Some(p) = by_owner.get(&(w.namespace.as_str(), kind, w.name.as_str())) {
            w.images = p
                .containers
                .iter()
                .filter(|c| !c.image.is_empty())
                .map(|c| format!("{}={}", c.name, c.image))
                .collect();
        }
    }
}

fn build(kind: WorkloadKind, namespace: String, name: String, b: &Build) -> Workload {
    let mut w = Workload {
        kind,
        namespace,
        name,
        owner: None,
        revision: String::new(),
        images: Vec::new(),
        replicas: 0,
        ready: 0,
        created_at: b.time("created").unwrap_or(Timestamp(0)),
        batch: None,
        rollout: None,
    };
    match kind {
        WorkloadKind::Deployment => {
            w.replicas = b.count("spec_replicas");
            w.ready = b.count("status_replicas_ready");
            let progressing = ["true", "false", "unknown"].iter().find_map(|s| {
                b.holds("Progressing", s).map(|c| Progressing {
                    status: c.1 == "true",
                    reason: c.2.clone(),
                    message: None,
                    updated_at: None,
                })
            });
            w.rollout = DeploymentStatus {
                paused: b.num("spec_paused").is_some_and(|v| v > 0.0),
                generation: b.int("metadata_generation"),
                observed: b.int("status_observed_generation"),
                wanted: w.replicas,
                updated: b.count("status_replicas_updated"),
                replicas: b.count("status_replicas"),
                available: b.count("status_replicas_available"),
                progressing,
                // The condition's message is not exported: its reason
                // (`FailedCreate`) is what there is.
                failure: b
                    .holds("ReplicaFailure", "true")
                    .map(|c| match c.2.as_str() {
                        "" => "ReplicaFailure".to_string(),
                        r => r.to_string(),
                    }),
                deadline_secs: None,
            }
            .rollout();
        }
        WorkloadKind::StatefulSet => {
            w.replicas = b.count("replicas");
            w.ready = b.count("status_replicas_ready");
            w.revision = b.label("update_revision").to_string();
            w.rollout = StatefulSetStatus {
                on_delete: false,
                generation: b.int("metadata_generation"),
                observed: b.int("status_observed_generation"),
                replicas: w.replicas,
                updated: b.count("status_replicas_updated"),
                partition: 0,
                current_revision: b.label("current_revision").to_string(),
                update_revision: w.revision.clone(),
            }
            .rollout();
        }
        WorkloadKind::DaemonSet => {
            w.replicas = b.count("status_desired_number_scheduled");
            w.ready = b.count("status_number_ready");
            w.rollout = DaemonSetStatus {
                on_delete: false,
                generation: b.int("metadata_generation"),
                observed: b.int("status_observed_generation"),
                desired: w.replicas,
                updated: b.count("status_updated_number_scheduled"),
            }
            .rollout();
        }
        WorkloadKind::Job => {
            if b.label("owner_kind") == "CronJob" {
                w.owner = Some(b.label("owner_name").to_string());
            }
            w.replicas = b
                .num("spec_completions")
                .map_or(1, |_| b.count("spec_completions"));
            w.ready = b.count("status_succeeded");
            let started_at = b.time("status_start_time");
            let outcome = if b.holds("failed", "true").is_some() {
                let reason = b.failed_reasons.first().cloned().unwrap_or_default();
                JobOutcome::Failed {
                    // Not exported: the run failed after it started.
                    at: started_at.unwrap_or(w.created_at),
                    message: String::new(),
                    reason,
                }
            } else if b.holds("complete", "true").is_some() {
                JobOutcome::Complete {
                    at: b
                        .time("status_completion_time")
                        .or(started_at)
                        .unwrap_or(w.created_at),
                }
            } else {
                JobOutcome::Running
            };
            w.batch = Some(Batch::Job(JobRun {
                active: b.count("status_active"),
                succeeded: b.count("status_succeeded"),
                failed: b.count("status_failed"),
                started_at,
                outcome,
            }));
        }
        WorkloadKind::CronJob => {
            let zone = b.label("timezone");
            w.batch = Some(Batch::CronJob(Schedule {
                schedule: b.label("schedule").to_string(),
                time_zone: (!zone.is_empty()).then(|| zone.to_string()),
                concurrency: b.label("concurrency_policy").to_string(),
                starting_deadline_secs: b.int("spec_starting_deadline_seconds"),
                suspended: b.num("spec_suspend").is_some_and(|v| v > 0.0),
                active: b.count("status_active"),
                last_schedule: b.time("status_last_schedule_time"),
                last_success: b.time("status_last_successful_time"),
            }));
        }
        WorkloadKind::ReplicaSet => {}
    }
    w
}

#[cfg(test)]
#[path = "workloads_tests.rs"]
mod tests;
