//! The embedded demo cluster as a source: backfills the dashboard's window,
//! then steps the simulation on every poll.

use std::time::Duration as StdDuration;

use sentinel_model::{Duration, Timestamp};
use sentinel_sim::{Frame, Sim, SimConfig};

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

pub struct DemoSource {
    config: DemoConfig,
}

impl DemoSource {
    pub fn new(config: DemoConfig) -> Self {
        Self { config }
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
        backfill,
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
        let mut sim = Sim::new(self.config.sim, start).at_loop_offset(offset);
        // History first, one frame at a time, so memory stays flat whatever the size.
        let mut t = start.millis() + step.millis();
        while t < now.millis() {
            let frame = sim.step(Timestamp(t));
            if !ctx.send(frame_to_batch(frame, true)).await {
                return;
            }
            t += step.millis();
        }
        let mut ticker = tokio::time::interval(self.config.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let frame = sim.step(ctx.clock.now());
            if !ctx.send(frame_to_batch(frame, false)).await {
                return;
            }
        }
    }
}
