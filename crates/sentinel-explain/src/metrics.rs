//! Metric series of a capture (`timestamp,series,value`, the series in
//! PromQL text form) and the one question the rules ask of them: did this
//! series move at the onset, and by how much?

use std::collections::BTreeMap;

use sentinel_model::{Labels, Timestamp};

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub labels: Labels,
    /// (time, value), sorted by time.
    pub points: Vec<(Timestamp, f64)>,
}

impl Series {
    pub fn label(&self, k: &str) -> &str {
        self.labels.get(k).map(String::as_str).unwrap_or("")
    }

    /// The text form, `name{a="b"}`.
    pub fn text(&self) -> String {
        if self.labels.is_empty() {
            return self.name.clone();
        }
        let ls: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        format!("{}{{{}}}", self.name, ls.join(","))
    }

    /// Counters become per-second rates; gauges are returned as they are.
    pub fn values(&self) -> Vec<(Timestamp, f64)> {
        let counter = ["_total", "_count", "_sum", "_seconds_total"]
            .iter()
            .any(|s| self.name.ends_with(s));
        if !counter {
            return self.points.clone();
        }
        self.points
            .windows(2)
            .filter_map(|w| {
                let dt = (w[1].0.0 - w[0].0.0) as f64 / 1000.0;
                if dt <= 0.0 {
                    return None;
                }
                let dv = if w[1].1 >= w[0].1 {
                    w[1].1 - w[0].1
                } else {
                    w[1].1
                };
                Some((w[1].0, dv / dt))
            })
            .collect()
    }
}

/// How a series moved around the onset: the baseline before it and the level after.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    pub before: f64,
    pub after: f64,
    /// Robust z of the level after against the spread before.
    pub z: f64,
    /// When the level left the baseline band, if it did: the last time
    /// by the onset, else the first after it.
    pub changed_at: Option<Timestamp>,
}

impl Shift {
    pub fn ratio(&self) -> f64 {
        if self.before.abs() < 1e-12 {
            if self.after.abs() < 1e-12 {
                1.0
            } else {
                f64::INFINITY
            }
        } else {
            self.after / self.before
        }
    }
}

/// How long before the onset a baseline ends: a change that began up to
/// this long before the onset is still the incident's.
pub const BASELINE_GUARD_MS: i64 = 5 * 60_000;

/// When `t` was, from the onset: "6m 40s before the onset". The evidence
/// beside the sentence carries the time itself.
pub(crate) fn from_onset(t: Timestamp, onset: Timestamp) -> String {
    let ms = t.0 - onset.0;
    let s = (ms.unsigned_abs() + 500) / 1000;
    let span = match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m {s}s"),
    };
    match (s, ms < 0) {
        (0, _) => "at the onset".into(),
        (_, true) => format!("{span} before the onset"),
        (_, false) => format!("{span} after the onset"),
    }
}

/// The median (NaN for none); sorts `v`.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The level of a series that had nothing before it (a pod that did not
/// run, so used no CPU), as a [`Shift`] from 0: the level is the most
/// extreme quarter, as in [`shift`], and the change is when the series first
/// reached half of it.
pub fn shift_from_nothing(points: &[(Timestamp, f64)]) -> Option<Shift> {
    let mut av: Vec<f64> = points
        .iter()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .collect();
    if av.is_empty() {
        return None;
    }
    av.sort_by(f64::total_cmp);
    let q = (av.len() / 4).max(1);
    let after = av[av.len() - q..].iter().sum::<f64>() / q as f64;
    if after <= 0.0 {
        return None;
    }
    Some(Shift {
        before: 0.0,
        after,
        z: f64::INFINITY,
        changed_at: points.iter().find(|(_, v)| *v >= after / 2.0).map(|p| p.0),
    })
}

/// Readings over which a change must mostly hold to count as begun.
const SUSTAIN: usize = 5;

/// Where the series left the band and mostly stayed out over the next few
/// readings (one noisy reading, a p95 over a few requests, is not a
/// change), each after it had come back and mostly stayed in; and where it
/// came back.
fn excursions(out: &[bool]) -> (Vec<usize>, Vec<usize>) {
    let mostly = |i: usize, side: bool| {
        let next = &out[i..(i + SUSTAIN).min(out.len())];
        out[i] == side && 2 * next.iter().filter(|o| **o == side).count() > next.len()
    };
    let (mut starts, mut ends) = (Vec::new(), Vec::new());
    let mut outside = false;
    for i in 0..out.len() {
        if mostly(i, !outside) {
            outside = !outside;
            if outside {
                starts.push(i);
            } else {
                ends.push(i);
            }
        }
    }
    (starts, ends)
}

/// Compare the window before `onset - guard` with the window from
/// `onset - guard` on. The guard keeps a late onset from hiding the change
/// inside the baseline.
pub fn shift(points: &[(Timestamp, f64)], onset: Timestamp, guard_ms: i64) -> Option<Shift> {
    let cut = onset.0 - guard_ms;
    let mut before: Vec<f64> = points
        .iter()
        .filter(|(t, v)| t.0 < cut && v.is_finite())
        .map(|p| p.1)
        .collect();
    let after: Vec<(Timestamp, f64)> = points
        .iter()
        .filter(|(t, v)| t.0 >= cut && v.is_finite())
        .copied()
        .collect();
    if before.len() < 3 || after.is_empty() {
        return None;
    }
    let base = median(&mut before);
    let mut dev: Vec<f64> = before.iter().map(|v| (v - base).abs()).collect();
    let mad = median(&mut dev) * 1.4826;
    let scale = mad.max(base.abs() * 0.02).max(1e-9);
    let (sh, back) = judge(base, scale, &after, onset);
    // Back in the band at the onset: that excursion was an earlier
    // problem's (a neighbour's load that went away a minute before), and
    // what is under way at the onset, smaller or none, is judged on its
    // own, from where the series came back.
    Some(match back {
        Some(i) => judge(base, scale, &after[i..], onset).0,
        None => sh,
    })
}

