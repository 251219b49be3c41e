//! Alerts in Alertmanager's shape, and the severity scale used everywhere.

use serde::{Deserialize, Serialize};

use crate::{Labels, Timestamp};

/// Severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// Reads the `severity` label the way Prometheus rule packs write it.
    pub fn from_label(value: &str) -> Self {
        let is = |names: &[&str]| names.iter().any(|n| value.eq_ignore_ascii_case(n));
        if is(&["critical", "page", "error"]) {
            Severity::Critical
        } else if is(&["warning", "warn"]) {
            Severity::Warning
        } else {
            Severity::Info
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Active,
    Suppressed,
    Unprocessed,
}

/// One alert as Alertmanager's API v2 returns it (`GET /api/v2/alerts`),
/// with field names kept so the JSON reads the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub fingerprint: String,
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub state: AlertState,
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    /// The silences that hold it back (Alertmanager's `status.silencedBy`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub silenced_by: Vec<String>,
    /// The fingerprints of the alerts that inhibit it
    /// (`status.inhibitedBy`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inhibited_by: Vec<String>,
}

/// A silence as far as an alert it holds back goes: who set it, why, and
/// until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SilenceNote {
    pub id: String,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub comment: String,
}

impl Alert {
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }

    pub fn severity(&self) -> Severity {
        self.labels
            .get("severity")
            .map_or(Severity::Info, |s| Severity::from_label(s))
    }

    /// Whether Alertmanager holds it back (silenced or inhibited): it is not
    /// sent to any receiver, and Sentinel does not count it as firing.
    pub fn held_back(&self) -> bool {
        self.state == AlertState::Suppressed
    }

    /// The `summary` annotation, or the alert name when there is none.
    pub fn summary(&self) -> &str {
        self.annotations
            .get("summary")
            .map_or_else(|| self.name(), String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::Warning);
        assert!(Severity::Warning > Severity::Info);
        assert_eq!(Severity::from_label("PAGE"), Severity::Critical);
        assert_eq!(Severity::from_label("warning"), Severity::Warning);
        assert_eq!(Severity::from_label("none"), Severity::Info);
    }

    #[test]
    fn alerts_recorded_before_the_silences_were_kept_read_back() {
        let old = r#"{"fingerprint":"f","labels":{},"annotations":{},"startsAt":1,"endsAt":null,"state":"active","generatorURL":""}"#;
        let a: Alert = serde_json::from_str(old).unwrap();
        assert!(a.silenced_by.is_empty() && a.inhibited_by.is_empty());
        // And an alert that is not held back is written as before.
        assert_eq!(serde_json::to_string(&a).unwrap(), old);
    }
}
