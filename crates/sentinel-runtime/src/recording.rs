//! The history writer: a task of its own, so a slow or full disk never
//! stalls the message loop. The loop hands it what the engine was fed and
//! reported; it batches that into one transaction per second (open sample
//! chunks every ten seconds), keeps a failed batch and retries it, and tells
//! the operator when recording stops and when it resumes.

use std::time::Duration;

use sentinel_model::Severity;
use sentinel_store::{Record, Recorder, Store, StoreError, WriteBatch};
use tokio::sync::mpsc;

use crate::msg::Msg;

/// The status-bar topic of recording notices: the newest one stands.
pub(crate) const TOPIC: &str = "recording";
/// How often a batch is written.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Unsealed chunks are rewritten every this many flushes, or sooner when
/// this many readings wait in them (a backfill).
const OPEN_EVERY: u32 = 10;
const OPEN_AFTER_SAMPLES: u64 = 50_000;
/// What may wait for a full disk before the oldest waiting data is dropped.
const MAX_PENDING_BYTES: usize = 256 << 20;
/// Retention runs this many flushes after start, then every
/// [`ENFORCE_EVERY`] flushes (and when its settings change).
const ENFORCE_FIRST: u32 = 30;
const ENFORCE_EVERY: u32 = 600;
/// Resolved incidents touched this recently are taken back at start...
const RESTORE_RESOLVED_WITHIN: sentinel_model::Duration =
    sentinel_model::Duration::from_mins(24 * 60);
/// ...this many at most (the manager keeps 200 resolved ones).
const RESTORE_RESOLVED: u32 = 200;

pub(crate) struct Writer {
    store: Store,
    recorder: Recorder,
    pending: WriteBatch,
    failing: bool,
    dropped: bool,
    notify: mpsc::Sender<Msg>,
    /// The newest feed step handed to the recorder. Feeds go forward in
    /// time (a start-up backfill first, then live); a new engine's reset
    /// and the ticks run on the wall clock, ahead of a backfill, so they do
    /// not count: "saved through" must not run ahead of what was logged.
    last_step: Option<sentinel_model::Timestamp>,
    /// Woken when the retention settings change.
    retention: std::sync::Arc<tokio::sync::Notify>,
}

impl Writer {
    pub async fn new(
        store: Store,
        notify: mpsc::Sender<Msg>,
        retention: std::sync::Arc<tokio::sync::Notify>,
    ) -> Result<Self, StoreError> {
        let cursor = store.cursor().await?;
        Ok(Self {
            store,
            recorder: Recorder::new(cursor),
            pending: WriteBatch::default(),
            failing: false,
            dropped: false,
            notify,
            last_step: None,
            retention,
        })
    }

    /// Incidents that were open or acknowledged when the history was last
    /// written (a restart should not forget them). Damaged rows are skipped.
    /// The incidents a new start takes back: every active one, and those
    /// resolved within the last day (as many as the manager keeps), so the
    /// list does not forget them and a backfill that reads their findings
    /// again finds them there instead of opening them anew.
    pub async fn incidents_to_restore(
        &self,
        now: sentinel_model::Timestamp,
    ) -> Vec<sentinel_explain::incident::Incident> {
        let active = sentinel_store::IncidentFilter {
            states: vec!["open".into(), "acknowledged".into()],
            ..Default::default()
        };
        let resolved = sentinel_store::IncidentFilter {
            states: vec!["resolved".into()],
            since: Some(now.saturating_sub(RESTORE_RESOLVED_WITHIN)),
            limit: Some(RESTORE_RESOLVED),
            ..Default::default()
        };
        let mut out = self.stored_incidents(&active).await;
        out.extend(self.stored_incidents(&resolved).await);
        out
    }

