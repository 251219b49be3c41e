//! Alertmanager API v2: alerts (with filters) and silences (list, create,
//! expire). Responses are parsed by pure functions, tested without a server.

use sentinel_model::{Alert, AlertState, Labels, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::PromError;
use crate::http::{Endpoint, HttpClient};
use crate::prometheus::url_segment;

#[derive(Debug, Clone)]
pub struct Alertmanager {
    http: HttpClient,
}

/// Which alerts to list (`GET /api/v2/alerts`).
#[derive(Debug, Clone)]
pub struct AlertFilter {
    pub active: bool,
    pub silenced: bool,
    pub inhibited: bool,
    pub unprocessed: bool,
    /// Label matchers, e.g. `severity="critical"` or `namespace=~"shop|data"`.
    pub matchers: Vec<String>,
}

impl Default for AlertFilter {
    fn default() -> Self {
        Self {
            active: true,
            silenced: true,
            inhibited: true,
            unprocessed: true,
            matchers: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl Matcher {
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            is_regex: false,
            is_equal: true,
        }
    }
}

/// A silence as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    pub id: String,
    /// `active`, `pending` or `expired`.
    pub state: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub comment: String,
}

/// A silence to create (or, with `id`, to extend).
#[derive(Debug, Clone, PartialEq)]
pub struct NewSilence {
    pub id: Option<String>,
    pub matchers: Vec<Matcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub comment: String,
}

impl Alertmanager {
    pub fn new(endpoint: Endpoint) -> Result<Self, PromError> {
        Ok(Self {
            http: HttpClient::new(endpoint)?,
        })
    }

    pub fn url(&self) -> &str {
        self.http.base()
    }

    /// Where and how it is reached.
    pub fn endpoint(&self) -> &crate::http::Endpoint {
        self.http.endpoint()
    }

    pub async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>, PromError> {
        let flag = |b: bool| if b { "true" } else { "false" };
        let mut query = vec![
            ("active", flag(filter.active)),
            ("silenced", flag(filter.silenced)),
            ("inhibited", flag(filter.inhibited)),
            ("unprocessed", flag(filter.unprocessed)),
        ];
        query.extend(filter.matchers.iter().map(|m| ("filter", m.as_str())));
        let body = self.http.get("/api/v2/alerts", &query).await?;
        parse_alerts(self.url(), &body)
    }

    pub async fn silences(&self) -> Result<Vec<Silence>, PromError> {
        let body = self.http.get("/api/v2/silences", &[]).await?;
        parse_silences(self.url(), &body)
    }

    /// Creates (or extends, when `id` is set) a silence; returns its id.
    pub async fn create_silence(&self, s: &NewSilence) -> Result<String, PromError> {
        if s.matchers.is_empty() {
            return Err(PromError::Config(
                "a silence needs at least one matcher".into(),
            ));
        }
        if s.ends_at <= s.starts_at {
            return Err(PromError::Config(
                "a silence must end after it starts".into(),
            ));
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            id: Option<&'a str>,
            matchers: &'a [Matcher],
            starts_at: String,
            ends_at: String,
            created_by: &'a str,
            comment: &'a str,
        }
        let json = serde_json::to_vec(&Body {
            id: s.id.as_deref(),
            matchers: &s.matchers,
            starts_at: s.starts_at.to_rfc3339(),
            ends_at: s.ends_at.to_rfc3339(),
            created_by: &s.created_by,
            comment: &s.comment,
        })
        .map_err(|e| PromError::Config(e.to_string()))?;
        let body = self.http.post_json("/api/v2/silences", json).await?;
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            #[serde(rename = "silenceID")]
            silence_id: String,
        }
        let created: Created = serde_json::from_slice(&body).map_err(|e| PromError::Malformed {
            url: self.url().to_string(),
            reason: e.to_string(),
        })?;
        Ok(created.silence_id)
    }

    /// Expires a silence now.
    pub async fn expire_silence(&self, id: &str) -> Result<(), PromError> {
        let path = format!("/api/v2/silence/{}", url_segment(id));
        self.http.delete(&path).await.map(|_| ())
    }

    /// Alertmanager's version (`/api/v2/status`).
    pub async fn version(&self) -> Result<String, PromError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Status {
            version_info: Version,
        }
        #[derive(Deserialize)]
        struct Version {
            version: String,
        }
        let body = self.http.get("/api/v2/status", &[]).await?;
        let s: Status = serde_json::from_slice(&body).map_err(|e| PromError::Malformed {
            url: self.url().to_string(),
            reason: e.to_string(),
        })?;
        Ok(s.version_info.version)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAlert {
    fingerprint: String,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    annotations: Labels,
    starts_at: String,
    #[serde(default)]
    ends_at: Option<String>,
    status: RawStatus,
    #[serde(rename = "generatorURL", default)]
    generator_url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStatus {
    state: String,
    #[serde(default)]
    silenced_by: Option<Vec<String>>,
    #[serde(default)]
    inhibited_by: Option<Vec<String>>,
}

/// `GET /api/v2/alerts` → model alerts, newest first.
pub fn parse_alerts(url: &str, body: &[u8]) -> Result<Vec<Alert>, PromError> {
    let bad = |reason: String| PromError::Malformed {
        url: url.to_string(),
        reason,
    };
    let raw: Vec<RawAlert> = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::with_capacity(raw.len());
    for a in raw {
        let starts_at = Timestamp::parse(&a.starts_at)
            .ok_or_else(|| bad(format!("startsAt {:?} is not a time", a.starts_at)))?;
        let ends_at = a.ends_at.as_deref().and_then(Timestamp::parse);
        let state = match a.status.state.as_str() {
            "active" => AlertState::Active,
            "suppressed" => AlertState::Suppressed,
            "unprocessed" => AlertState::Unprocessed,
            other => return Err(bad(format!("unknown alert state {other:?}"))),
        };
        out.push(Alert {
            fingerprint: a.fingerprint,
            labels: a.labels,
            annotations: a.annotations,
            starts_at,
            ends_at,
            state,
            generator_url: a.generator_url,
            silenced_by: a.status.silenced_by.unwrap_or_default(),
            inhibited_by: a.status.inhibited_by.unwrap_or_default(),
        });
    }
    out.sort_by(|a, b| {
        b.starts_at
            .cmp(&a.starts_at)
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSilence {
    id: String,
    status: RawStatus,
    matchers: Vec<Matcher>,
    starts_at: String,
    ends_at: String,
    #[serde(default)]
    created_by: String,
    #[serde(default)]
    comment: String,
}

pub fn parse_silences(url: &str, body: &[u8]) -> Result<Vec<Silence>, PromError> {
    let bad = |reason: String| PromError::Malformed {
        url: url.to_string(),
        reason,
    };
    let raw: Vec<RawSilence> = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
    raw.into_iter()
        .map(|s| {
            Ok(Silence {
                starts_at: Timestamp::parse(&s.starts_at)
                    .ok_or_else(|| bad(format!("startsAt {:?} is not a time", s.starts_at)))?,
                ends_at: Timestamp::parse(&s.ends_at)
                    .ok_or_else(|| bad(format!("endsAt {:?} is not a time", s.ends_at)))?,
                id: s.id,
                state: s.status.state,
                matchers: s.matchers,
                created_by: s.created_by,
                comment: s.comment,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_alertmanager_alerts() {
        let body = br#"[{"annotations":{"summary":"x"},"endsAt":"2026-11-21T23:53:55.435Z","fingerprint":"448881ef475b9b26","receivers":[{"name":"null"}],"startsAt":"2026-11-21T23:53:35.435Z","status":{"inhibitedBy":[],"silencedBy":["abc"],"state":"suppressed"},"updatedAt":"2026-11-21T23:53:47.437Z","generatorURL":"http://vm:9090/graph","labels":{"alertname":"Watchdog","severity":"none"}}]"#;
        let alerts = parse_alerts("u", body).unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].state, AlertState::Suppressed);
        assert_eq!(alerts[0].labels["alertname"], "Watchdog");
        assert_eq!(alerts[0].silenced_by, vec!["abc".to_string()]);
        assert!(alerts[0].inhibited_by.is_empty());
        // Inhibited; a `null` list (Alertmanager before 0.16) reads as empty.
        let inhibited = br#"[{"fingerprint":"f","startsAt":"2026-11-21T23:53:35Z","status":{"inhibitedBy":["0a1b"],"silencedBy":null,"state":"suppressed"}}]"#;
        let held = parse_alerts("u", inhibited).unwrap();
        assert_eq!(held[0].inhibited_by, vec!["0a1b".to_string()]);
        assert!(held[0].silenced_by.is_empty());
        assert_eq!(
            alerts[0].starts_at,
            Timestamp::parse("2026-11-21T23:53:35.435Z").unwrap()
        );
        assert!(parse_alerts("u", b"{}").is_err());
        assert!(
            parse_alerts(
                "u",
                br#"[{"fingerprint":"f","startsAt":"yesterday","status":{"state":"active"}}]"#
            )
            .is_err()
        );
    }

    #[test]
    fn parses_silences() {
        let body = br#"[{"id":"s1","status":{"state":"active"},"updatedAt":"2026-11-21T00:00:00Z","comment":"ack","createdBy":"ana","endsAt":"2026-11-21T01:00:00.000Z","matchers":[{"isEqual":true,"isRegex":false,"name":"alertname","value":"X"}],"startsAt":"2026-11-21T00:00:00.000Z"}]"#;
        let s = parse_silences("u", body).unwrap();
        assert_eq!(s[0].id, "s1");
        assert_eq!(s[0].matchers[0], Matcher::equal("alertname", "X"));
        assert_eq!(s[0].ends_at.millis() - s[0].starts_at.millis(), 3_600_000);
    }
}
