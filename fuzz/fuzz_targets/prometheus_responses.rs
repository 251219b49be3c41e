//! Any bytes as a Prometheus answer: the query parser, the dashboard's
//! assembly of usage and objects from it, and the other envelopes; and as
//! a Loki answer (a tail message, a range of streams).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_model::Timestamp;
use sentinel_prom::{dashboard, parse};

fuzz_target!(|data: &[u8]| {
    if let Ok(q) = parse::query("http://fuzz", data) {
        let series = q.into_series();
        let _ = dashboard::objects(&series, Timestamp(1_700_000_000_000));
        let _ = dashboard::assemble(vec![series.clone(); dashboard::RANGE_QUERIES.len()]);
    }
    let _ = parse::api_error(data);
    let _ = sentinel_prom::loki::parse_tail("ws://fuzz", data);
    let _ = sentinel_prom::loki::parse_range("http://fuzz", data);
    let _ = parse::envelope::<parse::Targets>("http://fuzz", data);
    let _ = parse::envelope::<parse::RuleGroups>("http://fuzz", data);
    let _ = parse::envelope::<parse::PromAlerts>("http://fuzz", data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse::parse_value(s);
    }
});
