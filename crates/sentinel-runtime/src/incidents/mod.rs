//! The loop's side of incidents: feeds the manager what the state applies,
//! passes its updates to the notification policy, keeps the notifications to
//! show, and logs every changed incident and operator action for the history.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use sentinel_explain::incident::notify::{Notification, Notifier, NotifyConfig};
use sentinel_explain::incident::{Action, Incident, IncidentConfig, LifecycleError, Manager};
use sentinel_model::{Alert, ClusterEvent, Finding, PodState, Timestamp};
use sentinel_store::{AuditRow, IncidentRow, Record};
use serde::Serialize;

mod calls;

/// Notifications the snapshot carries (the shell shows those newer than
/// the last it showed).
const SENT_KEPT: usize = 20;

/// A notification the policy let through, numbered so a shell can tell new
/// ones from those it has shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sent {
    pub seq: u64,
    pub at: Timestamp,
    pub notification: Notification,
}

/// An operator's action on an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Acknowledge,
    Resolve,
    Reopen,
}

pub(crate) struct Incidents {
    manager: Manager,
    notifier: Notifier,
    sent: VecDeque<Sent>,
    next_seq: u64,
    view: Arc<Vec<Arc<Incident>>>,
    /// The shared copy of each incident, replaced only when it changes.
    shared: HashMap<String, Arc<Incident>>,
    changed: BTreeSet<String>,
    sent_view: Arc<Vec<Sent>>,
    dirty: bool,
    log: Option<Vec<Record>>,
    /// Active incidents that changed since their last capture.
    due: BTreeSet<String>,
    captured_at: HashMap<String, Timestamp>,
    /// Which services call which: as configured (the demo's), and as a
    /// source last read them; the topology holds both.
    configured_calls: Vec<(String, String)>,
    observed_calls: Vec<(String, String)>,
    calls: Arc<Vec<(String, String)>>,
    /// Some calls named a service without its namespace that no single
    /// namespace held, when the topology held this many workloads and
    /// Services.
    unplaced_calls: Option<usize>,
}

/// An incident's capture is refreshed at most this often.
const CAPTURE_EVERY: sentinel_model::Duration = sentinel_model::Duration::from_secs(30);

impl Incidents {
    pub fn new(cfg: IncidentConfig, notify: NotifyConfig) -> Self {
        Self {
            manager: Manager::new(cfg),
            notifier: Notifier::new(notify),
            sent: VecDeque::new(),
            next_seq: 1,
            view: Arc::default(),
            shared: HashMap::new(),
            changed: BTreeSet::new(),
            sent_view: Arc::default(),
            dirty: false,
            log: None,
            due: BTreeSet::new(),
            captured_at: HashMap::new(),
            configured_calls: Vec::new(),
            observed_calls: Vec::new(),
            calls: Arc::default(),
            unplaced_calls: None,
        }
    }

    pub fn configure(
        &mut self,
        cfg: IncidentConfig,
        notify: NotifyConfig,
        calls: Vec<(String, String)>,
    ) {
        self.manager = Manager::new(cfg);
        self.configured_calls = calls;
        self.set_calls();
        self.notifier = Notifier::new(notify);
    }

    pub fn record(&mut self) {
        self.log.get_or_insert_with(Vec::new);
    }

    pub fn take_log(&mut self, into: &mut Vec<Record>) {
        if let Some(log) = &mut self.log {
            into.append(log);
        }
    }

    pub fn pods(&mut self, pods: &[&PodState]) {
        self.manager.topology_mut().set_pods(pods.iter().copied());
        self.place_calls_again();
    }

    pub fn services(&mut self, services: &[sentinel_model::ServiceState]) {
        self.manager.topology_mut().set_services(services);
        self.place_calls_again();
    }

    pub fn findings(&mut self, findings: &[Finding]) {
        for f in findings {
            self.manager.finding(f);
        }
    }

    pub fn alerts(&mut self, at: Timestamp, alerts: &[Alert]) {
        self.manager.alerts(at, alerts);
    }

    pub fn events(&mut self, events: &[ClusterEvent]) {
        for e in events {
            self.manager.event(e);
        }
    }

    pub fn restore(&mut self, incidents: Vec<Incident>, at: Timestamp) {
        self.manager.restore(incidents, at);
        self.dirty = true;
    }

