//! The History page's trends: a dashboard series over days, as the history
//! keeps it (one-minute rollups where raw samples aged out), drawn as its
//! min–max band with the mean through it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::{DASHBOARD_METRICS, HistoryTrend, Trend, TrendQuery};

use crate::format;
use crate::ipc;

const W: f64 = 900.0;
const H: f64 = 140.0;
/// Room for the value labels on the left and the dates below.
const LEFT: f64 = 52.0;
const BOTTOM: f64 = 18.0;

/// Drawn over what the history holds of the span (a young history is not
/// squeezed into the right edge of a long one), with the values at the top,
/// middle and bottom of the plot and its first and last times.
fn chart(t: &Trend) -> impl IntoView + use<> {
    let from = t.points.first().map_or(t.from.millis(), |p| p.0);
    let to = t.to.millis().max(from + 1);
    let (lo, hi) = t
        .points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
            (l.min(p.1), h.max(p.3))
        });
    let range = if hi > lo { hi - lo } else { 1.0 };
    let plot_h = H - BOTTOM;
    let x = |ms: i64| LEFT + (ms - from) as f64 / (to - from) as f64 * (W - LEFT - 4.0);
    // 10 px above the top value for its label.
    let y = |v: f64| plot_h - (v - lo) / range * (plot_h - 13.0) - 3.0;
    let upper: Vec<String> = t
        .points
        .iter()
        .map(|p| format!("{:.1},{:.1}", x(p.0), y(p.3)))
        .collect();
    let lower: Vec<String> = t
        .points
        .iter()
        .rev()
        .map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1)))
        .collect();
    let band = [upper, lower].concat().join(" ");
    let mean: Vec<String> = t
        .points
        .iter()
        .map(|p| format!("{:.1},{:.1}", x(p.0), y(p.2)))
        .collect();
    let bucket = i64::from(t.bucket_minutes) * 60_000;
    let raw = t.raw_since.filter(|r| from + bucket <= r.millis()).map(|r| {
        let rx = x(r.millis()).clamp(LEFT, W);
        view! { <line class="trend-raw" x1=rx x2=rx y1="0" y2=plot_h stroke="#f59e0b" stroke-dasharray="3 3"/> }
    });
    let levels = if hi > lo {
        vec![hi, (lo + hi) / 2.0, lo]
    } else {
        vec![lo]
    };
    let values = levels
        .into_iter()
        .filter(|v| v.is_finite())
        .map(|v| {
            let vy = y(v);
            view! {
                <line x1=LEFT x2=W y1=vy y2=vy stroke="#1e293b" stroke-width="1"/>
                <text class="trend-label" x=LEFT - 6.0 y=vy + 4.0 text-anchor="end">{format::compact(v)}</text>
            }
        })
        .collect_view();
    view! {
        <svg id="trend-chart" width="100%" height=H viewBox=format!("0 0 {W} {H}") preserveAspectRatio="xMinYMid meet">
            {values}
            <polygon points=band fill="#38bdf833" stroke="none"/>
            <polyline points=mean.join(" ") fill="none" stroke="#38bdf8" stroke-width="1.2"/>
            {raw}
            <text class="trend-label" x=LEFT y=H - 4.0>{format::date_time(from)}</text>
            <text class="trend-label" x=W - 4.0 y=H - 4.0 text-anchor="end">{format::date_time(to)}</text>
        </svg>
    }
}

#[component]
pub fn TrendBox() -> impl IntoView {
    let metric = RwSignal::new(DASHBOARD_METRICS[0].to_string());
    let days = RwSignal::new(7u32);
    let trend = RwSignal::new(None::<Trend>);
    let said = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let q = TrendQuery {
            metric: metric.get(),
            days: days.get(),
        };
        spawn_local(async move {
            match ipc::call::<HistoryTrend>(&q).await {
                Ok(t) => {
                    said.set(None);
                    trend.set(Some(t));
                }
                Err(e) => said.set(Some(e.message)),
            }
        });
    });
    let body = move || {
        trend.with(|t| {
            let t = t.as_ref()?;
            if t.points.is_empty() {
                return Some(
                    view! { <p class="muted">"Nothing recorded in that span."</p> }.into_any(),
                );
            }
            let first = t.points.first().map_or(t.from.millis(), |p| p.0);
            let bucket = i64::from(t.bucket_minutes) * 60_000;
            let source = match t.raw_since {
                // Points older than the first raw sample's bucket are rollups.
                Some(r) if first + bucket <= r.millis() => format!(
                    "one-minute rollups before {} (dashed), raw samples after",
                    format::date_time(r.millis())
                ),
                Some(_) => "all from raw samples".to_string(),
                None => "all from one-minute rollups".to_string(),
            };
            let note = format!(
                "{} to {}, {} minute{} a point; {source}",
                format::date_time(first),
                format::date_time(t.to.millis()),
                t.bucket_minutes,
                if t.bucket_minutes == 1 { "" } else { "s" },
            );
            Some(
                view! {
                    <p class="muted" id="trend-note">{note}</p>
                    {chart(t)}
                }
                .into_any(),
            )
        })
    };
    view! {
        <div class="trend" id="trend">
            <h3>"Trends"</h3>
            <div class="report-export">
                <select id="trend-metric" on:change=move |ev| metric.set(event_target_value(&ev))>
                    {DASHBOARD_METRICS.iter().map(|m| view! { <option value=*m>{format::metric_title(m)}</option> }).collect_view()}
                </select>
                <select id="trend-days" on:change=move |ev| days.set(event_target_value(&ev).parse().unwrap_or(7))>
                    <option value="1">"1 day"</option>
                    <option value="7" selected>"7 days"</option>
                    <option value="30">"30 days"</option>
                    <option value="90">"90 days"</option>
                </select>
            </div>
            <p class="error">{move || said.get()}</p>
            {body}
        </div>
    }
}
