//! "Why this alert?": the rule trace as readable steps next to a chart of
//! the captured readings with the baseline band, the threshold and a marker
//! for each state change. Engine findings can be marked here.

use leptos::html::Canvas;
use leptos::prelude::*;
use leptos::task::spawn_local;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use sentinel_protocol::model::{Mark, RuleState, RuleTrace};
use sentinel_protocol::{AlertOrigin, ExplainAlert, Explanation, MarkArgs, MarkFinding};
use web_sys::HtmlCanvasElement;

use super::chart::{AXIS, BG, GRID, TEXT};
use crate::app::Ui;
use crate::format;
use crate::ipc;

const LINE: RGBColor = RGBColor(0x38, 0xbd, 0xf8);
const BAND: RGBColor = RGBColor(0x34, 0xd3, 0x99);
const THRESHOLD: RGBColor = RGBColor(0xfb, 0xbf, 0x24);

fn marker_colour(to: RuleState) -> RGBColor {
    match to {
        RuleState::Pending => RGBColor(0xfb, 0xbf, 0x24),
        RuleState::Firing => RGBColor(0xf8, 0x71, 0x71),
        RuleState::Resolved => RGBColor(0x34, 0xd3, 0x99),
        RuleState::Inactive => TEXT,
    }
}

fn draw(el: &HtmlCanvasElement, t: &RuleTrace) -> Option<()> {
    let width = u32::try_from(el.client_width()).unwrap_or(0).max(240);
    let height = 200;
    el.set_width(width);
    el.set_height(height);
    let root = CanvasBackend::with_canvas_object(el.clone())?.into_drawing_area();
    root.fill(&BG).ok()?;
    let pts = &t.points;
    let (first, last) = (pts.first()?.0.millis(), pts.last()?.0.millis());
    let marks: Vec<i64> = t.transitions.iter().map(|x| x.at.millis()).collect();
    let from = marks.iter().copied().chain([first]).min().unwrap_or(first);
    let to = marks
        .iter()
        .copied()
        .chain([last])
        .max()
        .unwrap_or(last)
        .max(from + 1000);
    let mut lo = pts.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    let mut hi = pts.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    for v in t.band.iter().flat_map(|b| [b.0, b.1]).chain(t.threshold) {
        if v.is_finite() && v.abs() < 1e12 {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.01).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(22)
        .y_label_area_size(56)
        .build_cartesian_2d(from..to, lo..hi)
        .ok()?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(4)
        .x_label_formatter(&|v| format::clock(*v, true))
        .y_labels(5)
        .y_label_formatter(&|v| sentinel_protocol::model::num(*v))
        .light_line_style(GRID)
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(("sans-serif", 11).into_font().color(&TEXT))
        .draw()
        .ok()?;
    if let Some((a, b)) = t.band {
        let (a, b) = (a.max(lo), b.min(hi));
        if a < b {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(from, a), (to, b)],
                    BAND.mix(0.12).filled(),
                )))
                .ok()?;
        }
    }
    if let Some(th) = t.threshold.filter(|v| (lo..=hi).contains(v)) {
        chart
            .draw_series(DashedLineSeries::new(
                [(from, th), (to, th)],
                6,
                4,
                THRESHOLD.stroke_width(1),
            ))
            .ok()?;
    }
    chart
        .draw_series(LineSeries::new(
            pts.iter().map(|p| (p.0.millis(), p.1)),
            LINE.stroke_width(2),
        ))
        .ok()?;
    chart
        .draw_series(
            pts.iter()
                .map(|p| Circle::new((p.0.millis(), p.1), 2, LINE.filled())),
        )
        .ok()?;
    // A marker's label sits right of its line, or left of it where it
    // would run off the plot, and a row lower where it would overlap the
    // previous label (pending and firing a few readings apart).
    let right = chart.backend_coord(&(to, hi)).0;
    let (mut last_end, mut row) = (i32::MIN, 0);
    for x in &t.transitions {
        let c = marker_colour(x.to);
        let at = x.at.millis();
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(at, lo), (at, hi)],
                c.stroke_width(1),
            )))
            .ok()?;
        let (px, py) = chart.backend_coord(&(at, hi));
        let label = x.to.as_str();
        let font = ("sans-serif", 11).into_font().color(&c);
        let w = root
            .estimate_text_size(label, &font)
            .map_or(40, |(w, _)| i32::try_from(w).unwrap_or(40));
        let lx = if px + 3 + w > right {
            px - 3 - w
        } else {
            px + 3
        };
        row = if lx < last_end + 4 { row + 1 } else { 0 };
        last_end = lx + w;
        root.draw(&Text::new(label, (lx, py + 2 + 13 * row), font))
            .ok()?;
    }
    root.present().ok()
}

