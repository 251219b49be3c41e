//! Sentinel's backend. Sources run as tasks and send batches into one
//! message loop, the only writer of the state; after each change the loop
//! publishes an immutable [`Snapshot`] that any number of readers (the
//! desktop shell, the CLI) watch. The runtime owns the clock.

mod capture;
pub mod clock;
mod demo;
mod detection;
pub mod dirs;
pub mod incidents;
mod kube;
pub mod kube_proxy;
mod live;
pub mod logs;
mod msg;
mod objects;
pub mod procmem;
mod recording;
pub mod replay;
pub mod series;
pub mod silences;
pub mod snapshot;
mod source;
mod state;

use std::sync::Arc;

use sentinel_model::{Duration, Severity};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use clock::{Clock, SystemClock};
pub use demo::{DemoConfig, DemoSource, frame_to_batch};
pub use live::{AlertmanagerSource, PrometheusSource};
pub use sentinel_store::{
    IncidentFilter, IncidentRow, IncidentSummary, Input, Opened, Retention, Store, StoreError,
    Usage,
};
pub use snapshot::{Health, Mode, PanelNote, PodKey, PodTrend, Snapshot, SourceStatus};
pub use source::{Batch, Source, SourceCtx, SourceId};

use msg::Msg;
use state::State;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The loop has stopped (the app is shutting down); nothing to retry.
    #[error("the backend has stopped")]
    Stopped,
}

type Spawner = Box<dyn FnOnce(SourceCtx) -> JoinHandle<()> + Send>;

/// Collects sources and options, then starts the loop.
pub struct RuntimeBuilder {
    clock: Arc<dyn Clock>,
    mode: Mode,
    window: Duration,
    sources: Vec<(SourceStatus, Spawner)>,
    notices: Vec<(Severity, String)>,
    rules: sentinel_detect::RuleFile,
    history: Option<sentinel_store::Store>,
    incidents: sentinel_explain::incident::IncidentConfig,
    notify: sentinel_explain::incident::notify::NotifyConfig,
    calls: Vec<(String, String)>,
    /// Acknowledged incidents silence their alerts here.
    silences: Option<(sentinel_prom::Alertmanager, silences::SilenceConfig)>,
    /// Container logs, when a Kubernetes context is watched.
    logs: Option<sentinel_kube::Client>,
    /// Container logs from Loki, when one is configured.
    loki: Option<sentinel_prom::Loki>,
    /// What live Prometheus sources read for rules on raw series.
    rule_series: live::RuleSeries,
}

impl RuntimeBuilder {
    /// Record what the engine is fed and reports into this history.
    pub fn history(mut self, store: sentinel_store::Store) -> Self {
        self.history = Some(store);
        self
    }

    /// How signals become incidents (windows, quiet period, cluster name).
    pub fn incidents(mut self, cfg: sentinel_explain::incident::IncidentConfig) -> Self {
        self.incidents = cfg;
        self
    }

    /// When incidents raise desktop notifications.
    pub fn notify(mut self, cfg: sentinel_explain::incident::notify::NotifyConfig) -> Self {
        self.notify = cfg;
        self
    }

    /// Service dependencies (`namespace/service`, caller first) that link
    /// incidents across services.
    pub fn calls(mut self, calls: Vec<(String, String)>) -> Self {
        self.calls = calls;
        self
    }

    /// The rules the anomaly engine applies (default: the shipped pack).
    pub fn rules(mut self, rules: sentinel_detect::RuleFile) -> Self {
        self.rules = rules;
        self
    }

    /// Live mode on a Prometheus and, when given, its Alertmanager; without
    /// one, the alert feed comes from Prometheus' own alerts.
    pub fn live(
        self,
        prometheus: sentinel_prom::Prometheus,
        alertmanager: Option<sentinel_prom::Alertmanager>,
        interval: std::time::Duration,
    ) -> Self {
        let prom = PrometheusSource::new("prometheus", prometheus, interval)
            .with_rule_series(std::sync::Arc::clone(&self.rule_series));
        let b = self.mode(Mode::Live);
        match alertmanager {
            Some(am) => b
                .silence_in(am.clone(), silences::SilenceConfig::default())
                .source(prom)
                .source(AlertmanagerSource::new("alertmanager", am, interval)),
            None => b.source(prom.with_alerts()),
        }
    }

