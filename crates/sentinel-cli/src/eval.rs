//! `sentinel eval nab DIR`: score a detector on a NAB-layout directory with
//! the official scoring, and optionally write NAB result files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use sentinel_detect::eval::{corpus, nab, scorers};

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Numenta Anomaly Benchmark: DIR holds `data/<category>/<file>.csv` and
    /// `labels/combined_windows.json`.
    Nab(NabArgs),
    /// The explainer on labelled case folders: top-1 / top-3 accuracy.
    Explain(crate::explain::EvalExplainArgs),
    /// Metric root-cause ranking on fault cases: top-1, top-3, Avg@5.
    Rca(crate::rca::RcaArgs),
    /// Write labelled root-cause cases from the demo shop.
    RcaCases(crate::rca::RcaCasesArgs),
}

#[derive(Args)]
pub struct NabArgs {
    dir: PathBuf,
    /// Detector to run (likelihood, zscore, null); default: the one the app ships.
    #[arg(long, default_value = scorers::DEFAULT)]
    detector: String,
    /// Only this profile: standard, reward_low_FP or reward_low_FN (default: all).
    #[arg(long)]
    profile: Option<String>,
    /// Write per-file results in NAB's layout under this directory.
    #[arg(long)]
    results: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: EvalCommand) -> anyhow::Result<()> {
    match cmd {
        EvalCommand::Nab(args) => nab_eval(args),
        EvalCommand::Explain(args) => crate::explain::eval(args),
        EvalCommand::Rca(args) => crate::rca::eval(args),
        EvalCommand::RcaCases(args) => crate::rca::cases(args),
    }
}

struct Scored {
    file: String,
    series: corpus::Series,
    scores: nab::FileScores,
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn nab_eval(args: NabArgs) -> anyhow::Result<()> {
    let profiles: Vec<nab::Profile> = match &args.profile {
        None => nab::Profile::ALL.to_vec(),
        Some(p) => vec![nab::Profile::by_name(p).with_context(|| {
            format!("unknown profile {p:?} (standard, reward_low_FP, reward_low_FN)")
        })?],
    };
    if let Err(e) = scorers::by_name(&args.detector) {
        bail!("{e}");
    }
    let labels_path = args.dir.join("labels/combined_windows.json");
    let windows = corpus::parse_windows(&read(&labels_path)?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", labels_path.display()))?;
    if windows.is_empty() {
        bail!("{}: no files are labelled", labels_path.display());
    }
    let mut scored = Vec::with_capacity(windows.len());
    for (file, ws) in &windows {
        let path = args.dir.join("data").join(file);
        let series = corpus::parse_series(&read(&path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let mut detector = scorers::by_name(&args.detector).map_err(anyhow::Error::msg)?;
        let scores: Vec<f64> = series
            .values
            .iter()
            .zip(&series.timestamps)
            .map(|(&v, t)| detector.score(t.millis(), v).clamp(0.0, 1.0))
            .collect();
        let rows = corpus::window_rows(&series.timestamps, ws);
        scored.push(Scored {
            file: file.clone(),
            scores: nab::FileScores {
                name: file.clone(),
                scores,
                windows: rows,
            },
            series,
        });
    }
    let files: Vec<nab::FileScores> = scored.iter().map(|s| s.scores.clone()).collect();
    let results: Vec<nab::ProfileResult> =
        profiles.iter().map(|p| nab::score(&files, *p)).collect();
    if let Some(out) = &args.results {
        write_results(out, &args.detector, &scored)?;
    }
    if args.json {
        let json = serde_json::json!({
            "detector": args.detector,
            "files": files.len(),
            "windows": results.first().map_or(0, |r| r.total.windows),
            "profiles": results,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", render(&args.detector, &results));
    }
    Ok(())
}

fn render(detector: &str, results: &[nab::ProfileResult]) -> String {
    let mut s = String::new();
    let Some(first) = results.first() else {
        return s;
    };
    let _ = writeln!(
        s,
        "detector {detector}: {} files, {} windows",
        first.files.len(),
        first.total.windows
    );
    let _ = writeln!(
        s,
        "{:<15} {:>10} {:>10} {:>9} {:>9} {:>5} {:>5} {:>9}",
        "profile", "normalized", "raw", "null", "threshold", "tp", "fp", "detected"
    );
    for r in results {
        let _ = writeln!(
            s,
            "{:<15} {:>10.2} {:>10.3} {:>9.1} {:>9.4} {:>5} {:>5} {:>6}/{}",
            r.profile.name,
            r.normalized,
            r.raw,
            r.null,
            r.threshold,
            r.total.tp,
            r.total.fp,
            r.total.detected,
            r.total.windows
        );
    }
    let _ = writeln!(s, "\nper file ({}):", first.profile.name);
    for (name, t) in &first.files {
        let _ = writeln!(
            s,
            "  {name:<58} raw {:>7.3}  windows {}/{}  fp {}",
            t.raw, t.detected, t.windows, t.fp
        );
    }
    s
}

/// `OUT/<detector>/<category>/<detector>_<file>.csv`, one row per input row.
fn write_results(out: &Path, detector: &str, scored: &[Scored]) -> anyhow::Result<()> {
    let name: String = detector
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    for s in scored {
        let (category, file) = s
            .file
            .rsplit_once('/')
            .with_context(|| format!("{}: expected <category>/<file>", s.file))?;
        let dir = out.join(&name).join(category);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let labels = corpus::labels(s.series.values.len(), &s.scores.windows);
        let mut csv = String::with_capacity(s.series.values.len() * 48);
        csv.push_str("timestamp,value,anomaly_score,label\n");
        let rows = s
            .series
            .raw_timestamps
            .iter()
            .zip(&s.series.values)
            .zip(&s.scores.scores)
            .zip(&labels);
        for (((t, v), score), label) in rows {
            let _ = writeln!(csv, "{t},{v},{score},{label}");
        }
        let path = dir.join(format!("{name}_{file}"));
        std::fs::write(&path, csv).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
