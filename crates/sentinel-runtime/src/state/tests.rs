//! The state as the message loop drives it: batches, then time passing.

use sentinel_model::RuleState;

use super::*;
use crate::snapshot::{Health, SourceStatus};
use crate::source::Batch;

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap_or(Timestamp(0))
}

fn source(kind: &'static str) -> SourceStatus {
    SourceStatus {
        name: kind.into(),
        kind,
        interval: Duration::from_secs(10),
        health: Health::Starting,
        last_ok: None,
        last_error: None,
        latency: None,
        notes: Vec::new(),
    }
}

fn kube_state() -> State {
    State::new(
        Mode::Live,
        Duration::from_mins(15),
        vec![source("kubernetes")],
        sentinel_detect::default_pack(),
    )
}

fn late(state: &mut State) -> bool {
    state
        .findings_view()
        .iter()
        .any(|f| f.rule == "CronJobLate" && f.state == RuleState::Firing)
}

#[test]
fn a_cron_job_listed_once_goes_late_as_time_passes_with_nothing_listed() {
    let mut state = kube_state();
    state.apply(
        0,
        Batch {
            at: t("2026-11-24T01:00:00Z"),
            workloads: Some(vec![crate::detection::nightly(
                "backup",
                "2026-11-23T02:00:00Z",
                false,
            )]),
            ..Batch::default()
        },
    );
    // Only ticks from here: the CronJob is not listed again (nothing about
    // it changes when its run fails to start).
    let mut now = t("2026-11-24T01:00:10Z");
    while now <= t("2026-11-24T02:04:50Z") {
        state.tick(now);
        now = now.saturating_add(Duration::from_secs(10));
    }
    assert!(!late(&mut state));
    state.tick(t("2026-11-24T02:05:00Z"));
    assert!(late(&mut state), "late five minutes after 02:00");
}

#[test]
fn kube_state_metrics_workloads_count_until_the_api_has_spoken() {
    // Source 0 reads Prometheus (kube-state-metrics), source 1 the API.
    let mut state = State::new(
        Mode::Live,
        Duration::from_mins(15),
        vec![source("prometheus"), source("kubernetes")],
        sentinel_detect::default_pack(),
    );
    let listing = |name: &str, at: &str| Batch {
        at: t(at),
        workloads: Some(vec![crate::detection::nightly(
            name,
            "2026-11-24T00:00:00Z",
            false,
        )]),
        ..Batch::default()
    };
    let names = |state: &State| -> Vec<String> {
        state.workloads().iter().map(|w| w.name.clone()).collect()
    };
    state.apply(0, listing("from-metrics", "2026-11-24T01:00:00Z"));
    assert_eq!(names(&state), ["from-metrics"]);
    state.apply(1, listing("from-api", "2026-11-24T01:00:10Z"));
    state.apply(0, listing("from-metrics", "2026-11-24T01:00:20Z"));
    assert_eq!(names(&state), ["from-api"]);
}
