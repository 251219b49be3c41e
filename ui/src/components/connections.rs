//! The Connections page: each Prometheus, Alertmanager and Kubernetes
//! connection with its source's health, latency and last success; a form
//! to add or edit one, test it before saving, and save it (the backend is
//! rebuilt from the new settings at once); credentials typed into the
//! keyring, never shown again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sentinel_protocol::{
    ConnectionKind, ConnectionSpec, Connections, ContextsQuery, CredentialRef, CredentialState,
    DeleteCredential, Health, KindRef, ListConnections, ListContexts, NewCredential, NoArgs,
    RemoveConnection, SaveConnection, SetCredential, TestConnection, TestReport,
};

use crate::app::Ui;
use crate::format;
use crate::ipc;

/// An address of the kind's usual shape, as the URL field's placeholder.
fn url_example(kind: ConnectionKind) -> &'static str {
    match kind {
        ConnectionKind::Alertmanager => "https://alertmanager.example:9093",
        ConnectionKind::Loki => "https://loki.example:3100",
        _ => "https://prometheus.example:9090",
    }
}

fn target(spec: &ConnectionSpec) -> String {
    match spec.kind {
        ConnectionKind::Kubernetes => {
            let ctx = spec
                .context
                .clone()
                .unwrap_or_else(|| "current context".into());
            let file = spec
                .kubeconfig
                .clone()
                .unwrap_or_else(|| "default kubeconfig".into());
            format!("{ctx} ({file})")
        }
        _ => spec.url.clone(),
    }
}

fn credential(c: &CredentialState, spec: &ConnectionSpec) -> String {
    let name = spec.token_name.clone().unwrap_or_default();
    match c {
        CredentialState::NotNeeded => "none".into(),
        CredentialState::Stored => format!("{name}: stored"),
        CredentialState::Missing => format!("{name}: missing"),
        CredentialState::Unknown(why) => format!("{name}: {why}"),
    }
}

fn health(h: Health) -> (&'static str, &'static str) {
    match h {
        Health::Starting => ("starting", "starting"),
        Health::Ok => ("ok", "ok"),
        Health::Stale => ("stale", "stale"),
        Health::Down => ("down", "down"),
    }
}

/// One row, keyed by kind: the buttons stay put while the health cell
/// follows the polls.
fn row_view(
    key: (String, ConnectionKind),
    data: RwSignal<Option<Connections>>,
    now_ms: Signal<i64>,
    edit: impl Fn(ConnectionSpec) + Copy + 'static,
    test: impl Fn(ConnectionSpec) + Copy + 'static,
    remove: impl Fn(String, ConnectionKind) + Copy + 'static,
) -> impl IntoView {
    let (cluster, kind) = key;
    let find = cluster.clone();
    let row = Signal::derive(move || {
        data.with(|d| {
            d.as_ref().and_then(|d| {
                d.rows
                    .iter()
                    .find(|r| r.spec.kind == kind && r.spec.cluster == find)
                    .cloned()
            })
        })
    });
    let row = move || row.get();
    let sources = move || {
        let Some(row) = row() else {
            return view! { <span></span> }.into_any();
        };
        if row.sources.is_empty() {
            let what = if kind == ConnectionKind::Loki {
                "read on demand for container logs"
            } else {
                "not running"
            };
            return view! { <span class="muted">{what}</span> }.into_any();
        }
        let now = now_ms.get();
        row.sources
            .iter()
            .map(|s| {
                let (class, word) = health(s.health);
                let latency = s
                    .latency_ms
                    .map(|l| format!(" · {l} ms"))
                    .unwrap_or_default();
                let last = s
                    .last_ok
                    .map(|t| format!(" · last success {} ago", format::age(now - t.millis())))
                    .unwrap_or_else(|| " · no success yet".into());
                let msg = s.message.clone().unwrap_or_default();
                view! {
                    <div class=format!("source {class}")>
                        <span class="dot"></span>
                        {format!("{} {word}{latency}{last}", s.name)}
                        <div class="conn-message">{msg}</div>
                    </div>
                }
            })
            .collect_view()
            .into_any()
    };
    let spec = move || row().map(|r| r.spec);
    let gone = cluster.clone();
    view! {
        <tr class="conn-row" data-kind=kind.as_str() data-cluster=cluster.clone()>
            <td class="conn-cluster">{cluster.clone()}</td>
            <td>{kind.title()}</td>
            <td class="conn-target">{move || spec().map(|s| target(&s))}</td>
            <td class="conn-credential">{move || row().map(|r| credential(&r.credential, &r.spec))}</td>
            <td class="conn-health">{sources}</td>
            <td class="conn-actions">
                <button class="conn-edit" on:click=move |_| if let Some(s) = spec() { edit(s) }>"Edit"</button>
                <button class="conn-test-row" on:click=move |_| if let Some(s) = spec() { test(s) }>"Test"</button>
                <button class="conn-remove" on:click=move |_| remove(gone.clone(), kind)>"Remove"</button>
            </td>
        </tr>
    }
}

