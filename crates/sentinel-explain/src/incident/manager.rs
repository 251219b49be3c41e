//! The incident manager: the only writer of incidents. Signals come in as
//! they happen (findings, the current alert set, events); a signal joins the
//! newest incident it relates to by topology within the time window, reopens
//! a recently resolved one, or opens a new one. Events never open incidents:
//! they wait in a bounded ring and join when an incident about their object
//! opens (a rollout before an OOM kill).

use std::collections::{BTreeSet, HashMap, VecDeque};

use sentinel_model::{
    Alert, AlertState, ClusterEvent, Duration, EventType, Finding, Mark, RuleState, Severity,
    Timestamp,
};

use super::topology::Topology;
use super::{AUTOMATIC, Action, Incident, Member, MemberKind, Update};

/// How signals are grouped and when incidents close.
#[derive(Debug, Clone)]
pub struct IncidentConfig {
    /// The cluster name written on every incident.
    pub cluster: String,
    /// A related signal joins an active incident touched within this long.
    pub window: Duration,
    /// A cluster-wide signal (no namespace, no node) joins an incident opened
    /// within this long of it, by time alone.
    pub cluster_window: Duration,
    /// An incident with no active member resolves after this long.
    pub quiet: Duration,
    /// A related signal reopens an incident resolved within this long.
    pub reopen_window: Duration,
    /// Events this long before an incident opens join it.
    pub lookback: Duration,
    /// Ended members kept per incident (active ones are always kept).
    pub max_members: usize,
    /// Resolved incidents kept in memory (the store keeps all).
    pub keep_resolved: usize,
    /// Events waiting for an incident.
    pub max_context: usize,
    /// Once every member has stopped, a different signal still joins (as
    /// the trouble's aftermath) for this long; after it, only the same
    /// signal on the same subject does (a recurrence).
    pub aftermath: Duration,
    /// A pod joins its node's incident by that link alone only while a
    /// member on the node is active or ended at most this long before; a
    /// node joins an incident of pods on it likewise.
    pub node_grace: Duration,
    /// A signal that relates to several active incidents, each opened
    /// within this long of it, folds them into one.
    pub merge_window: Duration,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        Self {
            cluster: "default".into(),
            window: Duration::from_mins(10),
            cluster_window: Duration::from_mins(2),
            quiet: Duration::from_mins(5),
            reopen_window: Duration::from_mins(30),
            lookback: Duration::from_mins(15),
            max_members: 500,
            keep_resolved: 200,
            max_context: 1000,
            node_grace: Duration::from_mins(2),
            aftermath: Duration::from_mins(1),
            merge_window: Duration::from_mins(2),
        }
    }
}

#[derive(Debug, Default)]
pub struct Manager {
    pub(super) cfg: IncidentConfig,
    pub(super) topology: Topology,
    pub(super) incidents: Vec<Incident>,
    pub(super) by_id: HashMap<String, usize>,
    /// Member key → (incident, member) positions.
    pub(super) member_of: HashMap<String, (usize, usize)>,
    /// Signals that do not open incidents (events), waiting for one.
    pub(super) context: VecDeque<Member>,
    /// Alert member keys in the last alert set.
    alerts_active: BTreeSet<String>,
    /// Restored alert members not yet seen in an alert set since.
    alerts_restored: BTreeSet<String>,
    pub(super) updates: Vec<Update>,
}

impl Manager {
    pub fn new(cfg: IncidentConfig) -> Self {
        Self {
            cfg,
            ..Self::default()
        }
    }

    pub fn config(&self) -> &IncidentConfig {
        &self.cfg
    }

    pub fn topology_mut(&mut self) -> &mut Topology {
        &mut self.topology
    }

    /// Incidents in the order they opened.
    pub fn incidents(&self) -> &[Incident] {
        &self.incidents
    }

