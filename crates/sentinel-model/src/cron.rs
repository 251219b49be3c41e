//! Cron schedules read as the CronJob controller reads them (robfig/cron's
//! standard parser): five fields with names, ranges, steps, lists and `?`;
//! the descriptors `@yearly` … `@hourly` and `@every <duration>`; and a
//! time zone, `spec.timeZone` or a `CRON_TZ=`/`TZ=` prefix (UTC without
//! either, as the controller runs). Pure: time is an argument and the zone
//! database is compiled in.

use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::{Duration, Schedule, Timestamp};

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Cron {
    when: When,
    zone: TimeZone,
}

#[derive(Debug, Clone)]
enum When {
    Fields(Fields),
    Every(Duration),
}

/// One bit per allowed value; `*`/`?` in a day field is remembered, as it
/// decides how the two day fields combine.
#[derive(Debug, Clone, Copy)]
struct Fields {
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    dom_any: bool,
    dow_any: bool,
}

/// Why a schedule could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError(String);

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CronError {}

fn err(m: impl Into<String>) -> CronError {
    CronError(m.into())
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// How far ahead a schedule is searched, as robfig/cron does: one that
/// matches no day in five years (`0 0 30 2 *`) never runs.
const YEARS_SEARCHED: i16 = 5;

impl Cron {
    /// `expr` as in `spec.schedule`, `time_zone` as in `spec.timeZone`.
    pub fn parse(expr: &str, time_zone: Option<&str>) -> Result<Cron, CronError> {
        let mut expr = expr.trim();
        let mut zone_name = time_zone.map(str::trim).filter(|z| !z.is_empty());
        for prefix in ["CRON_TZ=", "TZ="] {
            if let Some(rest) = expr.strip_prefix(prefix) {
                let (z, rest) = rest
                    .split_once(char::is_whitespace)
                    .ok_or_else(|| err(format!("nothing scheduled after {prefix}")))?;
                if zone_name.is_none() {
                    zone_name = Some(z);
                }
                expr = rest.trim();
            }
        }
        let zone = match zone_name {
            None => TimeZone::UTC,
            Some(z) => TimeZone::get(z).map_err(|_| err(format!("unknown time zone {z:?}")))?,
        };
        let when = if let Some(every) = expr.strip_prefix("@every") {
            When::Every(go_duration(every.trim())?)
        } else {
            let expanded = match expr.to_ascii_lowercase().as_str() {
                "@yearly" | "@annually" => "0 0 1 1 *",
                "@monthly" => "0 0 1 * *",
                "@weekly" => "0 0 * * 0",
                "@daily" | "@midnight" => "0 0 * * *",
                "@hourly" => "0 * * * *",
                d if d.starts_with('@') => return Err(err(format!("unknown descriptor {expr:?}"))),
                _ => expr,
            };
            When::Fields(fields(expanded)?)
        };
        Ok(Cron { when, zone })
    }

    /// The first time scheduled strictly after `t`; none within five years.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        match self.when {
            When::Every(d) => {
                // From the whole second, as robfig/cron counts.
                let whole = t.millis().div_euclid(1_000) * 1_000;
                Some(Timestamp(whole).saturating_add(d))
            }
            When::Fields(f) => f.next_after(&self.zone, t),
        }
    }

    /// The times scheduled in `(after, upto]`: the first of them and how
    /// many, counting at most `limit`.
    pub fn due_between(
        &self,
        after: Timestamp,
        upto: Timestamp,
        limit: usize,
    ) -> Option<(Timestamp, usize)> {
        let first = self.next_after(after).filter(|t| *t <= upto)?;
        let mut n = 1;
        let mut t = first;
        while n < limit {
            match self.next_after(t) {
                Some(next) if next <= upto => {
                    n += 1;
                    t = next;
                }
                _ => break,
            }
        }
        Some((first, n))
    }
}

/// A run not started this long after it was due is late: the controller
/// starts a run within seconds, and a cluster's clock may be off a little.
pub const LATE_AFTER: Duration = Duration::from_mins(5);

/// Missed runs are counted up to this many, where the CronJob controller
/// stops counting too (and starts none: "too many missed start times").
pub const MISSED_COUNTED: usize = 100;

/// Where a CronJob's runs stand at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// The next run is due then.
    Next(Timestamp),
    /// The run due at `since` has not started, `LATE_AFTER` or more later;
    /// `missed` runs have been due since (counted up to `MISSED_COUNTED`).
    Late { since: Timestamp, missed: usize },
    /// Suspended: no run is due.
    Suspended,
    /// The schedule names no time in the next five years.
    Never,
}

impl Schedule {
    pub fn cron(&self) -> Result<Cron, CronError> {
        Cron::parse(&self.schedule, self.time_zone.as_deref())
    }

    /// The run due next after the last one scheduled (or after the CronJob
    /// was created, `created`); none while suspended, or if the schedule
    /// names no time in five years.
    pub fn next_due(&self, created: Timestamp) -> Result<Option<Timestamp>, CronError> {
        let cron = self.cron()?;
        if self.suspended {
            return Ok(None);
        }
        // Never scheduled and no creation time known: nothing to count from.
        let Some(base) = self
            .last_schedule
            .or((created.millis() > 0).then_some(created))
        else {
            return Ok(None);
        };
        Ok(cron.next_after(base))
    }

