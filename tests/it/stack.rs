//! A real Prometheus, Alertmanager and node_exporter with the demo cluster's
//! exporter, started by `scripts/stack.sh`, and a fake HTTP server for the
//! faults a real server will not produce on demand.

use std::collections::HashMap;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support;

pub struct Stack {
    pub dir: String,
    pub prometheus: String,
    pub alertmanager: String,
    pub exporter: String,
}

impl Stack {
    /// Starts a stack of its own (for tests that kill parts of it).
    pub fn up() -> Stack {
        let out = Command::new(support::root().join("scripts/stack.sh"))
            .args(["up", "--watch-pid", &std::process::id().to_string()])
            .env("SENTINEL_BIN", support::binary("sentinel"))
            .output()
            .expect("run scripts/stack.sh");
        assert!(
            out.status.success(),
            "stack.sh up failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let vars: HashMap<String, String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let get = |k: &str| {
            vars.get(k)
                .cloned()
                .unwrap_or_else(|| panic!("stack.sh did not print {k}"))
        };
        Stack {
            dir: get("STACK_DIR"),
            prometheus: get("PROMETHEUS_URL"),
            alertmanager: get("ALERTMANAGER_URL"),
            exporter: get("EXPORTER_URL"),
        }
    }

    /// One stack shared by the tests that only read from it, with a few
    /// scrapes of history so charts have more than one point.
    pub fn shared() -> &'static Stack {
        static SHARED: OnceLock<Stack> = OnceLock::new();
        SHARED.get_or_init(|| {
            let stack = Stack::up();
            stack.wait_for_scrapes(5);
            stack
        })
    }

    /// Waits (at most 60 s) until the demo exporter has been scraped `n` times.
    pub fn wait_for_scrapes(&self, n: u32) {
        let query = "count_over_time(up{job=\"kubernetes-demo\"}[5m])";
        for _ in 0..600 {
            let out = Command::new("curl")
                .args([
                    "-fsS",
                    "--max-time",
                    "1",
                    &format!("{}/api/v1/query", self.prometheus),
                ])
                .args(["--data-urlencode", &format!("query={query}")])
                .output()
                .expect("curl");
            let body = String::from_utf8_lossy(&out.stdout);
            let count = body
                .rsplit_once(",\"")
                .and_then(|(_, v)| v.split('"').next())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0);
            if count >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the exporter was not scraped {n} times within 60 s");
    }

    fn script(&self, action: &str, name: &str) {
        let status = Command::new(support::root().join("scripts/stack.sh"))
            .args([action, &self.dir, name])
            .status()
            .expect("run scripts/stack.sh");
        assert!(status.success(), "stack.sh {action} {name} failed");
    }

    pub fn stop(&self, name: &str) {
        self.script("stop", name);
    }

    pub fn start(&self, name: &str) {
        self.script("start", name);
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = Command::new(support::root().join("scripts/stack.sh"))
            .args(["down", &self.dir])
            .status();
    }
}

/// What the fake server does with every request.
#[derive(Clone)]
pub enum Fault {
    /// Answer after this long.
    Slow(Duration),
    /// A 200 with this many bytes of a JSON string that never ends.
    Huge(usize),
    Status(u16, &'static str),
    Body(&'static str),
    /// 401 unless the request carries `Authorization: Bearer <token>`;
    /// then an empty (but valid) query answer.
    Bearer(&'static str),
}

/// Serves `fault` on a free loopback port until the runtime ends; returns
/// the base URL.
pub async fn fake_server(fault: Fault) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let fault = fault.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = |status: u16, body: &str| {
                    format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                };
                match fault {
                    Fault::Slow(d) => {
                        tokio::time::sleep(d).await;
                        let _ = stream.write_all(reply(200, "{}").as_bytes()).await;
                    }
                    Fault::Status(code, body) => {
                        let _ = stream.write_all(reply(code, body).as_bytes()).await;
                    }
                    Fault::Body(body) => {
                        let _ = stream.write_all(reply(200, body).as_bytes()).await;
                    }
                    Fault::Bearer(token) => {
                        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                        let want = format!("authorization: bearer {}", token.to_ascii_lowercase());
                        let answer = if head.lines().any(|l| l.trim() == want) {
                            reply(
                                200,
                                r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
                            )
                        } else {
                            reply(401, "Unauthorized")
                        };
                        let _ = stream.write_all(answer.as_bytes()).await;
                    }
                    Fault::Huge(total) => {
                        // No Content-Length: the client must stop reading by itself.
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"status\":\"success\",\"data\":\"";
                        if stream.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                        let chunk = vec![b'a'; 1 << 20];
                        let mut sent = 0;
                        while sent < total {
                            if stream.write_all(&chunk).await.is_err() {
                                return;
                            }
                            sent += chunk.len();
                        }
                    }
                }
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}
