//! The backend's current state, owned by the message loop alone. Applying a
//! batch is synchronous and does no IO; publishing builds a [`Snapshot`].

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::mpsc;

use sentinel_model::{
    Alert, ClusterEvent, Duration, LatencyHistogram, NodeState, NodeUsage, PodPhase, PodState,
    Severity, Timestamp,
};

use crate::detection::Detection;
use crate::incidents::Incidents;
use crate::series::Rolling;
use crate::silences::{SilenceOp, SilenceResult, Silencer};
use crate::snapshot::{
    CardValues, ClusterSeries, Health, Mode, NodeView, PodKey, PodTrend, PodView, Snapshot,
    SourceStatus,
};
use crate::source::{Batch, SourceId};

const EVENTS_KEPT: usize = 1000;
const LOGS_KEPT: usize = 2000;

#[derive(Debug, Clone, Copy)]
struct Counters {
    requests: u64,
    errors: u64,
    latency: LatencyHistogram,
}

/// What the state keeps per pod besides its view: counters for rates and
/// recent CPU and memory (compact, for the sparkline). Aligned with `pods`.
#[derive(Debug, Default)]
struct PodSide {
    counters: Option<Counters>,
    trend: VecDeque<(Timestamp, f32, f32)>,
}

pub struct State {
    mode: Mode,
    window: Duration,
    trend_capacity: usize,
    generation: u64,
    data_at: Option<Timestamp>,
    sources: Vec<SourceStatus>,
    pods: Arc<Vec<PodView>>,
    pod_index: HashMap<PodKey, usize>,
    side: Vec<PodSide>,
    nodes: Vec<NodeState>,
    node_usage: HashMap<String, NodeUsage>,
    alerts: Arc<Vec<Alert>>,
    events: VecDeque<ClusterEvent>,
    workloads: Arc<Vec<sentinel_model::Workload>>,
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
            sources,
            pods: Arc::default(),
            pod_index: HashMap::new(),
            side: Vec::new(),
            nodes: Vec::new(),
            node_usage: HashMap::new(),
            alerts: Arc::default(),
            events: VecDeque::new(),
            workloads: Arc::default(),
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
        if self.data_at.is_some() {
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

    pub(crate) fn node_states(&self) -> &[NodeState] {
        &self.nodes
    }

    pub(crate) fn recent_events(&self) -> impl Iterator<Item = &ClusterEvent> {
        self.events.iter()
    }

    pub(crate) fn findings_view(&mut self) -> Arc<Vec<sentinel_model::Finding>> {
        self.detection.view()
    }

    /// Memory (bytes) of the pod at `index` over the trend window.
    pub(crate) fn memory_trend(&self, index: usize) -> Vec<(Timestamp, f64)> {
        self.side
            .get(index)
            .map(|s| s.trend.iter().map(|p| (p.0, f64::from(p.2))).collect())
            .unwrap_or_default()
    }

    /// An operator's verdict on a finding; false if the finding is unknown.
    pub fn mark_finding(&mut self, id: &str, mark: sentinel_model::Mark, at: Timestamp) -> bool {
        self.detection.mark(id, mark, at)
    }

    pub fn source_notes(&mut self, source: SourceId, notes: Vec<crate::snapshot::PanelNote>) {
        if let Some(s) = self.sources.get_mut(source) {
            s.notes = notes;
        }
    }

    pub fn apply(&mut self, source: SourceId, mut batch: Batch) {
        let at = batch.at;
        // Objects from the Kubernetes API win over kube-state-metrics' view,
        // once they have arrived (until then, usage finds its nodes there).
        let from_api = self
            .sources
            .get(source)
            .is_some_and(|s| s.kind == "kubernetes");
        let api_has_spoken = self
            .sources
            .iter()
            .any(|s| s.kind == "kubernetes" && s.last_ok.is_some());
        if !from_api && api_has_spoken {
            batch.pods = None;
            batch.nodes = None;
            // Restarts come with the API's objects then.
            for u in batch.pod_usage.iter_mut().flatten() {
                u.restarts = None;
            }
        }
        // A source that reads restarts per step feeds them with its usage;
        // the objects' counts (as of the newest step) would be out of time.
        let restarts_in_usage = batch
            .pod_usage
            .as_ref()
            .is_some_and(|u| u.iter().any(|u| u.restarts.is_some()));
        if let Some(w) = batch.workloads.take() {
            self.workloads = Arc::new(w);
        }
        for l in std::mem::take(&mut batch.logs) {
            if self.logs.len() == LOGS_KEPT {
                self.logs.pop_front();
            }
            self.logs.push_back(l);
        }
        // History replayed at start-up is not news from the source: health and
        // "newest data" move only with live batches.
        if !batch.backfill {
            if let Some(s) = self.sources.get_mut(source) {
                s.last_ok = Some(s.last_ok.map_or(at, |t| t.max(at)));
                s.last_error = None;
                if batch.latency.is_some() {
                    s.latency = batch.latency;
                }
                if self.detection.recording() {
                    let seen = sentinel_store::SourceSeen {
                        name: s.name.clone(),
                        kind: s.kind.to_string(),
                        cluster: self.cluster.clone(),
                        at,
                    };
                    self.detection.note(sentinel_store::Record::Source(seen));
                }
            }
            self.data_at = Some(self.data_at.map_or(at, |t| t.max(at)));
        }
        if let Some(s) = self.sources.get(source) {
            let name = s.name.clone();
            self.detection.observe("up", &[("source", &name)], at, 1.0);
        }
        let nodes_changed = batch.nodes.is_some() || batch.node_usage.is_some();
        let nodes_listed = batch.nodes.is_some();
        if let Some(nodes) = batch.nodes {
            self.nodes = nodes;
        }
        if let Some(usage) = batch.node_usage {
            self.node_usage = usage.into_iter().map(|u| (u.node.clone(), u)).collect();
            self.record_node_series(at);
        }
        if nodes_changed {
            self.detection.nodes(at, &self.nodes, &self.node_usage);
        }
        let recording = self.detection.recording();
        let mut changes = Vec::new();
        if recording && nodes_listed {
            self.objects.nodes(at, &self.nodes, &mut changes);
        }
        if let Some(pods) = batch.pods {
            self.replace_pods(at, pods);
            if recording {
                self.objects
                    .pods(at, self.pods.iter().map(|v| &v.pod), &mut changes);
            }
            let pods: Vec<&PodState> = self.pods.iter().map(|v| &v.pod).collect();
            self.incidents.pods(&pods);
            self.detection.pods(at, &pods, !restarts_in_usage);
        }
        if let Some(usage) = batch.pod_usage {
            self.record_pod_usage(at, usage);
        }
        self.incidents.events(&batch.events);
        for e in batch.events {
            self.detection
                .note(sentinel_store::Record::Event(Box::new(e.clone())));
            if self.events.len() == EVENTS_KEPT {
                self.events.pop_front();
            }
            self.events.push_back(e);
        }
        if let Some(alerts) = batch.alerts {
            if recording {
                self.objects.alerts(at, &alerts, &mut changes);
            }
            self.incidents.alerts(at, &alerts);
            self.alerts = Arc::new(alerts);
        }
        self.detection.note_all(changes);
        if let Some(readings) = batch.readings {
            self.detection.raw(at, &readings);
        }
        self.detection.fed(at);
        let reported = self.detection.take_reported();
        self.incidents.findings(&reported);
        // History replayed at start-up opens incidents; they are shown when
        // live data arrives, if still open.
        if batch.backfill {
            self.incidents.settle_quietly();
        } else {
            self.incidents.settle(at);
        }
        self.capture_incidents(at);
    }

    /// Takes a new pod list. Sources list pods in a stable order, so the
    /// common case (same pods as last time) reuses the index and the per-pod
    /// data without building a single key; only a changed set is re-keyed.
    fn replace_pods(&mut self, at: Timestamp, pods: Vec<PodState>) {
        if pods.len() > 1000 {
            self.trend_capacity = 60;
        }
        let old = std::mem::take(&mut self.pods);
        let same_set = old.len() == pods.len()
            && old
                .iter()
                .zip(&pods)
                .all(|(o, n)| o.pod.namespace == n.namespace && o.pod.name == n.name);
        let mut restarted = 0u64;
        if same_set {
            for (o, n) in old.iter().zip(&pods) {
                if o.pod.uid == n.uid {
                    restarted += u64::from(n.restarts().saturating_sub(o.pod.restarts()));
                }
            }
        } else {
            let by_uid: HashMap<&str, u32> = old
                .iter()
                .map(|v| (v.pod.uid.as_str(), v.pod.restarts()))
                .collect();
            for n in &pods {
                if let Some(prev) = by_uid.get(n.uid.as_str()) {
                    restarted += u64::from(n.restarts().saturating_sub(*prev));
                }
            }
        }
        self.restart_log.push_back((at, restarted));
        let oldest = at.saturating_sub(self.window);
        while self.restart_log.front().is_some_and(|(t, _)| *t < oldest) {
            self.restart_log.pop_front();
        }
        if same_set {
            let views = old
                .iter()
                .zip(pods)
                .map(|(o, pod)| PodView {
                    cpu_cores: o.cpu_cores,
                    memory_bytes: o.memory_bytes,
                    pod,
                })
                .collect();
            self.pods = Arc::new(views);
            return;
        }
        let mut old_side = std::mem::take(&mut self.side);
        let mut views = Vec::with_capacity(pods.len());
        let mut side = Vec::with_capacity(pods.len());
        let mut index = HashMap::with_capacity(pods.len());
        for (i, pod) in pods.into_iter().enumerate() {
            let key = (pod.namespace.clone(), pod.name.clone());
            let prev = self.pod_index.get(&key).copied();
            let prev_view = prev.and_then(|j| old.get(j));
            views.push(PodView {
                cpu_cores: prev_view.and_then(|v| v.cpu_cores),
                memory_bytes: prev_view.and_then(|v| v.memory_bytes),
                pod,
            });
            side.push(
                prev.and_then(|j| old_side.get_mut(j))
                    .map(std::mem::take)
                    .unwrap_or_default(),
            );
            index.insert(key, i);
        }
        self.pod_index = index;
        self.side = side;
        self.pods = Arc::new(views);
    }

    fn record_node_series(&mut self, at: Timestamp) {
        let (mut cpu, mut cpu_cap, mut mem, mut mem_cap) = (0.0, 0.0, 0.0, 0.0);
        for n in &self.nodes {
            if let Some(u) = self.node_usage.get(&n.name) {
                cpu += u.cpu_cores;
                mem += u.memory_bytes;
                cpu_cap += f64::from(n.cpu_capacity_millis) / 1000.0;
                mem_cap += n.memory_capacity_bytes as f64;
            }
        }
        if cpu_cap > 0.0 {
            self.cpu.push(at, 100.0 * cpu / cpu_cap);
            self.detection
                .observe("cluster_cpu_percent", &[], at, 100.0 * cpu / cpu_cap);
        }
        if mem_cap > 0.0 {
            self.memory.push(at, 100.0 * mem / mem_cap);
            self.detection
                .observe("cluster_memory_percent", &[], at, 100.0 * mem / mem_cap);
        }
    }

    fn record_pod_usage(&mut self, at: Timestamp, usage: Vec<sentinel_model::PodUsage>) {
        let dt = self
            .counters_at
            .map(|t| at.since(t).millis() as f64 / 1000.0)
            .filter(|d| *d > 0.0);
        let (mut requests, mut errors) = (0u64, 0u64);
        let mut latency = LatencyHistogram::default();
        let pods = Arc::make_mut(&mut self.pods);
        for u in usage {
            let Some(&i) = self.pod_index.get(&(u.namespace, u.pod)) else {
                continue;
            };
            let (Some(view), Some(side)) = (pods.get_mut(i), self.side.get_mut(i)) else {
                continue;
            };
            let now = Counters {
                requests: u.requests_total,
                errors: u.errors_total,
                latency: u.latency,
            };
            if let Some(prev) = side.counters.replace(now) {
                requests += now.requests.saturating_sub(prev.requests);
                errors += now.errors.saturating_sub(prev.errors);
                latency.add(&now.latency.delta(&prev.latency));
            }
            view.cpu_cores = Some(u.cpu_cores);
            view.memory_bytes = Some(u.memory_bytes);
            self.detection
                .pod_usage(at, &view.pod, u.memory_bytes, u.restarts);
            if side.trend.len() >= self.trend_capacity {
                side.trend.pop_front();
            }
            side.trend
                .push_back((at, u.cpu_cores as f32, u.memory_bytes as f32));
        }
        self.counters_at = Some(at);
        if let Some(dt) = dt {
            let rate = requests as f64 / dt;
            self.request_rate.push(at, rate);
            self.detection
                .observe("cluster_request_rate", &[], at, rate);
            if requests > 0 {
                let pct = 100.0 * errors as f64 / requests as f64;
                self.error_percent.push(at, pct);
                self.detection
                    .observe("cluster_error_percent", &[], at, pct);
            }
            if let Some(p95) = latency.quantile(0.95) {
                self.p95_ms.push(at, p95 * 1000.0);
                self.detection
                    .observe("cluster_latency_p95_ms", &[], at, p95 * 1000.0);
            }
        }
    }

    pub fn pod_trend(&self, key: &PodKey) -> Option<PodTrend> {
        let t = &self.side.get(*self.pod_index.get(key)?)?.trend;
        Some(PodTrend {
            cpu: t.iter().map(|p| (p.0, f64::from(p.1))).collect(),
            memory: t.iter().map(|p| (p.0, f64::from(p.2))).collect(),
        })
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

    fn health(&self, s: &SourceStatus, now: Timestamp) -> Health {
        let late = |n: i64| Duration(s.interval.millis() * n + 1000);
        // Paused, health holds still; let go, each source is judged from
        // then, not from the time it last answered before the pause.
        let now = self.paused_at.unwrap_or(now);
        let last_ok = match (s.last_ok, self.resumed_at) {
            (Some(t), Some(r)) => Some(t.max(r)),
            (t, _) => t,
        };
        match last_ok {
            None if s.last_error.is_some() => Health::Down,
            None => Health::Starting,
            Some(t) if now.since(t) > late(5) && s.last_error.is_some() => Health::Down,
            Some(t) if now.since(t) > late(2) => Health::Stale,
            Some(_) => Health::Ok,
        }
    }

    fn cards(&self) -> CardValues {
        let mut c = CardValues {
            cpu_percent: self.cpu.last().map(|p| p.1),
            memory_percent: self.memory.last().map(|p| p.1),
            request_rate: self.request_rate.last().map(|p| p.1),
            error_percent: self.error_percent.last().map(|p| p.1),
            restarts_15m: self.restart_log.iter().map(|r| r.1).sum(),
            ..CardValues::default()
        };
        for p in self.pods.iter() {
            match p.pod.phase {
                PodPhase::Running => c.pods_running += 1,
                PodPhase::Pending => c.pods_pending += 1,
                PodPhase::Failed => c.pods_failed += 1,
                PodPhase::Succeeded | PodPhase::Unknown => {}
            }
        }
        c
    }

    /// The picture readers get, as of `now`.
    pub fn snapshot(&mut self, now: Timestamp) -> Snapshot {
        self.generation += 1;
        let sources = self
            .sources
            .iter()
            .map(|s| SourceStatus {
                health: self.health(s, now),
                ..s.clone()
            })
            .collect();
        let mut per_node: HashMap<&str, usize> = HashMap::new();
        for p in self.pods.iter() {
            if let Some(n) = &p.pod.node {
                *per_node.entry(n.as_str()).or_default() += 1;
            }
        }
        let nodes = self
            .nodes
            .iter()
            .map(|n| {
                let u = self.node_usage.get(&n.name);
                NodeView {
                    node: n.clone(),
                    cpu_cores: u.map(|u| u.cpu_cores),
                    memory_bytes: u.map(|u| u.memory_bytes),
                    pods: per_node.get(n.name.as_str()).copied().unwrap_or(0),
                }
            })
            .collect();
        Snapshot {
            at: now,
            data_at: self.data_at,
            generation: self.generation,
            mode: self.mode,
            sources,
            pods: Arc::clone(&self.pods),
            nodes: Arc::new(nodes),
            alerts: Arc::clone(&self.alerts),
            workloads: Arc::clone(&self.workloads),
            events: Arc::new(self.events.iter().rev().take(300).rev().cloned().collect()),
            series: Arc::new(ClusterSeries {
                cpu_percent: self.cpu.to_vec(),
                memory_percent: self.memory.to_vec(),
                request_rate: self.request_rate.to_vec(),
                error_percent: self.error_percent.to_vec(),
                p95_ms: self.p95_ms.to_vec(),
            }),
            series_window: self.window,
            cards: self.cards(),
            memory_bytes: self.memory_bytes,
            saved_through: self.saved_through,
            notices: Arc::clone(&self.notices),
            findings: self.detection.view(),
            incidents: self.incidents.view(),
            notifications: self.incidents.sent(),
            snoozed_until: self.incidents.snoozed_until(now),
            silences: self
                .silencer
                .as_ref()
                .map(|(s, _)| s.views())
                .unwrap_or_default(),
            sources_paused: self.paused_at.is_some(),
        }
    }
}
