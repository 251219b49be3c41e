use super::*;
use sentinel_prom::dashboard::UsageAt;

#[test]
fn grid_is_aligned_to_the_step() {
    let step = step_of(StdDuration::from_millis(2500));
    assert_eq!(step, Duration::from_secs(2));
    assert_eq!(align(Timestamp(10_999), step), Timestamp(10_000));
    assert_eq!(
        step_of(StdDuration::from_millis(100)),
        Duration::from_secs(1)
    );
}

#[test]
fn objects_ride_on_the_first_batch_and_only_the_newest_is_news() {
    let poll = Poll {
        usage: (1..=3)
            .map(|i| UsageAt {
                at: Timestamp(i * 1000),
                ..UsageAt::default()
            })
            .collect(),
        pods: Some(Vec::new()),
        nodes: Some(Vec::new()),
        ..Poll::default()
    };
    let out = batches(
        poll.clone(),
        Timestamp(3000),
        true,
        Some(Vec::new()),
        None,
        Duration(5),
    );
    assert_eq!(out.len(), 3);
    assert!(out[0].pods.is_some() && out[1].pods.is_none());
    // They are as of the newest step, and say so.
    assert_eq!(
        out.iter().map(|b| b.objects_at).collect::<Vec<_>>(),
        [Some(Timestamp(3000)), None, None]
    );
    assert_eq!(
        out.iter().map(|b| b.backfill).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert!(out[2].alerts.is_some() && out[0].alerts.is_none());
    let later = batches(poll, Timestamp(3000), false, None, None, Duration(5));
    assert!(later.iter().all(|b| !b.backfill));
}

#[test]
fn fingerprints_are_stable_and_distinct() {
    let a: Labels = [("alertname".to_string(), "X".to_string())].into();
    let b: Labels = [("alertname".to_string(), "Y".to_string())].into();
    assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
    assert_ne!(fingerprint(&a), fingerprint(&b));
    assert_eq!(fingerprint(&a).len(), 16);
}
