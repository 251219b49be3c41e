//! The message loop: the only writer of the state, publishing a snapshot
//! after each change.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use crate::msg::Msg;
use crate::state::State;
use crate::{Clock, Snapshot, procmem};

pub(crate) async fn run_loop(
    mut state: State,
    mut rx: mpsc::Receiver<Msg>,
    out: watch::Sender<Arc<Snapshot>>,
    clock: Arc<dyn Clock>,
    records: Option<mpsc::UnboundedSender<Vec<sentinel_store::Record>>>,
    restore: Option<oneshot::Receiver<Vec<sentinel_explain::incident::Incident>>>,
) {
    let pid = std::process::id();
    // Before any batch: what a backfill reads again then meets the
    // incidents it belongs to. Sources wait meanwhile (the channel is
    // small); a history that cannot be read drops the sender.
    if let Some(restore) = restore
        && let Ok(list) = restore.await
        && !list.is_empty()
    {
        tracing::info!(count = list.len(), "incidents restored from the history");
        state.incidents_mut().restore(list, clock.now());
        out.send_replace(Arc::new(state.snapshot(clock.now())));
    }
    while let Some(msg) = rx.recv().await {
        let publish = match msg {
            Msg::Shutdown => break,
            Msg::Batch { source, batch } => {
                let live = !batch.backfill;
                state.apply(source, *batch);
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
                let now = clock.now();
                let ok = state.mark_finding(&id, mark, now);
                let _ = reply.send(ok.then_some(now));
                ok
            }
            Msg::MarkRecorded { id, mark, reply } => {
                let now = clock.now();
                let ok = state.mark_recorded(&id, mark, now);
                let _ = reply.send(ok.then_some(now));
                false
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
            Msg::Snooze(until) => {
                state.incidents_mut().snooze(until);
                true
            }
            Msg::PodTrend { pod, reply } => {
                let _ = reply.send(state.pod_trend(&pod));
                false
            }
            Msg::NodeTrend { node, reply } => {
                let _ = reply.send(state.node_trend(&node));
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
