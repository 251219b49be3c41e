//! Sentinel's backend. Sources run as tasks and send batches into one
//! message loop, the only writer of the state; after each change the loop
//! publishes an immutable [`Snapshot`] that any number of readers (the
//! desktop shell, the CLI) watch. The runtime owns the clock.

mod builder;
mod capture;
pub mod clock;
mod demo;
mod detection;
pub mod dirs;
mod event_loop;
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

use sentinel_model::Severity;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use builder::RuntimeBuilder;
pub use clock::{Clock, SystemClock};
pub use demo::{DemoConfig, DemoSource, frame_to_batch};
pub use live::{AlertmanagerSource, PrometheusSource};
pub use sentinel_store::{
    IncidentFilter, IncidentRow, IncidentSummary, Input, Opened, Retention, Store, StoreError,
    Usage,
};
pub use snapshot::{Health, Mode, NodeTrend, PanelNote, PodKey, PodTrend, Snapshot, SourceStatus};
pub use source::{Batch, Source, SourceCtx, SourceId};

use msg::Msg;

/// How many of one alert's recorded changes a lookup reads at most.
pub const ALERT_CHANGES: u32 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The loop has stopped (the app is shutting down); nothing to retry.
    #[error("the backend has stopped")]
    Stopped,
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
    /// Where silences are set: the Alertmanager polled, or the demo's own.
    silences: Option<silences::SilenceTarget>,
}

impl Runtime {
    pub fn builder(clock: Arc<dyn Clock>) -> RuntimeBuilder {
        RuntimeBuilder::new(clock)
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

    /// The time as the runtime's clock tells it.
    pub fn now(&self) -> sentinel_model::Timestamp {
        self.clock.now()
    }

    /// Where the alerts the runtime polls are silenced: their Alertmanager,
    /// or the demo's own; `None` when alerts come from Prometheus alone.
    pub fn silences(&self) -> Option<&silences::SilenceTarget> {
        self.silences.as_ref()
    }

    /// The demo cluster runtime the app starts with.
    pub fn demo(config: DemoConfig) -> RuntimeBuilder {
        let held = silences::DemoSilences::default();
        Self::builder(Arc::new(SystemClock))
            .mode(Mode::Demo)
            .fresh_incidents()
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
            .silence_in(
                silences::SilenceTarget::Demo(held.clone()),
                silences::SilenceConfig::default(),
            )
            .source(DemoSource::new(config).holding(held))
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

    /// Whether this runtime keeps a history to look past findings and
    /// alerts up in.
    pub fn has_history(&self) -> bool {
        self.history.is_some()
    }

    /// One Alertmanager alert as the history recorded it, oldest first
    /// (its newest [`ALERT_CHANGES`] changes): when each change was seen,
    /// and the alert then, or `None` when it stopped being reported. Empty
    /// without a history; a change that no longer parses is skipped.
    pub async fn stored_alert(
        &self,
        fingerprint: &str,
    ) -> Result<Vec<(sentinel_model::Timestamp, Option<sentinel_model::Alert>)>, StoreError> {
        let Some(store) = &self.history else {
            return Ok(Vec::new());
        };
        let rows = store.alert_changes(fingerprint, ALERT_CHANGES).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(at, body)| {
                let alert = match body.map(|b| serde_json::from_str(&b)) {
                    None => None,
                    Some(Ok(a)) => Some(a),
                    Some(Err(e)) => {
                        tracing::warn!(fingerprint, at, error = %e, "a recorded alert does not parse");
                        return None;
                    }
                };
                Some((sentinel_model::Timestamp(at), alert))
            })
            .collect())
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
        self.ask(|reply| Msg::PodTrend { pod, reply }).await
    }

    /// A node's recent CPU and memory use (percent of its capacity); `None`
    /// for a node not listed.
    pub async fn node_trend(&self, node: String) -> Result<Option<NodeTrend>, RuntimeError> {
        self.ask(|reply| Msg::NodeTrend { node, reply }).await
    }

    /// Sends the loop a request and waits for its answer.
    async fn ask<T>(&self, msg: impl FnOnce(oneshot::Sender<T>) -> Msg) -> Result<T, RuntimeError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(msg(reply))
            .await
            .map_err(|_| RuntimeError::Stopped)?;
        rx.await.map_err(|_| RuntimeError::Stopped)
    }

    /// Record an operator's verdict on a finding the engine holds: when it
    /// was marked, or `None` if the engine does not hold it.
    pub async fn mark_finding(
        &self,
        id: String,
        mark: sentinel_model::Mark,
    ) -> Result<Option<sentinel_model::Timestamp>, RuntimeError> {
        self.ask(|reply| Msg::MarkFinding { id, mark, reply }).await
    }

    /// Record an operator's verdict on a finding the engine no longer holds
    /// but the history does (the caller checked): when it was recorded, or
    /// `None` without a history.
    pub async fn mark_recorded(
        &self,
        id: String,
        mark: sentinel_model::Mark,
    ) -> Result<Option<sentinel_model::Timestamp>, RuntimeError> {
        self.ask(|reply| Msg::MarkRecorded { id, mark, reply })
            .await
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
        self.ask(|reply| Msg::Incident {
            id,
            act,
            by,
            note,
            reply,
        })
        .await
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