    /// Watch a Kubernetes context: its pods and nodes replace what
    /// Prometheus' kube-state-metrics says of them, and its events and
    /// rollouts join the timeline.
    pub fn kubernetes(
        mut self,
        conn: sentinel_kube::Connection,
        interval: std::time::Duration,
    ) -> Self {
        let name = format!("kubernetes ({})", conn.context);
        self.logs = Some(conn.client.clone());
        self.mode(Mode::Live)
            .source(kube::KubeSource::new(name, conn, interval))
    }

    /// Prometheus behind the service proxy of `conn`'s cluster, found in the
    /// background (for when no Prometheus URL is configured).
    pub fn discovered_prometheus(
        self,
        conn: sentinel_kube::Connection,
        interval: std::time::Duration,
        timeout: std::time::Duration,
    ) -> Self {
        let rule_series = std::sync::Arc::clone(&self.rule_series);
        self.mode(Mode::Live)
            .source(kube_proxy::DiscoveredPrometheus::new(
                conn,
                interval,
                timeout,
                rule_series,
            ))
    }

    /// Container logs from this Loki (live tail over its WebSocket), beside
    /// or instead of the Kubernetes API's.
    pub fn loki(mut self, loki: sentinel_prom::Loki) -> Self {
        self.loki = Some(loki);
        self
    }

    /// Acknowledging an incident silences its alerts in this Alertmanager
    /// (`live` sets it when there is one).
    pub fn silence_in(
        mut self,
        am: sentinel_prom::Alertmanager,
        cfg: silences::SilenceConfig,
    ) -> Self {
        self.silences = Some((am, cfg));
        self
    }

    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    pub fn source<S: Source>(mut self, source: S) -> Self {
        let status = SourceStatus {
            name: source.name(),
            kind: source.kind(),
            interval: Duration(i64::try_from(source.interval().as_millis()).unwrap_or(i64::MAX)),
            health: Health::Starting,
            last_ok: None,
            last_error: None,
            latency: None,
            notes: Vec::new(),
        };
        self.sources
            .push((status, Box::new(move |ctx| tokio::spawn(source.run(ctx)))));
        self
    }

    /// A problem found before start-up (corrupt settings, unwritable data dir).
    pub fn notice(mut self, level: Severity, message: impl Into<String>) -> Self {
        self.notices.push((level, message.into()));
        self
    }

