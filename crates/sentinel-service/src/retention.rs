//! The History page's retention box: how long samples are kept, the disk
//! budget, and what the history takes now; and the trends drawn from what
//! it keeps (rollups and raw samples).

use sentinel_model::Timestamp;
use sentinel_protocol::{
    DASHBOARD_METRICS, ErrorKind, HistoryUsage, IpcError, RetentionSettings, RetentionView,
    TREND_POINTS, Trend, TrendPoint, TrendQuery,
};
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

/// `q.metric` over the last `q.days` of the history (counted back from its
/// newest sample), thinned to at most [`TREND_POINTS`] buckets.
pub async fn history_trend(rt: &Runtime, q: &TrendQuery) -> Result<Trend, IpcError> {
    if !DASHBOARD_METRICS.contains(&q.metric.as_str()) {
        return Err(IpcError::new(
            ErrorKind::InvalidArgument,
            format!(
                "{} is not one of {}",
                q.metric,
                DASHBOARD_METRICS.join(", ")
            ),
        ));
    }
    if !(1..=3650).contains(&q.days) {
        return Err(IpcError::new(
            ErrorKind::InvalidArgument,
            "days must be 1 to 3650",
        ));
    }
    let store = rt.history().ok_or_else(unrecorded)?;
    let newest = store.usage().await.map_err(failed)?.newest_raw_ms;
    let to = newest.unwrap_or_else(|| rt.snapshot().at.millis());
    let from = to.saturating_sub(i64::from(q.days) * 86_400_000);
    let labels = sentinel_model::Labels::default();
    let (minutes, raw_from) = store
        .minutes(&q.metric, &labels, from, to)
        .await
        .map_err(failed)?;
    // Thinned over what the history holds of the span: a young history
    // gets one-minute points, not a week's worth of buckets.
    let from = minutes.first().map_or(from, |m| m.minute_ms.max(from));
    let span_minutes = u64::try_from((to - from) / 60_000 + 1).unwrap_or(1);
    let per = i64::try_from(span_minutes.div_ceil(TREND_POINTS as u64).max(1)).unwrap_or(1);
    let bucket_ms = per * 60_000;
    let mut points: Vec<TrendPoint> = Vec::new();
    let mut weight = 0.0;
    for m in &minutes {
        let start = from + (m.minute_ms - from).div_euclid(bucket_ms) * bucket_ms;
        let n = m.count as f64;
        match points.last_mut() {
            Some(p) if p.0 == start => {
                p.1 = p.1.min(m.min);
                p.3 = p.3.max(m.max);
                p.2 = (p.2 * weight + m.avg * n) / (weight + n);
                weight += n;
            }
            _ => {
                points.push(TrendPoint(start, m.min, m.avg, m.max));
                weight = n;
            }
        }
    }
    Ok(Trend {
        metric: q.metric.clone(),
        from: Timestamp(from),
        to: Timestamp(to),
        bucket_minutes: u32::try_from(per).unwrap_or(u32::MAX),
        points,
        raw_since: raw_from.map(Timestamp),
    })
}
