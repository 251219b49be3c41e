//! Durations on the command line: `500ms`, `30s`, `2m`, `1h`.

pub fn parse(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30s, 500ms or 2m"))?;
    let ms = match unit {
        "ms" => n,
        "s" | "" => n * 1000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        _ => return Err(format!("`{unit}` is not a unit: use ms, s, m or h")),
    };
    Ok(std::time::Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_units_and_rejects_garbage() {
        assert_eq!(parse("30s").unwrap().as_secs(), 30);
        assert_eq!(parse("500ms").unwrap().as_millis(), 500);
        assert_eq!(parse("2m").unwrap().as_secs(), 120);
        assert!(parse("abc").is_err());
        assert!(parse("5 parsecs").is_err());
    }
}
