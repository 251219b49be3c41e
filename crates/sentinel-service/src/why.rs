//! The merged alert feed (Alertmanager's alerts and the engine's findings)
//! and "Why this alert?" for each row.

use sentinel_model::{Alert, Finding, Timestamp, num};
use sentinel_protocol::{AlertOrigin, Explanation, SilentAlertmanager};
use sentinel_runtime::Snapshot;
use sentinel_runtime::snapshot::Health;

/// Alertmanager's last answer, while it is not answering (stale or down):
/// the alerts the app holds are as of then.
pub(crate) fn alertmanager_silent_since(s: &Snapshot) -> Option<Timestamp> {
    silent_alertmanager(s).and_then(|a| a.since)
}

/// Set while an Alertmanager source is stale or down, with its last answer.
pub(crate) fn silent_alertmanager(s: &Snapshot) -> Option<SilentAlertmanager> {
    let mut silent = s
        .sources
        .iter()
        .filter(|x| x.kind == "alertmanager")
        .filter(|x| matches!(x.health, Health::Stale | Health::Down))
        .peekable();
    silent.peek()?;
    Some(SilentAlertmanager {
        since: silent.filter_map(|x| x.last_ok).min(),
    })
}

/// Why an alert or finding fired, as the app holds it now. `None` when it
/// no longer does ([`crate::explain_ref`] then reads the history).
pub fn explain(s: &Snapshot, fingerprint: &str) -> Option<Explanation> {
    explain_live(s, fingerprint)
}

pub(crate) fn explain_live(s: &Snapshot, fingerprint: &str) -> Option<Explanation> {
    if let Some(f) = s.finding(fingerprint) {
        return Some(finding_explanation(f, false));
    }
    let a = s.alerts.iter().find(|a| a.fingerprint == fingerprint)?;
    Some(Explanation {
        fingerprint: a.fingerprint.clone(),
        title: a.name().to_string(),
        origin: AlertOrigin::Alertmanager,
        severity: a.severity(),
        state: format!("{:?}", a.state).to_lowercase(),
        steps: external_steps(a, s),
        trace: None,
        mark: None,
        from_history: false,
    })
}

pub(crate) fn finding_explanation(f: &Finding, from_history: bool) -> Explanation {
    Explanation {
        fingerprint: f.id.clone(),
        title: format!("{} on {}", f.rule, f.series),
        origin: AlertOrigin::Engine,
        severity: f.severity,
        state: f.state.as_str().to_string(),
        steps: f.trace.sentences(),
        trace: Some(f.trace.clone()),
        mark: f.mark().map(|m| m.mark),
        from_history,
    }
}

/// What can honestly be said of an alert evaluated elsewhere: what
/// Alertmanager reports, and the engine's own findings on the same object.
fn external_steps(a: &Alert, s: &Snapshot) -> Vec<String> {
    let mut steps = vec![
        format!(
            "Alertmanager reports {} as {:?} since {}, severity {}.",
            a.name(),
            a.state,
            a.starts_at.to_rfc3339(),
            a.severity().as_str()
        )
        .replace("Active", "firing"),
    ];
    steps.extend(alert_facts(a));
    let same_object = |f: &&Finding| {
        ["pod", "node", "namespace"]
            .iter()
            .filter_map(|k| a.labels.get(*k).map(|v| (k, v)))
            .any(|(k, v)| f.series.labels.get(*k) == Some(v))
            && (!a.labels.contains_key("pod") || f.series.labels.get("pod") == a.labels.get("pod"))
    };
    for f in s.findings.iter().filter(same_object).take(3) {
        steps.push(format!(
            "Sentinel's own finding on the same object: {} ({}, {}) — {}",
            f.rule,
            f.severity.as_str(),
            f.state.as_str(),
            f.trace.explanation
        ));
    }
    if let Some(held) = crate::feed::held_back(s, a) {
        steps.push(crate::feed::held_sentence(&held));
    }
    if let Some(v) = a.labels.get("value").and_then(|v| v.parse::<f64>().ok()) {
        steps.push(format!("The value Alertmanager carries is {}.", num(v)));
    }
    if let Some(t) = alertmanager_silent_since(s) {
        steps.push(format!(
            "Alertmanager has not answered since {}: this is its last report, and the alert may have resolved since.",
            t.to_rfc3339()
        ));
    }
    steps
}

