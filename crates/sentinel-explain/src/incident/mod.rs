//! Incidents: the engine's findings, Alertmanager's alerts and the cluster's
//! events folded into one record per underlying problem, correlated by
//! topology and time, with a lifecycle (open → acknowledged → resolved →
//! reopened) and a log of every change and who made it. Pure like the rest
//! of the crate: time is an argument, and the same signals in the same order
//! give the same incidents with the same ids.

mod grouping;
mod lifecycle;
mod manager;
mod members;
mod merge;
pub mod notify;
mod subject;
mod topology;

pub use lifecycle::LifecycleError;
pub use manager::{IncidentConfig, Manager};
pub use subject::{Link, Scope, Subject};
pub use topology::{Topology, workload_of};

use sentinel_model::{Severity, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentState {
    Open,
    Acknowledged,
    Resolved,
}

impl IncidentState {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Open => "open",
            IncidentState::Acknowledged => "acknowledged",
            IncidentState::Resolved => "resolved",
        }
    }

    pub fn is_active(self) -> bool {
        self != IncidentState::Resolved
    }
}

/// What kind of signal a member is; the timeline shows each differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberKind {
    /// An engine finding (carries its id, so its rule trace can be shown).
    Finding,
    /// An Alertmanager alert.
    Alert,
    /// A rollout, rollback or scaling of a workload.
    Rollout,
    /// A container killed, restarted or backing off.
    Restart,
    /// A node condition or node event.
    NodeCondition,
    /// Any other warning event.
    Event,
}

impl MemberKind {
    /// Findings and alerts open incidents; events only join them.
    pub fn opens(self) -> bool {
        matches!(self, MemberKind::Finding | MemberKind::Alert)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MemberKind::Finding => "finding",
            MemberKind::Alert => "alert",
            MemberKind::Rollout => "rollout",
            MemberKind::Restart => "restart",
            MemberKind::NodeCondition => "node_condition",
            MemberKind::Event => "event",
        }
    }
}

/// One signal in an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Unique per signal: `finding:<id>`, `alert:<fingerprint>@<start>`,
    /// `event:<object>:<reason>@<first seen>`.
    pub key: String,
    pub kind: MemberKind,
    /// When the signal started.
    pub at: Timestamp,
    /// When it stopped (an event ends when it happens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    pub severity: Severity,
    pub subject: Subject,
    /// Rule, alert name or event reason.
    pub title: String,
    pub text: String,
    /// The engine finding behind the member, for its rule trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding_id: Option<String>,
}

impl Member {
    pub fn is_active(&self) -> bool {
        self.ended_at.is_none()
    }
}

/// A change in an incident's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Opened,
    Escalated,
    Acknowledged,
    Resolved,
    Reopened,
    /// Other incidents were folded into this one.
    Merged,
    /// This one was folded into another, and resolved.
    MergedInto,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Opened => "opened",
            Action::Escalated => "escalated",
            Action::Acknowledged => "acknowledged",
            Action::Resolved => "resolved",
            Action::Reopened => "reopened",
            Action::Merged => "merged",
            Action::MergedInto => "merged_into",
        }
    }
}

/// Who did what and when; `by` is `sentinel` for automatic changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub at: Timestamp,
    pub action: Action,
    pub by: String,
    pub note: String,
}

/// Who acknowledged an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub by: String,
    pub note: String,
    pub at: Timestamp,
}

/// The name automatic changes are made under.
pub const AUTOMATIC: &str = "sentinel";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Stable: derived from the first member and the opening time.
    pub id: String,
    pub title: String,
    pub cluster: String,
    pub state: IncidentState,
    /// The worst severity of any member, ever.
    pub severity: Severity,
    pub opened_at: Timestamp,
    /// The newest member or change.
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<Ack>,
    pub scope: Scope,
    /// In the order they joined; ended members beyond the cap are dropped
    /// (the first member never is) and counted in `dropped`.
    pub members: Vec<Member>,
    #[serde(default)]
    pub dropped: u32,
    pub changes: Vec<Change>,
    /// The objects and series around it, captured while it was active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<Box<crate::live::LiveCapture>>,
    /// The incident this one was folded into: it is resolved, and its
    /// members and capture are there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
}

impl Incident {
    pub fn active_members(&self) -> usize {
        self.members.iter().filter(|m| m.is_active()).count()
    }

    /// The onset of the incident's latest episode: its earliest opening
    /// member (a rollout may precede the alert that opened it) after the
    /// resolution it was last reopened from. A problem that comes back half
    /// an hour later is analysed around its own start; measured from the
    /// first, its cause scored as too far away to be the cause.
    pub fn onset(&self) -> Timestamp {
        let opening = |after: Option<Timestamp>| {
            self.members
                .iter()
                .filter(|m| m.kind.opens())
                .filter(|m| after.is_none_or(|r| m.at > r))
                .map(|m| m.at)
                .min()
        };
        // Resolutions it was reopened from, latest first; one reopened by
        // hand with nothing new since goes back to the episode before.
        let reopened = self
            .changes
            .iter()
            .rposition(|c| c.action == Action::Reopened)
            .unwrap_or(0);
        self.changes[..reopened]
            .iter()
            .rev()
            .filter(|c| c.action == Action::Resolved)
            .find_map(|c| opening(Some(c.at)))
            .or_else(|| opening(None))
            .unwrap_or(self.opened_at)
    }

    /// Namespaces and nodes, for filters and notification groups.
    pub fn group(&self) -> String {
        if let Some(ns) = self.scope.touched.iter().next() {
            ns.clone()
        } else if let Some(n) = self.scope.nodes.iter().next() {
            format!("node/{n}")
        } else {
            "cluster".into()
        }
    }
}

/// What happened to an incident, for notifications and persistence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    pub id: String,
    pub at: Timestamp,
    /// `None` when a member joined or changed without a lifecycle change.
    pub action: Option<Action>,
    pub severity: Severity,
}

/// A stable id: FNV-1a of the first member's key and the opening time.
pub(crate) fn incident_id(key: &str, at: Timestamp) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes().chain(at.0.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("inc-{:08x}", h >> 32)
}

#[cfg(test)]
mod tests;
