//! The History page: every incident the history file holds (not only the
//! ones in memory), and one of them written as a bundle to share.

use serde::{Deserialize, Serialize};

use crate::model::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// `open`, `acknowledged`, `resolved` (default: all).
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    /// At most this many, newest first (default 200, at most 5,000).
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredIncident {
    pub id: String,
    pub title: String,
    pub state: String,
    pub severity: String,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub rows: Vec<StoredIncident>,
    /// False when nothing is recorded (no history file).
    pub recorded: bool,
    /// Where the history is.
    pub file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRequest {
    pub id: String,
    /// Replace identifiers (and what `patterns` match) with placeholders.
    #[serde(default)]
    pub redact: bool,
    #[serde(default)]
    pub patterns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedBundle {
    pub path: String,
    pub bytes: u64,
    pub series: u64,
    pub findings: u64,
    pub events: u64,
    /// Identifiers replaced, when redacted.
    pub redacted: Option<usize>,
}

/// How long the history keeps samples, and how much disk it may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionSettings {
    /// Days of raw samples (1 to 3,650; default 7).
    pub raw_days: u32,
    /// Days of one-minute rollups (at least `raw_days`; default 90).
    pub rollup_days: u32,
    /// The most the history file may use, in MiB (at least 16; default 2,048).
    pub budget_mib: u64,
}

/// What the history file takes now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryUsage {
    pub file_bytes: u64,
    /// Pages in use (free ones are reused before the file grows).
    pub used_bytes: u64,
    /// Compressed raw samples.
    pub raw_bytes: u64,
    pub rollup_minutes: u64,
    pub oldest_raw: Option<Timestamp>,
    pub newest_raw: Option<Timestamp>,
    pub oldest_rollup: Option<Timestamp>,
    pub incidents: u64,
}

/// The retention settings with the usage they are judged against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionView {
    pub settings: RetentionSettings,
    pub usage: HistoryUsage,
    pub file: String,
}

/// A history file or bundle to open read-only and replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayRequest {
    pub path: String,
}

/// One finding as the replay reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayedFinding {
    /// The finding (one firing of a rule on a series).
    pub id: String,
    pub at: Timestamp,
    /// `firing`, `resolved`, …
    pub state: String,
    pub severity: crate::model::Severity,
    pub rule: String,
    pub summary: String,
}

/// A file replayed offline: what it holds and what the engine reported again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replayed {
    pub path: String,
    pub incidents: Vec<StoredIncident>,
    pub steps: u64,
    pub readings: u64,
    /// In order, at most [`REPLAY_FINDINGS`].
    pub findings: Vec<ReplayedFinding>,
    pub findings_total: usize,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub took_ms: u64,
    /// The dashboard's series as recorded (CPU, memory, requests, errors,
    /// p95), thinned for drawing, so a replay can be scrubbed in the UI.
    #[serde(default)]
    pub series: Vec<ReplaySeries>,
    /// Where it was recorded from: `cluster/source (kind)`.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Alerts that began firing, rollouts and incidents' changes, for the
    /// scrubber (findings are marked from `findings`).
    #[serde(default)]
    pub markers: Vec<ReplayMarker>,
}

/// Something to mark on the replay's scrubber.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayMarker {
    pub at: Timestamp,
    /// `alert`, `rollout` or `incident`.
    pub kind: String,
    pub label: String,
}

/// Markers of each kind a replay answer carries at most.
pub const REPLAY_MARKERS: u32 = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplaySeries {
    /// `cluster_cpu_percent`, `cluster_memory_percent`, `cluster_request_rate`,
    /// `cluster_error_percent`, `cluster_latency_p95_ms`.
    pub metric: String,
    pub points: Vec<crate::dto::Point>,
}

/// How many replayed findings an answer carries.
pub const REPLAY_FINDINGS: usize = 2000;

/// A moment of a history file or bundle to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayAt {
    pub path: String,
    pub at: Timestamp,
}

/// Pods, nodes, alerts and findings as they were at one moment of a
/// recording, with why each finding was firing then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayFrame {
    pub at: Timestamp,
    /// Unhealthy pods first, at most [`REPLAY_PODS`].
    pub pods: Vec<crate::PodRow>,
    pub pods_total: usize,
    pub nodes: Vec<crate::NodeRow>,
    /// Alertmanager's alerts and the engine's findings firing then.
    pub alerts: Vec<crate::AlertRow>,
    /// Why each finding was firing, as its trace stood then.
    pub explanations: Vec<crate::Explanation>,
    /// False for recordings made before pods, nodes and alerts were kept.
    pub objects_recorded: bool,
}

/// Pods a replay frame carries.
pub const REPLAY_PODS: usize = 200;

/// Replay mode: `file` is the recording on screen (`None` leaves Replay
/// mode); `pause_live` pauses live sources meanwhile instead of letting
/// them go on recording in the background.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayMode {
    pub file: Option<String>,
    #[serde(default)]
    pub pause_live: bool,
}

/// Part of the app's own history to replay: one incident (from its opening,
/// less the engine's warm-up, to its last change) or a time range.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReplayRange {
    #[serde(default)]
    pub incident: Option<String>,
    #[serde(default)]
    pub from: Option<Timestamp>,
    #[serde(default)]
    pub to: Option<Timestamp>,
}

/// A dashboard series over days, from the history: one-minute rollups where
/// raw samples aged out, raw samples where they are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendQuery {
    /// One of [`DASHBOARD_METRICS`].
    pub metric: String,
    /// How far back from the newest sample (1 to 3,650).
    pub days: u32,
}

/// One bucket of a trend: its start (ms), min, mean and max.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint(pub i64, pub f64, pub f64, pub f64);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub metric: String,
    pub from: Timestamp,
    pub to: Timestamp,
    /// Minutes per point (the span thinned to at most [`TREND_POINTS`]).
    pub bucket_minutes: u32,
    pub points: Vec<TrendPoint>,
    /// Raw samples start here; before it, the points come from rollups.
    pub raw_since: Option<Timestamp>,
}

/// Points a trend carries at most.
pub const TREND_POINTS: usize = 600;
/// The dashboard's cluster-wide series: what trends and replays chart.
pub const DASHBOARD_METRICS: [&str; 5] = [
    "cluster_cpu_percent",
    "cluster_memory_percent",
    "cluster_request_rate",
    "cluster_error_percent",
    "cluster_latency_p95_ms",
];
