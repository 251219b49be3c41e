//! Any bytes as an Alertmanager v2 answer: alerts and silences.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_prom::alertmanager;

fuzz_target!(|data: &[u8]| {
    let _ = alertmanager::parse_alerts("http://fuzz", data);
    let _ = alertmanager::parse_silences("http://fuzz", data);
});
