//! The dashboard: status bar, cards, charts, nodes and the alert feed.

use sentinel_model::{NodeCondition, Severity, Timestamp};
use sentinel_protocol::{
    Cards, Chart, Health, Mode, NodeRow, Notice, OVERVIEW_ALERTS, Overview, Point, SourceHealth,
    StatusBar, TrayLevel, Unit,
};
use sentinel_runtime::series::lttb;
use sentinel_runtime::{Snapshot, snapshot};

use crate::CHART_POINTS;

fn mode(m: snapshot::Mode) -> Mode {
    match m {
        snapshot::Mode::Demo => Mode::Demo,
        snapshot::Mode::Live => Mode::Live,
        snapshot::Mode::Replay => Mode::Replay,
    }
}

pub fn health(h: snapshot::Health) -> Health {
    match h {
        snapshot::Health::Starting => Health::Starting,
        snapshot::Health::Ok => Health::Ok,
        snapshot::Health::Stale => Health::Stale,
        snapshot::Health::Down => Health::Down,
    }
}

/// What a source said about this panel, or about itself when the panel
/// has nothing more specific.
fn empty_reason(id: &str, s: &Snapshot) -> Option<String> {
    let notes = s
        .sources
        .iter()
        .flat_map(|src| src.notes.iter().map(move |n| (n, src)));
    let mut general = None;
    for (n, src) in notes {
        if n.panel == id {
            return Some(format!("{}: {}", src.name, n.message));
        }
        if n.panel == "source" && general.is_none() {
            general = Some(format!("{}: {}", src.name, n.message));
        }
    }
    general.or_else(|| {
        s.sources.iter().find_map(|src| {
            src.last_error
                .as_ref()
                .map(|e| format!("{}: {e}", src.name))
        })
    })
}

fn chart(id: &str, title: &str, unit: Unit, data: &[(Timestamp, f64)], s: &Snapshot) -> Chart {
    Chart {
        empty_reason: if data.is_empty() {
            empty_reason(id, s)
        } else {
            None
        },
        id: id.into(),
        title: title.into(),
        unit,
        window_ms: s.series_window.millis(),
        points: lttb(data, CHART_POINTS)
            .into_iter()
            .map(|(t, v)| Point(t.millis(), v))
            .collect(),
    }
}

/// Stale sources outrank any severity: an icon that says "ok" while blind lies.
pub fn tray_level(s: &Snapshot) -> TrayLevel {
    if s.sources
        .iter()
        .any(|x| matches!(x.health, snapshot::Health::Stale | snapshot::Health::Down))
    {
        return TrayLevel::Stale;
    }
    match crate::feed::worst(s) {
        Some(Severity::Critical) => TrayLevel::Critical,
        Some(Severity::Warning) => TrayLevel::Warning,
        _ => TrayLevel::Ok,
    }
}

