//! When to raise a desktop notification. Incident updates (opened,
//! escalated, reopened) wait in their group (a namespace, a node, or the
//! cluster); a token bucket per group, and one shared by all groups, decide
//! when a group may speak, and what waited is said in one notification.
//! Open incidents nobody acknowledged are raised again after a while; quiet
//! hours and a snooze hold back everything but what the settings let through.

use std::collections::{BTreeMap, HashMap};

use sentinel_model::{Duration, Severity, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Action, Incident, IncidentState, Update};

/// Hours without notifications, in the operator's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    /// Minutes after local midnight; the range may wrap (22:00–07:00).
    pub start_min: u16,
    pub end_min: u16,
    /// Local time minus UTC, in minutes.
    pub utc_offset_min: i16,
    /// Critical incidents still notify during quiet hours.
    pub allow_critical: bool,
}

impl QuietHours {
    pub fn contains(&self, at: Timestamp) -> bool {
        let local_ms = at.0 + i64::from(self.utc_offset_min) * 60_000;
        let minute = local_ms.div_euclid(60_000).rem_euclid(24 * 60) as u16;
        let (s, e) = (self.start_min, self.end_min);
        if s <= e {
            (s..e).contains(&minute)
        } else {
            minute >= s || minute < e
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotifyConfig {
    /// Incidents below this severity never notify.
    pub min_severity: Severity,
    /// A group may speak once per interval (after its burst).
    pub interval: Duration,
    pub burst: u32,
    /// All groups together: this many at once, then one per `global_interval`.
    pub global_burst: u32,
    pub global_interval: Duration,
    /// Raise an open, unacknowledged incident again after this long.
    pub renotify: Option<Duration>,
    pub quiet: Option<QuietHours>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            min_severity: Severity::Warning,
            interval: Duration::from_secs(30),
            burst: 1,
            global_burst: 3,
            global_interval: Duration::from_secs(10),
            renotify: Some(Duration::from_mins(15)),
            quiet: None,
        }
    }
}

/// One desktop notification; clicking it opens `incident`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub group: String,
    pub incident: String,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    /// How many incidents it speaks for.
    pub covers: usize,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
}

impl Bucket {
    fn full(burst: u32, at: Timestamp) -> Self {
        Self {
            tokens: f64::from(burst),
            at,
        }
    }

    /// Tokens there would be at `now`.
    fn level(&self, now: Timestamp, burst: u32, interval: Duration) -> f64 {
        let per_ms = 1.0 / interval.0.max(1) as f64;
        let elapsed = now.since(self.at).0.max(0) as f64;
        (self.tokens + elapsed * per_ms).min(f64::from(burst))
    }

