//! Which steps of a range answer are data: while Prometheus is down (or
//! not scraping), its answers repeat each series' last sample for five
//! minutes, and its rates read low for a minute after.

use std::collections::HashMap;

use sentinel_model::{Duration, Timestamp};

use super::UsageAt;

/// A step whose newest scrape is older than two and a half scrape
/// intervals (as the scrapes in the answer show them; this long when they
/// do not) or three steps, is that repetition, not data.
const STALE_AFTER: Duration = Duration::from_secs(90);

/// What a source remembers between polls to tell data from repetition: a
/// live poll covers a step or two, too few to show the scrape interval or
/// the gap a minute ago.
#[derive(Debug, Clone, Default)]
pub struct Freshness {
    /// The usual time between scrapes, once an answer has shown it.
    interval_ms: Option<i64>,
    /// The newest step that was a gap.
    last_gap: Option<i64>,
}

impl Freshness {
    /// Drops the steps at which Prometheus had scraped nothing for a while
    /// (`scraped`: the newest scrape's time, in seconds, at each step):
    /// their values are its last samples repeated. The next real step then
    /// spans the gap, and a rate over it is the gap's average, not the
    /// whole gap's increase in one step. Steps `scraped` says nothing
    /// about are kept.
    pub fn drop_stale(
        &mut self,
        usage: &mut Vec<UsageAt>,
        scraped: &[crate::parse::Point],
        step: Duration,
    ) {
        // The scrape interval: the usual gap between successive scrapes.
        let mut times: Vec<i64> = scraped
            .iter()
            .filter(|p| p.value.is_finite())
            .map(|p| (p.value * 1000.0) as i64)
            .collect();
        times.dedup();
        let mut gaps: Vec<i64> = times
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|g| *g > 0)
            .collect();
        gaps.sort_unstable();
        if let Some(&g) = gaps.get(gaps.len() / 2) {
            self.interval_ms = Some(g);
        }
        let limit = self
            .interval_ms
            .map_or(STALE_AFTER.millis(), |g| g * 5 / 2)
            .max(3 * step.millis());
        let newest: HashMap<Timestamp, f64> = scraped.iter().map(|p| (p.at, p.value)).collect();
        // After a gap, the CPU rates' one-minute windows hold too few
        // samples and Prometheus' rate reads low (a ramp up from nothing):
        // those steps go too. A gap is a stale step, or the time before the
        // first scrape the answer shows when it starts later than the usage
        // (history backfilled into a Prometheus that began scraping later).
        // A Prometheus new this minute has no usage before its first scrape,
        // so its first minute is kept, ramp and all (docs/live-sources.md).
        if let (Some(p), Some(u)) = (scraped.first(), usage.first())
            && p.at > u.at
        {
            let first = (p.value * 1000.0) as i64;
            self.last_gap = Some(self.last_gap.map_or(first, |g| g.max(first)));
        }
        let last_gap = &mut self.last_gap;
        usage.retain(|u| {
            let at = u.at.millis();
            if newest
                .get(&u.at)
                .is_some_and(|s| at - (s * 1000.0) as i64 > limit)
            {
                *last_gap = Some(at);
                return false;
            }
            last_gap.is_none_or(|g| at < g || at - g > RATE_WINDOW.millis())
        });
    }
}

/// The window of the CPU rates in [`POD_CPU`] and [`NODE_CPU`].
const RATE_WINDOW: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Point;

    /// Usage at the given seconds.
    fn steps(secs: impl IntoIterator<Item = i64>) -> Vec<UsageAt> {
        secs.into_iter()
            .map(|s| UsageAt {
                at: Timestamp::from_secs(s),
                ..UsageAt::default()
            })
            .collect()
    }

    /// `(step, newest scrape)` in seconds, as `max(timestamp(up))` answers.
    fn scrapes(pairs: impl IntoIterator<Item = (i64, i64)>) -> Vec<Point> {
        pairs
            .into_iter()
            .map(|(at, last)| Point {
                at: Timestamp::from_secs(at),
                value: last as f64,
            })
            .collect()
    }

    fn kept(
        fresh: &mut Freshness,
        mut usage: Vec<UsageAt>,
        scraped: &[Point],
        step_s: i64,
    ) -> Vec<i64> {
        fresh.drop_stale(&mut usage, scraped, Duration::from_secs(step_s));
        usage.iter().map(|u| u.at.millis() / 1000).collect()
    }

    /// Prometheus, scraping every 10 s, is down from 100 s to 400 s: from
    /// 110 s its newest scrape is the one at 100 s, repeated (up to two and
    /// a half intervals pass as a late scrape); at 420 s it scrapes again.
    #[test]
    fn steps_repeating_a_dead_prometheus_last_samples_are_dropped() {
        let tens = |from: i64, to: i64| (from..=to).map(|k| k * 10);
        let down = scrapes(
            tens(0, 42)
                .filter(|at| *at != 410)
                .map(|at| (at, if (100..420).contains(&at) { 100 } else { at })),
        );
        // From 140 s stale; up to a minute after the last stale step (400 s)
        // the CPU rates still span the gap.
        let want: Vec<i64> = tens(0, 13).collect();
        assert_eq!(
            kept(&mut Freshness::default(), steps(tens(0, 42)), &down, 10),
            want
        );
        // A minute on, the steps are kept again.
        let back = scrapes(tens(40, 50).map(|at| (at, if at == 400 { 100 } else { at })));
        assert_eq!(
            kept(&mut Freshness::default(), steps(tens(40, 50)), &back, 10),
            [470, 480, 490, 500]
        );
        // A Prometheus that began scraping at 300 s: usage before then is
        // kept (it is the history it holds), the minute after it is not.
        let new = scrapes(tens(30, 40).map(|at| (at, at)));
        assert_eq!(
            kept(&mut Freshness::default(), steps(tens(28, 40)), &new, 10),
            [280, 290, 370, 380, 390, 400]
        );
    }

    /// Live polls cover one step each: the minute after a gap, seen in an
    /// earlier poll, is remembered, and so is the scrape interval.
    #[test]
    fn the_minute_after_a_gap_spans_polls() {
        let mut fresh = Freshness::default();
        // The poll after an outage: scrapes every 10 s, then none from 100 s
        // to 300 s.
        let outage =
            scrapes((0..=31).map(|k| (k * 10, if (10..31).contains(&k) { 100 } else { k * 10 })));
        let first = kept(&mut fresh, steps((0..=31).map(|k| k * 10)), &outage, 10);
        assert_eq!(first.last(), Some(&130));
        let mut later = Vec::new();
        for at in (32..=38).map(|k| k * 10) {
            later.extend(kept(&mut fresh, steps([at]), &scrapes([(at, at)]), 10));
        }
        assert_eq!(later, [370, 380]);
        // The interval learnt then (10 s) holds: a scrape 40 s old is stale.
        assert!(kept(&mut fresh, steps([390]), &scrapes([(390, 350)]), 10).is_empty());
        // Without two scrapes to tell the interval, 90 s: a scrape a minute
        // old at a 2 s step is not staleness.
        assert_eq!(
            kept(
                &mut Freshness::default(),
                steps([160]),
                &scrapes([(160, 100)]),
                2
            ),
            [160]
        );
    }
}
