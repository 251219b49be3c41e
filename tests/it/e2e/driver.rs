//! What the end-to-end test drives the webview with: the processes it
//! starts, WebDriver helpers that survive re-rendered nodes, and the
//! screenshots it saves.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::support;

pub(super) struct Driver(pub(super) Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A command with the test's own XDG dirs and no inherited stdio.
pub(super) fn isolated(program: impl AsRef<std::ffi::OsStr>, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

pub(super) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(super) fn enabled() -> bool {
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

pub(super) fn shots_dir() -> PathBuf {
    let d = support::root().join("target/e2e");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The whole screen at a failure, `target/e2e/failure.png`: dropped while
/// the app still runs, so declared after its driver.
pub(super) struct ShotOnFailure(pub(super) PathBuf);

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
pub(super) async fn context(c: &Client, css: &str) -> String {
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

pub(super) async fn save(c: &Client, dir: &Path, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(name), png).unwrap();
}

/// Finds and clicks; a node re-rendered between the two is found again.
pub(super) async fn click(c: &Client, locator: Locator<'_>) {
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

pub(super) async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css))
        .await
        .map(|v| v.len())
        .unwrap_or(0)
}

/// Polls `check` until it holds or `secs` pass.
pub(super) async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
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
pub(super) fn dunstctl(args: &[&str]) -> Option<String> {
    let out = Command::new("dunstctl").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The element's visible text; empty when there is no such element. A node
/// re-rendered while it is read is found again; any other WebDriver error
/// fails the test with its message, not as an empty text.
pub(super) async fn text(c: &Client, css: &str) -> String {
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