    /// Takes a token if there is one.
    fn take(&mut self, now: Timestamp, burst: u32, interval: Duration) -> bool {
        self.tokens = self.level(now, burst, interval);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[derive(Debug, Clone)]
struct Pending {
    reason: &'static str,
    since: Timestamp,
}

#[derive(Debug, Default)]
pub struct Notifier {
    cfg: NotifyConfig,
    groups: HashMap<String, Bucket>,
    global: Option<Bucket>,
    /// Group → incident → why it waits.
    pending: BTreeMap<String, BTreeMap<String, Pending>>,
    last_sent: HashMap<String, Timestamp>,
    snoozed_until: Option<Timestamp>,
    /// Updates that would have notified but were held back or merged.
    pub suppressed: u64,
}

impl Notifier {
    pub fn new(cfg: NotifyConfig) -> Self {
        Self {
            cfg,
            ..Self::default()
        }
    }

    pub fn config(&self) -> &NotifyConfig {
        &self.cfg
    }

    pub fn set_config(&mut self, cfg: NotifyConfig) {
        self.cfg = cfg;
    }

    /// Nothing notifies until `until` (None lifts the snooze).
    pub fn snooze(&mut self, until: Option<Timestamp>) {
        self.snoozed_until = until;
    }

    pub fn snoozed_until(&self, now: Timestamp) -> Option<Timestamp> {
        self.snoozed_until.filter(|t| *t > now)
    }

    /// Takes the manager's updates; `incident` looks one up.
    pub fn offer<'a>(
        &mut self,
        updates: &[Update],
        incident: impl Fn(&str) -> Option<&'a Incident>,
    ) {
        for u in updates {
            let reason = match u.action {
                Some(Action::Opened) => "opened",
                Some(Action::Escalated) => "escalated",
                Some(Action::Reopened) => "reopened",
                _ => continue,
            };
            if u.severity < self.cfg.min_severity {
                continue;
            }
            let Some(inc) = incident(&u.id) else { continue };
            let waiting = self.pending.entry(inc.group()).or_default();
            if waiting.contains_key(&u.id) {
                self.suppressed += 1;
            }
            waiting.insert(
                u.id.clone(),
                Pending {
                    reason,
                    since: u.at,
                },
            );
        }
    }

    /// What to show now. Call it as time passes with the current incidents.
    pub fn poll(&mut self, now: Timestamp, incidents: &[Incident]) -> Vec<Notification> {
        let by_id: HashMap<&str, &Incident> =
            incidents.iter().map(|i| (i.id.as_str(), i)).collect();
        self.queue_reminders(now, incidents);
        // Resolved or acknowledged incidents no longer wait (an escalation
        // of an acknowledged one does).
        for waiting in self.pending.values_mut() {
            waiting.retain(|id, p| {
                by_id.get(id.as_str()).is_some_and(|i| match i.state {
                    IncidentState::Open => true,
                    IncidentState::Acknowledged => p.reason == "escalated",
                    IncidentState::Resolved => false,
                })
            });
        }
        let quiet = self.cfg.quiet.filter(|q| q.contains(now));
        let snoozed = self.snoozed_until(now).is_some();
        if snoozed || quiet.is_some() {
            let let_critical = !snoozed && quiet.is_some_and(|q| q.allow_critical);
            for waiting in self.pending.values_mut() {
                let before = waiting.len();
                waiting.retain(|id, _| {
                    let_critical
                        && by_id
                            .get(id.as_str())
                            .is_some_and(|i| i.severity == Severity::Critical)
                });
                self.suppressed += (before - waiting.len()) as u64;
            }
        }
        self.pending.retain(|_, w| !w.is_empty());
        // Groups that have waited longest speak first.
        let mut order: Vec<(Timestamp, String)> = self
            .pending
            .iter()
            .map(|(g, w)| (w.values().map(|p| p.since).min().unwrap_or(now), g.clone()))
            .collect();
        order.sort();
        let mut out = Vec::new();
        for (_, group) in order {
            let (burst, interval) = (self.cfg.burst, self.cfg.interval);
            let bucket = self
                .groups
                .entry(group.clone())
                .or_insert_with(|| Bucket::full(burst, now));
            if bucket.level(now, burst, interval) < 1.0 {
                continue;
            }
            let (g_burst, g_interval) = (self.cfg.global_burst, self.cfg.global_interval);
            let global = self
                .global
                .get_or_insert_with(|| Bucket::full(g_burst, now));
            if !global.take(now, g_burst, g_interval) {
                break;
            }
            bucket.take(now, burst, interval);
            let Some(waiting) = self.pending.remove(&group) else {
                continue;
            };
            let list: Vec<(&Incident, &'static str)> = waiting
                .iter()
                .filter_map(|(id, p)| by_id.get(id.as_str()).map(|i| (*i, p.reason)))
                .collect();
            if let Some(n) = compose(&group, &list) {
                self.suppressed += (list.len() - 1) as u64;
                for (i, _) in &list {
                    self.last_sent.insert(i.id.clone(), now);
                }
                out.push(n);
            }
        }
        self.last_sent
            .retain(|id, _| by_id.contains_key(id.as_str()));
        self.groups
            .retain(|_, b| now.since(b.at) < Duration::from_mins(60));
        out
    }

    /// Open incidents nobody acknowledged come back after `renotify`.
    fn queue_reminders(&mut self, now: Timestamp, incidents: &[Incident]) {
        let Some(every) = self.cfg.renotify else {
            return;
        };
        for i in incidents {
            if i.state != IncidentState::Open || i.severity < self.cfg.min_severity {
                continue;
            }
            let last = self.last_sent.get(&i.id).copied().unwrap_or(i.opened_at);
            if now.since(last) >= every {
                let waiting = self.pending.entry(i.group()).or_default();
                waiting.entry(i.id.clone()).or_insert(Pending {
                    reason: "still open, not acknowledged",
                    since: now,
                });
                // Counted as sent from now, so a held-back reminder is not
                // queued again on every poll.
                self.last_sent.insert(i.id.clone(), now);
            }
        }
    }
}

/// One notification for what waited in a group: the worst incident first.
fn compose(group: &str, list: &[(&Incident, &'static str)]) -> Option<Notification> {
    let worst = list.iter().max_by(|a, b| {
        a.0.severity
            .cmp(&b.0.severity)
            .then(a.0.updated_at.cmp(&b.0.updated_at))
    })?;
    let (inc, reason) = worst;
    let (title, body) = if list.len() == 1 {
        (
            format!("[{}] {}", inc.severity.as_str(), inc.title),
            format!("Incident {} {reason} in {group}.", inc.id),
        )
    } else {
        let mut body: Vec<String> = list
            .iter()
            .take(3)
            .map(|(i, r)| format!("{} ({r})", i.title))
            .collect();
        if list.len() > 3 {
            body.push(format!("and {} more", list.len() - 3));
        }
        (
            format!(
                "[{}] {} incidents in {group}",
                inc.severity.as_str(),
                list.len()
            ),
            body.join("; "),
        )
    };
    Some(Notification {
        group: group.to_string(),
        incident: inc.id.clone(),
        severity: inc.severity,
        title,
        body,
        covers: list.len(),
    })
}
