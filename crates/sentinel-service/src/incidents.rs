//! The Incidents page: the filtered list, and one incident's timeline, the
//! explainer's analysis of what the app captured around its onset, and the
//! rule trace of each finding in it.

use std::collections::BTreeSet;

use sentinel_explain::incident::{Action, Incident, Member, MemberKind};
use sentinel_explain::{Explanation as Analysed, live};
use sentinel_protocol::{
    Analysis, CauseRow, CitedSentence, EvidenceRow, IncidentDetail, IncidentPage, IncidentQuery,
    IncidentRow, IncidentState, NotificationRow, SilenceRow, TimelineEntry,
};
use sentinel_runtime::Snapshot;
use sentinel_runtime::incidents::Sent;

/// Rows one list call returns at most.
pub const MAX_INCIDENTS: usize = 500;

fn state(s: sentinel_explain::incident::IncidentState) -> IncidentState {
    use sentinel_explain::incident::IncidentState as S;
    match s {
        S::Open => IncidentState::Open,
        S::Acknowledged => IncidentState::Acknowledged,
        S::Resolved => IncidentState::Resolved,
    }
}

pub fn incident_row(i: &Incident) -> IncidentRow {
    IncidentRow {
        id: i.id.clone(),
        title: i.title.clone(),
        cluster: i.cluster.clone(),
        state: state(i.state),
        severity: i.severity,
        opened_at: i.opened_at,
        updated_at: i.updated_at,
        resolved_at: i.resolved_at,
        namespaces: i.scope.touched.iter().cloned().collect(),
        members: i.members.len() + i.dropped as usize,
        active_members: i.active_members(),
        acknowledged_by: i.ack.as_ref().map(|a| a.by.clone()),
        merged_into: i.merged_into.clone(),
    }
}

fn matches(i: &Incident, q: &IncidentQuery) -> bool {
    (q.states.is_empty() || q.states.contains(&state(i.state)))
        && q.min_severity.is_none_or(|s| i.severity >= s)
        && q.namespace
            .as_ref()
            .is_none_or(|ns| i.scope.touched.contains(ns))
        && q.cluster.as_ref().is_none_or(|c| i.cluster == *c)
        && q.since.is_none_or(|t| i.updated_at >= t)
}

/// Incidents matching the query, newest first.
pub fn list_incidents(s: &Snapshot, q: &IncidentQuery) -> IncidentPage {
    let limit = q.limit.unwrap_or(100).min(MAX_INCIDENTS);
    let mut namespaces = BTreeSet::new();
    let mut clusters = BTreeSet::new();
    let mut active = 0;
    let mut total = 0;
    let mut rows = Vec::new();
    for i in s.incidents.iter() {
        namespaces.extend(i.scope.touched.iter().cloned());
        clusters.insert(i.cluster.clone());
        if i.state.is_active() {
            active += 1;
        }
        if matches(i, q) {
            total += 1;
            if rows.len() < limit {
                rows.push(incident_row(i));
            }
        }
    }
    IncidentPage {
        rows,
        total,
        active,
        namespaces: namespaces.into_iter().collect(),
        clusters: clusters.into_iter().collect(),
    }
}

/// The fingerprint the "Why?" panel knows a member by.
fn fingerprint(m: &Member) -> Option<String> {
    match m.kind {
        MemberKind::Finding => m.finding_id.clone(),
        MemberKind::Alert => m
            .key
            .strip_prefix("alert:")
            .and_then(|k| k.rsplit_once('@'))
            .map(|(fp, _)| fp.to_string()),
        _ => None,
    }
}

/// Every member and lifecycle change, in time order.
pub fn timeline(i: &Incident) -> Vec<TimelineEntry> {
    let mut out: Vec<TimelineEntry> = i
        .members
        .iter()
        .map(|m| TimelineEntry {
            at: m.at,
            kind: m.kind.as_str().to_string(),
            severity: Some(m.severity),
            subject: m.subject.to_string(),
            title: m.title.clone(),
            text: m.text.clone(),
            ended_at: if m.kind.opens() { m.ended_at } else { None },
            fingerprint: fingerprint(m),
            by: None,
        })
        .collect();
    out.extend(i.changes.iter().map(|c| TimelineEntry {
        at: c.at,
        kind: c.action.as_str().to_string(),
        severity: None,
        subject: i.id.clone(),
        // "merged by sentinel", then "into inc-…" in the note.
        title: match c.action {
            Action::MergedInto => "merged".to_string(),
            a => a.as_str().replace('_', " "),
        },
        text: c.note.clone(),
        ended_at: None,
        fingerprint: None,
        by: Some(c.by.clone()),
    }));
    // Stable: members before the change they caused at the same instant.
    out.sort_by_key(|e| e.at);
    out
}

/// What the explainer makes of the incident's capture: the pods, nodes and
/// events around it as the cluster reported them while it was active, and
/// the readings behind its findings. Without a capture (an incident from
/// an older history) it reads the state the app holds now.
pub fn analyse(s: &Snapshot, i: &Incident) -> Analysed {
    let onset = i.onset();
    let cap = match &i.capture {
        Some(c) => c.to_capture(onset),
        None => live::capture(
            onset,
            live::objects_json(
                s.pods.iter().map(|p| &p.pod),
                s.nodes.iter().map(|n| &n.node),
                s.events.iter(),
            ),
            Vec::new(),
        ),
    };
    sentinel_explain::explain(&cap)
}

