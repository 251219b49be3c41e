//! The pods table (filter, sort, page) and the pod detail panel.

use std::cmp::Ordering;

use sentinel_explain::incident::workload_of;
use sentinel_model::ContainerState;
use sentinel_protocol::{
    ContainerRow, ErrorKind, EventRow, IpcError, LogLine, LogPage, LogQuery, MAX_PAGE, PodDetail,
    PodPage, PodQuery, PodRef, PodRow, PodSort, Point,
};
use sentinel_runtime::snapshot::PodView;
use sentinel_runtime::{Runtime, Snapshot};

use crate::{ipc_error, natural_cmp};

pub(crate) fn row(v: &PodView) -> PodRow {
    let p = &v.pod;
    PodRow {
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        phase: p.phase.as_str().into(),
        ready: p.ready_count(),
        containers: p.containers.len(),
        restarts: p.restarts(),
        cpu_cores: v.cpu_cores,
        memory_bytes: v.memory_bytes,
        node: p.node.clone(),
        created_at: p.created_at,
        last_reason: p.last_termination_reason().map(Into::into),
    }
}

fn matches(v: &PodView, q: &PodQuery, needle: &str) -> bool {
    let p = &v.pod;
    if q.namespace
        .as_deref()
        .is_some_and(|ns| !ns.is_empty() && ns != p.namespace)
    {
        return false;
    }
    if needle.is_empty() {
        return true;
    }
    let has = |s: &str| s.to_lowercase().contains(needle);
    has(&p.namespace)
        || has(&p.name)
        || has(p.phase.as_str())
        || p.node.as_deref().is_some_and(has)
        || p.last_termination_reason().is_some_and(has)
}

fn compare(a: &PodView, b: &PodView, sort: PodSort) -> Ordering {
    let (x, y) = (&a.pod, &b.pod);
    let f = |o: Option<f64>| o.unwrap_or(-1.0);
    let primary = match sort {
        PodSort::Namespace => x.namespace.cmp(&y.namespace),
        PodSort::Name => natural_cmp(&x.name, &y.name),
        PodSort::Phase => x.phase.cmp(&y.phase),
        PodSort::Ready => {
            (x.ready_count(), x.containers.len()).cmp(&(y.ready_count(), y.containers.len()))
        }
        PodSort::Restarts => x.restarts().cmp(&y.restarts()),
        PodSort::Cpu => f(a.cpu_cores).total_cmp(&f(b.cpu_cores)),
        PodSort::Memory => f(a.memory_bytes).total_cmp(&f(b.memory_bytes)),
        PodSort::Node => natural_cmp(
            x.node.as_deref().unwrap_or(""),
            y.node.as_deref().unwrap_or(""),
        ),
        // Age ascending means youngest first, as `kubectl get pods --sort-by` reads.
        PodSort::Age => y.created_at.cmp(&x.created_at),
    };
    primary
        .then_with(|| x.namespace.cmp(&y.namespace))
        .then_with(|| natural_cmp(&x.name, &y.name))
}

/// One page of pods. `limit == 0` returns every match (for the CLI).
pub fn list_pods(s: &Snapshot, q: &PodQuery) -> Result<PodPage, IpcError> {
    if q.limit > MAX_PAGE {
        return Err(IpcError::new(
            ErrorKind::InvalidArgument,
            format!("page size {} is over the limit of {MAX_PAGE}", q.limit),
        ));
    }
    let needle = q.text.trim().to_lowercase();
    let mut hits: Vec<&PodView> = s.pods.iter().filter(|v| matches(v, q, &needle)).collect();
    hits.sort_by(|a, b| {
        let o = compare(a, b, q.sort);
        if q.descending { o.reverse() } else { o }
    });
    let matched = hits.len();
    let take = if q.limit == 0 { usize::MAX } else { q.limit };
    Ok(PodPage {
        at: s.at,
        total: s.pods.len(),
        matched,
        offset: q.offset.min(matched),
        rows: hits
            .into_iter()
            .skip(q.offset)
            .take(take)
            .map(row)
            .collect(),
    })
}

