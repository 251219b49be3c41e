//! The History page: incidents as the history file holds them, and one of
//! them written as a bundle (redacted on request) for someone else to replay.

use std::path::Path;

use sentinel_model::Duration;
use sentinel_protocol::{
    BundleRequest, ErrorKind, ExportedBundle, HistoryPage, HistoryQuery, IpcError, StoredIncident,
};
use sentinel_runtime::{Clock, Runtime, SystemClock};

/// The most incidents one page lists.
pub const MAX_HISTORY: u32 = 5000;
/// History before an incident that a bundle keeps (the engine warms up on it).
const BUNDLE_LEAD: Duration = Duration::from_mins(15);

fn stored(r: &sentinel_runtime::IncidentSummary) -> StoredIncident {
    StoredIncident {
        id: r.id.clone(),
        title: r.title.clone(),
        state: r.state.clone(),
        severity: r.severity.clone(),
        opened_at: r.opened_at,
        updated_at: r.updated_at,
        namespaces: r.namespaces.clone(),
    }
}

pub async fn list_history(rt: &Runtime, q: &HistoryQuery) -> Result<HistoryPage, IpcError> {
    let limit = q.limit.unwrap_or(200);
    if limit == 0 || limit > MAX_HISTORY {
        return Err(IpcError::new(
            ErrorKind::InvalidArgument,
            format!("limit must be 1 to {MAX_HISTORY}"),
        ));
    }
    let filter = sentinel_runtime::IncidentFilter {
        states: q.state.iter().filter(|s| !s.is_empty()).cloned().collect(),
        namespace: q.namespace.clone().filter(|n| !n.is_empty()),
        limit: Some(limit),
        ..Default::default()
    };
    match rt.stored_incidents(&filter).await {
        None => Ok(HistoryPage {
            rows: Vec::new(),
            recorded: false,
            file: None,
        }),
        Some(Err(e)) => Err(IpcError::new(
            ErrorKind::Unavailable,
            format!("cannot read the history: {e}"),
        )),
        Some(Ok(rows)) => Ok(HistoryPage {
            rows: rows.iter().map(stored).collect(),
            recorded: true,
            file: rt.history().map(|s| s.path().display().to_string()),
        }),
    }
}

/// The history of `rt`, or why there is none.
fn recorded(rt: &Runtime) -> Result<&sentinel_runtime::Store, IpcError> {
    rt.history().ok_or_else(|| {
        IpcError::new(
            ErrorKind::Unavailable,
            "nothing is recorded: there is no history file",
        )
    })
}

/// What a bundle of incident `id` spans: from its opening less the engine's
/// warm-up to its last change.
async fn incident_span(
    store: &sentinel_runtime::Store,
    id: &str,
) -> Result<(sentinel_model::Timestamp, sentinel_model::Timestamp), IpcError> {
    let row = store
        .incident(id)
        .await
        .map_err(|e| {
            IpcError::new(
                ErrorKind::Unavailable,
                format!("cannot read the history: {e}"),
            )
        })?
        .ok_or_else(|| {
            IpcError::new(
                ErrorKind::NotFound,
                format!("the history holds no incident {id}"),
            )
        })?;
    Ok((row.opened_at.saturating_sub(BUNDLE_LEAD), row.updated_at))
}

/// Writes the incident `req.id` as a bundle into `dir`, audited as `by`.
pub async fn bundle_incident(
    rt: &Runtime,
    dir: &Path,
    req: &BundleRequest,
    by: &str,
) -> Result<ExportedBundle, IpcError> {
    let unavailable = |m: String| IpcError::new(ErrorKind::Unavailable, m);
    let store = recorded(rt)?;
    let (from, to) = incident_span(store, &req.id).await?;
    let redacting = req.redact || !req.patterns.is_empty();
    let mut scrubber = sentinel_explain::scrub::Scrubber::new(&req.patterns)
        .map_err(|e| IpcError::new(ErrorKind::InvalidArgument, e.to_string()))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| unavailable(format!("cannot create {}: {e}", dir.display())))?;
    let safe = safe_name(&req.id);
    let now = SystemClock.now();
    let path = dir.join(format!("{safe}-{}.sentinel.db", now.millis() / 1000));
    let mut redact = |s: &str| {
        if redacting {
            scrubber.scrub(s)
        } else {
            s.to_string()
        }
    };
    let stats = store
        .bundle(&path, from, to, &mut redact)
        .await
        .map_err(|e| unavailable(format!("could not write the bundle: {e}")))?;
    let redacted = redacting.then(|| scrubber.replaced());
    let detail = format!("bundle {} ({} bytes)", path.display(), stats.bytes);
    rt.audit(by.to_string(), "exported", req.id.clone(), detail)
        .await
        .map_err(crate::ipc_error)?;
    Ok(ExportedBundle {
        path: path.display().to_string(),
        bytes: stats.bytes,
        series: stats.series,
        findings: stats.findings,
        events: stats.events,
        redacted,
    })
}

