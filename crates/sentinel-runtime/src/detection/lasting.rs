//! Readings of states that last (a Job failed, a CronJob late, a rollout
//! stalled) are fed when they turn on or off, and otherwise at most once a
//! minute: the workloads are listed again whenever any of them changes and
//! time is ticked every second, and thousands of unchanged readings per
//! poll would only fill the history. The workloads as listed are read
//! here (Jobs, CronJobs, rollouts), and what lasts again as time passes.

use std::collections::HashMap;
use std::hash::Hash;

use sentinel_detect::SeriesId;
use sentinel_model::{Duration, Timestamp, Workload};

use super::Detection;

/// How often a lasting state is fed again.
pub(super) const REFEED: Duration = Duration::from_mins(1);

/// The last reading fed of one series.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Throttle {
    last: Option<(f64, Timestamp)>,
}

impl Throttle {
    /// When to feed `value` read at `now`, if it is due: at once when it
    /// turns on or off, else a minute after the last. Never earlier than
    /// the last reading (a listing may come stamped a moment before the
    /// last tick).
    pub(super) fn due(&mut self, value: f64, now: Timestamp) -> Option<Timestamp> {
        let at = self.last.map_or(now, |(_, last)| now.max(last));
        let due = match self.last {
            None => true,
            Some((was, last)) => (was > 0.0) != (value > 0.0) || at >= last.saturating_add(REFEED),
        };
        if due {
            self.last = Some((value, at));
        }
        due.then_some(at)
    }
}

/// Takes the entries of `map` whose key `keep` refuses, and returns their
/// series in key order (the same order every run, for the history).
pub(super) fn unlisted<K: Ord + Clone + Hash + Eq, E>(
    map: &mut HashMap<K, E>,
    keep: impl Fn(&K) -> bool,
    id: impl Fn(&E) -> SeriesId,
) -> Vec<SeriesId> {
    let mut gone: Vec<K> = map.keys().filter(|k| !keep(k)).cloned().collect();
    gone.sort();
    gone.iter()
        .filter_map(|k| map.remove(k))
        .map(|e| id(&e))
        .collect()
}

impl Detection {
    /// The workload controllers as listed at `at`: Jobs' outcomes,
    /// CronJobs' next runs, rollouts' progress; what lasts is read again as
    /// time passes (`lasting`).
    pub fn workloads(&mut self, at: Timestamp, workloads: &[Workload]) {
        self.jobs_listed(at, workloads);
        self.schedules_listed(at, workloads);
        self.rollouts_listed(at, workloads);
        self.lasting(at);
    }

    /// Time passed: how late each CronJob is, how long each rollout has
    /// stood still.
    pub fn lasting(&mut self, now: Timestamp) {
        self.schedules_at(now);
        self.rollouts_at(now);
        self.collect();
    }

    /// Feeds readings due, in series order (the same every run).
    pub(super) fn feed_all(&mut self, mut due: Vec<(SeriesId, Timestamp, f64)>) {
        due.sort_by_key(|(id, ..)| id.0);
        for (id, at, value) in due {
            self.feed(id, at, value);
        }
    }
}

#[cfg(test)]
impl Detection {
    /// Readings logged for the history since the last call.
    pub(super) fn samples_logged(&mut self) -> usize {
        self.take_log()
            .iter()
            .filter(|r| matches!(r, sentinel_store::Record::Sample { .. }))
            .count()
    }

    /// Time passing from `from` to `to`, a tick every 10 s, as the loop
    /// drives it.
    pub(super) fn run(&mut self, from: Timestamp, to: Timestamp) {
        let mut at = from;
        while at <= to {
            self.lasting(at);
            self.tick(at);
            at = at.saturating_add(sentinel_model::Duration::from_secs(10));
        }
    }
}

/// A nightly CronJob (`0 2 * * *`, Forbid, a run active) in `billing`,
/// created on 2026-11-01 and last scheduled at `last_schedule` (RFC 3339).
#[cfg(test)]
pub(crate) fn nightly(name: &str, last_schedule: &str, suspended: bool) -> Workload {
    use sentinel_model::{Batch, Schedule, WorkloadKind};
    let t = |s: &str| Timestamp::parse(s).unwrap_or(Timestamp(0));
    Workload {
        kind: WorkloadKind::CronJob,
        namespace: "billing".into(),
        name: name.into(),
        owner: None,
        revision: String::new(),
        images: vec![],
        replicas: 0,
        ready: 0,
        created_at: t("2026-11-01T00:00:00Z"),
        batch: Some(Batch::CronJob(Schedule {
            schedule: "0 2 * * *".into(),
            time_zone: None,
            concurrency: "Forbid".into(),
            starting_deadline_secs: None,
            suspended,
            active: 1,
            last_schedule: Some(t(last_schedule)),
            last_success: None,
        })),
        rollout: None,
    }
}
