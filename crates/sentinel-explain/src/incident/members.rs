//! An incident's members as the manager keeps them: opening an incident,
//! a member joining (and the waiting events that then relate), seen again,
//! ended; the bounds on members and on resolved incidents; the index from
//! a member's key to its place.

use sentinel_model::{Severity, Timestamp};

use super::manager::Manager;
use super::{AUTOMATIC, Action, Incident, IncidentState, Member, Update, incident_id};

impl Manager {
    /// A member seen again: severity, end, text. In a resolved incident it
    /// may only end: a signal seen again there is the past read again (a
    /// restart's backfill finds the findings the history already holds),
    /// not news that would make a resolved incident active in all but name.
    pub(super) fn refresh(&mut self, i: usize, j: usize, m: Member, at: Timestamp) {
        let inc = &mut self.incidents[i];
        let old = &mut inc.members[j];
        let ends = old.ended_at.is_none() && m.ended_at.is_some();
        if !inc.state.is_active() && !ends {
            return;
        }
        let changed =
            old.severity != m.severity || old.ended_at != m.ended_at || old.text != m.text;
        if !changed {
            return;
        }
        old.severity = m.severity;
        old.ended_at = m.ended_at;
        old.text = m.text;
        inc.updated_at = inc.updated_at.max(at);
        self.escalate_or_update(i, m.severity, at);
    }

    pub(super) fn escalate_or_update(&mut self, i: usize, severity: Severity, at: Timestamp) {
        let inc = &mut self.incidents[i];
        if severity > inc.severity && inc.state.is_active() {
            let note = format!("{} → {}", inc.severity.as_str(), severity.as_str());
            inc.severity = severity;
            self.change(i, at, Action::Escalated, AUTOMATIC, note);
        } else {
            self.updates.push(Update {
                id: inc.id.clone(),
                at,
                action: None,
                severity: inc.severity,
            });
        }
    }

    /// Ends a member at `at`, or at its start when `at` is older (a source
    /// reading its past after a restart); `touch` counts it as activity on
    /// the incident.
    pub(super) fn end(&mut self, key: &str, at: Timestamp, touch: bool) {
        if let Some(&(i, j)) = self.member_of.get(key) {
            let inc = &mut self.incidents[i];
            if inc.members[j].ended_at.is_none() {
                let at = at.max(inc.members[j].at);
                inc.members[j].ended_at = Some(at);
                if touch {
                    inc.updated_at = inc.updated_at.max(at);
                }
                self.updates.push(Update {
                    id: inc.id.clone(),
                    at,
                    action: None,
                    severity: inc.severity,
                });
            }
        }
    }

    pub(super) fn open(&mut self, m: Member, at: Timestamp) {
        let id = incident_id(&m.key, m.at);
        let inc = Incident {
            id: id.clone(),
            title: format!("{} on {}", m.title, m.subject),
            cluster: self.cfg.cluster.clone(),
            state: IncidentState::Open,
            severity: m.severity,
            opened_at: m.at,
            updated_at: at.max(m.at),
            resolved_at: None,
            ack: None,
            scope: super::Scope::default(),
            members: Vec::new(),
            dropped: 0,
            changes: Vec::new(),
            capture: None,
            merged_into: None,
        };
        let i = self.incidents.len();
        self.by_id.insert(id, i);
        self.incidents.push(inc);
        let note = format!("{}: {}", m.title, m.text);
        self.change(i, m.at, Action::Opened, AUTOMATIC, note);
        self.join(i, m, at);
    }

    /// Adds a member; while that grows the scope, waiting events that relate
    /// to it (from `lookback` before the onset) join too.
    pub(super) fn join(&mut self, i: usize, m: Member, at: Timestamp) {
        let mut grew = self.add_member(i, m, at);
        while grew {
            grew = false;
            let from = self.incidents[i].onset().saturating_sub(self.cfg.lookback);
            let mut k = 0;
            while k < self.context.len() {
                let c = &self.context[k];
                if c.at >= from && self.links(&self.incidents[i], &c.subject, c.at) {
                    if let Some(m) = self.context.remove(k) {
                        grew |= self.add_member(i, m, at);
                    }
                } else {
                    k += 1;
                }
            }
        }
        self.trim_members(i);
    }

    /// Adds one member; true if the incident's scope grew.
    fn add_member(&mut self, i: usize, m: Member, at: Timestamp) -> bool {
        let severity = m.severity;
        let inc = &mut self.incidents[i];
        // An incident a cluster-wide signal opened (the cluster's CPU) is
        // named after the first signal with a place that joins it (an alert
        // on a service, a pod, a node): that says where to look.
        if m.kind.opens()
            && !m.subject.is_cluster()
            && inc
                .members
                .iter()
                .all(|x| !x.kind.opens() || x.subject.is_cluster())
        {
            inc.title = format!("{} on {}", m.title, m.subject);
        }
        let grew = inc.scope.add(&m.subject);
        inc.updated_at = inc.updated_at.max(at);
        self.member_of.insert(m.key.clone(), (i, inc.members.len()));
        inc.members.push(m);
        self.escalate_or_update(i, severity, at);
        grew
    }

    /// Keeps at most `max_members` ended members (never the first), so an
    /// alert storm cannot grow an incident without bound.
    pub(super) fn trim_members(&mut self, i: usize) {
        let cap = self.cfg.max_members;
        let inc = &mut self.incidents[i];
        let ended = inc.members.len() - inc.active_members();
        if ended <= cap + cap / 2 {
            return;
        }
        let mut excess = ended - cap;
        let mut keep = Vec::with_capacity(inc.members.len());
        for (j, m) in std::mem::take(&mut inc.members).into_iter().enumerate() {
            if j > 0 && excess > 0 && !m.is_active() {
                excess -= 1;
                inc.dropped += 1;
                continue;
            }
            keep.push(m);
        }
        inc.members = keep;
        self.reindex();
    }

    /// Drops the oldest resolved incidents beyond `keep_resolved`.
    pub(super) fn prune(&mut self) {
        let resolved = self
            .incidents
            .iter()
            .filter(|i| !i.state.is_active())
            .count();
        let cap = self.cfg.keep_resolved;
        if resolved <= cap + cap / 4 {
            return;
        }
        let mut excess = resolved - cap;
        self.incidents.retain(|i| {
            let drop = excess > 0 && !i.state.is_active();
            if drop {
                excess -= 1;
            }
            !drop
        });
        self.reindex();
    }

    pub(super) fn reindex(&mut self) {
        self.by_id.clear();
        self.member_of.clear();
        for (i, inc) in self.incidents.iter().enumerate() {
            self.by_id.insert(inc.id.clone(), i);
            for (j, m) in inc.members.iter().enumerate() {
                self.member_of.insert(m.key.clone(), (i, j));
            }
        }
    }
}
