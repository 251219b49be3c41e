//! How numbers read on screen: bytes, cores, percents, ages, clock times.

pub fn bytes(b: f64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if b >= 1024.0 * MIB {
        format!("{:.1} GiB", b / (1024.0 * MIB))
    } else {
        format!("{:.0} MiB", b / MIB)
    }
}

/// CPU as `kubectl top` prints it, in millicores whatever the size: a
/// column of `267m` and `6.40` read as if the 6.40 were the smaller.
pub fn cores(c: f64) -> String {
    format!("{:.0}m", c * 1000.0)
}

pub fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "–".to_string(), f)
}

pub fn pct(v: f64) -> String {
    format!("{v:.1}%")
}

/// `45s`, `12m`, `3h`, `5d`, like kubectl's AGE column.
pub fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d", s / 86_400),
    }
}

/// Local wall-clock `HH:MM` (or `HH:MM:SS`) of a Unix-millis instant.
pub fn clock(ms: i64, seconds: bool) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    if seconds {
        format!(
            "{:02}:{:02}:{:02}",
            d.get_hours(),
            d.get_minutes(),
            d.get_seconds()
        )
    } else {
        format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
    }
}

/// Local `YYYY-MM-DD HH:MM` of a Unix-millis instant.
pub fn date_time(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

pub fn unit_value(unit: sentinel_protocol::Unit, v: f64) -> String {
    use sentinel_protocol::Unit;
    match unit {
        Unit::Percent => pct(v),
        Unit::PerSecond => format!("{}/s", compact(v)),
        Unit::Milliseconds => format!("{v:.0} ms"),
        Unit::Cores => cores(v),
        Unit::Bytes => bytes(v),
    }
}

/// `950`, `12.4k`, `3.1M`: numbers that fit an axis label.
pub fn compact(v: f64) -> String {
    match v.abs() {
        a if a >= 1e6 => format!("{:.1}M", v / 1e6),
        a if a >= 1e4 => format!("{:.0}k", v / 1e3),
        a if a >= 1e3 => format!("{:.1}k", v / 1e3),
        a if a >= 100.0 => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    }
}

/// A dashboard series' short name.
pub fn metric_title(metric: &str) -> &'static str {
    match metric {
        "cluster_cpu_percent" => "CPU %",
        "cluster_memory_percent" => "Memory %",
        "cluster_request_rate" => "Requests/s",
        "cluster_error_percent" => "Errors %",
        "cluster_latency_p95_ms" => "p95 ms",
        _ => "",
    }
}
