//! What answers at an address that did not answer as expected: Alertmanager's
//! port in the Prometheus form, a URL pasted from the browser with its page
//! path (`…:9090/graph`). Asked only after a failed first request, so that
//! "Test connection" can say what to type instead of "HTTP 404".

use std::time::Duration;

use serde::Deserialize;

use crate::error::PromError;
use crate::http::{Endpoint, HttpClient};
use crate::{Alertmanager, Prometheus};

/// The servers Sentinel talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Prometheus,
    Alertmanager,
    Loki,
    Kubernetes,
}

impl ServerKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Prometheus => "Prometheus",
            Self::Alertmanager => "Alertmanager",
            Self::Loki => "Loki",
            Self::Kubernetes => "a Kubernetes API server",
        }
    }

    /// The button that adds a connection of this kind.
    fn button(self) -> &'static str {
        match self {
            Self::Prometheus => "Add Prometheus",
            Self::Alertmanager => "Add Alertmanager",
            Self::Loki => "Add Loki",
            Self::Kubernetes => "Add Kubernetes",
        }
    }
}

/// A server found at `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: ServerKind,
    pub version: String,
    /// The base URL it answers at.
    pub url: String,
}

/// Each probe is one quick request, not retried.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether a failed first request is worth an identification: the server
/// answered, but not as the asked-for API would.
pub fn worth_identifying(e: &PromError) -> bool {
    match e {
        PromError::Status { status, .. } => matches!(status, 400 | 404 | 405),
        PromError::Malformed { .. } | PromError::Api { .. } => true,
        _ => false,
    }
}

/// What answers at `endpoint`'s URL, else at its origin when the URL has a
/// path (and no tunnel, whose paths are its own). `None` when nothing known
/// answers.
pub async fn identify(endpoint: &Endpoint) -> Option<Found> {
    let mut bases = vec![endpoint.url.trim_end_matches('/').to_string()];
    if endpoint.tunnel.is_none()
        && let Ok(u) = url::Url::parse(&endpoint.url)
        && !u.path().trim_matches('/').is_empty()
    {
        bases.push(u.origin().ascii_serialization());
    }
    for base in bases {
        let mut e = endpoint.clone();
        e.url = base.clone();
        e.timeout = PROBE_TIMEOUT;
        e.retries = 0;
        e.max_bytes = 64 << 10;
        let (Ok(http), Ok(prom), Ok(am)) = (
            HttpClient::new(e.clone()),
            Prometheus::new(e.clone()),
            Alertmanager::new(e),
        ) else {
            continue;
        };
        let (p, a, l, k) =
            tokio::join!(prom.version(), am.version(), loki(&http), kubernetes(&http));
        let (p, a) = (p.ok(), a.ok());
        let found = [
            (ServerKind::Prometheus, p),
            (ServerKind::Alertmanager, a),
            (ServerKind::Loki, l),
            (ServerKind::Kubernetes, k),
        ]
        .into_iter()
        .find_map(|(kind, v)| {
            v.map(|version| Found {
                kind,
                version,
                url: base.clone(),
            })
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

/// What to do, for a form that asked for `asked` at `url`.
pub fn advice(asked: ServerKind, url: &str, found: &Found) -> String {
    let what = format!("{} {}", found.kind.name(), found.version);
    let same_place = found.url == url.trim_end_matches('/');
    match (found.kind == asked, same_place) {
        (true, true) => format!("{what} answers here"),
        (true, false) => format!(
            "{what} answers at {}: use that address, without the page path",
            found.url
        ),
        (false, true) => format!(
            "this address is {what}, not {}: add it with \"{}\"",
            asked.name(),
            found.kind.button()
        ),
        (false, false) => format!("{} is {what}, not {}", found.url, asked.name()),
    }
}

async fn loki(http: &HttpClient) -> Option<String> {
    #[derive(Deserialize)]
    struct Build {
        version: String,
    }
    let body = http.get("/loki/api/v1/status/buildinfo", &[]).await.ok()?;
    serde_json::from_slice::<Build>(&body)
        .ok()
        .map(|b| b.version)
}

async fn kubernetes(http: &HttpClient) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Version {
        git_version: String,
    }
    let body = http.get("/version", &[]).await.ok()?;
    serde_json::from_slice::<Version>(&body)
        .ok()
        .map(|v| v.git_version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(kind: ServerKind, url: &str) -> Found {
        Found {
            kind,
            version: "0.25.0".into(),
            url: url.into(),
        }
    }

    #[test]
    fn advice_names_the_server_and_what_to_do() {
        let am = found(ServerKind::Alertmanager, "http://h:9093");
        assert_eq!(
            advice(ServerKind::Prometheus, "http://h:9093/", &am),
            "this address is Alertmanager 0.25.0, not Prometheus: add it with \"Add Alertmanager\""
        );
        let prom = found(ServerKind::Prometheus, "http://h:9090");
        assert_eq!(
            advice(ServerKind::Prometheus, "http://h:9090/graph", &prom),
            "Prometheus 0.25.0 answers at http://h:9090: use that address, without the page path"
        );
        assert_eq!(
            advice(ServerKind::Loki, "http://h:9090/graph", &prom),
            "http://h:9090 is Prometheus 0.25.0, not Loki"
        );
    }

    #[test]
    fn only_answers_from_the_wrong_server_are_worth_identifying() {
        let status = |status| PromError::Status {
            url: "u".into(),
            status,
            detail: String::new(),
        };
        assert!(worth_identifying(&status(404)));
        assert!(!worth_identifying(&status(503)));
        assert!(!worth_identifying(&PromError::Unauthorized {
            url: "u".into()
        }));
        assert!(!worth_identifying(&PromError::Connect {
            url: "u".into(),
            reason: "refused".into()
        }));
    }
}