fn cited(s: &sentinel_explain::Sentence) -> CitedSentence {
    CitedSentence {
        text: s.text.clone(),
        cites: s.cites.clone(),
    }
}

pub(crate) fn analysis(e: &Analysed) -> Analysis {
    Analysis {
        onset: e.onset,
        confident: e.confident,
        summary: e.summary.iter().map(cited).collect(),
        candidates: e
            .candidates
            .iter()
            .take(5)
            .map(|c| CauseRow {
                cause: c.cause.clone(),
                object: c.object.to_string(),
                rule: c.rule.to_string(),
                score: c.score,
                sentences: c.sentences.iter().map(cited).collect(),
                mitigation: c.mitigation.clone(),
            })
            .collect(),
        evidence: e
            .evidence
            .iter()
            .map(|v| EvidenceRow {
                id: v.id.clone(),
                kind: serde_json::to_value(v.kind)
                    .ok()
                    .and_then(|k| k.as_str().map(String::from))
                    .unwrap_or_default(),
                subject: v.subject.to_string(),
                at: v.at,
                text: v.text.clone(),
            })
            .collect(),
        gaps: e.gaps.clone(),
    }
}

/// Refuses an incident folded into another: it holds nothing to report or
/// narrate, and the one it went into holds it all.
pub(crate) fn not_merged(i: &Incident) -> Result<&Incident, sentinel_protocol::IpcError> {
    match &i.merged_into {
        Some(into) => Err(sentinel_protocol::IpcError::new(
            sentinel_protocol::ErrorKind::InvalidArgument,
            format!("incident {} was merged into {into}; use that one", i.id),
        )),
        None => Ok(i),
    }
}

/// One incident for its detail page; `None` if the app no longer holds it.
pub fn incident_detail(s: &Snapshot, id: &str) -> Option<IncidentDetail> {
    let i = s.incidents.iter().find(|i| i.id == id)?;
    let traces = i
        .members
        .iter()
        .filter_map(|m| m.finding_id.as_deref())
        .filter_map(|f| crate::why::explain(s, f))
        .collect();
    Some(IncidentDetail {
        row: incident_row(i),
        ack_note: i.ack.as_ref().map(|a| a.note.clone()),
        timeline: timeline(i),
        dropped: i.dropped,
        // Folded into another incident: the analysis is that one's, of
        // everything it now holds.
        analysis: i.merged_into.is_none().then(|| analysis(&analyse(s, i))),
        traces,
        silences: s
            .silences
            .iter()
            .filter(|v| v.incident == i.id)
            .map(|v| SilenceRow {
                alert: v.alert.clone(),
                id: v.id.clone(),
                until: v.until,
                error: v.error.clone(),
            })
            .collect(),
    })
}

/// Notifications newer than `after`, oldest first.
pub fn notifications_after(s: &Snapshot, after: u64) -> Vec<NotificationRow> {
    s.notifications
        .iter()
        .filter(|n| n.seq > after)
        .map(notification_row)
        .collect()
}

fn notification_row(n: &Sent) -> NotificationRow {
    NotificationRow {
        seq: n.seq,
        at: n.at,
        incident: n.notification.incident.clone(),
        severity: n.notification.severity,
        title: n.notification.title.clone(),
        body: n.notification.body.clone(),
    }
}

/// Active incidents, worst first, for the tray menu.
pub fn active_incidents(s: &Snapshot, limit: usize) -> Vec<IncidentRow> {
    let mut v: Vec<&std::sync::Arc<Incident>> =
        s.incidents.iter().filter(|i| i.state.is_active()).collect();
    v.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.updated_at.cmp(&a.updated_at))
    });
    v.into_iter().take(limit).map(|i| incident_row(i)).collect()
}

/// An operator's action on an incident, as `by`: the incident as it now
/// stands, or why the action was refused (unknown id, wrong state).
pub async fn act_on_incident(
    rt: &sentinel_runtime::Runtime,
    args: &sentinel_protocol::IncidentActionArgs,
    by: &str,
) -> Result<IncidentRow, sentinel_protocol::IpcError> {
    use sentinel_explain::incident::LifecycleError;
    use sentinel_protocol::{ErrorKind, IncidentAction, IpcError};
    use sentinel_runtime::incidents::Act;
    let act = match args.action {
        IncidentAction::Acknowledge => Act::Acknowledge,
        IncidentAction::Resolve => Act::Resolve,
        IncidentAction::Reopen => Act::Reopen,
    };
    let result = rt
        .act_on_incident(args.id.clone(), act, by.to_string(), args.note.clone())
        .await
        .map_err(crate::ipc_error)?;
    match result {
        Ok(i) => Ok(incident_row(&i)),
        Err(e @ LifecycleError::NotFound(_)) => {
            Err(IpcError::new(ErrorKind::NotFound, e.to_string()))
        }
        Err(e) => Err(IpcError::new(ErrorKind::InvalidArgument, e.to_string())),
    }
}
