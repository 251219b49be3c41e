//! "Why?" for what the app no longer holds: a finding resolved long enough
//! ago that newer ones pushed it out, or an Alertmanager alert that has
//! stopped firing. Both are read back from the history as last recorded, so
//! an incident's timeline can explain every member however old it is.

use sentinel_model::{Alert, Finding, Mark, OperatorMark, Timestamp};
use sentinel_protocol::{AlertOrigin, AlertRef, ErrorKind, Explanation, IpcError};
use sentinel_runtime::Runtime;

use crate::why::{alert_facts, explain_live, finding_explanation};

/// One firing of an alert, as the history recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct PastAlert {
    /// The alert as last recorded during this firing.
    pub alert: Alert,
    /// When the app first saw it.
    pub seen_at: Timestamp,
    /// When it stopped being reported; `None` if the history does not say
    /// (the app was not running then).
    pub gone_at: Option<Timestamp>,
}

/// The firings in one alert's recorded changes (oldest first). Alertmanager
/// keeps the fingerprint when an alert fires again, so a firing ends when
/// the alert goes away or comes back with a new start.
pub fn firings(changes: &[(Timestamp, Option<Alert>)]) -> Vec<PastAlert> {
    let mut out: Vec<PastAlert> = Vec::new();
    let mut open = false;
    for (at, alert) in changes {
        match alert {
            Some(a) => match out.last_mut() {
                Some(last) if open && last.alert.starts_at == a.starts_at => {
                    last.alert = a.clone();
                }
                last => {
                    if let Some(last) = last.filter(|_| open) {
                        last.gone_at = Some(*at);
                    }
                    out.push(PastAlert {
                        alert: a.clone(),
                        seen_at: *at,
                        gone_at: None,
                    });
                    open = true;
                }
            },
            None => {
                if let Some(last) = out.last_mut().filter(|_| open) {
                    last.gone_at = Some(*at);
                }
                open = false;
            }
        }
    }
    out
}

/// The firing that started at `since`, or else the latest; and whether it
/// is the one asked for.
fn pick(firings: &[PastAlert], since: Option<Timestamp>) -> Option<(&PastAlert, bool)> {
    let wanted = since.and_then(|t| firings.iter().rev().find(|p| p.alert.starts_at == t));
    match wanted {
        Some(p) => Some((p, true)),
        None => firings.last().map(|p| (p, since.is_none())),
    }
}

/// What the history says of one firing of an alert evaluated elsewhere.
pub fn past_alert_explanation(p: &PastAlert, since: Option<Timestamp>, exact: bool) -> Explanation {
    let a = &p.alert;
    let mut steps = Vec::new();
    if !exact && let Some(t) = since {
        steps.push(format!(
            "The history holds no firing of this alert that started at {}; this is its latest.",
            t.to_rfc3339()
        ));
    }
    let until = match p.gone_at {
        Some(t) => format!(
            " until {}, when Alertmanager stopped reporting it",
            t.to_rfc3339()
        ),
        None => "; the history holds no later record of it".into(),
    };
    steps.push(format!(
        "Alertmanager reported {} as firing since {}, severity {}; Sentinel saw it from {}{until}.",
        a.name(),
        a.starts_at.to_rfc3339(),
        a.severity().as_str(),
        p.seen_at.to_rfc3339(),
    ));
    steps.extend(alert_facts(a));
    Explanation {
        fingerprint: a.fingerprint.clone(),
        title: a.name().to_string(),
        origin: AlertOrigin::Alertmanager,
        severity: a.severity(),
        state: if p.gone_at.is_some() {
            "resolved".into()
        } else {
            "no longer reported".into()
        },
        steps,
        trace: None,
        mark: None,
        from_history: true,
    }
}

fn unreadable(e: sentinel_runtime::StoreError) -> IpcError {
    IpcError::new(
        ErrorKind::Unavailable,
        format!("the history could not be read: {e}"),
    )
}

/// Why an alert or finding fired: as the app holds it now, or else as the
/// history last recorded it.
pub async fn explain_ref(rt: &Runtime, r: &AlertRef) -> Result<Explanation, IpcError> {
    let snap = rt.snapshot();
    let live = explain_live(&snap, &r.fingerprint);
    // A live alert that started at another time is a later firing.
    let same_firing = |e: &Explanation| {
        e.origin == AlertOrigin::Engine
            || r.since.is_none()
            || snap
                .alerts
                .iter()
                .any(|a| a.fingerprint == r.fingerprint && Some(a.starts_at) == r.since)
    };
    if let Some(e) = live.as_ref().filter(|e| same_firing(e)) {
        return Ok(e.clone());
    }
    if !rt.has_history() {
        return live.ok_or_else(|| {
            IpcError::new(
                ErrorKind::NotFound,
                "the app no longer holds that alert, and keeps no history to look it up in",
            )
        });
    }
    let ids = [r.fingerprint.clone()];
    if let Some(f) = rt.stored_findings(&ids).await.map_err(unreadable)?.pop() {
        return Ok(finding_explanation(&f, true));
    }
    let changes = rt.stored_alert(&r.fingerprint).await.map_err(unreadable)?;
    let firings = firings(&changes);
    match (pick(&firings, r.since), live) {
        (Some((p, true)), _) => Ok(past_alert_explanation(p, r.since, true)),
        (_, Some(live)) => Ok(live),
        (Some((p, false)), None) => Ok(past_alert_explanation(p, r.since, false)),
        (None, None) => Err(IpcError::new(
            ErrorKind::NotFound,
            "that alert is not in the history either (its retention may have removed it)",
        )),
    }
}