    async fn stored_incidents(
        &self,
        filter: &sentinel_store::IncidentFilter,
    ) -> Vec<sentinel_explain::incident::Incident> {
        match self.store.incidents(filter).await {
            Ok(rows) => rows
                .iter()
                .filter_map(|r| match serde_json::from_str(&r.body) {
                    Ok(i) => Some(i),
                    Err(e) => {
                        tracing::warn!(incident = %r.id, error = %e, "stored incident unreadable");
                        None
                    }
                })
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read stored incidents");
                Vec::new()
            }
        }
    }

    /// The loop never waits for the writer, so the writer may wait for it.
    async fn tell(&self, level: Severity, message: String) {
        let _ = self
            .notify
            .send(Msg::Notice {
                level,
                message,
                topic: Some(TOPIC),
            })
            .await;
    }

    async fn flush(&mut self, open: bool) {
        let batch = self.recorder.take(open);
        // Everything logged up to this step is in what is written now.
        let through = self.last_step;
        self.pending.absorb(batch);
        if self.pending.is_empty() {
            return;
        }
        match self.store.write(&self.pending).await {
            Ok(()) => {
                self.pending = WriteBatch::default();
                if let Some(t) = through {
                    let _ = self.notify.send(Msg::Saved(t)).await;
                }
                if self.failing {
                    self.failing = false;
                    tracing::info!("recording resumed");
                    self.tell(
                        Severity::Info,
                        "Recording resumed: history is being written again.".into(),
                    )
                    .await;
                }
            }
            Err(e) => {
                if !self.failing {
                    self.failing = true;
                    tracing::warn!(error = %e, "recording paused");
                    let why = match &e {
                        StoreError::DiskFull(_) => "the disk is full".to_string(),
                        other => other.to_string(),
                    };
                    self.tell(
                        Severity::Warning,
                        format!(
                            "Recording paused: {why}. Live data keeps flowing; recording resumes when it can write again."
                        ),
                    )
                    .await;
                }
                if self.pending.weight() > MAX_PENDING_BYTES && !self.dropped {
                    self.dropped = true;
                    self.pending = WriteBatch::default();
                    self.tell(
                        Severity::Warning,
                        "Recording could not write for too long: the oldest unsaved history was dropped.".into(),
                    )
                    .await;
                }
            }
        }
    }

    /// Applies the retention settings; tells the operator when the disk
    /// budget, not age, sent samples to rollups.
    async fn enforce(&mut self) {
        // What is waiting is written first, so the budget sees it.
        self.flush(true).await;
        let limit = self.store.retention().await.map(|r| r.budget_mib);
        match self.store.enforce().await {
            Ok(done) => {
                if !done.is_empty() {
                    tracing::info!(?done, "retention applied");
                }
                if done.budget_hit {
                    let since = done
                        .raw_before_ms
                        .map(|t| format!(" before {}", sentinel_model::Timestamp(t).to_rfc3339()))
                        .unwrap_or_default();
                    let message = if done.over_budget {
                        format!(
                            "History is over its disk budget ({} MiB) with only incidents' samples left: raise the budget or delete incidents.",
                            limit.unwrap_or_default()
                        )
                    } else {
                        format!(
                            "History reached its disk budget ({} MiB): the oldest samples{since} were dropped (incidents keep theirs).",
                            limit.unwrap_or_default()
                        )
                    };
                    let level = if done.over_budget {
                        Severity::Warning
                    } else {
                        Severity::Info
                    };
                    self.tell(level, message).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "retention could not run"),
        }
    }

    /// Runs until the loop closes its end, then writes everything it holds.
    pub async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Vec<Record>>) {
        let mut every = tokio::time::interval(FLUSH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u32 = 0;
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Some(records) => {
                        for r in records {
                            if let Record::Step { at, kind: sentinel_store::StepKind::Feed } = &r {
                                self.last_step = Some(self.last_step.map_or(*at, |t| t.max(*at)));
                            }
                            self.recorder.record(r);
                        }
                    }
                    None => break,
                },
                _ = every.tick() => {
                    n = n.wrapping_add(1);
                    if n == ENFORCE_FIRST || n.is_multiple_of(ENFORCE_EVERY) {
                        self.enforce().await;
                        continue;
                    }
                    let open = n.is_multiple_of(OPEN_EVERY)
                        || self.recorder.unwritten() >= OPEN_AFTER_SAMPLES;
                    self.flush(open).await;
                }
                () = self.retention.notified() => self.enforce().await,
            }
        }
        self.flush(true).await;
        self.store.close().await;
    }
}
