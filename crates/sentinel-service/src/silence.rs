//! Silences set and expired from the alert feed, in the Alertmanager the
//! runtime polls (or the demo's own). A silence matches labels of its alert, each equal to the
//! alert's value: all of them by default (as an acknowledged incident's do),
//! so it holds back that alert and nothing else, or those the operator keeps
//! (`alertname` and `node`: the same alert on every pod of a node). Both
//! actions go to the audit log under the operator's name; the alerts show
//! as held back at the next poll of Alertmanager.

use sentinel_model::{Duration, Timestamp};
use sentinel_prom::{Matcher, NewSilence};
use sentinel_protocol::{
    ErrorKind, HoldingSilence, IpcError, MAX_SILENCE_MINUTES, SilenceArgs, SilenceRef, SilenceSet,
};
use sentinel_runtime::Runtime;
use sentinel_runtime::silences::SilenceTarget;

/// The longest comment kept: Alertmanager takes any, the feed shows a line.
const MAX_COMMENT: usize = 1_000;

fn invalid(message: impl Into<String>) -> IpcError {
    IpcError::new(ErrorKind::InvalidArgument, message)
}

fn alertmanager(rt: &Runtime) -> Result<&SilenceTarget, IpcError> {
    rt.silences().ok_or_else(|| {
        IpcError::new(
            ErrorKind::Unavailable,
            "no Alertmanager is configured: silences are kept there (Connections)",
        )
    })
}

/// The silence `args` asks for, checked: what the alert is, how long, why.
fn new_silence(
    s: &sentinel_runtime::Snapshot,
    args: &SilenceArgs,
    by: &str,
    now: Timestamp,
) -> Result<NewSilence, IpcError> {
    let Some(alert) = s.alerts.iter().find(|a| a.fingerprint == args.fingerprint) else {
        if s.finding(&args.fingerprint).is_some() {
            return Err(invalid(
                "this is Sentinel's own finding, not Alertmanager's: mark it a false positive instead",
            ));
        }
        return Err(IpcError::new(
            ErrorKind::NotFound,
            format!(
                "Alertmanager no longer reports alert {}; it may have resolved",
                args.fingerprint
            ),
        ));
    };
    if args.minutes == 0 || args.minutes > MAX_SILENCE_MINUTES {
        return Err(invalid(format!(
            "a silence lasts from 1 minute to {} days, not {} minutes",
            MAX_SILENCE_MINUTES / (24 * 60),
            args.minutes
        )));
    }
    let comment = args.comment.trim();
    if comment.is_empty() {
        return Err(invalid(
            "say why in the comment: Alertmanager keeps it with the silence",
        ));
    }
    if let Some(missing) = args.labels.iter().find(|k| !alert.labels.contains_key(*k)) {
        return Err(invalid(format!("the alert has no label {missing:?}")));
    }
    let matchers: Vec<Matcher> = alert
        .labels
        .iter()
        .filter(|(k, _)| args.labels.is_empty() || args.labels.contains(k))
        .map(|(k, v)| Matcher::equal(k.clone(), v.clone()))
        .collect();
    if matchers.is_empty() {
        return Err(invalid("the alert has no labels to match"));
    }
    Ok(NewSilence {
        id: None,
        matchers,
        starts_at: now,
        ends_at: now.saturating_add(Duration::from_mins(i64::from(args.minutes))),
        created_by: by.to_string(),
        comment: comment.chars().take(MAX_COMMENT).collect(),
    })
}

/// `name="value"` of each matcher.
fn shown(matchers: &[Matcher]) -> Vec<String> {
    matchers
        .iter()
        .map(|m| format!("{}=\"{}\"", m.name, m.value))
        .collect()
}

/// How many of `s`'s alerts every matcher (all equality) holds for.
fn matching(s: &sentinel_runtime::Snapshot, matchers: &[Matcher]) -> usize {
    s.alerts
        .iter()
        .filter(|a| {
            matchers
                .iter()
                .all(|m| a.labels.get(&m.name) == Some(&m.value))
        })
        .count()
}

/// Silences an alert (or, with fewer labels, the alerts sharing them) for
/// `args.minutes`, as `by`.
pub async fn silence_alert(
    rt: &Runtime,
    args: &SilenceArgs,
    by: &str,
) -> Result<SilenceSet, IpcError> {
    let am = alertmanager(rt)?;
    let snap = rt.snapshot();
    let silence = new_silence(&snap, args, by, rt.now())?;
    let matchers = shown(&silence.matchers);
    let id = am.create(&silence).await.map_err(|e| {
        IpcError::new(
            ErrorKind::Unavailable,
            format!("{} did not take the silence: {e}", am.name()),
        )
    })?;
    let detail = format!(
        "silence {id} on {{{}}} until {}: {}",
        matchers.join(", "),
        silence.ends_at.to_rfc3339(),
        silence.comment
    );
    rt.audit(by.to_string(), "silenced", args.fingerprint.clone(), detail)
        .await
        .map_err(crate::ipc_error)?;
    Ok(SilenceSet {
        matching: matching(&snap, &silence.matchers),
        matchers,
        silence: HoldingSilence {
            id,
            until: Some(silence.ends_at),
            by: silence.created_by,
            comment: silence.comment,
        },
    })
}

