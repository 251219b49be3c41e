//! The Kubernetes source: watches (not polls) pods, nodes, events and
//! workloads of one context, folds them into a mirror, and hands the loop a
//! batch every interval: the pods and nodes when they changed, the new
//! events and rollouts, or only a heartbeat. A failing pods or nodes watch
//! makes the source fail (stale after two intervals); a failing events or
//! workloads watch is a note on an otherwise healthy source.

use std::time::Duration as StdDuration;

use sentinel_explain::capture::LogLine;
use sentinel_kube::{Connection, Mirror, Watched};
use tokio::sync::mpsc;

use crate::snapshot::PanelNote;
use crate::source::{Batch, Source, SourceCtx};

/// Restarted containers whose previous log is read per interval, and lines each.
const RESTART_LOGS: usize = 4;
const LOG_TAIL: i64 = 100;

/// Updates queued between the watches and the fold; a burst beyond this
/// waits in the watches (back-pressure), it is never dropped.
const QUEUE: usize = 4096;

/// How long the first lists may take before the source says the API
/// server is not answering (an API server that accepts and never answers
/// would otherwise leave it "starting" for good).
const FIRST_LIST_PATIENCE: StdDuration = StdDuration::from_secs(10);

pub struct KubeSource {
    name: String,
    conn: Connection,
    interval: StdDuration,
}

impl KubeSource {
    pub fn new(name: impl Into<String>, conn: Connection, interval: StdDuration) -> Self {
        Self {
            name: name.into(),
            conn,
            interval,
        }
    }
}

fn essential(w: Watched) -> bool {
    matches!(w, Watched::Pods | Watched::Nodes)
}

impl Source for KubeSource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn kind(&self) -> &'static str {
        "kubernetes"
    }

    fn interval(&self) -> StdDuration {
        self.interval
    }

    async fn run(self, ctx: SourceCtx) {
        let (tx, mut rx) = mpsc::channel(QUEUE);
        let mut tasks = sentinel_kube::watch::spawn(self.conn.client.clone(), tx.clone());
        let mut mirror = Mirror::new();
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut noted: Vec<PanelNote> = Vec::new();
        let mut started = std::time::Instant::now();
        // A long first list of pods and nodes that keeps delivering is
        // progress, not silence.
        let mut last_update = started;
        let patience = FIRST_LIST_PATIENCE.max(self.interval * 2);
        tracing::info!(context = %self.conn.context, server = %self.conn.server, "watching Kubernetes");
        loop {
            tokio::select! {
                update = rx.recv() => match update {
                    Some(u) => {
                        // Progress of the lists the dashboard waits for.
                        if matches!(u, sentinel_kube::Update::Pod(_) | sentinel_kube::Update::Node(_)) {
                            last_update = std::time::Instant::now();
                        }
                        mirror.apply(u, ctx.clock.now());
                    }
                    None => break,
                },
                _ = ticker.tick() => {
                    let silent = started.elapsed() > patience && last_update.elapsed() > patience;
                    if !self.report(&ctx, &mut mirror, &mut noted, silent, patience).await {
                        break;
                    }
                    // Lists that hang are started again (a request the
                    // server never answers would otherwise wait for good).
                    if !mirror.synced() && silent {
                        for t in tasks.drain(..) {
                            t.abort();
                        }
                        tasks = sentinel_kube::watch::spawn(self.conn.client.clone(), tx.clone());
                        started = std::time::Instant::now();
                    }
                }
            }
        }
        for t in tasks {
            t.abort();
        }
    }
}

impl KubeSource {
    /// One interval's report; false once the runtime has stopped.
    async fn report(
        &self,
        ctx: &SourceCtx,
        mirror: &mut Mirror,
        noted: &mut Vec<PanelNote>,
        silent: bool,
        patience: StdDuration,
    ) -> bool {
        let failing: Vec<Watched> = mirror.failures().keys().copied().collect();
        for w in failing {
            match sentinel_kube::watch::probe(&self.conn.client, w).await {
                Ok(()) => mirror.recovered(w),
                Err(why) => tracing::debug!(what = w.as_str(), %why, "still failing"),
            }
        }
        let failures = mirror.failures();
        let notes: Vec<PanelNote> = failures
            .iter()
            .filter(|(w, _)| !essential(**w))
            .map(|(w, why)| PanelNote {
                panel: w.as_str().to_string(),
                message: why.clone(),
            })
            .collect();
        let broken: Vec<String> = failures
            .iter()
            .filter(|(w, _)| essential(**w))
            .map(|(_, why)| why.clone())
            .collect();
        if notes != *noted {
            *noted = notes.clone();
            if !ctx.notes(notes).await {
                return false;
            }
        }
        if !broken.is_empty() {
            return ctx.failed(broken.join("; ")).await;
        }
        if !mirror.synced() {
            if silent {
                return ctx
                    .failed(format!(
                        "no complete list of pods and nodes from {} after {}s: the API server is not answering",
                        self.conn.server,
                        patience.as_secs()
                    ))
                    .await;
            }
            // Still listing: nothing to show yet, and nothing is wrong.
            return true;
        }
        // A restarted container's previous log says why it ended; a run
        // that hangs, where it stops.
        mirror.late_runs(ctx.clock.now());
        let mut logs = Vec::new();
        for (namespace, pod, container) in mirror.take_restarted(RESTART_LOGS) {
            match sentinel_kube::logs::previous(
                &self.conn.client,
                &namespace,
                &pod,
                &container,
                LOG_TAIL,
            )
            .await
            {
                Ok(lines) => logs.extend(lines.into_iter().map(|line| LogLine {
                    at: None,
                    namespace: namespace.clone(),
                    pod: pod.clone(),
                    container: container.clone(),
                    line,
                })),
                Err(why) => tracing::debug!(%pod, %why, "no log for a restarted container"),
            }
        }
        ctx.send(Batch {
            at: ctx.clock.now(),
            logs,
            pods: mirror.take_pods(),
            nodes: mirror.take_nodes(),
            events: mirror.take_events(),
            workloads: mirror.take_workloads(),
            services: mirror.take_services(),
            ..Batch::default()
        })
        .await
    }
}