    /// Time passed: quiet incidents resolve, reminders come due.
    pub fn tick(&mut self, now: Timestamp) {
        self.manager.tick(now);
        self.settle(now);
    }

    /// Takes the manager's updates: logs changed incidents, offers them to
    /// the notification policy and keeps what it lets through.
    pub fn settle(&mut self, now: Timestamp) {
        self.settle_inner(Some(now));
    }

    /// Like `settle`, but nothing is shown yet (history replayed at start):
    /// what it opened waits for the first live data, and incidents resolved
    /// by then are never shown.
    pub fn settle_quietly(&mut self) {
        self.settle_inner(None);
    }

    fn settle_inner(&mut self, notify_at: Option<Timestamp>) {
        let updates = self.manager.take_updates();
        if !updates.is_empty() {
            self.dirty = true;
            let changed: BTreeSet<&str> = updates.iter().map(|u| u.id.as_str()).collect();
            for id in changed {
                self.changed.insert(id.to_string());
                // Captured while its problem lasts: once every member has
                // ended, the objects show the recovery (a node Ready again),
                // and a capture then would write over the evidence.
                if self
                    .manager
                    .get(id)
                    .is_some_and(|i| i.state.is_active() && i.active_members() > 0)
                {
                    self.due.insert(id.to_string());
                }
                if let Some(log) = &mut self.log
                    && let Some(inc) = self.manager.get(id)
                {
                    log.push(Record::Incident(Box::new(row(inc))));
                }
            }
            let manager = &self.manager;
            self.notifier.offer(&updates, |id| manager.get(id));
        }
        let Some(now) = notify_at else { return };
        let out = self.notifier.poll(now, self.manager.incidents());
        if !out.is_empty() {
            for notification in out {
                if self.sent.len() == SENT_KEPT {
                    self.sent.pop_front();
                }
                self.sent.push_back(Sent {
                    seq: self.next_seq,
                    at: now,
                    notification,
                });
                self.next_seq += 1;
            }
            self.sent_view = Arc::new(self.sent.iter().cloned().collect());
        }
    }

    /// Applies an operator's action and writes it to the audit log.
    pub fn act(
        &mut self,
        id: &str,
        act: Act,
        by: &str,
        note: &str,
        at: Timestamp,
    ) -> Result<Incident, LifecycleError> {
        let result = match act {
            Act::Acknowledge => self.manager.acknowledge(id, by, note, at),
            Act::Resolve => self.manager.resolve(id, by, note, at),
            Act::Reopen => self.manager.reopen(id, by, note, at),
        };
        result?;
        let action = match act {
            Act::Acknowledge => Action::Acknowledged,
            Act::Resolve => Action::Resolved,
            Act::Reopen => Action::Reopened,
        };
        self.audit(at, by, action.as_str(), id, note);
        self.settle(at);
        self.manager
            .get(id)
            .cloned()
            .ok_or_else(|| LifecycleError::NotFound(id.to_string()))
    }

    /// Writes an operator's action to the audit log (when recording).
    pub fn audit(&mut self, at: Timestamp, actor: &str, action: &str, target: &str, detail: &str) {
        if let Some(log) = &mut self.log {
            log.push(Record::Audit(AuditRow {
                at,
                actor: actor.trim().to_string(),
                action: action.to_string(),
                target: target.to_string(),
                detail: detail.trim().to_string(),
            }));
        }
    }

    /// Incidents whose capture should be refreshed now.
    pub fn capture_due(&mut self, now: Timestamp) -> Vec<String> {
        let ready: Vec<String> = self
            .due
            .iter()
            .filter(|id| {
                self.captured_at
                    .get(*id)
                    .is_none_or(|t| now.since(*t) >= CAPTURE_EVERY)
            })
            .cloned()
            .collect();
        for id in &ready {
            self.due.remove(id);
            self.captured_at.insert(id.clone(), now);
        }
        if self.captured_at.len() > 1000 {
            let manager = &self.manager;
            self.captured_at.retain(|id, _| manager.get(id).is_some());
        }
        ready
    }

    pub fn all(&self) -> &[Incident] {
        self.manager.incidents()
    }

