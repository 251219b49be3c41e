//! The workload controllers as the API serves them: each Deployment with
//! a ReplicaSet for every revision it has had, StatefulSets and DaemonSets.
//! A ReplicaSet wants the pods it has: a stuck rollout keeps the old one's
//! and the new one's, a rolled-back revision keeps none. The batch workload
//! is a CronJob: each cycle's run is a Job named after the minute it was
//! scheduled for (as the CronJob controller names them), the last three
//! finished ones kept (its default `successfulJobsHistoryLimit`).
//!
//! One simplification: a rollback makes the old revision current again
//! under its own number, where the API would give it the next number and
//! keep the old one in `deployment.kubernetes.io/revision-history`.

use sentinel_model::{
    Batch, JobOutcome, JobRun, PodState, Schedule, Timestamp, Workload as State,
    WorkloadKind as Kind,
};

use crate::Sim;
use crate::scenario::{CYCLE_S, NOISY_AT};
use crate::topology::{Workload, WorkloadKind};

/// A ReplicaSet a Deployment has had.
#[derive(Debug)]
struct Revision {
    workload: usize,
    revision: u32,
    version: String,
    name: String,
    created_at: Timestamp,
}

/// A run of the CronJob: its Job's name, the minute it was scheduled for,
/// when it started and finished.
#[derive(Debug)]
struct Run {
    name: String,
    scheduled: Timestamp,
    started: Timestamp,
    finished: Option<Timestamp>,
}

/// Finished runs kept, as the CronJob's history limit keeps them.
const RUNS_KEPT: usize = 3;

/// What a listing is made of: per workload its revision, pods and ready
/// pods; then per ReplicaSet its pods and ready pods.
type Counts = Vec<(u32, u32, u32)>;

/// The ReplicaSets the Deployments have had, and what was last listed, so
/// that a frame lists the controllers only when they changed.
#[derive(Debug, Default)]
pub(crate) struct Controllers {
    revisions: Vec<Revision>,
    /// Workload → its entries in `revisions`.
    by_workload: Vec<Vec<usize>>,
    /// Bumped by every rollout and every run started or finished.
    epoch: u64,
    listed: Option<(u64, Counts)>,
    /// The CronJob's runs, oldest first.
    runs: Vec<Run>,
}

impl Controllers {
    /// Starts at `at` a run of `cron_job` scheduled for `scheduled`.
    pub(crate) fn start_run(&mut self, cron_job: &str, scheduled: Timestamp, at: Timestamp) {
        self.epoch += 1;
        let minute = scheduled.millis().div_euclid(60_000);
        self.runs.push(Run {
            name: format!("{cron_job}-{minute}"),
            scheduled: Timestamp(minute * 60_000),
            started: at,
            finished: None,
        });
        let finished = self.runs.iter().filter(|r| r.finished.is_some()).count();
        if finished > RUNS_KEPT {
            self.runs.remove(0);
        }
    }

    /// The run under way finished at `at`; its Job's name.
    pub(crate) fn finish_run(&mut self, at: Timestamp) -> Option<String> {
        let run = self.runs.last_mut().filter(|r| r.finished.is_none())?;
        run.finished = Some(at);
        self.epoch += 1;
        Some(run.name.clone())
    }

    /// The Job of the run under way.
    pub(crate) fn current_run(&self) -> Option<&str> {
        self.runs
            .last()
            .filter(|r| r.finished.is_none())
            .map(|r| r.name.as_str())
    }
}

fn ready(p: &PodState) -> bool {
    !p.containers.is_empty() && p.ready_count() == p.containers.len()
}

fn image(wl: &Workload, version: &str) -> String {
    format!("{}={}:{}", wl.name, wl.image_repo, version)
}

