//! Jobs' outcomes as a series: `job_failed{namespace,job_name}` (the
//! label kube-state-metrics gives a Job, which the incident manager reads
//! as the workload, relating the finding to the Job's pods) reads 1 for a
//! Job that failed and 0 for one that has not (the default pack's
//! `JobFailed` rule fires on it). Of a CronJob's runs only the latest
//! finished one is read: a later run that succeeds clears an earlier
//! failure, which the CronJob keeps listed (`failedJobsHistoryLimit`) long
//! after. A Job deleted takes its series, and its finding, with it.

use std::collections::{HashMap, HashSet};

use sentinel_detect::SeriesId;
use sentinel_model::{OwnerKind, PodState, SeriesKey, Timestamp, Workload, newest_finished};

use super::Detection;
use super::lasting::Throttle;

/// The Jobs listed and the series read for them.
#[derive(Default)]
pub(super) struct Jobs {
    /// namespace → names of the Jobs listed.
    listed: HashMap<String, HashSet<String>>,
    /// (namespace, job) → its `job_failed` series, fed when it changes and
    /// at most once a minute between (`Throttle`).
    series: HashMap<(String, String), (SeriesId, Throttle)>,
}

impl Jobs {
    /// Whether `p` belongs to a Job that is listed.
    pub(super) fn owns(&self, p: &PodState) -> bool {
        p.owner.as_ref().is_some_and(|o| {
            o.kind == OwnerKind::Job
                && self
                    .listed
                    .get(&p.namespace)
                    .is_some_and(|names| names.contains(&o.name))
        })
    }
}

impl Detection {
    /// The workloads as listed at `at`: every Job's outcome is read.
    pub(super) fn jobs_listed(&mut self, at: Timestamp, workloads: &[Workload]) {
        let mut listed: HashMap<String, HashSet<String>> = HashMap::new();
        let mut standalone: Vec<&Workload> = Vec::new();
        // (namespace, CronJob) → its runs.
        let mut runs: HashMap<(&str, &str), Vec<&Workload>> = HashMap::new();
        for w in workloads {
            if w.job().is_none() {
                continue;
            }
            listed
                .entry(w.namespace.clone())
                .or_default()
                .insert(w.name.clone());
            match &w.owner {
                None => standalone.push(w),
                Some(cron) => runs.entry((&w.namespace, cron)).or_default().push(w),
            }
        }
        let mut read: Vec<&Workload> = standalone;
        read.extend(runs.into_values().filter_map(newest_finished));
        // Sorted, so that series are defined in the same order every run.
        read.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let keep: HashSet<(&str, &str)> = read
            .iter()
            .map(|w| (w.namespace.as_str(), w.name.as_str()))
            .collect();
        let mut gone: Vec<((String, String), SeriesId)> = self
            .jobs
            .series
            .iter()
            .filter(|((ns, name), _)| !keep.contains(&(ns.as_str(), name.as_str())))
            .map(|(k, (id, _))| (k.clone(), *id))
            .collect();
        gone.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, id) in gone {
            self.jobs.series.remove(&k);
            self.forget(id, at);
        }
        for w in read {
            let value = f64::from(u8::from(w.job().is_some_and(|j| j.outcome.failed())));
            let key = (w.namespace.clone(), w.name.clone());
            let (id, mut fed) = match self.jobs.series.get(&key) {
                Some(s) => *s,
                None => {
                    let l = [
                        ("namespace", w.namespace.as_str()),
                        ("job_name", w.name.as_str()),
                    ];
                    (
                        self.register(SeriesKey::new("job_failed", l)),
                        Throttle::default(),
                    )
                }
            };
            let due = fed.due(value, at);
            self.jobs.series.insert(key, (id, fed));
            if let Some(t) = due {
                self.feed(id, t, value);
            }
        }
        self.jobs.listed = listed;
    }
}

#[cfg(test)]
mod tests {
    use sentinel_model::{
        Batch, ContainerState, ContainerStatus, Duration, JobOutcome, JobRun, OwnerRef, PodPhase,
        RuleState, WorkloadKind,
    };

    use super::*;

    const MIN: i64 = 60_000;

    fn job(name: &str, cron: Option<&str>, outcome: JobOutcome) -> Workload {
        Workload {
            kind: WorkloadKind::Job,
            namespace: "billing".into(),
            name: name.into(),
            owner: cron.map(Into::into),
            revision: String::new(),
            images: vec![],
            replicas: 1,
            ready: 0,
            created_at: Timestamp(0),
            batch: Some(Batch::Job(JobRun {
                active: 0,
                succeeded: 0,
                failed: 3,
                started_at: Some(Timestamp(0)),
                outcome,
            })),
            rollout: None,
        }
    }

