//! A capture: what was seen of a cluster around an incident. The case folder
//! format (`objects.json`, `metrics.csv`, `logs.jsonl`, `case.json`) is read
//! by the caller and handed over as text.

use sentinel_model::Timestamp;
use serde_json::Value;

use crate::kube::Objects;
use crate::metrics::{self, Series};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogLine {
    pub at: Option<Timestamp>,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub line: String,
}

#[derive(Debug)]
pub struct Capture {
    pub onset: Timestamp,
    pub objects: Objects,
    pub metrics: Vec<Series>,
    pub logs: Vec<LogLine>,
    /// Which services call which, `(caller, callee)` as `namespace/service`,
    /// where the source knows it (a case folder does not say).
    pub calls: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError {
    pub file: &'static str,
    pub message: String,
}

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for CaptureError {}

/// The parts of `case.json` the explainer may see: the onset only.
pub fn parse_onset(case_json: &str) -> Result<Timestamp, CaptureError> {
    let err = |message: String| CaptureError {
        file: "case.json",
        message,
    };
    let v: Value = serde_json::from_str(case_json).map_err(|e| err(e.to_string()))?;
    match v.get("onset") {
        Some(Value::String(s)) => {
            metrics::parse_time(s).ok_or_else(|| err(format!("onset {s:?} is not RFC 3339 UTC")))
        }
        Some(Value::Number(n)) => n
            .as_f64()
            .map(|s| Timestamp((s * 1000.0).round() as i64))
            .ok_or_else(|| err("onset is not a number".into())),
        _ => Err(err("no \"onset\"".into())),
    }
}

impl Capture {
    /// Any part may be absent; a part that is present must parse.
    pub fn parse(
        onset: Timestamp,
        objects_json: Option<&str>,
        metrics_csv: Option<&str>,
        logs_jsonl: Option<&str>,
    ) -> Result<Self, CaptureError> {
        let objects = match objects_json {
            Some(text) => {
                let v: Value = serde_json::from_str(text).map_err(|e| CaptureError {
                    file: "objects.json",
                    message: e.to_string(),
                })?;
                Objects::from_value(v)
            }
            None => Objects::default(),
        };
        let metrics = match metrics_csv {
            Some(text) => metrics::parse_csv(text).map_err(|message| CaptureError {
                file: "metrics.csv",
                message,
            })?,
            None => Vec::new(),
        };
        let logs = match logs_jsonl {
            Some(text) => parse_logs(text)?,
            None => Vec::new(),
        };
        Ok(Self {
            onset,
            objects,
            metrics,
            logs,
            calls: Vec::new(),
        })
    }
}

fn parse_logs(text: &str) -> Result<Vec<LogLine>, CaptureError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| CaptureError {
            file: "logs.jsonl",
            message: format!("line {}: {e}", i + 1),
        })?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let at = match v.get("ts") {
            Some(Value::String(t)) => metrics::parse_time(t),
            Some(Value::Number(n)) => n.as_f64().map(|s| Timestamp((s * 1000.0).round() as i64)),
            _ => None,
        };
        out.push(LogLine {
            at,
            namespace: s("namespace"),
            pod: s("pod"),
            container: s("container"),
            line: s("line"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onset_is_rfc3339_or_unix_seconds() {
        assert_eq!(
            parse_onset(r#"{"onset":"2026-01-01T00:00:10Z","expected":{}}"#),
            Ok(Timestamp(1_767_225_610_000))
        );
        assert_eq!(parse_onset(r#"{"onset": 12.5}"#), Ok(Timestamp(12_500)));
        assert!(parse_onset(r#"{"onset":"yesterday"}"#).is_err());
        assert!(parse_onset("[").is_err());
    }

    #[test]
    fn a_bad_part_names_its_file_and_line() {
        let e = Capture::parse(Timestamp(0), None, None, Some("{\"line\":\"a\"}\nnot json"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("logs.jsonl: line 2"), "{e}");
        let ok = Capture::parse(Timestamp(0), None, None, None);
        assert!(ok.is_ok());
    }
}