/// The shift of `after` from the baseline `base` (spread `scale`), and,
/// when the series had come back into the band by the onset, where it did.
fn judge(
    base: f64,
    scale: f64,
    after: &[(Timestamp, f64)],
    onset: Timestamp,
) -> (Shift, Option<usize>) {
    let mut av: Vec<f64> = after.iter().map(|p| p.1).collect();
    // The level after is the most extreme quarter, so a change that has
    // already started to recover still counts.
    av.sort_by(f64::total_cmp);
    let q = (av.len() / 4).max(1);
    let hi = av[av.len() - q..].iter().sum::<f64>() / q as f64;
    let lo = av[..q].iter().sum::<f64>() / q as f64;
    let after_level = if (hi - base).abs() >= (base - lo).abs() {
        hi
    } else {
        lo
    };
    let z = (after_level - base) / scale;
    // The change begins where the series leaves the band on the side it
    // moved to and mostly stays out over the next few readings. The band is
    // at least half the way to the level after: a tenfold rise is not
    // dated by a few readings a hair above a very steady baseline, nor by
    // a smaller rise before it (a neighbour's load, then the real fault).
    let edge = 3.0_f64.max(z.abs() / 2.0);
    let out: Vec<bool> = after
        .iter()
        .map(|(_, v)| (v - base) / scale * z.signum() > edge)
        .collect();
    let (starts, ends) = excursions(&out);
    let by_onset = |v: &Vec<usize>| v.iter().copied().rfind(|&i| after[i].0 <= onset);
    let back = match (by_onset(&starts), by_onset(&ends)) {
        (Some(s), Some(e)) if e > s => Some(e),
        _ => None,
    };
    let changed_at = starts
        .into_iter()
        .map(|i| after[i].0)
        .fold(None, |dated, t| match dated {
            // The change under way at the onset is the last one begun by
            // then: an excursion the series came back from before it was
            // an earlier problem's (a neighbour's load that went away).
            Some(d) if t > onset => Some(d),
            _ => Some(t),
        });
    let sh = Shift {
        before: base,
        after: after_level,
        z,
        changed_at,
    };
    (sh, back)
}

/// Parse `timestamp,series,value` (a header line is optional). Timestamps are
/// unix seconds (fractions allowed) or RFC 3339. Series with the same text
/// form are merged and sorted.
pub fn parse_csv(text: &str) -> Result<Vec<Series>, String> {
    let mut by: BTreeMap<String, Series> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_csv(line);
        if i == 0 && fields.first().is_some_and(|f| f.trim() == "timestamp") {
            continue;
        }
        let [ts, series, value] = fields.as_slice() else {
            return Err(format!(
                "line {}: expected timestamp,series,value, got {} fields",
                i + 1,
                fields.len()
            ));
        };
        let at = parse_time(ts).ok_or_else(|| format!("line {}: bad timestamp {ts:?}", i + 1))?;
        let v: f64 = value
            .trim()
            .parse()
            .map_err(|_| format!("line {}: bad value {value:?}", i + 1))?;
        let (name, labels) =
            parse_series(series).ok_or_else(|| format!("line {}: bad series {series:?}", i + 1))?;
        let key = series.trim().to_string();
        by.entry(key)
            .or_insert_with(|| Series {
                name,
                labels,
                points: Vec::new(),
            })
            .points
            .push((at, v));
    }
    let mut out: Vec<Series> = by.into_values().collect();
    for s in &mut out {
        s.points.sort_by_key(|p| p.0);
    }
    Ok(out)
}

pub fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return secs
            .is_finite()
            .then(|| Timestamp((secs * 1000.0).round() as i64));
    }
    Timestamp::parse(s)
}

/// One CSV line into fields, honouring double quotes (`""` inside quotes).
pub fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// `name{a="b",c="d"}` into its name and labels.
pub fn parse_series(s: &str) -> Option<(String, Labels)> {
    let s = s.trim();
    let Some(open) = s.find('{') else {
        return (!s.is_empty()).then(|| (s.to_string(), Labels::new()));
    };
    let name = s[..open].trim().to_string();
    let body = s[open + 1..].trim_end().strip_suffix('}')?;
    let mut labels = Labels::new();
    let mut rest = body.trim();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim().to_string();
        let after = rest[eq + 1..].trim_start().strip_prefix('"')?;
        let mut val = String::new();
        let mut end = None;
        let mut chars = after.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        val.push(match n {
                            'n' => '\n',
                            other => other,
                        });
                    }
                }
                '"' => {
                    end = Some(i);
                    break;
                }
                c => val.push(c),
            }
        }
        let end = end?;
        labels.insert(key, val);
        rest = after[end + 1..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Some((name, labels))
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
