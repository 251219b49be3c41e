//! One HTTP endpoint with its auth, TLS, timeout, response-size limit and
//! retry policy. Every request Sentinel makes to Prometheus or Alertmanager
//! goes through here, so none can hang or fill memory.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use sentinel_model::Secret;

use crate::error::PromError;

/// How to prove who we are.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    #[default]
    None,
    Bearer(Secret),
    Basic {
        user: String,
        password: Secret,
    },
}

/// TLS settings; certificate verification is on unless `insecure` is set.
#[derive(Debug, Clone, Default)]
pub struct Tls {
    /// Extra trusted CA certificates (PEM), for a private CA.
    pub ca_pem: Option<Vec<u8>>,
    /// Client certificate and PKCS#8 key (PEM) for mTLS.
    pub client_cert_pem: Option<(Vec<u8>, Secret)>,
    /// Skip verification. Off by default; the UI warns when it is on.
    pub insecure: bool,
}

/// Another way to the server than a connection of our own: the Kubernetes
/// API server's service proxy, with the cluster's credentials. The tunnel
/// gets the URL's path (prefix included) and query; status and body come
/// back and are read exactly as a direct answer would be.
pub trait Tunnel: Send + Sync + std::fmt::Debug + 'static {
    fn send(&self, req: TunnelRequest) -> TunnelFuture<'_>;
}

/// What a [`Tunnel`] returns: the status and body, or why there are none.
pub type TunnelFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(u16, Vec<u8>), TunnelError>> + Send + 'a>,
>;

/// One request through a [`Tunnel`].
#[derive(Debug, Clone)]
pub struct TunnelRequest {
    pub method: &'static str,
    /// Path and query, e.g. `/api/v1/namespaces/m/services/p:9090/proxy/api/v1/query?query=up`.
    pub path_and_query: String,
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
    /// Largest body to read.
    pub limit: usize,
}

/// Why a tunnel gave no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum TunnelError {
    Connect(String),
    TooLarge,
}

/// Where and how to reach one server.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Base URL; may carry a path prefix (a Kubernetes service proxy path).
    pub url: String,
    pub auth: Auth,
    pub tls: Tls,
    /// Whole-request timeout, body included.
    pub timeout: Duration,
    /// Largest response body accepted.
    pub max_bytes: usize,
    /// Further attempts after a transient failure (connect, timeout, 5xx).
    pub retries: u32,
    /// Send through this instead of connecting to `url` (whose path is
    /// still used; `auth` and `tls` are the tunnel's business then).
    pub tunnel: Option<std::sync::Arc<dyn Tunnel>>,
}

impl Endpoint {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            auth: Auth::None,
            tls: Tls::default(),
            timeout: Duration::from_secs(10),
            max_bytes: 64 << 20,
            retries: 2,
            tunnel: None,
        }
    }
}

/// First pause between attempts; doubled each time.
const BACKOFF: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    base: String,
    endpoint: Endpoint,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("base", &self.base)
            .finish()
    }
}