fn container_state(s: &ContainerState) -> String {
    match s {
        ContainerState::Running { .. } => "Running".into(),
        ContainerState::Waiting { reason } => format!("Waiting: {reason}"),
        ContainerState::Terminated { reason, exit_code } => {
            format!("Terminated: {reason} ({exit_code})")
        }
    }
}

/// A container's log, from the watched Kubernetes context.
pub async fn pod_logs(rt: &Runtime, q: &LogQuery) -> Result<LogPage, IpcError> {
    let max = sentinel_runtime::logs::MAX_TAIL;
    if q.tail == 0 || i64::from(q.tail) > max {
        return Err(IpcError::new(
            ErrorKind::InvalidArgument,
            format!("tail must be 1 to {max} lines"),
        ));
    }
    use sentinel_runtime::logs::LogSource;
    let req = sentinel_runtime::logs::LogRequest {
        source: match q.source {
            sentinel_protocol::LogSourceChoice::Auto => LogSource::Auto,
            sentinel_protocol::LogSourceChoice::Kubernetes => LogSource::Kubernetes,
            sentinel_protocol::LogSourceChoice::Loki => LogSource::Loki,
        },
        namespace: q.namespace.clone(),
        pod: q.pod.clone(),
        container: q.container.clone(),
        tail: i64::from(q.tail),
        follow: q.follow,
        after: q.after,
    };
    match rt.pod_logs(&req).await {
        None => Err(IpcError::new(
            ErrorKind::Unavailable,
            "logs come from a Kubernetes or a Loki connection (Connections page); \
             the demo cluster has none",
        )),
        Some(Err(why)) => Err(IpcError::new(ErrorKind::Unavailable, why)),
        Some(Ok(r)) => Ok(LogPage {
            lines: r
                .lines
                .into_iter()
                .map(|(seq, text)| LogLine { seq, text })
                .collect(),
            next: r.next,
            dropped: r.dropped,
            ended: r.ended,
            source: r.source.to_string(),
            notice: r.notice,
            upstream_dropped: r.upstream_dropped,
        }),
    }
}

/// At most this many services are named on each side of a call.
const CALLS_NAMED: usize = 8;

/// What the workload `key` calls and is called by, in a pod's words:
/// services of its own namespace by name, others as `namespace/name`.
fn calls_of(calls: &[(String, String)], key: &str, namespace: &str) -> Vec<String> {
    let short = |k: &str| match k.split_once('/') {
        Some((ns, name)) if ns == namespace => name.to_string(),
        _ => k.to_string(),
    };
    let list = |names: Vec<String>| {
        let n = names.len();
        let mut shown = names
            .into_iter()
            .take(CALLS_NAMED)
            .collect::<Vec<_>>()
            .join(", ");
        if n > CALLS_NAMED {
            shown.push_str(&format!(" and {} more", n - CALLS_NAMED));
        }
        shown
    };
    let callees: Vec<String> = calls
        .iter()
        .filter(|(a, _)| a == key)
        .map(|(_, b)| short(b))
        .collect();
    let callers: Vec<String> = calls
        .iter()
        .filter(|(_, b)| b == key)
        .map(|(a, _)| short(a))
        .collect();
    let mut out = Vec::new();
    if !callees.is_empty() {
        out.push(format!("calls {}", list(callees)));
    }
    if !callers.is_empty() {
        out.push(format!("called by {}", list(callers)));
    }
    out
}

