//! What readers get: the snapshot, with each source's health judged as of
//! its time.

use std::collections::HashMap;
use std::sync::Arc;

use sentinel_model::{Duration, PodPhase, Timestamp};

use super::State;
use crate::snapshot::{CardValues, ClusterSeries, Health, NodeView, Snapshot, SourceStatus};

impl State {
    fn health(&self, s: &SourceStatus, now: Timestamp) -> Health {
        let late = |n: i64| Duration(s.interval.millis() * n + 1000);
        // Paused, health holds still; let go, each source is judged from
        // then, not from the time it last answered before the pause.
        let now = self.paused_at.unwrap_or(now);
        let last_ok = match (s.last_ok, self.resumed_at) {
            (Some(t), Some(r)) => Some(t.max(r)),
            (t, _) => t,
        };
        match last_ok {
            None if s.last_error.is_some() => Health::Down,
            None => Health::Starting,
            Some(t) if now.since(t) > late(5) && s.last_error.is_some() => Health::Down,
            Some(t) if now.since(t) > late(2) => Health::Stale,
            Some(_) => Health::Ok,
        }
    }

    fn cards(&self) -> CardValues {
        let mut c = CardValues {
            cpu_percent: self.cpu.last().map(|p| p.1),
            memory_percent: self.memory.last().map(|p| p.1),
            request_rate: self.request_rate.last().map(|p| p.1),
            error_percent: self.error_percent.last().map(|p| p.1),
            restarts_15m: self.restart_log.iter().map(|r| r.1).sum(),
            ..CardValues::default()
        };
        for p in self.pods.iter() {
            match p.pod.phase {
                PodPhase::Running => c.pods_running += 1,
                PodPhase::Pending => c.pods_pending += 1,
                PodPhase::Failed => c.pods_failed += 1,
                PodPhase::Succeeded | PodPhase::Unknown => {}
            }
        }
        c
    }

    /// The picture readers get, as of `now`.
    pub fn snapshot(&mut self, now: Timestamp) -> Snapshot {
        self.generation += 1;
        let sources = self
            .sources
            .iter()
            .map(|s| SourceStatus {
                health: self.health(s, now),
                ..s.clone()
            })
            .collect();
        let mut per_node: HashMap<&str, usize> = HashMap::new();
        for p in self.pods.iter() {
            if let Some(n) = &p.pod.node {
                *per_node.entry(n.as_str()).or_default() += 1;
            }
        }
        let nodes = self
            .nodes
            .iter()
            .map(|n| {
                let u = self.node_usage.get(&n.name);
                NodeView {
                    node: n.clone(),
                    cpu_cores: u.map(|u| u.cpu_cores),
                    memory_bytes: u.map(|u| u.memory_bytes),
                    pods: per_node.get(n.name.as_str()).copied().unwrap_or(0),
                }
            })
            .collect();
        Snapshot {
            at: now,
            data_at: self.data_at,
            generation: self.generation,
            mode: self.mode,
            sources,
            pods: Arc::clone(&self.pods),
            nodes: Arc::new(nodes),
            alerts: Arc::clone(&self.alerts),
            alert_silences: Arc::clone(&self.alert_silences),
            workloads: Arc::clone(&self.workloads),
            services: Arc::clone(&self.services),
            calls: self.incidents.calls(),
            events: Arc::new(self.events.iter().rev().take(300).rev().cloned().collect()),
            series: Arc::new(ClusterSeries {
                cpu_percent: self.cpu.to_vec(),
                memory_percent: self.memory.to_vec(),
                request_rate: self.request_rate.to_vec(),
                error_percent: self.error_percent.to_vec(),
                p95_ms: self.p95_ms.to_vec(),
            }),
            series_window: self.window,
            cards: self.cards(),
            memory_bytes: self.memory_bytes,
            saved_through: self.saved_through,
            notices: Arc::clone(&self.notices),
            findings: self.detection.view(),
            incidents: self.incidents.view(),
            notifications: self.incidents.sent(),
            snoozed_until: self.incidents.snoozed_until(now),
            silences: self
                .silencer
                .as_ref()
                .map(|(s, _)| s.views())
                .unwrap_or_default(),
            sources_paused: self.paused_at.is_some(),
        }
    }
}
