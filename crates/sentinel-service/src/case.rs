//! Capture folders opened for offline analysis: `objects.json` (a
//! Kubernetes `List` as `kubectl get … -o json` prints it), `metrics.csv`,
//! `logs.jsonl` and `case.json` (its onset; `expected` is never read). The
//! CLI's `sentinel explain CASE` and the app's "Analyse a capture" both read
//! them here.

use std::io::Read;
use std::path::Path;

use sentinel_explain::{Capture, capture, explain};
use sentinel_protocol::{CaseAnalysis, ErrorKind, IpcError};

/// Largest file of a capture read (a `kubectl get -A -o json` of a big
/// cluster is tens of megabytes).
pub const MAX_FILE_BYTES: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{0} has no case.json (it needs at least the onset)")]
    NoCase(String),
    #[error("{0} holds none of objects.json, metrics.csv, logs.jsonl")]
    Empty(String),
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} is larger than {limit} bytes")]
    TooLarge { path: String, limit: u64 },
    #[error("{dir}: {reason}")]
    Parse { dir: String, reason: String },
}

fn optional(path: &Path) -> Result<Option<String>, CaseError> {
    let read_err = |e: std::io::Error| CaseError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_err(e)),
    };
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_err)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(CaseError::TooLarge {
            path: path.display().to_string(),
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(Some(text))
}

/// Reads a case folder into a capture. `case.json` gives the onset only.
pub fn load_case(dir: &Path) -> Result<Capture, CaseError> {
    let name = dir.display().to_string();
    let case = optional(&dir.join("case.json"))?.ok_or_else(|| CaseError::NoCase(name.clone()))?;
    let parse = |reason: String| CaseError::Parse {
        dir: name.clone(),
        reason,
    };
    let onset = capture::parse_onset(&case).map_err(|e| parse(e.to_string()))?;
    let objects = optional(&dir.join("objects.json"))?;
    let metrics = optional(&dir.join("metrics.csv"))?;
    let logs = optional(&dir.join("logs.jsonl"))?;
    if objects.is_none() && metrics.is_none() && logs.is_none() {
        return Err(CaseError::Empty(name));
    }
    Capture::parse(
        onset,
        objects.as_deref(),
        metrics.as_deref(),
        logs.as_deref(),
    )
    .map_err(|e| parse(e.to_string()))
}

/// The explainer on a case folder, for the app. Blocking (reads files).
pub fn analyse_case(path: &str) -> Result<CaseAnalysis, IpcError> {
    let dir = Path::new(path.trim());
    if !dir.is_dir() {
        return Err(IpcError::new(
            ErrorKind::InvalidArgument,
            format!("{} is not a folder", dir.display()),
        ));
    }
    let cap =
        load_case(dir).map_err(|e| IpcError::new(ErrorKind::InvalidArgument, e.to_string()))?;
    let e = explain(&cap);
    Ok(CaseAnalysis {
        path: dir.display().to_string(),
        onset: cap.onset,
        objects: cap.objects.kinds().map(|(_, n)| n).sum::<usize>() + cap.objects.events.len(),
        series: cap.metrics.len(),
        logs: cap.logs.len(),
        analysis: crate::incidents::analysis(&e),
    })
}
