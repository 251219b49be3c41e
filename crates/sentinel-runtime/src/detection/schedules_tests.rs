use sentinel_model::RuleState;

use crate::detection::nightly;

use super::*;

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap_or(Timestamp(0))
}

fn late(d: &mut Detection) -> Vec<(String, String)> {
    d.view()
        .iter()
        .filter(|f| f.rule == "CronJobLate" && f.state == RuleState::Firing)
        .map(|f| {
            (
                f.series.labels.get("cronjob").cloned().unwrap_or_default(),
                f.trace.explanation.clone(),
            )
        })
        .collect()
}

#[test]
fn a_run_not_started_fires_five_minutes_after_it_was_due_and_resolves_when_it_starts() {
    let mut d = Detection::new(sentinel_detect::default_pack());
    let export = nightly("export", "2026-11-23T02:00:00Z", false);
    d.workloads(t("2026-11-24T01:50:00Z"), std::slice::from_ref(&export));
    d.run(t("2026-11-24T01:50:00Z"), t("2026-11-24T02:04:50Z"));
    assert!(late(&mut d).is_empty(), "due, but not late yet");
    d.run(t("2026-11-24T02:05:00Z"), t("2026-11-24T02:06:00Z"));
    let fired = late(&mut d);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].0, "export");
    assert!(
        fired[0].1.contains(
            "CronJob billing/export has not started the run it was due to start (5m ago)"
        ),
        "{}",
        fired[0].1
    );
    // Still late an hour on.
    d.run(t("2026-11-24T02:06:10Z"), t("2026-11-24T03:06:00Z"));
    assert_eq!(late(&mut d).len(), 1);
    // The run starts: the CronJob's lastScheduleTime moves on.
    let started = nightly("export", "2026-11-24T02:00:00Z", false);
    d.workloads(t("2026-11-24T03:06:05Z"), &[started]);
    assert!(late(&mut d).is_empty(), "resolved as soon as it is listed");
}

#[test]
fn suspending_or_deleting_a_late_cron_job_resolves_it() {
    for after in [Some(nightly("export", "2026-11-23T02:00:00Z", true)), None] {
        let mut d = Detection::new(sentinel_detect::default_pack());
        d.workloads(
            t("2026-11-24T03:00:00Z"),
            &[nightly("export", "2026-11-23T02:00:00Z", false)],
        );
        d.tick(t("2026-11-24T03:00:00Z"));
        assert_eq!(late(&mut d).len(), 1);
        let listed: Vec<Workload> = after.into_iter().collect();
        d.workloads(t("2026-11-24T03:01:00Z"), &listed);
        d.run(t("2026-11-24T03:01:00Z"), t("2026-11-24T03:10:00Z"));
        assert!(late(&mut d).is_empty(), "{listed:?}");
    }
}

#[test]
fn lateness_is_fed_when_it_starts_or_ends_and_once_a_minute_between() {
    let mut d = Detection::new(sentinel_detect::default_pack());
    d.record(t("2026-11-24T01:00:00Z"));
    let crons: Vec<Workload> = (0..100)
        .map(|i| nightly(&format!("c-{i}"), "2026-11-23T02:00:00Z", false))
        .collect();
    d.workloads(t("2026-11-24T01:00:00Z"), &crons);
    assert_eq!(d.samples_logged(), 100);
    // Ticked every 10 s for 20 minutes before their run is due: once a
    // minute each.
    d.run(t("2026-11-24T01:00:10Z"), t("2026-11-24T01:20:00Z"));
    assert_eq!(d.samples_logged(), 20 * 100);
    // Listed again with nothing changed (another workload did): nothing.
    d.workloads(t("2026-11-24T01:20:05Z"), &crons);
    assert_eq!(d.samples_logged(), 0);
    // Late from 02:05: each fed at once then, not a minute on.
    d.run(t("2026-11-24T02:04:00Z"), t("2026-11-24T02:04:50Z"));
    d.samples_logged();
    d.lasting(t("2026-11-24T02:05:00Z"));
    assert_eq!(d.samples_logged(), 100);
    assert_eq!(late(&mut d).len(), 100);
    // A listing stamped before the last tick is not fed back in time.
    d.workloads(
        t("2026-11-24T02:04:59Z"),
        &[nightly("c-0", "2026-11-24T02:00:00Z", false)],
    );
    let log = d.take_log();
    assert!(
        log.iter().all(|r| match r {
            sentinel_store::Record::Sample { at, .. } => *at >= t("2026-11-24T02:05:00Z"),
            _ => true,
        }),
        "{log:?}"
    );
}
