//! Live rolling charts drawn with plotters on a canvas: a time axis with
//! round clock labels, an auto-scaled value axis, hover values, and a clear
//! message instead of a silently empty chart.

use leptos::html::Canvas;
use leptos::prelude::*;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use sentinel_protocol::{Chart, Point, Unit};
use web_sys::HtmlCanvasElement;

use crate::app::Ui;
use crate::format;

const HEIGHT: u32 = 170;
const LEFT: i32 = 60; // margin (8) + value-axis labels (52)
const RIGHT: i32 = 12;
pub(crate) const BG: RGBColor = RGBColor(0x11, 0x18, 0x27);
pub(crate) const GRID: RGBColor = RGBColor(0x1f, 0x29, 0x37);
pub(crate) const TEXT: RGBColor = RGBColor(0x94, 0xa3, 0xb8);
pub(crate) const AXIS: RGBColor = RGBColor(0x33, 0x41, 0x55);

fn colour(id: &str) -> RGBColor {
    match id {
        "cpu" => RGBColor(0x38, 0xbd, 0xf8),
        "memory" => RGBColor(0xa7, 0x8b, 0xfa),
        "requests" => RGBColor(0x34, 0xd3, 0x99),
        "errors" => RGBColor(0xf8, 0x71, 0x71),
        _ => RGBColor(0xfb, 0xbf, 0x24),
    }
}

/// A "nice" top for the value axis: 1, 2, 2.5 or 5 times a power of ten.
fn nice_top(max: f64, unit: Unit) -> f64 {
    let floor = match unit {
        Unit::Percent => 1.0,
        Unit::Milliseconds => 10.0,
        _ => 1.0,
    };
    let m = (max * 1.15).max(floor);
    let p = 10f64.powf(m.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|k| k * p)
        .find(|v| *v >= m)
        .unwrap_or(m)
}

/// Round clock times across the window (every 1, 2, 5, 10, 15, 30 or 60
/// minutes), as many as fit at about 64 pixels per label.
fn time_ticks(from: i64, to: i64, plot_px: i32) -> Vec<i64> {
    let span = (to - from).max(1);
    let fit = i64::from((plot_px / 64).max(2));
    let step = [
        60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000,
    ]
    .into_iter()
    .find(|s| span / s <= fit)
    .unwrap_or(3_600_000);
    let first = from.div_euclid(step) * step + step;
    (0..)
        .map(|i| first + i * step)
        .take_while(|t| *t <= to)
        .collect()
}

fn draw(el: &HtmlCanvasElement, c: &Chart, at: i64) -> Option<()> {
    let width = u32::try_from(el.client_width()).unwrap_or(0).max(240);
    el.set_width(width);
    el.set_height(HEIGHT);
    let root = CanvasBackend::with_canvas_object(el.clone())?.into_drawing_area();
    root.fill(&BG).ok()?;
    let from = at - c.window_ms;
    let max = c.points.iter().map(|p| p.1).fold(0.0, f64::max);
    let top = nice_top(max, c.unit);
    let mut chart = ChartBuilder::on(&root)
        .margin_left(8)
        .margin_right(RIGHT as u32)
        .margin_top(8)
        .x_label_area_size(22)
        .y_label_area_size(52)
        .build_cartesian_2d(from..at, 0f64..top)
        .ok()?;
    let unit = c.unit;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(5)
        .y_label_formatter(&|v| format::unit_value(unit, *v))
        .light_line_style(GRID)
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(("sans-serif", 11).into_font().color(&TEXT))
        .draw()
        .ok()?;
    let label_style = ("sans-serif", 11).into_font().color(&TEXT);
    for t in time_ticks(from, at, width as i32 - LEFT - RIGHT) {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(t, 0.0), (t, top)],
                GRID,
            )))
            .ok()?;
        let (x, y) = chart.backend_coord(&(t, 0.0));
        let label = format::clock(t, false);
        // Centred on its tick, but never cut off at the canvas' right edge
        // (a tick within a few pixels of "now").
        let w = root
            .estimate_text_size(&label, &label_style)
            .map_or(30, |(w, _)| w as i32);
        let lx = (x - w / 2).min(width as i32 - w - 2);
        root.draw(&Text::new(label, (lx, y + 6), label_style.clone()))
            .ok()?;
    }
    if c.points.is_empty() {
        let (_, y) = chart.backend_coord(&(from + c.window_ms / 2, top / 2.0));
        let reason;
        let msg = match &c.empty_reason {
            Some(r) => {
                reason = format!("No data: {r}");
                reason.as_str()
            }
            None => "No data yet: waiting for the first polls of this series",
        };
        // Long reasons wrap to the canvas' width rather than run off it
        // (five charts in a row leave each about 250 px).
        let font = ("sans-serif", 13).into_font().color(&TEXT);
        let max_w = width.saturating_sub(16).max(60);
        let measure = |t: &str| {
            root.estimate_text_size(t, &font)
                .map_or(t.chars().count() as u32 * 7, |(w, _)| w)
        };
        let lines = wrap(msg, max_w, measure);
        let top_y = y - 8 * (lines.len() as i32 - 1);
        // On a plain ground, over the grid and the axis labels.
        let bottom = top_y + 16 * (lines.len() as i32 - 1) + 10;
        root.draw(&Rectangle::new(
            [(4, top_y - 14), (width as i32 - 4, bottom)],
            BG.mix(0.92).filled(),
        ))
        .ok()?;
        for (k, line) in lines.into_iter().enumerate() {
            root.draw(&Text::new(line, (8, top_y + 16 * k as i32), font.clone()))
                .ok()?;
        }
    } else {
        let col = colour(&c.id);
        // A gap in the data (a source down) stays a gap: no line across it.
        for run in runs(&c.points) {
            chart
                .draw_series(
                    AreaSeries::new(run.iter().map(|p| (p.0, p.1)), 0.0, col.mix(0.15))
                        .border_style(col.stroke_width(2)),
                )
                .ok()?;
        }
    }
    root.present().ok()
}