pub fn overview(s: &Snapshot, paused_until: Option<Timestamp>) -> Overview {
    let c = &s.cards;
    let series = &s.series;
    let mut namespaces: Vec<String> = s.pods.iter().map(|p| p.pod.namespace.clone()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    Overview {
        alertmanager_silent: crate::why::silent_alertmanager(s),
        at: s.at,
        status: StatusBar {
            mode: mode(s.mode),
            sources: s
                .sources
                .iter()
                .map(|x| SourceHealth {
                    name: x.name.clone(),
                    kind: x.kind.into(),
                    health: health(x.health),
                    last_update: x.last_ok,
                    age_ms: x.last_ok.map(|t| s.at.since(t).millis()),
                    message: x.last_error.clone(),
                })
                .collect(),
            memory_bytes: s.memory_bytes,
            sources_paused: s.sources_paused,
            replaying: None,
            notices: s
                .notices
                .iter()
                .map(|(level, m)| Notice {
                    level: *level,
                    message: m.clone(),
                })
                .collect(),
            notifications_paused_until: paused_until.filter(|t| *t > s.at),
            history_saved_at: s.saved_through,
        },
        tray: tray_level(s),
        cards: Cards {
            cpu_percent: c.cpu_percent,
            memory_percent: c.memory_percent,
            pods_running: c.pods_running,
            pods_pending: c.pods_pending,
            pods_failed: c.pods_failed,
            restarts_15m: c.restarts_15m,
            request_rate: c.request_rate,
            error_rate_percent: c.error_percent,
        },
        charts: vec![
            chart("cpu", "CPU", Unit::Percent, &series.cpu_percent, s),
            chart("memory", "Memory", Unit::Percent, &series.memory_percent, s),
            chart(
                "requests",
                "Request rate",
                Unit::PerSecond,
                &series.request_rate,
                s,
            ),
            chart(
                "errors",
                "Error rate",
                Unit::Percent,
                &series.error_percent,
                s,
            ),
            chart("p95", "p95 latency", Unit::Milliseconds, &series.p95_ms, s),
        ],
        nodes: nodes(s),
        alerts: crate::feed::newest(s, OVERVIEW_ALERTS),
        alerts_total: crate::feed::firing_count(s),
        alerts_held: crate::feed::held_count(s),
        active_incidents: s.incidents.iter().filter(|i| i.state.is_active()).count(),
        pods_total: s.pods.len(),
        namespaces,
        // The shell names the cluster and lists the others.
        cluster: String::new(),
        clusters: Vec::new(),
    }
}

/// Whether a subscriber that last received `prev` should get `next`: new
/// data, a health change or a new notice always; otherwise only when
/// `since_last_ms` says the ages on screen are getting old.
pub fn worth_sending(prev: &Snapshot, next: &Snapshot, since_last_ms: i64) -> bool {
    const REFRESH_MS: i64 = 5_000;
    next.data_at != prev.data_at
        || next
            .sources
            .iter()
            .map(|s| s.health)
            .ne(prev.sources.iter().map(|s| s.health))
        || next.notices.len() != prev.notices.len()
        || !(std::sync::Arc::ptr_eq(&next.findings, &prev.findings)
            || next.findings.is_empty() && prev.findings.is_empty())
        || !(std::sync::Arc::ptr_eq(&next.incidents, &prev.incidents)
            || next.incidents.is_empty() && prev.incidents.is_empty())
        || since_last_ms >= REFRESH_MS
}

/// "Ready=False (KubeletNotReady)"; kube-state-metrics gives no reason,
/// and then there are no brackets.
fn condition_text(c: &NodeCondition) -> String {
    let status = if c.status { "True" } else { "False" };
    match c.reason.trim() {
        "" => format!("{}={status}", c.kind),
        reason => format!("{}={status} ({reason})", c.kind),
    }
}

/// A node this busy (CPU or memory, percent) is listed with the troubled
/// ones: the default rules warn above 80% CPU.
pub const HOT_NODE_PERCENT: f64 = 80.0;

/// Nodes with a problem first (NotReady, pressure), then the busy ones, then
/// the rest, each by name as people read it (`ip-…-20` before `ip-…-101`):
/// on a large cluster the strip shows the first few, and those must be the
/// ones that need a look.
/// A node as its card shows it.
pub(crate) fn node_row(n: &sentinel_runtime::snapshot::NodeView) -> NodeRow {
    NodeRow {
        name: n.node.name.clone(),
        ready: n.node.is_ready(),
        cpu_percent: n
            .cpu_cores
            .map(|c| 100.0 * c * 1000.0 / f64::from(n.node.cpu_capacity_millis.max(1))),
        memory_percent: n
            .memory_bytes
            .map(|m| 100.0 * m / n.node.memory_capacity_bytes.max(1) as f64),
        problems: n.node.problems().map(condition_text).collect(),
        pods: n.pods,
        cordoned: n.node.unschedulable,
    }
}

pub(crate) fn nodes(s: &Snapshot) -> Vec<NodeRow> {
    let mut rows: Vec<NodeRow> = s.nodes.iter().map(node_row).collect();
    let hot = |r: &NodeRow| {
        [r.cpu_percent, r.memory_percent]
            .into_iter()
            .flatten()
            .any(|p| p >= HOT_NODE_PERCENT)
    };
    rows.sort_by(|a, b| {
        (a.problems.is_empty(), !hot(a))
            .cmp(&(b.problems.is_empty(), !hot(b)))
            .then_with(|| crate::natural_cmp(&a.name, &b.name))
    });
    rows
}

#[cfg(test)]
mod tests;