fn report_view(r: TestReport) -> impl IntoView {
    let head = if r.ok {
        format!(
            "Connection works{}",
            r.latency_ms
                .map(|l| format!(" ({l} ms)"))
                .unwrap_or_default()
        )
    } else {
        "Connection has problems".to_string()
    };
    let items = r
        .checks
        .into_iter()
        .map(|c| {
            let class = if c.ok { "ok" } else { "bad" };
            let mark = if c.ok { "✓ " } else { "✗ " };
            view! { <li class=class>{mark}<b>{c.name}</b>": "{c.detail}</li> }
        })
        .collect_view();
    view! {
        <div id="conn-report" class=if r.ok { "conn-report ok" } else { "conn-report bad" }>
            <p>{head}</p>
            <ul>{items}</ul>
        </div>
    }
}

#[component]
pub fn ConnectionsPage() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let data = RwSignal::new(None::<Connections>);
    let form = RwSignal::new(None::<ConnectionSpec>);
    let report = RwSignal::new(None::<TestReport>);
    let busy = RwSignal::new(false);
    let contexts = RwSignal::new(Vec::<String>::new());
    let secret = RwSignal::new(String::new());
    let said = RwSignal::new(None::<String>);

    let reload = move || {
        spawn_local(async move {
            match ipc::call::<ListConnections>(&NoArgs {}).await {
                Ok(c) => data.set(Some(c)),
                Err(e) => ui.error.set(Some(format!("Connections: {}", e.message))),
            }
        });
    };
    // Health, latency and last success follow the backend's polls.
    Effect::new(move |_| {
        ui.overview.track();
        reload();
    });

    let run_test = move |spec: ConnectionSpec| {
        busy.set(true);
        report.set(None);
        spawn_local(async move {
            match ipc::call::<TestConnection>(&spec).await {
                Ok(r) => report.set(Some(r)),
                Err(e) => said.set(Some(e.message)),
            }
            busy.set(false);
        });
    };
    let edit = move |spec: ConnectionSpec| {
        report.set(None);
        said.set(None);
        secret.set(String::new());
        form.set(Some(spec));
    };
    let remove = move |cluster: String, kind: ConnectionKind| {
        busy.set(true);
        spawn_local(async move {
            match ipc::call::<RemoveConnection>(&KindRef { cluster, kind }).await {
                Ok(c) => {
                    data.set(Some(c));
                    form.set(None);
                }
                Err(e) => ui.error.set(Some(format!("Remove: {}", e.message))),
            }
            busy.set(false);
        });
    };
    let save = move |_| {
        let Some(spec) = form.get_untracked() else {
            return;
        };
        busy.set(true);
        said.set(Some("Saving and applying…".into()));
        spawn_local(async move {
            match ipc::call::<SaveConnection>(&spec).await {
                Ok(c) => {
                    data.set(Some(c));
                    form.set(None);
                    said.set(Some(format!("{} saved and applied", spec.kind.title())));
                }
                Err(e) => said.set(Some(e.message)),
            }
            busy.set(false);
        });
    };
    let store_secret = move |_| {
        let name = form
            .get_untracked()
            .and_then(|f| f.token_name)
            .unwrap_or_default();
        let value = secret.get_untracked();
        spawn_local(async move {
            let args = NewCredential { name, value };
            match ipc::call::<SetCredential>(&args).await {
                Ok(s) => {
                    // The field empties: what was typed is not kept anywhere here.
                    secret.set(String::new());
                    let place = if s.session_only {
                        "for this session only (no keyring)"
                    } else {
                        "in the keyring"
                    };
                    said.set(Some(format!("{} stored {place}", s.name)));
                    reload();
                }
                Err(e) => said.set(Some(e.message)),
            }
        });
    };
    let delete_secret = move |_| {
        let name = form
            .get_untracked()
            .and_then(|f| f.token_name)
            .unwrap_or_default();
        spawn_local(async move {
            match ipc::call::<DeleteCredential>(&CredentialRef { name }).await {
                Ok(s) => {
                    said.set(Some(format!("{} deleted", s.name)));
                    reload();
                }
                Err(e) => said.set(Some(e.message)),
            }
        });
    };
    let load_contexts = move |_| {
        let kubeconfig = form.get_untracked().and_then(|f| f.kubeconfig);
        spawn_local(async move {
            match ipc::call::<ListContexts>(&ContextsQuery { kubeconfig }).await {
                Ok(c) => {
                    if let Some(current) = c.current.clone() {
                        form.update(|f| {
                            if let Some(f) = f
                                && f.context.is_none()
                            {
                                f.context = Some(current);
                            }
                        });
                    }
                    contexts.set(c.names);
                }
                Err(e) => said.set(Some(e.message)),
            }
        });
    };
    let set = move |f: fn(&mut ConnectionSpec, String)| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            form.update(|s| {
                if let Some(s) = s {
                    f(s, v);
                }
            });
        }
    };
    let kind_is = move |k: ConnectionKind| form.with(|f| f.as_ref().is_some_and(|f| f.kind == k));
    let field = move |f: fn(&ConnectionSpec) -> String| {
        form.with(|s| s.as_ref().map(f).unwrap_or_default())
    };

    let kinds = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .map(|d| {
                    d.rows
                        .iter()
                        .map(|r| (r.spec.cluster.clone(), r.spec.kind))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let now_ms = Signal::derive(move || {
        ui.overview
            .with(|o| o.as_ref().map(|o| o.at.millis()))
            .unwrap_or(0)
    });
    // Into the first cluster, unless another name is typed in the form.
    let add_buttons = move || {
        ConnectionKind::ALL
            .into_iter()
            .map(|k| {
                let id = format!("add-{}", k.as_str());
                view! { <button id=id on:click=move |_| edit(ConnectionSpec::new(k))>{format!("Add {}", k.title())}</button> }
            })
            .collect_view()
    };

    view! {
        <section class="panel connections" id="connections-page">
            <h2>"Connections"</h2>
            {move || data.get().map(|d| {
                let demo = d.demo.then(|| view! {
                    <p class="muted" id="conn-demo">"No connection: the embedded demo cluster runs. Add one to watch a real cluster."</p>
                });
                let keyring = if d.keyring.available {
                    "Credentials live in the OS keyring.".to_string()
                } else {
                    format!("No OS keyring ({}): credentials are kept in memory for this session only.", d.keyring.message.clone().unwrap_or_default())
                };
                let file = d.settings_file.clone().map(|f| format!("Settings: {f}")).unwrap_or_default();
                view! {
                    {demo}
                    <p class="muted" id="conn-keyring">{keyring}</p>
                    <p class="muted">{file}</p>
                }
            })}
            <table class="conn-table" id="conn-table">
                <thead><tr><th>"Cluster"</th><th>"Kind"</th><th>"Where"</th><th>"Credential"</th><th>"Health"</th><th></th></tr></thead>
                <tbody>
                    <For each=move || kinds.get() key=|k| k.clone() let:key>
                        {row_view(key, data, now_ms, edit, run_test, remove)}
                    </For>
                </tbody>
            </table>
            <div class="conn-add">{add_buttons}</div>
            <Show when=move || form.with(Option::is_some)>
                <div class="conn-form" id="conn-form">
                    <h3>{move || form.with(|f| f.as_ref().map(|f| f.kind.title()).unwrap_or_default())}</h3>
                    <label>"Cluster "<input id="conn-cluster" placeholder="the first cluster; a new name adds a cluster"
                        prop:value=move || field(|f| f.cluster.clone()) on:input=set(|f, v| f.cluster = v)/></label>
                    <Show when=move || !kind_is(ConnectionKind::Kubernetes)>
                        <label>"URL "<input id="conn-url" placeholder=move || form.with(|f| f.as_ref().map(|f| url_example(f.kind)).unwrap_or_default())
                            prop:value=move || field(|f| f.url.clone()) on:input=set(|f, v| f.url = v)/></label>
                        <label>"Token (keyring name) "<input id="conn-token-name" placeholder=move || form.with(|f| f.as_ref().map(|f| format!("prod/{}", f.kind.as_str())).unwrap_or_default())
                            prop:value=move || field(|f| f.token_name.clone().unwrap_or_default())
                            on:input=set(|f, v| f.token_name = Some(v).filter(|v| !v.trim().is_empty()))/></label>
                        <div class="conn-secret">
                            <input id="conn-token-value" type="password" autocomplete="off" placeholder="paste the token to store it"
                                prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev))/>
                            <button id="cred-save" disabled=move || secret.with(String::is_empty) || field(|f| f.token_name.clone().unwrap_or_default()).is_empty()
                                on:click=store_secret>"Store token"</button>
                            <button id="cred-delete" disabled=move || field(|f| f.token_name.clone().unwrap_or_default()).is_empty()
                                on:click=delete_secret>"Delete token"</button>
                        </div>
                        <label>"CA file "<input id="conn-ca" placeholder="/etc/ssl/private-ca.pem"
                            prop:value=move || field(|f| f.ca_file.clone().unwrap_or_default())
                            on:input=set(|f, v| f.ca_file = Some(v).filter(|v| !v.trim().is_empty()))/></label>
                        <label><input type="checkbox" id="conn-insecure"
                            prop:checked=move || form.with(|f| f.as_ref().is_some_and(|f| f.insecure_skip_verify))
                            on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| if let Some(f) = f { f.insecure_skip_verify = on; }); }/>
                            " Skip TLS verification (not recommended)"</label>
                    </Show>
                    <Show when=move || kind_is(ConnectionKind::Kubernetes)>
                        <label>"Kubeconfig "<input id="conn-kubeconfig" placeholder="default: KUBECONFIG, else ~/.kube/config"
                            prop:value=move || field(|f| f.kubeconfig.clone().unwrap_or_default())
                            on:input=set(|f, v| f.kubeconfig = Some(v).filter(|v| !v.trim().is_empty()))/></label>
                        <button id="conn-load-contexts" on:click=load_contexts>"Read contexts"</button>
                        <label>"Context "<select id="conn-context" on:change=set(|f, v| f.context = Some(v).filter(|v| !v.is_empty()))>
                            <option value="">"(current context)"</option>
                            {move || {
                                let chosen = field(|f| f.context.clone().unwrap_or_default());
                                contexts.get().into_iter().map(|c| {
                                    let selected = c == chosen;
                                    view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                                }).collect_view()
                            }}
                        </select></label>
                        <label><input type="checkbox" id="conn-discover"
                            prop:checked=move || form.with(|f| f.as_ref().is_some_and(|f| f.discover_prometheus))
                            on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| if let Some(f) = f { f.discover_prometheus = on; }); }/>
                            " Without a Prometheus URL, find Prometheus behind the API server's service proxy"</label>
                    </Show>
                    <div class="conn-buttons">
                        <button id="conn-test" disabled=move || busy.get()
                            on:click=move |_| if let Some(f) = form.get_untracked() { run_test(f) }>"Test connection"</button>
                        <button id="conn-save" disabled=move || busy.get() on:click=save>"Save and apply"</button>
                        <button id="conn-cancel" on:click=move |_| form.set(None)>"Cancel"</button>
                    </div>
                </div>
            </Show>
            <p class="muted" id="conn-said">{move || said.get()}</p>
            {move || report.get().map(report_view)}
        </section>
    }
}
