//! The Numenta Anomaly Benchmark scorer (NAB v1.1), exactly as the official
//! sweeper computes it: a probationary period, labelled windows, a scaled
//! sigmoid reward for early detection, a penalty for each false positive that
//! fades right after a window, one global threshold per profile chosen to
//! maximise the corpus score, and normalisation between the null and the
//! perfect detector.
//!
//! Pure: callers read the files and pass rows and window row ranges.

use serde::Serialize;

/// A cost profile.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Profile {
    pub name: &'static str,
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
}

impl Profile {
    pub const STANDARD: Profile = Profile {
        name: "standard",
        tp: 1.0,
        fp: 0.11,
        fn_: 1.0,
    };
    pub const LOW_FP: Profile = Profile {
        name: "reward_low_FP",
        tp: 1.0,
        fp: 0.22,
        fn_: 1.0,
    };
    pub const LOW_FN: Profile = Profile {
        name: "reward_low_FN",
        tp: 1.0,
        fp: 0.11,
        fn_: 2.0,
    };
    pub const ALL: [Profile; 3] = [Self::STANDARD, Self::LOW_FP, Self::LOW_FN];

    pub fn by_name(name: &str) -> Option<Profile> {
        let n = name.to_ascii_lowercase();
        Self::ALL.into_iter().find(|p| {
            p.name.eq_ignore_ascii_case(&n) || format!("{}_rate", p.name).eq_ignore_ascii_case(&n)
        })
    }
}

/// One scored file: anomaly scores per row and the labelled windows as
/// inclusive row ranges, sorted and disjoint.
#[derive(Clone, Debug)]
pub struct FileScores {
    pub name: String,
    pub scores: Vec<f64>,
    pub windows: Vec<(usize, usize)>,
}

/// `2 / (1 + e^(5x)) - 1`.
pub fn scaled_sigmoid(x: f64) -> f64 {
    if x > 3.0 {
        // The official scorer clamps here to avoid overflow.
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * x).exp()) - 1.0
    }
}

/// Rows at the start of a file that are neither rewarded nor penalised.
pub fn probation_rows(rows: usize) -> usize {
    ((0.15 * rows as f64).floor() as usize).min(750)
}

/// A scorable row: its anomaly score, its unweighted sweep value and the
/// window it falls in.
#[derive(Clone, Copy, Debug)]
struct Point {
    score: f64,
    sweep: f64,
    window: Option<usize>,
}

/// The official `calcSweepScore`: one point per row after probation.
fn sweep_points(file: &FileScores, window_base: usize, out: &mut Vec<Point>) {
    let max_tp = scaled_sigmoid(-1.0);
    let probation = probation_rows(file.scores.len());
    let mut next = 0; // next window to enter
    let mut cur: Option<(usize, f64, usize)> = None; // (right, width, id)
    let mut prev: Option<(usize, f64)> = None; // (right, width)
    for (i, &score) in file.scores.iter().enumerate() {
        if cur.is_none()
            && let Some(&(l, r)) = file.windows.get(next)
            && i == l
        {
            cur = Some((r, (r - l + 1) as f64, window_base + next));
            next += 1;
        }
        let (sweep, window) = match cur {
            Some((right, width, id)) => {
                let position = -((right as f64) - i as f64 + 1.0) / width;
                (scaled_sigmoid(position) / max_tp, Some(id))
            }
            None => match prev {
                None => (-1.0, None),
                Some((right, width)) => {
                    let past = (right as f64 - i as f64).abs() / (width - 1.0);
                    (scaled_sigmoid(past), None)
                }
            },
        };
        if i >= probation {
            out.push(Point {
                score,
                sweep,
                window,
            });
        }
        if let Some((right, width, _)) = cur
            && i == right
        {
            prev = Some((right, width));
            cur = None;
        }
    }
}

/// Counts and score of one detector at one threshold.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Tally {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub tn: usize,
    pub windows: usize,
    pub detected: usize,
    pub raw: f64,
}

/// The score of one profile over a corpus.
#[derive(Clone, Debug, Serialize)]
pub struct ProfileResult {
    pub profile: Profile,
    pub threshold: f64,
    pub raw: f64,
    pub null: f64,
    pub perfect: f64,
    pub normalized: f64,
    pub total: Tally,
    pub files: Vec<(String, Tally)>,
}

