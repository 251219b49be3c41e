//! Acknowledging an incident silences its Alertmanager alerts.
//!
//! While an incident is acknowledged, each of its alerts that still fires
//! gets a silence matching the alert's labels exactly, with the operator as
//! its author and the ack note as its comment. The silence lasts an hour and
//! is extended while the alert keeps firing; it is expired as soon as the
//! alert resolves or the incident is resolved or reopened. Nothing here does
//! IO: [`Silencer::plan`] says what to ask Alertmanager, a task asks it
//! (`run`), and the answer comes back through the loop.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use sentinel_explain::incident::{Incident, IncidentState, MemberKind};
use sentinel_model::{Alert, Duration, Labels, Timestamp};
use sentinel_prom::{Matcher, NewSilence};
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::msg::Msg;

mod demo;
mod target;

pub use demo::DemoSilences;
pub use target::SilenceTarget;

#[derive(Debug, Clone, Copy)]
pub struct SilenceConfig {
    /// How long each silence (and each extension) lasts.
    pub length: Duration,
    /// A silence is extended when less than this remains.
    pub renew_before: Duration,
    /// After a failed request, wait this long before asking again.
    pub retry_after: Duration,
}

impl Default for SilenceConfig {
    fn default() -> Self {
        Self {
            length: Duration::from_mins(60),
            renew_before: Duration::from_mins(20),
            retry_after: Duration::from_secs(60),
        }
    }
}

/// What to ask Alertmanager.
#[derive(Debug, Clone, PartialEq)]
pub enum SilenceOp {
    /// Create (no id) or extend (id) a silence.
    Put {
        fingerprint: String,
        silence: NewSilence,
    },
    Expire {
        fingerprint: String,
        id: String,
    },
}

/// Alertmanager's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum SilenceResult {
    Put {
        fingerprint: String,
        result: Result<String, String>,
    },
    Expired {
        fingerprint: String,
        result: Result<(), String>,
    },
}

/// One alert's silence, as the incident page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilenceView {
    pub incident: String,
    pub alert: String,
    pub fingerprint: String,
    /// Alertmanager's id, once it answered.
    pub id: Option<String>,
    pub until: Option<Timestamp>,
    /// The last failure, until a request succeeds.
    pub error: Option<String>,
}

#[derive(Debug)]
struct Held {
    view: SilenceView,
    /// The end asked for in the request in flight.
    asked_until: Option<Timestamp>,
    in_flight: bool,
    retry_at: Option<Timestamp>,
}

#[derive(Debug, Default)]
pub struct Silencer {
    cfg: SilenceConfig,
    held: BTreeMap<String, Held>,
}

/// The Alertmanager fingerprint in an alert member's key
/// (`alert:<fingerprint>@<start>`).
pub fn fingerprint_of(key: &str) -> Option<&str> {
    key.strip_prefix("alert:")
        .and_then(|k| k.rsplit_once('@'))
        .map(|(fp, _)| fp)
}

fn matchers(labels: &Labels) -> Vec<Matcher> {
    labels
        .iter()
        .map(|(k, v)| Matcher::equal(k.clone(), v.clone()))
        .collect()
}

impl Silencer {
    pub fn new(cfg: SilenceConfig) -> Self {
        Self {
            cfg,
            held: BTreeMap::new(),
        }
    }

