//! The Prometheus source: the dashboard's query set every poll (the first
//! reaching back 15 minutes), Prometheus' own alerts when no Alertmanager
//! is configured, the rules' series, why panels are empty, and the call
//! graph every five minutes.

use std::time::Duration as StdDuration;

use sentinel_model::{Alert, AlertState, Duration, Labels, SeriesKey, Timestamp};
use sentinel_prom::Prometheus;
use sentinel_prom::dashboard::{self, Poll};
use sentinel_prom::diagnose::diagnose;

use super::calls;
use crate::snapshot::PanelNote;
use crate::source::{Batch, Source, SourceCtx};

/// How far back the first poll reaches, so the charts are full at once.
const FIRST_RANGE: Duration = Duration::from_mins(15);
/// How often to re-check why panels are empty while they stay empty (a
/// target that just died shows as down only after its next failed scrape).
const DIAGNOSE_EVERY: Duration = Duration::from_secs(10);

pub struct PrometheusSource {
    name: String,
    prom: Prometheus,
    interval: StdDuration,
    /// Also take the alert feed from Prometheus' own `/api/v1/alerts`
    /// (when no Alertmanager is configured).
    alerts: bool,
    /// Selectors of the series rules name that the runtime does not compute
    /// (imported Prometheus rules), set when the runtime starts.
    rule_series: RuleSeries,
}

/// Shared with the builder, which knows the rules only at start.
pub(crate) type RuleSeries = std::sync::Arc<std::sync::OnceLock<Vec<String>>>;

/// At most this many series are read for rules per poll.
const RULE_SERIES_MAX: usize = 5000;

impl PrometheusSource {
    pub fn new(name: impl Into<String>, prom: Prometheus, interval: StdDuration) -> Self {
        Self {
            name: name.into(),
            prom,
            interval,
            alerts: false,
            rule_series: RuleSeries::default(),
        }
    }

    pub(crate) fn with_rule_series(mut self, selectors: RuleSeries) -> Self {
        self.rule_series = selectors;
        self
    }

    pub fn with_alerts(mut self) -> Self {
        self.alerts = true;
        self
    }
}

/// The grid step: the poll interval in whole seconds (at least 1 s).
fn step_of(interval: StdDuration) -> Duration {
    Duration(i64::try_from(interval.as_secs().max(1) * 1000).unwrap_or(1000))
}

/// The newest grid point at or before `now`.
fn align(now: Timestamp, step: Duration) -> Timestamp {
    Timestamp(now.millis().div_euclid(step.millis()) * step.millis())
}

/// Turns one poll into batches, oldest first. Objects ride on the first
/// batch so that every usage point after it finds its pod.
fn batches(
    poll: Poll,
    end: Timestamp,
    first: bool,
    alerts: Option<Vec<Alert>>,
    readings: Option<Vec<(SeriesKey, Timestamp, f64)>>,
    latency: Duration,
) -> Vec<Batch> {
    let mut pods = poll.pods;
    let mut nodes = poll.nodes;
    let workloads = poll.workloads;
    let mut alerts = alerts;
    let n = poll.usage.len();
    // The objects are as of the newest step; they ride on the oldest.
    let newest = poll.usage.last().map(|u| u.at).filter(|_| n > 1);
    let mut out: Vec<Batch> = poll
        .usage
        .into_iter()
        .enumerate()
        .map(|(i, u)| Batch {
            at: u.at,
            pods: pods.take(),
            nodes: nodes.take(),
            pod_usage: Some(u.pods),
            node_usage: Some(u.nodes),
            events: Vec::new(),
            alerts: if i + 1 == n { alerts.take() } else { None },
            silences: None,
            workloads: None,
            services: None,
            logs: Vec::new(),
            readings: None,
            latency: None,
            // The first poll's history fills the charts; only its newest step is news.
            backfill: first && i + 1 < n,
            objects_at: if i == 0 { newest } else { None },
            calls: None,
        })
        .collect();
    if out.is_empty()
        && (pods.is_some()
            || nodes.is_some()
            || alerts.is_some()
            || readings.is_some()
            || workloads.is_some())
    {
        out.push(Batch {
            at: end,
            pods,
            nodes,
            alerts,
            ..Batch::default()
        });
    }
    // Each reading has its own time; the newest batch carries them all.
    // The workloads too: they are as of the newest step, and what they say
    // (a CronJob's run due) is reckoned at the time they come with.
    if let Some(last) = out.last_mut() {
        last.readings = readings;
        last.latency = Some(latency);
        last.workloads = workloads;
    }
    out
}

