//! Rollouts as a series: `rollout_stalled_seconds{namespace,deployment}`
//! (or `statefulset`, `daemonset`, as kube-state-metrics labels them)
//! reads how long a rollout under way has made no progress, 0 when none is
//! under way. Progress is the controller's word where it gives one (a
//! Deployment's `Progressing` condition), else any change in the new
//! revision's pods or the ready ones. The default pack's `RolloutStuck`
//! fires past ten minutes (a Deployment's default progress deadline): a
//! StatefulSet whose next pod never gets ready, a DaemonSet whose new pod
//! cannot start on some node, a Deployment whose new pods crash while the
//! old ones still serve (ready as a whole, so nothing else says so).

use std::collections::{HashMap, HashSet};

use sentinel_detect::SeriesId;
use sentinel_model::{SeriesKey, Timestamp, Workload, WorkloadKind};

use super::Detection;
use super::lasting::{Throttle, unlisted};

/// The workloads whose rollout was seen, each with its series.
#[derive(Default)]
pub(super) struct Rollouts {
    /// (kind, namespace, name) → its rollout.
    seen: HashMap<(WorkloadKind, String, String), Entry>,
}

struct Entry {
    /// Since when the rollout under way has not progressed; none when no
    /// rollout is under way.
    since: Option<Timestamp>,
    /// What progress is measured by: the revision, its pods, those ready.
    progress: (String, u32, u32),
    id: SeriesId,
    fed: Throttle,
}

fn label(kind: WorkloadKind) -> Option<&'static str> {
    match kind {
        WorkloadKind::Deployment => Some("deployment"),
        WorkloadKind::StatefulSet => Some("statefulset"),
        WorkloadKind::DaemonSet => Some("daemonset"),
        _ => None,
    }
}

impl Detection {
    /// The workloads as listed at `at`: where each rollout stands.
    pub(super) fn rollouts_listed(&mut self, at: Timestamp, workloads: &[Workload]) {
        let mut listed: HashSet<(WorkloadKind, &str, &str)> = HashSet::new();
        for w in workloads {
            let Some(l) = label(w.kind) else { continue };
            listed.insert((w.kind, &w.namespace, &w.name));
            let key = (w.kind, w.namespace.clone(), w.name.clone());
            let Some(r) = &w.rollout else {
                if let Some(e) = self.rollouts.seen.get_mut(&key) {
                    e.since = None;
                }
                continue;
            };
            let progress = (w.revision.clone(), r.updated, w.ready);
            let entry = match self.rollouts.seen.get_mut(&key) {
                Some(e) => e,
                None => {
                    let labels = [("namespace", w.namespace.as_str()), (l, w.name.as_str())];
                    let id = self.register(SeriesKey::new("rollout_stalled_seconds", labels));
                    self.rollouts.seen.entry(key).or_insert(Entry {
                        since: None,
                        progress: progress.clone(),
                        id,
                        fed: Throttle::default(),
                    })
                }
            };
            let moved = entry.progress != progress;
            entry.progress = progress;
            entry.since = match (r.progressed_at, entry.since) {
                // The controller says when it last progressed.
                (Some(t), _) => Some(t.min(at)),
                (None, Some(since)) if !moved => Some(since),
                _ => Some(at),
            };
        }
        let gone = unlisted(
            &mut self.rollouts.seen,
            |k| listed.contains(&(k.0, k.1.as_str(), k.2.as_str())),
            |e| e.id,
        );
        for id in gone {
            self.forget(id, at);
        }
    }

    /// Time passed: how long each rollout has not progressed at `now`.
    pub(super) fn rollouts_at(&mut self, now: Timestamp) {
        let mut feed: Vec<(SeriesId, Timestamp, f64)> = Vec::new();
        for e in self.rollouts.seen.values_mut() {
            #[allow(clippy::cast_precision_loss)]
            let value = e
                .since
                .map_or(0.0, |t| (now.since(t).millis().max(0) / 1_000) as f64);
            if let Some(at) = e.fed.due(value, now) {
                feed.push((e.id, at, value));
            }
        }
        self.feed_all(feed);
    }
}

#[cfg(test)]
#[path = "rollouts_tests.rs"]
mod tests;