/// Expires a silence now, as `by`.
pub async fn expire_silence(rt: &Runtime, args: &SilenceRef, by: &str) -> Result<(), IpcError> {
    let am = alertmanager(rt)?;
    let id = args.id.trim();
    if id.is_empty() {
        return Err(invalid("which silence? The id is empty"));
    }
    am.expire(id, rt.now()).await.map_err(|e| {
        let kind = if e.contains("not found") {
            ErrorKind::NotFound
        } else {
            ErrorKind::Unavailable
        };
        IpcError::new(
            kind,
            format!("{} did not expire silence {id}: {}", am.name(), e),
        )
    })?;
    rt.audit(by.to_string(), "unsilenced", id.to_string(), String::new())
        .await
        .map_err(crate::ipc_error)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sentinel_model::Alert;
    use sentinel_runtime::Snapshot;
    use sentinel_runtime::snapshot::Mode;

    use super::*;

    fn alert(fp: &str, pod: &str) -> Alert {
        crate::feed::tests::alert(
            fp,
            "HighErrorRate",
            "warning",
            0,
            &[("service", "checkout"), ("pod", pod)],
        )
    }

    fn snap() -> Snapshot {
        let mut s = Snapshot::empty(Mode::Live, Timestamp(0));
        s.alerts = Arc::new(vec![alert("f1", "checkout-1"), alert("f2", "checkout-2")]);
        s
    }

    fn args(fp: &str, minutes: u32, comment: &str) -> SilenceArgs {
        SilenceArgs {
            fingerprint: fp.into(),
            minutes,
            comment: comment.into(),
            labels: Vec::new(),
        }
    }

    #[test]
    fn a_silence_matches_its_alert_exactly_for_as_long_as_asked() {
        let now = Timestamp(1_000);
        let s = new_silence(
            &snap(),
            &args("f1", 90, "  deploy in progress "),
            "ana",
            now,
        )
        .unwrap();
        assert_eq!(
            s.matchers,
            [
                Matcher::equal("alertname", "HighErrorRate"),
                Matcher::equal("pod", "checkout-1"),
                Matcher::equal("service", "checkout"),
                Matcher::equal("severity", "warning")
            ]
        );
        assert_eq!(matching(&snap(), &s.matchers), 1);
        assert_eq!(shown(&s.matchers)[1], r#"pod="checkout-1""#);
        assert_eq!(
            (s.starts_at, s.ends_at),
            (now, Timestamp(1_000 + 5_400_000))
        );
        assert_eq!(
            (s.created_by.as_str(), s.comment.as_str()),
            ("ana", "deploy in progress")
        );
        assert_eq!(s.id, None);
        // Fewer labels: every pod's alert.
        let wider = SilenceArgs {
            labels: vec!["alertname".into(), "service".into()],
            ..args("f1", 90, "x")
        };
        let w = new_silence(&snap(), &wider, "ana", now).unwrap();
        assert_eq!(
            w.matchers,
            [
                Matcher::equal("alertname", "HighErrorRate"),
                Matcher::equal("service", "checkout")
            ]
        );
        assert_eq!(matching(&snap(), &w.matchers), 2);
    }

    #[test]
    fn a_silence_that_cannot_be_set_says_why() {
        let now = Timestamp(0);
        let err = |a: SilenceArgs| new_silence(&snap(), &a, "ana", now).unwrap_err();
        let e = err(args("gone", 60, "x"));
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(e.message.contains("no longer reports"), "{}", e.message);
        let e = err(args("f1", 0, "x"));
        assert!(
            e.message.contains("from 1 minute to 7 days"),
            "{}",
            e.message
        );
        assert_eq!(
            err(args("f1", MAX_SILENCE_MINUTES + 1, "x")).kind,
            ErrorKind::InvalidArgument
        );
        let e = err(args("f1", 60, "   "));
        assert!(e.message.contains("say why"), "{}", e.message);
        let e = err(SilenceArgs {
            labels: vec!["node".into()],
            ..args("f1", 60, "x")
        });
        assert!(e.message.contains(r#"no label "node""#), "{}", e.message);
    }
}
