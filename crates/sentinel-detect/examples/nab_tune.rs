//! Score detectors on a NAB directory quickly while tuning:
//! `cargo run --release -p sentinel-detect --example nab_tune -- DIR [NAME]`.

use sentinel_detect::eval::{corpus, nab, scorers};

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: nab_tune DIR [NAME]")?);
    let name = args.next().unwrap_or_else(|| scorers::DEFAULT.to_string());
    let read = |p: std::path::PathBuf| {
        std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
    };
    let windows = corpus::parse_windows(&read(dir.join("labels/combined_windows.json"))?)?;
    let mut files = Vec::new();
    for (file, ws) in &windows {
        let s = corpus::parse_series(&read(dir.join("data").join(file))?)?;
        let mut d = scorers::by_name(&name)?;
        let scores = s
            .values
            .iter()
            .zip(&s.timestamps)
            .map(|(&v, t)| d.score(t.millis(), v))
            .collect();
        files.push(nab::FileScores {
            name: file.clone(),
            scores,
            windows: corpus::window_rows(&s.timestamps, ws),
        });
    }
    if std::env::var("WINDOWS").is_ok() {
        for f in &files {
            let prob = nab::probation_rows(f.scores.len());
            let mut outside = 0.0f64;
            let mut ends = vec![0usize; f.scores.len()];
            for &(l, r) in &f.windows {
                for e in &mut ends[l..=r] {
                    *e = 1;
                }
            }
            for (i, s) in f.scores.iter().enumerate() {
                if i >= prob && ends[i] == 0 {
                    outside = outside.max(*s);
                }
            }
            let ws: Vec<String> = f
                .windows
                .iter()
                .map(|&(l, r)| {
                    let (bi, bs) = (l..=r)
                        .map(|i| (i, f.scores[i]))
                        .fold((l, -1.0), |a, b| if b.1 > a.1 { b } else { a });
                    format!("[{l}-{r}] max {bs:.3} @{:+}", bi as i64 - l as i64)
                })
                .collect();
            println!("{:<50} out {outside:.3} {}", f.name, ws.join(" "));
        }
    }
    for p in nab::Profile::ALL {
        let r = nab::score(&files, p);
        println!(
            "{:<14} {:>7.2}  thr {:.4}  tp {} fp {} detected {}/{}",
            p.name,
            r.normalized,
            r.threshold,
            r.total.tp,
            r.total.fp,
            r.total.detected,
            r.total.windows
        );
        if p == nab::Profile::STANDARD && std::env::var("DETAIL").is_ok() {
            for (f, t) in &r.files {
                println!(
                    "   {f:<55} raw {:>7.3} det {}/{} fp {}",
                    t.raw, t.detected, t.windows, t.fp
                );
            }
        }
    }
    Ok(())
}
