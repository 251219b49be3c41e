//! Alerts the demo cluster raises, in Alertmanager's shape, with Prometheus
//! `for` semantics: a condition must hold for the rule's duration before the
//! alert fires, and the alert disappears when the condition clears.

use std::collections::BTreeMap;

use sentinel_model::{Alert, AlertState, Duration, Labels, Timestamp};

use crate::rng::fnv1a;

/// A condition observed in one step, before `for` is applied.
#[derive(Debug, Clone)]
pub struct Firing {
    pub alertname: &'static str,
    pub severity: &'static str,
    pub for_: Duration,
    pub labels: Vec<(&'static str, String)>,
    pub summary: String,
    pub description: String,
}

#[derive(Debug, Clone)]
struct Entry {
    alert: Alert,
    active_since: Timestamp,
    for_: Duration,
}

/// Tracks pending and firing alerts across steps.
#[derive(Debug, Default, Clone)]
pub struct AlertBook {
    entries: BTreeMap<String, Entry>,
}

impl AlertBook {
    /// Applies this step's conditions and returns the firing alerts, newest first.
    pub fn update(&mut self, now: Timestamp, firing: Vec<Firing>) -> Vec<Alert> {
        let mut seen = BTreeMap::new();
        for f in firing {
            let mut labels = Labels::new();
            labels.insert("alertname".into(), f.alertname.into());
            labels.insert("severity".into(), f.severity.into());
            labels.insert("cluster".into(), "demo".into());
            for (k, v) in f.labels {
                labels.insert(k.into(), v);
            }
            let fingerprint = fingerprint(&labels);
            let mut annotations = Labels::new();
            annotations.insert("summary".into(), f.summary);
            annotations.insert("description".into(), f.description);
            let entry = self.entries.remove(&fingerprint).unwrap_or_else(|| Entry {
                alert: Alert {
                    fingerprint: fingerprint.clone(),
                    labels,
                    annotations: Labels::new(),
                    starts_at: now,
                    ends_at: None,
                    state: AlertState::Active,
                    generator_url: format!("sentinel://demo/rules/{}", f.alertname),
                    silenced_by: Vec::new(),
                    inhibited_by: Vec::new(),
                },
                active_since: now,
                for_: f.for_,
            });
            let mut entry = entry;
            entry.alert.annotations = annotations;
            seen.insert(fingerprint, entry);
        }
        self.entries = seen;
        let mut out: Vec<Alert> = self
            .entries
            .values_mut()
            .filter(|e| now.since(e.active_since) >= e.for_)
            .map(|e| {
                e.alert.starts_at = e.active_since.saturating_add(e.for_);
                e.alert.clone()
            })
            .collect();
        out.sort_by(|a, b| {
            b.starts_at
                .cmp(&a.starts_at)
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        });
        out
    }
}

/// A stable fingerprint of a label set, 16 hex digits like Alertmanager's.
fn fingerprint(labels: &Labels) -> String {
    let mut buf = Vec::new();
    for (k, v) in labels {
        buf.extend_from_slice(k.as_bytes());
        buf.push(0xff);
        buf.extend_from_slice(v.as_bytes());
        buf.push(0xff);
    }
    format!("{:016x}", fnv1a(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond() -> Firing {
        Firing {
            alertname: "KubeNodeNotReady",
            severity: "critical",
            for_: Duration::from_secs(30),
            labels: vec![("node", "n1".into())],
            summary: "Node n1 is not ready".into(),
            description: String::new(),
        }
    }

    #[test]
    fn for_duration_delays_firing_and_clearing_resets_it() {
        let mut book = AlertBook::default();
        assert!(book.update(Timestamp(0), vec![cond()]).is_empty());
        assert!(book.update(Timestamp(29_000), vec![cond()]).is_empty());
        let fired = book.update(Timestamp(30_000), vec![cond()]);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].starts_at, Timestamp(30_000));
        assert_eq!(fired[0].labels["cluster"], "demo");
        assert!(book.update(Timestamp(31_000), vec![]).is_empty());
        // The condition broke: `for` starts over.
        assert!(book.update(Timestamp(32_000), vec![cond()]).is_empty());
    }
}