/// Windows that keep at least one scorable row (the official scorer drops
/// windows that lie wholly inside the probationary period).
fn scorable_windows(file: &FileScores) -> usize {
    let probation = probation_rows(file.scores.len());
    file.windows
        .iter()
        .filter(|&&(_, r)| r >= probation)
        .count()
}

/// Score `points` (of one or many files) at `threshold`.
fn tally(points: &[Point], windows: usize, profile: &Profile, threshold: f64) -> Tally {
    let mut best = std::collections::HashMap::<usize, f64>::new();
    let mut t = Tally {
        windows,
        ..Tally::default()
    };
    let mut fp_score = 0.0;
    for p in points {
        let hit = p.score >= threshold;
        match (p.window, hit) {
            (Some(w), true) => {
                t.tp += 1;
                let e = best.entry(w).or_insert(f64::NEG_INFINITY);
                *e = e.max(p.sweep);
            }
            (Some(_), false) => t.fn_ += 1,
            (None, true) => {
                t.fp += 1;
                fp_score += p.sweep * profile.fp;
            }
            (None, false) => t.tn += 1,
        }
    }
    t.detected = best.len();
    let tp_score: f64 = best.values().map(|s| s * profile.tp).sum();
    t.raw = tp_score + fp_score - (windows - t.detected) as f64 * profile.fn_;
    t
}

/// Score a corpus under one profile with the best global threshold.
pub fn score(files: &[FileScores], profile: Profile) -> ProfileResult {
    let mut per_file = Vec::with_capacity(files.len());
    let mut all = Vec::new();
    let mut base = 0;
    let mut windows = 0;
    for f in files {
        let mut pts = Vec::new();
        sweep_points(f, base, &mut pts);
        base += f.windows.len();
        let w = scorable_windows(f);
        windows += w;
        all.extend_from_slice(&pts);
        per_file.push((f.name.clone(), pts, w));
    }
    let threshold = best_threshold(&mut all.clone(), windows, &profile);
    let total = tally(&all, windows, &profile, threshold);
    let null = -(windows as f64) * profile.fn_;
    let perfect = windows as f64 * profile.tp;
    let normalized = if perfect > null {
        100.0 * (total.raw - null) / (perfect - null)
    } else {
        0.0
    };
    ProfileResult {
        profile,
        threshold,
        raw: total.raw,
        null,
        perfect,
        normalized,
        files: per_file
            .iter()
            .map(|(name, pts, w)| (name.clone(), tally(pts, *w, &profile, threshold)))
            .collect(),
        total,
    }
}