    /// The requests that bring Alertmanager in line with the incidents now.
    pub fn plan(
        &mut self,
        now: Timestamp,
        incidents: &[Incident],
        alerts: &[Alert],
    ) -> Vec<SilenceOp> {
        let mut wanted: BTreeMap<&str, (&Incident, &Alert)> = BTreeMap::new();
        let acked: Vec<&Incident> = incidents
            .iter()
            .filter(|i| i.state == IncidentState::Acknowledged)
            .collect();
        // Indexed once per plan, and only when something is acknowledged (a
        // storm brings thousands of alerts).
        let by_fp: HashMap<&str, &Alert> = if acked.is_empty() {
            HashMap::new()
        } else {
            alerts.iter().map(|a| (a.fingerprint.as_str(), a)).collect()
        };
        for i in acked {
            for m in i
                .members
                .iter()
                .filter(|m| m.kind == MemberKind::Alert && m.ended_at.is_none())
            {
                let Some(fp) = fingerprint_of(&m.key) else {
                    continue;
                };
                if let Some(a) = by_fp.get(fp) {
                    wanted.insert(fp, (i, a));
                }
            }
        }
        let mut ops = Vec::new();
        for (fp, (inc, alert)) in &wanted {
            let held = self.held.entry((*fp).to_string()).or_insert_with(|| Held {
                view: SilenceView {
                    incident: inc.id.clone(),
                    alert: alert.name().to_string(),
                    fingerprint: (*fp).to_string(),
                    id: None,
                    until: None,
                    error: None,
                },
                asked_until: None,
                in_flight: false,
                retry_at: None,
            });
            if held.in_flight || held.retry_at.is_some_and(|t| t > now) {
                continue;
            }
            let due = match (&held.view.id, held.view.until) {
                (None, _) => true,
                (Some(_), Some(until)) => until.since(now) < self.cfg.renew_before,
                (Some(_), None) => true,
            };
            if !due {
                continue;
            }
            let ack = inc.ack.as_ref();
            let by = ack.map_or("sentinel", |a| a.by.as_str());
            let note = ack.map_or("", |a| a.note.as_str());
            let comment = if note.is_empty() {
                format!("Acknowledged in Sentinel ({}): {}", inc.id, inc.title)
            } else {
                format!("Acknowledged in Sentinel ({}): {note}", inc.id)
            };
            let until = now.saturating_add(self.cfg.length);
            held.in_flight = true;
            held.asked_until = Some(until);
            ops.push(SilenceOp::Put {
                fingerprint: (*fp).to_string(),
                silence: NewSilence {
                    id: held.view.id.clone(),
                    matchers: matchers(&alert.labels),
                    starts_at: now,
                    ends_at: until,
                    created_by: by.to_string(),
                    comment,
                },
            });
        }
        let mut dropped = Vec::new();
        for (fp, held) in &mut self.held {
            if wanted.contains_key(fp.as_str()) || held.in_flight {
                continue;
            }
            match &held.view.id {
                Some(id) if held.retry_at.is_none_or(|t| t <= now) => {
                    held.in_flight = true;
                    ops.push(SilenceOp::Expire {
                        fingerprint: fp.clone(),
                        id: id.clone(),
                    });
                }
                Some(_) => {}
                None => dropped.push(fp.clone()),
            }
        }
        for fp in dropped {
            self.held.remove(&fp);
        }
        ops
    }

    /// A request could not be queued: it is asked again on the next plan.
    pub fn unsent(&mut self, op: &SilenceOp) {
        let fp = match op {
            SilenceOp::Put { fingerprint, .. } | SilenceOp::Expire { fingerprint, .. } => {
                fingerprint
            }
        };
        if let Some(h) = self.held.get_mut(fp) {
            h.in_flight = false;
        }
    }

    /// Takes Alertmanager's answer; a failure is returned for a notice.
    pub fn answer(&mut self, now: Timestamp, r: SilenceResult) -> Option<String> {
        let (fp, err) = match r {
            SilenceResult::Put {
                fingerprint,
                result,
            } => {
                let h = self.held.get_mut(&fingerprint)?;
                h.in_flight = false;
                match result {
                    Ok(id) => {
                        h.view.id = Some(id);
                        h.view.until = h.asked_until.take();
                        h.view.error = None;
                        h.retry_at = None;
                        return None;
                    }
                    Err(e) => (fingerprint, e),
                }
            }
            SilenceResult::Expired {
                fingerprint,
                result,
            } => match result {
                Ok(()) => {
                    self.held.remove(&fingerprint);
                    return None;
                }
                // Someone expired or deleted it in Alertmanager already.
                Err(e) if e.contains("not found") || e.contains("already expired") => {
                    self.held.remove(&fingerprint);
                    return None;
                }
                Err(e) => (fingerprint, e),
            },
        };
        let h = self.held.get_mut(&fp)?;
        h.in_flight = false;
        h.retry_at = Some(now.saturating_add(self.cfg.retry_after));
        h.view.error = Some(err.chars().take(300).collect());
        Some(format!(
            "Alertmanager did not take the silence for {} ({}): {err}",
            h.view.alert, h.view.incident
        ))
    }

    pub fn views(&self) -> Arc<Vec<SilenceView>> {
        Arc::new(self.held.values().map(|h| h.view.clone()).collect())
    }
}

/// Asks Alertmanager what the planner decided and reports the answers to
/// the loop; ends when either side goes away.
pub async fn run(
    am: SilenceTarget,
    clock: Arc<dyn Clock>,
    mut ops: mpsc::Receiver<SilenceOp>,
    loop_tx: mpsc::Sender<Msg>,
) {
    while let Some(op) = ops.recv().await {
        let answer = match op {
            SilenceOp::Put {
                fingerprint,
                silence,
            } => SilenceResult::Put {
                fingerprint,
                result: am.create(&silence).await,
            },
            SilenceOp::Expire { fingerprint, id } => SilenceResult::Expired {
                fingerprint,
                result: am.expire(&id, clock.now()).await,
            },
        };
        if loop_tx.send(Msg::Silence(answer)).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
