//! The backend's current state, owned by the message loop alone. Applying a
//! batch is synchronous and does no IO; publishing builds a [`Snapshot`](crate::Snapshot).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::mpsc;

use sentinel_model::{Alert, ClusterEvent, Duration, NodeState, NodeUsage, Severity, Timestamp};

use crate::detection::Detection;
use crate::incidents::Incidents;
use crate::series::Rolling;
use crate::silences::{SilenceOp, SilenceResult, Silencer};
use crate::snapshot::{Mode, PodKey, PodView, SourceStatus};
use crate::source::SourceId;

mod apply;
mod pods;
mod trend;
mod view;

use pods::PodSide;

const EVENTS_KEPT: usize = 1000;
const LOGS_KEPT: usize = 2000;

pub struct State {
    mode: Mode,
    window: Duration,
    trend_capacity: usize,
    generation: u64,
    data_at: Option<Timestamp>,
    /// Sources still feeding their start-up backfill (the past).
    backfilling: BTreeSet<SourceId>,
    /// The pods and nodes listed hold as of this later step: their
    /// readiness and their record wait for it (see `Batch::objects_at`).
    objects_due: Option<Timestamp>,
    sources: Vec<SourceStatus>,
    pods: Arc<Vec<PodView>>,
    pod_index: HashMap<PodKey, usize>,
    side: Vec<PodSide>,
    nodes: Vec<NodeState>,
    node_usage: HashMap<String, NodeUsage>,
    /// Recent CPU and memory use of each node (fractions of its capacity),
    /// for incident captures and the node's detail.
    node_trend: HashMap<String, VecDeque<(Timestamp, f32, f32)>>,
    /// When the pods' and the nodes' trend points open.
    pod_slots: trend::Slots,
    node_slots: trend::Slots,
    alerts: Arc<Vec<Alert>>,
    /// The silences holding back some of the alerts.
    alert_silences: Arc<Vec<sentinel_model::SilenceNote>>,
    events: VecDeque<ClusterEvent>,
    workloads: Arc<Vec<sentinel_model::Workload>>,
    services: Arc<Vec<sentinel_model::ServiceState>>,
    /// Recent container log lines worth keeping, for incident captures.
    logs: VecDeque<sentinel_explain::capture::LogLine>,
    restart_log: VecDeque<(Timestamp, u64)>,
    counters_at: Option<Timestamp>,
    cpu: Rolling,
    memory: Rolling,
    request_rate: Rolling,
    error_percent: Rolling,
    p95_ms: Rolling,
    memory_bytes: Option<u64>,
    saved_through: Option<Timestamp>,
    notices: Arc<Vec<(Severity, String)>>,
    /// The current notice of each topic.
    notice_topics: HashMap<&'static str, String>,
    detection: Detection,
    /// Pods, nodes and alerts as last logged for the history.
    objects: crate::objects::ObjectLog,
    /// The cluster this runtime watches, as the history names it.
    cluster: String,
    /// Live sources were paused then (and are still).
    paused_at: Option<Timestamp>,
    /// Live sources were last let go on then.
    resumed_at: Option<Timestamp>,
    incidents: Incidents,
    /// Silences for acknowledged incidents, when an Alertmanager is known.
    silencer: Option<(Silencer, mpsc::Sender<SilenceOp>)>,
}

impl State {
    pub fn new(
        mode: Mode,
        window: Duration,
        sources: Vec<SourceStatus>,
        rules: sentinel_detect::RuleFile,
    ) -> Self {
        Self {
            detection: Detection::new(rules),
            objects: crate::objects::ObjectLog::default(),
            cluster: String::new(),
            paused_at: None,
            resumed_at: None,
            incidents: Incidents::new(
                sentinel_explain::incident::IncidentConfig::default(),
                sentinel_explain::incident::notify::NotifyConfig::default(),
            ),
            silencer: None,
            mode,
            window,
            trend_capacity: 450,
            generation: 0,
            data_at: None,
            backfilling: BTreeSet::new(),
            objects_due: None,
            sources,
            pods: Arc::default(),
            pod_index: HashMap::new(),
            side: Vec::new(),
            nodes: Vec::new(),
            node_usage: HashMap::new(),
            node_trend: HashMap::new(),
            pod_slots: trend::Slots::default(),
            node_slots: trend::Slots::default(),
            alerts: Arc::default(),
            alert_silences: Arc::default(),
            events: VecDeque::new(),
            workloads: Arc::default(),
            services: Arc::default(),
            logs: VecDeque::new(),
            restart_log: VecDeque::new(),
            counters_at: None,
            cpu: Rolling::new(window),
            memory: Rolling::new(window),
            request_rate: Rolling::new(window),
            error_percent: Rolling::new(window),
            p95_ms: Rolling::new(window),
            memory_bytes: None,
            saved_through: None,
            notices: Arc::default(),
            notice_topics: HashMap::new(),
        }
    }