    pub fn get(&self, id: &str) -> Option<&Incident> {
        self.manager.get(id)
    }

    pub fn topology(&self) -> &sentinel_explain::incident::Topology {
        self.manager.topology()
    }

    /// Adds what is seen now to an incident's capture.
    pub fn capture(
        &mut self,
        id: &str,
        at: Timestamp,
        objects: Vec<serde_json::Value>,
        metrics: Vec<sentinel_explain::live::CapturedSeries>,
        logs: Vec<sentinel_explain::capture::LogLine>,
    ) {
        self.manager.capture(id, at, objects, metrics, logs);
        self.changed.insert(id.to_string());
        self.dirty = true;
        if let Some(log) = &mut self.log
            && let Some(inc) = self.manager.get(id)
        {
            log.push(Record::Incident(Box::new(row(inc))));
        }
    }

    pub fn snooze(&mut self, until: Option<Timestamp>) {
        self.notifier.snooze(until);
    }

    pub fn snoozed_until(&self, now: Timestamp) -> Option<Timestamp> {
        self.notifier.snoozed_until(now)
    }

    /// Every incident the manager holds, newest first. Only incidents that
    /// changed are copied again.
    pub fn view(&mut self) -> Arc<Vec<Arc<Incident>>> {
        if self.dirty {
            for id in std::mem::take(&mut self.changed) {
                self.shared.remove(&id);
            }
            let all = self.manager.incidents();
            let v: Vec<Arc<Incident>> = all
                .iter()
                .rev()
                .map(|i| {
                    Arc::clone(
                        self.shared
                            .entry(i.id.clone())
                            .or_insert_with(|| Arc::new(i.clone())),
                    )
                })
                .collect();
            if self.shared.len() > v.len() {
                let live: std::collections::HashSet<&str> =
                    all.iter().map(|i| i.id.as_str()).collect();
                self.shared.retain(|id, _| live.contains(id.as_str()));
            }
            self.view = Arc::new(v);
            self.dirty = false;
        }
        Arc::clone(&self.view)
    }

    pub fn sent(&self) -> Arc<Vec<Sent>> {
        Arc::clone(&self.sent_view)
    }
}

/// The stored form of an incident.
pub fn row(inc: &Incident) -> IncidentRow {
    IncidentRow {
        id: inc.id.clone(),
        opened_at: inc.opened_at,
        updated_at: inc.updated_at,
        state: inc.state.as_str().to_string(),
        severity: inc.severity.as_str().to_string(),
        namespaces: inc.scope.touched.iter().cloned().collect(),
        body: serde_json::to_string(inc).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use sentinel_model::{AlertState, Duration, Labels};

    use super::*;

    fn node_down(at: Timestamp) -> Alert {
        let labels: Labels = [
            ("alertname", "KubeNodeNotReady"),
            ("severity", "critical"),
            ("node", "n1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Alert {
            fingerprint: "n1".into(),
            labels,
            annotations: Labels::new(),
            starts_at: at,
            ends_at: None,
            state: AlertState::Active,
            generator_url: String::new(),
            silenced_by: Vec::new(),
            inhibited_by: Vec::new(),
        }
    }

    #[test]
    fn an_incident_is_captured_while_its_problem_lasts_not_after() {
        let mut inc = Incidents::new(IncidentConfig::default(), NotifyConfig::default());
        let t0 = Timestamp::from_secs(1_790_000_000);
        let later = |s| t0.saturating_add(Duration::from_secs(s));
        inc.alerts(t0, &[node_down(t0)]);
        inc.settle(t0);
        assert_eq!(inc.capture_due(t0).len(), 1, "opened: captured");
        // Still down a minute on (the member changes): captured again.
        let mut changed = node_down(t0);
        changed.labels.insert("severity".into(), "warning".into());
        inc.alerts(later(60), &[changed]);
        inc.settle(later(60));
        assert_eq!(inc.capture_due(later(60)).len(), 1);
        // The node is back: the incident waits out its quiet minutes, and
        // what a capture would see now is the recovery.
        inc.alerts(later(120), &[]);
        inc.settle(later(120));
        assert!(inc.all()[0].state.is_active());
        assert_eq!(inc.capture_due(later(120)), Vec::<String>::new());
    }
}
