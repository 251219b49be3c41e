//! Time as data: integer milliseconds since the Unix epoch. The runtime owns the
//! clock; everything else receives time as an argument.

use serde::{Deserialize, Serialize};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// A span of time in milliseconds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Duration(pub i64);

impl Timestamp {
    pub const fn millis(self) -> i64 {
        self.0
    }

    pub const fn from_secs(secs: i64) -> Self {
        Self(secs * 1000)
    }

    pub fn saturating_sub(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(d.0))
    }

    pub fn saturating_add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d.0))
    }

    /// The time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration((self.0 - earlier.0).max(0))
    }

    /// RFC 3339 in UTC with millisecond precision, as Kubernetes and
    /// Alertmanager write it.
    pub fn to_rfc3339(self) -> String {
        let secs = self.0.div_euclid(1000);
        let ms = self.0.rem_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
            rem / 3600,
            (rem / 60) % 60,
            rem % 60
        )
    }

    /// The same instant as people read it, in sentences: `2025-11-21
    /// 20:43:43.456 UTC`.
    pub fn to_text(self) -> String {
        let mut s = self.to_rfc3339();
        s.replace_range(10..11, " ");
        s.pop();
        s.push_str(" UTC");
        s
    }

    /// Parse `YYYY-MM-DD[T ]HH:MM:SS[.fff…][Z]` (RFC 3339 in UTC, or the
    /// space-separated form CSV exports use). Offsets other than `Z` are
    /// rejected rather than guessed.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        let s = s.strip_suffix('Z').unwrap_or(s);
        let b = s.as_bytes();
        if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let t = s.get(r)?;
            t.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| t.parse().ok())?
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        let mut ms = 0;
        if let Some(frac) = s.get(19..).filter(|f| !f.is_empty()) {
            let digits = frac.strip_prefix('.')?;
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let mut scaled = 0;
            for (i, c) in digits.bytes().take(3).enumerate() {
                scaled += i64::from(c - b'0') * 10_i64.pow(2 - i as u32);
            }
            ms = scaled;
        }
        let days = days_from_civil(y, mo as u32, d as u32);
        Some(Timestamp(
            (days * 86_400 + h * 3600 + mi * 60 + sec) * 1000 + ms,
        ))
    }
}

impl Duration {
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs * 1000)
    }

    pub const fn from_mins(mins: i64) -> Self {
        Self(mins * 60_000)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    /// A short human form: `45s`, `12m`, `3h`, `5d`.
    pub fn human(self) -> String {
        let s = self.0 / 1000;
        match s {
            s if s < 60 => format!("{s}s"),
            s if s < 3600 => format!("{}m", s / 60),
            s if s < 86_400 => format!("{}h", s / 3600),
            s => format!("{}d", s / 86_400),
        }
    }
}

/// (year, month, day) to days since the epoch, Howard Hinnant's algorithm.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since the epoch to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_763_757_823_456).to_rfc3339(),
            "2025-11-21T20:43:43.456Z"
        );
        assert_eq!(
            Timestamp(951_782_400_000).to_rfc3339(),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp(1_763_757_823_456).to_text(),
            "2025-11-21 20:43:43.456 UTC"
        );
    }

    #[test]
    fn parse_round_trips_and_rejects_garbage() {
        for t in [0, 1_763_757_823_456, 951_782_400_000, -86_400_000] {
            assert_eq!(
                Timestamp::parse(&Timestamp(t).to_rfc3339()),
                Some(Timestamp(t))
            );
        }
        assert_eq!(
            Timestamp::parse("2014-02-19 10:50:00.000000"),
            Timestamp::parse("2014-02-19T10:50:00Z")
        );
        for bad in [
            "",
            "2014-02-19",
            "2014-13-01 00:00:00",
            "2014-02-19 10:50:00+02:00",
            "20x4-02-19 10:50:00",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn human_durations() {
        assert_eq!(Duration::from_secs(45).human(), "45s");
        assert_eq!(Duration::from_mins(12).human(), "12m");
        assert_eq!(Duration::from_mins(180).human(), "3h");
        assert_eq!(Duration::from_mins(60 * 24 * 5).human(), "5d");
    }
}
