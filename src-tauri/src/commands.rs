//! The commands the UI calls. Each one extracts state, asks the service and
//! returns; the work lives in `sentinel-service`.

use sentinel_model::Duration;
use sentinel_protocol::{
    AlertQuery, AlertRef, AlertRow, BundleRequest, CaseAnalysis, CaseRef, ClusterRef, ErrorKind,
    Everywhere, Explanation, ExportArgs, ExportedBundle, ExportedReport, HistoryPage, HistoryQuery,
    IncidentActionArgs, IncidentDetail, IncidentPage, IncidentQuery, IncidentRef, IncidentRow,
    IpcError, LogPage, LogQuery, MarkArgs, Narrative, NoArgs, NodeDetail, NodeRef,
    NotificationState, Overview, PauseArgs, PodDetail, PodPage, PodQuery, PodRef, ReplayAt,
    ReplayFrame, ReplayMode, ReplayRange, ReplayRequest, Replayed, RetentionSettings,
    RetentionView, SilenceArgs, SilenceRef, SilenceSet, Trend, TrendQuery, Update, WorkloadPage,
    WorkloadQuery,
};
use sentinel_runtime::Clock;
use tauri::State;
use tauri::ipc::Channel;

use crate::AppState;

type Res<T> = Result<T, IpcError>;

#[tauri::command]
pub fn get_overview(state: State<'_, AppState>, args: NoArgs) -> Res<Overview> {
    let _ = args;
    Ok(state.overview())
}

/// Every incident the history file holds (of the cluster on screen).
#[tauri::command]
pub async fn list_history(state: State<'_, AppState>, args: HistoryQuery) -> Res<HistoryPage> {
    sentinel_service::list_history(&state.runtime(), &args).await
}

/// Replays a history file or bundle offline (read-only).
#[tauri::command]
pub async fn replay_file(args: ReplayRequest) -> Res<Replayed> {
    sentinel_service::replay_file(&args).await
}

/// Replays an incident or a time range of the history of the cluster on screen.
#[tauri::command]
pub async fn replay_history(state: State<'_, AppState>, args: ReplayRange) -> Res<Replayed> {
    let dir = state.reports.join("replays");
    sentinel_service::replay_history(&state.runtime(), &dir, &args).await
}

/// Enters Replay mode (live sources paused or recording on) or leaves it.
#[tauri::command]
pub async fn set_replay_mode(state: State<'_, AppState>, args: ReplayMode) -> Res<Overview> {
    state.set_replay(args.file, args.pause_live).await;
    Ok(state.overview())
}

/// One moment of a recording: pods, nodes, alerts and findings as they were.
#[tauri::command]
pub async fn replay_state(args: ReplayAt) -> Res<ReplayFrame> {
    sentinel_service::replay_state(&args).await
}

/// A dashboard series over days, from the history of the cluster on screen.
#[tauri::command]
pub async fn history_trend(state: State<'_, AppState>, args: TrendQuery) -> Res<Trend> {
    sentinel_service::history_trend(&state.runtime(), &args).await
}

/// The history's retention settings and disk usage (of the cluster on screen).
#[tauri::command]
pub async fn get_retention(state: State<'_, AppState>, args: NoArgs) -> Res<RetentionView> {
    let _ = args;
    sentinel_service::get_retention(&state.runtime()).await
}

/// Keeps new retention settings and applies them now.
#[tauri::command]
pub async fn set_retention(
    state: State<'_, AppState>,
    args: RetentionSettings,
) -> Res<RetentionView> {
    sentinel_service::set_retention(&state.runtime(), &args, &crate::operator()).await
}

/// Writes a stored incident as a bundle beside the reports.
#[tauri::command]
pub async fn bundle_incident(
    state: State<'_, AppState>,
    args: BundleRequest,
) -> Res<ExportedBundle> {
    let dir = state.reports.join("bundles");
    sentinel_service::bundle_incident(&state.runtime(), &dir, &args, &crate::operator()).await
}

/// Shows another cluster; the stream follows it from the next update.
#[tauri::command]
pub fn select_cluster(state: State<'_, AppState>, args: ClusterRef) -> Res<Overview> {
    if !state.select(&args.name) {
        return Err(IpcError::new(
            ErrorKind::NotFound,
            format!("no cluster named {:?}", args.name),
        ));
    }
    Ok(state.overview())
}

#[tauri::command]
pub fn get_everywhere(state: State<'_, AppState>, args: NoArgs) -> Res<Everywhere> {
    let _ = args;
    Ok(sentinel_service::everywhere(&state.fleet().snapshots()))
}

#[tauri::command]
pub fn list_pods(state: State<'_, AppState>, args: PodQuery) -> Res<PodPage> {
    if args.limit == 0 {
        return Err(IpcError::new(
            ErrorKind::InvalidArgument,
            "the UI must ask for a page (limit > 0)",
        ));
    }
    sentinel_service::list_pods(&state.runtime().snapshot(), &args)
}

#[tauri::command]
pub async fn get_pod_logs(state: State<'_, AppState>, args: LogQuery) -> Res<LogPage> {
    sentinel_service::pod_logs(&state.runtime(), &args).await
}

#[tauri::command]
pub async fn get_pod_detail(state: State<'_, AppState>, args: PodRef) -> Res<PodDetail> {
    sentinel_service::pod_detail(&state.runtime(), &args).await
}

#[tauri::command]
pub fn list_workloads(state: State<'_, AppState>, args: WorkloadQuery) -> Res<WorkloadPage> {
    sentinel_service::list_workloads(&state.runtime().snapshot(), &args)
}

