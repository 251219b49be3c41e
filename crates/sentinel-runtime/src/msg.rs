//! The one closed set of things that can make the loop do work.

use sentinel_model::Timestamp;
use tokio::sync::oneshot;

use crate::snapshot::{PodKey, PodTrend};
use crate::source::{Batch, SourceId};

pub enum Msg {
    /// The operator paused live sources (or let them go on).
    SourcesPaused { paused: bool },
    /// A source produced data (boxed: a batch is most of a message).
    Batch { source: SourceId, batch: Box<Batch> },
    /// A source's poll failed.
    SourceFailed {
        source: SourceId,
        at: Timestamp,
        error: String,
    },
    /// Why a source's panels are empty.
    SourceNotes {
        source: SourceId,
        notes: Vec<crate::snapshot::PanelNote>,
    },
    /// Time passed: recompute health and memory, publish.
    Tick,
    /// The CPU/memory history of one pod, for its detail panel.
    PodTrend {
        pod: PodKey,
        reply: oneshot::Sender<Option<PodTrend>>,
    },
    /// The CPU/memory history of one node, for its detail panel.
    NodeTrend {
        node: String,
        reply: oneshot::Sender<Option<crate::snapshot::NodeTrend>>,
    },
    /// An operator's verdict on a finding: when it was marked, or `None`
    /// if the engine does not hold it.
    MarkFinding {
        id: String,
        mark: sentinel_model::Mark,
        reply: oneshot::Sender<Option<sentinel_model::Timestamp>>,
    },
    /// An operator's verdict on a finding only the history still holds:
    /// when it was recorded, or `None` without a history.
    MarkRecorded {
        id: String,
        mark: sentinel_model::Mark,
        reply: oneshot::Sender<Option<sentinel_model::Timestamp>>,
    },
    /// An operator's action on an incident.
    Incident {
        id: String,
        act: crate::incidents::Act,
        by: String,
        note: String,
        reply: oneshot::Sender<
            Result<
                sentinel_explain::incident::Incident,
                sentinel_explain::incident::LifecycleError,
            >,
        >,
    },
    /// An operator action done outside the loop (an export), for the audit log.
    Audit {
        actor: String,
        action: &'static str,
        target: String,
        detail: String,
    },
    /// Alertmanager's answer to a silence request.
    Silence(crate::silences::SilenceResult),
    /// The history holds everything the engine logged up to this step.
    Saved(sentinel_model::Timestamp),
    /// Hold back notifications until then (None lifts it).
    Snooze(Option<Timestamp>),
    /// Stop: the loop ends, and the history writer flushes what it holds.
    Shutdown,
    /// Something the operator should see in the status bar.
    /// A notice with a topic replaces the topic's previous one ("recording
    /// paused" gives way to "recording resumed").
    Notice {
        level: sentinel_model::Severity,
        message: String,
        topic: Option<&'static str>,
    },
}
