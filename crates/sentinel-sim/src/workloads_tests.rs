//! The demo's CronJob over several cycles.

use sentinel_model::{Duration, JobOutcome, OwnerKind, Timestamp, WorkloadKind as Kind};

use crate::scenario::{CYCLE_S, NOISY_AT, NOISY_END};
use crate::{Sim, SimConfig};

const T0: Timestamp = Timestamp(1_700_000_000_000);

#[test]
fn each_cycle_runs_a_job_of_the_cron_job_and_keeps_the_last_three() {
    let mut sim = Sim::new(SimConfig::default(), T0);
    let mut listed = Vec::new();
    let at = |s: i64| T0.saturating_add(Duration::from_secs(s));
    let mut pods_owner = None;
    sim.fast_forward(
        at(4 * CYCLE_S + NOISY_AT + 30),
        Duration::from_secs(5),
        |f| {
            if let Some(w) = &f.workloads {
                listed = w.clone();
            }
            if let Some(p) = f.pods.iter().find(|p| p.namespace == "batch") {
                pods_owner = p.owner.clone();
            }
        },
    );
    let cron: Vec<_> = listed.iter().filter(|w| w.kind == Kind::CronJob).collect();
    assert_eq!(cron.len(), 1);
    let schedule = cron[0].schedule().unwrap();
    assert_eq!(schedule.active, 1, "the fifth run is under way");
    // The minute it was scheduled for, as the controller sets it.
    let minute = at(4 * CYCLE_S + NOISY_AT).millis() / 60_000;
    assert_eq!(schedule.last_schedule, Some(Timestamp(minute * 60_000)));
    // The schedule says when the runs come: the next one a cycle later, so
    // the demo's CronJob is never late.
    // Written in order: T0 + NOISY_AT is 22:19:20.
    assert_eq!(schedule.schedule, "19,39,59 * * * *");
    let cron = sentinel_model::cron::Cron::parse(&schedule.schedule, None).unwrap();
    assert_eq!(
        cron.next_after(schedule.last_schedule.unwrap()),
        Some(Timestamp((minute + CYCLE_S / 60) * 60_000))
    );
    assert_eq!(
        cron.next_after(T0),
        Some(Timestamp(at(NOISY_AT).millis() / 60_000 * 60_000))
    );
    assert_eq!(schedule.last_success, Some(at(3 * CYCLE_S + NOISY_END)));
    let jobs: Vec<_> = listed.iter().filter(|w| w.kind == Kind::Job).collect();
    assert_eq!(
        jobs.len(),
        4,
        "three finished and the one running: {jobs:?}"
    );
    assert!(
        jobs.iter()
            .all(|j| j.owner.as_deref() == Some("search-reindex"))
    );
    let outcomes: Vec<&JobOutcome> = jobs.iter().map(|j| &j.job().unwrap().outcome).collect();
    assert_eq!(
        outcomes[..3],
        [
            &JobOutcome::Complete {
                at: at(CYCLE_S + NOISY_END)
            },
            &JobOutcome::Complete {
                at: at(2 * CYCLE_S + NOISY_END)
            },
            &JobOutcome::Complete {
                at: at(3 * CYCLE_S + NOISY_END)
            },
        ]
    );
    assert_eq!(outcomes[3], &JobOutcome::Running);
    // Named after the minute they were scheduled for; the running one owns
    // the pod.
    assert_eq!(jobs[3].name, format!("search-reindex-{minute}"));
    let owner = pods_owner.unwrap();
    assert_eq!(
        (owner.kind, owner.name.as_str()),
        (OwnerKind::Job, jobs[3].name.as_str())
    );
}
