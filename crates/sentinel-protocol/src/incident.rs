//! Incidents on the wire: the filtered list, the detail page (timeline,
//! analysis with cited evidence, rule traces) and operator actions.

use serde::{Deserialize, Serialize};

use crate::Explanation;
use crate::model::{Severity, Timestamp};

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
}

/// Which incidents to list; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentQuery {
    #[serde(default)]
    pub states: Vec<IncidentState>,
    #[serde(default)]
    pub min_severity: Option<Severity>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub cluster: Option<String>,
    /// Touched at or after this time.
    #[serde(default)]
    pub since: Option<Timestamp>,
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRow {
    pub id: String,
    pub title: String,
    pub cluster: String,
    pub state: IncidentState,
    pub severity: Severity,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub namespaces: Vec<String>,
    pub members: usize,
    pub active_members: usize,
    pub acknowledged_by: Option<String>,
    /// The incident this one was folded into (it is resolved, and holds
    /// nothing of its own any more).
    #[serde(default)]
    pub merged_into: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentPage {
    pub rows: Vec<IncidentRow>,
    /// Matching incidents before the limit.
    pub total: usize,
    /// Active (open or acknowledged) incidents, whatever the filter.
    pub active: usize,
    /// For the filter menus.
    pub namespaces: Vec<String>,
    pub clusters: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRef {
    pub id: String,
}

/// One line of an incident's timeline: a member signal or a lifecycle change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: Timestamp,
    /// `finding`, `alert`, `rollout`, `restart`, `node_condition`, `event`,
    /// or a lifecycle action (`opened`, `acknowledged`, `escalated`,
    /// `resolved`, `reopened`, `merged` (others folded in), `merged_into`).
    pub kind: String,
    pub severity: Option<Severity>,
    pub subject: String,
    pub title: String,
    pub text: String,
    pub ended_at: Option<Timestamp>,
    /// For findings and alerts: what the "Why?" panel explains.
    pub fingerprint: Option<String>,
    /// For lifecycle changes: who.
    pub by: Option<String>,
}

/// A fact the analysis cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRow {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub at: Option<Timestamp>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitedSentence {
    pub text: String,
    pub cites: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CauseRow {
    pub cause: String,
    pub object: String,
    pub rule: String,
    pub score: f64,
    pub sentences: Vec<CitedSentence>,
    pub mitigation: Vec<String>,
}

/// The explainer's reading of what was captured around the onset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub onset: Timestamp,
    pub confident: bool,
    pub summary: Vec<CitedSentence>,
    pub candidates: Vec<CauseRow>,
    pub evidence: Vec<EvidenceRow>,
    pub gaps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDetail {
    pub row: IncidentRow,
    pub ack_note: Option<String>,
    pub timeline: Vec<TimelineEntry>,
    /// Members dropped from a very large incident (an alert storm).
    pub dropped: u32,
    pub analysis: Option<Analysis>,
    /// The rule trace of each finding in the incident.
    pub traces: Vec<Explanation>,
    /// Alertmanager silences the acknowledgement holds for its alerts.
    #[serde(default)]
    pub silences: Vec<SilenceRow>,
}

/// One alert silenced in Alertmanager because its incident is acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceRow {
    pub alert: String,
    /// Alertmanager's silence id, once it answered.
    pub id: Option<String>,
    pub until: Option<Timestamp>,
    /// Why Alertmanager refused, until it accepts.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentAction {
    Acknowledge,
    Resolve,
    Reopen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentActionArgs {
    pub id: String,
    pub action: IncidentAction,
    #[serde(default)]
    pub note: String,
}

/// A notification the backend raised (also shown in the app).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    pub seq: u64,
    pub at: Timestamp,
    pub incident: String,
    pub severity: Severity,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Html,
    Markdown,
}

/// Export an incident report to the app's reports folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportArgs {
    pub id: String,
    pub format: ReportFormat,
    /// Replace identifiers (emails, addresses, tokens, ids) by placeholders.
    #[serde(default)]
    pub redact: bool,
    /// More to redact: regular expressions, each match replaced whole.
    #[serde(default)]
    pub patterns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedReport {
    /// Where the report was written.
    pub path: String,
    pub bytes: u64,
    /// Distinct values replaced, when redacted.
    pub redacted: Option<usize>,
}

/// A language model's account of an incident, shown beside (never instead
/// of) the deterministic explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Narrative {
    pub text: String,
    pub model: String,
    pub endpoint: String,
    /// Evidence ids it cited that exist.
    pub cited: Vec<String>,
    /// Ids it cited that are not in the evidence.
    pub unknown_cites: Vec<String>,
    pub uncited_sentences: usize,
    /// Exactly what was sent (already scrubbed).
    pub prompt: String,
    /// Distinct identifiers scrubbed from the prompt.
    pub redacted: usize,
}

/// A capture folder to analyse offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRef {
    pub path: String,
}

/// The explainer's analysis of a capture folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseAnalysis {
    pub path: String,
    pub onset: Timestamp,
    /// Kubernetes objects and events read.
    pub objects: usize,
    pub series: usize,
    pub logs: usize,
    pub analysis: Analysis,
}
