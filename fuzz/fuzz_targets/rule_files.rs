//! Any text as a rule file (Sentinel's format or Prometheus'), as PromQL,
//! and the export of whatever loads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_detect::promrules;
use sentinel_model::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = promrules::parse_promql(text);
    if let Ok(got) = promrules::load(text) {
        let out = promrules::export(&got.rules, Duration::from_secs(5));
        // What is exported imports again without error.
        let _ = promrules::import(&out.yaml).expect("an exported file imports");
        let _ = sentinel_detect::Engine::new(got.rules);
    }
});
