//! Charts for reports, drawn by plotters into an SVG string: the series,
//! its expected band and threshold when the rule has them, and a marker at
//! each state change. Text is laid out by the SVG viewer, so no font files
//! are read.

use plotters::prelude::*;
use sentinel_model::{Timestamp, num};

/// What one chart shows.
#[derive(Debug, Clone, Default)]
pub struct ChartSpec {
    pub title: String,
    pub points: Vec<(Timestamp, f64)>,
    pub band: Option<(f64, f64)>,
    pub threshold: Option<f64>,
    /// Instants worth a vertical line (pending, firing, resolved, onset).
    pub markers: Vec<(Timestamp, String)>,
}

pub const WIDTH: u32 = 720;
pub const HEIGHT: u32 = 220;
/// Points drawn at most; longer series are thinned evenly (every reading
/// that was a local extreme of its bucket is kept).
const MAX_POINTS: usize = 720;

const LINE: RGBColor = RGBColor(0x25, 0x63, 0xeb);
const BAND: RGBColor = RGBColor(0x94, 0xa3, 0xb8);
const LIMIT: RGBColor = RGBColor(0xdc, 0x26, 0x26);
const MARK: RGBColor = RGBColor(0xd9, 0x77, 0x06);
const GRID: RGBColor = RGBColor(0xe5, 0xe7, 0xeb);
const TEXT: RGBColor = RGBColor(0x37, 0x41, 0x51);

/// `HH:MM`, or `HH:MM:SS` when `seconds`, in UTC.
pub fn clock(t: Timestamp, seconds: bool) -> String {
    let secs = t.millis().div_euclid(1000).rem_euclid(24 * 3600);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if seconds {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}")
    }
}

/// Min and max of each bucket, in time order.
fn thin(points: &[(Timestamp, f64)]) -> Vec<(i64, f64)> {
    let finite = points.iter().filter(|p| p.1.is_finite());
    if points.len() <= MAX_POINTS {
        return finite.map(|p| (p.0.millis(), p.1)).collect();
    }
    let per = points.len().div_ceil(MAX_POINTS / 2);
    let mut out = Vec::with_capacity(MAX_POINTS);
    for bucket in points.chunks(per) {
        let mut lo: Option<&(Timestamp, f64)> = None;
        let mut hi: Option<&(Timestamp, f64)> = None;
        for p in bucket.iter().filter(|p| p.1.is_finite()) {
            if lo.is_none_or(|l| p.1 < l.1) {
                lo = Some(p);
            }
            if hi.is_none_or(|h| p.1 > h.1) {
                hi = Some(p);
            }
        }
        let mut pair: Vec<_> = lo.into_iter().chain(hi).collect();
        pair.sort_by_key(|p| p.0);
        pair.dedup_by_key(|p| p.0);
        out.extend(pair.into_iter().map(|p| (p.0.millis(), p.1)));
    }
    out
}

/// The chart as an `<svg>` element, or `None` when there is nothing to draw.
pub fn svg(spec: &ChartSpec) -> Option<String> {
    let pts = thin(&spec.points);
    if pts.is_empty() {
        return None;
    }
    let mut buf = String::new();
    draw(&mut buf, spec, &pts)?;
    Some(buf)
}

fn draw(buf: &mut String, spec: &ChartSpec, pts: &[(i64, f64)]) -> Option<()> {
    let from = pts.iter().map(|p| p.0).min()?;
    let to = pts.iter().map(|p| p.0).max()?.max(from + 60_000);
    let mut lo = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let mut hi = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    for v in spec
        .band
        .iter()
        .flat_map(|b| [b.0, b.1])
        .chain(spec.threshold)
        .filter(|v| v.is_finite() && v.abs() < f64::MAX)
    {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs().max(1.0) * 1e-3);
    let (lo, hi) = (lo - pad, hi + pad);

    // Six labels over less than an hour would repeat minutes.
    let seconds = to - from < 3_600_000;
    let root = SVGBackend::with_string(buf, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).ok()?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&spec.title, ("sans-serif", 13).into_font().color(&TEXT))
        .margin(8)
        .x_label_area_size(22)
        .y_label_area_size(64)
        .build_cartesian_2d(from..to, lo..hi)
        .ok()?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&|t| clock(Timestamp(*t), seconds))
        .y_label_formatter(&|v| num(*v))
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .label_style(("sans-serif", 11).into_font().color(&TEXT))
        .draw()
        .ok()?;
    if let Some((a, b)) = spec.band.filter(|b| b.0.is_finite() && b.1.is_finite()) {
        let (a, b) = (a.clamp(lo, hi), b.clamp(lo, hi));
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(from, a), (to, b)],
                BAND.mix(0.2).filled(),
            )))
            .ok()?;
    }
    if let Some(t) = spec
        .threshold
        .filter(|t| t.is_finite() && (lo..=hi).contains(t))
    {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(from, t), (to, t)],
                LIMIT.stroke_width(1),
            )))
            .ok()?;
    }
    chart
        .draw_series(LineSeries::new(pts.iter().copied(), LINE.stroke_width(2)))
        .ok()?;
    let font = ("sans-serif", 10).into_font().color(&MARK);
    for (at, label) in &spec.markers {
        let t = at.millis();
        if !(from..=to).contains(&t) {
            continue;
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(t, lo), (t, hi)],
                MARK.stroke_width(1),
            )))
            .ok()?;
        let (x, y) = chart.backend_coord(&(t, hi));
        root.draw(&Text::new(label.clone(), (x + 3, y + 2), font.clone()))
            .ok()?;
    }
    root.present().ok()?;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: i64) -> Vec<(Timestamp, f64)> {
        (0..n)
            .map(|i| (Timestamp(i * 15_000), (i % 40) as f64))
            .collect()
    }

    #[test]
    fn draws_the_series_threshold_band_and_markers() {
        let spec = ChartSpec {
            title: "cpu on shop/api".into(),
            points: series(100),
            band: Some((5.0, 20.0)),
            threshold: Some(30.0),
            markers: vec![(Timestamp(600_000), "firing".into())],
        };
        let svg = svg(&spec).unwrap_or_default();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.contains("cpu on shop/api"));
        assert!(
            svg.contains(">\nfiring\n</text>"),
            "the marker's label is drawn"
        );
        let clocks = svg
            .lines()
            .filter(|l| l.len() == 8 && l.as_bytes()[5] == b':' && l.starts_with("00:"))
            .count();
        assert!(clocks >= 3, "clock labels on the time axis: {clocks}");
        // The line, the threshold and the marker are paths or polylines.
        assert!(svg.matches("<polyline").count() + svg.matches("<path").count() >= 3);
    }

    #[test]
    fn nothing_to_draw_is_none_and_long_series_are_thinned() {
        assert!(svg(&ChartSpec::default()).is_none());
        let nan = ChartSpec {
            points: vec![(Timestamp(0), f64::NAN)],
            ..ChartSpec::default()
        };
        assert!(svg(&nan).is_none());
        let long = series(20_000);
        let thinned = thin(&long);
        assert!(thinned.len() <= MAX_POINTS, "{}", thinned.len());
        // Extremes survive thinning.
        assert!(thinned.iter().any(|p| p.1 == 39.0));
        assert!(thinned.iter().any(|p| p.1 == 0.0));
        assert!(thinned.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
