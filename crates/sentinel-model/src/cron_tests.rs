#![allow(clippy::unwrap_used)]

use super::*;

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn next(expr: &str, zone: Option<&str>, after: &str) -> String {
    let c = Cron::parse(expr, zone).unwrap();
    c.next_after(at(after))
        .unwrap()
        .to_rfc3339()
        .replace(".000Z", "Z")
}

#[test]
fn steps_ranges_lists_and_names() {
    assert_eq!(
        next("*/20 * * * *", None, "2026-11-24T10:07:30Z"),
        "2026-11-24T10:20:00Z"
    );
    // Strictly after: a run due now is not next.
    assert_eq!(
        next("*/20 * * * *", None, "2026-11-24T10:20:00Z"),
        "2026-11-24T10:40:00Z"
    );
    assert_eq!(
        next("30 2 * * *", None, "2026-11-24T10:07:00Z"),
        "2026-11-25T02:30:00Z"
    );
    assert_eq!(
        next("0 9-17/4 * * mon-fri", None, "2026-11-27T17:00:00Z"),
        // Friday 17:00 taken, so Monday 09:00.
        "2026-11-30T09:00:00Z"
    );
    assert_eq!(
        next("15,45 * * JAN,jul *", None, "2026-11-24T10:07:00Z"),
        "2027-01-01T00:15:00Z"
    );
    // `a/n` runs from a to the end of the range.
    assert_eq!(
        next("50/5 * * * *", None, "2026-11-24T10:56:00Z"),
        "2026-11-24T11:50:00Z"
    );
    assert_eq!(
        next("0 0 * * ?", None, "2026-11-24T10:00:00Z"),
        "2026-11-25T00:00:00Z"
    );
}

#[test]
fn descriptors_and_every() {
    assert_eq!(
        next("@daily", None, "2026-11-24T10:00:00Z"),
        "2026-11-25T00:00:00Z"
    );
    assert_eq!(
        next("@hourly", None, "2026-11-24T10:00:00Z"),
        "2026-11-24T11:00:00Z"
    );
    // 2026-11-29 is a Sunday.
    assert_eq!(
        next("@weekly", None, "2026-11-24T10:00:00Z"),
        "2026-11-29T00:00:00Z"
    );
    assert_eq!(
        next("@monthly", None, "2026-11-24T10:00:00Z"),
        "2026-12-01T00:00:00Z"
    );
    assert_eq!(
        next("@yearly", None, "2026-11-24T10:00:00Z"),
        "2027-01-01T00:00:00Z"
    );
    assert_eq!(
        next("@every 1h30m", None, "2026-11-24T10:00:00.700Z"),
        "2026-11-24T11:30:00Z"
    );
    assert_eq!(
        next("@every 90s", None, "2026-11-24T10:00:00Z"),
        "2026-11-24T10:01:30Z"
    );
}

#[test]
fn both_day_fields_restricted_means_either() {
    // The 1st or any Monday (cron's rule): Monday 2026-11-30 comes first.
    assert_eq!(
        next("0 0 1 * 1", None, "2026-11-24T10:00:00Z"),
        "2026-11-30T00:00:00Z"
    );
    // With one of them `*`, both must hold: the 1st only.
    assert_eq!(
        next("0 0 1 * *", None, "2026-11-24T10:00:00Z"),
        "2026-12-01T00:00:00Z"
    );
    // `*/2` is a restriction, not "any" (robfig/cron): odd days or Mondays.
    assert_eq!(
        next("0 0 */2 * 1", None, "2026-11-25T10:00:00Z"),
        "2026-11-27T00:00:00Z"
    );
}

#[test]
fn time_zones_and_their_clock_changes() {
    // 02:00 in New York is 07:00 UTC in winter.
    assert_eq!(
        next(
            "0 2 * * *",
            Some("America/New_York"),
            "2026-11-24T10:00:00Z"
        ),
        "2026-11-25T07:00:00Z"
    );
    // The prefix form, as older CronJobs carry it.
    assert_eq!(
        next(
            "CRON_TZ=Asia/Kolkata 30 9 * * *",
            None,
            "2026-11-24T10:00:00Z"
        ),
        "2026-11-25T04:00:00Z"
    );
    // spec.timeZone wins over a prefix.
    assert_eq!(
        next(
            "TZ=Asia/Kolkata 0 0 * * *",
            Some("Etc/UTC"),
            "2026-11-24T10:00:00Z"
        ),
        "2026-11-25T00:00:00Z"
    );
    // 2027-03-14 02:30 does not exist in New York: it runs at 03:30 EDT.
    assert_eq!(
        next(
            "30 2 * * *",
            Some("America/New_York"),
            "2027-03-13T12:00:00Z"
        ),
        "2027-03-14T07:30:00Z"
    );
}

