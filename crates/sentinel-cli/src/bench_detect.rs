//! `sentinel bench detect`: samples per second through the default streaming
//! detector set, next to a plain sum over the same data.

use std::time::Instant;

use clap::Args;
use sentinel_detect::bench;
use sentinel_model::Timestamp;

#[derive(Args)]
pub struct DetectArgs {
    /// Series fed in each poll.
    #[arg(long, default_value_t = 2000)]
    series: usize,
    /// Readings per series.
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DetectArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.series > 0 && args.samples > 0,
        "--series and --samples must be positive"
    );
    let data = bench::workload(args.series, args.samples);
    let total = (args.series * args.samples) as f64;

    // Best of three for each, so a stray scheduler hiccup does not decide.
    let mut engine_s = f64::INFINITY;
    let mut findings = 0;
    for _ in 0..3 {
        let (mut engine, ids) = bench::engine(args.series);
        let t = Instant::now();
        findings = bench::run_engine(&mut engine, &ids, &data, Timestamp(1_700_000_000_000));
        engine_s = engine_s.min(t.elapsed().as_secs_f64());
    }
    let mut sum_s = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        std::hint::black_box(bench::sum_loop(std::hint::black_box(&data)));
        sum_s = sum_s.min(t.elapsed().as_secs_f64());
    }
    let mut floor_s = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        std::hint::black_box(bench::floor(std::hint::black_box(&data)));
        floor_s = floor_s.min(t.elapsed().as_secs_f64());
    }
    let per_core = total / engine_s;
    let sum_rate = total / sum_s;
    let floor_rate = total / floor_s;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "series": args.series,
                "samples": args.samples,
                "rules_per_series": 3,
                "findings": findings,
                "samples_per_sec_per_core": per_core,
                "sum_loop_samples_per_sec": sum_rate,
                "ratio_to_sum_loop": per_core / sum_rate,
                "floor_samples_per_sec": floor_rate,
                "floor_ratio_to_sum_loop": floor_rate / sum_rate,
                "ns_per_sample": 1e9 / per_core,
            })
        );
    } else {
        println!(
            "series {} × samples {} = {total:.0} readings, 3 rules per series, {findings} findings",
            args.series, args.samples
        );
        println!(
            "streaming set   {:>10.2} M samples/s/core  ({:.1} ns/sample)",
            per_core / 1e6,
            1e9 / per_core
        );
        println!(
            "hand-written    {:>10.2} M samples/s  (the same rules' arithmetic and nothing else)",
            floor_rate / 1e6
        );
        println!("plain f64 sum   {:>10.2} M samples/s", sum_rate / 1e6);
        println!(
            "ratio           {:>10.3}  (hand-written: {:.3})",
            per_core / sum_rate,
            floor_rate / sum_rate
        );
    }
    Ok(())
}
