//! What readers see: an immutable picture of the state after the last
//! change, shared behind `Arc`s so a reader's clone is cheap.

use std::sync::Arc;

use sentinel_explain::incident::Incident;

use crate::incidents::Sent;

use sentinel_model::{
    Alert, ClusterEvent, Duration, Finding, NodeState, PodState, Severity, Timestamp,
};

/// `(namespace, name)`.
pub type PodKey = (String, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Demo,
    Live,
    Replay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    /// No data yet.
    Starting,
    Ok,
    /// The last update is older than two intervals.
    Stale,
    /// Polls fail and nothing arrived for five intervals.
    Down,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceStatus {
    pub name: String,
    pub kind: &'static str,
    pub interval: Duration,
    pub health: Health,
    pub last_ok: Option<Timestamp>,
    pub last_error: Option<String>,
    /// How long its last good poll took.
    pub latency: Option<Duration>,
    /// Why panels fed by this source are empty, newest diagnosis.
    pub notes: Vec<PanelNote>,
}

/// Why a dashboard panel has no data, as a source diagnosed it. `panel` is
/// a chart id (`cpu`, `memory`, `requests`, `errors`, `p95`), `pods`,
/// `nodes`, or `source` for the source as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelNote {
    pub panel: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PodView {
    pub pod: PodState,
    pub cpu_cores: Option<f64>,
    pub memory_bytes: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeView {
    pub node: NodeState,
    pub cpu_cores: Option<f64>,
    pub memory_bytes: Option<f64>,
    pub pods: usize,
}

/// The dashboard's cluster-wide series over the rolling window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterSeries {
    pub cpu_percent: Vec<(Timestamp, f64)>,
    pub memory_percent: Vec<(Timestamp, f64)>,
    pub request_rate: Vec<(Timestamp, f64)>,
    pub error_percent: Vec<(Timestamp, f64)>,
    pub p95_ms: Vec<(Timestamp, f64)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CardValues {
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    pub pods_running: usize,
    pub pods_pending: usize,
    pub pods_failed: usize,
    pub restarts_15m: u64,
    pub request_rate: Option<f64>,
    pub error_percent: Option<f64>,
}

/// A node's recent use, in percent of its capacity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeTrend {
    pub cpu_percent: Vec<(Timestamp, f64)>,
    pub memory_percent: Vec<(Timestamp, f64)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodTrend {
    pub cpu: Vec<(Timestamp, f64)>,
    pub memory: Vec<(Timestamp, f64)>,
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When this picture was taken (runtime clock).
    pub at: Timestamp,
    /// Time of the newest data in it.
    pub data_at: Option<Timestamp>,
    pub generation: u64,
    pub mode: Mode,
    pub sources: Vec<SourceStatus>,
    pub pods: Arc<Vec<PodView>>,
    pub nodes: Arc<Vec<NodeView>>,
    pub alerts: Arc<Vec<Alert>>,
    /// The Alertmanager silences that hold back some of `alerts`, as last
    /// listed.
    pub alert_silences: Arc<Vec<sentinel_model::SilenceNote>>,
    /// Newest last, bounded.
    pub events: Arc<Vec<ClusterEvent>>,
    /// Workload controllers, from the Kubernetes source (empty without one).
    pub workloads: Arc<Vec<sentinel_model::Workload>>,
    /// Services, from the Kubernetes source and the demo.
    pub services: Arc<Vec<sentinel_model::ServiceState>>,
    /// Which services call which, `(caller, callee)` as `namespace/workload`:
    /// the demo's own, and what a service mesh's metrics say.
    pub calls: Arc<Vec<(String, String)>>,
    pub series: Arc<ClusterSeries>,
    pub series_window: Duration,
    pub cards: CardValues,
    pub memory_bytes: Option<u64>,
    /// The history holds every finding and incident reported up to here.
    pub saved_through: Option<Timestamp>,
    pub notices: Arc<Vec<(Severity, String)>>,
    /// The engine's findings: firing (newest first), then recently resolved.
    pub findings: Arc<Vec<Finding>>,
    /// Incidents the manager holds (active and recently resolved), newest first.
    pub incidents: Arc<Vec<Arc<Incident>>>,
    /// The newest notifications the policy let through, oldest first.
    pub notifications: Arc<Vec<Sent>>,
    /// Notifications are snoozed until then.
    pub snoozed_until: Option<Timestamp>,
    /// Alertmanager silences held for acknowledged incidents.
    pub silences: Arc<Vec<crate::silences::SilenceView>>,
    /// Live sources are paused by the operator (during a replay).
    pub sources_paused: bool,
}

impl Snapshot {
    pub fn empty(mode: Mode, at: Timestamp) -> Self {
        Self {
            at,
            data_at: None,
            generation: 0,
            mode,
            sources: Vec::new(),
            pods: Arc::default(),
            nodes: Arc::default(),
            alerts: Arc::default(),
            alert_silences: Arc::default(),
            events: Arc::default(),
            workloads: Arc::default(),
            services: Arc::default(),
            calls: Arc::default(),
            series: Arc::default(),
            series_window: Duration::from_mins(15),
            cards: CardValues::default(),
            memory_bytes: None,
            saved_through: None,
            notices: Arc::default(),
            findings: Arc::default(),
            incidents: Arc::default(),
            notifications: Arc::default(),
            snoozed_until: None,
            silences: Arc::default(),
            sources_paused: false,
        }
    }

    pub fn finding(&self, id: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.id == id)
    }

    pub fn pod(&self, namespace: &str, name: &str) -> Option<&PodView> {
        self.pods
            .iter()
            .find(|p| p.pod.namespace == namespace && p.pod.name == name)
    }
}