    /// Where the runs stand at `now` for a CronJob created at `created`:
    /// the run due next, or late once `LATE_AFTER` has passed.
    pub fn due(&self, created: Timestamp, now: Timestamp) -> Result<Due, CronError> {
        let Some(next) = self.next_due(created)? else {
            return Ok(if self.suspended {
                Due::Suspended
            } else {
                Due::Never
            });
        };
        if late_by(next, now).is_none() {
            return Ok(Due::Next(next));
        }
        let base = self.last_schedule.unwrap_or(created);
        let missed = self
            .cron()?
            .due_between(base, now, MISSED_COUNTED)
            .map_or(1, |(_, n)| n);
        Ok(Due::Late {
            since: next,
            missed,
        })
    }
}

/// How long a run due at `due` has not started at `now`, once it is late
/// (`LATE_AFTER` after it was due).
pub fn late_by(due: Timestamp, now: Timestamp) -> Option<Duration> {
    (now >= due.saturating_add(LATE_AFTER)).then(|| now.since(due))
}

impl Fields {
    fn next_after(&self, zone: &TimeZone, t: Timestamp) -> Option<Timestamp> {
        let ts = jiff::Timestamp::from_millisecond(t.millis()).ok()?;
        let now = zone.to_datetime(ts);
        let mut day = now.date();
        // The first candidate is the minute after `t`'s.
        let (mut from_hour, mut from_minute) = (now.hour(), now.minute() + 1);
        let last = day.year().checked_add(YEARS_SEARCHED)?;
        while day.year() <= last {
            if self.day_matches(day) {
                for h in from_hour..24 {
                    if self.hour & (1 << h) == 0 {
                        continue;
                    }
                    let m0 = if h == from_hour { from_minute } else { 0 };
                    for m in m0..60 {
                        if self.minute & (1 << m) == 0 {
                            continue;
                        }
                        let at = zone
                            .to_ambiguous_timestamp(day.at(h, m, 0, 0))
                            .compatible()
                            .ok()?;
                        let at = Timestamp(at.as_millisecond());
                        // A clock turned back may repeat a minute already past.
                        if at > t {
                            return Some(at);
                        }
                    }
                }
            }
            day = day.tomorrow().ok()?;
            (from_hour, from_minute) = (0, 0);
        }
        None
    }

    fn day_matches(&self, d: Date) -> bool {
        let bit = |set: u64, v: i8| set & (1 << v) != 0;
        if !bit(self.month, d.month()) {
            return false;
        }
        let dom = bit(self.dom, d.day());
        let dow = bit(self.dow, d.weekday().to_sunday_zero_offset());
        // Both restricted: either will do (as in every cron); otherwise both.
        if self.dom_any || self.dow_any {
            dom && dow
        } else {
            dom || dow
        }
    }
}

fn fields(expr: &str) -> Result<Fields, CronError> {
    let parts: Vec<&str> = expr.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
            parts.len()
        )));
    }
    let (minute, _) = field(parts[0], "minute", 0, 59, &[])?;
    let (hour, _) = field(parts[1], "hour", 0, 23, &[])?;
    let (dom, dom_any) = field(parts[2], "day of month", 1, 31, &[])?;
    let (month, _) = field(parts[3], "month", 1, 12, &MONTHS)?;
    let (dow, dow_any) = field(parts[4], "day of week", 0, 6, &DAYS)?;
    Ok(Fields {
        minute,
        hour,
        dom,
        month,
        dow,
        dom_any,
        dow_any,
    })
}

/// One field: its bits, and whether it is a bare `*` or `?`.
fn field(
    s: &str,
    what: &str,
    min: u32,
    max: u32,
    names: &[&str],
) -> Result<(u64, bool), CronError> {
    let mut bits = 0u64;
    let mut any = false;
    for part in s.split(',') {
        let bad = |why: &str| err(format!("{what} {part:?}: {why}"));
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => {
                let st: u32 = st.parse().map_err(|_| bad("the step is not a number"))?;
                if st == 0 {
                    return Err(bad("a step of 0"));
                }
                (r, Some(st))
            }
            None => (part, None),
        };
        let value = |v: &str| -> Result<u32, CronError> {
            let n = match names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
                Some(i) => u32::try_from(i).unwrap_or(0) + min,
                None => v.parse().map_err(|_| bad("not a number"))?,
            };
            if n < min || n > max {
                return Err(bad(&format!("out of range {min}-{max}")));
            }
            Ok(n)
        };
        let (lo, hi) = if range == "*" || range == "?" {
            // `*/n` is no longer "any" (robfig/cron).
            any |= step.is_none_or(|st| st == 1);
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let a = value(range)?;
            // `a/n` runs from a to the end.
            (a, if step.is_some() { max } else { a })
        };
        if lo > hi {
            return Err(bad("the range runs backwards"));
        }
        let step = step.unwrap_or(1);
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, any))
}

/// A Go duration (`90s`, `1h30m`, `1.5h`), at least a second.
fn go_duration(s: &str) -> Result<Duration, CronError> {
    let bad = || err(format!("@every {s:?}: not a duration like 1h30m"));
    let mut total_ms = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let ms = match &rest[..unit_end] {
            "h" => 3_600_000.0,
            "m" => 60_000.0,
            "s" => 1_000.0,
            "ms" => 1.0,
            _ => return Err(bad()),
        };
        total_ms += n * ms;
        rest = &rest[unit_end..];
    }
    // Whole seconds, at least one (robfig/cron rounds the same way).
    let secs = (total_ms / 1_000.0).floor().max(1.0);
    if !secs.is_finite() || secs > 1e12 {
        return Err(bad());
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok(Duration::from_secs(secs as i64))
}

#[cfg(test)]
#[path = "cron_tests.rs"]
mod tests;
