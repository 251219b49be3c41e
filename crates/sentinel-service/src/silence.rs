//! Silences set and expired from the alert feed, in the Alertmanager the
//! runtime polls. A silence matches every label of its alert exactly (as an
//! acknowledged incident's do), so it holds back that alert and nothing
//! else. Both actions go to the audit log under the operator's name; the
//! alert shows as held back at the next poll of Alertmanager.

use sentinel_model::{Duration, Timestamp};
use sentinel_prom::{Matcher, NewSilence};
use sentinel_protocol::{
    ErrorKind, HoldingSilence, IpcError, MAX_SILENCE_MINUTES, SilenceArgs, SilenceRef,
};
use sentinel_runtime::Runtime;

/// The longest comment kept: Alertmanager takes any, the feed shows a line.
const MAX_COMMENT: usize = 1_000;

fn invalid(message: impl Into<String>) -> IpcError {
    IpcError::new(ErrorKind::InvalidArgument, message)
}

fn alertmanager(rt: &Runtime) -> Result<&sentinel_prom::Alertmanager, IpcError> {
    rt.alertmanager().ok_or_else(|| {
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
    if alert.labels.is_empty() {
        return Err(invalid("the alert has no labels to match"));
    }
    Ok(NewSilence {
        id: None,
        matchers: alert
            .labels
            .iter()
            .map(|(k, v)| Matcher::equal(k.clone(), v.clone()))
            .collect(),
        starts_at: now,
        ends_at: now.saturating_add(Duration::from_mins(i64::from(args.minutes))),
        created_by: by.to_string(),
        comment: comment.chars().take(MAX_COMMENT).collect(),
    })
}

/// Silences one alert for `args.minutes`, as `by`.
pub async fn silence_alert(
    rt: &Runtime,
    args: &SilenceArgs,
    by: &str,
) -> Result<HoldingSilence, IpcError> {
    let am = alertmanager(rt)?;
    let snap = rt.snapshot();
    let silence = new_silence(&snap, args, by, rt.now())?;
    let name = snap
        .alerts
        .iter()
        .find(|a| a.fingerprint == args.fingerprint)
        .map(|a| a.name().to_string())
        .unwrap_or_default();
    let id = am.create_silence(&silence).await.map_err(|e| {
        IpcError::new(
            ErrorKind::Unavailable,
            format!("Alertmanager did not take the silence: {e}"),
        )
    })?;
    let detail = format!(
        "silence {id} on {name} until {}: {}",
        silence.ends_at.to_rfc3339(),
        silence.comment
    );
    rt.audit(by.to_string(), "silenced", args.fingerprint.clone(), detail)
        .await
        .map_err(crate::ipc_error)?;
    Ok(HoldingSilence {
        id,
        until: Some(silence.ends_at),
        by: silence.created_by,
        comment: silence.comment,
    })
}

/// Expires a silence now, as `by`.
pub async fn expire_silence(rt: &Runtime, args: &SilenceRef, by: &str) -> Result<(), IpcError> {
    let am = alertmanager(rt)?;
    let id = args.id.trim();
    if id.is_empty() {
        return Err(invalid("which silence? The id is empty"));
    }
    am.expire_silence(id).await.map_err(|e| {
        let e = e.to_string();
        let kind = if e.contains("not found") {
            ErrorKind::NotFound
        } else {
            ErrorKind::Unavailable
        };
        IpcError::new(
            kind,
            format!("Alertmanager did not expire silence {id}: {e}"),
        )
    })?;
    rt.audit(by.to_string(), "unsilenced", id.to_string(), String::new())
        .await
        .map_err(crate::ipc_error)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sentinel_model::{Alert, AlertState, Labels};
    use sentinel_runtime::Snapshot;
    use sentinel_runtime::snapshot::Mode;

    use super::*;

    fn snap() -> Snapshot {
        let mut s = Snapshot::empty(Mode::Live, Timestamp(0));
        let labels: Labels = [("alertname", "HighErrorRate"), ("service", "checkout")]
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        s.alerts = Arc::new(vec![Alert {
            fingerprint: "f1".into(),
            labels,
            annotations: Labels::new(),
            starts_at: Timestamp(0),
            ends_at: None,
            state: AlertState::Active,
            generator_url: String::new(),
            silenced_by: Vec::new(),
            inhibited_by: Vec::new(),
        }]);
        s
    }

    fn args(fp: &str, minutes: u32, comment: &str) -> SilenceArgs {
        SilenceArgs {
            fingerprint: fp.into(),
            minutes,
            comment: comment.into(),
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
                Matcher::equal("service", "checkout")
            ]
        );
        assert_eq!(
            (s.starts_at, s.ends_at),
            (now, Timestamp(1_000 + 5_400_000))
        );
        assert_eq!(
            (s.created_by.as_str(), s.comment.as_str()),
            ("ana", "deploy in progress")
        );
        assert_eq!(s.id, None);
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
    }
}
