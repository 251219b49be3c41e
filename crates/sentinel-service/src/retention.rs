//! The History page's retention box: how long samples are kept, the disk
//! budget, and what the history takes now.

use sentinel_model::Timestamp;
use sentinel_protocol::{ErrorKind, HistoryUsage, IpcError, RetentionSettings, RetentionView};
use sentinel_runtime::{Runtime, StoreError};

fn unrecorded() -> IpcError {
    IpcError::new(
        ErrorKind::Unavailable,
        "nothing is recorded: there is no history file",
    )
}

fn failed(e: StoreError) -> IpcError {
    match e {
        StoreError::Invalid(m) => IpcError::new(ErrorKind::InvalidArgument, m),
        other => IpcError::new(
            ErrorKind::Unavailable,
            format!("cannot read the history: {other}"),
        ),
    }
}

pub async fn get_retention(rt: &Runtime) -> Result<RetentionView, IpcError> {
    let (r, u) = rt
        .retention()
        .await
        .ok_or_else(unrecorded)?
        .map_err(failed)?;
    let file = rt
        .history()
        .map(|s| s.path().display().to_string())
        .unwrap_or_default();
    Ok(RetentionView {
        settings: RetentionSettings {
            raw_days: r.raw_days,
            rollup_days: r.rollup_days,
            budget_mib: r.budget_mib,
        },
        usage: HistoryUsage {
            file_bytes: u.file_bytes,
            used_bytes: u.used_bytes,
            raw_bytes: u.raw_bytes,
            rollup_minutes: u.rollup_minutes,
            oldest_raw: u.oldest_raw_ms.map(Timestamp),
            newest_raw: u.newest_raw_ms.map(Timestamp),
            oldest_rollup: u.oldest_rollup_ms.map(Timestamp),
            incidents: u.incidents,
        },
        file,
    })
}

/// Keeps `s` in the history, has the writer apply it and audits it as `by`.
pub async fn set_retention(
    rt: &Runtime,
    s: &RetentionSettings,
    by: &str,
) -> Result<RetentionView, IpcError> {
    let r = sentinel_runtime::Retention {
        raw_days: s.raw_days,
        rollup_days: s.rollup_days,
        budget_mib: s.budget_mib,
    };
    rt.set_retention(r)
        .await
        .ok_or_else(unrecorded)?
        .map_err(failed)?;
    let detail = format!(
        "raw {} days, rollups {} days, budget {} MiB",
        s.raw_days, s.rollup_days, s.budget_mib
    );
    rt.audit(by.to_string(), "retention", "history".into(), detail)
        .await
        .map_err(crate::ipc_error)?;
    get_retention(rt).await
}