/// Reads the series rules name as they are, over the poll's range.
async fn rule_readings(
    prom: &Prometheus,
    selectors: &[String],
    start: Timestamp,
    end: Timestamp,
    step: Duration,
) -> Result<Vec<(SeriesKey, Timestamp, f64)>, String> {
    let expr = selectors.join(" or ");
    let data = prom
        .query_range(&expr, start, end, step)
        .await
        .map_err(|e| format!("the series of imported rules: {e}"))?;
    let series = match data {
        sentinel_prom::parse::QueryData::Matrix(s) => s,
        _ => return Err("the series of imported rules: not a range answer".into()),
    };
    if series.len() > RULE_SERIES_MAX {
        return Err(format!(
            "the imported rules select {} series, more than the {RULE_SERIES_MAX} Sentinel reads",
            series.len()
        ));
    }
    let mut out = Vec::new();
    for s in series {
        let mut labels = s.metric;
        let Some(metric) = labels.remove("__name__") else {
            continue;
        };
        let key = SeriesKey { metric, labels };
        for p in s.values {
            out.push((key.clone(), p.at, p.value));
        }
    }
    Ok(out)
}

/// Prometheus' own alerts as the feed shows them: firing ones only.
fn prom_alerts(alerts: sentinel_prom::parse::PromAlerts, now: Timestamp) -> Vec<Alert> {
    let mut out: Vec<Alert> = alerts
        .alerts
        .into_iter()
        .filter(|a| a.state == "firing")
        .map(|a| Alert {
            fingerprint: fingerprint(&a.labels),
            starts_at: a
                .active_at
                .as_deref()
                .and_then(Timestamp::parse)
                .unwrap_or(now),
            labels: a.labels,
            annotations: a.annotations,
            ends_at: None,
            state: AlertState::Active,
            generator_url: String::new(),
            silenced_by: Vec::new(),
            inhibited_by: Vec::new(),
        })
        .collect();
    out.sort_by_key(|a| std::cmp::Reverse(a.starts_at));
    out
}

/// A stable id for a label set (FNV-1a over the sorted labels), in the
/// 16-hex-digit shape of Alertmanager's fingerprints.
fn fingerprint(labels: &Labels) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for b in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