/// The points in runs without a gap: a gap is more than four times the
/// usual spacing between points (the median), so a few missed polls do not
/// break the line but minutes without data do.
fn runs(points: &[Point]) -> Vec<&[Point]> {
    let mut spacing: Vec<i64> = points.windows(2).map(|w| w[1].0 - w[0].0).collect();
    spacing.sort_unstable();
    let Some(&usual) = spacing.get(spacing.len() / 2) else {
        return vec![points];
    };
    let gap = usual.max(1) * 4;
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..points.len() {
        if points[i].0 - points[i - 1].0 > gap {
            out.push(&points[start..i]);
            start = i;
        }
    }
    out.push(&points[start..]);
    out
}

/// Greedy word wrap of `s` to lines `measure` says are at most `max`
/// wide (a word wider than that is cut where it must be); five lines at
/// most, the last ending in "…" when more was left.
fn wrap(s: &str, max: u32, measure: impl Fn(&str) -> u32) -> Vec<String> {
    const MAX_LINES: usize = 5;
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if measure(&candidate) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // The word alone: cut it while it is too wide.
        let mut rest = word.to_string();
        while measure(&rest) > max && rest.chars().count() > 1 {
            let mut cut = rest.chars().count() - 1;
            while cut > 1 && measure(&rest.chars().take(cut).collect::<String>()) > max {
                cut -= 1;
            }
            lines.push(rest.chars().take(cut).collect());
            rest = rest.chars().skip(cut).collect();
        }
        line = rest;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > MAX_LINES {
        lines.truncate(MAX_LINES);
        if let Some(last) = lines.last_mut() {
            last.push('…');
        }
    }
    lines
}

#[component]
fn ChartView(index: usize) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let data = Memo::new(move |_| {
        ui.overview.with(|o| {
            o.as_ref()
                .and_then(|o| o.charts.get(index).cloned().map(|c| (c, o.at.millis())))
        })
    });
    let canvas = NodeRef::<Canvas>::new();
    let hover = RwSignal::new(None::<(i32, String)>);
    Effect::new(move |_| {
        if let (Some((c, at)), Some(el)) = (data.get(), canvas.get()) {
            let _ = draw(&el, &c, at);
        }
    });
    let on_move = move |ev: web_sys::MouseEvent| {
        let Some(el) = canvas.get_untracked() else {
            return;
        };
        data.with_untracked(|d| {
            let Some((c, at)) = d else { return };
            let right = el.client_width() - RIGHT;
            let px = ev.offset_x();
            if px < LEFT || px > right || c.points.is_empty() {
                hover.set(None);
                return;
            }
            let from = at - c.window_ms;
            let t = from
                + ((px - LEFT) as f64 / (right - LEFT).max(1) as f64 * c.window_ms as f64) as i64;
            let i = c
                .points
                .partition_point(|p| p.0 < t)
                .min(c.points.len() - 1);
            let p = if i > 0 && (c.points[i - 1].0 - t).abs() < (c.points[i].0 - t).abs() {
                c.points[i - 1]
            } else {
                c.points[i]
            };
            let x =
                LEFT + ((p.0 - from) as f64 / c.window_ms as f64 * (right - LEFT) as f64) as i32;
            hover.set(Some((
                x,
                format!(
                    "{}  {}",
                    format::clock(p.0, true),
                    format::unit_value(c.unit, p.1)
                ),
            )));
        });
    };
    let title = move || data.with(|d| d.as_ref().map(|(c, _)| c.title.clone()).unwrap_or_default());
    let latest = move || {
        data.with(|d| {
            d.as_ref()
                .and_then(|(c, _)| c.points.last().map(|p| format::unit_value(c.unit, p.1)))
                .unwrap_or_else(|| "no data".into())
        })
    };
    view! {
        <div class="chart" data-chart=move || data.with(|d| d.as_ref().map(|(c, _)| c.id.clone()).unwrap_or_default())>
            <div class="chart-head"><span>{title}</span><span class="latest">{latest}</span></div>
            <div class="chart-body" on:mousemove=on_move on:mouseleave=move |_| hover.set(None)>
                <canvas node_ref=canvas></canvas>
                {move || hover.get().map(|(x, label)| view! {
                    <div class="crosshair" style=format!("left:{x}px")></div>
                    // Near the right edge the tooltip opens to the left of the pointer.
                    <div class="tooltip" style=move || {
                        let w = canvas.get_untracked().map_or(0, |c| c.client_width());
                        if x > w * 6 / 10 { format!("left:{}px;transform:translateX(-100%)", x - 8) } else { format!("left:{}px", x + 8) }
                    }>{label.clone()}</div>
                })}
            </div>
        </div>
    }
}

#[component]
pub fn ChartGrid() -> impl IntoView {
    view! {
        <section class="charts" id="charts">
            {(0..5).map(|i| view! { <ChartView index=i/> }).collect_view()}
        </section>
    }
}