/// An alert's labels and its rule's description, and where it was decided.
pub(crate) fn alert_facts(a: &Alert) -> Vec<String> {
    let labels = a
        .labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut steps = vec![format!("Labels: {labels}.")];
    if let Some(d) = a.annotations.get("description") {
        steps.push(format!("Its rule says: {d}"));
    }
    steps.push(
        "Prometheus evaluated the rule's expression; Sentinel sees only what Alertmanager reports, so there is no local trace for it."
            .into(),
    );
    steps
}

/// Record the operator's verdict and return the updated explanation.
pub async fn mark_finding(
    rt: &sentinel_runtime::Runtime,
    args: &sentinel_protocol::MarkArgs,
) -> Result<Explanation, sentinel_protocol::IpcError> {
    use sentinel_protocol::{ErrorKind, IpcError};
    let marked = rt
        .mark_finding(args.fingerprint.clone(), args.mark)
        .await
        .map_err(crate::ipc_error)?;
    let Some(at) = marked else {
        return crate::why_past::mark_recorded(rt, args).await;
    };
    // The loop publishes after a mark; wait for the snapshot that has it.
    let mut rx = rt.subscribe();
    let fp = args.fingerprint.clone();
    let mark = args.mark;
    let wait = rx.wait_for(|s| {
        s.finding(&fp)
            .is_none_or(|f| f.mark().map(|m| m.mark) == Some(mark))
    });
    let snap = tokio::time::timeout(std::time::Duration::from_secs(5), wait)
        .await
        .map_err(|_| IpcError::new(ErrorKind::Unavailable, "the backend is busy; try again"))?
        .map_err(|_| IpcError::new(ErrorKind::Unavailable, "the backend has stopped"))?
        .clone();
    match explain(&snap, &args.fingerprint) {
        Some(e) => Ok(e),
        // An older resolved finding: the engine holds it, the snapshot not.
        None => crate::why_past::marked_in_history(rt, args, at).await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sentinel_model::{AlertState, Duration, Labels};
    use sentinel_runtime::snapshot::{Mode, SourceStatus};

    use super::*;
    use crate::feed::alerts;
    use sentinel_protocol::AlertQuery;

    fn snap(kind: &'static str, health: Health) -> Snapshot {
        let mut labels = Labels::new();
        labels.insert("alertname".into(), "KubePodCrashLooping".into());
        labels.insert("severity".into(), "warning".into());
        let mut s = Snapshot::empty(Mode::Live, Timestamp(200_000));
        s.sources = vec![SourceStatus {
            name: kind.into(),
            kind,
            interval: Duration::from_secs(10),
            health,
            last_ok: Some(Timestamp(90_000)),
            last_error: None,
            latency: None,
            notes: Vec::new(),
        }];
        s.alerts = Arc::new(vec![Alert {
            fingerprint: "a1".into(),
            labels,
            annotations: Labels::new(),
            starts_at: Timestamp(10_000),
            ends_at: None,
            state: AlertState::Active,
            generator_url: String::new(),
            silenced_by: Vec::new(),
            inhibited_by: Vec::new(),
        }]);
        s
    }

    /// While Alertmanager does not answer, its alerts are its last report:
    /// the feed and "Why?" say as of when.
    #[test]
    fn alerts_of_a_silent_alertmanager_say_as_of_when() {
        for health in [Health::Stale, Health::Down] {
            let s = snap("alertmanager", health);
            let rows = alerts(&s, &AlertQuery::default()).unwrap();
            assert_eq!(rows[0].as_of, Some(Timestamp(90_000)), "{health:?}");
            assert_eq!(rows[0].source, "alertmanager");
            let why = explain(&s, "a1").unwrap();
            assert!(
                why.steps
                    .last()
                    .is_some_and(|l| l.starts_with("Alertmanager has not answered since")),
                "{:?}",
                why.steps
            );
        }
        let mut s = snap("alertmanager", Health::Down);
        s.sources[0].last_ok = None;
        assert_eq!(
            silent_alertmanager(&s),
            Some(SilentAlertmanager { since: None }),
            "never answered"
        );
        let s = snap("alertmanager", Health::Ok);
        assert_eq!(alerts(&s, &AlertQuery::default()).unwrap()[0].as_of, None);
        assert_eq!(silent_alertmanager(&s), None);
        // Another source being down says nothing about Alertmanager's alerts.
        let s = snap("prometheus", Health::Down);
        assert_eq!(alerts(&s, &AlertQuery::default()).unwrap()[0].as_of, None);
    }
}
