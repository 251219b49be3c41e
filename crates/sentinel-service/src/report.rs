//! Incident reports from what the app holds: the incident, its capture's
//! analysis and the traces of its findings, written as HTML or Markdown
//! into the reports folder.

use std::path::{Path, PathBuf};

use sentinel_explain::incident::Incident;
use sentinel_explain::report::{self, Format, ReportInput};
use sentinel_explain::scrub::Scrubber;
use sentinel_model::Finding;
use sentinel_protocol::{ErrorKind, ExportArgs, ExportedReport, IpcError, ReportFormat};
use sentinel_runtime::{Runtime, Snapshot};

/// A rendered report and the file name it should get.
pub struct Rendered {
    pub text: String,
    pub file_name: String,
    pub redacted: Option<usize>,
}

fn format(f: ReportFormat) -> Format {
    match f {
        ReportFormat::Html => Format::Html,
        ReportFormat::Markdown => Format::Markdown,
    }
}

fn held<'a>(s: &'a Snapshot, id: &str) -> Result<&'a Incident, IpcError> {
    s.incidents
        .iter()
        .find(|i| i.id == id)
        .map(|i| &**i)
        .ok_or_else(|| {
            IpcError::new(
                ErrorKind::NotFound,
                format!("incident {id} is no longer held in memory"),
            )
        })
}

/// The incident's findings memory no longer holds.
fn missing_findings(s: &Snapshot, i: &Incident) -> Vec<String> {
    i.members
        .iter()
        .filter_map(|m| m.finding_id.as_deref())
        .filter(|id| s.finding(id).is_none())
        .map(str::to_string)
        .collect()
}

/// The report for `args.id` as the snapshot holds it; the traces of findings
/// it no longer holds come from `stored`.
pub fn render_report(
    s: &Snapshot,
    args: &ExportArgs,
    stored: &[Finding],
) -> Result<Rendered, IpcError> {
    let i = crate::incidents::not_merged(held(s, &args.id)?)?;
    let mut scrubber = if args.redact || !args.patterns.is_empty() {
        Some(
            Scrubber::new(&args.patterns)
                .map_err(|e| IpcError::new(ErrorKind::InvalidArgument, e.to_string()))?,
        )
    } else {
        None
    };
    let findings: Vec<_> = i
        .members
        .iter()
        .filter_map(|m| m.finding_id.as_deref())
        .filter_map(|id| {
            s.finding(id)
                .or_else(|| stored.iter().find(|f| f.id == id))
                .cloned()
        })
        .collect();
    let explanation = crate::analyse(s, i);
    let input = ReportInput {
        incident: i,
        explanation: &explanation,
        findings: &findings,
        generated_at: s.at,
    };
    let fmt = format(args.format);
    let text = report::render(&input, fmt, scrubber.as_mut());
    let suffix = if scrubber.is_some() { "-redacted" } else { "" };
    Ok(Rendered {
        text,
        file_name: format!("{}{suffix}.{}", i.id, fmt.extension()),
        redacted: scrubber.map(|s| s.replaced()),
    })
}

/// Writes `text` to `path` whole or not at all: a temporary file beside it,
/// then a rename.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("partial");
    let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Renders the report, writes it into `dir` and records the export in the
/// audit log as `by`.
pub async fn export_incident(
    rt: &Runtime,
    dir: &Path,
    args: &ExportArgs,
    by: &str,
) -> Result<ExportedReport, IpcError> {
    let snap = rt.snapshot();
    let i = crate::incidents::not_merged(held(&snap, &args.id)?)?;
    let missing = missing_findings(&snap, i);
    // Without the stored traces the report is still worth having.
    let stored = match missing.is_empty() {
        true => Vec::new(),
        false => rt.stored_findings(&missing).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the report lacks traces the history holds");
            Vec::new()
        }),
    };
    let r = render_report(&snap, args, &stored)?;
    let path: PathBuf = dir.join(&r.file_name);
    write_atomically(&path, &r.text).map_err(|e| {
        IpcError::new(
            ErrorKind::Unavailable,
            format!("could not write the report to {}: {e}", path.display()),
        )
    })?;
    let detail = format!("{} ({} bytes)", path.display(), r.text.len());
    rt.audit(by.to_string(), "exported", args.id.clone(), detail)
        .await
        .map_err(crate::ipc_error)?;
    Ok(ExportedReport {
        path: path.display().to_string(),
        bytes: r.text.len() as u64,
        redacted: r.redacted,
    })
}
