//! `sentinel export INCIDENT`: an incident from a recorded history as a
//! Markdown or self-contained HTML report, optionally redacted. Works with
//! no network: the analysis rests on what was captured while the incident
//! was active.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use sentinel_explain::incident::Incident;
use sentinel_explain::report::{self, Format, ReportInput};
use sentinel_explain::scrub::Scrubber;
use sentinel_runtime::{Clock, Store, SystemClock};
use sentinel_store::IncidentFilter;

#[derive(Args)]
pub struct ExportArgs {
    /// The incident id (`inc-…`), as the Incidents page shows it.
    incident: String,
    /// The history file; by default the desktop app's.
    #[arg(long)]
    db: Option<PathBuf>,
    /// `html` (self-contained, charts inline) or `md`; by default from
    /// `--out`'s extension, else html.
    #[arg(long)]
    format: Option<Format>,
    /// Where to write it; `-` or nothing for stdout.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Replace identifiers (emails, addresses, tokens, UUIDs, long hex ids)
    /// with placeholders.
    #[arg(long)]
    redact: bool,
    /// Also redact what matches this regular expression (repeatable;
    /// implies --redact).
    #[arg(long = "redact-pattern", value_name = "REGEX")]
    patterns: Vec<String>,
}

pub async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let format = match (args.format, &args.out) {
        (Some(f), _) => f,
        (None, Some(p)) if p.extension().is_some_and(|e| e == "md") => Format::Markdown,
        _ => Format::Html,
    };
    let mut scrubber = if args.redact || !args.patterns.is_empty() {
        Some(Scrubber::new(&args.patterns)?)
    } else {
        None
    };
    let db = args
        .db
        .unwrap_or_else(|| sentinel_runtime::dirs::Dirs::from_env().history());
    anyhow::ensure!(
        db.exists(),
        "no history at {} (pass --db FILE: the --db of `sentinel demo` or `watch`, or the app's history.db)",
        db.display()
    );
    let store = Store::open_read_only(&db).await?;
    let Some(row) = store.incident(&args.incident).await? else {
        let newest = store
            .incidents(&IncidentFilter {
                limit: Some(5),
                ..IncidentFilter::default()
            })
            .await?;
        let ids: Vec<&str> = newest.iter().map(|r| r.id.as_str()).collect();
        anyhow::bail!(
            "no incident {} in {} (newest: {})",
            args.incident,
            db.display(),
            if ids.is_empty() {
                "none recorded".to_string()
            } else {
                ids.join(", ")
            }
        );
    };
    let incident: Incident = serde_json::from_str(&row.body)
        .with_context(|| format!("incident {} in {} is damaged", row.id, db.display()))?;
    if let Some(into) = &incident.merged_into {
        anyhow::bail!(
            "incident {} was merged into {into}, which holds its signals: export that one",
            incident.id
        );
    }
    let ids: Vec<String> = incident
        .members
        .iter()
        .filter_map(|m| m.finding_id.clone())
        .take(report::MAX_TRACES)
        .collect();
    let findings = store.latest_findings(&ids).await?;
    store.close().await;
    let onset = incident.onset();
    let capture = match &incident.capture {
        Some(c) => c.to_capture(onset),
        None => sentinel_explain::Capture {
            onset,
            objects: Default::default(),
            metrics: Vec::new(),
            logs: Vec::new(),
            calls: Vec::new(),
        },
    };
    let explanation = sentinel_explain::explain(&capture);
    let input = ReportInput {
        incident: &incident,
        explanation: &explanation,
        findings: &findings,
        generated_at: SystemClock.now(),
    };
    let text = report::render(&input, format, scrubber.as_mut());
    match args.out.filter(|p| p.as_os_str() != "-") {
        Some(path) => {
            sentinel_service::write_atomically(&path, &text)
                .with_context(|| format!("could not write {}", path.display()))?;
            eprintln!(
                "wrote {} ({} bytes{})",
                path.display(),
                text.len(),
                scrubber
                    .map(|s| format!(", {} identifiers redacted", s.replaced()))
                    .unwrap_or_default()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}