#[test]
fn runs_due_in_a_span_are_counted() {
    let c = Cron::parse("*/20 * * * *", None).unwrap();
    let (first, n) = c
        .due_between(at("2026-11-24T10:00:00Z"), at("2026-11-24T11:05:00Z"), 100)
        .unwrap();
    assert_eq!(first, at("2026-11-24T10:20:00Z"));
    assert_eq!(n, 3);
    assert_eq!(
        c.due_between(at("2026-11-24T10:00:00Z"), at("2026-11-24T10:19:59Z"), 100),
        None
    );
    // Counted up to the limit only.
    let every = Cron::parse("* * * * *", None).unwrap();
    let many = every.due_between(at("2026-11-01T00:00:00Z"), at("2026-11-24T00:00:00Z"), 100);
    assert_eq!(many.unwrap().1, 100);
}

#[test]
fn never_and_malformed() {
    // February 30th never comes.
    let c = Cron::parse("0 0 30 2 *", None).unwrap();
    assert_eq!(c.next_after(at("2026-11-24T10:00:00Z")), None);
    for (bad, why) in [
        ("* * * *", "expected 5 fields"),
        ("60 * * * *", "out of range 0-59"),
        ("*/0 * * * *", "a step of 0"),
        ("5-1 * * * *", "backwards"),
        ("0 0 * * 7", "out of range 0-6"),
        ("0 0 * foo *", "not a number"),
        ("@fortnightly", "unknown descriptor"),
        ("@every soon", "not a duration"),
        ("TZ=Mars/Olympus 0 0 * * *", "unknown time zone"),
    ] {
        let e = Cron::parse(bad, None).unwrap_err().to_string();
        assert!(e.contains(why), "{bad}: {e}");
    }
    let e = Cron::parse("0 0 * * *", Some("Nowhere/Town")).unwrap_err();
    assert!(e.to_string().contains("Nowhere/Town"), "{e}");
}

fn schedule(expr: &str, last: Option<&str>) -> Schedule {
    Schedule {
        schedule: expr.into(),
        time_zone: None,
        concurrency: String::new(),
        starting_deadline_secs: None,
        suspended: false,
        active: 0,
        last_schedule: last.map(at),
        last_success: None,
    }
}

#[test]
fn a_run_is_late_five_minutes_after_it_was_due() {
    let created = at("2026-11-01T00:00:00Z");
    let s = schedule("0 2 * * *", Some("2026-11-23T02:00:00Z"));
    let due = |now: &str| s.due(created, at(now)).unwrap();
    assert_eq!(
        due("2026-11-24T01:00:00Z"),
        Due::Next(at("2026-11-24T02:00:00Z"))
    );
    // Due, but the controller has a moment yet.
    assert_eq!(
        due("2026-11-24T02:04:59Z"),
        Due::Next(at("2026-11-24T02:00:00Z"))
    );
    assert_eq!(
        due("2026-11-24T02:05:00Z"),
        Due::Late {
            since: at("2026-11-24T02:00:00Z"),
            missed: 1
        }
    );
    // Two nights without a run.
    assert_eq!(
        due("2026-11-25T09:00:00Z"),
        Due::Late {
            since: at("2026-11-24T02:00:00Z"),
            missed: 2
        }
    );
    // Never scheduled yet: counted from its creation.
    let fresh = schedule("*/10 * * * *", None);
    assert_eq!(
        fresh.due(created, at("2026-11-01T00:30:00Z")).unwrap(),
        Due::Late {
            since: at("2026-11-01T00:10:00Z"),
            missed: 3
        }
    );
    let suspended = Schedule {
        suspended: true,
        ..s.clone()
    };
    assert_eq!(
        suspended.due(created, at("2026-11-30T00:00:00Z")).unwrap(),
        Due::Suspended
    );
    assert_eq!(
        schedule("0 0 30 2 *", None)
            .due(created, at("2026-11-30T00:00:00Z"))
            .unwrap(),
        Due::Never
    );
    assert!(schedule("0 0 * *", None).due(created, created).is_err());
    // Neither scheduled nor dated (a bare object): nothing is due.
    assert_eq!(
        schedule("*/10 * * * *", None)
            .due(Timestamp(0), at("2026-11-30T00:00:00Z"))
            .unwrap(),
        Due::Never
    );
    // Read in its zone: 02:00 in Berlin is 01:00 UTC in winter.
    let berlin = Schedule {
        time_zone: Some("Europe/Berlin".into()),
        ..s
    };
    assert_eq!(
        berlin.due(created, at("2026-11-24T00:00:00Z")).unwrap(),
        Due::Next(at("2026-11-24T01:00:00Z"))
    );
}
