//! The merged alert feed: Alertmanager's alerts and the engine's findings,
//! newest first, filtered by severity and by the operator's terms
//! ([`AlertFilter`]). Alerts Alertmanager holds back (silenced or
//! inhibited) reach no receiver: they are left out of the feed unless asked
//! for, and never counted as firing, so the tray does not stay red for an
//! alert the team has silenced.

use std::cmp::Reverse;

use sentinel_model::{Alert, Finding, RuleState, Severity, Timestamp};
use sentinel_protocol::{
    AlertOrigin, AlertQuery, AlertRow, ErrorKind, HeldBack, HoldingSilence, IpcError,
};
use sentinel_runtime::Snapshot;

use crate::alert_filter::{AlertFilter, Subject};

/// The source alerts came from: the Alertmanager source, else the one that
/// reports alerts itself (the demo).
fn alert_source(s: &Snapshot) -> String {
    s.sources
        .iter()
        .find(|x| x.kind == "alertmanager")
        .or_else(|| s.sources.first())
        .map_or_else(|| "alertmanager".to_string(), |x| x.name.clone())
}

/// What holds `a` back, with each silence as Alertmanager last listed it
/// and each inhibiting alert by name.
pub(crate) fn held_back(s: &Snapshot, a: &Alert) -> Option<HeldBack> {
    if !a.held_back() {
        return None;
    }
    let silences = a
        .silenced_by
        .iter()
        .map(|id| match s.alert_silences.iter().find(|n| &n.id == id) {
            Some(n) => HoldingSilence {
                id: id.clone(),
                until: Some(n.ends_at),
                by: n.created_by.clone(),
                comment: n.comment.clone(),
            },
            None => HoldingSilence {
                id: id.clone(),
                until: None,
                by: String::new(),
                comment: String::new(),
            },
        })
        .collect();
    let inhibited_by = a
        .inhibited_by
        .iter()
        .map(|fp| {
            s.alerts
                .iter()
                .find(|x| &x.fingerprint == fp)
                .map_or_else(|| fp.clone(), |x| x.name().to_string())
        })
        .collect();
    Some(HeldBack {
        silences,
        inhibited_by,
    })
}

/// "Alertmanager holds it back: silenced by ana until … (on it)."
pub(crate) fn held_sentence(h: &HeldBack) -> String {
    format!(
        "Alertmanager holds it back: {}. It reaches no receiver, and Sentinel does not count it as firing.",
        h.describe(Timestamp::to_rfc3339)
    )
}

fn alert_row(s: &Snapshot, a: &Alert, source: &str, as_of: Option<Timestamp>) -> AlertRow {
    AlertRow {
        fingerprint: a.fingerprint.clone(),
        name: a.name().to_string(),
        severity: a.severity(),
        summary: a.summary().to_string(),
        description: a
            .annotations
            .get("description")
            .cloned()
            .unwrap_or_default(),
        labels: a.labels.clone(),
        starts_at: a.starts_at,
        source: source.to_string(),
        origin: AlertOrigin::Alertmanager,
        resolved_at: None,
        mark: None,
        as_of,
        held: held_back(s, a),
    }
}

fn finding_row(f: &Finding) -> AlertRow {
    AlertRow {
        fingerprint: f.id.clone(),
        name: f.rule.clone(),
        severity: f.severity,
        summary: f.summary.clone(),
        description: f.trace.explanation.clone(),
        labels: f.series.labels.clone(),
        starts_at: f.fired_at,
        source: "sentinel".into(),
        origin: AlertOrigin::Engine,
        resolved_at: f.resolved_at,
        mark: f.mark().map(|m| m.mark),
        as_of: None,
        held: None,
    }
}

enum Row<'a> {
    Alert(&'a Alert),
    Finding(&'a Finding),
}

/// Firing before resolved, then newest, worst and by fingerprint; computed
/// once per row (an alert's severity is read from its labels).
type Key<'a> = (bool, Reverse<Timestamp>, Reverse<Severity>, &'a str);

/// Firing alerts and firing findings, newest first, at or above
/// `min_severity` and matching `text`; then recently resolved findings.
/// Alerts Alertmanager holds back only with `held`. A filter that does not
/// parse is refused with the reason.
pub fn alerts(s: &Snapshot, q: &AlertQuery) -> Result<Vec<AlertRow>, IpcError> {
    let filter = match q.text.as_deref() {
        Some(text) => {
            AlertFilter::parse(text).map_err(|e| IpcError::new(ErrorKind::InvalidArgument, e))?
        }
        None => AlertFilter::default(),
    };
    Ok(rows(s, q, &filter))
}

fn rows(s: &Snapshot, q: &AlertQuery, filter: &AlertFilter) -> Vec<AlertRow> {
    let matches = |x: &Subject<'_>| filter.is_empty() || filter.matches(x);
    page(s, q, &matches, Order::Feed).0
}

/// How a page is ordered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    /// The feed's: firing before resolved, then newest, worst.
    Feed,
    /// Firing only, worst first, then newest (several clusters' alerts).
    WorstFirst,
}