    /// Starts the loop and the sources. Must be called inside a tokio runtime.
    pub fn start(self) -> Runtime {
        // Small on purpose: a source that outruns the loop (a 10,000-pod backfill)
        // waits instead of queueing batches in memory.
        let (tx, rx) = mpsc::channel(4);
        let statuses = self.sources.iter().map(|(s, _)| s.clone()).collect();
        let _ = self
            .rule_series
            .set(sentinel_detect::promrules::read_selectors(&self.rules));
        let mut state = State::new(self.mode, self.window, statuses, self.rules);
        state.set_cluster(self.incidents.cluster.clone());
        state
            .incidents_mut()
            .configure(self.incidents, self.notify, self.calls);
        for (level, message) in self.notices {
            state.add_notice(level, message);
        }
        let mut silencer_task = None;
        if let Some((am, cfg)) = self.silences {
            // Bounded: when Alertmanager is slow, requests wait in the planner.
            let (ops_tx, ops_rx) = mpsc::channel(64);
            state.silence_with(silences::Silencer::new(cfg), ops_tx);
            silencer_task = Some(tokio::spawn(silences::run(am, ops_rx, tx.clone())));
        }
        let mut writer = None;
        let mut records = None;
        let history = self.history.clone();
        let retention = Arc::new(tokio::sync::Notify::new());
        let wake = Arc::clone(&retention);
        if let Some(store) = self.history {
            let (rec_tx, rec_rx) = mpsc::unbounded_channel();
            let notify = tx.clone();
            state.record(self.clock.now());
            records = Some(rec_tx);
            writer = Some(tokio::spawn(async move {
                match recording::Writer::new(store, notify.clone(), wake).await {
                    Ok(w) => {
                        let active = w.active_incidents().await;
                        if !active.is_empty() {
                            let _ = notify.send(Msg::RestoreIncidents(active)).await;
                        }
                        w.run(rec_rx).await
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "history unavailable");
                        let _ = notify
                            .send(Msg::Notice {
                                level: Severity::Warning,
                                message: format!("History is not being recorded: {e}"),
                                topic: Some(recording::TOPIC),
                            })
                            .await;
                    }
                }
            }));
        }
        let first = state.snapshot(self.clock.now());
        let (snap_tx, snap_rx) = watch::channel(Arc::new(first));
        let mut tasks: Vec<JoinHandle<()>> = silencer_task.into_iter().collect();
        tasks.push(tokio::spawn(run_loop(
            state,
            rx,
            snap_tx,
            Arc::clone(&self.clock),
            records,
        )));
        let ticker_tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tick.tick().await;
                if ticker_tx.send(Msg::Tick).await.is_err() {
                    return;
                }
            }
        }));
        let (paused, paused_rx) = watch::channel(false);
        for (id, (_, spawn)) in self.sources.into_iter().enumerate() {
            let ctx = SourceCtx {
                id,
                tx: tx.clone(),
                clock: Arc::clone(&self.clock),
                paused: paused_rx.clone(),
            };
            tasks.push(spawn(ctx));
        }
        Runtime {
            tx,
            snapshots: snap_rx,
            tasks,
            writer: std::sync::Mutex::new(writer),
            history,
            retention,
            paused,
            logs: (self.logs.is_some() || self.loki.is_some())
                .then(|| logs::LogService::new(self.logs, self.loki)),
            clock: Arc::clone(&self.clock),
        }
    }
}

/// A handle on the running backend. Dropping it stops every task.
pub struct Runtime {
    tx: mpsc::Sender<Msg>,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    tasks: Vec<JoinHandle<()>>,
    /// The history writer, when recording (taken by `shutdown`).
    writer: std::sync::Mutex<Option<JoinHandle<()>>>,
    /// The history, for reads of what memory no longer holds.
    history: Option<sentinel_store::Store>,
    /// Wakes the history writer to apply new retention settings.
    retention: Arc<tokio::sync::Notify>,
    /// Holds every source while true.
    paused: watch::Sender<bool>,
    logs: Option<logs::LogService>,
    clock: Arc<dyn Clock>,
}

impl Runtime {
    pub fn builder(clock: Arc<dyn Clock>) -> RuntimeBuilder {
        RuntimeBuilder {
            clock,
            mode: Mode::Demo,
            window: Duration::from_mins(15),
            sources: Vec::new(),
            notices: Vec::new(),
            rules: sentinel_detect::default_pack(),
            incidents: sentinel_explain::incident::IncidentConfig::default(),
            notify: sentinel_explain::incident::notify::NotifyConfig::default(),
            calls: Vec::new(),
            history: None,
            silences: None,
            logs: None,
            loki: None,
            rule_series: live::RuleSeries::default(),
        }
    }

    /// Stop the loop and wait (up to `grace`) for the history writer to save
    /// what it holds. Without a history this returns at once.
    /// Later calls return at once.
    pub async fn shutdown(&self, grace: std::time::Duration) {
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
        let _ = self.tx.send(Msg::Shutdown).await;
        if let Some(w) = writer
            && tokio::time::timeout(grace, w).await.is_err()
        {
            tracing::warn!("the history writer did not finish in time");
        }
    }

    /// The demo cluster runtime the app starts with.
    pub fn demo(config: DemoConfig) -> RuntimeBuilder {
        Self::builder(Arc::new(SystemClock))
            .mode(Mode::Demo)
            .incidents(sentinel_explain::incident::IncidentConfig {
                cluster: "demo".into(),
                ..Default::default()
            })
            .calls(
                sentinel_sim::scenario::CALLS
                    .iter()
                    .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
                    .collect(),
            )
            .source(DemoSource::new(config))
    }

