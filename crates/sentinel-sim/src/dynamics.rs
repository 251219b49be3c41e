//! How the demo cluster moves between scripted moments: container life
//! (OOM kills, back-off, start-up), traffic, latency, errors, CPU and memory,
//! and the alert conditions that follow from them.

use std::collections::BTreeMap;
use std::f64::consts::PI;

use sentinel_model::{
    ContainerState, Duration, EventType, LATENCY_BUCKETS_SECONDS, LatencyHistogram, NodeUsage,
    PodPhase, PodUsage, Timestamp,
};

use crate::Sim;
use crate::alerts::Firing;
use crate::pods::{Life, event};
use crate::scenario::{Conditions, NOISY_NODE};
use crate::topology::WorkloadKind;

/// Per-service request totals during one step, for latency and error alerts.
#[derive(Default)]
pub struct ServiceStep {
    pub requests: u64,
    pub errors: u64,
    pub latency: LatencyHistogram,
}

pub struct Traffic {
    pub pod_usage: Vec<PodUsage>,
    pub node_usage: Vec<NodeUsage>,
    pub services: BTreeMap<(String, String), ServiceStep>,
    pub node_cpu_ratio: Vec<f64>,
}

/// The standard normal CDF (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7).
fn phi(x: f64) -> f64 {
    let z = x.abs() / 2f64.sqrt();
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Cumulative bucket counts for `n` requests with log-normal latency.
fn latency_counts(n: u64, median_s: f64) -> LatencyHistogram {
    let mut out = [0u64; 11];
    let mu = median_s.max(1e-4).ln();
    for (i, o) in out.iter_mut().enumerate() {
        let b = LATENCY_BUCKETS_SECONDS[i];
        *o = if b.is_infinite() {
            n
        } else {
            (n as f64 * phi((b.ln() - mu) / 0.6)).round() as u64
        };
    }
    LatencyHistogram(out)
}

fn latency_factor(name: &str, on_noisy_node: bool, c: Conditions) -> (f64, f64) {
    let mut latency = 1.0;
    let mut errors = 1.0;
    if c.slow_dependency {
        match name {
            "payments" => (latency, errors) = (25.0, 10.0),
            "checkout" => (latency, errors) = (10.0, 60.0),
            "frontend" => (latency, errors) = (3.0, 20.0),
            _ => {}
        }
    }
    if c.noisy && on_noisy_node {
        latency *= 6.0;
        errors *= 5.0;
    }
    (latency, errors)
}

/// Moves every pod forward by `dt` and measures the step's traffic.
pub fn advance(sim: &mut Sim, now: Timestamp, dt: Duration, c: Conditions) -> Traffic {
    let secs = dt.millis() as f64 / 1000.0;
    let elapsed = now.since(sim.start).millis() as f64 / 1000.0;
    let diurnal = 1.0
        + 0.18 * (2.0 * PI * elapsed / 3600.0).sin()
        + 0.05 * (2.0 * PI * elapsed / 300.0).sin();
    let mut ready_per_workload = vec![0usize; sim.workloads.len()];
    for p in &sim.pods {
        if p.life == Life::Running {
            ready_per_workload[p.workload] += 1;
        }
    }
    let noisy_node = NOISY_NODE.min(sim.nodes.len() - 1);
    let mut services: BTreeMap<(String, String), ServiceStep> = BTreeMap::new();
    let mut node_cpu = vec![0.15; sim.nodes.len()];
    let mut node_mem = vec![1.2 * (1u64 << 30) as f64; sim.nodes.len()];
    let mut pod_usage = Vec::with_capacity(sim.pods.len());
    let mut new_events = Vec::new();

    for p in &mut sim.pods {
        let w = &sim.workloads[p.workload];
        match p.life {
            Life::Creating { until } if now >= until => {
                p.life = Life::Running;
                p.state.phase = PodPhase::Running;
                p.not_ready_since = None;
                for ct in &mut p.state.containers {
                    ct.ready = true;
                    ct.state = ContainerState::Running { started_at: now };
                }
                new_events.push(event(
                    now,
                    EventType::Normal,
                    "Started",
                    ("Pod", &p.state.namespace, &p.state.name),
                    format!("Started container {}", w.name),
                    "kubelet",
                ));
                p.memory = w.mem_base * 0.6;
            }
            Life::BackOff { until } if now >= until => {
                p.life = Life::Running;
                p.state.phase = PodPhase::Running;
                for ct in &mut p.state.containers {
                    ct.state = ContainerState::Running { started_at: now };
                    ct.ready = true;
                }
                p.not_ready_since = None;
                p.memory = w.mem_base * 0.7;
            }
            _ => {}
        }
        if p.life != Life::Running {
            continue;
        }
        // Memory: steady with a little wander, or a leak that ends in an OOM kill.
        if p.leaking {
            p.memory += 3.0 * 1024.0 * 1024.0 * secs * (1.0 + 0.2 * p.rng.normal());
            if p.memory >= w.mem_limit as f64 {
                p.crashes += 1;
                p.last_restart_at = Some(now);
                let backoff = Duration::from_secs((10i64 << (p.crashes - 1).min(5)).min(300));
                p.life = Life::BackOff {
                    until: now.saturating_add(backoff),
                };
                p.not_ready_since.get_or_insert(now);
                for ct in &mut p.state.containers {
                    ct.restart_count += 1;
                    ct.ready = false;
                    ct.last_termination_reason = Some("OOMKilled".into());
                    ct.state = ContainerState::Waiting {
                        reason: "CrashLoopBackOff".into(),
                    };
                }
                new_events.push(event(
                    now,
                    EventType::Warning,
                    "BackOff",
                    ("Pod", &p.state.namespace, &p.state.name),
                    format!(
                        "Back-off restarting failed container {} in pod {}_{}",
                        w.name, p.state.name, p.state.namespace
                    ),
                    "kubelet",
                ));
                p.memory = 0.0;
                continue;
            }
        } else {
            let target = w.mem_base * (1.0 + 0.04 * (2.0 * PI * elapsed / 900.0).sin());
            p.memory += (target - p.memory) * 0.1 + target * 0.004 * p.rng.normal();
        }
        let on_noisy = c.noisy && p.node == noisy_node;
        let share = w.rps * w.replicas.max(1) as f64 / ready_per_workload[p.workload].max(1) as f64;
        let rps = share * diurnal * (1.0 + 0.06 * p.rng.normal()).max(0.0);
        let load = if w.rps > 0.0 { rps / w.rps } else { diurnal };
        p.cpu = if w.kind == WorkloadKind::Job {
            w.cpu_base * (1.0 + 0.03 * p.rng.normal())
        } else {
            (w.cpu_base * (0.35 + 0.65 * load) * (1.0 + 0.08 * p.rng.normal())).max(0.001)
        };
        if w.rps > 0.0 {
            let n = (rps * secs).round() as u64;
            let (lat, err) = latency_factor(&w.name, on_noisy, c);
            let ratio = (w.error_ratio * err).min(0.9) * (1.0 + 0.25 * p.rng.normal()).max(0.0);
            let errors = ((n as f64) * ratio).round() as u64;
            let hist = latency_counts(
                n,
                w.latency_median_s * lat * (1.0 + 0.05 * p.rng.normal()).max(0.5),
            );
            p.requests += n;
            p.errors += errors.min(n);
            p.latency.add(&hist);
            let s = services
                .entry((w.namespace.clone(), w.name.clone()))
                .or_default();
            s.requests += n;
            s.errors += errors.min(n);
            s.latency.add(&hist);
        }
        node_cpu[p.node] += p.cpu;
        node_mem[p.node] += p.memory;
        pod_usage.push(PodUsage {
            namespace: p.state.namespace.clone(),
            pod: p.state.name.clone(),
            cpu_cores: Some(p.cpu),
            memory_bytes: Some(p.memory),
            requests_total: p.requests,
            errors_total: p.errors,
            latency: p.latency,
            restarts: None,
        });
    }
    sim.events.extend(new_events);
    let mut node_usage = Vec::with_capacity(sim.nodes.len());
    let mut node_cpu_ratio = Vec::with_capacity(sim.nodes.len());
    for (i, n) in sim.nodes.iter().enumerate() {
        let capacity = f64::from(n.cpu_capacity_millis) / 1000.0;
        // A saturated node cannot hand out more CPU than it has.
        let cpu = node_cpu[i].min(capacity);
        node_cpu_ratio.push(cpu / capacity);
        if n.is_ready() {
            node_usage.push(NodeUsage {
                node: n.name.clone(),
                cpu_cores: cpu,
                memory_bytes: node_mem[i],
            });
        }
    }
    Traffic {
        pod_usage,
        node_usage,
        services,
        node_cpu_ratio,
    }
}

/// The alert conditions that hold after a step.
pub fn conditions(sim: &Sim, now: Timestamp, t: &Traffic) -> Vec<Firing> {
    let mut out = vec![Firing {
        alertname: "Watchdog",
        severity: "none",
        for_: Duration(0),
        labels: vec![],
        summary: "An alert that should always be firing to certify that Alertmanager is working properly.".into(),
        description: "This is an alert meant to ensure that the entire alerting pipeline is functional.".into(),
    }];
    for p in &sim.pods {
        let (ns, name) = (&p.state.namespace, &p.state.name);
        if p.last_restart_at
            .is_some_and(|at| now.since(at) <= Duration::from_mins(5))
        {
            out.push(Firing {
                alertname: "KubePodCrashLooping",
                severity: "warning",
                for_: Duration(0),
                labels: vec![("namespace", ns.clone()), ("pod", name.clone()), ("container", p.state.containers[0].name.clone())],
                summary: "Pod is crash looping.".into(),
                description: format!("Pod {ns}/{name} ({}) is in waiting state (reason: \"CrashLoopBackOff\"); last termination: OOMKilled.", p.state.containers[0].name),
            });
        }
        if p.state.phase != PodPhase::Succeeded
            && p.not_ready_since
                .is_some_and(|at| now.since(at) >= Duration::from_secs(60))
        {
            out.push(Firing {
                alertname: "KubePodNotReady",
                severity: "warning",
                for_: Duration(0),
                labels: vec![("namespace", ns.clone()), ("pod", name.clone())],
                summary: "Pod has been in a non-ready state for more than a minute.".into(),
                description: format!(
                    "Pod {ns}/{name} has been in a non-ready state for longer than 1 minute."
                ),
            });
        }
    }
    for (i, n) in sim.nodes.iter().enumerate() {
        if !n.is_ready() {
            out.push(Firing {
                alertname: "KubeNodeNotReady",
                severity: "critical",
                for_: Duration::from_secs(30),
                labels: vec![("node", n.name.clone())],
                summary: "Node is not ready.".into(),
                description: format!("{} has been unready for more than 30 seconds.", n.name),
            });
        } else if t.node_cpu_ratio[i] > 0.9 {
            out.push(Firing {
                alertname: "NodeCPUSaturation",
                severity: "warning",
                for_: Duration::from_secs(30),
                labels: vec![("node", n.name.clone())],
                summary: "Node CPU is saturated.".into(),
                description: format!(
                    "CPU on {} is at {:.0}% of capacity.",
                    n.name,
                    t.node_cpu_ratio[i] * 100.0
                ),
            });
        }
    }
    for ((ns, svc), s) in &t.services {
        if s.requests < 5 {
            continue;
        }
        let ratio = s.errors as f64 / s.requests as f64;
        if ratio > 0.05 {
            out.push(Firing {
                alertname: "HighErrorRate",
                severity: "critical",
                for_: Duration::from_secs(30),
                labels: vec![("namespace", ns.clone()), ("service", svc.clone())],
                summary: format!("{svc} is failing requests."),
                description: format!("{:.1}% of requests to {ns}/{svc} fail.", ratio * 100.0),
            });
        }
        if let Some(p95) = s.latency.quantile(0.95).filter(|v| *v > 0.5) {
            out.push(Firing {
                alertname: "HighRequestLatency",
                severity: "warning",
                for_: Duration::from_secs(30),
                labels: vec![("namespace", ns.clone()), ("service", svc.clone())],
                summary: format!("{svc} is slow."),
                description: format!("p95 latency of {ns}/{svc} is {:.0} ms.", p95 * 1000.0),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_is_a_cdf() {
        assert!((phi(0.0) - 0.5).abs() < 1e-7);
        assert!((phi(1.96) - 0.975).abs() < 1e-3);
        assert!(phi(-8.0) < 1e-9);
    }

    #[test]
    fn latency_counts_put_the_median_where_asked() {
        let h = latency_counts(10_000, 0.05);
        let p50 = h.quantile(0.5).unwrap();
        assert!((0.04..0.06).contains(&p50), "{p50}");
        assert_eq!(h.0[10], 10_000);
        assert!(h.0.windows(2).all(|w| w[0] <= w[1]));
    }
}
