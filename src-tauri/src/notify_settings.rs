//! The `[notifications]` part of the settings: severity threshold, quiet
//! hours and reminders, turned into the incident notification policy.

use sentinel_explain::incident::notify::{NotifyConfig, QuietHours};
use sentinel_model::{Duration, Severity};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationSettings {
    /// `warning` (default) or `critical`: incidents below never notify.
    pub min_severity: String,
    /// Local time, e.g. `"22:00-07:00"` (may wrap midnight).
    pub quiet_hours: Option<String>,
    /// Critical incidents still notify during quiet hours.
    pub quiet_allow_critical: bool,
    /// Raise an open, unacknowledged incident again after this long; 0: never.
    pub renotify_minutes: u64,
    /// Local time minus UTC (`"+01:00"`); by default the system's.
    pub utc_offset: Option<String>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            min_severity: "warning".into(),
            quiet_hours: None,
            quiet_allow_critical: true,
            renotify_minutes: 15,
            utc_offset: None,
        }
    }
}

/// `HH:MM` → minutes after midnight.
fn clock(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// `+HH:MM` / `-HH:MM` → minutes.
fn offset(s: &str) -> Option<i16> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => (1, s),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i16, i16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

/// The system's offset from UTC, as `date +%z` prints it.
fn system_offset() -> Option<i16> {
    let out = std::process::Command::new("date")
        .arg("+%z")
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if s.len() != 5 {
        return None;
    }
    offset(&format!("{}:{}", &s[..3], &s[3..]))
}

impl NotificationSettings {
    /// The policy these settings ask for; what cannot be read is left at its
    /// default and said in `notices`.
    pub fn config(&self, notices: &mut Vec<(Severity, String)>) -> NotifyConfig {
        let mut cfg = NotifyConfig::default();
        match self.min_severity.as_str() {
            "warning" => cfg.min_severity = Severity::Warning,
            "critical" => cfg.min_severity = Severity::Critical,
            other => notices.push((
                Severity::Warning,
                format!(
                    "notifications.min_severity {other:?} is not warning or critical; using warning"
                ),
            )),
        }
        cfg.renotify = (self.renotify_minutes > 0)
            .then(|| Duration::from_mins(i64::try_from(self.renotify_minutes).unwrap_or(i64::MAX)));
        if let Some(q) = &self.quiet_hours {
            let range = q
                .split_once('-')
                .and_then(|(a, b)| Some((clock(a)?, clock(b)?)));
            let utc = match &self.utc_offset {
                Some(o) => offset(o),
                None => system_offset().or(Some(0)),
            };
            match (range, utc) {
                (Some((start_min, end_min)), Some(utc_offset_min)) => {
                    cfg.quiet = Some(QuietHours {
                        start_min,
                        end_min,
                        utc_offset_min,
                        allow_critical: self.quiet_allow_critical,
                    });
                }
                _ => notices.push((
                    Severity::Warning,
                    format!(
                        "notifications.quiet_hours {q:?} (offset {:?}) is not HH:MM-HH:MM; no quiet hours",
                        self.utc_offset
                    ),
                )),
            }
        }
        cfg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_threshold_and_reminders_are_read() {
        let s: NotificationSettings = toml::from_str(
            "min_severity = \"critical\"\nquiet_hours = \"22:30-07:00\"\nutc_offset = \"+01:00\"\nrenotify_minutes = 0\nquiet_allow_critical = false\n",
        )
        .unwrap();
        let mut notices = Vec::new();
        let cfg = s.config(&mut notices);
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(cfg.min_severity, Severity::Critical);
        assert_eq!(cfg.renotify, None);
        let q = cfg.quiet.unwrap();
        assert_eq!(
            (q.start_min, q.end_min, q.utc_offset_min),
            (22 * 60 + 30, 7 * 60, 60)
        );
        assert!(!q.allow_critical);
        // 22:45 local is 21:45 UTC: quiet; 12:00 local is not.
        assert!(q.contains(sentinel_model::Timestamp((21 * 60 + 45) * 60_000)));
        assert!(!q.contains(sentinel_model::Timestamp(11 * 3_600_000)));
    }

    #[test]
    fn defaults_and_bad_values() {
        let mut notices = Vec::new();
        let cfg = NotificationSettings::default().config(&mut notices);
        assert_eq!(cfg, NotifyConfig::default());
        assert!(notices.is_empty());
        let bad = NotificationSettings {
            min_severity: "loud".into(),
            quiet_hours: Some("late".into()),
            ..NotificationSettings::default()
        };
        let cfg = bad.config(&mut notices);
        assert_eq!(cfg.quiet, None);
        assert_eq!(cfg.min_severity, Severity::Warning);
        assert_eq!(notices.len(), 2, "{notices:?}");
        assert_eq!(offset("-05:30"), Some(-330));
        assert_eq!(offset("+25:00"), None);
    }
}