    /// A container's log: a tail, or a follow read from a cursor. `None`
    /// without a Kubernetes context (the demo cluster has no logs).
    pub async fn pod_logs(&self, q: &logs::LogRequest) -> Option<Result<logs::LogRead, String>> {
        let service = self.logs.as_ref()?;
        Some(service.read(q, self.clock.now()).await)
    }

    /// Incidents as the history file holds them (every one ever stored, not
    /// only those in memory), newest first; `None` without a history.
    pub async fn stored_incidents(
        &self,
        f: &sentinel_store::IncidentFilter,
    ) -> Option<Result<Vec<sentinel_store::IncidentSummary>, StoreError>> {
        let store = self.history.as_ref()?;
        Some(store.incident_list(f).await)
    }

    /// The history, when recording (for reads: bundles, the History page).
    pub fn history(&self) -> Option<&sentinel_store::Store> {
        self.history.as_ref()
    }

    /// Pauses live sources (they ask their systems nothing until let go)
    /// or lets them go on; their health holds still meanwhile.
    pub async fn pause_sources(&self, paused: bool) {
        if self.paused.send_replace(paused) != paused {
            let _ = self.tx.send(Msg::SourcesPaused { paused }).await;
        }
    }

    /// Whether live sources are paused.
    pub fn sources_paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// The history's retention settings and what it takes now; `None`
    /// without a history.
    pub async fn retention(
        &self,
    ) -> Option<Result<(sentinel_store::Retention, sentinel_store::Usage), StoreError>> {
        let store = self.history.as_ref()?;
        Some(async { Ok((store.retention().await?, store.usage().await?)) }.await)
    }

    /// Keeps new retention settings and has the writer apply them now.
    pub async fn set_retention(
        &self,
        r: sentinel_store::Retention,
    ) -> Option<Result<sentinel_store::Retention, StoreError>> {
        let store = self.history.as_ref()?;
        let kept = store.set_retention(r).await;
        if kept.is_ok() {
            self.retention.notify_one();
        }
        Some(kept)
    }

    /// The latest recorded version of each finding in `ids` the history
    /// holds; empty without a history.
    pub async fn stored_findings(
        &self,
        ids: &[String],
    ) -> Result<Vec<sentinel_model::Finding>, StoreError> {
        match &self.history {
            Some(store) => store.latest_findings(ids).await,
            None => Ok(Vec::new()),
        }
    }

    /// The latest picture; cheap (an `Arc` clone).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshots.borrow())
    }

    /// A receiver that wakes on every new snapshot.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.snapshots.clone()
    }

    /// Waits until a snapshot satisfies `pred` (e.g. the first data arrived).
    pub async fn wait_for(
        &self,
        pred: impl Fn(&Snapshot) -> bool,
    ) -> Result<Arc<Snapshot>, RuntimeError> {
        let mut rx = self.subscribe();
        let snap = rx
            .wait_for(|s| pred(s))
            .await
            .map_err(|_| RuntimeError::Stopped)?;
        Ok(Arc::clone(&snap))
    }

    pub async fn pod_trend(&self, pod: PodKey) -> Result<Option<PodTrend>, RuntimeError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::PodTrend { pod, reply })
            .await
            .map_err(|_| RuntimeError::Stopped)?;
        rx.await.map_err(|_| RuntimeError::Stopped)
    }

    /// Record an operator's verdict on a finding; false if it is unknown.
    pub async fn mark_finding(
        &self,
        id: String,
        mark: sentinel_model::Mark,
    ) -> Result<bool, RuntimeError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::MarkFinding { id, mark, reply })
            .await
            .map_err(|_| RuntimeError::Stopped)?;
        rx.await.map_err(|_| RuntimeError::Stopped)
    }

    /// Acknowledge, resolve or reopen an incident as `by`; the incident as
    /// it now stands, or why the action was refused.
    pub async fn act_on_incident(
        &self,
        id: String,
        act: incidents::Act,
        by: String,
        note: String,
    ) -> Result<
        Result<sentinel_explain::incident::Incident, sentinel_explain::incident::LifecycleError>,
        RuntimeError,
    > {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Incident {
                id,
                act,
                by,
                note,
                reply,
            })
            .await
            .map_err(|_| RuntimeError::Stopped)?;
        rx.await.map_err(|_| RuntimeError::Stopped)
    }

    /// Records an operator action done outside the loop (an export) in the
    /// audit log.
    pub async fn audit(
        &self,
        actor: String,
        action: &'static str,
        target: String,
        detail: String,
    ) -> Result<(), RuntimeError> {
        self.tx
            .send(Msg::Audit {
                actor,
                action,
                target,
                detail,
            })
            .await
            .map_err(|_| RuntimeError::Stopped)
    }

    /// Hold back notifications until `until` (None lifts the snooze).
    pub async fn snooze(
        &self,
        until: Option<sentinel_model::Timestamp>,
    ) -> Result<(), RuntimeError> {
        self.tx
            .send(Msg::Snooze(until))
            .await
            .map_err(|_| RuntimeError::Stopped)
    }

    pub async fn notice(
        &self,
        level: Severity,
        message: impl Into<String>,
    ) -> Result<(), RuntimeError> {
        self.tx
            .send(Msg::Notice {
                level,
                message: message.into(),
                topic: None,
            })
            .await
            .map_err(|_| RuntimeError::Stopped)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Ok(Some(w)) = self.writer.get_mut().map(|w| w.take()) {
            w.abort();
        }
    }
}

