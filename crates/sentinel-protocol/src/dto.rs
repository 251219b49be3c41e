//! Data the UI receives: already filtered, sorted, paged and downsampled by
//! the backend, so the UI holds only what is on screen.

use serde::{Deserialize, Serialize};

use sentinel_model::{Labels, Mark, RuleTrace, Severity, Timestamp};

use crate::PodPage;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoArgs {}

/// A point of a chart: `[unix millis, value]` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point(pub i64, pub f64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    Demo,
    Live,
    Replay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Starting,
    Ok,
    Stale,
    Down,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceHealth {
    pub name: String,
    pub kind: String,
    pub health: Health,
    pub last_update: Option<Timestamp>,
    /// Age of the last update when this was computed, in milliseconds.
    pub age_ms: Option<i64>,
    pub message: Option<String>,
}

/// Something the operator should know about the app itself (a corrupt
/// settings file, an unwritable data dir, no tray host).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub level: Severity,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusBar {
    pub mode: Mode,
    pub sources: Vec<SourceHealth>,
    /// Resident memory of the app: backend plus webview processes.
    pub memory_bytes: Option<u64>,
    pub notices: Vec<Notice>,
    pub notifications_paused_until: Option<Timestamp>,
    /// The history holds every finding and incident reported up to here.
    #[serde(default)]
    pub history_saved_at: Option<Timestamp>,
    /// Live sources are paused by the operator (during a replay).
    #[serde(default)]
    pub sources_paused: bool,
    /// The recording being replayed, while the app is in Replay mode.
    #[serde(default)]
    pub replaying: Option<String>,
}

/// The worst thing the tray icon must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrayLevel {
    Ok,
    Warning,
    Critical,
    Stale,
}

/// The metric cards. `None` means "not known yet" and renders as a dash.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cards {
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    pub pods_running: usize,
    pub pods_pending: usize,
    pub pods_failed: usize,
    pub restarts_15m: u64,
    pub request_rate: Option<f64>,
    pub error_rate_percent: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Percent,
    PerSecond,
    Milliseconds,
    Cores,
    Bytes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub unit: Unit,
    /// The window the chart spans, ending at the overview's `at`.
    pub window_ms: i64,
    pub points: Vec<Point>,
    /// Why there are no points, when a source could tell (a target down, a
    /// metric absent): shown instead of an empty chart.
    #[serde(default)]
    pub empty_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    pub name: String,
    pub ready: bool,
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    /// Abnormal conditions, e.g. `Ready=False (NodeStatusUnknown)`.
    pub problems: Vec<String>,
    pub pods: usize,
    /// Marked unschedulable (`kubectl cordon`): no new pods land on it.
    #[serde(default)]
    pub cordoned: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRow {
    pub fingerprint: String,
    pub name: String,
    pub severity: Severity,
    pub summary: String,
    pub description: String,
    pub labels: Labels,
    pub starts_at: Timestamp,
    pub source: String,
    /// Who raised it: Alertmanager, or Sentinel's own engine.
    pub origin: AlertOrigin,
    /// Set once an engine finding has resolved (it stays in the feed a while).
    pub resolved_at: Option<Timestamp>,
    pub mark: Option<Mark>,
    /// Set while the source that reported it is not answering: the alert is
    /// as that source last reported it, at this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<Timestamp>,
    /// Set while Alertmanager holds it back: it reaches no receiver, and
    /// it is not counted as firing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<HeldBack>,
}

/// What holds an alert back in Alertmanager.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HeldBack {
    /// The silences matching it. One Alertmanager has not listed (yet) has
    /// only its id.
    pub silences: Vec<HoldingSilence>,
    /// The alerts that inhibit it: their names, or their fingerprints when
    /// they are not in the feed.
    pub inhibited_by: Vec<String>,
}

/// A silence holding an alert back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldingSilence {
    pub id: String,
    pub until: Option<Timestamp>,
    pub by: String,
    pub comment: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertOrigin {
    Alertmanager,
    Engine,
}

/// Which alert or finding to explain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRef {
    pub fingerprint: String,
    /// When the alert started (Alertmanager's `startsAt`): an alert that
    /// fired more than once under one fingerprint is explained as it was
    /// then. Findings have one id per firing and ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
}

