//! The contract between the backend and the UI. Every command is a type that
//! implements [`Command`]: its wire name, its arguments and its output sit
//! next to each other, and both sides use the same types. Builds for wasm32;
//! knows nothing of Tauri.

mod connections;
mod dto;
mod error;
mod feed;
mod fleet;
mod history;
mod incident;
mod node;
mod pods;
mod timeline;
mod workload;

pub use connections::*;
pub use dto::*;
pub use error::{ErrorKind, IpcError};
pub use feed::*;
pub use fleet::*;
pub use history::*;
pub use incident::*;
pub use node::*;
pub use pods::*;
pub use sentinel_model as model;
pub use timeline::*;
pub use workload::*;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A request the UI can make. Arguments travel as `{ "args": <Args> }`.
pub trait Command {
    const NAME: &'static str;
    type Args: Serialize + DeserializeOwned;
    type Output: Serialize + DeserializeOwned;
}

macro_rules! commands {
    ($( $(#[$doc:meta])* $ty:ident = $name:literal ($args:ty) -> $out:ty; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $ty;
            impl Command for $ty {
                const NAME: &'static str = $name;
                type Args = $args;
                type Output = $out;
            }
        )*
        /// Every command's wire name; the shell must register each one.
        pub const COMMAND_NAMES: &[&str] = &[$($name),*];
    };
}

commands! {
    /// The dashboard as of now: status bar, cards, charts, nodes, alerts.
    GetOverview = "get_overview" (NoArgs) -> Overview;
    /// One page of the pods table, filtered and sorted by the backend.
    ListPods = "list_pods" (PodQuery) -> PodPage;
    /// Everything the pod detail panel shows.
    GetPodDetail = "get_pod_detail" (PodRef) -> PodDetail;
    /// A container's log (tail, or follow from a cursor); needs a Kubernetes context.
    GetPodLogs = "get_pod_logs" (LogQuery) -> LogPage;
    /// The workload controllers, those short of ready pods first.
    ListWorkloads = "list_workloads" (WorkloadQuery) -> WorkloadPage;
    /// Everything the node detail panel shows.
    GetNodeDetail = "get_node_detail" (NodeRef) -> NodeDetail;
    /// Firing alerts, newest first.
    ListAlerts = "list_alerts" (AlertQuery) -> Vec<AlertRow>;
    /// Silence an Alertmanager alert (all its labels, exactly) for a while,
    /// as the operator, with a comment (written to the audit log).
    SilenceAlert = "silence_alert" (SilenceArgs) -> SilenceSet;
    /// Expire a silence now (written to the audit log).
    ExpireSilence = "expire_silence" (SilenceRef) -> ();
    /// Why an alert or finding fired: its rule trace as steps.
    ExplainAlert = "explain_alert" (AlertRef) -> Explanation;
    /// Mark an engine finding as a false positive or confirmed.
    MarkFinding = "mark_finding" (MarkArgs) -> Explanation;
    /// Incidents, filtered, newest first.
    ListIncidents = "list_incidents" (IncidentQuery) -> IncidentPage;
    /// One incident: timeline, analysis with cited evidence, rule traces.
    GetIncident = "get_incident" (IncidentRef) -> IncidentDetail;
    /// Acknowledge, resolve or reopen an incident (written to the audit log).
    ActOnIncident = "act_on_incident" (IncidentActionArgs) -> IncidentRow;
    /// Write an incident report (HTML or Markdown, optionally redacted).
    ExportIncident = "export_incident" (ExportArgs) -> ExportedReport;
    /// Ask the configured language model for a narrative (off by default).
    NarrateIncident = "narrate_incident" (IncidentRef) -> Narrative;
    /// Explain a capture folder (objects.json, metrics.csv, logs.jsonl, case.json) offline.
    AnalyseCase = "analyse_case" (CaseRef) -> CaseAnalysis;
    /// Pause or resume desktop notifications.
    PauseNotifications = "pause_notifications" (PauseArgs) -> NotificationState;
    /// The connections the settings name, with their sources' health.
    ListConnections = "list_connections" (NoArgs) -> Connections;
    /// Add or replace the connection of a kind, save the settings and apply them.
    SaveConnection = "save_connection" (ConnectionSpec) -> Connections;
    /// Remove the connection of a kind, save and apply.
    RemoveConnection = "remove_connection" (KindRef) -> Connections;
    /// Try a connection without saving it: each check and what it found.
    TestConnection = "test_connection" (ConnectionSpec) -> TestReport;
    /// The contexts of a kubeconfig.
    ListContexts = "list_contexts" (ContextsQuery) -> KubeContexts;
    /// Store or replace a credential (keyring, else this session); never read back.
    SetCredential = "set_credential" (NewCredential) -> CredentialStatus;
    /// Delete a credential.
    DeleteCredential = "delete_credential" (CredentialRef) -> CredentialStatus;
    /// Every incident the history file holds, newest first.
    ListHistory = "list_history" (HistoryQuery) -> HistoryPage;
    /// Open a history file or bundle read-only and replay it offline.
    ReplayFile = "replay_file" (ReplayRequest) -> Replayed;
    /// Replay an incident or a time range of the app's own history offline.
    ReplayHistory = "replay_history" (ReplayRange) -> Replayed;
    /// Enter Replay mode (live sources paused, or recording on) or leave it.
    SetReplayMode = "set_replay_mode" (ReplayMode) -> Overview;
    /// Pods, nodes, alerts and findings at one moment of a recording.
    ReplayState = "replay_state" (ReplayAt) -> ReplayFrame;
    /// A dashboard series over days, from rollups and raw samples.
    HistoryTrend = "history_trend" (TrendQuery) -> Trend;
    /// The history's retention settings and disk usage.
    GetRetention = "get_retention" (NoArgs) -> RetentionView;
    /// Keep new retention settings and apply them now (audited).
    SetRetention = "set_retention" (RetentionSettings) -> RetentionView;
    /// Write a stored incident as a bundle another Sentinel replays (audited).
    BundleIncident = "bundle_incident" (BundleRequest) -> ExportedBundle;
    /// Show this cluster on the dashboard (the stream follows it).
    SelectCluster = "select_cluster" (ClusterRef) -> Overview;
    /// Unhealthy pods and firing alerts across every cluster.
    GetEverywhere = "get_everywhere" (NoArgs) -> Everywhere;
    /// Starts streaming [`Update`]s to the channel given with the call.
    Subscribe = "subscribe" (NoArgs) -> ();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case() {
        let mut names = COMMAND_NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COMMAND_NAMES.len());
        assert!(
            COMMAND_NAMES
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
        assert_eq!(ListPods::NAME, "list_pods");
    }
}