/// Sweep every distinct score from high to low, keeping the running corpus
/// score, and return the threshold with the highest. Ties keep the higher
/// threshold; never firing (threshold above every score) is a candidate.
fn best_threshold(points: &mut [Point], windows: usize, profile: &Profile) -> f64 {
    points.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut best_window = std::collections::HashMap::<usize, f64>::new();
    let mut tp_score = 0.0;
    let mut fp_score = 0.0;
    let null = -(windows as f64) * profile.fn_;
    let mut best = (null, f64::INFINITY);
    let mut i = 0;
    while i < points.len() {
        let threshold = points[i].score;
        while i < points.len() && points[i].score == threshold {
            let p = points[i];
            match p.window {
                Some(w) => {
                    let s = p.sweep * profile.tp;
                    match best_window.get_mut(&w) {
                        Some(b) if s > *b => {
                            tp_score += s - *b;
                            *b = s;
                        }
                        Some(_) => {}
                        None => {
                            tp_score += s;
                            best_window.insert(w, s);
                        }
                    }
                }
                None => fp_score += p.sweep * profile.fp,
            }
            i += 1;
        }
        if threshold.is_nan() {
            continue;
        }
        let raw = tp_score + fp_score - (windows - best_window.len()) as f64 * profile.fn_;
        if raw > best.0 {
            best = (raw, threshold);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(n: usize, windows: Vec<(usize, usize)>, scores: impl Fn(usize) -> f64) -> FileScores {
        FileScores {
            name: "f.csv".into(),
            scores: (0..n).map(scores).collect(),
            windows,
        }
    }

    #[test]
    fn perfect_detector_scores_100_and_null_scores_0_on_every_profile() {
        let windows = vec![(300, 339), (600, 639), (900, 939)];
        let starts: Vec<usize> = windows.iter().map(|w| w.0).collect();
        let perfect = file(1000, windows.clone(), |i| {
            if starts.contains(&i) { 1.0 } else { 0.0 }
        });
        let null = file(1000, windows.clone(), |_| 0.5);
        for p in Profile::ALL {
            let r = score(std::slice::from_ref(&perfect), p);
            assert!(
                (r.normalized - 100.0).abs() < 1e-9,
                "{p:?}: {}",
                r.normalized
            );
            assert_eq!(r.total.detected, 3);
            let r = score(std::slice::from_ref(&null), p);
            assert!(r.normalized.abs() < 1e-9, "{p:?}: {}", r.normalized);
        }
    }

    #[test]
    fn late_detection_earns_less_and_false_positives_cost_by_position() {
        // A 1000-row file (probation 150) with one window of 100 rows.
        let w = vec![(400, 499)];
        let early = tally_at(&file(1000, w.clone(), |i| (i == 400) as u8 as f64));
        let middle = tally_at(&file(1000, w.clone(), |i| (i == 450) as u8 as f64));
        assert!((early - 1.0).abs() < 1e-12);
        // The official position: -(R - i + 1) / W = -(499 - 450 + 1) / 100.
        let expect = scaled_sigmoid(-50.0 / 100.0) / scaled_sigmoid(-1.0);
        assert!((middle - expect).abs() < 1e-12, "{middle} vs {expect}");
        // Before any window: the full penalty; just after one: nearly none;
        // far after it: the full penalty again.
        let before = tally_at(&file(1000, w.clone(), |i| {
            (i == 200 || i == 400) as u8 as f64
        }));
        assert!((before - (1.0 - 0.11)).abs() < 1e-12, "{before}");
        let after = tally_at(&file(1000, w.clone(), |i| {
            (i == 400 || i == 500) as u8 as f64
        }));
        let penalty = 0.11 * scaled_sigmoid(1.0 / 99.0);
        assert!((after - (1.0 + penalty)).abs() < 1e-12, "{after}");
        assert!(penalty < 0.0 && penalty > -0.02);
        let far = tally_at(&file(1000, w, |i| (i == 400 || i == 990) as u8 as f64));
        assert!(far < 1.0 - 0.10, "{far}");
    }

    #[test]
    fn probation_rows_count_for_nothing() {
        let w = vec![(400, 499)];
        // A detection in the first 150 rows costs nothing.
        let r = tally_at(&file(1000, w, |i| (i == 10 || i == 400) as u8 as f64));
        assert!((r - 1.0).abs() < 1e-12);
        assert_eq!(probation_rows(10_000), 750);
        assert_eq!(probation_rows(1000), 150);
    }

    #[test]
    fn one_threshold_for_the_whole_corpus() {
        // File a rewards threshold 0.9; file b punishes anything under 0.95.
        let a = file(1000, vec![(400, 499)], |i| if i == 400 { 0.9 } else { 0.0 });
        let b = file(1000, vec![(400, 499)], |i| match i {
            400 => 0.96,
            200..=260 => 0.8,
            _ => 0.0,
        });
        let r = score(&[a, b], Profile::STANDARD);
        assert_eq!(r.threshold, 0.9);
        assert_eq!(r.total.detected, 2);
        assert!((r.raw - 2.0).abs() < 1e-12);
        assert_eq!(r.files.len(), 2);
    }

    #[test]
    fn profiles_are_found_by_official_names() {
        assert_eq!(
            Profile::by_name("reward_low_FP_rate"),
            Some(Profile::LOW_FP)
        );
        assert_eq!(Profile::by_name("standard"), Some(Profile::STANDARD));
        assert_eq!(Profile::by_name("reward_low_fn"), Some(Profile::LOW_FN));
        assert_eq!(Profile::by_name("other"), None);
    }

    fn tally_at(f: &FileScores) -> f64 {
        let mut pts = Vec::new();
        sweep_points(f, 0, &mut pts);
        tally(&pts, scorable_windows(f), &Profile::STANDARD, 1.0).raw
    }
}
