//! End to end in the real webview: tauri-driver + WebKitWebDriver drive the
//! built app under Xvfb. Needs `SENTINEL_E2E=1`, `DISPLAY` and a session bus;
//! `scripts/test.sh` provides all three. In CI it must run: skipping there fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::support;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A command with the test's own XDG dirs and no inherited stdio.
fn isolated(program: impl AsRef<std::ffi::OsStr>, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn enabled() -> bool {
    if std::env::var("SENTINEL_E2E").as_deref() == Ok("1") {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the webview tests: set SENTINEL_E2E=1 (scripts/test.sh does)"
    );
    eprintln!("e2e: skipped (set SENTINEL_E2E=1 and DISPLAY, or run scripts/test.sh)");
    false
}

fn shots_dir() -> PathBuf {
    let d = support::root().join("target/e2e");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The whole screen at a failure, `target/e2e/failure.png`: dropped while
/// the app still runs, so declared after its driver.
struct ShotOnFailure(PathBuf);

impl Drop for ShotOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new("import")
                .args(["-window", "root"])
                .arg(&self.0)
                .status();
            eprintln!("e2e: the screen at the failure: {}", self.0.display());
        }
    }
}

/// What a failed check saw: the element's whole text (visible or not), the
/// page shown and the error banner.
async fn context(c: &Client, css: &str) -> String {
    let script = "const e = document.querySelector(arguments[0]);
        const d = e && getComputedStyle(e.parentElement).display;
        const b = document.querySelector('.banner.error');
        const t = document.querySelector('.tabs .active');
        return JSON.stringify({text: e && e.textContent, parent_display: d,
            banner: b && b.textContent, tab: t && t.textContent});";
    match c.execute(script, vec![json!(css)]).await {
        Ok(v) => v.to_string(),
        Err(e) => format!("cannot read the page: {e}"),
    }
}

async fn save(c: &Client, dir: &Path, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(name), png).unwrap();
}

/// Finds and clicks; a node re-rendered between the two is found again.
async fn click(c: &Client, locator: Locator<'_>) {
    for _ in 0..5 {
        match c.find(locator).await.unwrap().click().await {
            Ok(()) => return,
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::StaleElementReference =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("click: {e}"),
        }
    }
    panic!("click: the element kept being replaced");
}

async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css))
        .await
        .map(|v| v.len())
        .unwrap_or(0)
}

/// Polls `check` until it holds or `secs` pass.
async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what}");
}