impl HttpClient {
    pub fn new(endpoint: Endpoint) -> Result<Self, PromError> {
        let parsed = url::Url::parse(&endpoint.url).map_err(|e| PromError::BadUrl {
            url: endpoint.url.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(PromError::BadUrl {
                url: endpoint.url.clone(),
                reason: "the scheme must be http or https".into(),
            });
        }
        let mut builder = reqwest::Client::builder()
            .timeout(endpoint.timeout)
            .connect_timeout(endpoint.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("sentinel-console/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &endpoint.tls.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(ca).map_err(|e| {
                PromError::Config(format!("the CA certificate is not valid PEM: {e}"))
            })?;
            builder = builder.tls_certs_merge(certs);
        }
        if let Some((cert, key)) = &endpoint.tls.client_cert_pem {
            let id =
                reqwest::Identity::from_pkcs8_pem(cert, key.expose().as_bytes()).map_err(|e| {
                    PromError::Config(format!(
                        "the client certificate or key is not valid PEM: {e}"
                    ))
                })?;
            builder = builder.identity(id);
        }
        if endpoint.tls.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let client = builder
            .build()
            .map_err(|e| PromError::Config(e.to_string()))?;
        Ok(Self {
            client,
            base: endpoint.url.trim_end_matches('/').to_string(),
            endpoint,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `GET base+path?query`, retried on transient failures.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Vec<u8>, PromError> {
        self.send(Method::GET, path, query, None).await
    }

    /// `POST` a form (Prometheus accepts queries as forms, which keeps long
    /// PromQL out of the URL). Retried: queries are idempotent.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Result<Vec<u8>, PromError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send(
            Method::POST,
            path,
            &[],
            Some(("application/x-www-form-urlencoded", body.into_bytes())),
        )
        .await
    }

    /// `POST` JSON once (creating a silence is not idempotent).
    pub async fn post_json(&self, path: &str, json: Vec<u8>) -> Result<Vec<u8>, PromError> {
        self.attempt(Method::POST, path, &[], Some(("application/json", json)))
            .await
    }

    pub async fn delete(&self, path: &str) -> Result<Vec<u8>, PromError> {
        self.send(Method::DELETE, path, &[], None).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(&'static str, Vec<u8>)>,
    ) -> Result<Vec<u8>, PromError> {
        let mut attempt = 0;
        loop {
            match self
                .attempt(method.clone(), path, query, body.clone())
                .await
            {
                Err(e) if e.is_transient() && attempt < self.endpoint.retries => {
                    let pause = BACKOFF * 2u32.pow(attempt);
                    tracing::debug!(url = %self.base, error = %e, ?pause, "retrying");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn attempt(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(&'static str, Vec<u8>)>,
    ) -> Result<Vec<u8>, PromError> {
        let mut url = format!("{}{path}", self.base);
        if !query.is_empty() {
            url.push('?');
            url.push_str(
                &url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(query)
                    .finish(),
            );
        }
        if let Some(tunnel) = &self.endpoint.tunnel {
            let path_and_query = url
                .parse::<url::Url>()
                .map(|u| match u.query() {
                    Some(q) => format!("{}?{q}", u.path()),
                    None => u.path().to_string(),
                })
                .unwrap_or_default();
            let (content_type, bytes) = match body {
                Some((ct, b)) => (Some(ct), b),
                None => (None, Vec::new()),
            };
            let req = TunnelRequest {
                method: match method {
                    Method::POST => "POST",
                    Method::DELETE => "DELETE",
                    _ => "GET",
                },
                path_and_query,
                content_type,
                body: bytes,
                limit: self.endpoint.max_bytes,
            };
            let answer = tokio::time::timeout(self.endpoint.timeout, tunnel.send(req)).await;
            return match answer {
                Err(_) => Err(PromError::Timeout {
                    url: self.base.clone(),
                    timeout: self.endpoint.timeout,
                }),
                Ok(Err(TunnelError::TooLarge)) => Err(PromError::TooLarge {
                    url: self.base.clone(),
                    limit: self.endpoint.max_bytes,
                }),
                Ok(Err(TunnelError::Connect(reason))) => Err(PromError::Connect {
                    url: self.base.clone(),
                    reason,
                }),
                Ok(Ok((status, buf))) => self.answer(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                    buf,
                ),
            };
        }
        let mut req = self.client.request(method, &url);
        req = match &self.endpoint.auth {
            Auth::None => req,
            Auth::Bearer(token) => req.bearer_auth(token.expose()),
            Auth::Basic { user, password } => req.basic_auth(user, Some(password.expose())),
        };
        if let Some((ctype, bytes)) = body {
            req = req.header(reqwest::header::CONTENT_TYPE, ctype).body(bytes);
        }
        let mut resp = req.send().await.map_err(|e| self.transport(&e))?;
        let status = resp.status();
        let limit = self.endpoint.max_bytes;
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(PromError::TooLarge {
                url: self.base.clone(),
                limit,
            });
        }
        let mut buf = Vec::with_capacity(resp.content_length().map_or(8192, |n| n as usize));
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(&e))? {
            if buf.len() + chunk.len() > limit {
                return Err(PromError::TooLarge {
                    url: self.base.clone(),
                    limit,
                });
            }
            buf.extend_from_slice(&chunk);
        }
        self.answer(status, buf)
    }

    /// A status and body as Prometheus or Alertmanager mean them.
    fn answer(&self, status: StatusCode, buf: Vec<u8>) -> Result<Vec<u8>, PromError> {
        if status.is_success() {
            return Ok(buf);
        }
        if matches!(
            status,
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
        ) && let Some(api) = crate::parse::api_error(&buf)
        {
            // Prometheus reports bad queries as 400/422 with its JSON envelope.
            return Err(api);
        }
        let detail = excerpt(&buf);
        Err(match status {
            StatusCode::UNAUTHORIZED => PromError::Unauthorized {
                url: self.base.clone(),
            },
            StatusCode::FORBIDDEN => PromError::Forbidden {
                url: self.base.clone(),
                detail,
            },
            _ => PromError::Status {
                url: self.base.clone(),
                status: status.as_u16(),
                detail,
            },
        })
    }

    fn transport(&self, e: &reqwest::Error) -> PromError {
        if e.is_timeout() {
            PromError::Timeout {
                url: self.base.clone(),
                timeout: self.endpoint.timeout,
            }
        } else {
            // The source chain names the cause (refused, DNS, TLS) without the URL's query.
            let mut reason = String::new();
            let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
            while let Some(c) = cur {
                reason = c.to_string();
                cur = c.source();
            }
            if reason.is_empty() {
                reason = e.to_string();
            }
            PromError::Connect {
                url: self.base.clone(),
                reason,
            }
        }
    }
}

/// The first 200 characters of a body, on one line, for an error message.
fn excerpt(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(200).collect();
    if one_line.chars().count() > 200 {
        out.push('…');
    }
    if out.is_empty() {
        out.push_str("(empty body)");
    }
    out
}
