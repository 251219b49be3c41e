//! Acknowledging an incident silences its alerts in a real Alertmanager
//! (scripts/stack.sh), and resolving it expires the silences.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use sentinel_model::AlertState;
use sentinel_prom::{Alertmanager, Endpoint, Prometheus};
use sentinel_protocol::{IncidentAction, IncidentActionArgs, IncidentState};
use sentinel_runtime::{Runtime, SystemClock};

use crate::stack::Stack;

pub(crate) async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within 60 s"))
}

/// Posts an alert to Alertmanager the way Prometheus does.
pub(crate) fn post_alert(am: &str, name: &str, pod: &str) {
    let body = serde_json::json!([{
        "labels": {
            "alertname": name,
            "severity": "critical",
            "namespace": "ack-test",
            "pod": pod,
        },
        "annotations": {"summary": format!("{name} on {pod}")},
    }]);
    let out = Command::new("curl")
        .args([
            "-fsS",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data",
        ])
        .arg(body.to_string())
        .arg(format!("{am}/api/v2/alerts"))
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledging_an_incident_silences_its_alerts_until_it_is_resolved() {
    let stack = Stack::shared();
    // A name of its own, so other tests' alerts are untouched.
    let name = format!("SentinelAckTest{}", std::process::id());
    post_alert(&stack.alertmanager, &name, "api-1");
    let am = Alertmanager::new(Endpoint::new(&stack.alertmanager)).unwrap();
    let prom = Prometheus::new(Endpoint::new(&stack.prometheus)).unwrap();
    let rt = Runtime::builder(Arc::new(SystemClock))
        .live(prom, Some(am.clone()), Duration::from_secs(1))
        .start();
    let snap = within(
        "an incident for the alert",
        rt.wait_for(|s| s.incidents.iter().any(|i| i.title.contains(&name))),
    )
    .await
    .unwrap();
    let id = snap
        .incidents
        .iter()
        .find(|i| i.title.contains(&name))
        .unwrap()
        .id
        .clone();
    let act = |action| {
        let args = IncidentActionArgs {
            id: id.clone(),
            action,
            note: "on it".into(),
        };
        let rt = &rt;
        async move { sentinel_service::act_on_incident(rt, &args, "ana").await }
    };
    let row = act(IncidentAction::Acknowledge).await.unwrap();
    assert_eq!(row.state, IncidentState::Acknowledged);

    // Alertmanager holds an active silence matching the alert exactly, by
    // the operator, with the note; the alert is suppressed.
    let silence = within("the silence", async {
        loop {
            let found = am.silences().await.unwrap().into_iter().find(|s| {
                s.state == "active"
                    && s.matchers
                        .iter()
                        .any(|m| m.name == "alertname" && m.value == name)
            });
            if let Some(s) = found {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await;
    assert_eq!(silence.created_by, "ana");
    assert!(
        silence.comment.contains("on it") && silence.comment.contains(&id),
        "{}",
        silence.comment
    );
    let by_name = |m: &str| {
        silence
            .matchers
            .iter()
            .find(|x| x.name == m)
            .map(|x| x.value.clone())
    };
    assert_eq!(by_name("pod").as_deref(), Some("api-1"));
    assert_eq!(by_name("namespace").as_deref(), Some("ack-test"));
    let lasts = silence.ends_at.since(silence.starts_at);
    assert!(
        lasts > sentinel_model::Duration::from_mins(50),
        "about an hour: {lasts:?}"
    );
    within(
        "the alert suppressed, and the incident page says so",
        async {
            loop {
                let suppressed = am
                    .alerts(&Default::default())
                    .await
                    .unwrap()
                    .iter()
                    .any(|a| {
                        a.labels.get("alertname") == Some(&name)
                            && a.state == AlertState::Suppressed
                    });
                let detail = sentinel_service::incident_detail(&rt.snapshot(), &id).unwrap();
                let shown = detail
                    .silences
                    .iter()
                    .any(|s| s.alert == name && s.id.as_deref() == Some(silence.id.as_str()));
                if suppressed && shown {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        },
    )
    .await;
    // The silenced alert stays in its incident: it is still acknowledged.
    let detail = sentinel_service::incident_detail(&rt.snapshot(), &id).unwrap();
    assert_eq!(detail.row.state, IncidentState::Acknowledged);

    // Resolved by hand: the silence is expired.
    act(IncidentAction::Resolve).await.unwrap();
    // Alertmanager expires it first; the incident page drops it once the
    // answer has come back to the runtime.
    within(
        "the silence expired, and the incident page lets it go",
        async {
            loop {
                let state = am
                    .silences()
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|s| s.id == silence.id)
                    .map(|s| s.state);
                let detail = sentinel_service::incident_detail(&rt.snapshot(), &id).unwrap();
                if state.as_deref() == Some("expired") && detail.silences.is_empty() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        },
    )
    .await;
}