    pub fn get(&self, id: &str) -> Option<&Incident> {
        self.by_id.get(id).map(|&i| &self.incidents[i])
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Adds to an incident's capture what is seen of its objects now.
    pub fn capture(
        &mut self,
        id: &str,
        at: Timestamp,
        objects: Vec<serde_json::Value>,
        metrics: Vec<crate::live::CapturedSeries>,
        logs: Vec<crate::capture::LogLine>,
    ) {
        if let Some(&i) = self.by_id.get(id) {
            let onset = self.incidents[i].onset();
            let cap = self.incidents[i].capture.get_or_insert_with(Box::default);
            cap.merge(at, onset, objects, metrics, logs);
            let _ = self.calls_around(i);
        }
    }

    /// Sets the calls an incident's capture carries: those around its
    /// services, and around the workloads of the series it holds (a
    /// cluster-wide incident has no services, and takes the pods of those
    /// that slowed). True if they changed.
    fn calls_around(&mut self, i: usize) -> bool {
        let inc = &mut self.incidents[i];
        let Some(cap) = inc.capture.as_mut() else {
            return false;
        };
        let mut services = inc.scope.services.clone();
        services.extend(cap.metrics.iter().filter_map(|s| {
            let workload = s.labels.get("workload")?;
            Some(format!("{}/{workload}", s.labels.get("namespace")?))
        }));
        let calls = self.topology.calls_touching(&services);
        let changed = calls != cap.calls;
        cap.calls = calls;
        changed
    }

    /// Sets which services call which, and the calls the captures of
    /// active incidents carry; returns the ids of those whose calls changed.
    pub fn set_calls(&mut self, calls: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
        self.topology.set_calls(calls);
        let mut changed = Vec::new();
        for i in 0..self.incidents.len() {
            if self.incidents[i].state.is_active() && self.calls_around(i) {
                changed.push(self.incidents[i].id.clone());
            }
        }
        changed
    }

    /// Takes back incidents saved earlier (active ones keep collecting;
    /// recently resolved ones are listed again, can be reopened, and know
    /// their members when a backfill reads them again), at `at`, when the
    /// app started again. Their findings end then: the
    /// engine that raised them is gone, and a condition that still holds
    /// fires again in the new one, as a new member. Their alerts are
    /// expected in the next alert set, and end if they are not in it. Without
    /// that, an incident that was active at shutdown would never resolve.
    pub fn restore(&mut self, mut incidents: Vec<Incident>, at: Timestamp) {
        // Resolved ones only of this cluster: the list is this cluster's
        // (an active one of another, the demo's, resolves here as before).
        incidents.retain(|i| {
            !self.by_id.contains_key(&i.id)
                && (i.state.is_active() || i.cluster == self.cfg.cluster)
        });
        for inc in &mut incidents {
            let mut ended = false;
            for m in inc.members.iter_mut().filter(|m| m.is_active()) {
                match m.kind {
                    MemberKind::Finding => {
                        m.ended_at = Some(at.max(m.at));
                        ended = true;
                    }
                    MemberKind::Alert => {
                        self.alerts_active.insert(m.key.clone());
                        self.alerts_restored.insert(m.key.clone());
                    }
                    _ => {}
                }
            }
            // Not a touch: `updated_at` stays the last signal's time, so a
            // restart does not make restored incidents the newest.
            if ended {
                self.updates.push(Update {
                    id: inc.id.clone(),
                    at,
                    action: None,
                    severity: inc.severity,
                });
            }
        }
        self.incidents.extend(incidents);
        self.incidents
            .sort_by(|a, b| a.opened_at.cmp(&b.opened_at).then(a.id.cmp(&b.id)));
        self.reindex();
        self.prune();
    }

    /// What changed since the last call, in order.
    pub fn take_updates(&mut self) -> Vec<Update> {
        std::mem::take(&mut self.updates)
    }

    /// A finding the engine reported (fired, escalated or resolved).
    pub fn finding(&mut self, f: &Finding) {
        if f.severity < Severity::Warning || f.state == RuleState::Pending {
            return;
        }
        let false_positive = f.mark().is_some_and(|m| m.mark == Mark::FalsePositive);
        let ended = f
            .resolved_at
            .or_else(|| false_positive.then(|| f.reported_at()));
        let member = Member {
            key: format!("finding:{}", f.id),
            kind: MemberKind::Finding,
            at: f.fired_at,
            ended_at: ended,
            severity: f.severity,
            subject: self.topology.of_labels(&f.series.labels),
            title: f.rule.clone(),
            text: f.summary.clone(),
            finding_id: Some(f.id.clone()),
        };
        self.signal(member, f.reported_at());
    }

    /// The complete set of alerts at `at`: new ones join or open incidents,
    /// ones that are gone end. Info alerts (a watchdog) are not incidents.
    pub fn alerts(&mut self, at: Timestamp, alerts: &[Alert]) {
        let mut now_active = BTreeSet::new();
        // In the order they began, whatever order the source lists them in:
        // alerts found already firing (at start, after a gap) open their
        // incident with the one that began it.
        let mut in_order: Vec<&Alert> = alerts.iter().collect();
        in_order.sort_by_key(|a| a.starts_at);
        for a in in_order {
            let severity = a.severity();
            if severity < Severity::Warning {
                continue;
            }
            let key = format!("alert:{}@{}", a.fingerprint, a.starts_at.0);
            // A silenced alert stays in its incident but opens none.
            if a.state != AlertState::Active && !self.member_of.contains_key(&key) {
                continue;
            }
            let text = a
                .annotations
                .get("description")
                .filter(|d| !d.is_empty())
                .map_or_else(|| a.summary().to_string(), Clone::clone);
            let member = Member {
                key: key.clone(),
                kind: MemberKind::Alert,
                at: a.starts_at,
                ended_at: None,
                severity,
                subject: self.topology.of_labels(&a.labels),
                title: a.name().to_string(),
                text,
                finding_id: None,
            };
            self.signal(member, at);
            now_active.insert(key);
        }
        let gone: Vec<String> = self
            .alerts_active
            .difference(&now_active)
            .cloned()
            .collect();
        for key in gone {
            // One that stopped while the app was down: that is no news, so
            // it does not touch its incident.
            let touch = !self.alerts_restored.remove(&key);
            self.end(&key, at, touch);
        }
        self.alerts_restored.retain(|k| !now_active.contains(k));
        self.alerts_active = now_active;
    }

    /// A cluster event: rollouts, restarts, node conditions and warnings are
    /// kept; other normal events are noise.
    pub fn event(&mut self, e: &ClusterEvent) {
        let Some(kind) = event_kind(e) else { return };
        let o = &e.involved_object;
        let object = match &o.namespace {
            Some(ns) => format!("{}/{ns}/{}", o.kind, o.name),
            None => format!("{}/{}", o.kind, o.name),
        };
        let member = Member {
            key: format!("event:{object}:{}@{}", e.reason, e.first_timestamp.0),
            kind,
            at: e.first_timestamp,
            ended_at: Some(e.last_timestamp),
            severity: Severity::Info,
            subject: self.topology.of_object(o),
            title: e.reason.clone(),
            text: if e.count > 1 {
                format!("{} (×{})", e.message, e.count)
            } else {
                e.message.clone()
            },
            finding_id: None,
        };
        self.signal(member, e.last_timestamp);
    }

    /// Time passed: quiet incidents resolve, old context and old incidents go.
    pub fn tick(&mut self, now: Timestamp) {
        for i in 0..self.incidents.len() {
            let inc = &self.incidents[i];
            if !inc.state.is_active() || inc.active_members() > 0 {
                continue;
            }
            let last_end = inc
                .members
                .iter()
                .filter_map(|m| m.ended_at)
                .max()
                .unwrap_or(inc.updated_at);
            // Reopened by hand with every member long stopped: the quiet
            // counts from the reopening, or it would resolve at once.
            let reopened = inc
                .changes
                .iter()
                .rev()
                .find(|c| c.action == Action::Reopened)
                .map(|c| c.at);
            let quiet_since = reopened.map_or(last_end, |r| r.max(last_end));
            if now.since(quiet_since) >= self.cfg.quiet {
                let note = format!("every member stopped; quiet for {}", self.cfg.quiet.human());
                self.change(i, now, Action::Resolved, AUTOMATIC, note);
            }
        }
        let horizon = now.saturating_sub(self.cfg.lookback);
        while self.context.front().is_some_and(|m| m.at < horizon) {
            self.context.pop_front();
        }
        self.prune();
    }

    fn signal(&mut self, m: Member, at: Timestamp) {
        if let Some(&(i, j)) = self.member_of.get(&m.key) {
            self.refresh(i, j, m, at);
            return;
        }
        let mut linked = Vec::new();
        if !m.kind.opens() {
            match self.related(&m, false, &mut linked) {
                Some(i) => self.join(i, m, at),
                None => {
                    if self.context.len() == self.cfg.max_context {
                        self.context.pop_front();
                    }
                    self.context.push_back(m);
                }
            }
            return;
        }
        if m.ended_at.is_some() {
            // Reported already over (a resolved finding never seen firing).
            return;
        }
        match self.related(&m, true, &mut linked) {
            Some(i) => {
                let i = if self.incidents[i].state.is_active() {
                    self.merge_tied(i, &m, &linked, at)
                } else {
                    let note = format!("{} on {}", m.title, m.subject);
                    self.change(i, at, Action::Reopened, AUTOMATIC, note);
                    i
                };
                self.join(i, m, at);
            }
            None => self.open(m, at),
        }
    }
}

/// Which events matter to incidents, and as what.
fn event_kind(e: &ClusterEvent) -> Option<MemberKind> {
    let r = e.reason.as_str();
    Some(match r {
        "ScalingReplicaSet" | "DeploymentRollback" | "SuccessfulRescale" | "Rollout" => {
            MemberKind::Rollout
        }
        "Killing" | "BackOff" | "OOMKilling" | "Evicted" | "Preempting" => MemberKind::Restart,
        _ if e.involved_object.kind == "Node" || r.starts_with("Node") => MemberKind::NodeCondition,
        _ if e.kind == EventType::Warning => MemberKind::Event,
        _ => return None,
    })
}
