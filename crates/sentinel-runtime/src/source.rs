//! Sources: tasks that watch one system (the demo cluster now; Prometheus,
//! Alertmanager and Kubernetes later) and hand batches to the message loop.

use std::future::Future;
use std::sync::Arc;

use sentinel_model::{
    Alert, ClusterEvent, NodeState, NodeUsage, PodState, PodUsage, Timestamp, Workload,
};
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::msg::Msg;

/// Index of a source in the runtime, in the order sources were added.
pub type SourceId = usize;

/// What one poll (or one watch event) of a source produced. `None` fields
/// were not observed by this source and leave the state as it was.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub at: Timestamp,
    pub pods: Option<Vec<PodState>>,
    pub nodes: Option<Vec<NodeState>>,
    pub pod_usage: Option<Vec<PodUsage>>,
    pub node_usage: Option<Vec<NodeUsage>>,
    pub events: Vec<ClusterEvent>,
    pub alerts: Option<Vec<Alert>>,
    /// The silences that hold back some of `alerts` (Alertmanager's), when
    /// they were listed again.
    pub silences: Option<Vec<sentinel_model::SilenceNote>>,
    /// Deployments, ReplicaSets, StatefulSets, DaemonSets (the Kubernetes source).
    pub workloads: Option<Vec<Workload>>,
    /// Services, when they changed (the Kubernetes source, the demo's first
    /// batch).
    pub services: Option<Vec<sentinel_model::ServiceState>>,
    /// Which services call which, `(caller, callee)` as
    /// `namespace/workload`, when the source's reading changed (a service
    /// mesh's metrics through Prometheus).
    pub calls: Option<Vec<(String, String)>>,
    /// Container log lines worth keeping (a restarted container's previous log).
    pub logs: Vec<sentinel_explain::capture::LogLine>,
    /// Readings of series that rules name but the runtime does not compute
    /// (imported Prometheus rules), each with its own time. `Some` holds
    /// every series the source still answers for: the others resolve.
    pub readings: Option<Vec<(sentinel_model::SeriesKey, Timestamp, f64)>>,
    /// How long the poll that produced this took (its last batch says).
    pub latency: Option<sentinel_model::Duration>,
    /// History replayed to fill the dashboard at start-up: not a live poll.
    pub backfill: bool,
    /// When the pods and nodes this batch lists held, if later than `at`:
    /// a source that lists them as of its newest step (kube-state-metrics
    /// through Prometheus) sends them with its oldest batch, so that the
    /// usage before finds its pods. Their readiness, and their record in
    /// the history, wait for that step. `None`: as of `at`.
    pub objects_at: Option<Timestamp>,
}

/// How a source talks to the loop.
#[derive(Clone)]
pub struct SourceCtx {
    pub(crate) id: SourceId,
    pub(crate) tx: mpsc::Sender<Msg>,
    pub clock: Arc<dyn Clock>,
    /// True while the operator has live sources paused (during a replay).
    pub(crate) paused: tokio::sync::watch::Receiver<bool>,
}

impl SourceCtx {
    /// Waits while sources are paused: a source that reports holds there,
    /// so it asks nothing more of its system until it may go on.
    async fn unpaused(&self) {
        let mut rx = self.paused.clone();
        let _ = rx.wait_for(|p| !*p).await;
    }

    /// Hands a batch to the loop; false once the runtime has stopped.
    pub async fn send(&self, batch: Batch) -> bool {
        self.unpaused().await;
        self.tx
            .send(Msg::Batch {
                source: self.id,
                batch: Box::new(batch),
            })
            .await
            .is_ok()
    }

    /// Says why panels fed by this source are empty (replaces what it said
    /// before; an empty list clears it).
    pub async fn notes(&self, notes: Vec<crate::snapshot::PanelNote>) -> bool {
        self.unpaused().await;
        self.tx
            .send(Msg::SourceNotes {
                source: self.id,
                notes,
            })
            .await
            .is_ok()
    }

    /// Reports a failed poll; the source keeps its last good data and is
    /// marked stale once its updates are late.
    pub async fn failed(&self, error: String) -> bool {
        self.unpaused().await;
        let at = self.clock.now();
        self.tx
            .send(Msg::SourceFailed {
                source: self.id,
                at,
                error,
            })
            .await
            .is_ok()
    }
}

/// A task that produces batches until the runtime stops.
pub trait Source: Send + 'static {
    fn name(&self) -> String;
    /// `demo`, `prometheus`, `alertmanager`, `kubernetes`.
    fn kind(&self) -> &'static str;
    /// How often it is expected to report; it is stale after two of these.
    fn interval(&self) -> std::time::Duration;
    fn run(self, ctx: SourceCtx) -> impl Future<Output = ()> + Send;
}