/// A finding as last recorded, if the history holds it.
async fn stored_finding(rt: &Runtime, id: &str) -> Result<Option<Finding>, IpcError> {
    if !rt.has_history() {
        return Ok(None);
    }
    let ids = [id.to_string()];
    Ok(rt.stored_findings(&ids).await.map_err(unreadable)?.pop())
}

fn with_mark(mut f: Finding, mark: Mark, at: Timestamp) -> Explanation {
    f.trace.mark = Some(OperatorMark { mark, at });
    finding_explanation(&f, true)
}

/// Marks a finding the engine no longer holds but the history does: the
/// verdict goes to the history, and the answer is the finding as recorded
/// with it.
pub(crate) async fn mark_recorded(
    rt: &Runtime,
    args: &sentinel_protocol::MarkArgs,
) -> Result<Explanation, IpcError> {
    let unknown = || {
        IpcError::new(
            ErrorKind::NotFound,
            "only Sentinel's own findings can be marked, and the history does not hold this one",
        )
    };
    let f = stored_finding(rt, &args.fingerprint)
        .await?
        .ok_or_else(unknown)?;
    let at = rt
        .mark_recorded(args.fingerprint.clone(), args.mark)
        .await
        .map_err(crate::ipc_error)?
        .ok_or_else(unknown)?;
    Ok(with_mark(f, args.mark, at))
}

/// A finding the engine marked at `at` but the app's picture no longer
/// shows (an older resolved one), as the history recorded it.
pub(crate) async fn marked_in_history(
    rt: &Runtime,
    args: &sentinel_protocol::MarkArgs,
    at: Timestamp,
) -> Result<Explanation, IpcError> {
    let f = stored_finding(rt, &args.fingerprint)
        .await?
        .ok_or_else(|| {
            IpcError::new(
                ErrorKind::NotFound,
                "the mark is kept, but the finding is no longer shown",
            )
        })?;
    Ok(with_mark(f, args.mark, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_model::AlertState;

    fn alert(start: i64, summary: &str) -> Alert {
        Alert {
            fingerprint: "f1".into(),
            labels: [
                ("alertname".to_string(), "HighErrorRate".to_string()),
                ("severity".to_string(), "critical".to_string()),
                ("service".to_string(), "checkout".to_string()),
            ]
            .into_iter()
            .collect(),
            annotations: [("summary".to_string(), summary.to_string())]
                .into_iter()
                .collect(),
            starts_at: Timestamp(start),
            ends_at: None,
            state: AlertState::Active,
            generator_url: String::new(),
            silenced_by: Vec::new(),
            inhibited_by: Vec::new(),
        }
    }

    fn t(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    #[test]
    fn an_alerts_changes_split_into_its_firings() {
        let changes = vec![
            (t(100), Some(alert(90, "a"))),
            (t(200), Some(alert(90, "a, changed"))),
            (t(300), None),
            (t(400), Some(alert(390, "b"))),
            // A new start with no gap between: a new firing.
            (t(500), Some(alert(480, "c"))),
        ];
        let f = firings(&changes);
        assert_eq!(f.len(), 3);
        assert_eq!(
            (f[0].seen_at, f[0].gone_at, f[0].alert.summary()),
            (t(100), Some(t(300)), "a, changed")
        );
        assert_eq!((f[1].seen_at, f[1].gone_at), (t(400), Some(t(500))));
        assert_eq!((f[2].seen_at, f[2].gone_at), (t(500), None));
        // A removal with nothing open, and nothing at all.
        assert!(firings(&[(t(1), None)]).is_empty());
        assert!(firings(&[]).is_empty());
    }

    #[test]
    fn the_firing_asked_for_is_explained_and_a_missing_one_said_so() {
        let f = firings(&[
            (t(100), Some(alert(90, "first"))),
            (t(300), None),
            (t(400), Some(alert(390, "second"))),
            (t(600), None),
        ]);
        let (p, exact) = pick(&f, Some(t(90))).unwrap();
        assert!(exact);
        let e = past_alert_explanation(p, Some(t(90)), exact);
        assert!(e.from_history && e.trace.is_none() && e.mark.is_none());
        assert_eq!(e.state, "resolved");
        assert_eq!(e.severity, sentinel_model::Severity::Critical);
        assert!(
            e.steps[0].starts_with(
                "Alertmanager reported HighErrorRate as firing since 1970-01-01T00:00:00.090Z, severity critical; Sentinel saw it from 1970-01-01T00:00:00.100Z until 1970-01-01T00:00:00.300Z"
            ),
            "{}",
            e.steps[0]
        );
        assert!(e.steps.iter().any(|s| s.contains("service=\"checkout\"")));

        let (p, exact) = pick(&f, Some(t(12))).unwrap();
        assert!(!exact);
        let e = past_alert_explanation(p, Some(t(12)), exact);
        assert!(e.steps[0].starts_with(
            "The history holds no firing of this alert that started at 1970-01-01T00:00:00.012Z"
        ));
        assert!(e.steps[1].contains("since 1970-01-01T00:00:00.390Z"));

        // Still reported when the history ends: it does not say when it stopped.
        let f = firings(&[(t(100), Some(alert(90, "open")))]);
        let (p, exact) = pick(&f, None).unwrap();
        let e = past_alert_explanation(p, None, exact);
        assert_eq!(e.state, "no longer reported");
        assert!(
            e.steps[0].ends_with(
                "from 1970-01-01T00:00:00.100Z; the history holds no later record of it."
            ),
            "{}",
            e.steps[0]
        );
        assert!(pick(&[], Some(t(1))).is_none());
    }
}
