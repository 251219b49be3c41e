//! The call graph a service mesh's metrics give, read again every few
//! minutes and handed on only when it changed.

use sentinel_model::{Duration, Timestamp};
use sentinel_prom::Prometheus;

/// How often the call graph is read again: it changes with deployments,
/// not with every poll.
const EVERY: Duration = Duration::from_mins(5);

#[derive(Default)]
pub(super) struct CallGraph {
    /// When it was last read (or tried).
    read: Option<Timestamp>,
    /// What was last handed on.
    sent: Vec<(String, String)>,
}

impl CallGraph {
    /// Reads the graph at `end` if it is due at `now`; the calls when they
    /// differ from those last handed on. A failed read is logged and tried
    /// again when next due: the graph is optional, and never fails a poll.
    pub(super) async fn read_if_due(
        &mut self,
        prom: &Prometheus,
        source: &str,
        now: Timestamp,
        end: Timestamp,
    ) -> Option<Vec<(String, String)>> {
        if self.read.is_some_and(|t| now.since(t) < EVERY) {
            return None;
        }
        self.read = Some(now);
        match sentinel_prom::calls::call_graph(prom, end).await {
            Ok(g) if g.calls != self.sent => {
                tracing::info!(source, "{}", g.describe());
                self.sent.clone_from(&g.calls);
                Some(g.calls)
            }
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(source, error = %e, "call graph");
                None
            }
        }
    }
}
