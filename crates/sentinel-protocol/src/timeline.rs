//! An incident's timeline as the page shows it: a burst of one signal (a
//! node goes down and thirty of its pods report NotReady in the same
//! minute) reads as one line, the rest folded under it, instead of thirty
//! lines that push everything else off the page.

use std::collections::HashMap;

use crate::TimelineEntry;
use crate::model::Duration;

/// Signals this close to a burst's first one join it.
pub const FOLD_WITHIN: Duration = Duration::from_secs(60);
/// A burst folds from this many signals on (two read fine as two lines).
pub const FOLD_MIN: usize = 3;

/// One line of the timeline as shown, and the signals folded under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineFold {
    pub first: TimelineEntry,
    pub more: Vec<TimelineEntry>,
}

impl TimelineFold {
    /// What keeps a fold the same one across refreshes (its first signal).
    pub fn key(&self) -> String {
        let f = &self.first;
        format!("{}|{}|{}|{}", f.kind, f.title, f.subject, f.at.millis())
    }
}

/// Fold `entries` (in time order): members of the same kind, title and
/// severity that start within [`FOLD_WITHIN`] of the first of them go under
/// it, when there are at least [`FOLD_MIN`]. Lifecycle changes (who
/// opened, acknowledged, resolved) never fold. The lines keep the order of
/// their first signals; every entry appears exactly once.
pub fn fold_timeline(entries: &[TimelineEntry]) -> Vec<TimelineFold> {
    let mut folds: Vec<TimelineFold> = Vec::with_capacity(entries.len());
    // The newest fold of each signal, by kind, title and severity.
    let mut open: HashMap<(&str, &str, Option<crate::model::Severity>), usize> = HashMap::new();
    for e in entries {
        if e.by.is_none() {
            let key = (e.kind.as_str(), e.title.as_str(), e.severity);
            if let Some(&k) = open.get(&key) {
                let f: &mut TimelineFold = &mut folds[k];
                if e.at.millis() - f.first.at.millis() <= FOLD_WITHIN.millis() {
                    f.more.push(e.clone());
                    continue;
                }
            }
            open.insert(key, folds.len());
        }
        folds.push(TimelineFold {
            first: e.clone(),
            more: Vec::new(),
        });
    }
    // Too few to fold: back to lines of their own, in time order.
    let mut out = Vec::with_capacity(folds.len());
    let mut loose = Vec::new();
    for f in folds {
        if f.more.is_empty() || f.more.len() + 1 >= FOLD_MIN {
            out.push(f);
        } else {
            loose.extend(f.more.iter().cloned().map(|first| TimelineFold {
                first,
                more: Vec::new(),
            }));
            out.push(TimelineFold {
                first: f.first,
                more: Vec::new(),
            });
        }
    }
    if !loose.is_empty() {
        out.extend(loose);
        // Stable: lines at the same instant keep their order.
        out.sort_by_key(|f| f.first.at);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::model::{Severity, Timestamp};

    use super::*;

    fn entry(at_s: i64, kind: &str, title: &str, subject: &str) -> TimelineEntry {
        TimelineEntry {
            at: Timestamp::from_secs(at_s),
            kind: kind.into(),
            severity: Some(Severity::Warning),
            subject: subject.into(),
            title: title.into(),
            text: String::new(),
            ended_at: None,
            fingerprint: None,
            by: None,
        }
    }

    fn lines(folds: &[TimelineFold]) -> Vec<(String, usize)> {
        folds
            .iter()
            .map(|f| {
                (
                    format!("{} {}", f.first.title, f.first.subject),
                    f.more.len(),
                )
            })
            .collect()
    }

    #[test]
    fn a_burst_of_one_alert_folds_under_its_first() {
        let mut opened = entry(0, "opened", "opened", "inc-1");
        opened.by = Some("sentinel".into());
        opened.severity = None;
        let mut t = vec![entry(0, "alert", "KubeNodeNotReady", "n1"), opened];
        for (k, pod) in ["a", "b", "c", "d"].iter().enumerate() {
            t.push(entry(20 + k as i64, "alert", "KubePodNotReady", pod));
        }
        t.push(entry(30, "finding", "NodeNotReady", "n1"));
        // Past the minute after the burst's first: a line of its own.
        t.push(entry(90, "alert", "KubePodNotReady", "e"));
        let folds = fold_timeline(&t);
        assert_eq!(
            lines(&folds),
            [
                ("KubeNodeNotReady n1".to_string(), 0),
                ("opened inc-1".to_string(), 0),
                ("KubePodNotReady a".to_string(), 3),
                ("NodeNotReady n1".to_string(), 0),
                ("KubePodNotReady e".to_string(), 0),
            ]
        );
        let more: Vec<&str> = folds[2].more.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(more, ["b", "c", "d"]);
        assert_eq!(
            folds.iter().map(|f| 1 + f.more.len()).sum::<usize>(),
            t.len()
        );
    }

    #[test]
    fn two_of_a_kind_stay_two_lines_in_time_order() {
        let t = vec![
            entry(0, "alert", "KubePodNotReady", "a"),
            entry(5, "finding", "PodNotReady", "a"),
            entry(10, "alert", "KubePodNotReady", "b"),
            entry(15, "finding", "PodNotReady", "b"),
        ];
        let folds = fold_timeline(&t);
        assert_eq!(
            lines(&folds),
            [
                ("KubePodNotReady a".to_string(), 0),
                ("PodNotReady a".to_string(), 0),
                ("KubePodNotReady b".to_string(), 0),
                ("PodNotReady b".to_string(), 0),
            ]
        );
    }

    #[test]
    fn severity_and_lifecycle_keep_lines_apart() {
        let mut t = Vec::new();
        for k in 0..3 {
            t.push(entry(k, "alert", "HighErrorRate", &format!("w{k}")));
        }
        for k in 0..3 {
            let mut e = entry(3 + k, "alert", "HighErrorRate", &format!("c{k}"));
            e.severity = Some(Severity::Critical);
            t.push(e);
        }
        for k in 0..3 {
            let mut e = entry(6, "acknowledged", "acknowledged", "inc-1");
            e.by = Some(format!("op{k}"));
            e.severity = None;
            t.push(e);
        }
        let folds = fold_timeline(&t);
        let sizes: Vec<usize> = folds.iter().map(|f| f.more.len()).collect();
        assert_eq!(sizes, [2, 2, 0, 0, 0]);
        assert_ne!(folds[0].key(), folds[1].key());
    }
}
