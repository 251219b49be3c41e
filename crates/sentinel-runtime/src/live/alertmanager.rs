//! Alertmanager polled for its alerts.

use std::time::Duration as StdDuration;

use sentinel_model::Duration;
use sentinel_prom::{AlertFilter, Alertmanager};

use crate::source::{Batch, Source, SourceCtx};

pub struct AlertmanagerSource {
    name: String,
    am: Alertmanager,
    interval: StdDuration,
}

impl AlertmanagerSource {
    pub fn new(name: impl Into<String>, am: Alertmanager, interval: StdDuration) -> Self {
        Self {
            name: name.into(),
            am,
            interval,
        }
    }
}

impl Source for AlertmanagerSource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn kind(&self) -> &'static str {
        "alertmanager"
    }

    fn interval(&self) -> StdDuration {
        self.interval
    }

    async fn run(self, ctx: SourceCtx) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let filter = AlertFilter::default();
        loop {
            ticker.tick().await;
            let began = std::time::Instant::now();
            let sent = match self.am.alerts(&filter).await {
                Ok(alerts) => {
                    let ms = i64::try_from(began.elapsed().as_millis()).unwrap_or(i64::MAX);
                    ctx.send(Batch {
                        at: ctx.clock.now(),
                        alerts: Some(alerts),
                        latency: Some(Duration(ms)),
                        ..Batch::default()
                    })
                    .await
                }
                Err(e) => ctx.failed(e.to_string()).await,
            };
            if !sent {
                return;
            }
        }
    }
}
