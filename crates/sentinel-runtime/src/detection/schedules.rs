//! CronJobs' schedules as a series: `cronjob_late_seconds{namespace,cronjob}`
//! (`cronjob` as kube-state-metrics labels a CronJob) reads how long the
//! run due has not started, once it is late (five minutes after it was
//! due: the controller starts a run within seconds), and 0 otherwise. The
//! default pack's `CronJobLate` rule fires on it: a CronJob whose run hangs
//! under `concurrencyPolicy: Forbid`, whose Jobs are refused, or whose
//! controller is down, runs nothing and says nothing. A run starting (the
//! CronJob's `lastScheduleTime` moving on) resolves it, as does suspending
//! or deleting the CronJob.
//!
//! The due time is worked out when the workloads are listed; lateness is
//! read as time passes (every tick), fed when it starts or ends and at
//! most once a minute between.

use std::collections::{HashMap, HashSet};

use sentinel_detect::SeriesId;
use sentinel_model::cron::late_by;
use sentinel_model::{SeriesKey, Timestamp, Workload};

use super::Detection;
use super::lasting::{Throttle, unlisted};

/// The CronJobs listed, each with its run due and its series.
#[derive(Default)]
pub(super) struct Schedules {
    /// (namespace, name) → what is due.
    due: HashMap<(String, String), Entry>,
}

struct Entry {
    /// The run due next; none when suspended, unreadable or never.
    next: Option<Timestamp>,
    id: SeriesId,
    fed: Throttle,
}

impl Detection {
    /// The CronJobs as listed at `at`: their next runs are worked out.
    pub(super) fn schedules_listed(&mut self, at: Timestamp, workloads: &[Workload]) {
        let mut seen: HashSet<(&str, &str)> = HashSet::new();
        for w in workloads {
            let Some(s) = w.schedule() else { continue };
            seen.insert((&w.namespace, &w.name));
            // An unreadable schedule has nothing due: the Workloads page
            // says why.
            let next = s.next_due(w.created_at).ok().flatten();
            let key = (w.namespace.clone(), w.name.clone());
            if let Some(e) = self.schedules.due.get_mut(&key) {
                e.next = next;
                continue;
            }
            let l = [
                ("namespace", w.namespace.as_str()),
                ("cronjob", w.name.as_str()),
            ];
            let id = self.register(SeriesKey::new("cronjob_late_seconds", l));
            self.schedules.due.insert(
                key,
                Entry {
                    next,
                    id,
                    fed: Throttle::default(),
                },
            );
        }
        let gone = unlisted(
            &mut self.schedules.due,
            |k| seen.contains(&(k.0.as_str(), k.1.as_str())),
            |e| e.id,
        );
        for id in gone {
            self.forget(id, at);
        }
    }

    /// Time passed: each CronJob's lateness at `now`.
    pub(super) fn schedules_at(&mut self, now: Timestamp) {
        let mut feed: Vec<(SeriesId, Timestamp, f64)> = Vec::new();
        for e in self.schedules.due.values_mut() {
            let late = e.next.and_then(|next| late_by(next, now));
            #[allow(clippy::cast_precision_loss)]
            let value = late.map_or(0.0, |d| (d.millis() / 1_000) as f64);
            if let Some(at) = e.fed.due(value, now) {
                feed.push((e.id, at, value));
            }
        }
        self.feed_all(feed);
    }
}

#[cfg(test)]
#[path = "schedules_tests.rs"]
mod tests;