/// Replays part of the app's own history: the incident `req.incident`
/// (from its opening less the engine's warm-up to its last change) or
/// `req.from`..`req.to`. The part is written as a bundle into `dir` (the
/// newest few are kept) and replayed from there, read-only, so the live
/// history is never held up and the replay view reads a file of its own.
pub async fn replay_history(
    rt: &Runtime,
    dir: &Path,
    req: &sentinel_protocol::ReplayRange,
) -> Result<sentinel_protocol::Replayed, IpcError> {
    let unavailable = |m: String| IpcError::new(ErrorKind::Unavailable, m);
    let invalid = |m: &str| IpcError::new(ErrorKind::InvalidArgument, m.to_string());
    let store = recorded(rt)?;
    let (name, from, to) = match (&req.incident, req.from, req.to) {
        (Some(id), None, None) => {
            let (from, to) = incident_span(store, id).await?;
            (safe_name(id), from, to)
        }
        (None, Some(from), Some(to)) => {
            if from >= to {
                return Err(invalid("the range must start before it ends"));
            }
            if to.since(from) > MAX_REPLAY_RANGE {
                return Err(invalid("a range replays at most 7 days"));
            }
            ("range".to_string(), from, to)
        }
        _ => return Err(invalid("give an incident, or both ends of a range")),
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| unavailable(format!("cannot create {}: {e}", dir.display())))?;
    keep_newest(dir, REPLAYS_KEPT - 1);
    let now = SystemClock.now();
    let path = dir.join(format!("{name}-{}.sentinel.db", now.millis()));
    store
        .bundle(&path, from, to, &mut |s: &str| s.to_string())
        .await
        .map_err(|e| unavailable(format!("could not copy that part of the history: {e}")))?;
    replay_file(&sentinel_protocol::ReplayRequest {
        path: path.display().to_string(),
    })
    .await
}

/// The longest range [`replay_history`] takes.
const MAX_REPLAY_RANGE: Duration = Duration::from_mins(7 * 24 * 60);
/// Replays of the app's own history kept on disk.
const REPLAYS_KEPT: usize = 5;

/// Deletes all but the newest `keep` bundles in `dir`.
fn keep_newest(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, std::path::PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".sentinel.db"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    files.sort();
    let excess = files.len().saturating_sub(keep);
    for (_, p) in files.into_iter().take(excess) {
        if let Err(e) = std::fs::remove_file(&p) {
            tracing::warn!(path = %p.display(), error = %e, "old replay not removed");
        }
        // Its WAL and shared-memory files (left by read-only openings).
        for ext in ["-wal", "-shm"] {
            let mut side = p.clone().into_os_string();
            side.push(ext);
            let _ = std::fs::remove_file(side);
        }
    }
}

