//! Pure parsers for the Prometheus HTTP API's JSON (`/api/v1/...`). They take
//! bytes and return values or an error; they never panic, whatever the input
//! (a fuzz target and a proptest check that).

use std::fmt;

use sentinel_model::{Labels, Timestamp};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::error::PromError;

/// One sample: time and value. Prometheus writes it as `[1700000000.123, "4.2"]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub at: Timestamp,
    pub value: f64,
}

/// An instant-vector element.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Sample {
    pub metric: Labels,
    pub value: Point,
}

/// A range-vector (matrix) element.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Series {
    pub metric: Labels,
    pub values: Vec<Point>,
}

/// The `data` of `/api/v1/query` and `/api/v1/query_range`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum QueryData {
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
    Scalar(Point),
    String(StringPoint),
}

impl QueryData {
    /// The result as series, whatever its shape (an instant vector becomes
    /// one-point series; a scalar, one series without labels).
    pub fn into_series(self) -> Vec<Series> {
        match self {
            QueryData::Matrix(m) => m,
            QueryData::Vector(v) => v
                .into_iter()
                .map(|s| Series {
                    metric: s.metric,
                    values: vec![s.value],
                })
                .collect(),
            QueryData::Scalar(p) => vec![Series {
                metric: Labels::new(),
                values: vec![p],
            }],
            QueryData::String(_) => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StringPoint(pub f64, pub String);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<T> {
    status: String,
    #[serde(default = "none")]
    data: Option<T>,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

fn none<T>() -> Option<T> {
    None
}

/// Unwraps the API envelope: `{"status":"success","data":...}` or
/// `{"status":"error","errorType":...,"error":...}`.
pub fn envelope<'a, T: Deserialize<'a>>(url: &str, body: &'a [u8]) -> Result<T, PromError> {
    let env: Envelope<T> = serde_json::from_slice(body).map_err(|e| PromError::Malformed {
        url: url.to_string(),
        reason: describe_json_error(&e, body),
    })?;
    match (env.status.as_str(), env.data) {
        ("success", Some(data)) => Ok(data),
        ("success", None) => Err(PromError::Malformed {
            url: url.to_string(),
            reason: "\"status\" is success but there is no \"data\"".into(),
        }),
        _ => Err(PromError::Api {
            error_type: env.error_type.unwrap_or_else(|| "error".into()),
            error: env.error.unwrap_or_else(|| "no error message".into()),
        }),
    }
}

/// The API error in a 4xx body, when it is Prometheus' JSON envelope.
pub fn api_error(body: &[u8]) -> Option<PromError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct E {
        status: String,
        error_type: Option<String>,
        error: Option<String>,
    }
    let e: E = serde_json::from_slice(body).ok()?;
    (e.status == "error").then(|| PromError::Api {
        error_type: e.error_type.unwrap_or_else(|| "error".into()),
        error: e.error.unwrap_or_default(),
    })
}

fn describe_json_error(e: &serde_json::Error, body: &[u8]) -> String {
    let looks_html = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<');
    if looks_html {
        // A login page or a proxy's error page, not the API.
        return "expected JSON, got HTML (is this the API's address, or a login page?)".into();
    }
    format!("{e}")
}

pub fn query(url: &str, body: &[u8]) -> Result<QueryData, PromError> {
    envelope(url, body)
}

/// A float as Prometheus writes it: `"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`.
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok().filter(|v: &f64| v.is_finite()),
    }
}

/// Unix seconds (with a fraction) to milliseconds.
pub fn seconds_to_timestamp(secs: f64) -> Option<Timestamp> {
    let ms = (secs * 1000.0).round();
    (ms.is_finite() && ms.abs() < 1e15).then_some(Timestamp(ms as i64))
}

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Point;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[unix seconds, \"value\"]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Point, A::Error> {
                let secs: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let value: Value = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                let at = seconds_to_timestamp(secs)
                    .ok_or_else(|| de::Error::custom(format!("timestamp {secs} out of range")))?;
                Ok(Point { at, value: value.0 })
            }
        }
        d.deserialize_seq(V)
    }
}

/// A sample value: parsed from its string without allocating.
struct Value(f64);

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number as a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
                parse_value(s)
                    .map(Value)
                    .ok_or_else(|| E::custom(format!("{s:?} is not a number")))
            }
        }
        d.deserialize_str(V)
    }
}

/// `/api/v1/targets`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Targets {
    #[serde(default)]
    pub active_targets: Vec<Target>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub scrape_pool: String,
    #[serde(default)]
    pub scrape_url: String,
    /// `up`, `down` or `unknown`.
    pub health: String,
    #[serde(default)]
    pub last_error: String,
}

/// `/api/v1/rules`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RuleGroups {
    #[serde(default)]
    pub groups: Vec<RuleGroup>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RuleGroup {
    pub name: String,
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Rule {
    pub name: String,
    pub query: String,
    /// `alerting` or `recording`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The `for` duration in seconds (alerting rules).
    #[serde(default)]
    pub duration: f64,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
    #[serde(default)]
    pub health: String,
    #[serde(default)]
    pub state: Option<String>,
}

/// `/api/v1/alerts`: what Prometheus itself evaluates as pending or firing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PromAlerts {
    #[serde(default)]
    pub alerts: Vec<PromAlert>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromAlert {
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
    /// `pending` or `firing`.
    pub state: String,
    #[serde(default)]
    pub active_at: Option<String>,
    #[serde(default)]
    pub value: String,
}

/// `/api/v1/metadata`: metric name → its kinds and help texts.
pub type Metadata = std::collections::BTreeMap<String, Vec<MetricMeta>>;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MetricMeta {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub unit: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_a_vector_with_special_values() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"pod":"a"},"value":[1700000000.5,"1.25"]},
            {"metric":{"pod":"b"},"value":[1700000000.5,"NaN"]},
            {"metric":{},"value":[1700000000.5,"+Inf"]}]}}"#;
        let QueryData::Vector(v) = query("u", body).unwrap() else {
            panic!("not a vector")
        };
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].metric["pod"], "a");
        assert_eq!(v[0].value.at, Timestamp(1_700_000_000_500));
        assert_eq!(v[0].value.value, 1.25);
        assert!(v[1].value.value.is_nan());
        assert_eq!(v[2].value.value, f64::INFINITY);
    }

    #[test]
    fn parses_a_matrix() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up","job":"x"},"values":[[1,"1"],[3,"0"]]}]}}"#;
        let series = query("u", body).unwrap().into_series();
        assert_eq!(series[0].values.len(), 2);
        assert_eq!(
            series[0].values[1],
            Point {
                at: Timestamp(3000),
                value: 0.0
            }
        );
    }

    #[test]
    fn reports_api_errors_and_bad_bodies() {
        let err = query(
            "u",
            br#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "bad_data: parse error at char 3");
        let err = query("u", b"<html><body>Sign in</body></html>").unwrap_err();
        assert!(err.to_string().contains("got HTML"), "{err}");
        let err = query("u", br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}"#).unwrap_err();
        assert!(err.to_string().contains("\"x\" is not a number"), "{err}");
        let err = query("u", br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1e300,"1"]}]}}"#).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        assert_eq!(query("u", b"").unwrap_err().kind(), "malformed");
    }

    #[test]
    fn values_parse_like_prometheus_writes_them() {
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("1e3"), Some(1000.0));
        assert_eq!(parse_value("inf"), None);
        assert_eq!(parse_value(""), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = query("u", &body);
            let _ = envelope::<Targets>("u", &body);
        }
    }
}
