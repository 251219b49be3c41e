use super::*;

#[test]
fn a_time_is_told_from_the_onset() {
    let onset = Timestamp(1_790_000_000_000);
    let at = |ms: i64| from_onset(Timestamp(onset.0 + ms), onset);
    assert_eq!(at(-400_000), "6m 40s before the onset");
    assert_eq!(at(-120_200), "2m before the onset");
    assert_eq!(at(45_000), "45s after the onset");
    assert_eq!(at(300), "at the onset");
}

#[test]
fn series_text_round_trips() {
    let (n, l) = parse_series(r#"http_requests_total{code="500",pod="a-1"}"#).unwrap_or_default();
    assert_eq!(n, "http_requests_total");
    assert_eq!(l.get("code").map(String::as_str), Some("500"));
    assert_eq!(parse_series("up").map(|p| p.0), Some("up".to_string()));
    assert!(parse_series("up{a=b}").is_none());
}

#[test]
fn quoted_csv_fields_keep_their_commas() {
    let csv = "timestamp,series,value\n100,\"x{a=\"\"1\"\",b=\"\"2\"\"}\",3\n160,\"x{a=\"\"1\"\",b=\"\"2\"\"}\",4\n";
    let s = parse_csv(csv).unwrap_or_default();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].labels.len(), 2);
    assert_eq!(
        s[0].points,
        vec![(Timestamp(100_000), 3.0), (Timestamp(160_000), 4.0)]
    );
    assert!(parse_csv("1,x,notanumber").is_err());
}

#[test]
fn counters_become_rates_and_shifts_are_found() {
    let pts: Vec<(Timestamp, f64)> = (0..40)
        .map(|i| {
            (
                Timestamp(i * 15_000),
                if i < 30 {
                    i as f64 * 15.0
                } else {
                    450.0 + (i - 30) as f64 * 150.0
                },
            )
        })
        .collect();
    let s = Series {
        name: "req_total".into(),
        labels: Labels::new(),
        points: pts,
    };
    let rates = s.values();
    assert!((rates[5].1 - 1.0).abs() < 1e-9);
    let sh = shift(&rates, Timestamp(30 * 15_000), 0).unwrap_or(Shift {
        before: 0.0,
        after: 0.0,
        z: 0.0,
        changed_at: None,
    });
    assert!((sh.ratio() - 10.0).abs() < 1e-9, "{sh:?}");
    assert_eq!(sh.changed_at, Some(Timestamp(31 * 15_000)));
}

/// A steady p95 (0.100, with a reading of 0.110 now and then) that
/// later rises threefold, and one that first doubled under a
/// neighbour's load and then rose tenfold: each change is dated at the
/// big rise, not at the noise or the smaller step before it.
#[test]
fn a_change_is_dated_where_it_gets_halfway() {
    let at = |i: i64| Timestamp(i * 2_000);
    let steady: Vec<(Timestamp, f64)> = (0..120)
        .map(|i| {
            let v = match i {
                i if i >= 100 => 0.33,
                i if i >= 60 && i % 3 != 0 => 0.11,
                i if i % 7 == 0 => 0.101,
                _ => 0.1,
            };
            (at(i), v)
        })
        .collect();
    let sh = shift(&steady, at(60), 0).expect("a shift");
    assert_eq!(sh.changed_at, Some(at(100)), "{sh:?}");
    let stepped: Vec<(Timestamp, f64)> = (0..120)
        .map(|i| {
            let v = match i {
                i if i >= 100 => 2.1,
                i if i >= 70 => 0.98,
                _ => 0.2 + 0.005 * (i % 3) as f64,
            };
            (at(i), v)
        })
        .collect();
    let sh = shift(&stepped, at(60), 0).expect("a shift");
    assert_eq!(sh.changed_at, Some(at(100)), "{sh:?}");
}

/// A pod slowed by a neighbour's load, back to normal a minute, then
/// slowed again as the incident began: the change under way at the
/// onset is the second. A change that begins only after the onset is
/// still dated, at its start.
#[test]
fn the_change_dated_is_the_one_under_way_at_the_onset() {
    let at = |i: i64| Timestamp(i * 2_000);
    let twice: Vec<(Timestamp, f64)> = (0..300)
        .map(|i| {
            let v = match i {
                i if i >= 230 => 1.5,
                i if (100..200).contains(&i) => 1.4,
                _ => 0.2 + 0.005 * (i % 3) as f64,
            };
            (at(i), v)
        })
        .collect();
    let onset = at(245);
    let sh = shift(&twice, onset, 150 * 2_000).expect("a shift");
    assert_eq!(sh.changed_at, Some(at(230)), "{sh:?}");
    // A short dip in a slowdown does not end it.
    let dipped: Vec<(Timestamp, f64)> = twice
        .iter()
        .map(|&(t, v)| if t == at(240) { (t, 0.2) } else { (t, v) })
        .collect();
    let sh = shift(&dipped, onset, 150 * 2_000).expect("a shift");
    assert_eq!(sh.changed_at, Some(at(230)), "{sh:?}");
    // Judged for an onset before either rise, the first is the change.
    let sh = shift(&twice, at(90), 60 * 2_000).expect("a shift");
    assert_eq!(sh.changed_at, Some(at(100)), "{sh:?}");
}

/// A neighbour's load took a pod from 0.1 to 0.65 s, went away a
/// minute before the onset, and the pod then slowed to 0.35 s with its
/// dependency: the change at the onset is that smaller one, judged on
/// its own. A series back to normal at the onset with nothing after has
/// not moved.
#[test]
fn an_excursion_over_before_the_onset_is_an_earlier_problems() {
    let at = |i: i64| Timestamp(i * 2_000);
    let level = |i: i64, later: f64| match i {
        i if i >= 242 => later,
        i if (80..200).contains(&i) => 0.65 + 0.01 * (i % 3) as f64,
        _ => 0.10 + 0.002 * (i % 3) as f64,
    };
    let series = |later: f64| -> Vec<(Timestamp, f64)> {
        (0..260).map(|i| (at(i), level(i, later))).collect()
    };
    let onset = at(250);
    let sh = shift(&series(0.35), onset, 150 * 2_000).expect("a shift");
    assert_eq!(sh.changed_at, Some(at(242)), "{sh:?}");
    assert!((sh.after - 0.35).abs() < 0.01, "{sh:?}");
    let sh = shift(&series(0.10), onset, 150 * 2_000).expect("a shift");
    assert!(sh.z.abs() < 4.0, "{sh:?}");
    // Still out at the onset, the larger excursion is the change.
    let sh = shift(&series(0.35), at(150), 120 * 2_000).expect("a shift");
    assert_eq!(sh.changed_at, Some(at(80)), "{sh:?}");
}
