//! `sentinel bench poll` and `sentinel bench parse`: what a live poll of the
//! dashboard's query set costs, and how fast Prometheus JSON parses.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use clap::Args;
use sentinel_model::Timestamp;
use sentinel_prom::dashboard;
use sentinel_prom::{Endpoint, Prometheus};
use sentinel_runtime::{Clock, SystemClock};

#[derive(Args)]
pub struct PollArgs {
    /// The Prometheus to poll (e.g. from `scripts/stack.sh up --pods 10000`).
    #[arg(long)]
    prometheus: String,
    /// Polls to time (each covers one new step).
    #[arg(long, default_value_t = 10)]
    polls: u32,
    /// The grid step.
    #[arg(long, default_value = "2s", value_parser = crate::duration::parse)]
    step: Duration,
}

#[derive(Args)]
pub struct ParseArgs {
    /// Series in the synthetic range answer.
    #[arg(long, default_value_t = 10_000)]
    series: usize,
    /// Points per series.
    #[arg(long, default_value_t = 30)]
    points: usize,
}

/// CPU time (user + system) of this process, from /proc (10 ms ticks).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

pub async fn poll(args: PollArgs) -> anyhow::Result<()> {
    let mut e = Endpoint::new(&args.prometheus);
    e.timeout = Duration::from_secs(60);
    e.max_bytes = 512 << 20;
    let prom = Prometheus::new(e)?;
    let step = sentinel_model::Duration(i64::try_from(args.step.as_millis())?);
    let now = SystemClock.now();
    let end = Timestamp(now.millis() / step.millis() * step.millis());
    let mut wall = Duration::ZERO;
    let mut bytes = 0usize;
    let mut requests = 0usize;
    let mut pods = 0usize;
    let cpu0 = cpu_time();
    for i in 0..args.polls {
        // Each poll asks for one new step, as a steady-state live poll does.
        let at = Timestamp(end.millis() - i64::from(args.polls - 1 - i) * step.millis());
        let t = Instant::now();
        let p = dashboard::poll(&prom, at, at, step, &mut dashboard::Freshness::default()).await?;
        wall += t.elapsed();
        bytes += p.bytes;
        requests += p.requests;
        pods = p.pods.as_ref().map_or(0, Vec::len);
    }
    let cpu = cpu0.zip(cpu_time()).map(|(a, b)| b.saturating_sub(a));
    let n = f64::from(args.polls.max(1));
    println!(
        "poll (dashboard query set)  pods={pods:<6} {:>8.1} ms wall  {:>8.1} ms CPU  {:>8.2} MB  {} requests  per poll",
        wall.as_secs_f64() * 1e3 / n,
        cpu.map_or(f64::NAN, |c| c.as_secs_f64() * 1e3 / n),
        bytes as f64 / n / 1e6,
        requests as f64 / n
    );
    Ok(())
}

/// A range answer shaped like Prometheus' own: `series` pod series with
/// realistic labels and `points` samples each.
fn synthetic(series: usize, points: usize) -> String {
    let mut s = String::from(r#"{"status":"success","data":{"resultType":"matrix","result":["#);
    for i in 0..series {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"metric":{{"namespace":"ns-{}","pod":"checkout-7d9f8b6c5d-{:05}"}},"values":["#,
            i % 20,
            i
        );
        for j in 0..points {
            if j > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                r#"[{}.{:03},"{}"]"#,
                1_700_000_000 + j * 2,
                j % 1000,
                0.001 * ((i * 7 + j * 13) % 9973) as f64
            );
        }
        s.push_str("]}");
    }
    s.push_str("]}}");
    s
}

pub fn parse(args: ParseArgs) -> anyhow::Result<()> {
    let body = synthetic(args.series, args.points);
    let rounds = (200_000_000 / body.len().max(1)).clamp(3, 1000);
    let t = Instant::now();
    let mut samples = 0usize;
    for _ in 0..rounds {
        let data = sentinel_prom::parse::query("bench", body.as_bytes())?;
        samples += data
            .into_series()
            .iter()
            .map(|s| s.values.len())
            .sum::<usize>();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "parse Prometheus JSON  {} series x {} points ({:.1} MB): {:.0} MB/s, {:.1} M samples/s",
        args.series,
        args.points,
        body.len() as f64 / 1e6,
        body.len() as f64 * rounds as f64 / secs / 1e6,
        samples as f64 / secs / 1e6
    );
    Ok(())
}