pub async fn pod_detail(rt: &Runtime, r: &PodRef) -> Result<PodDetail, IpcError> {
    let s = rt.snapshot();
    let Some(v) = s.pod(&r.namespace, &r.name) else {
        return Err(IpcError::new(
            ErrorKind::NotFound,
            format!("pod {}/{} is gone", r.namespace, r.name),
        ));
    };
    let trend = rt
        .pod_trend((r.namespace.clone(), r.name.clone()))
        .await
        .map_err(ipc_error)?
        .unwrap_or_default();
    let p = &v.pod;
    let points = |d: &[(sentinel_model::Timestamp, f64)]| {
        sentinel_runtime::series::lttb(d, 120)
            .into_iter()
            .map(|(t, v)| Point(t.millis(), v))
            .collect()
    };
    Ok(PodDetail {
        at: s.at,
        row: row(v),
        labels: p.labels.clone(),
        owner: p.owner.as_ref().map(|o| format!("{:?}/{}", o.kind, o.name)),
        services: s
            .services
            .iter()
            .filter(|svc| svc.namespace == p.namespace && svc.selects(&p.labels))
            .map(|svc| {
                let ports: Vec<String> = svc
                    .ports
                    .iter()
                    .map(|port| match port.target_on(p) {
                        Some(_) => format!("{}→{}", port.port, port.target),
                        None => format!(
                            "{}→{}, a port this pod does not declare",
                            port.port, port.target
                        ),
                    })
                    .collect();
                format!("{} ({}, {})", svc.name, svc.kind, ports.join(", "))
            })
            .collect(),
        calls: p
            .owner
            .as_ref()
            .map(|o| {
                let key = format!("{}/{}", p.namespace, workload_of(o));
                calls_of(&s.calls, &key, &p.namespace)
            })
            .unwrap_or_default(),
        containers: p
            .containers
            .iter()
            .map(|c| ContainerRow {
                name: c.name.clone(),
                image: c.image.clone(),
                ready: c.ready,
                restarts: c.restart_count,
                state: container_state(&c.state),
                last_termination_reason: c.last_termination_reason.clone(),
                cpu_request_millis: c.cpu_request_millis,
                memory_limit_bytes: c.memory_limit_bytes,
                ports: c
                    .ports
                    .iter()
                    .map(|cp| match cp.name.as_str() {
                        "" => format!("{}/{}", cp.port, cp.protocol),
                        n => format!("{}/{} ({n})", cp.port, cp.protocol),
                    })
                    .collect(),
                probes: c
                    .probes
                    .iter()
                    .map(|pr| {
                        format!(
                            "{} {}, every {}s, timeout {}s, after {}s",
                            pr.kind.as_str(),
                            pr.describe(),
                            pr.period_seconds,
                            pr.timeout_seconds,
                            pr.initial_delay_seconds
                        )
                    })
                    .collect(),
            })
            .collect(),
        events: s
            .events
            .iter()
            .rev()
            .filter(|e| {
                e.involved_object.name == p.name
                    && e.involved_object.namespace.as_deref() == Some(p.namespace.as_str())
            })
            .take(20)
            .map(|e| EventRow {
                kind: format!("{:?}", e.kind),
                reason: e.reason.clone(),
                message: e.message.clone(),
                object: format!("{}/{}", e.involved_object.kind, e.involved_object.name),
                last_seen: e.last_timestamp,
                count: e.count,
            })
            .collect(),
        cpu: points(&trend.cpu),
        memory: points(&trend.memory),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_name_their_own_namespace_short_and_a_hub_in_part() {
        let edge = |a: &str, b: &str| (a.to_string(), b.to_string());
        let mut calls = vec![
            edge("shop/checkout", "shop/payments"),
            edge("shop/checkout", "data/postgres"),
            edge("shop/frontend", "shop/checkout"),
        ];
        assert_eq!(
            calls_of(&calls, "shop/checkout", "shop"),
            ["calls payments, data/postgres", "called by frontend"]
        );
        for i in 0..20 {
            calls.push(edge(&format!("web/w{i:02}"), "data/postgres"));
        }
        let said = calls_of(&calls, "data/postgres", "data");
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].starts_with("called by shop/checkout, web/w00,")
                && said[0].ends_with(" and 13 more"),
            "{said:?}"
        );
        assert!(calls_of(&calls, "shop/cart", "shop").is_empty());
    }
}
