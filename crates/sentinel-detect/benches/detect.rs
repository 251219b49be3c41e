//! The streaming detector set through the engine, and the plain sum over the
//! same readings (the practical limit), per reading.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sentinel_detect::bench;
use sentinel_model::Timestamp;

fn streaming_set(c: &mut Criterion) {
    let (series, samples) = (500, 400);
    let data = bench::workload(series, samples);
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements((series * samples) as u64));
    g.bench_function("streaming_set", |b| {
        b.iter_batched(
            || bench::engine(series),
            |(mut engine, ids)| {
                bench::run_engine(&mut engine, &ids, &data, Timestamp(1_700_000_000_000))
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("sum_loop", |b| {
        b.iter(|| bench::sum_loop(std::hint::black_box(&data)))
    });
    g.finish();
}

criterion_group!(benches, streaming_set);
criterion_main!(benches);
