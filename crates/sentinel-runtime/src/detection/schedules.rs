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
use sentinel_model::{Duration, SeriesKey, Timestamp, Workload};

use super::Detection;

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
    /// The value and time last fed.
    fed: Option<(f64, Timestamp)>,
}

/// Lateness is fed again at most this often while it lasts.
const REFEED: Duration = Duration::from_mins(1);

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
                    fed: None,
                },
            );
        }
        let mut gone: Vec<((String, String), SeriesId)> = self
            .schedules
            .due
            .iter()
            .filter(|(k, _)| !seen.contains(&(k.0.as_str(), k.1.as_str())))
            .map(|(k, e)| (k.clone(), e.id))
            .collect();
        gone.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, id) in gone {
            self.schedules.due.remove(&k);
            self.forget(id, at);
        }
        self.schedules_at(at);
    }

    /// Time passed: each CronJob's lateness at `now`.
    pub fn schedules_at(&mut self, now: Timestamp) {
        let mut feed: Vec<(SeriesId, Timestamp, f64)> = Vec::new();
        for e in self.schedules.due.values_mut() {
            let late = e.next.and_then(|next| late_by(next, now));
            #[allow(clippy::cast_precision_loss)]
            let value = late.map_or(0.0, |d| (d.millis() / 1_000) as f64);
            // A listing may come stamped a moment before the last tick: a
            // series is never fed back in time.
            let at = e.fed.map_or(now, |(_, last)| now.max(last));
            let due = match e.fed {
                None => true,
                Some((was, last)) => {
                    (was > 0.0) != (value > 0.0) || at >= last.saturating_add(REFEED)
                }
            };
            if due {
                e.fed = Some((value, at));
                feed.push((e.id, at, value));
            }
        }
        if feed.is_empty() {
            return;
        }
        // In the same order every run, for the history.
        feed.sort_by_key(|(id, ..)| id.0);
        for (id, at, value) in feed {
            self.feed(id, at, value);
        }
        self.collect();
    }
}

#[cfg(test)]
#[path = "schedules_tests.rs"]
mod tests;