fn safe_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Opens `req.path` read-only (a history or a bundle, from this machine or
/// another) and replays it through the default rules, with no network.
pub async fn replay_file(
    req: &sentinel_protocol::ReplayRequest,
) -> Result<sentinel_protocol::Replayed, IpcError> {
    use sentinel_protocol::{REPLAY_FINDINGS, ReplayedFinding};
    let began = std::time::Instant::now();
    let store = sentinel_runtime::Store::open_read_only(&req.path)
        .await
        .map_err(|e| IpcError::new(ErrorKind::InvalidArgument, e.to_string()))?;
    let incidents = store
        .incident_list(&sentinel_runtime::IncidentFilter {
            limit: Some(MAX_HISTORY),
            ..Default::default()
        })
        .await
        .map_err(|e| IpcError::new(ErrorKind::Unavailable, e.to_string()))?;
    let fail = |e: sentinel_runtime::StoreError| {
        IpcError::new(
            ErrorKind::Unavailable,
            format!("cannot replay {}: {e}", req.path),
        )
    };
    let mut replay =
        sentinel_runtime::replay::Replay::open(&store, sentinel_detect::default_pack())
            .await
            .map_err(fail)?;
    let (mut steps, mut total) = (0u64, 0usize);
    let (mut from, mut to) = (None, None);
    let mut findings = Vec::new();
    while let Some(step) = replay.step().await.map_err(fail)? {
        steps += 1;
        // The span of the readings (a new engine's reset and the ticks run
        // on the wall clock, not the recording's).
        if let Some(at) = step.at.filter(|_| step.readings > 0) {
            from = Some(from.map_or(at, |f: sentinel_model::Timestamp| f.min(at)));
            to = Some(to.map_or(at, |t: sentinel_model::Timestamp| t.max(at)));
        }
        for f in step.findings {
            total += 1;
            if findings.len() < REPLAY_FINDINGS {
                findings.push(ReplayedFinding {
                    id: f.id.clone(),
                    at: f.reported_at(),
                    state: f.state.as_str().to_string(),
                    severity: f.severity,
                    rule: f.rule.clone(),
                    summary: f.summary.clone(),
                });
            }
        }
    }
    let readings = replay.readings();
    let series = dashboard_series(&store).await.map_err(fail)?;
    let markers = markers(&store, &incidents).await.map_err(fail)?;
    let sources = store
        .sources()
        .await
        .map_err(fail)?
        .into_iter()
        .map(|s| format!("{}/{} ({})", s.cluster, s.name, s.kind))
        .collect();
    store.close().await;
    Ok(sentinel_protocol::Replayed {
        path: req.path.clone(),
        incidents: incidents.iter().map(stored).collect(),
        steps,
        readings,
        findings,
        findings_total: total,
        from,
        to,
        took_ms: u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX),
        series,
        sources,
        markers,
    })
}

/// Alerts that began firing, rollouts, and incidents opened and resolved.
async fn markers(
    store: &sentinel_runtime::Store,
    incidents: &[sentinel_runtime::IncidentSummary],
) -> Result<Vec<sentinel_protocol::ReplayMarker>, sentinel_runtime::StoreError> {
    use sentinel_protocol::{REPLAY_MARKERS, ReplayMarker};
    let mut out = Vec::new();
    for (at, body) in store.alert_starts(REPLAY_MARKERS).await? {
        let name = serde_json::from_str::<sentinel_model::Alert>(&body)
            .map(|a| a.name().to_string())
            .unwrap_or_else(|_| "alert".into());
        out.push(ReplayMarker {
            at: sentinel_model::Timestamp(at),
            kind: "alert".into(),
            label: format!("{name} fired"),
        });
    }
    for (at, object, reason) in store.rollout_events(REPLAY_MARKERS).await? {
        out.push(ReplayMarker {
            at: sentinel_model::Timestamp(at),
            kind: "rollout".into(),
            label: format!("{reason} {object}"),
        });
    }
    for i in incidents.iter().take(REPLAY_MARKERS as usize) {
        out.push(ReplayMarker {
            at: i.opened_at,
            kind: "incident".into(),
            label: format!("opened: {}", i.title),
        });
        if i.state != "open" {
            out.push(ReplayMarker {
                at: i.updated_at,
                kind: "incident".into(),
                label: format!("{}: {}", i.state, i.title),
            });
        }
    }
    out.sort_by_key(|m| m.at);
    Ok(out)
}

/// Points per series a replay answer carries.
const REPLAY_POINTS: usize = 1200;

async fn dashboard_series(
    store: &sentinel_runtime::Store,
) -> Result<Vec<sentinel_protocol::ReplaySeries>, sentinel_runtime::StoreError> {
    let mut input = store.input().await?;
    let mut by: std::collections::BTreeMap<&'static str, Vec<(sentinel_model::Timestamp, f64)>> =
        Default::default();
    while let Some(step) = input.next().await? {
        let sentinel_runtime::Input::Feed { at, readings, .. } = step else {
            continue;
        };
        for (id, v) in readings {
            let Some(key) = input.key(id) else { continue };
            if let Some(name) = sentinel_protocol::DASHBOARD_METRICS
                .iter()
                .find(|m| **m == key.metric)
            {
                by.entry(name).or_default().push((at, v));
            }
        }
    }
    Ok(sentinel_protocol::DASHBOARD_METRICS
        .iter()
        .filter_map(|m| by.get(m).map(|points| (m, points)))
        .map(|(m, points)| sentinel_protocol::ReplaySeries {
            metric: (*m).to_string(),
            points: sentinel_runtime::series::lttb(points, REPLAY_POINTS)
                .into_iter()
                .map(|(t, v)| sentinel_protocol::Point(t.millis(), v))
                .collect(),
        })
        .collect())
}
