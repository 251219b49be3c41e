//! Collecting a runtime's sources and options, and starting it.

use std::sync::Arc;

use sentinel_model::{Duration, Severity};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::msg::Msg;
use crate::state::State;
use crate::{
    AlertmanagerSource, Clock, Health, Mode, PrometheusSource, Runtime, Source, SourceCtx,
    SourceStatus, kube, kube_proxy, live, logs, recording, silences,
};

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
    /// Whether the history's incidents are taken back at start-up.
    restore: bool,
    incidents: sentinel_explain::incident::IncidentConfig,
    notify: sentinel_explain::incident::notify::NotifyConfig,
    calls: Vec<(String, String)>,
    /// Acknowledged incidents silence their alerts here.
    silences: Option<(silences::SilenceTarget, silences::SilenceConfig)>,
    /// Container logs, when a Kubernetes context is watched.
    logs: Option<sentinel_kube::Client>,
    /// Container logs from Loki, when one is configured.
    loki: Option<sentinel_prom::Loki>,
    /// What live Prometheus sources read for rules on raw series.
    rule_series: live::RuleSeries,
}

impl RuntimeBuilder {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
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
            restore: true,
            silences: None,
            logs: None,
            loki: None,
            rule_series: live::RuleSeries::default(),
        }
    }

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

    /// Acknowledging an incident silences its alerts here, and the feed's
    /// silences are set here (`live` sets it when there is an Alertmanager,
    /// the demo its own).
    pub fn silence_in(
        mut self,
        target: impl Into<silences::SilenceTarget>,
        cfg: silences::SilenceConfig,
    ) -> Self {
        self.silences = Some((target.into(), cfg));
        self
    }

    /// Starts without the history's incidents (they stay in the history).
    /// For the demo, which invents a new past at every start: the last run's
    /// incidents continued into it would take in problems that never
    /// happened to them, and end before they started.
    pub fn fresh_incidents(mut self) -> Self {
        self.restore = false;
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
        let silence_target = self.silences.as_ref().map(|(target, _)| target.clone());
        if let Some((am, cfg)) = self.silences {
            // Bounded: when Alertmanager is slow, requests wait in the planner.
            let (ops_tx, ops_rx) = mpsc::channel(64);
            state.silence_with(silences::Silencer::new(cfg), ops_tx);
            silencer_task = Some(tokio::spawn(silences::run(
                am,
                Arc::clone(&self.clock),
                ops_rx,
                tx.clone(),
            )));
        }
        let mut writer = None;
        let mut records = None;
        // The incidents the history gives back, taken before any batch: a
        // backfill applied first would open their findings anew.
        let mut restore = None;
        let history = self.history.clone();
        let retention = Arc::new(tokio::sync::Notify::new());
        let wake = Arc::clone(&retention);
        if let Some(store) = self.history {
            let (rec_tx, rec_rx) = mpsc::unbounded_channel();
            let notify = tx.clone();
            state.record(self.clock.now());
            records = Some(rec_tx);
            let started = self.clock.now();
            let wanted = self.restore;
            let (restore_tx, restore_rx) = oneshot::channel();
            restore = Some(restore_rx);
            writer = Some(tokio::spawn(async move {
                match recording::Writer::new(store, notify.clone(), wake).await {
                    Ok(w) => {
                        let list = if wanted {
                            w.incidents_to_restore(started).await
                        } else {
                            Vec::new()
                        };
                        let _ = restore_tx.send(list);
                        w.run(rec_rx).await
                    }
                    Err(e) => {
                        // The loop waits for this (or for the sender to go)
                        // before it reads anything, the notice below too.
                        drop(restore_tx);
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
        tasks.push(tokio::spawn(crate::event_loop::run_loop(
            state,
            rx,
            snap_tx,
            Arc::clone(&self.clock),
            records,
            restore,
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
            silences: silence_target,
        }
    }
}
