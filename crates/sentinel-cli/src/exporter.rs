//! `sentinel exporter`: the demo cluster's metrics over HTTP in the Prometheus
//! text format, so a real Prometheus can scrape a simulated cluster
//! (kube-state-metrics, cAdvisor and kubelet names and labels).

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use sentinel_runtime::{Clock, SystemClock};
use sentinel_sim::exposition::Exposition;
use sentinel_sim::{Sim, SimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Args)]
pub struct ExporterArgs {
    /// Address to serve `/metrics` on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:9110")]
    listen: String,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of pods (40 to 10000).
    #[arg(long, default_value_t = sentinel_sim::DEFAULT_PODS)]
    pods: usize,
    /// How often the simulated cluster steps.
    #[arg(long, default_value = "2s", value_parser = crate::duration::parse)]
    interval: Duration,
    /// Where in the demo's 20-minute incident loop to begin, in seconds.
    #[arg(long, default_value_t = 690)]
    loop_at: i64,
    /// Instead of serving, write this much history ending now as
    /// OpenMetrics with timestamps to --openmetrics, for `promtool tsdb
    /// create-blocks-from openmetrics` (e.g. 2h).
    #[arg(long, value_parser = crate::duration::parse, requires = "openmetrics")]
    history: Option<Duration>,
    /// The file --history writes.
    #[arg(long, requires = "history")]
    openmetrics: Option<std::path::PathBuf>,
}

pub async fn run(args: ExporterArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (sentinel_sim::DEFAULT_PODS..=sentinel_sim::MAX_PODS).contains(&args.pods),
        "--pods must be between {} and {}",
        sentinel_sim::DEFAULT_PODS,
        sentinel_sim::MAX_PODS
    );
    if let (Some(history), Some(path)) = (args.history, &args.openmetrics) {
        return write_history(&args, history, path);
    }
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    // The first line tells scripts where we listen (port 0 picks one).
    println!("listening on {}", listener.local_addr()?);
    let clock = SystemClock;
    let config = SimConfig {
        seed: args.seed,
        pods: args.pods,
    };
    // The minutes of the loop before `--loop-at` are lived in coarse steps:
    // at 10,000 pods, up to 80 instead of 600 before the first scrape.
    let step = sentinel_model::Duration(i64::try_from(args.interval.as_millis()).unwrap_or(2000))
        .max(sentinel_model::Duration::from_secs(15));
    let mut sim = Sim::in_loop(config, clock.now(), args.loop_at, step);
    let mut exposition = Exposition::new();
    let frame = sim.step(clock.now());
    exposition.observe(&frame);
    let (tx, rx) = watch::channel(Arc::new(exposition.render(&frame)));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(args.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let frame = sim.step(clock.now());
            exposition.observe(&frame);
            if tx.send(Arc::new(exposition.render(&frame))).is_err() {
                return;
            }
        }
    });
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let body = Arc::clone(&rx.borrow());
                tokio::spawn(async move {
                    let _ = serve(stream, &body).await;
                });
            }
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// One request per connection: `GET /metrics` gets the scrape, anything
/// else a 404. The request head is capped at 16 KiB.
/// The history ending now (aligned to the interval), written as OpenMetrics.
fn write_history(
    args: &ExporterArgs,
    history: Duration,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let step = sentinel_model::Duration(
        i64::try_from(args.interval.as_millis())
            .unwrap_or(i64::MAX)
            .max(1000),
    );
    let span = sentinel_model::Duration(i64::try_from(history.as_millis()).unwrap_or(i64::MAX));
    let now = SystemClock.now();
    let end = sentinel_model::Timestamp(now.millis() / step.millis() * step.millis());
    let start = end.saturating_sub(span);
    let config = SimConfig {
        seed: args.seed,
        pods: args.pods,
    };
    let frames = sentinel_sim::openmetrics::frames(config, start, end, step, args.loop_at);
    let text = sentinel_sim::openmetrics::history(&frames);
    std::fs::write(path, &text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    println!(
        "wrote {} steps ({} bytes) from {} to {} into {}",
        frames.len(),
        text.len(),
        start.millis(),
        end.millis(),
        path.display()
    );
    Ok(())
}

async fn serve(mut stream: TcpStream, body: &str) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        if n == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    let path = line.split(|b| *b == b' ').nth(1).unwrap_or_default();
    let (status, ctype, body) = if path == b"/metrics" || path.starts_with(b"/metrics?") {
        ("200 OK", "text/plain; version=0.0.4; charset=utf-8", body)
    } else {
        ("404 Not Found", "text/plain", "not found\n")
    };
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}
