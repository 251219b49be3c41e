//! Credentials in a real Secret Service (gnome-keyring on a private session
//! bus), used for Prometheus auth, and never printed.

use std::process::{Command, Output};

use crate::stack::{Fault, fake_server};
use crate::support;

const PLANTED: &str = "sntl-planted-7f3a9c1e5b";

/// Runs `script` in a fresh session bus with an unlocked gnome-keyring whose
/// files live in a temp dir. `$SENTINEL` names the binary.
fn in_keyring_session(name: &str, script: &str) -> Output {
    let dir = support::tempdir(name);
    let full = format!(
        "set -e\necho -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null\n{script}"
    );
    Command::new("dbus-run-session")
        .args(["--", "bash", "-c", &full])
        .env("SENTINEL", support::binary("sentinel"))
        .env("HOME", &dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("XDG_RUNTIME_DIR", &dir)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run dbus-run-session")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr)
}

#[test]
fn credentials_round_trip_through_the_real_keyring() {
    let out = in_keyring_session(
        "keyring-roundtrip",
        &format!(
            "echo -n {PLANTED} | $SENTINEL secret set prom/token\n\
             $SENTINEL secret test prom/token\n\
             echo -n replaced-value | $SENTINEL secret set prom/token\n\
             $SENTINEL secret delete prom/token\n\
             $SENTINEL secret test prom/token || echo gone"
        ),
    );
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("stored prom/token in the keyring"), "{all}");
    assert!(all.contains("prom/token is stored in the keyring"), "{all}");
    assert!(all.contains("deleted prom/token"), "{all}");
    assert!(
        all.contains("prom/token is not in the keyring") && all.contains("gone"),
        "{all}"
    );
    assert!(
        !all.contains(PLANTED),
        "a command printed the secret: {all}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyring_token_authenticates_and_never_reaches_the_output() {
    let url = fake_server(Fault::Bearer(PLANTED)).await;
    let script = format!(
        "echo -n {PLANTED} | $SENTINEL secret set prom/token >/dev/null\n\
         $SENTINEL watch --prometheus {url} --token-keyring prom/token --once --json --interval 1s --timeout 2s\n\
         echo -n wrong-token | $SENTINEL secret set prom/token >/dev/null\n\
         $SENTINEL watch --prometheus {url} --token-keyring prom/token --once --json --interval 1s --timeout 2s"
    );
    let out = tokio::task::spawn_blocking(move || in_keyring_session("keyring-auth", &script))
        .await
        .unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let overviews: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| l.contains("\"overview\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(overviews.len(), 2, "{all}");
    let message = |o: &serde_json::Value| {
        o["data"]["status"]["sources"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // The right token gets through (Prometheus answers, with no data).
    assert!(
        message(&overviews[0]).contains("returned no data"),
        "{}",
        message(&overviews[0])
    );
    // The wrong one is refused, and the status says so.
    assert!(
        message(&overviews[1]).contains("refused the credentials (HTTP 401)"),
        "{}",
        message(&overviews[1])
    );
    assert!(
        !all.contains(PLANTED),
        "the secret reached the output: {all}"
    );
}

#[test]
fn without_a_secret_service_the_cli_says_so() {
    let out = Command::new(support::binary("sentinel"))
        .args(["secret", "set", "prom/token"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("RUST_BACKTRACE", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    // An empty value is refused before the keyring is asked.
    assert!(!out.status.success());
    let out = Command::new("bash")
        .args(["-c", "echo -n x | \"$SENTINEL\" secret set prom/token"])
        .env("SENTINEL", support::binary("sentinel"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let all = text(&out);
    assert!(all.contains("no secret service is available"), "{all}");
}
