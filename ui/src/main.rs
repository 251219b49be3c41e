//! Sentinel Console's UI. Components render; `ipc` talks to the backend.

mod app;
mod components;
mod format;
mod ipc;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
