//! `sentinel`: the backend without a window, for scripts, CI and benchmarks.

mod bench;
mod demo;
mod duration;
mod eval;

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

#[derive(Subcommand)]
enum Command {
    /// Run the embedded demo cluster and print the updates the UI receives.
    Demo(demo::DemoArgs),
    /// Measure the backend: time per poll and memory at a given cluster size.
    Bench(bench::BenchArgs),
    /// Score detectors on labelled benchmarks.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Eval(cmd) = cli.command {
        return eval::run(cmd);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Demo(args) => rt.block_on(demo::run(args)),
        Command::Bench(args) => rt.block_on(bench::run(args)),
        Command::Eval(_) => Ok(()),
    }
}