async fn run_loop(
    mut state: State,
    mut rx: mpsc::Receiver<Msg>,
    out: watch::Sender<Arc<Snapshot>>,
    clock: Arc<dyn Clock>,
    records: Option<mpsc::UnboundedSender<Vec<sentinel_store::Record>>>,
) {
    let pid = std::process::id();
    while let Some(msg) = rx.recv().await {
        let publish = match msg {
            Msg::Shutdown => break,
            Msg::Batch { source, batch } => {
                let live = !batch.backfill;
                state.apply(source, batch);
                live
            }
            Msg::SourceFailed { source, at, error } => {
                tracing::warn!(source, at = at.millis(), error = %error, "source poll failed");
                state.source_failed(source, at, error);
                true
            }
            Msg::SourceNotes { source, notes } => {
                state.source_notes(source, notes);
                true
            }
            Msg::SourcesPaused { paused } => {
                state.pause_sources(paused, clock.now());
                true
            }
            Msg::Tick => {
                state.set_memory(procmem::tree_rss_bytes(pid));
                state.tick(clock.now());
                true
            }
            Msg::MarkFinding { id, mark, reply } => {
                let ok = state.mark_finding(&id, mark, clock.now());
                let _ = reply.send(ok);
                ok
            }
            Msg::Incident {
                id,
                act,
                by,
                note,
                reply,
            } => {
                let now = clock.now();
                let result = state.incidents_mut().act(&id, act, &by, &note, now);
                let ok = result.is_ok();
                if ok {
                    state.plan_silences(now);
                }
                if let Err(e) = &result {
                    tracing::info!(incident = %id, error = %e, "incident action refused");
                }
                let _ = reply.send(result);
                ok
            }
            Msg::Audit {
                actor,
                action,
                target,
                detail,
            } => {
                let now = clock.now();
                state
                    .incidents_mut()
                    .audit(now, &actor, action, &target, &detail);
                false
            }
            Msg::Silence(answer) => {
                state.silence_answer(clock.now(), answer);
                true
            }
            Msg::Saved(through) => {
                state.saved(through);
                true
            }
            Msg::RestoreIncidents(list) => {
                tracing::info!(
                    count = list.len(),
                    "active incidents restored from the history"
                );
                state.incidents_mut().restore(list);
                true
            }
            Msg::Snooze(until) => {
                state.incidents_mut().snooze(until);
                true
            }
            Msg::PodTrend { pod, reply } => {
                let _ = reply.send(state.pod_trend(&pod));
                false
            }
            Msg::Notice {
                level,
                message,
                topic,
            } => {
                match topic {
                    Some(topic) => state.topic_notice(topic, level, message),
                    None => state.add_notice(level, message),
                }
                true
            }
        };
        if let Some(records) = &records {
            let log = state.take_log();
            if !log.is_empty() {
                let _ = records.send(log);
            }
        }
        if publish {
            out.send_replace(Arc::new(state.snapshot(clock.now())));
        }
    }
}
