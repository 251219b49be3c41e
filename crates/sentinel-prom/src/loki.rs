//! Loki: container logs by label (`{namespace="shop", pod="checkout-…"}`),
//! as history over HTTP (`/loki/api/v1/query_range`) and as a live tail over
//! a WebSocket (`/loki/api/v1/tail`). Messages are bounded in size; what
//! Loki dropped is counted, not hidden.

use std::time::Duration;

use futures_util::StreamExt;
use sentinel_model::{Labels, Timestamp};
use serde::Deserialize;
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};

use crate::error::PromError;
use crate::http::{Auth, Endpoint, HttpClient};

/// Largest tail message read (Loki batches entries per message).
pub const MAX_MESSAGE: usize = 4 << 20;

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LokiEntry {
    /// Nanoseconds since the epoch, as Loki keeps them.
    pub at_ns: i128,
    pub labels: Labels,
    pub line: String,
}

impl LokiEntry {
    pub fn at(&self) -> Timestamp {
        Timestamp(i64::try_from(self.at_ns / 1_000_000).unwrap_or(i64::MAX))
    }
}

/// One tail message: entries oldest first, and how many Loki dropped
/// (a reader too slow for the stream).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TailBatch {
    pub entries: Vec<LokiEntry>,
    pub dropped: u64,
}

