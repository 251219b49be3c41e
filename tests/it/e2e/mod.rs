//! End to end in the real webview: tauri-driver + WebKitWebDriver drive the
//! built app under Xvfb. Needs `SENTINEL_E2E=1`, `DISPLAY` and a session bus;
//! `scripts/test.sh` provides all three. In CI it must run: skipping there fails.
//! One app and one session go through the pages in turn, each in its own
//! module; `driver` holds the helpers.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use crate::support;
use driver::{Driver, ShotOnFailure, count, enabled, eventually, free_port, isolated, shots_dir};

mod alerts;
mod connections;
mod dashboard;
mod driver;
mod history;
mod incidents;
mod workloads;

/// What the pages share: the WebDriver session, where screenshots go, and
/// the app's own dirs.
pub(super) struct Session<'a> {
    pub c: &'a Client,
    pub dir: &'a Path,
    pub home: &'a Path,
    pub config: &'a Path,
    pub notify_log: &'a Path,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_pods_filter_detail_charts_and_alerts_in_the_webview() {
    if !enabled() {
        return;
    }
    let app = support::binary("sentinel-console");
    let home = std::env::temp_dir().join(format!("sentinel-e2e-{}", std::process::id()));
    let config = home.join("config/dev.sentinel.console");
    std::fs::create_dir_all(&config).unwrap();
    // A corrupt settings file: the app must start anyway and say so.
    std::fs::write(config.join("settings.toml"), "pods = [[[ not toml").unwrap();

    // Watch the session bus for desktop notifications the app raises.
    let notify_log = home.join("notify.log");
    let monitor = Driver(
        Command::new("dbus-monitor")
            .args([
                "--session",
                "interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&notify_log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor (scripts/bootstrap.sh installs it)"),
    );

    // A real notification server, whose notifications stay until acted on.
    let dunstrc = home.join("dunstrc");
    std::fs::write(
        &dunstrc,
        "[urgency_low]\ntimeout = 0\n[urgency_normal]\ntimeout = 0\n[urgency_critical]\ntimeout = 0\n",
    )
    .unwrap();
    let server = Driver(
        Command::new("dunst")
            .arg("-config")
            .arg(&dunstrc)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst (scripts/bootstrap.sh installs it)"),
    );
    // Asked without activation, so no other instance is started for the name.
    eventually(10, "dunst on the session bus", || async {
        Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.Notifications",
            ])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
    })
    .await;

    let (port, native) = (free_port(), free_port());
    let driver = Driver(
        isolated("tauri-driver", &home)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .spawn()
            .expect("tauri-driver on PATH (scripts/bootstrap.sh installs it)"),
    );
    let url = format!("http://127.0.0.1:{port}");
    let caps = json!({ "tauri:options": { "application": app, "args": ["--interval-ms", "500"] } });
    let caps = caps.as_object().unwrap().clone();
    let mut client = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        if let Ok(c) = ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            client = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let c = client.expect("a WebDriver session");
    c.set_window_size(1440, 900).await.expect("window size");
    let dir = shots_dir();
    let _ = std::fs::remove_file(dir.join("failure.png"));
    let _shot = ShotOnFailure(dir.join("failure.png"));

    let s = Session {
        c: &c,
        dir: &dir,
        home: &home,
        config: &config,
        notify_log: &notify_log,
    };
    dashboard::run(&s).await;
    alerts::run(&s).await;
    incidents::run(&s).await;
    history::run(&s).await;
    connections::run(&s).await;
    workloads::run(&s).await;

    // A second launch hands over to the first instance and exits.
    let second = isolated(&app, &home).spawn().unwrap();
    let exited = tokio::task::spawn_blocking(move || {
        let mut second = second;
        let until = Instant::now() + Duration::from_secs(15);
        while Instant::now() < until {
            if let Ok(Some(status)) = second.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = second.kill();
        None
    })
    .await
    .unwrap();
    assert!(
        exited.is_some(),
        "a second instance must exit and focus the first"
    );
    assert!(
        count(&c, "#pod-rows tr").await >= 1,
        "the first instance still answers"
    );

    c.close().await.unwrap();
    drop(driver);
    drop(monitor);
    drop(server);
    let _ = std::fs::remove_dir_all(&home);
}
