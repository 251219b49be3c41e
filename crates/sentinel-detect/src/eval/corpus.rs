//! NAB's file formats, parsed from text (the caller reads the files).

use std::collections::BTreeMap;

use sentinel_model::Timestamp;

/// One data file: `timestamp,value` rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub timestamps: Vec<Timestamp>,
    /// The timestamps as written, for result files.
    pub raw_timestamps: Vec<String>,
    pub values: Vec<f64>,
}

/// Parse a NAB data file. Errors name the line.
pub fn parse_series(csv: &str) -> Result<Series, String> {
    let mut lines = csv.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim().starts_with("timestamp") => {}
        _ => return Err("line 1: expected a `timestamp,value` header".into()),
    }
    let mut s = Series {
        timestamps: Vec::new(),
        raw_timestamps: Vec::new(),
        values: Vec::new(),
    };
    for (i, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (t, v) = line
            .split_once(',')
            .ok_or_else(|| format!("line {}: expected `timestamp,value`", i + 1))?;
        let at =
            Timestamp::parse(t).ok_or_else(|| format!("line {}: bad timestamp {t:?}", i + 1))?;
        let value: f64 = v
            .trim()
            .parse()
            .map_err(|_| format!("line {}: bad value {v:?}", i + 1))?;
        s.timestamps.push(at);
        s.raw_timestamps.push(t.to_string());
        s.values.push(value);
    }
    Ok(s)
}

/// Parse `labels/combined_windows.json`: file → windows as instants.
pub fn parse_windows(json: &str) -> Result<BTreeMap<String, Vec<(Timestamp, Timestamp)>>, String> {
    let raw: BTreeMap<String, Vec<(String, String)>> =
        serde_json::from_str(json).map_err(|e| format!("windows: {e}"))?;
    raw.into_iter()
        .map(|(file, ws)| {
            let ws = ws
                .into_iter()
                .map(
                    |(a, b)| match (Timestamp::parse(&a), Timestamp::parse(&b)) {
                        (Some(a), Some(b)) if a <= b => Ok((a, b)),
                        _ => Err(format!("windows: {file}: bad window [{a:?}, {b:?}]")),
                    },
                )
                .collect::<Result<Vec<_>, String>>()?;
            Ok((file, ws))
        })
        .collect()
}

/// Windows as inclusive row ranges: from the first row at or after the
/// start to the last row at or before the end. Windows with no rows vanish.
pub fn window_rows(
    timestamps: &[Timestamp],
    windows: &[(Timestamp, Timestamp)],
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for &(a, b) in windows {
        let l = timestamps.partition_point(|t| *t < a);
        let r = timestamps.partition_point(|t| *t <= b);
        if r > l {
            out.push((l, r - 1));
        }
    }
    out
}

/// The label column of a result file: 1 inside a window.
pub fn labels(rows: usize, windows: &[(usize, usize)]) -> Vec<u8> {
    let mut l = vec![0; rows];
    for &(a, b) in windows {
        for x in &mut l[a..=b.min(rows.saturating_sub(1))] {
            *x = 1;
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nab_files_and_maps_windows_to_rows() {
        let csv = "timestamp,value\n2014-04-01 00:00:00,1.5\n2014-04-01 00:05:00,2\n2014-04-01 00:10:00,3\n";
        let s = parse_series(csv).unwrap();
        assert_eq!(s.values, vec![1.5, 2.0, 3.0]);
        let w = parse_windows(
            r#"{"a/b.csv": [["2014-04-01 00:05:00.000000", "2014-04-01 00:12:00.000000"]]}"#,
        )
        .unwrap();
        let rows = window_rows(&s.timestamps, &w["a/b.csv"]);
        assert_eq!(rows, vec![(1, 2)]);
        assert_eq!(labels(3, &rows), vec![0, 1, 1]);
    }

    #[test]
    fn bad_rows_are_named() {
        let e = parse_series("timestamp,value\n2014-04-01 00:00:00,x\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(parse_series("").is_err());
        assert!(parse_windows("{").is_err());
    }
}