/// `dunstctl ARGS`' output, `None` when it fails.
fn dunstctl(args: &[&str]) -> Option<String> {
    let out = Command::new("dunstctl").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The element's visible text; empty when there is no such element. A node
/// re-rendered while it is read is found again; any other WebDriver error
/// fails the test with its message, not as an empty text.
async fn text(c: &Client, css: &str) -> String {
    for _ in 0..5 {
        let read = match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await,
            Err(e) if e.is_no_such_element() => return String::new(),
            Err(e) => Err(e),
        };
        match read {
            Ok(t) => return t,
            Err(e) if e.is_stale_element_reference() => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("reading {css}: {e}"),
        }
    }
    panic!("reading {css}: the element kept being replaced");
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

    // The dashboard fills: every pod, five charts, nodes, alerts, a status bar.
    eventually(30, "the pods table to fill", || async {
        count(&c, "#pod-rows tr").await >= 40
    })
    .await;
    assert_eq!(count(&c, "#charts canvas").await, 5);
    eventually(10, "chart values", || async {
        !text(&c, ".chart .latest").await.contains("no data")
    })
    .await;
    assert!(count(&c, "#nodes .node").await >= 3);
    assert!(count(&c, "#alert-feed li.alert").await >= 1);
    assert!(count(&c, "#cards .card").await == 8);
    save(&c, &dir, "main.png").await;
    // textContent, not WebDriver's visible text: long notices are ellipsised.
    let status = c
        .execute(
            "return document.querySelector('#status-bar').textContent",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        status.contains("Demo") && status.contains("demo (demo) ok"),
        "{status}"
    );
    assert!(
        status.contains("is invalid"),
        "the corrupt settings file is reported: {status}"
    );
    assert!(!config.join("settings.toml").exists(), "and moved aside");

    // The demo opens with incidents in progress: they reached the desktop,
    // as incident notifications.
    eventually(10, "a desktop notification", || async {
        std::fs::read_to_string(&notify_log)
            .is_ok_and(|log| log.contains("Incident inc-") || log.contains("incidents in "))
    })
    .await;

    // Clicking a notification opens the window on its incident.
    eventually(10, "a notification on screen", || async {
        dunstctl(&["count", "displayed"])
            .and_then(|n| n.trim().parse::<u32>().ok())
            .is_some_and(|n| n >= 1)
    })
    .await;
    assert!(
        !text(&c, "#incident-detail").await.contains(" · inc-"),
        "no incident open yet"
    );
    assert!(dunstctl(&["action", "0"]).is_some(), "dunstctl action");
    // Nothing was selected before: the page opened on the notification's incident.
    eventually(10, "the clicked notification's incident", || async {
        text(&c, "#incident-detail").await.contains(" · inc-")
    })
    .await;
    save(&c, &dir, "notification-click.png").await;
    click(&c, Locator::Css("#tab-dashboard")).await;

    // Hovering a chart shows the value under the pointer.
    c.execute(
        "const cv = document.querySelector('#charts canvas'); const r = cv.getBoundingClientRect();
         cv.parentElement.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + r.width * 0.7, clientY: r.top + 60, bubbles: true}));",
        vec![],
    )
    .await
    .unwrap();
    eventually(5, "a hover tooltip", || async {
        text(&c, ".chart .tooltip").await.contains('%')
    })
    .await;

    // A node's card opens its detail: conditions, capacity, use, its pods;
    // one of its pods opens that pod's own detail.
    click(&c, Locator::Css("#nodes div.node[data-node]")).await;
    eventually(10, "the node detail", || async {
        count(&c, "#node-pods tr.pod-row").await >= 1
            && text(&c, "#node-conditions").await.contains("KubeletReady")
    })
    .await;
    let node = text(&c, "#node-detail-name").await;
    let pods_line = text(&c, "#node-detail-pods").await;
    assert!(pods_line.ends_with("in trouble"), "{pods_line}");
    assert_eq!(
        count(&c, "#node-detail svg.spark").await,
        2,
        "CPU and memory sparklines"
    );
    assert!(
        text(&c, "#node-detail")
            .await
            .contains("CPU requested by its pods")
    );
    save(&c, &dir, "node-detail.png").await;
    let first_pod = text(&c, "#node-pods tr.pod-row td.pod-name").await;
    click(&c, Locator::Css("#node-pods tr.pod-row td.pod-name")).await;
    eventually(10, "its pod's detail", || async {
        text(&c, "#pod-detail-name").await == first_pod && count(&c, "#node-detail").await == 0
    })
    .await;
    let detail = text(&c, "#pod-detail").await;
    assert!(detail.contains(&format!("node {node}")), "{detail}");
    // And back: the pod's node opens the node's detail.
    click(&c, Locator::Css("#pod-detail a.node-link")).await;
    eventually(10, "the node detail again", || async {
        text(&c, "#node-detail-name").await == node && count(&c, "#pod-detail").await == 0
    })
    .await;
    // Escape closes it.
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{e00c}")
        .await
        .unwrap();
    eventually(5, "Escape to close the drawer", || async {
        count(&c, "#node-detail").await == 0
    })
    .await;

    // Filter by text, then open a pod.
    c.find(Locator::Css("#pod-filter"))
        .await
        .unwrap()
        .send_keys("postgres")
        .await
        .unwrap();
    eventually(10, "the filter to apply", || async {
        count(&c, "#pod-rows tr").await == 3
    })
    .await;
    for row in c.find_all(Locator::Css("#pod-rows tr")).await.unwrap() {
        assert!(row.text().await.unwrap().contains("postgres-"));
    }
    assert!(text(&c, "#pod-count").await.contains("of 3 matching"));
    click(&c, Locator::Css("#pod-rows tr td.pod-name")).await;
    eventually(10, "the pod detail", || async {
        text(&c, "#pod-detail-name")
            .await
            .starts_with("data/postgres-")
    })
    .await;
    let detail = text(&c, "#pod-detail").await;
    assert!(
        detail.contains("docker.io/library/postgres:16.4"),
        "{detail}"
    );
    assert!(
        count(&c, "#pod-detail svg.spark").await == 2,
        "CPU and memory sparklines"
    );
    save(&c, &dir, "pod-detail.png").await;
    // The demo cluster has no container logs, and the drawer says why.
    click(&c, Locator::Css("#log-tail")).await;
    eventually(10, "the logs explanation", || async {
        text(&c, "#log-error")
            .await
            .contains("Kubernetes or a Loki connection")
    })
    .await;

    // Severity filter on the alert feed.
    click(&c, Locator::Css("#pod-detail .close")).await;
    click(
        &c,
        Locator::XPath("//div[@id='alerts']//button[text()='Critical']"),
    )
    .await;
    // The demo opens with a critical alert: the filter keeps it and only it.
    eventually(5, "the severity filter", || async {
        let shown = count(&c, "#alert-feed li.alert").await;
        shown >= 1 && shown == count(&c, "#alert-feed li.alert.critical").await
    })
    .await;
    save(&c, &dir, "alerts-critical.png").await;

    // Terms filter the feed in the backend: only the watchdog is left.
    click(
        &c,
        Locator::XPath("//div[@id='alerts']//button[text()='All']"),
    )
    .await;
    let filter = c.find(Locator::Css("#alert-filter")).await.unwrap();
    filter.send_keys("alertname=Watchdog").await.unwrap();
    eventually(10, "the terms filter", || async {
        let rows = c
            .find_all(Locator::Css("#alert-feed li.alert .alert-name"))
            .await
            .unwrap_or_default();
        let mut names = Vec::new();
        for r in rows {
            names.push(r.text().await.unwrap_or_default());
        }
        !names.is_empty()
            && names.iter().all(|n| n == "Watchdog")
            && text(&c, "#alerts-count").await == names.len().to_string()
    })
    .await;
    // Opened: its labels, as the silence form's toggles. The demo holds its
    // alerts back as Alertmanager does: silenced, the watchdog leaves the
    // feed and its count, and is listed apart with who silenced it and why.
    click(&c, Locator::Css("#alert-feed li.alert .alert-name")).await;
    eventually(5, "the silence form", || async {
        text(&c, "#alert-feed .silence-labels")
            .await
            .contains("alertname=Watchdog")
    })
    .await;
    c.find(Locator::Css("#alert-feed .silence-comment"))
        .await
        .unwrap()
        .send_keys("known noisy watchdog")
        .await
        .unwrap();
    save(&c, &dir, "alerts-filtered.png").await;
    click(&c, Locator::Css("#alert-feed button.silence")).await;
    eventually(10, "the watchdog held back", || async {
        count(&c, "#alert-feed li.alert").await == 0
            && text(&c, "#alerts-count").await == "0"
            && text(&c, "#alert-held").await.ends_with(" silenced")
    })
    .await;
    click(&c, Locator::Css("#alert-held")).await;
    eventually(10, "the silenced watchdog listed", || async {
        text(&c, "#alert-feed li.alert.held .held-line")
            .await
            .contains("(known noisy watchdog)")
    })
    .await;
    save(&c, &dir, "alerts-silenced.png").await;
    // Its detail stays open through the silence; expired from there, it is
    // back in the feed, held by nothing.
    eventually(5, "the expire button", || async {
        count(&c, "#alert-feed button.expire-silence").await == 1
    })
    .await;
    click(&c, Locator::Css("#alert-feed button.expire-silence")).await;
    eventually(10, "the watchdog back", || async {
        count(&c, "#alert-feed li.alert.held").await == 0
            && count(&c, "#alert-feed li.alert").await >= 1
            && text(&c, "#alerts-count").await != "0"
    })
    .await;
    click(&c, Locator::Css("#alert-held")).await;
    // A bad term says why; cleared, the whole feed is back.
    filter.clear().await.unwrap();
    filter.send_keys("pod=~(").await.unwrap();
    eventually(10, "the filter's error", || async {
        text(&c, "#alerts-filter-error")
            .await
            .contains("\"pod=~(\" is not a regular expression")
    })
    .await;
    filter.clear().await.unwrap();
    filter.send_keys(" ").await.unwrap();
    eventually(10, "the feed unfiltered", || async {
        count(&c, "#alerts-filter-error").await == 0
            && count(&c, "#alert-feed li.alert.critical").await >= 1
    })
    .await;

    // "Why?" on one of the engine's findings: steps, a chart, and a mark that sticks.
    eventually(20, "an engine finding in the feed", || async {
        count(&c, "#alert-feed li.alert[data-origin='sentinel']").await >= 1
    })
    .await;
    click(
        &c,
        Locator::Css("#alert-feed li.alert[data-origin='sentinel'] button.why"),
    )
    .await;
    eventually(10, "the rule trace", || async {
        count(&c, "#why-steps li").await >= 4
    })
    .await;
    let steps = text(&c, "#why-steps").await;
    assert!(
        steps.contains("Rule ") && steps.contains("Verdict: firing"),
        "{steps}"
    );
    assert!(steps.contains(" → "), "state changes are listed: {steps}");
    assert_eq!(count(&c, "#why-panel canvas").await, 1, "the series chart");
    click(&c, Locator::Css("#mark-fp")).await;
    eventually(10, "the mark to show", || async {
        text(&c, "#why-mark").await.contains("false positive")
    })
    .await;
    assert!(
        text(&c, "#why-steps")
            .await
            .contains("Marked false positive by the operator")
    );
    save(&c, &dir, "why.png").await;
    click(&c, Locator::Css("#why-panel .close")).await;
    eventually(10, "the mark in the feed", || async {
        text(&c, "#alert-feed").await.contains("false positive")
    })
    .await;
    // An Alertmanager alert explains what can be known of it.
    click(
        &c,
        Locator::Css("#alert-feed li.alert[data-origin='alertmanager'] button.why"),
    )
    .await;
    eventually(10, "the external explanation", || async {
        text(&c, "#why-steps")
            .await
            .contains("Alertmanager reports")
    })
    .await;
    assert!(
        !text(&c, "#why-panel").await.contains("False positive"),
        "only findings can be marked"
    );
    click(&c, Locator::Css("#why-panel .close")).await;

    // Pausing notifications from the status bar shows at once, and resumes.
    click(&c, Locator::Css("#pause-notifications")).await;
    eventually(5, "the pause to show", || async {
        text(&c, "#status-bar")
            .await
            .contains("notifications paused until")
    })
    .await;
    click(&c, Locator::Css("#pause-notifications")).await;
    eventually(5, "the pause to end", || async {
        !text(&c, "#status-bar")
            .await
            .contains("notifications paused")
    })
    .await;

    // The Incidents page: the demo's incidents, one opened with its
    // timeline, analysis and evidence; acknowledging it shows who did it.
    click(&c, Locator::Css("#tab-incidents")).await;
    eventually(15, "incidents listed", || async {
        count(&c, "#incident-table tr.incident-row").await >= 2
    })
    .await;
    // Filtered to the demo cluster and the last hour: the demo's incidents stay.
    for (select, value) in [("#incident-cluster", "demo"), ("#incident-window", "60")] {
        c.find(Locator::Css(select))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
    }
    eventually(10, "the cluster and time filters", || async {
        let rows = count(&c, "#incident-table tr.incident-row").await;
        rows >= 2 && text(&c, "#incident-table td.cluster").await == "demo"
    })
    .await;
    click(
        &c,
        Locator::Css("#incident-table tr.incident-row td.incident-title"),
    )
    .await;
    save(&c, &dir, "incident-first.png").await;
    eventually(10, "the incident detail", || async {
        count(&c, "#incident-timeline li").await >= 2
    })
    .await;
    // The rollout incident: its analysis names the OOM kill with evidence.
    click(
        &c,
        Locator::XPath("//tr[contains(@class,'incident-row')]/td[contains(., 'KubePodCrashLooping on Pod/shop/checkout')]"),
    )
    .await;
    eventually(10, "the rollout incident's analysis", || async {
        text(&c, "#incident-analysis").await.contains("oom_killed")
            && count(&c, "#incident-evidence tr").await >= 1
    })
    .await;
    assert!(
        count(&c, "#incident-analysis a.cite").await >= 1,
        "the analysis cites its evidence"
    );
    // Its Alertmanager alerts explain themselves, firing or long resolved
    // (then from the history).
    click(&c, Locator::Css("#incident-timeline li.k-alert button.why")).await;
    eventually(10, "the timeline alert's why", || async {
        text(&c, "#why-steps").await.contains("Alertmanager report")
    })
    .await;
    assert_eq!(count(&c, "#why-panel .banner.error").await, 0);
    save(&c, &dir, "incident-alert-why.png").await;
    click(&c, Locator::Css("#why-panel .close")).await;
    // A resolved incident is reopened first, so it can be acknowledged.
    if c.find(Locator::Css("#incident-reopen")).await.is_ok() {
        click(&c, Locator::Css("#incident-reopen")).await;
        eventually(10, "reopened", || async {
            text(&c, "#incident-state").await == "open"
        })
        .await;
    }
    c.find(Locator::Css("#incident-note"))
        .await
        .unwrap()
        .send_keys("looking at it")
        .await
        .unwrap();
    click(&c, Locator::Css("#incident-ack-button")).await;
    eventually(10, "acknowledged with the note", || async {
        text(&c, "#incident-ack").await.contains("looking at it")
    })
    .await;
    // Export a redacted report: the app says where it saved it, in its data dir.
    click(&c, Locator::Css("#report-redact")).await;
    click(&c, Locator::Css("#report-export")).await;
    eventually(15, "the report saved", || async {
        text(&c, "#report-saved").await.contains("-redacted.html")
    })
    .await;
    let saved = text(&c, "#report-saved").await;
    let path = saved
        .strip_prefix("Saved ")
        .and_then(|s| s.split(" (").next())
        .unwrap_or_default()
        .to_string();
    assert!(
        path.starts_with(&home.join("data").display().to_string()),
        "{saved}"
    );
    let report = std::fs::read_to_string(&path).unwrap();
    assert!(
        report.contains("oom_killed") && report.contains("<svg"),
        "{path}"
    );
    // The narrative is off by default and says how to turn it on.
    click(&c, Locator::Css("#narrative-ask")).await;
    eventually(10, "the narrative explains it is off", || async {
        text(&c, "#narrative-error")
            .await
            .contains("narrative is off")
    })
    .await;
    // Both keep saying so while the incident's page refreshes with new data.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        text(&c, "#report-saved").await.contains("-redacted.html"),
        "{}",
        context(&c, "#report-saved").await
    );
    assert!(
        text(&c, "#narrative-error")
            .await
            .contains("narrative is off")
    );
    save(&c, &dir, "incidents.png").await;

    // A capture folder opened for offline analysis takes the detail panel.
    let case = support::root().join("tests/scenarios/explain/28-oom-after-rollout");
    c.find(Locator::Css("#case-path"))
        .await
        .unwrap()
        .send_keys(&case.display().to_string())
        .await
        .unwrap();
    click(&c, Locator::Css("#case-open")).await;
    eventually(10, "the capture's analysis", || async {
        text(&c, "#case-title")
            .await
            .contains("28-oom-after-rollout")
            && text(&c, "#incident-analysis").await.contains("oom_killed")
    })
    .await;
    save(&c, &dir, "capture.png").await;
    click(&c, Locator::Css("#case-close")).await;
    click(&c, Locator::Css("#tab-dashboard")).await;

    // Broken everywhere: the one (demo) cluster at a glance, its unhealthy
    // pods and firing alerts, each naming the cluster.
    click(&c, Locator::Css("#tab-everywhere")).await;
    eventually(10, "the everywhere page", || async {
        count(&c, "#cluster-cards .cluster-card").await == 1
            && count(&c, "#everywhere-alerts tbody tr").await >= 1
    })
    .await;
    assert!(text(&c, "#cluster-cards").await.contains("demo"));
    assert!(
        text(&c, "#everywhere-alerts tbody tr")
            .await
            .starts_with("demo")
    );
    save(&c, &dir, "everywhere.png").await;

    // History: the incidents the file holds; one written as a redacted bundle.
    click(&c, Locator::Css("#tab-history")).await;
    eventually(20, "stored incidents", || async {
        count(&c, "#history-table tr.stored-incident").await >= 1
    })
    .await;
    click(
        &c,
        Locator::Css("#history-table tr.stored-incident .bundle"),
    )
    .await;
    eventually(20, "the bundle", || async {
        let said = text(&c, "#bundle-said").await;
        said.starts_with("Saved") && said.contains("identifiers redacted")
    })
    .await;
    // Retention: what the file takes, and a shorter raw retention kept.
    eventually(10, "the history's usage", || async {
        text(&c, "#retention-usage").await.starts_with("Using ")
    })
    .await;
    let raw = c.find(Locator::Css("#retention-raw")).await.unwrap();
    raw.clear().await.unwrap();
    raw.send_keys("3").await.unwrap();
    click(&c, Locator::Css("#retention-save")).await;
    eventually(10, "the retention saved", || async {
        text(&c, "#retention-said").await.starts_with("Saved")
    })
    .await;
    // Trends over days, from what the history keeps.
    eventually(10, "the CPU trend", || async {
        count(&c, "#trend-chart polyline").await == 1
            && text(&c, "#trend-note").await.contains("raw samples")
    })
    .await;
    click(&c, Locator::Css("#replay-open")).await;
    eventually(20, "the offline replay", || async {
        text(&c, "#replay-summary").await.starts_with("Replayed")
    })
    .await;
    save(&c, &dir, "history.png").await;
    // The status bar says Replay; live sources record on in the background.
    eventually(10, "Replay mode in the status bar", || async {
        text(&c, "#status-mode").await == "Replay"
            && text(&c, "#status-replay")
                .await
                .contains("recording in the background")
    })
    .await;
    // Watch it again: the recorded charts, and play moves the scrub time.
    assert_eq!(count(&c, "#replay-view .replay-chart").await, 5);
    assert!(count(&c, ".replay-others .replay-mark.mark-incident").await >= 1);
    assert!(count(&c, ".replay-others .replay-mark.mark-alert").await >= 1);
    c.execute(
        "document.querySelector('#replay-view').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    save(&c, &dir, "replay-scrubber.png").await;
    let start = text(&c, "#replay-time").await;
    click(&c, Locator::Css("#replay-play")).await;
    eventually(10, "the replay to play", || async {
        text(&c, "#replay-time").await != start
    })
    .await;
    click(&c, Locator::Css("#replay-play")).await;
    // Scrub to the end: the incidents of the recording are open by then.
    c.execute(
        "const s = document.querySelector('#replay-scrubber'); s.value = s.max; s.dispatchEvent(new Event('input'));",
        vec![],
    )
    .await
    .unwrap();
    eventually(10, "incidents at the end", || async {
        count(&c, "#replay-incidents li").await >= 1
    })
    .await;
    // As of then: the pods table and the alert feed from the recording, and
    // a finding's Why as its trace stood then.
    eventually(10, "the pods then", || async {
        count(&c, "#replay-pods tr.replay-pod").await >= 1
            && text(&c, "#replay-pods-head")
                .await
                .split_once(" pods, ")
                .is_some_and(|(n, rest)| {
                    n.parse::<usize>().is_ok_and(|n| n >= 40) && rest.contains(" nodes")
                })
    })
    .await;
    eventually(10, "findings firing then", || async {
        count(&c, "#replay-firing li[data-origin=engine]").await >= 1
    })
    .await;
    click(&c, Locator::Css("#replay-firing li[data-origin=engine]")).await;
    eventually(10, "the Why of then", || async {
        let why = text(&c, "#replay-why").await;
        why.starts_with("Why: ") && why.contains("firing then")
    })
    .await;
    // Paused live sources, said in the status bar; closing the replay
    // leaves Replay mode and lets them go on.
    click(&c, Locator::Css("#replay-pause-live")).await;
    eventually(10, "live sources paused", || async {
        text(&c, "#status-replay")
            .await
            .contains("live sources paused")
    })
    .await;
    c.execute(
        "document.querySelector('.replay-moment').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    save(&c, &dir, "replay.png").await;
    click(&c, Locator::Css("#replay-close")).await;
    eventually(10, "Demo mode again", || async {
        text(&c, "#status-mode").await == "Demo" && count(&c, "#status-replay").await == 0
    })
    .await;
    // An incident of this history replayed straight from its row, then the
    // last 15 minutes.
    c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    click(
        &c,
        Locator::Css("#history-table tr.stored-incident .replay-incident"),
    )
    .await;
    eventually(20, "the incident's replay", || async {
        let s = text(&c, "#replay-summary").await;
        s.starts_with("Replayed") && s.contains("/replays/inc-")
    })
    .await;
    c.find(Locator::Css("#replay-last option[value='15']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, Locator::Css("#replay-range")).await;
    eventually(20, "the range's replay", || async {
        let s = text(&c, "#replay-summary").await;
        s.starts_with("Replayed") && s.contains("/replays/range-")
    })
    .await;
    click(&c, Locator::Css("#replay-close")).await;

    // Connections: add the real Prometheus of scripts/stack.sh, test it,
    // save and apply (the app goes live on it), then remove it (demo again).
    let stack = tokio::task::spawn_blocking(crate::stack::Stack::shared)
        .await
        .unwrap();
    click(&c, Locator::Css("#tab-connections")).await;
    eventually(10, "the connections page", || async {
        text(&c, "#conn-demo").await.contains("demo cluster")
    })
    .await;
    click(&c, Locator::Css("#add-prometheus")).await;
    c.find(Locator::Css("#conn-url"))
        .await
        .unwrap()
        .send_keys(&stack.prometheus)
        .await
        .unwrap();
    click(&c, Locator::Css("#conn-test")).await;
    eventually(20, "a test report", || async {
        text(&c, "#conn-report").await.contains("Connection works")
    })
    .await;
    assert!(text(&c, "#conn-report").await.contains("Prometheus 2."));
    save(&c, &dir, "connection-test.png").await;
    click(&c, Locator::Css("#conn-save")).await;
    eventually(30, "the Prometheus source to answer", || async {
        let health = text(&c, "tr.conn-row[data-kind=prometheus] .conn-health").await;
        health.contains("prometheus ok") && health.contains(" ms")
    })
    .await;
    save(&c, &dir, "connections.png").await;
    let saved = std::fs::read_to_string(config.join("settings.toml")).unwrap();
    assert!(saved.contains(&stack.prometheus), "{saved}");
    click(&c, Locator::Css("#tab-dashboard")).await;
    eventually(30, "the dashboard, live", || async {
        let status = text(&c, "#status-bar").await;
        status.contains("Live") && status.contains("prometheus (prometheus) ok")
    })
    .await;
    click(&c, Locator::Css("#tab-connections")).await;
    eventually(10, "the connection rows", || async {
        count(&c, "tr.conn-row[data-kind=prometheus] .conn-remove").await == 1
    })
    .await;
    click(
        &c,
        Locator::Css("tr.conn-row[data-kind=prometheus] .conn-remove"),
    )
    .await;
    eventually(30, "the demo cluster again", || async {
        text(&c, "#conn-demo").await.contains("demo cluster")
    })
    .await;
    click(&c, Locator::Css("#tab-dashboard")).await;
    // The table keeps its filter ("postgres") across the switch.
    eventually(30, "the demo's pods again", || async {
        count(&c, "#pod-rows tr").await >= 3
            && text(&c, "#status-bar").await.contains("demo (demo) ok")
    })
    .await;

    // The Workloads page: the demo's controllers, filtered by kind; a row
    // opens the dashboard's pods filtered to it.
    click(&c, Locator::Css("#tab-workloads")).await;
    eventually(10, "the workloads", || async {
        count(&c, "#workload-table tr.workload-row").await >= 10
            && text(&c, "#workload-counts").await.contains("in trouble")
    })
    .await;
    save(&c, &dir, "workloads.png").await;
    let filter = c.find(Locator::Css("#workload-filter")).await.unwrap();
    filter.send_keys("statefulset").await.unwrap();
    eventually(10, "the StatefulSets alone", || async {
        let rows = count(&c, "#workload-table tr.workload-row").await;
        rows >= 1
            && text(&c, "#workload-table tbody")
                .await
                .matches("StatefulSet")
                .count()
                == rows
    })
    .await;
    // The demo's batch work is a CronJob, shown with its schedule.
    filter.clear().await.unwrap();
    filter.send_keys("cronjob").await.unwrap();
    eventually(10, "the CronJob with its schedule", || async {
        count(&c, "#workload-table tr.workload-row").await == 1
            && text(&c, "#workload-table tbody")
                .await
                .contains("search-reindex")
            && text(&c, "#workload-table code.schedule").await == "*/20 * * * *"
    })
    .await;
    filter.clear().await.unwrap();
    filter.send_keys("acme/checkout:").await.unwrap();
    eventually(10, "checkout's Deployment", || async {
        count(&c, "#workload-table tr.workload-row").await == 1
    })
    .await;
    click(
        &c,
        Locator::Css("#workload-table tr.workload-row td.pod-name"),
    )
    .await;
    eventually(10, "its pods on the dashboard", || async {
        let rows = count(&c, "#pod-rows tr").await;
        rows >= 1
            && text(&c, "#pod-rows").await.matches("checkout-").count() == rows
            && text(&c, "#pod-count")
                .await
                .contains(&format!("of {rows} matching"))
    })
    .await;

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
