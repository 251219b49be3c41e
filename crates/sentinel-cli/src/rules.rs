//! `sentinel rules`: check rule files, and convert between Sentinel's rule
//! format and Prometheus alerting rules.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use sentinel_detect::promrules::{self, Imported};
use sentinel_detect::{RuleFile, default_pack};
use sentinel_model::Duration;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Check rule files (Sentinel's or Prometheus' format) and say what the
    /// engine would evaluate.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Convert a Prometheus rule file's alerting rules to Sentinel's format.
    Import {
        file: PathBuf,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write rules (the default pack, plus any --rules files) as a Prometheus
    /// rule file that `promtool check rules` accepts.
    Export {
        /// Rule files to export instead of the default pack (either format).
        #[arg(long)]
        rules: Vec<PathBuf>,
        /// The poll interval the detectors' windows (in readings) assume.
        #[arg(long, default_value = "5s", value_parser = crate::duration::parse)]
        step: std::time::Duration,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Reads a rule file of either format, naming the file in errors.
pub fn read(path: &Path) -> anyhow::Result<Imported> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    promrules::load(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The default pack plus the rules of `files`; skipped rules are reported
/// on standard error.
pub fn with_default_pack(files: &[PathBuf]) -> anyhow::Result<RuleFile> {
    let mut rules = default_pack();
    for f in files {
        let got = read(f)?;
        report_skipped(f, &got);
        rules.rules.extend(got.rules.rules);
    }
    rules
        .validate()
        .map_err(|e| anyhow::anyhow!("the rules together: {e}"))?;
    Ok(rules)
}

fn report_skipped(path: &Path, got: &Imported) {
    for s in &got.skipped {
        eprintln!("{}: left out {}: {}", path.display(), s.name, s.reason);
    }
}

fn write(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

pub fn run(cmd: RulesCommand) -> anyhow::Result<()> {
    match cmd {
        RulesCommand::Check { files } => {
            for f in &files {
                let got = read(f)?;
                report_skipped(f, &got);
                println!(
                    "{}: {} rules Sentinel evaluates, {} left out",
                    f.display(),
                    got.rules.rules.len(),
                    got.skipped.len()
                );
            }
            Ok(())
        }
        RulesCommand::Import { file, out } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let got =
                promrules::import(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            report_skipped(&file, &got);
            let mut yaml = format!(
                "# Imported from {} ({} alerting rules; {} left out).\n",
                file.display(),
                got.rules.rules.len(),
                got.skipped.len()
            );
            yaml.push_str(&serde_yaml::to_string(&got.rules)?);
            write(out.as_deref(), &yaml)
        }
        RulesCommand::Export { rules, step, out } => {
            let rules = if rules.is_empty() {
                default_pack()
            } else {
                let mut all = RuleFile { rules: Vec::new() };
                for f in &rules {
                    let got = read(f)?;
                    report_skipped(f, &got);
                    all.rules.extend(got.rules.rules);
                }
                all
            };
            let step = Duration(i64::try_from(step.as_millis()).unwrap_or(i64::MAX));
            let exported = promrules::export(&rules, step);
            for s in &exported.skipped {
                eprintln!("left out {}: {}", s.name, s.reason);
            }
            write(out.as_deref(), &exported.yaml)
        }
    }
}
