//! The Prometheus HTTP API (`/api/v1`): queries, metadata, targets, rules
//! and alerts, each a timed, size-limited request parsed by [`crate::parse`].

use sentinel_model::{Duration, Labels, Timestamp};

use crate::error::PromError;
use crate::http::{Endpoint, HttpClient};
use crate::parse::{self, Metadata, PromAlerts, QueryData, RuleGroups, Targets};

/// Prometheus answers at most this many points per series in a range query.
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

#[derive(Debug, Clone)]
pub struct Prometheus {
    http: HttpClient,
}

fn secs(t: Timestamp) -> String {
    format!(
        "{}.{:03}",
        t.millis().div_euclid(1000),
        t.millis().rem_euclid(1000)
    )
}

impl Prometheus {
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

    /// An instant query at `at`, with its response size.
    pub async fn query_sized(
        &self,
        expr: &str,
        at: Timestamp,
    ) -> Result<(QueryData, usize), PromError> {
        let body = self
            .http
            .post_form("/api/v1/query", &[("query", expr), ("time", &secs(at))])
            .await?;
        Ok((parse::query(self.url(), &body)?, body.len()))
    }

    pub async fn query(&self, expr: &str, at: Timestamp) -> Result<QueryData, PromError> {
        Ok(self.query_sized(expr, at).await?.0)
    }

    /// A range query over `[start, end]` every `step`, with its response size.
    /// Refuses ranges Prometheus would refuse (more than 11,000 points).
    pub async fn query_range_sized(
        &self,
        expr: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<(QueryData, usize), PromError> {
        if step.millis() <= 0 || end < start {
            return Err(PromError::Config(format!(
                "bad range: start {} end {} step {} ms",
                start.millis(),
                end.millis(),
                step.millis()
            )));
        }
        if (end.millis() - start.millis()) / step.millis() >= MAX_POINTS_PER_SERIES {
            return Err(PromError::Config(format!(
                "the range asks for more than {MAX_POINTS_PER_SERIES} points per series; use a coarser step"
            )));
        }
        let step_s = format!("{}", step.millis() as f64 / 1000.0);
        let body = self
            .http
            .post_form(
                "/api/v1/query_range",
                &[
                    ("query", expr),
                    ("start", &secs(start)),
                    ("end", &secs(end)),
                    ("step", &step_s),
                ],
            )
            .await?;
        Ok((parse::query(self.url(), &body)?, body.len()))
    }

    pub async fn query_range(
        &self,
        expr: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<QueryData, PromError> {
        Ok(self.query_range_sized(expr, start, end, step).await?.0)
    }

    /// Series matching any of `matchers` in `[start, end]`.
    pub async fn series(
        &self,
        matchers: &[&str],
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Vec<Labels>, PromError> {
        let (s, e) = (secs(start), secs(end));
        let mut form: Vec<(&str, &str)> = matchers.iter().map(|m| ("match[]", *m)).collect();
        form.push(("start", &s));
        form.push(("end", &e));
        let body = self.http.post_form("/api/v1/series", &form).await?;
        parse::envelope(self.url(), &body)
    }

    /// All label names.
    pub async fn labels(&self) -> Result<Vec<String>, PromError> {
        let body = self.http.get("/api/v1/labels", &[]).await?;
        parse::envelope(self.url(), &body)
    }

    /// Values of one label.
    pub async fn label_values(&self, name: &str) -> Result<Vec<String>, PromError> {
        let path = format!("/api/v1/label/{}/values", url_segment(name));
        let body = self.http.get(&path, &[]).await?;
        parse::envelope(self.url(), &body)
    }

    pub async fn targets(&self) -> Result<Targets, PromError> {
        let body = self
            .http
            .get("/api/v1/targets", &[("state", "active")])
            .await?;
        parse::envelope(self.url(), &body)
    }

    pub async fn rules(&self) -> Result<RuleGroups, PromError> {
        let body = self.http.get("/api/v1/rules", &[]).await?;
        parse::envelope(self.url(), &body)
    }

    pub async fn alerts(&self) -> Result<PromAlerts, PromError> {
        let body = self.http.get("/api/v1/alerts", &[]).await?;
        parse::envelope(self.url(), &body)
    }

    /// Metadata of one metric, or of all with `None`.
    pub async fn metadata(&self, metric: Option<&str>) -> Result<Metadata, PromError> {
        let query: Vec<(&str, &str)> = metric.map(|m| ("metric", m)).into_iter().collect();
        let body = self.http.get("/api/v1/metadata", &query).await?;
        parse::envelope(self.url(), &body)
    }

    /// The server's version (`/api/v1/status/buildinfo`).
    pub async fn version(&self) -> Result<String, PromError> {
        #[derive(serde::Deserialize)]
        struct Build {
            version: String,
        }
        let body = self.http.get("/api/v1/status/buildinfo", &[]).await?;
        Ok(parse::envelope::<Build>(self.url(), &body)?.version)
    }
}

/// Percent-encodes one path segment.
pub(crate) fn url_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
