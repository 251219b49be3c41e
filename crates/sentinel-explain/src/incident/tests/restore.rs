//! Incidents restored after a restart, and the backfill that reads their
//! last minutes again.

use super::*;

#[test]
fn incidents_restored_after_a_restart_can_still_resolve() {
    let checkout = [("namespace", "shop"), ("service", "checkout")];
    let firing = alert("HighErrorRate", "critical", t(0.0), &checkout);
    let mut before = manager();
    before.alerts(t(0.0), std::slice::from_ref(&firing));
    before.finding(&finding(
        "ErrorRateAnomaly",
        t(0.5),
        &checkout,
        Severity::Warning,
    ));
    let saved: Vec<Incident> = before.incidents().to_vec();
    assert_eq!(saved[0].active_members(), 2);

    // The app starts again at minute 10. The old engine's finding ends
    // then; the alert is expected in the next alert set.
    let mut m = manager();
    m.restore(saved.clone(), t(10.0));
    let inc = &m.incidents()[0];
    assert_eq!(inc.active_members(), 1);
    assert_eq!(inc.members[1].ended_at, Some(t(10.0)));
    assert_eq!(m.take_updates().len(), 1, "the store learns of it");
    // Still firing: it stays; then it stops, and five quiet minutes later
    // the incident resolves.
    m.alerts(t(10.1), std::slice::from_ref(&firing));
    assert_eq!(m.incidents()[0].active_members(), 1);
    m.alerts(t(11.0), &[]);
    assert_eq!(m.incidents()[0].active_members(), 0);
    m.tick(t(16.1));
    assert_eq!(m.incidents()[0].state, IncidentState::Resolved);

    // An alert that stopped while the app was down ends with the first
    // alert set, which is no news: the incident is not touched.
    let mut m = manager();
    m.restore(saved.clone(), t(10.0));
    m.alerts(t(10.1), &[]);
    assert_eq!(m.incidents()[0].active_members(), 0);
    assert_eq!(m.incidents()[0].updated_at, saved[0].updated_at);

    // A first alert set from before the alert started (a source that reads
    // its past first) ends it no earlier than it started.
    let mut m = manager();
    m.restore(saved.clone(), t(10.0));
    m.alerts(t(-5.0), &[]);
    let alert = &m.incidents()[0].members[0];
    assert_eq!(alert.ended_at, Some(alert.at), "{alert:#?}");

    // Down for an hour, the app backfills the last 15 minutes: a new
    // problem on the same service then is not the old incident's.
    let mut m = manager();
    m.restore(saved, t(60.0));
    m.alerts(t(45.0), &[]);
    m.finding(&finding(
        "ErrorRateAnomaly",
        t(50.0),
        &checkout,
        Severity::Warning,
    ));
    assert_eq!(m.incidents().len(), 2, "{:#?}", m.incidents());
}

/// After a restart the backfill reads the last minutes again, and the new
/// engine reports the findings the old one did, under the same ids. Those
/// of an incident that had resolved stay in it, ended: no second incident,
/// no resolved incident with active members.
#[test]
fn a_backfill_that_reads_a_resolved_incident_again_leaves_it_as_it_was() {
    let checkout = [("namespace", "shop"), ("service", "checkout")];
    let fired = finding("ErrorRateAnomaly", t(0.0), &checkout, Severity::Warning);
    let over = resolved(&fired, t(2.0));
    let mut before = manager();
    before.finding(&fired);
    before.finding(&over);
    before.tick(t(8.0));
    let saved: Vec<Incident> = before.incidents().to_vec();
    assert_eq!(saved[0].state, IncidentState::Resolved);

    let mut m = manager();
    m.restore(saved.clone(), t(10.0));
    assert_eq!(
        m.incidents(),
        &saved[..],
        "a resolved incident comes back as it was"
    );
    // The backfill's engine, on the same readings.
    m.finding(&fired);
    let inc = &m.incidents()[0];
    assert_eq!(m.incidents().len(), 1, "{:#?}", m.incidents());
    assert_eq!(inc.active_members(), 0, "{inc:#?}");
    m.finding(&over);
    m.tick(t(10.1));
    assert_eq!(m.incidents(), &saved[..]);

    // Without it restored (the old behaviour), the same readings opened
    // the incident anew, under the same id: open again, and a store that
    // saves by id would have written it over the resolved one.
    let mut m = manager();
    m.finding(&fired);
    assert_eq!(m.incidents()[0].id, saved[0].id);
    assert_eq!(m.incidents()[0].state, IncidentState::Open);

    // Another cluster's resolved incidents stay out of this one's list.
    let mut elsewhere = saved;
    elsewhere[0].cluster = "prod".into();
    let mut m = manager();
    m.restore(elsewhere, t(10.0));
    assert!(m.incidents().is_empty());
}