    pub fn add_notice(&mut self, level: Severity, message: String) {
        if !self.notices.iter().any(|(_, m)| *m == message) {
            Arc::make_mut(&mut self.notices).push((level, message));
        }
    }

    /// A notice that replaces the previous notice of its topic.
    pub fn topic_notice(&mut self, topic: &'static str, level: Severity, message: String) {
        if let Some(old) = self.notice_topics.insert(topic, message.clone())
            && old != message
        {
            Arc::make_mut(&mut self.notices).retain(|(_, m)| *m != old);
        }
        self.add_notice(level, message);
    }

    pub fn set_memory(&mut self, bytes: Option<u64>) {
        self.memory_bytes = bytes;
    }

    /// The writer committed everything logged up to `through`.
    pub fn saved(&mut self, through: Timestamp) {
        self.saved_through = Some(self.saved_through.map_or(through, |t| t.max(through)));
    }

    pub fn source_failed(&mut self, source: SourceId, at: Timestamp, error: String) {
        self.backfilling.remove(&source);
        if let Some(s) = self.sources.get_mut(source) {
            s.last_error = Some(error);
            let name = s.name.clone();
            self.detection.observe("up", &[("source", &name)], at, 0.0);
            self.detection.fed(at);
        }
    }

    /// Log the engine's input and findings for the history from now on.
    pub fn record(&mut self, at: Timestamp) {
        self.detection.record(at);
        self.incidents.record();
    }

    /// What the engine was fed and reported, and the incidents and operator
    /// actions, since the last call.
    pub fn take_log(&mut self) -> Vec<sentinel_store::Record> {
        let mut log = self.detection.take_log();
        self.incidents.take_log(&mut log);
        log
    }

    /// Time passed: absence rules may fire, quiet incidents resolve.
    pub fn tick(&mut self, now: Timestamp) {
        // Until live data arrives, silence means "still starting", not "gone".
        // While a source feeds its backfill, its series' newest readings are
        // minutes old: the silence the absence rules would measure on the
        // wall clock is the backfill's lag (a source "absent" at every
        // start, resolved a moment later at a time before it fired).
        if self.data_at.is_some() && self.backfilling.is_empty() {
            self.detection.lasting(now);
            self.detection.tick(now);
            let reported = self.detection.take_reported();
            self.incidents.findings(&reported);
        }
        self.incidents.tick(now);
        self.capture_incidents(now);
        self.plan_silences(now);
    }

    pub fn silence_with(&mut self, silencer: Silencer, ops: mpsc::Sender<SilenceOp>) {
        self.silencer = Some((silencer, ops));
    }

    /// Asks Alertmanager for the silences acknowledged incidents need now.
    pub fn plan_silences(&mut self, now: Timestamp) {
        let Some((silencer, ops)) = &mut self.silencer else {
            return;
        };
        for op in silencer.plan(now, self.incidents.all(), &self.alerts) {
            if ops.try_send(op.clone()).is_err() {
                silencer.unsent(&op);
            }
        }
    }

    pub fn silence_answer(&mut self, now: Timestamp, answer: SilenceResult) {
        let failed = self
            .silencer
            .as_mut()
            .and_then(|(s, _)| s.answer(now, answer));
        if let Some(message) = failed {
            tracing::warn!(error = %message, "silence request failed");
            self.add_notice(Severity::Warning, message);
        }
    }

    pub fn incidents_mut(&mut self) -> &mut Incidents {
        &mut self.incidents
    }

    pub(crate) fn incidents_ref(&self) -> &Incidents {
        &self.incidents
    }

