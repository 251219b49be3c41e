//! The dashboard page: holds the UI state (what is on screen, nothing more)
//! and wires the update stream to the components.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::{
    GetOverview, ListPods, NoArgs, Overview, PodPage, PodQuery, PodRef, Update,
};

use crate::components::{
    AlertFeed, Cards, ChartGrid, ConnectionsPage, EverywherePage, HistoryPage, IncidentsPage,
    NodeDetailPanel, NodeStrip, PodDetailPanel, PodsTable, StatusBar, WhyPanel, WorkloadsPage,
};
use crate::ipc;

/// Which page is on screen.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Dashboard,
    Incidents,
    Workloads,
    Connections,
    Everywhere,
    History,
}

/// Shared state of the page, handed to components by context.
#[derive(Clone, Copy)]
pub struct Ui {
    pub overview: RwSignal<Option<Overview>>,
    pub pods: RwSignal<Option<PodPage>>,
    pub query: RwSignal<PodQuery>,
    pub selected: RwSignal<Option<PodRef>>,
    /// The node whose detail is open.
    pub node: RwSignal<Option<sentinel_protocol::NodeRef>>,
    /// The alert or finding whose "Why?" panel is open.
    pub why: RwSignal<Option<sentinel_protocol::AlertRef>>,
    pub page: RwSignal<Page>,
    /// The incident whose detail is open.
    pub incident: RwSignal<Option<String>>,
    /// A capture folder's analysis, shown instead of an incident.
    pub case: RwSignal<Option<sentinel_protocol::CaseAnalysis>>,
    pub error: RwSignal<Option<String>>,
    pods_in_flight: RwSignal<bool>,
    pods_dirty: RwSignal<bool>,
}

impl Ui {
    /// Fetches the pods page for the current query; coalesces calls that
    /// arrive while one is in flight into one more call.
    pub fn refresh_pods(self) {
        if self.pods_in_flight.get_untracked() {
            self.pods_dirty.set(true);
            return;
        }
        self.pods_in_flight.set(true);
        let q = self.query.get_untracked();
        spawn_local(async move {
            match ipc::call::<ListPods>(&q).await {
                Ok(page) => self.pods.set(Some(page)),
                Err(e) => self.error.set(Some(format!("Pods: {}", e.message))),
            }
            self.pods_in_flight.set(false);
            if self.pods_dirty.get_untracked() {
                self.pods_dirty.set(false);
                self.refresh_pods();
            }
        });
    }
}