impl Source for PrometheusSource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn kind(&self) -> &'static str {
        "prometheus"
    }

    fn interval(&self) -> StdDuration {
        self.interval
    }

    async fn run(self, ctx: SourceCtx) {
        let step = step_of(self.interval);
        let mut last_end: Option<Timestamp> = None;
        // Which steps are data, across polls (a gap's aftermath).
        let mut fresh = dashboard::Freshness::default();
        let mut diagnosed: Option<(Timestamp, Vec<&'static str>)> = None;
        // Every job that has fed the dashboard: when one is down, its
        // series still answer with their last sample, which is not news.
        let mut feeders: std::collections::BTreeSet<String> = Default::default();
        let mut rule_noted = false;
        let mut graph = calls::CallGraph::default();
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let now = ctx.clock.now();
            let end = align(now, step);
            // Only what is new since the last good poll; after an outage, at
            // most the first poll's range.
            let start = last_end
                .map(|t| Timestamp(t.millis() + step.millis()))
                .unwrap_or(end.saturating_sub(FIRST_RANGE))
                .max(end.saturating_sub(FIRST_RANGE));
            if start > end {
                continue;
            }
            let began = std::time::Instant::now();
            let polled = dashboard::poll(&self.prom, start, end, step, &mut fresh).await;
            let latency = Duration(i64::try_from(began.elapsed().as_millis()).unwrap_or(i64::MAX));
            let alerts = if self.alerts {
                match self.prom.alerts().await {
                    Ok(a) => Some(prom_alerts(a, now)),
                    Err(e) => {
                        tracing::debug!(source = %self.name, error = %e, "alerts poll failed");
                        None
                    }
                }
            } else {
                None
            };
            let poll = match polled {
                Ok(p) => p,
                Err(e) => {
                    if !ctx.failed(e.to_string()).await {
                        return;
                    }
                    continue;
                }
            };
            // Say why panels are empty, when that changes or every few seconds.
            let mut notes = None;
            let stale_diag = diagnosed
                .as_ref()
                .is_none_or(|(at, empty)| *empty != poll.empty || now.since(*at) > DIAGNOSE_EVERY);
            feeders.extend(poll.feeders.iter().cloned());
            let stale_jobs: Vec<&str> = poll
                .jobs_down
                .iter()
                .filter(|j| feeders.contains(*j))
                .map(String::as_str)
                .collect();
            let troubled = !poll.empty.is_empty() || !stale_jobs.is_empty();
            if stale_diag && (troubled || diagnosed.is_some()) {
                let found = if !troubled {
                    Vec::new()
                } else {
                    match diagnose(&self.prom, end).await {
                        Ok(d) => d,
                        Err(e) => vec![sentinel_prom::diagnose::Diagnosis {
                            panel: "source",
                            message: format!("cannot diagnose: {e}"),
                        }],
                    }
                };
                notes = Some(
                    found
                        .into_iter()
                        .map(|d| PanelNote {
                            panel: d.panel.to_string(),
                            message: d.message,
                        })
                        .collect::<Vec<_>>(),
                );
                diagnosed = Some((now, poll.empty.clone()));
            }
            let why = notes
                .as_ref()
                .and_then(|n: &Vec<PanelNote>| n.first().map(|d| d.message.clone()));
            if let Some(notes) = notes
                && !ctx.notes(notes).await
            {
                return;
            }
            // Values from a dead job are its last sample repeated: not news.
            if !stale_jobs.is_empty() {
                let msg = format!(
                    "no fresh data: every target of job {} is down",
                    stale_jobs.join(", ")
                );
                if !ctx.failed(msg).await {
                    return;
                }
                continue;
            }
            if poll.usage.is_empty() && poll.pods.is_none() && poll.nodes.is_none() {
                let why = why.unwrap_or_else(|| "no new samples since the last poll".into());
                if !ctx
                    .failed(format!("Prometheus returned no data: {why}"))
                    .await
                {
                    return;
                }
                continue;
            }
            let selectors = self.rule_series.get().map(Vec::as_slice).unwrap_or(&[]);
            let readings = if selectors.is_empty() {
                None
            } else {
                match rule_readings(&self.prom, selectors, start, end, step).await {
                    Ok(r) => {
                        // Clear what a failure said, unless a diagnosis speaks.
                        if std::mem::take(&mut rule_noted)
                            && diagnosed.is_none()
                            && !ctx.notes(Vec::new()).await
                        {
                            return;
                        }
                        Some(r)
                    }
                    Err(e) => {
                        rule_noted = true;
                        tracing::warn!(source = %self.name, error = %e, "rule series");
                        let note = PanelNote {
                            panel: "rules".into(),
                            message: e,
                        };
                        if !ctx.notes(vec![note]).await {
                            return;
                        }
                        None
                    }
                }
            };
            let calls = graph.read_if_due(&self.prom, &self.name, now, end).await;
            let first = last_end.is_none();
            last_end = Some(end);
            let mut out = batches(poll, end, first, alerts, readings, latency);
            // On the oldest batch: the incidents the poll's history opens
            // are grouped and captured knowing them.
            if let Some(oldest) = out.first_mut() {
                oldest.calls = calls;
            }
            for b in out {
                if !ctx.send(b).await {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "prometheus_tests.rs"]
mod tests;