impl AlertRef {
    pub fn new(fingerprint: impl Into<String>) -> Self {
        Self {
            fingerprint: fingerprint.into(),
            since: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkArgs {
    pub fingerprint: String,
    pub mark: Mark,
}

/// "Why this alert?": the trace as readable steps, and what the chart needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub fingerprint: String,
    pub title: String,
    pub origin: AlertOrigin,
    pub severity: Severity,
    /// `firing`, `resolved`, or Alertmanager's state.
    pub state: String,
    pub steps: Vec<String>,
    /// The full trace, for engine findings.
    pub trace: Option<RuleTrace>,
    pub mark: Option<Mark>,
    /// Read back from the history: the app no longer holds it (it keeps
    /// only the newest resolved findings, and only live alerts), so it is
    /// shown as last recorded. A finding can still be marked: the verdict
    /// goes to the history.
    #[serde(default)]
    pub from_history: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub at: Timestamp,
    pub status: StatusBar,
    pub tray: TrayLevel,
    pub cards: Cards,
    pub charts: Vec<Chart>,
    pub nodes: Vec<NodeRow>,
    /// The newest firing alerts (at most [`OVERVIEW_ALERTS`]).
    pub alerts: Vec<AlertRow>,
    /// Firing alerts and findings, less those Alertmanager holds back.
    pub alerts_total: usize,
    /// Alerts Alertmanager holds back (silenced or inhibited); they are
    /// not among `alerts`.
    #[serde(default)]
    pub alerts_held: usize,
    /// Open or acknowledged incidents.
    #[serde(default)]
    pub active_incidents: usize,
    pub pods_total: usize,
    pub namespaces: Vec<String>,
    /// The cluster this overview is of.
    #[serde(default)]
    pub cluster: String,
    /// Every cluster the app watches (one unless several are configured).
    #[serde(default)]
    pub clusters: Vec<crate::fleet::ClusterSummary>,
    /// Set while Alertmanager is not answering: the alerts shown are its
    /// last report.
    #[serde(default)]
    pub alertmanager_silent: Option<SilentAlertmanager>,
}

/// Alertmanager is not answering (stale or down).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilentAlertmanager {
    /// Its last answer; `None` when it has not answered yet.
    pub since: Option<Timestamp>,
}

/// How many alerts an overview carries; the rest come through [`crate::ListAlerts`].
pub const OVERVIEW_ALERTS: usize = 100;
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertQuery {
    #[serde(default)]
    pub min_severity: Option<Severity>,
    #[serde(default)]
    pub limit: Option<usize>,
    /// Terms every row must match (see `sentinel_service::AlertFilter`):
    /// `label=value`, `label!=value`, `label=~regex`, `label!~regex`, or a
    /// word found in its name, summary or a label's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Also the alerts Alertmanager holds back (silenced or inhibited).
    #[serde(default)]
    pub held: bool,
}

/// A silence to set on one Alertmanager alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceArgs {
    pub fingerprint: String,
    /// How long, from now: at most [`MAX_SILENCE_MINUTES`].
    pub minutes: u32,
    /// Why; Alertmanager requires one.
    pub comment: String,
    /// The alert's labels the silence matches, each equal to the alert's
    /// value; empty: all of them (this alert alone). Fewer labels silence
    /// the alerts that share them (every pod of a node).
    #[serde(default)]
    pub labels: Vec<String>,
}

/// A silence set from the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceSet {
    pub silence: HoldingSilence,
    /// Its matchers, `name="value"`.
    pub matchers: Vec<String>,
    /// How many of the alerts Alertmanager reports now it matches.
    pub matching: usize,
}

/// The longest silence set from the feed: a week.
pub const MAX_SILENCE_MINUTES: u32 = 7 * 24 * 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceRef {
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseArgs {
    /// Minutes to pause for; zero resumes now.
    pub minutes: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationState {
    pub paused_until: Option<Timestamp>,
}

/// What the backend pushes to subscribers, one value per message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)]
pub enum Update {
    /// The dashboard after a poll.
    Overview(Overview),
    /// A snapshot of pods for subscribers that asked for one.
    Pods(PodPage),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_is_a_pair_on_the_wire() {
        assert_eq!(serde_json::to_string(&Point(5, 1.5)).unwrap(), "[5,1.5]");
    }
}
