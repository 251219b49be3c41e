//! The metric cards across the top.

use leptos::prelude::*;

use crate::app::Ui;
use crate::format;

#[component]
pub fn Cards() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let card = |label: &'static str, value: String, class: &'static str| {
        view! {
            <div class=format!("card {class}")>
                <div class="label">{label}</div>
                <div class="value">{value}</div>
            </div>
        }
    };
    view! {
        <section class="cards" id="cards">
            {move || ui.overview.get().map(|o| {
                let c = o.cards;
                let hot = |v: Option<f64>, warn: f64| if v.is_some_and(|v| v >= warn) { "hot" } else { "" };
                view! {
                    {card("Cluster CPU", format::opt(c.cpu_percent, format::pct), hot(c.cpu_percent, 80.0))}
                    {card("Cluster memory", format::opt(c.memory_percent, format::pct), hot(c.memory_percent, 85.0))}
                    {card("Pods running", c.pods_running.to_string(), "")}
                    {card("Pending", c.pods_pending.to_string(), if c.pods_pending > 0 { "warn" } else { "" })}
                    {card("Failed", c.pods_failed.to_string(), if c.pods_failed > 0 { "hot" } else { "" })}
                    {card("Restarts (15m)", c.restarts_15m.to_string(), if c.restarts_15m > 0 { "warn" } else { "" })}
                    {card("Requests", format::opt(c.request_rate, |v| format!("{v:.0}/s")), "")}
                    {card("Errors", format::opt(c.error_rate_percent, |v| format!("{v:.2}%")), hot(c.error_rate_percent, 5.0))}
                }
            })}
        </section>
    }
}