impl Sim {
    /// Records the ReplicaSet of workload `w`'s current revision, rolled
    /// out at `at`. The incident loop rolls the same revision out again
    /// every cycle: that is a new rollout, dated anew.
    pub(crate) fn note_revision(&mut self, w: usize, at: Timestamp) {
        let wl = &self.workloads[w];
        if wl.kind != WorkloadKind::Deployment {
            return;
        }
        let c = &mut self.controllers;
        c.epoch += 1;
        if c.by_workload.len() < self.workloads.len() {
            c.by_workload.resize(self.workloads.len(), Vec::new());
        }
        let known = c.by_workload[w]
            .iter()
            .copied()
            .find(|&r| c.revisions[r].revision == wl.revision);
        match known {
            Some(r) => c.revisions[r].created_at = at,
            None => {
                c.by_workload[w].push(c.revisions.len());
                c.revisions.push(Revision {
                    workload: w,
                    revision: wl.revision,
                    version: wl.version.clone(),
                    name: wl.replicaset_name(),
                    created_at: at,
                });
            }
        }
    }

    fn counts(&self) -> Counts {
        let c = &self.controllers;
        let n = self.workloads.len();
        let mut counts: Counts = self.workloads.iter().map(|w| (w.revision, 0, 0)).collect();
        counts.resize(n + c.revisions.len(), (0, 0, 0));
        for p in &self.pods {
            let up = u32::from(ready(&p.state));
            let w = p.workload;
            counts[w].1 += 1;
            counts[w].2 += up;
            let owner = p.state.owner.as_ref().map_or("", |o| o.name.as_str());
            if let Some(r) = c
                .by_workload
                .get(w)
                .and_then(|rs| rs.iter().copied().find(|&r| c.revisions[r].name == owner))
            {
                counts[n + r].1 += 1;
                counts[n + r].2 += up;
            }
        }
        counts
    }

    /// Makes the next frame list the controllers, changed or not.
    pub(crate) fn forget_listing(&mut self) {
        self.controllers.listed = None;
    }

    /// The controllers, when they changed since they were last listed (a
    /// rollout, a pod's readiness); None while they stay the same.
    pub(crate) fn changed_workloads(&mut self) -> Option<Vec<State>> {
        let counts = self.counts();
        let epoch = self.controllers.epoch;
        if self
            .controllers
            .listed
            .as_ref()
            .is_some_and(|(e, c)| *e == epoch && *c == counts)
        {
            return None;
        }
        let listing = self.listing(&counts);
        self.controllers.listed = Some((epoch, counts));
        Some(listing)
    }

    fn listing(&self, counts: &Counts) -> Vec<State> {
        let revisions = &self.controllers.revisions;
        let n = self.workloads.len();
        let mut out = Vec::with_capacity(n + revisions.len());
        for (w, wl) in self.workloads.iter().enumerate() {
            let kind = match wl.kind {
                WorkloadKind::Deployment => Kind::Deployment,
                WorkloadKind::StatefulSet => Kind::StatefulSet,
                WorkloadKind::DaemonSet => Kind::DaemonSet,
                WorkloadKind::Job => {
                    self.list_runs(wl, &mut out);
                    continue;
                }
            };
            out.push(State {
                kind,
                namespace: wl.namespace.clone(),
                name: wl.name.clone(),
                owner: None,
                revision: wl.revision.to_string(),
                images: vec![image(wl, &wl.version)],
                replicas: u32::try_from(wl.replicas).unwrap_or(u32::MAX),
                ready: counts[w].2,
                created_at: self.start,
                batch: None,
                rollout: self.rollout_status(w, wl, counts),
            });
        }
        for (r, rev) in revisions.iter().enumerate() {
            let wl = &self.workloads[rev.workload];
            out.push(State {
                kind: Kind::ReplicaSet,
                namespace: wl.namespace.clone(),
                name: rev.name.clone(),
                owner: Some(wl.name.clone()),
                revision: rev.revision.to_string(),
                images: vec![image(wl, &rev.version)],
                replicas: counts[n + r].1,
                ready: counts[n + r].2,
                created_at: rev.created_at,
                batch: None,
                rollout: None,
            });
        }
        out
    }

