//! Alertmanager polled for its alerts, and for the silences that hold some
//! of them back.

use std::collections::BTreeSet;
use std::time::{Duration as StdDuration, Instant};

use sentinel_model::{Alert, Duration, SilenceNote};
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
        let mut listed = Listed::default();
        loop {
            ticker.tick().await;
            let began = std::time::Instant::now();
            let sent = match self.am.alerts(&filter).await {
                Ok(alerts) => {
                    let silences = listed.refresh(&self.am, &alerts).await;
                    let ms = i64::try_from(began.elapsed().as_millis()).unwrap_or(i64::MAX);
                    ctx.send(Batch {
                        at: ctx.clock.now(),
                        alerts: Some(alerts),
                        silences,
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

/// The silences last listed: those that held back an alert then.
#[derive(Default)]
struct Listed {
    ids: BTreeSet<String>,
    at: Option<Instant>,
}

impl Listed {
    /// Silences are extended and edited in place: they are listed again
    /// after this long even when the same ones hold back the same alerts.
    const EVERY: StdDuration = StdDuration::from_secs(60);

    /// The silences holding back `alerts`, when they should be listed
    /// again (a silence came or went, or a minute passed); `None` keeps
    /// those last sent. Listing every silence (expired ones stay for days)
    /// costs nothing while no alert is silenced. A failed list is logged
    /// and tried again at the next poll: the alerts still go on.
    async fn refresh(&mut self, am: &Alertmanager, alerts: &[Alert]) -> Option<Vec<SilenceNote>> {
        let ids: BTreeSet<String> = alerts
            .iter()
            .flat_map(|a| a.silenced_by.iter().cloned())
            .collect();
        let due = ids != self.ids || self.at.is_none_or(|t| t.elapsed() >= Self::EVERY);
        if !due {
            return None;
        }
        if ids.is_empty() {
            self.ids = ids;
            self.at = Some(Instant::now());
            return Some(Vec::new());
        }
        match am.silences().await {
            Ok(all) => {
                let notes = holding(all, &ids);
                self.ids = ids;
                self.at = Some(Instant::now());
                Some(notes)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot list Alertmanager's silences");
                None
            }
        }
    }
}

/// The silences among `all` whose ids are in `ids`.
fn holding(all: Vec<sentinel_prom::Silence>, ids: &BTreeSet<String>) -> Vec<SilenceNote> {
    all.into_iter()
        .filter(|s| ids.contains(&s.id))
        .map(|s| SilenceNote {
            id: s.id,
            ends_at: s.ends_at,
            created_by: s.created_by,
            comment: s.comment,
        })
        .collect()
}