#[tauri::command]
pub async fn get_node_detail(state: State<'_, AppState>, args: NodeRef) -> Res<NodeDetail> {
    sentinel_service::node_detail(&state.runtime(), &args).await
}

#[tauri::command]
pub fn list_alerts(state: State<'_, AppState>, args: AlertQuery) -> Res<Vec<AlertRow>> {
    sentinel_service::alerts(&state.runtime().snapshot(), &args)
}

/// Silences are set under the operator's login name.
#[tauri::command]
pub async fn silence_alert(state: State<'_, AppState>, args: SilenceArgs) -> Res<SilenceSet> {
    sentinel_service::silence_alert(&state.runtime(), &args, &crate::operator()).await
}

#[tauri::command]
pub async fn expire_silence(state: State<'_, AppState>, args: SilenceRef) -> Res<()> {
    sentinel_service::expire_silence(&state.runtime(), &args, &crate::operator()).await
}

#[tauri::command]
pub async fn explain_alert(state: State<'_, AppState>, args: AlertRef) -> Res<Explanation> {
    sentinel_service::explain_ref(&state.runtime(), &args).await
}

#[tauri::command]
pub async fn mark_finding(state: State<'_, AppState>, args: MarkArgs) -> Res<Explanation> {
    sentinel_service::mark_finding(&state.runtime(), &args).await
}

#[tauri::command]
pub fn list_incidents(state: State<'_, AppState>, args: IncidentQuery) -> Res<IncidentPage> {
    Ok(sentinel_service::list_incidents(
        &state.runtime().snapshot(),
        &args,
    ))
}

#[tauri::command]
pub fn get_incident(state: State<'_, AppState>, args: IncidentRef) -> Res<IncidentDetail> {
    sentinel_service::incident_detail(&state.runtime().snapshot(), &args.id).ok_or_else(|| {
        IpcError::new(
            ErrorKind::NotFound,
            format!("incident {} is no longer held in memory", args.id),
        )
    })
}

/// Actions are recorded under the operator's login name.
#[tauri::command]
pub async fn act_on_incident(
    state: State<'_, AppState>,
    args: IncidentActionArgs,
) -> Res<IncidentRow> {
    sentinel_service::act_on_incident(&state.runtime(), &args, &crate::operator()).await
}

/// Writes the report into the reports folder; the export is audited.
#[tauri::command]
pub async fn export_incident(state: State<'_, AppState>, args: ExportArgs) -> Res<ExportedReport> {
    sentinel_service::export_incident(&state.runtime(), &state.reports, &args, &crate::operator())
        .await
}

/// Reads the folder off the async threads.
#[tauri::command]
pub async fn analyse_case(args: CaseRef) -> Res<CaseAnalysis> {
    tauri::async_runtime::spawn_blocking(move || sentinel_service::analyse_case(&args.path))
        .await
        .map_err(|e| IpcError::new(ErrorKind::Internal, format!("analysis failed: {e}")))?
}

/// Off unless the settings name an endpoint; the request is audited.
#[tauri::command]
pub async fn narrate_incident(state: State<'_, AppState>, args: IncidentRef) -> Res<Narrative> {
    let client = state.narrative.as_ref().ok_or_else(|| {
        IpcError::new(
            ErrorKind::Unavailable,
            "The narrative is off: name an OpenAI-compatible endpoint under [narrative] in settings.toml",
        )
    })?;
    sentinel_service::narrate(&state.runtime(), client, &args.id, &crate::operator()).await
}

#[tauri::command]
pub async fn pause_notifications(
    state: State<'_, AppState>,
    args: PauseArgs,
) -> Res<NotificationState> {
    let until = (args.minutes > 0).then(|| {
        sentinel_runtime::SystemClock
            .now()
            .saturating_add(Duration::from_mins(i64::from(args.minutes)))
    });
    {
        let handle = state.pause_handle();
        let mut guard = handle
            .lock()
            .map_err(|_| IpcError::new(ErrorKind::Internal, "notification state is poisoned"))?;
        *guard = until;
    }
    // The policy holds back what it would have raised, so reminders follow
    // the pause instead of firing all at once when it ends.
    state
        .runtime()
        .snooze(until)
        .await
        .map_err(sentinel_service::ipc_error)?;
    Ok(NotificationState {
        paused_until: until,
    })
}

/// Streams an overview to `channel` after every change, until the UI goes away.
#[tauri::command]
pub fn subscribe(state: State<'_, AppState>, args: NoArgs, channel: Channel<Update>) -> Res<()> {
    let _ = args;
    let mut follow = state.follow();
    let paused = state.pause_handle();
    let replaying = state.replay_handle();
    tauri::async_runtime::spawn(async move {
        let mut last: Option<(
            std::sync::Arc<sentinel_runtime::Snapshot>,
            std::time::Instant,
        )> = None;
        loop {
            let snap = follow.latest();
            let due = last.as_ref().is_none_or(|(prev, sent)| {
                let since = i64::try_from(sent.elapsed().as_millis()).unwrap_or(i64::MAX);
                sentinel_service::worth_sending(prev, &snap, since)
            });
            if due {
                let until = paused.lock().map(|g| *g).unwrap_or(None);
                let mut o = sentinel_service::overview(&snap, until);
                follow.fleet().decorate(&mut o);
                crate::backend::mark_replay(&mut o, &replaying);
                if channel.send(Update::Overview(o)).is_err() {
                    break;
                }
                last = Some((snap, std::time::Instant::now()));
            }
            if !follow.changed().await {
                break;
            }
        }
    });
    Ok(())
}
