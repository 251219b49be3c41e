//! The dashboard's parts, one per file.

mod alerts;
mod cards;
mod case;
mod chart;
mod connections;
mod everywhere;
mod history;
mod incident_detail;
mod incidents;
mod narrative;
mod nodes;
mod pod_detail;
mod pod_logs;
mod pods;
pub mod replay;
mod replay_moment;
mod report_export;
mod retention;
mod silence;
mod status;
mod trend;
mod why;

pub use alerts::AlertFeed;
pub use cards::Cards;
pub use chart::ChartGrid;
pub use connections::ConnectionsPage;
pub use everywhere::{EverywherePage, show_cluster};
pub use history::HistoryPage;
pub use incident_detail::IncidentDetailPanel;
pub use incidents::IncidentsPage;
pub use nodes::NodeStrip;
pub use pod_detail::PodDetailPanel;
pub use pods::PodsTable;
pub use status::StatusBar;
pub use why::WhyPanel;
