//! Readings of states that last (a Job failed, a CronJob late, a rollout
//! stalled) are fed when they turn on or off, and otherwise at most once a
//! minute: the workloads are listed again whenever any of them changes and
//! time is ticked every second, and thousands of unchanged readings per
//! poll would only fill the history.

use std::collections::HashMap;
use std::hash::Hash;

use sentinel_detect::SeriesId;
use sentinel_model::{Duration, Timestamp};

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
    /// Feeds readings due, in series order (the same every run).
    pub(super) fn feed_all(&mut self, mut due: Vec<(SeriesId, Timestamp, f64)>) {
        due.sort_by_key(|(id, ..)| id.0);
        for (id, at, value) in due {
            self.feed(id, at, value);
        }
    }
}