    /// A Deployment's rollout while an older ReplicaSet still holds pods,
    /// as its status tells it: the new ReplicaSet's pods against those
    /// wanted, its last progress when the new ReplicaSet was made.
    fn rollout_status(
        &self,
        w: usize,
        wl: &Workload,
        counts: &Counts,
    ) -> Option<sentinel_model::Rollout> {
        let n = self.workloads.len();
        let sets = self.controllers.by_workload.get(w)?;
        let current = sets
            .iter()
            .find(|&&r| self.controllers.revisions[r].revision == wl.revision)?;
        let old: u32 = sets
            .iter()
            .filter(|&&r| r != *current)
            .map(|&r| counts[n + r].1)
            .sum();
        if old == 0 {
            return None;
        }
        let updated = counts[n + current].1;
        let wanted = u32::try_from(wl.replicas).unwrap_or(u32::MAX);
        Some(sentinel_model::Rollout {
            updated,
            wanted,
            waiting: if updated < wanted {
                format!("{updated} out of {wanted} new replicas have been updated")
            } else {
                format!("{old} old replicas are pending termination")
            },
            progressed_at: Some(self.controllers.revisions[*current].created_at),
            stalled: None,
            failure: None,
        })
    }

    /// The CronJob of the batch workload `wl` and its runs' Jobs.
    fn list_runs(&self, wl: &Workload, out: &mut Vec<State>) {
        let runs = &self.controllers.runs;
        let images = vec![image(wl, &wl.version)];
        let state = |kind, name: &str, owner: Option<&str>, batch, counts: (u32, u32), at| State {
            kind,
            namespace: wl.namespace.clone(),
            name: name.to_string(),
            owner: owner.map(str::to_string),
            revision: String::new(),
            images: images.clone(),
            replicas: counts.0,
            ready: counts.1,
            created_at: at,
            batch: Some(batch),
            rollout: None,
        };
        out.push(state(
            Kind::CronJob,
            &wl.name,
            None,
            Batch::CronJob(Schedule {
                schedule: run_schedule(self.start),
                time_zone: None,
                concurrency: "Forbid".into(),
                starting_deadline_secs: None,
                suspended: false,
                active: u32::from(self.controllers.current_run().is_some()),
                last_schedule: runs.last().map(|r| r.scheduled),
                last_success: runs.iter().rev().find_map(|r| r.finished),
            }),
            (0, 0),
            self.start,
        ));
        for r in runs {
            let done = r.finished.is_some();
            let run = JobRun {
                active: u32::from(!done),
                succeeded: u32::from(done),
                failed: 0,
                started_at: Some(r.started),
                outcome: r
                    .finished
                    .map_or(JobOutcome::Running, |at| JobOutcome::Complete { at }),
            };
            out.push(state(
                Kind::Job,
                &r.name,
                Some(&wl.name),
                Batch::Job(run),
                (1, u32::from(done)),
                r.started,
            ));
        }
    }
}

/// The batch workload runs once a cycle, `NOISY_AT` into it: as a cron
/// schedule, every 20 minutes from the minute of the first run (the cycle
/// starts with the simulation, at any second).
pub(crate) fn run_schedule(start: Timestamp) -> String {
    let minute = first_run(start).millis().div_euclid(60_000).rem_euclid(60);
    let per_hour = 60 / (CYCLE_S / 60);
    // In order, as one would write them.
    let minutes: Vec<String> = (0..per_hour)
        .map(|k| (minute + k * (CYCLE_S / 60)) % 60)
        .collect::<std::collections::BTreeSet<i64>>()
        .into_iter()
        .map(|m| m.to_string())
        .collect();
    format!("{} * * * *", minutes.join(","))
}

/// When the run of the cycle that `at` falls in was scheduled.
pub(crate) fn scheduled_run(start: Timestamp, at: Timestamp) -> Timestamp {
    let cycle = at
        .millis()
        .saturating_sub(first_run(start).millis())
        .div_euclid(CYCLE_S * 1_000);
    first_run(start).saturating_add(sentinel_model::Duration::from_secs(cycle * CYCLE_S))
}

fn first_run(start: Timestamp) -> Timestamp {
    start.saturating_add(sentinel_model::Duration::from_secs(NOISY_AT))
}

#[cfg(test)]
#[path = "workloads_tests.rs"]
mod tests;
