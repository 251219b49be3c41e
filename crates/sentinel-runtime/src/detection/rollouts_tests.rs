use sentinel_model::{Rollout, RuleState, WorkloadKind};

use super::*;

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap_or(Timestamp(0))
}

fn sts(updated: u32, ready: u32, rolling: bool) -> Workload {
    Workload {
        kind: WorkloadKind::StatefulSet,
        namespace: "db".into(),
        name: "postgres".into(),
        owner: None,
        revision: "postgres-7b6f".into(),
        images: vec![],
        replicas: 3,
        ready,
        created_at: t("2026-11-01T00:00:00Z"),
        batch: None,
        rollout: rolling.then(|| Rollout {
            updated,
            wanted: 3,
            waiting: format!("rolling update to complete {updated} pods at revision postgres-7b6f"),
            progressed_at: None,
            stalled: None,
            failure: None,
        }),
    }
}

fn stuck(d: &mut Detection) -> Vec<(String, String)> {
    d.view()
        .iter()
        .filter(|f| f.rule.ends_with("RolloutStuck") && f.state == RuleState::Firing)
        .map(|f| (f.rule.clone(), f.trace.explanation.clone()))
        .collect()
}

#[test]
fn a_rollout_standing_still_fires_after_ten_minutes_and_progress_resolves_it() {
    let mut d = Detection::new(sentinel_detect::default_pack());
    // The first new pod came and is not ready: 1 of 3 updated, 2 ready.
    d.workloads(t("2026-11-24T10:00:00Z"), &[sts(1, 2, true)]);
    d.run(t("2026-11-24T10:00:10Z"), t("2026-11-24T10:09:50Z"));
    assert!(stuck(&mut d).is_empty(), "not ten minutes yet");
    d.run(t("2026-11-24T10:10:00Z"), t("2026-11-24T10:11:10Z"));
    let fired = stuck(&mut d);
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].0, "StatefulSetRolloutStuck");
    assert!(
        fired[0].1.starts_with(
            "The rolling update of StatefulSet db/postgres has made no progress for 10m"
        ),
        "{}",
        fired[0].1
    );
    // Listed again unchanged (another workload changed): still stuck.
    d.workloads(t("2026-11-24T10:12:00Z"), &[sts(1, 2, true)]);
    assert_eq!(stuck(&mut d).len(), 1);
    // The new pod gets ready: progress.
    d.workloads(t("2026-11-24T10:13:00Z"), &[sts(1, 3, true)]);
    assert!(stuck(&mut d).is_empty(), "progress resolves it");
    // Then the next pod stands still again.
    d.run(t("2026-11-24T10:13:10Z"), t("2026-11-24T10:24:00Z"));
    assert_eq!(stuck(&mut d).len(), 1);
    // Done: no rollout under way.
    d.workloads(t("2026-11-24T10:25:00Z"), &[sts(3, 3, false)]);
    assert!(stuck(&mut d).is_empty());
    d.run(t("2026-11-24T10:25:10Z"), t("2026-11-24T10:40:00Z"));
    assert!(stuck(&mut d).is_empty(), "nothing under way stays quiet");
}

#[test]
fn the_controllers_own_last_progress_counts_from_before_it_was_seen() {
    let mut d = Detection::new(sentinel_detect::default_pack());
    let mut w = sts(1, 2, true);
    w.kind = WorkloadKind::Deployment;
    w.name = "checkout".into();
    if let Some(r) = &mut w.rollout {
        r.progressed_at = Some(t("2026-11-24T09:00:00Z"));
        r.stalled = Some("ReplicaSet \"checkout-7d9f\" has timed out progressing.".into());
    }
    // Sentinel starts at 10:00, an hour after the last progress.
    d.workloads(t("2026-11-24T10:00:00Z"), std::slice::from_ref(&w));
    d.tick(t("2026-11-24T10:00:00Z"));
    let fired = stuck(&mut d);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].0, "DeploymentRolloutStuck");
    assert!(fired[0].1.contains("no progress for 1h"), "{}", fired[0].1);
    // Deleted: resolved.
    d.workloads(t("2026-11-24T10:01:00Z"), &[]);
    assert!(stuck(&mut d).is_empty());
}

#[test]
fn workloads_that_never_roll_out_get_no_series() {
    let mut d = Detection::new(sentinel_detect::default_pack());
    d.record(t("2026-11-24T10:00:00Z"));
    let many: Vec<Workload> = (0..100)
        .map(|i| {
            let mut w = sts(3, 3, false);
            w.name = format!("db-{i}");
            w
        })
        .collect();
    d.workloads(t("2026-11-24T10:00:00Z"), &many);
    d.run(t("2026-11-24T10:00:10Z"), t("2026-11-24T10:10:00Z"));
    assert_eq!(d.samples_logged(), 0);
}
