//! Live sources: a Prometheus polled with the dashboard's query set, and an
//! Alertmanager polled for alerts. A failed poll keeps the last good data and
//! reports why; the runtime marks the source stale after two intervals and
//! ok again with the next good poll.

mod alertmanager;
mod calls;
mod prometheus;

pub use alertmanager::AlertmanagerSource;
pub use prometheus::PrometheusSource;
pub(crate) use prometheus::RuleSeries;
