//! What the history keeps of pods, nodes and alerts: a change when one
//! appears, changes or goes away, so replay can show them as they were.

use std::collections::HashMap;

use sentinel_model::{Alert, NodeState, PodState, Timestamp};
use sentinel_store::{ObjectChange, Record};
use serde::Serialize;

#[derive(Default)]
pub(crate) struct ObjectLog {
    pods: HashMap<String, PodState>,
    nodes: HashMap<String, NodeState>,
    alerts: HashMap<String, Alert>,
}

fn diff<'a, T: PartialEq + Serialize + Clone + 'a>(
    kind: &'static str,
    known: &mut HashMap<String, T>,
    now: impl Iterator<Item = (String, &'a T)>,
    at: Timestamp,
    out: &mut Vec<Record>,
) {
    // Unchanged objects move over; only changed ones are cloned.
    let mut old = std::mem::take(known);
    for (key, v) in now {
        match old.remove(&key) {
            Some(prev) if prev == *v => {
                known.insert(key, prev);
            }
            _ => {
                out.push(Record::Object(Box::new(ObjectChange {
                    at,
                    kind,
                    key: key.clone(),
                    body: serde_json::to_string(v).ok(),
                })));
                known.insert(key, v.clone());
            }
        }
    }
    let mut gone: Vec<String> = old.into_keys().collect();
    gone.sort();
    for key in gone {
        out.push(Record::Object(Box::new(ObjectChange {
            at,
            kind,
            key,
            body: None,
        })));
    }
}

impl ObjectLog {
    pub fn pods<'a>(
        &mut self,
        at: Timestamp,
        pods: impl Iterator<Item = &'a PodState>,
        out: &mut Vec<Record>,
    ) {
        let now = pods.map(|p| (format!("{}/{}", p.namespace, p.name), p));
        diff("pod", &mut self.pods, now, at, out);
    }

    pub fn nodes(&mut self, at: Timestamp, nodes: &[NodeState], out: &mut Vec<Record>) {
        diff(
            "node",
            &mut self.nodes,
            nodes.iter().map(|n| (n.name.clone(), n)),
            at,
            out,
        );
    }

    /// Alertmanager moves `endsAt` forward with every evaluation; that is
    /// not a change worth keeping.
    pub fn alerts(&mut self, at: Timestamp, alerts: &[Alert], out: &mut Vec<Record>) {
        let steady: Vec<Alert> = alerts
            .iter()
            .map(|a| Alert {
                ends_at: None,
                ..a.clone()
            })
            .collect();
        diff(
            "alert",
            &mut self.alerts,
            steady.iter().map(|a| (a.fingerprint.clone(), a)),
            at,
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(out: &[Record]) -> Vec<(String, bool)> {
        out.iter()
            .map(|r| match r {
                Record::Object(o) => (format!("{}:{}", o.kind, o.key), o.body.is_some()),
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn only_changes_are_logged() {
        let mut log = ObjectLog::default();
        let mut a = Alert {
            fingerprint: "f1".into(),
            labels: Default::default(),
            annotations: Default::default(),
            starts_at: Timestamp(1),
            ends_at: Some(Timestamp(100)),
            state: sentinel_model::AlertState::Active,
            generator_url: String::new(),
            silenced_by: Vec::new(),
            inhibited_by: Vec::new(),
        };
        let mut out = Vec::new();
        log.alerts(Timestamp(1), std::slice::from_ref(&a), &mut out);
        assert_eq!(bodies(&out), vec![("alert:f1".into(), true)]);
        // Alertmanager's refreshed endsAt is no change.
        out.clear();
        a.ends_at = Some(Timestamp(200));
        log.alerts(Timestamp(2), std::slice::from_ref(&a), &mut out);
        assert!(out.is_empty());
        // A new state is.
        a.state = sentinel_model::AlertState::Suppressed;
        log.alerts(Timestamp(3), std::slice::from_ref(&a), &mut out);
        assert_eq!(bodies(&out), vec![("alert:f1".into(), true)]);
        // Gone.
        out.clear();
        log.alerts(Timestamp(4), &[], &mut out);
        assert_eq!(bodies(&out), vec![("alert:f1".into(), false)]);
        out.clear();
        log.alerts(Timestamp(5), &[], &mut out);
        assert!(out.is_empty());
    }
}
