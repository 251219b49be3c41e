//! `sentinel bench`: numbers for the backend's cost per poll at a size.

use std::time::{Duration, Instant};

use clap::Args;
use sentinel_model::Timestamp;
use sentinel_protocol::PodQuery;
use sentinel_runtime::{DemoConfig, Runtime};
use sentinel_sim::{Sim, SimConfig};

#[derive(Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 10_000)]
    pods: usize,
    /// Simulated polls to time.
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// Record into this history file (a new one) and report the ingest
    /// rate: the 15-minute backfill, written while the loop runs.
    #[arg(long)]
    db: Option<std::path::PathBuf>,
}

fn rss_mib() -> f64 {
    sentinel_runtime::procmem::tree_rss_bytes(std::process::id())
        .map_or(f64::NAN, |b| b as f64 / (1 << 20) as f64)
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let t0 = Timestamp(1_700_000_000_000);
    let mut sim = Sim::new(
        SimConfig {
            seed: 1,
            pods: args.pods,
        },
        t0,
    );
    let started = Instant::now();
    for i in 1..=args.steps {
        std::hint::black_box(sim.step(Timestamp(t0.millis() + i as i64 * 2000)));
    }
    let per_step = started.elapsed() / args.steps.max(1) as u32;
    println!(
        "sim.step            pods={:<6} {:>8.2} ms/poll",
        args.pods,
        per_step.as_secs_f64() * 1e3
    );

    // The whole backend: 15 minutes of backfill, then live polls.
    let started = Instant::now();
    let config = DemoConfig {
        sim: SimConfig {
            seed: 1,
            pods: args.pods,
        },
        interval: Duration::from_millis(500),
        ..DemoConfig::default()
    };
    let mut builder = Runtime::demo(config);
    if let Some(path) = &args.db {
        anyhow::ensure!(!path.exists(), "{} exists; give a new file", path.display());
        let opened = sentinel_store::Store::open(path, t0).await?;
        builder = builder.history(opened.store);
    }
    let rt = builder.start();
    let first = rt.wait_for(|s| s.data_at.is_some()).await?;
    println!(
        "backfill 15m        pods={:<6} {:>8.2} s to first data",
        args.pods,
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.db {
        // The writer has everything of the backfill once "saved" reaches its end.
        let end = first.data_at;
        rt.wait_for(move |s| s.saved_through.is_some() && s.saved_through >= end)
            .await?;
        let took = started.elapsed().as_secs_f64();
        let store = sentinel_store::Store::open_read_only(path).await?;
        let stats = store.stats().await?;
        store.close().await;
        println!(
            "recorded backfill   pods={:<6} {:>8.2} s, {} samples, {:.2} M samples/s, {:.2} B/sample",
            args.pods,
            took,
            stats.samples,
            stats.samples as f64 / took / 1e6,
            stats.bytes_per_sample
        );
    }
    let snap = rt.snapshot();
    let started = Instant::now();
    let n = 20;
    for _ in 0..n {
        std::hint::black_box(sentinel_service::overview(&snap, None));
    }
    println!(
        "overview build      pods={:<6} {:>8.2} ms",
        args.pods,
        started.elapsed().as_secs_f64() * 1e3 / n as f64
    );
    let filtered = PodQuery {
        text: "api".into(),
        sort: sentinel_protocol::PodSort::Cpu,
        descending: true,
        ..PodQuery::default()
    };
    // The default: the page the dashboard asks for at every update, every
    // pod by namespace and then name as people read it.
    for (label, q) in [
        ("pods page (filter+sort)", filtered),
        ("pods page (default)    ", PodQuery::default()),
    ] {
        let started = Instant::now();
        for _ in 0..n {
            std::hint::black_box(
                sentinel_service::list_pods(&snap, &q).map_err(|e| anyhow::anyhow!(e))?,
            );
        }
        println!(
            "{label} pods={:<6} {:>6.2} ms",
            args.pods,
            started.elapsed().as_secs_f64() * 1e3 / n as f64
        );
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!(
        "rss after 3s live   pods={:<6} {:>8.1} MiB",
        args.pods,
        rss_mib()
    );
    Ok(())
}
