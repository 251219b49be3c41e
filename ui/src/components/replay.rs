//! A replayed recording, watched again: a scrubber over its span (with a
//! mark per finding that fired), play at 1×, 10×, 60× or 600×, and as of the
//! scrub time the dashboard's series drawn up to it, the incidents opened by
//! then, and (from the recording) the pods, alerts and findings of that
//! moment with their Why.

use leptos::prelude::*;
use sentinel_protocol::{ReplaySeries, Replayed};

use crate::format;

const W: f64 = 240.0;
const H: f64 = 60.0;

/// One series as an SVG line up to `at`, with a cursor there.
fn spark(s: &ReplaySeries, from: i64, to: i64, at: i64) -> impl IntoView + use<> {
    let span = (to - from).max(1) as f64;
    let (lo, hi) = s
        .points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
            (l.min(p.1), h.max(p.1))
        });
    let range = if hi > lo { hi - lo } else { 1.0 };
    let x = |t: i64| (t - from) as f64 / span * W;
    let y = |v: f64| H - (v - lo) / range * (H - 4.0) - 2.0;
    let shown: Vec<String> = s
        .points
        .iter()
        .filter(|p| p.0 <= at)
        .map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1)))
        .collect();
    let now = s
        .points
        .iter()
        .rfind(|p| p.0 <= at)
        .map(|p| format::compact(p.1))
        .unwrap_or_else(|| "–".into());
    let cursor = x(at);
    view! {
        <div class="replay-chart" data-metric=s.metric.clone()>
            <div class="replay-chart-head"><span>{format::metric_title(&s.metric)}</span><b>{now}</b></div>
            <svg width=W height=H viewBox=format!("0 0 {W} {H}")>
                <polyline points=shown.join(" ") fill="none" stroke="#38bdf8" stroke-width="1.5"/>
                <line x1=cursor x2=cursor y1="0" y2=H stroke="#f59e0b" stroke-width="1"/>
            </svg>
        </div>
    }
}

#[component]
pub fn ReplayView(replayed: Replayed) -> impl IntoView {
    let from = replayed.from.map_or(0, |t| t.millis());
    let to = replayed.to.map_or(from, |t| t.millis()).max(from);
    let at = RwSignal::new(from);
    let playing = RwSignal::new(false);
    let speed = RwSignal::new(60.0f64);
    let path = replayed.path.clone();
    let data = StoredValue::new(replayed);
    // Playback: the scrub time moves on with the wall clock × speed.
    const TICK_MS: u64 = 200;
    let handle = set_interval_with_handle(
        move || {
            if !playing.get_untracked() {
                return;
            }
            let next = at.get_untracked() + (TICK_MS as f64 * speed.get_untracked()) as i64;
            if next >= to {
                at.set(to);
                playing.set(false);
            } else {
                at.set(next);
            }
        },
        std::time::Duration::from_millis(TICK_MS),
    )
    .ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
    let span = (to - from).max(1) as f64;
    let marks = data.with_value(|r| {
        r.findings
            .iter()
            .filter(|f| f.state == "firing")
            .map(|f| {
                let left = (f.at.millis() - from) as f64 / span * 100.0;
                let sev = f.severity.as_str();
                view! { <span class=format!("replay-mark {sev}") style=format!("left: {left:.2}%") title=f.rule.clone()></span> }
            })
            .collect_view()
    });
    // Alerts that began firing, rollouts and incidents' changes, each on a
    // row of its own under the findings.
    let others = data.with_value(|r| {
        r.markers
            .iter()
            .filter(|m| (from..=to).contains(&m.at.millis()))
            .map(|m| {
                let left = (m.at.millis() - from) as f64 / span * 100.0;
                view! {
                    <span class=format!("replay-mark mark-{}", m.kind) style=format!("left: {left:.2}%")
                        title=format!("{} {}", format::clock(m.at.millis(), true), m.label)></span>
                }
            })
            .collect_view()
    });
    let charts = move || {
        let t = at.get();
        data.with_value(|r| {
            r.series
                .iter()
                .map(|s| spark(s, from, to, t))
                .collect_view()
        })
    };
    let opened = move || {
        let t = at.get();
        data.with_value(|r| {
            r.incidents
                .iter()
                .filter(|i| i.opened_at.millis() <= t)
                .map(|i| view! { <li>{format!("{} · {}", format::clock(i.opened_at.millis(), true), i.title)}</li> })
                .collect_view()
        })
    };
    let toggle = move |_| {
        if at.get_untracked() >= to {
            at.set(from);
        }
        playing.update(|p| *p = !*p);
    };
    view! {
        <div class="replay-view" id="replay-view">
            <div class="replay-controls">
                <button id="replay-play" on:click=toggle>{move || if playing.get() { "Pause" } else { "Play" }}</button>
                <select id="replay-speed" on:change=move |ev| {
                    // As fast as possible: the whole recording in about two
                    // seconds of ticks (each tick still draws its moment).
                    let v = event_target_value(&ev);
                    speed.set(v.parse().unwrap_or(span / 2000.0));
                }>
                    <option value="1">"1×"</option>
                    <option value="10">"10×"</option>
                    <option value="60" selected>"60×"</option>
                    <option value="600">"600×"</option>
                    <option value="max">"As fast as possible"</option>
                </select>
                <span id="replay-time">{move || format::clock(at.get(), true)}</span>
            </div>
            <div class="replay-track">
                <input type="range" id="replay-scrubber" min=from max=to step="1000"
                    prop:value=move || at.get().to_string()
                    on:input=move |ev| { playing.set(false); at.set(event_target_value(&ev).parse().unwrap_or(from)); }/>
                <div class="replay-marks">{marks}</div>
                <div class="replay-marks replay-others">{others}</div>
                <div class="replay-legend muted">
                    <span class="key mark-finding"></span>"findings "
                    <span class="key mark-alert"></span>"alerts "
                    <span class="key mark-rollout"></span>"rollouts "
                    <span class="key mark-incident"></span>"incidents"
                </div>
            </div>
            <div class="replay-charts">{charts}</div>
            <crate::components::replay_moment::ReplayMoment path=path at=at/>
            <div class="replay-now">
                <div><h4>"Incidents opened by then"</h4><ul id="replay-incidents">{opened}</ul></div>
            </div>
        </div>
    }
}
