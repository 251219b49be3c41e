//! The backend's answers to the UI's commands. Both shells (the Tauri app and
//! the `sentinel` CLI) call these functions, so what the CLI prints is what
//! the UI receives. Filtering, sorting, paging and downsampling happen here,
//! never in the UI.

mod alert_filter;
mod case;
mod connections;
mod feed;
mod fleet;
mod history;
mod incidents;
mod narrative;
mod natural;
mod nodes;
mod overview;
mod pods;
mod replay_state;
mod report;
mod retention;
mod silence;
mod why;
mod why_past;
mod workloads;

pub use case::{CaseError, MAX_FILE_BYTES, analyse_case, load_case};
pub use connections::{test_alertmanager, test_kubernetes, test_loki, test_prometheus};
pub use feed::{alerts, firing_count, held_count, worst};
pub use fleet::{EVERYWHERE_LIMIT, cluster_summary, everywhere, unhealthy};
pub use history::{MAX_HISTORY, bundle_incident, list_history, replay_file, replay_history};
pub use incidents::{
    MAX_INCIDENTS, act_on_incident, active_incidents, analyse, incident_detail, incident_row,
    list_incidents, notifications_after, timeline,
};
pub use narrative::narrate;
pub use natural::natural_cmp;
pub use nodes::{node_detail, node_detail_of};
pub use overview::{health, overview, tray_level, worth_sending};
pub use pods::{list_pods, pod_detail, pod_logs};
pub use replay_state::replay_state;
pub use report::{Rendered, export_incident, render_report, write_atomically};
pub use retention::{get_retention, history_trend, set_retention};
pub use silence::{expire_silence, silence_alert};
pub use why::{explain, mark_finding};
pub use why_past::{PastAlert, explain_ref, firings, past_alert_explanation};
pub use workloads::list_workloads;

use sentinel_protocol::{ErrorKind, IpcError};
use sentinel_runtime::RuntimeError;

/// Points per chart sent to the UI: enough for a 1280-pixel-wide screen.
pub const CHART_POINTS: usize = 300;

pub fn ipc_error(e: RuntimeError) -> IpcError {
    match e {
        RuntimeError::Stopped => IpcError::new(ErrorKind::Unavailable, e.to_string()),
    }
}
