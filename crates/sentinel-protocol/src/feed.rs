//! The alert feed as the dashboard shows it: one alert firing on many
//! objects at once (a node down, thirty pods NotReady) is one line with the
//! rest folded under it, as an alert dashboard groups a storm.

use std::collections::HashMap;

use crate::model::{Severity, Timestamp};
use crate::{AlertOrigin, AlertRow, HeldBack};

impl HeldBack {
    /// "silenced by ana until 15:30 (deploy); inhibited by HighErrorRate",
    /// with times as `time` writes them. A silence not listed yet is named
    /// by its id.
    pub fn describe(&self, time: impl Fn(Timestamp) -> String) -> String {
        let mut parts: Vec<String> = self
            .silences
            .iter()
            .map(|s| {
                let mut p = if s.by.is_empty() {
                    format!("silenced by silence {}", s.id)
                } else {
                    format!("silenced by {}", s.by)
                };
                if let Some(t) = s.until {
                    p.push_str(&format!(" until {}", time(t)));
                }
                if !s.comment.is_empty() {
                    p.push_str(&format!(" ({})", s.comment));
                }
                p
            })
            .collect();
        if !self.inhibited_by.is_empty() {
            parts.push(format!("inhibited by {}", self.inhibited_by.join(", ")));
        }
        if parts.is_empty() {
            // Suppressed with neither list: an Alertmanager that does not say.
            parts.push("suppressed".into());
        }
        parts.join("; ")
    }
}

/// An alert firing on this many objects folds (two read fine as two lines).
pub const FEED_FOLD_MIN: usize = 3;

/// One line of the feed, and the alerts of the same kind folded under it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFold {
    pub first: AlertRow,
    pub more: Vec<AlertRow>,
}

impl AlertFold {
    /// What keeps a fold the same one from one refresh to the next.
    pub fn key(&self) -> String {
        let a = &self.first;
        format!(
            "{}|{}|{:?}|{}|{}",
            a.name,
            a.severity.as_str(),
            a.origin,
            a.resolved_at.is_some(),
            a.held.is_some()
        )
    }
}

/// Folds alerts of the same name, severity, origin and state (firing,
/// resolved or held back by Alertmanager) under the first of them in `rows`' order, when there are at
/// least [`FEED_FOLD_MIN`]; the others keep their lines and their order.
pub fn fold_alerts(rows: Vec<AlertRow>) -> Vec<AlertFold> {
    // Held-back alerts fold apart from firing ones of the same name.
    type Key = (String, Severity, AlertOrigin, bool, bool);
    let key = |a: &AlertRow| -> Key {
        (
            a.name.clone(),
            a.severity,
            a.origin,
            a.resolved_at.is_some(),
            a.held.is_some(),
        )
    };
    let mut count: HashMap<Key, usize> = HashMap::new();
    for a in &rows {
        *count.entry(key(a)).or_default() += 1;
    }
    let mut out: Vec<AlertFold> = Vec::with_capacity(rows.len());
    let mut at: HashMap<Key, usize> = HashMap::new();
    for a in rows {
        let k = key(&a);
        if count[&k] >= FEED_FOLD_MIN {
            if let Some(&i) = at.get(&k) {
                out[i].more.push(a);
                continue;
            }
            at.insert(k, out.len());
        }
        out.push(AlertFold {
            first: a,
            more: Vec::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::model::{Labels, Timestamp};

    use super::*;

    fn row(name: &str, pod: &str, severity: Severity) -> AlertRow {
        AlertRow {
            fingerprint: format!("{name}/{pod}"),
            name: name.into(),
            severity,
            summary: String::new(),
            description: String::new(),
            labels: Labels::new(),
            starts_at: Timestamp(0),
            source: "am".into(),
            origin: AlertOrigin::Alertmanager,
            resolved_at: None,
            mark: None,
            as_of: None,
            held: None,
        }
    }

    #[test]
    fn a_storm_of_one_alert_is_one_line_and_the_rest_keep_theirs() {
        let w = Severity::Warning;
        let mut rows = vec![row("KubeNodeNotReady", "n1", Severity::Critical)];
        rows.extend(["a", "b", "c", "d"].map(|p| row("KubePodNotReady", p, w)));
        rows.insert(2, row("HighErrorRate", "cart", w));
        rows.push(row("Watchdog", "", Severity::Info));
        rows.push(row("CPUThrottling", "x", w));
        rows.push(row("CPUThrottling", "y", w));
        let folds = fold_alerts(rows);
        let lines: Vec<(&str, &str, usize)> = folds
            .iter()
            .map(|f| {
                (
                    f.first.name.as_str(),
                    f.first.fingerprint.as_str(),
                    f.more.len(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("KubeNodeNotReady", "KubeNodeNotReady/n1", 0),
                ("KubePodNotReady", "KubePodNotReady/a", 3),
                ("HighErrorRate", "HighErrorRate/cart", 0),
                ("Watchdog", "Watchdog/", 0),
                ("CPUThrottling", "CPUThrottling/x", 0),
                ("CPUThrottling", "CPUThrottling/y", 0),
            ]
        );
        let more: Vec<&str> = folds[1]
            .more
            .iter()
            .map(|a| a.fingerprint.as_str())
            .collect();
        assert_eq!(
            more,
            [
                "KubePodNotReady/b",
                "KubePodNotReady/c",
                "KubePodNotReady/d"
            ]
        );
    }

    #[test]
    fn firing_resolved_held_and_severities_fold_apart() {
        let mut rows = Vec::new();
        for (k, sev) in [Severity::Warning, Severity::Critical]
            .into_iter()
            .enumerate()
        {
            for p in 0..3 {
                rows.push(row("PodNotReady", &format!("{k}{p}"), sev));
            }
        }
        for p in 0..3 {
            let mut r = row("PodNotReady", &format!("r{p}"), Severity::Warning);
            r.resolved_at = Some(Timestamp(1));
            rows.push(r);
        }
        for p in 0..3 {
            let mut r = row("PodNotReady", &format!("h{p}"), Severity::Warning);
            r.held = Some(crate::HeldBack::default());
            rows.push(r);
        }
        let folds = fold_alerts(rows);
        assert_eq!(
            folds.iter().map(|f| f.more.len()).collect::<Vec<_>>(),
            [2, 2, 2, 2]
        );
        let keys: std::collections::BTreeSet<String> = folds.iter().map(AlertFold::key).collect();
        assert_eq!(keys.len(), 4);
    }
}