    pub(crate) fn pod_views(&self) -> &[PodView] {
        &self.pods
    }

    pub(crate) fn logs(&self) -> impl Iterator<Item = &sentinel_explain::capture::LogLine> {
        self.logs.iter()
    }

    pub(crate) fn workloads(&self) -> &[sentinel_model::Workload] {
        &self.workloads
    }

    pub(crate) fn services(&self) -> &[sentinel_model::ServiceState] {
        &self.services
    }

    pub(crate) fn node_states(&self) -> &[NodeState] {
        &self.nodes
    }

    pub(crate) fn recent_events(&self) -> impl Iterator<Item = &ClusterEvent> {
        self.events.iter()
    }

    pub(crate) fn findings_view(&mut self) -> Arc<Vec<sentinel_model::Finding>> {
        self.detection.view()
    }

    /// The recent usage of the pod at `index`: CPU (cores), memory (bytes)
    /// and p95 latency (seconds), each without the steps that had none.
    pub(crate) fn usage_trend(&self, index: usize) -> [Vec<(Timestamp, f64)>; 3] {
        let Some(s) = self.side.get(index) else {
            return Default::default();
        };
        [
            trend::readings(&s.trend, |p| p.cpu_cores),
            trend::readings(&s.trend, |p| p.memory_bytes),
            trend::readings(&s.trend, |p| p.p95_seconds),
        ]
    }

    /// The recent CPU use (cores) of the pod at `index`.
    pub(crate) fn cpu_trend(&self, index: usize) -> Vec<(Timestamp, f64)> {
        self.side
            .get(index)
            .map(|s| trend::readings(&s.trend, |p| p.cpu_cores))
            .unwrap_or_default()
    }

    /// The recent p95 latency (seconds) of the pod at `index`.
    pub(crate) fn p95_trend(&self, index: usize) -> Vec<(Timestamp, f64)> {
        self.side
            .get(index)
            .map(|s| trend::readings(&s.trend, |p| p.p95_seconds))
            .unwrap_or_default()
    }

    /// The recent CPU use of `node`, as a fraction of its capacity.
    pub(crate) fn node_cpu_trend(&self, node: &str) -> Vec<(Timestamp, f64)> {
        self.node_trend
            .get(node)
            .map(|t| t.iter().map(|(at, v, _)| (*at, trend::widen(*v))).collect())
            .unwrap_or_default()
    }

    /// The recent CPU and memory use of `node`, in percent of its capacity;
    /// `None` for a node not listed.
    pub fn node_trend(&self, node: &str) -> Option<crate::snapshot::NodeTrend> {
        let t = self.node_trend.get(node)?;
        let percent = |v: f32| 100.0 * trend::widen(v);
        Some(crate::snapshot::NodeTrend {
            cpu_percent: t
                .iter()
                .filter(|p| p.1.is_finite())
                .map(|p| (p.0, percent(p.1)))
                .collect(),
            memory_percent: t
                .iter()
                .filter(|p| p.2.is_finite())
                .map(|p| (p.0, percent(p.2)))
                .collect(),
        })
    }

    /// An operator's verdict on a finding; false if the finding is unknown.
    pub fn mark_finding(&mut self, id: &str, mark: sentinel_model::Mark, at: Timestamp) -> bool {
        self.detection.mark(id, mark, at)
    }

    pub fn mark_recorded(&mut self, id: &str, mark: sentinel_model::Mark, at: Timestamp) -> bool {
        self.detection.mark_recorded(id, mark, at)
    }

    pub fn source_notes(&mut self, source: SourceId, notes: Vec<crate::snapshot::PanelNote>) {
        if let Some(s) = self.sources.get_mut(source) {
            s.notes = notes;
        }
    }

    /// Names the cluster for the history.
    pub fn set_cluster(&mut self, name: String) {
        self.cluster = name;
    }

    /// Live sources paused (`true`) or let go on, at `at`.
    pub fn pause_sources(&mut self, paused: bool, at: Timestamp) {
        if paused {
            self.paused_at = Some(at);
        } else if self.paused_at.take().is_some() {
            self.resumed_at = Some(at);
        }
    }
}

#[cfg(test)]
mod tests;
