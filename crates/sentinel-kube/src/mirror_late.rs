//! The logs of runs that hang: a CronJob under `concurrencyPolicy: Forbid`
//! whose run is still going when the next one is late starts no more, and
//! where the running pod's log stops says what it waits on. Such a pod
//! has not ended and has not restarted, so nothing else asks for its log.

use std::collections::HashSet;

use sentinel_model::cron::Due;
use sentinel_model::{Duration, OwnerKind, PodPhase, Timestamp, WorkloadKind};

use super::Mirror;

/// A hanging pod's log is read again this often while its CronJob stays
/// late: the tail moves, or shows it does not.
pub(super) const LATE_LOG_EVERY: Duration = Duration::from_mins(10);

impl Mirror {
    /// Asks (through [`Mirror::take_restarted`]) for the logs of the
    /// running pods of runs that hold a late CronJob back, at `now`.
    pub fn late_runs(&mut self, now: Timestamp) {
        let held: HashSet<(&str, &str)> = self
            .workloads
            .values()
            .filter(|w| {
                w.schedule().is_some_and(|s| {
                    s.concurrency == "Forbid"
                        && s.active > 0
                        && matches!(s.due(w.created_at, now), Ok(Due::Late { .. }))
                })
            })
            .map(|w| (w.namespace.as_str(), w.name.as_str()))
            .collect();
        if held.is_empty() {
            self.late_asked.clear();
            return;
        }
        // Their runs not finished.
        let runs: HashSet<(&str, &str)> = self
            .workloads
            .values()
            .filter(|w| {
                w.kind == WorkloadKind::Job
                    && w.job().is_some_and(|j| j.outcome.finished_at().is_none())
                    && w.owner
                        .as_deref()
                        .is_some_and(|c| held.contains(&(w.namespace.as_str(), c)))
            })
            .map(|w| (w.namespace.as_str(), w.name.as_str()))
            .collect();
        let mut asking = Vec::new();
        let mut running = HashSet::new();
        for (key, p) in &self.pods.live {
            let of_run = p.owner.as_ref().is_some_and(|o| {
                o.kind == OwnerKind::Job && runs.contains(&(p.namespace.as_str(), o.name.as_str()))
            });
            if !of_run || p.phase != PodPhase::Running {
                continue;
            }
            running.insert(key.clone());
            let due = self
                .late_asked
                .get(key)
                .is_none_or(|at| now >= at.saturating_add(LATE_LOG_EVERY));
            if due {
                asking.push(key.clone());
                for c in &p.containers {
                    self.restarted
                        .push((p.namespace.clone(), p.name.clone(), c.name.clone()));
                }
            }
        }
        asking.sort();
        for key in asking {
            self.late_asked.insert(key, now);
        }
        self.late_asked.retain(|k, _| running.contains(k));
    }
}