#[derive(Deserialize)]
struct Stream {
    #[serde(default)]
    stream: Labels,
    #[serde(default)]
    values: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct TailMessage {
    #[serde(default)]
    streams: Vec<Stream>,
    #[serde(default)]
    dropped_entries: Option<Vec<serde_json::Value>>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum RangeData {
    Streams(Vec<Stream>),
    /// `matrix` or `vector`: a metric query.
    #[serde(other)]
    Metric,
}

fn entries(streams: Vec<Stream>, url: &str) -> Result<Vec<LokiEntry>, PromError> {
    let mut out = Vec::new();
    for s in streams {
        for (ts, line) in s.values {
            let at_ns: i128 = ts.parse().map_err(|_| PromError::Malformed {
                url: url.to_string(),
                reason: format!("timestamp {ts:?} is not nanoseconds"),
            })?;
            out.push(LokiEntry {
                at_ns,
                labels: s.stream.clone(),
                line,
            });
        }
    }
    out.sort_by_key(|e| e.at_ns);
    Ok(out)
}

/// Reads one tail message.
pub fn parse_tail(url: &str, body: &[u8]) -> Result<TailBatch, PromError> {
    let m: TailMessage = serde_json::from_slice(body).map_err(|e| PromError::Malformed {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    Ok(TailBatch {
        entries: entries(m.streams, url)?,
        dropped: m.dropped_entries.map_or(0, |d| d.len() as u64),
    })
}

/// Reads a `query_range` answer of streams.
pub fn parse_range(url: &str, body: &[u8]) -> Result<Vec<LokiEntry>, PromError> {
    let data: RangeData = crate::parse::envelope(url, body)?;
    match data {
        RangeData::Streams(s) => entries(s, url),
        RangeData::Metric => Err(PromError::Malformed {
            url: url.to_string(),
            reason: "a metric query, not a log query".into(),
        }),
    }
}

fn ns(t: Timestamp) -> String {
    (i128::from(t.millis()) * 1_000_000).to_string()
}

/// A live tail.
pub struct LokiTail {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    url: String,
}

impl LokiTail {
    /// The next message; `None` once Loki closed the stream.
    pub async fn next(&mut self) -> Option<Result<TailBatch, PromError>> {
        loop {
            let msg = match self.ws.next().await? {
                Ok(m) => m,
                Err(e) => return Some(Err(ws_error(&self.url, e))),
            };
            match msg {
                Message::Text(t) => return Some(parse_tail(&self.url, t.as_bytes())),
                Message::Binary(b) => return Some(parse_tail(&self.url, &b)),
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }
}

fn ws_error(url: &str, e: tungstenite::Error) -> PromError {
    match e {
        tungstenite::Error::Http(resp) => {
            let status = resp.status().as_u16();
            let detail = resp
                .body()
                .as_ref()
                .map(|b| {
                    String::from_utf8_lossy(b)
                        .chars()
                        .take(200)
                        .collect::<String>()
                })
                .unwrap_or_default();
            match status {
                401 => PromError::Unauthorized { url: url.into() },
                403 => PromError::Forbidden {
                    url: url.into(),
                    detail,
                },
                _ => PromError::Status {
                    url: url.into(),
                    status,
                    detail,
                },
            }
        }
        tungstenite::Error::Capacity(_) => PromError::TooLarge {
            url: url.into(),
            limit: MAX_MESSAGE,
        },
        tungstenite::Error::Io(e) => PromError::Connect {
            url: url.into(),
            reason: e.to_string(),
        },
        tungstenite::Error::Tls(e) => PromError::Connect {
            url: url.into(),
            reason: e.to_string(),
        },
        e => PromError::Malformed {
            url: url.into(),
            reason: e.to_string(),
        },
    }
}

/// A Loki server.
#[derive(Clone, Debug)]
pub struct Loki {
    http: HttpClient,
}

impl Loki {
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

    /// `/ready` answers 200 once Loki can serve.
    pub async fn ready(&self) -> Result<(), PromError> {
        self.http.get("/ready", &[]).await.map(drop)
    }

    /// The label names Loki indexes.
    pub async fn labels(&self) -> Result<Vec<String>, PromError> {
        let body = self.http.get("/loki/api/v1/labels", &[]).await?;
        crate::parse::envelope(self.url(), &body)
    }

    /// The newest `limit` lines matching `logql` in `[start, end]`, oldest first.
    pub async fn query_range(
        &self,
        logql: &str,
        start: Timestamp,
        end: Timestamp,
        limit: usize,
    ) -> Result<Vec<LokiEntry>, PromError> {
        let (s, e, l) = (ns(start), ns(end), limit.to_string());
        let body = self
            .http
            .get(
                "/loki/api/v1/query_range",
                &[
                    ("query", logql),
                    ("start", &s),
                    ("end", &e),
                    ("limit", &l),
                    ("direction", "backward"),
                ],
            )
            .await?;
        parse_range(self.url(), &body)
    }

    /// Opens a live tail of `logql` from `start`.
    pub async fn tail(
        &self,
        logql: &str,
        start: Timestamp,
        limit: usize,
    ) -> Result<LokiTail, PromError> {
        self.tail_from(logql, i128::from(start.millis()) * 1_000_000, limit)
            .await
    }

    /// Opens a live tail of `logql` from `start_ns` (nanoseconds), the
    /// `limit` newest lines before now first.
    pub async fn tail_from(
        &self,
        logql: &str,
        start_ns: i128,
        limit: usize,
    ) -> Result<LokiTail, PromError> {
        let endpoint = self.http.endpoint();
        let base = self.url();
        let ws_base = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            base.to_string()
        };
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("query", logql),
                ("start", &start_ns.to_string()),
                ("limit", &limit.to_string()),
            ])
            .finish();
        let url = format!("{ws_base}/loki/api/v1/tail?{query}");
        let mut req = url
            .as_str()
            .into_client_request()
            .map_err(|e| ws_error(base, e))?;
        if let Some(value) = authorization(&endpoint.auth) {
            let value = value.parse().map_err(|_| {
                PromError::Config("the credential cannot be sent as a header".into())
            })?;
            req.headers_mut().insert("authorization", value);
        }
        let config = tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let connector = tls(endpoint)?;
        let connect =
            tokio_tungstenite::connect_async_tls_with_config(req, Some(config), false, connector);
        let (ws, _) = tokio::time::timeout(endpoint.timeout, connect)
            .await
            .map_err(|_| PromError::Timeout {
                url: base.to_string(),
                timeout: endpoint.timeout,
            })?
            .map_err(|e| ws_error(base, e))?;
        Ok(LokiTail {
            ws,
            url: base.to_string(),
        })
    }
}

fn authorization(auth: &Auth) -> Option<String> {
    match auth {
        Auth::None => None,
        Auth::Bearer(t) => Some(format!("Bearer {}", t.expose())),
        Auth::Basic { user, password } => {
            use base64::Engine;
            let raw = format!("{user}:{}", password.expose());
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            ))
        }
    }
}

/// The endpoint's TLS settings for the WebSocket (the same as its HTTP).
fn tls(endpoint: &Endpoint) -> Result<Option<tokio_tungstenite::Connector>, PromError> {
    let t = &endpoint.tls;
    if t.ca_pem.is_none() && t.client_cert_pem.is_none() && !t.insecure {
        return Ok(None);
    }
    let bad = |e: native_tls::Error| PromError::Config(e.to_string());
    let mut b = native_tls::TlsConnector::builder();
    if let Some(pem) = &t.ca_pem {
        let text = String::from_utf8_lossy(pem);
        for block in text.split_inclusive("-----END CERTIFICATE-----") {
            if block.contains("-----BEGIN CERTIFICATE-----") {
                b.add_root_certificate(
                    native_tls::Certificate::from_pem(block.trim().as_bytes()).map_err(bad)?,
                );
            }
        }
    }
    if let Some((cert, key)) = &t.client_cert_pem {
        b.identity(native_tls::Identity::from_pkcs8(cert, key.expose().as_bytes()).map_err(bad)?);
    }
    if t.insecure {
        b.danger_accept_invalid_certs(true);
    }
    Ok(Some(tokio_tungstenite::Connector::NativeTls(
        b.build().map_err(bad)?,
    )))
}

/// A LogQL selector for one container's log.
pub fn container_selector(namespace: &str, pod: &str, container: Option<&str>) -> String {
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = format!("{{namespace=\"{}\", pod=\"{}\"", q(namespace), q(pod));
    if let Some(c) = container {
        out.push_str(&format!(", container=\"{}\"", q(c)));
    }
    out.push('}');
    out
}

/// Pause between reconnects of a tail.
pub const RETRY: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_messages_and_ranges_parse_oldest_first() {
        let msg = br#"{"streams":[{"stream":{"pod":"a"},"values":[["1700000000000000002","two"],["1700000000000000001","one"]]}],
            "dropped_entries":[{"labels":{"pod":"a"},"timestamp":"1"},{"labels":{},"timestamp":"2"}]}"#;
        let b = parse_tail("ws://l", msg).unwrap();
        assert_eq!(b.dropped, 2);
        let lines: Vec<&str> = b.entries.iter().map(|e| e.line.as_str()).collect();
        assert_eq!(lines, ["one", "two"]);
        assert_eq!(b.entries[0].at(), Timestamp(1_700_000_000_000));
        assert_eq!(b.entries[0].labels["pod"], "a");
        assert!(parse_tail("ws://l", b"{}").unwrap().entries.is_empty());
        let e = parse_tail("ws://l", br#"{"streams":[{"values":[["soon","x"]]}]}"#).unwrap_err();
        assert!(e.to_string().contains("not nanoseconds"), "{e}");
        assert_eq!(
            parse_tail("ws://l", b"<html>").unwrap_err().kind(),
            "malformed"
        );

        let range = br#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"pod":"a"},"values":[["5","b"],["3","a"]]}]}}"#;
        let r = parse_range("http://l", range).unwrap();
        assert_eq!(
            r.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let metric = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(parse_range("http://l", metric).is_err());
    }

    #[test]
    fn selectors_quote_what_they_must() {
        assert_eq!(
            container_selector("shop", "checkout-1", Some("app")),
            r#"{namespace="shop", pod="checkout-1", container="app"}"#
        );
        assert_eq!(
            container_selector("a\"b", "p", None),
            r#"{namespace="a\"b", pod="p"}"#
        );
    }
}