#[component]
fn TraceChart(trace: RuleTrace) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let empty = trace.points.is_empty();
    let t = trace.clone();
    Effect::new(move |_| {
        if let Some(el) = canvas.get() {
            let _ = draw(&el, &t);
        }
    });
    let legend = format!(
        "{} readings captured{}{}",
        trace.points.len(),
        trace
            .band
            .map(|(a, b)| format!(
                " · expected band {} – {}",
                sentinel_protocol::model::num(a),
                sentinel_protocol::model::num(b)
            ))
            .unwrap_or_default(),
        trace
            .threshold
            .map(|v| format!(" · threshold {}", sentinel_protocol::model::num(v)))
            .unwrap_or_default(),
    );
    view! {
        {if empty {
            view! { <p class="empty">"No readings were captured with this finding."</p> }.into_any()
        } else {
            view! { <div class="why-chart"><canvas node_ref=canvas></canvas></div><p class="legend">{legend}</p> }.into_any()
        }}
    }
}

#[component]
pub fn WhyPanel() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let data = RwSignal::new(None::<Result<Explanation, String>>);
    let busy = RwSignal::new(false);
    Effect::new(move |_| {
        let Some(r) = ui.why.get() else {
            data.set(None);
            return;
        };
        data.set(None);
        spawn_local(async move {
            let got = ipc::call::<ExplainAlert>(&r).await.map_err(|e| e.message);
            if ui.why.get_untracked().as_ref() == Some(&r) {
                data.set(Some(got));
            }
        });
    });
    let mark = move |fingerprint: String, mark: Mark| {
        busy.set(true);
        spawn_local(async move {
            match ipc::call::<MarkFinding>(&MarkArgs { fingerprint, mark }).await {
                Ok(e) => data.set(Some(Ok(e))),
                Err(e) => ui.error.set(Some(format!("Mark: {}", e.message))),
            }
            busy.set(false);
        });
    };
    let body = move || {
        match data.get() {
        None => view! { <div class="loading small"><div class="spinner"></div>"Reading the trace…"</div> }.into_any(),
        Some(Err(msg)) => view! { <div class="banner error">{msg}</div> }.into_any(),
        Some(Ok(e)) => {
            let steps = e.steps.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view();
            let chart = e.trace.clone().map(|t| view! { <TraceChart trace=t/> });
            let is_engine = e.origin == AlertOrigin::Engine;
            let from_history = e.from_history;
            let fp1 = e.fingerprint.clone();
            let fp2 = e.fingerprint.clone();
            let current = e.mark;
            let mark_label = current.map(|m| format!("Marked {}", m.as_str()));
            view! {
                <h3 id="why-title">{e.title.clone()}</h3>
                <div class="facts">
                    <span class=format!("sev-badge {}", e.severity.as_str())>{e.severity.as_str()}</span>
                    <span>{e.state.clone()}</span>
                    <span>{if is_engine { "raised by Sentinel's engine" } else { "raised by Alertmanager" }}</span>
                    {mark_label.map(|l| view! { <span class="mark" id="why-mark">{l}</span> })}
                    {from_history.then(|| view! { <span class="from-history" id="why-history">"from the history"</span> })}
                </div>
                {chart}
                <h4>"Why"</h4>
                <ol class="why-steps" id="why-steps">{steps}</ol>
                <Show when=move || is_engine>
                    <div class="why-actions">
                        <button id="mark-fp" class:active=move || current == Some(Mark::FalsePositive) disabled=move || busy.get()
                            on:click={let fp = fp1.clone(); move |_| mark(fp.clone(), Mark::FalsePositive)}>"False positive"</button>
                        <button id="mark-confirmed" class:active=move || current == Some(Mark::Confirmed) disabled=move || busy.get()
                            on:click={let fp = fp2.clone(); move |_| mark(fp.clone(), Mark::Confirmed)}>"Confirmed"</button>
                    </div>
                </Show>
                <p class="since">{match (&e.trace, from_history) {
                    (Some(t), _) => format!("trace as of {}", format::clock(t.at.millis(), true)),
                    (None, false) => "as Alertmanager reports it now".to_string(),
                    (None, true) => "as the history last recorded it".to_string(),
                }}</p>
            }
            .into_any()
        }
    }
    };
    view! {
        <Show when=move || ui.why.get().is_some()>
            <div class="drawer-backdrop" on:click=move |_| ui.why.set(None)></div>
            <aside class="drawer" id="why-panel">
                <button class="close" on:click=move |_| ui.why.set(None)>"✕"</button>
                {body}
            </aside>
        </Show>
    }
}
