//! `sentinel`: the backend without a window, for scripts, CI and benchmarks.

mod bench;
mod bench_detect;
mod bench_history;
mod bench_prom;
mod bench_replay;
mod bench_storage;
mod bench_storm;
mod demo;
mod duration;
mod eval;
mod explain;
mod export;
mod exporter;
mod history;
mod rca;
mod rules;
mod secret;
mod watch;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "sentinel",
    version,
    about = "Sentinel Console, headless: run the backend and print what the UI would show."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `sentinel bench [--pods N]` measures the backend; `sentinel bench detect`
/// the anomaly engine.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
struct BenchCommand {
    #[command(subcommand)]
    what: Option<BenchWhat>,
    #[command(flatten)]
    backend: bench::BenchArgs,
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Samples per second through the default streaming detector set.
    Detect(bench_detect::DetectArgs),
    /// Cost of one live poll of the dashboard's query set against a Prometheus.
    Poll(bench_prom::PollArgs),
    /// Parse throughput of Prometheus JSON.
    Parse(bench_prom::ParseArgs),
    /// An alert storm through the incident manager and the notification policy.
    Storm(bench_storm::StormArgs),
    /// Bytes per sample of a history in Sentinel's store and in a Prometheus TSDB.
    Storage(bench_storage::StorageArgs),
    /// How much faster than real time a recorded history replays.
    Replay(bench_replay::ReplayArgs),
    /// How long the History page's list takes with many incidents stored.
    HistoryPage(bench_history::HistoryPageArgs),
}

#[derive(Subcommand)]
enum Command {
    /// Run the embedded demo cluster and print the updates the UI receives.
    Demo(demo::DemoArgs),
    /// Watch a live Prometheus (and Alertmanager) and print the same updates.
    Watch(watch::WatchArgs),
    /// Measure the backend: time per poll and memory at a given cluster size.
    Bench(BenchCommand),
    /// Score detectors on labelled benchmarks.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Explain an incident captured as a case folder, offline.
    Explain(explain::ExplainArgs),
    /// Write an incident from a recorded history as a report (HTML or Markdown).
    Export(export::ExportArgs),
    /// Replay a recorded history through the engine, offline.
    Replay(history::ReplayArgs),
    /// Serve the demo cluster's metrics for a real Prometheus to scrape.
    Exporter(exporter::ExporterArgs),
    /// Credentials in the OS keyring: set, test, delete (never show).
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Check, import and export rule files (Sentinel's and Prometheus').
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Inspect a recorded history.
    #[command(subcommand)]
    History(history::HistoryCommand),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Eval(cmd) => return eval::run(cmd),
        Command::Explain(args) => return explain::run(args),
        Command::Secret(cmd) => return secret::run(cmd),
        Command::Rules(cmd) => return rules::run(cmd),
        Command::Bench(BenchCommand {
            what: Some(BenchWhat::Detect(args)),
            ..
        }) => return bench_detect::run(args),
        Command::Bench(BenchCommand {
            what: Some(BenchWhat::Parse(args)),
            ..
        }) => return bench_prom::parse(args),
        Command::Bench(BenchCommand {
            what: Some(BenchWhat::Storm(args)),
            ..
        }) => return bench_storm::run(args),
        _ => {}
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Demo(args) => rt.block_on(demo::run(args)),
        Command::Watch(args) => rt.block_on(watch::run(args)),
        Command::Bench(BenchCommand {
            what: Some(BenchWhat::Poll(args)),
            ..
        }) => rt.block_on(bench_prom::poll(args)),
        Command::Bench(BenchCommand {
            what: Some(BenchWhat::Storage(args)),
            ..
        }) => rt.block_on(bench_storage::run(args)),
        Command::Bench(BenchCommand {
            what: Some(BenchWhat::Replay(args)),
            ..
        }) => rt.block_on(bench_replay::run(args)),
        Command::Bench(BenchCommand {
            what: Some(BenchWhat::HistoryPage(args)),
            ..
        }) => rt.block_on(bench_history::run(args)),
        Command::Bench(b) => rt.block_on(bench::run(b.backend)),
        Command::Replay(args) => rt.block_on(history::replay(args)),
        Command::History(cmd) => rt.block_on(history::run(cmd)),
        Command::Exporter(args) => rt.block_on(exporter::run(args)),
        Command::Export(args) => rt.block_on(export::run(args)),
        Command::Eval(_) | Command::Secret(_) | Command::Explain(_) | Command::Rules(_) => Ok(()),
    }
}
