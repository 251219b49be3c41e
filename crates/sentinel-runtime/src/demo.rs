//! The embedded demo cluster as a source: backfills the dashboard's window,
//! then steps the simulation on every poll.

use std::time::Duration as StdDuration;

use sentinel_model::{Duration, Timestamp};
use sentinel_sim::{Frame, Sim, SimConfig};

use crate::silences::DemoSilences;
use crate::source::{Batch, Source, SourceCtx};

#[derive(Debug, Clone, Copy)]
pub struct DemoConfig {
    pub sim: SimConfig,
    pub interval: StdDuration,
    /// History generated at start so charts are full at once.
    pub backfill: Duration,
    /// Where in the demo's 20-minute incident loop the live view begins.
    pub live_at_loop_s: i64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            sim: SimConfig::default(),
            interval: StdDuration::from_secs(2),
            backfill: Duration::from_mins(15),
            // A dependency slowdown is starting: alerts fire within a minute of
            // launch, and the rollout and noisy-neighbour incidents are in the
            // charts' history.
            live_at_loop_s: 690,
        }
    }
}

/// Simulated pod-polls the start-up history may cost (about 2 s of work).
/// The loop's earlier minutes, lived first at the same step, cost up to
/// 4/3 as much again (20 minutes against 15).
const BACKFILL_POD_STEPS: i64 = 600_000;

/// The backfill's step: the poll interval, or coarser when the cluster is so
/// large that full resolution would delay the first data.
fn backfill_step(interval: Duration, backfill: Duration, pods: usize) -> Duration {
    let pods = i64::try_from(pods.max(sentinel_sim::DEFAULT_PODS)).unwrap_or(i64::MAX);
    interval.max(Duration(
        backfill.millis().saturating_mul(pods) / BACKFILL_POD_STEPS,
    ))
}

pub struct DemoSource {
    config: DemoConfig,
    silences: Option<DemoSilences>,
}

impl DemoSource {
    pub fn new(config: DemoConfig) -> Self {
        Self {
            config,
            silences: None,
        }
    }

    /// Its alerts are held back by these silences, as Alertmanager holds
    /// back the alerts its silences match.
    pub fn holding(mut self, silences: DemoSilences) -> Self {
        self.silences = Some(silences);
        self
    }

    fn batch(&self, frame: Frame, backfill: bool) -> Batch {
        let mut b = frame_to_batch(frame, backfill);
        if let (Some(held), Some(alerts)) = (&self.silences, b.alerts.as_mut()) {
            b.silences = Some(held.hold(b.at, alerts));
        }
        b
    }
}

pub fn frame_to_batch(frame: Frame, backfill: bool) -> Batch {
    Batch {
        at: frame.at,
        pods: Some(frame.pods),
        nodes: Some(frame.nodes),
        pod_usage: Some(frame.pod_usage),
        node_usage: Some(frame.node_usage),
        events: frame.events,
        alerts: Some(frame.alerts),
        silences: None,
        workloads: frame.workloads,
        services: frame.services,
        logs: Vec::new(),
        readings: None,
        latency: None,
        backfill,
        objects_at: None,
        calls: None,
    }
}

impl Source for DemoSource {
    fn name(&self) -> String {
        "demo".into()
    }

    fn kind(&self) -> &'static str {
        "demo"
    }

    fn interval(&self) -> StdDuration {
        self.config.interval
    }

    async fn run(self, ctx: SourceCtx) {
        let step = Duration(
            i64::try_from(self.config.interval.as_millis())
                .unwrap_or(2000)
                .max(100),
        );
        let now = ctx.clock.now();
        let start = now.saturating_sub(self.config.backfill);
        let offset = self.config.live_at_loop_s - self.config.backfill.millis() / 1000;
        // History first, one frame at a time, so memory stays flat whatever the
        // size; big clusters get coarser history so the first data is quick.
        let back_step = backfill_step(step, self.config.backfill, self.config.sim.pods);
        let mut sim = Sim::in_loop(self.config.sim, start, offset, back_step);
        let mut t = start.millis();
        loop {
            t += back_step.millis();
            if t >= now.millis() {
                break;
            }
            let frame = sim.step(Timestamp(t));
            if !ctx.send(self.batch(frame, true)).await {
                return;
            }
        }
        let mut ticker = tokio::time::interval(self.config.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let frame = sim.step(ctx.clock.now());
            if !ctx.send(self.batch(frame, false)).await {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backfill_step_coarsens_only_for_large_clusters() {
        let (two_s, fifteen_m) = (Duration::from_secs(2), Duration::from_mins(15));
        assert_eq!(backfill_step(two_s, fifteen_m, 40), two_s);
        assert_eq!(backfill_step(two_s, fifteen_m, 1000), two_s);
        assert_eq!(
            backfill_step(two_s, fifteen_m, 10_000),
            Duration::from_secs(15)
        );
    }
}