/// A page of rows in `order`, and how many matched in all.
fn page(
    s: &Snapshot,
    q: &AlertQuery,
    matches: &dyn Fn(&Subject<'_>) -> bool,
    order: Order,
) -> (Vec<AlertRow>, usize) {
    let keep = |sev: Severity| q.min_severity.is_none_or(|m| sev >= m);
    // Only references are sorted: a storm holds 100,000 alerts, and only a
    // page of rows is built.
    let mut found: Vec<(Key<'_>, Row<'_>)> = s
        .alerts
        .iter()
        .filter(|a| q.held || !a.held_back())
        .filter_map(|a| {
            let severity = a.severity();
            let shown = keep(severity)
                && matches(&Subject {
                    name: a.name(),
                    summary: a.summary(),
                    severity,
                    labels: &a.labels,
                });
            shown.then(|| {
                let key = (
                    false,
                    Reverse(a.starts_at),
                    Reverse(severity),
                    a.fingerprint.as_str(),
                );
                (key, Row::Alert(a))
            })
        })
        .chain(
            s.findings
                .iter()
                .filter(|f| keep(f.severity))
                .filter(|f| order == Order::Feed || f.resolved_at.is_none())
                .filter(|f| {
                    matches(&Subject {
                        name: &f.rule,
                        summary: &f.summary,
                        severity: f.severity,
                        labels: &f.series.labels,
                    })
                })
                .map(|f| {
                    let key = (
                        f.resolved_at.is_some(),
                        Reverse(f.fired_at),
                        Reverse(f.severity),
                        f.id.as_str(),
                    );
                    (key, Row::Finding(f))
                }),
        )
        .collect();
    let matched = found.len();
    let cmp = |a: &(Key<'_>, Row<'_>), b: &(Key<'_>, Row<'_>)| match order {
        Order::Feed => a.0.cmp(&b.0),
        Order::WorstFirst => (a.0.2, a.0.1, a.0.3).cmp(&(b.0.2, b.0.1, b.0.3)),
    };
    let limit = q.limit.unwrap_or(usize::MAX);
    // Only the page is sorted: the rest is cut off unordered.
    if found.len() > limit && limit > 0 {
        found.select_nth_unstable_by(limit - 1, cmp);
    }
    found.truncate(limit);
    found.sort_unstable_by(cmp);
    let as_of = crate::why::alertmanager_silent_since(s);
    let source = alert_source(s);
    let rows = found
        .into_iter()
        .map(|(_, r)| match r {
            Row::Alert(a) => alert_row(s, a, &source, as_of),
            Row::Finding(f) => finding_row(f),
        })
        .collect();
    (rows, matched)
}

/// The worst firing rows (nothing resolved, nothing held back), worst
/// first then newest, at most `limit` of them built; and how many there
/// are in all.
pub(crate) fn worst_first(s: &Snapshot, limit: usize) -> (Vec<AlertRow>, usize) {
    let q = AlertQuery {
        limit: Some(limit),
        ..AlertQuery::default()
    };
    page(s, &q, &|_| true, Order::WorstFirst)
}

/// The firing rows (nothing resolved, nothing held back) whose labels
/// `about` accepts, worst first then newest, at most `limit`.
pub(crate) fn about(
    s: &Snapshot,
    limit: usize,
    about: impl Fn(&sentinel_model::Labels) -> bool,
) -> Vec<AlertRow> {
    let q = AlertQuery {
        limit: Some(limit),
        ..AlertQuery::default()
    };
    page(s, &q, &|x| about(x.labels), Order::WorstFirst).0
}

/// The overview's page of the feed: no filter, nothing held back.
pub(crate) fn newest(s: &Snapshot, limit: usize) -> Vec<AlertRow> {
    let q = AlertQuery {
        limit: Some(limit),
        ..AlertQuery::default()
    };
    rows(s, &q, &AlertFilter::default())
}

/// Every row, those held back included (marked): a replayed moment shows
/// all that was recorded.
pub(crate) fn everything(s: &Snapshot) -> Vec<AlertRow> {
    let q = AlertQuery {
        held: true,
        ..AlertQuery::default()
    };
    rows(s, &q, &AlertFilter::default())
}

/// Firing alerts and findings, less the alerts Alertmanager holds back.
pub fn firing_count(s: &Snapshot) -> usize {
    s.alerts.iter().filter(|a| !a.held_back()).count()
        + s.findings
            .iter()
            .filter(|f| f.state == RuleState::Firing)
            .count()
}

/// Alerts Alertmanager holds back.
pub fn held_count(s: &Snapshot) -> usize {
    s.alerts.iter().filter(|a| a.held_back()).count()
}

/// The worst severity firing now, from either origin, less what
/// Alertmanager holds back and findings marked false positives.
pub fn worst(s: &Snapshot) -> Option<Severity> {
    s.alerts
        .iter()
        .filter(|a| !a.held_back())
        .map(Alert::severity)
        .chain(
            s.findings
                .iter()
                .filter(|f| {
                    f.state == RuleState::Firing
                        && f.mark()
                            .is_none_or(|m| m.mark != sentinel_model::Mark::FalsePositive)
                })
                .map(|f| f.severity),
        )
        .max()
}

#[cfg(test)]
#[path = "feed_tests.rs"]
pub(crate) mod tests;