#[component]
pub fn App() -> impl IntoView {
    let ui = Ui {
        overview: RwSignal::new(None),
        pods: RwSignal::new(None),
        query: RwSignal::new(PodQuery::default()),
        selected: RwSignal::new(None),
        node: RwSignal::new(None),
        why: RwSignal::new(None),
        page: RwSignal::new(Page::Dashboard),
        incident: RwSignal::new(None),
        case: RwSignal::new(None),
        error: RwSignal::new(None),
        pods_in_flight: RwSignal::new(false),
        pods_dirty: RwSignal::new(false),
    };
    provide_context(ui);

    spawn_local(async move {
        match ipc::call::<GetOverview>(&NoArgs {}).await {
            Ok(o) => ui.overview.set(Some(o)),
            Err(e) => ui.error.set(Some(format!("Backend: {}", e.message))),
        }
        let stream = ipc::subscribe(move |u| match u {
            Update::Overview(o) => {
                ui.overview.set(Some(o));
                ui.refresh_pods();
            }
            Update::Pods(p) => ui.pods.set(Some(p)),
        })
        .await;
        if let Err(e) = stream {
            ui.error
                .set(Some(format!("Live updates unavailable: {}", e.message)));
        }
    });
    // Escape closes the topmost drawer: "Why?", then a node's, then a pod's.
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() != "Escape" {
            return;
        }
        if ui.why.get_untracked().is_some() {
            ui.why.set(None);
        } else if ui.node.get_untracked().is_some() {
            ui.node.set(None);
        } else if ui.selected.get_untracked().is_some() {
            ui.selected.set(None);
        }
    });
    on_cleanup(move || keys.remove());
    // The tray menu opens an incident.
    ipc::listen("open-incident", move |id: String| {
        ui.case.set(None);
        ui.incident.set(Some(id));
        ui.page.set(Page::Incidents);
    });
    // A new query is fetched at once, not at the next poll.
    Effect::new(move |_| {
        ui.query.track();
        ui.refresh_pods();
    });

    view! {
        <div class="app">
            <header class="top">
                <div class="brand">
                    <span class="logo"></span>
                    "Sentinel Console"
                </div>
                <nav class="tabs">
                    <button id="tab-dashboard" class:active=move || ui.page.get() == Page::Dashboard
                        on:click=move |_| ui.page.set(Page::Dashboard)>"Dashboard"</button>
                    <button id="tab-incidents" class:active=move || ui.page.get() == Page::Incidents
                        on:click=move |_| ui.page.set(Page::Incidents)>
                        "Incidents"
                        <span class="badge" id="incident-badge">{move || ui.overview.with(|o| o.as_ref().map(|o| o.active_incidents).filter(|n| *n > 0).map(|n| n.to_string()).unwrap_or_default())}</span>
                    </button>
                    <button id="tab-workloads" class:active=move || ui.page.get() == Page::Workloads
                        on:click=move |_| ui.page.set(Page::Workloads)>"Workloads"</button>
                    <button id="tab-everywhere" class:active=move || ui.page.get() == Page::Everywhere
                        on:click=move |_| ui.page.set(Page::Everywhere)>
                        "Everywhere"
                        <span class="badge" id="everywhere-badge">{move || ui.overview.with(|o| o.as_ref().map(|o| o.clusters.iter().map(|c| c.pods_unhealthy).sum::<usize>()).filter(|n| *n > 0).map(|n| n.to_string()).unwrap_or_default())}</span>
                    </button>
                    <button id="tab-history" class:active=move || ui.page.get() == Page::History
                        on:click=move |_| ui.page.set(Page::History)>"History"</button>
                    <button id="tab-connections" class:active=move || ui.page.get() == Page::Connections
                        on:click=move |_| ui.page.set(Page::Connections)>"Connections"</button>
                </nav>
                <Show when=move || ui.overview.with(|o| o.as_ref().is_some_and(|o| o.clusters.len() > 1))>
                    <select id="cluster-select" title="The cluster the dashboard shows"
                        on:change=move |ev| crate::components::show_cluster(ui, event_target_value(&ev), || {})>
                        {move || ui.overview.with(|o| o.as_ref().map(|o| {
                            o.clusters.iter().map(|c| {
                                let mark = match c.level {
                                    sentinel_protocol::TrayLevel::Ok => "●",
                                    sentinel_protocol::TrayLevel::Warning => "▲",
                                    sentinel_protocol::TrayLevel::Critical => "■",
                                    sentinel_protocol::TrayLevel::Stale => "○",
                                };
                                let selected = c.name == o.cluster;
                                view! { <option value=c.name.clone() selected=selected>{format!("{mark} {}", c.name)}</option> }
                            }).collect_view()
                        }))}
                    </select>
                </Show>
                <Show when=move || ui.error.get().is_some()>
                    <div class="banner error" on:click=move |_| ui.error.set(None)>
                        {move || ui.error.get().unwrap_or_default()}
                    </div>
                </Show>
            </header>
            // Reachable while a source fails to answer: that is when it is needed.
            <Show when=move || ui.page.get() == Page::Connections>
                <main class="grid"><ConnectionsPage/></main>
            </Show>
            <Show when=move || ui.page.get() == Page::Workloads>
                <main class="grid"><WorkloadsPage/></main>
            </Show>
            <Show when=move || ui.page.get() == Page::Everywhere>
                <main class="grid"><EverywherePage/></main>
            </Show>
            <Show when=move || ui.page.get() == Page::History>
                <main class="grid"><HistoryPage/></main>
            </Show>
            <Show
                when=move || !off_dashboard(ui.page.get()) && ui.overview.with(|o| o.as_ref().is_some_and(|o| o.status.sources.iter().any(|s| s.last_update.is_some())))
                fallback=move || (!off_dashboard(ui.page.get())).then(|| view! { <div class="loading"><div class="spinner"></div>{move || waiting_text(&ui)}</div> })
            >
                <Show when=move || ui.page.get() == Page::Dashboard fallback=|| view! { <main class="grid incidents-main"><IncidentsPage/></main> }>
                    <main class="grid">
                        <h2 class="cluster-title" id="cluster-title">{move || cluster_name(&ui)}</h2>
                        <Cards/>
                        <ChartGrid/>
                        <NodeStrip/>
                        <section class="lower">
                            <PodsTable/>
                            <AlertFeed/>
                        </section>
                    </main>
                </Show>
            </Show>
            <PodDetailPanel/>
            <NodeDetailPanel/>
            <WhyPanel/>
            <StatusBar/>
        </div>
    }
}

/// Pages that do not wait for the cluster's data.
fn off_dashboard(p: Page) -> bool {
    matches!(
        p,
        Page::Connections | Page::Everywhere | Page::History | Page::Workloads
    )
}

/// The cluster the dashboard shows.
pub fn cluster_name(ui: &Ui) -> String {
    ui.overview
        .with(|o| o.as_ref().map(|o| o.cluster.clone()))
        .unwrap_or_default()
}

/// What the first screen says until data arrives: in live mode, which source
/// it waits for, or why that source failed.
fn waiting_text(ui: &Ui) -> String {
    ui.overview.with(|o| {
        let Some(o) = o else {
            return "Starting…".to_string();
        };
        if o.status.mode == sentinel_protocol::Mode::Demo {
            return "Loading the demo cluster's last 15 minutes…".to_string();
        }
        let parts: Vec<String> = o
            .status
            .sources
            .iter()
            .map(|s| match &s.message {
                Some(m) => format!("{}: {m} (retrying)", s.name),
                None => format!("Connecting to {}…", s.name),
            })
            .collect();
        parts.join(" · ")
    })
}