    fn failed(at: i64) -> JobOutcome {
        JobOutcome::Failed {
            at: Timestamp(at),
            reason: "BackoffLimitExceeded".into(),
            message: String::new(),
        }
    }

    fn failed_pod(job: &str) -> PodState {
        PodState {
            uid: "u".into(),
            namespace: "billing".into(),
            name: format!("{job}-x7k2p"),
            labels: Default::default(),
            owner: Some(OwnerRef {
                kind: OwnerKind::Job,
                name: job.into(),
            }),
            node: Some("worker-1".into()),
            phase: PodPhase::Failed,
            created_at: Timestamp(0),
            containers: vec![ContainerStatus {
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
            }],
        }
    }

    fn firing(d: &mut Detection, rule: &str) -> Vec<String> {
        d.view()
            .iter()
            .filter(|f| f.rule == rule && f.state == RuleState::Firing)
            .map(|f| {
                f.series
                    .labels
                    .get("job_name")
                    .or(f.series.labels.get("pod"))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    #[test]
    fn a_cron_jobs_latest_finished_run_is_read_and_a_later_success_resolves_it() {
        let mut d = Detection::new(sentinel_detect::default_pack());
        let old = job(
            "export-1",
            Some("export"),
            JobOutcome::Complete { at: Timestamp(MIN) },
        );
        let bad = job("export-2", Some("export"), failed(2 * MIN));
        let running = job("export-3", Some("export"), JobOutcome::Running);
        let own = job("migrate", None, failed(MIN));
        d.workloads(
            Timestamp(3 * MIN),
            &[old.clone(), bad.clone(), running.clone(), own.clone()],
        );
        // A run under way does not hide the last finished one.
        assert_eq!(firing(&mut d, "JobFailed"), ["export-2", "migrate"]);
        let good = job(
            "export-3",
            Some("export"),
            JobOutcome::Complete {
                at: Timestamp(4 * MIN),
            },
        );
        d.workloads(Timestamp(4 * MIN), &[old, bad, good, own.clone()]);
        assert_eq!(firing(&mut d, "JobFailed"), ["migrate"]);
        // A Job deleted takes its finding with it.
        d.workloads(Timestamp(5 * MIN), &[]);
        assert!(firing(&mut d, "JobFailed").is_empty());
    }

    #[test]
    fn a_failed_pod_of_a_listed_job_is_not_read_as_not_ready() {
        let pod = failed_pod("export-2");
        let run = |listed: bool| {
            let mut d = Detection::new(sentinel_detect::default_pack());
            if listed {
                d.workloads(Timestamp(0), &[job("export-2", None, failed(0))]);
            }
            let mut t = Timestamp(0);
            while t.0 <= 10 * MIN {
                d.pods(t, &[&pod], true);
                t = t.saturating_add(Duration::from_secs(30));
            }
            firing(&mut d, "PodNotReady")
        };
        assert!(run(true).is_empty());
        // Without its Job (a source that does not list Jobs) the pod is all
        // there is to read.
        assert_eq!(run(false), std::slice::from_ref(&pod.name));
    }

    #[test]
    fn a_job_listed_again_unchanged_is_fed_at_most_once_a_minute() {
        let mut d = Detection::new(sentinel_detect::default_pack());
        d.record(Timestamp(0));
        let jobs: Vec<Workload> = (0..100)
            .map(|i| {
                job(
                    &format!("job-{i}"),
                    None,
                    JobOutcome::Complete { at: Timestamp(0) },
                )
            })
            .collect();
        d.workloads(Timestamp(1_000), &jobs);
        assert_eq!(d.samples_logged(), 100);
        // Listed again every poll (another workload changed): nothing new.
        for t in 2..30 {
            d.workloads(Timestamp(t * 1_000), &jobs);
        }
        assert_eq!(d.samples_logged(), 0);
        // One that changes is fed at once; the rest again after a minute.
        let mut changed = jobs.clone();
        changed[7] = job("job-7", None, failed(30_000));
        d.workloads(Timestamp(30_000), &changed);
        assert_eq!(d.samples_logged(), 1);
        assert_eq!(firing(&mut d, "JobFailed"), ["job-7"]);
        d.workloads(Timestamp(61_000), &changed);
        assert_eq!(d.samples_logged(), 99);
    }
}
