//! A fake Loki at the HTTP and WebSocket level: `/ready`, `/loki/api/v1/labels`,
//! `/loki/api/v1/query_range` (streams JSON, newest `limit` of a range) and
//! `/loki/api/v1/tail` (a WebSocket that sends the history from `start`
//! first, then whatever the test pushes), behind a bearer token.

use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

#[derive(Clone, Debug)]
enum Push {
    Text(String),
    Close,
}

#[derive(Default)]
struct World {
    /// (nanoseconds, pod, line)
    history: Vec<(i128, String, String)>,
    tails: Vec<String>,
}

pub struct FakeLoki {
    pub url: String,
    world: Arc<Mutex<World>>,
    push: broadcast::Sender<Push>,
}

fn stream(entries: &[(i128, String, String)]) -> Value {
    let mut by_pod: std::collections::BTreeMap<&str, Vec<Value>> = Default::default();
    for (ns, pod, line) in entries {
        by_pod
            .entry(pod)
            .or_default()
            .push(json!([ns.to_string(), line]));
    }
    Value::Array(
        by_pod
            .into_iter()
            .map(|(pod, values)| {
                json!({"stream": {"namespace": "shop", "pod": pod, "container": "app"}, "values": values})
            })
            .collect(),
    )
}

fn params(target: &str) -> std::collections::BTreeMap<String, String> {
    let q = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The newest `limit` entries of `pod` in `[start, end]`, oldest first.
fn select(
    w: &World,
    pod: &str,
    start: i128,
    end: i128,
    limit: usize,
) -> Vec<(i128, String, String)> {
    let mut hits: Vec<_> = w
        .history
        .iter()
        .filter(|(ns, p, _)| p == pod && *ns >= start && *ns <= end)
        .cloned()
        .collect();
    hits.sort_by_key(|e| e.0);
    let skip = hits.len().saturating_sub(limit);
    hits.split_off(skip)
}

fn pod_of(query: &str) -> String {
    query
        .split("pod=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_string()
}

impl FakeLoki {
    pub async fn start(token: &str) -> FakeLoki {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let world: Arc<Mutex<World>> = Arc::default();
        let (push, _) = broadcast::channel(1000);
        let (w, p, t) = (Arc::clone(&world), push.clone(), token.to_string());
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                let (w, p, t) = (Arc::clone(&w), p.clone(), t.clone());
                tokio::spawn(async move {
                    let _ = serve(s, w, p, t).await;
                });
            }
        });
        FakeLoki { url, world, push }
    }

    /// A line of `pod` at `ns` nanoseconds, for ranges and new tails.
    pub fn add(&self, ns: i128, pod: &str, line: &str) {
        self.world
            .lock()
            .unwrap()
            .history
            .push((ns, pod.into(), line.into()));
    }

    /// Sends lines of `pod` to every open tail, with `dropped` entries Loki
    /// says it dropped.
    pub fn push(&self, pod: &str, lines: &[(i128, &str)], dropped: usize) {
        let entries: Vec<(i128, String, String)> = lines
            .iter()
            .map(|(ns, l)| (*ns, pod.to_string(), l.to_string()))
            .collect();
        self.world.lock().unwrap().history.extend(entries.clone());
        let dropped: Vec<Value> = (0..dropped)
            .map(|i| json!({"labels": {"pod": pod}, "timestamp": i.to_string()}))
            .collect();
        let msg = json!({"streams": stream(&entries), "dropped_entries": dropped});
        let _ = self.push.send(Push::Text(msg.to_string()));
    }

    /// Sends a raw message to every open tail.
    pub fn push_raw(&self, text: String) {
        let _ = self.push.send(Push::Text(text));
    }

    /// Closes every open tail, as a restarting Loki would.
    pub fn close_tails(&self) {
        let _ = self.push.send(Push::Close);
    }

    /// The query strings of the tails opened so far.
    pub fn tails(&self) -> Vec<String> {
        self.world.lock().unwrap().tails.clone()
    }
}

async fn reply(mut s: TcpStream, code: u16, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body.as_bytes()).await?;
    s.shutdown().await
}

async fn serve(
    mut s: TcpStream,
    world: Arc<Mutex<World>>,
    push: broadcast::Sender<Push>,
    token: String,
) -> std::io::Result<()> {
    // Peek, so that a WebSocket handshake still finds its request.
    let mut buf = vec![0u8; 16384];
    let head = loop {
        let n = s.peek(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        if text.contains("\r\n\r\n") {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let target = head
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let authorized = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {token}")));
    if target.starts_with("/loki/api/v1/tail") {
        let want = format!("Bearer {token}");
        // The callback's error type is the library's (a whole response).
        #[allow(clippy::result_large_err)]
        let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
            let ok = req
                .headers()
                .get("authorization")
                .is_some_and(|v| v.as_bytes() == want.as_bytes());
            if ok {
                Ok(resp)
            } else {
                let mut e = ErrorResponse::new(Some("authentication failed".into()));
                *e.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::UNAUTHORIZED;
                Err(e)
            }
        };
        let ws = tokio_tungstenite::accept_hdr_async(s, check).await;
        let Ok(mut ws) = ws else {
            return Ok(());
        };
        let p = params(&target);
        let mut rx = push.subscribe();
        let first = {
            let mut w = world.lock().unwrap();
            w.tails.push(target.clone());
            let start: i128 = p.get("start").and_then(|v| v.parse().ok()).unwrap_or(0);
            let limit: usize = p.get("limit").and_then(|v| v.parse().ok()).unwrap_or(100);
            select(&w, &pod_of(&p["query"]), start, i128::MAX, limit)
        };
        if !first.is_empty() {
            let msg = json!({"streams": stream(&first)}).to_string();
            if ws.send(Message::text(msg)).await.is_err() {
                return Ok(());
            }
        }
        loop {
            tokio::select! {
                m = rx.recv() => match m {
                    Ok(Push::Text(t)) => {
                        if ws.send(Message::text(t)).await.is_err() {
                            return Ok(());
                        }
                    }
                    Ok(Push::Close) | Err(_) => {
                        let _ = ws.close(None).await;
                        return Ok(());
                    }
                },
                m = ws.next() => if m.is_none() { return Ok(()) },
            }
        }
    }
    // Plain HTTP: consume the request, answer, close.
    let mut sink = vec![0u8; head.len()];
    s.read_exact(&mut sink).await?;
    if !authorized {
        return reply(s, 401, "authentication failed").await;
    }
    let path = target.split('?').next().unwrap_or("/");
    match path {
        "/ready" => reply(s, 200, "ready").await,
        "/loki/api/v1/labels" => {
            reply(
                s,
                200,
                r#"{"status":"success","data":["container","namespace","pod"]}"#,
            )
            .await
        }
        "/loki/api/v1/query_range" => {
            let p = params(&target);
            let start: i128 = p.get("start").and_then(|v| v.parse().ok()).unwrap_or(0);
            let end: i128 = p
                .get("end")
                .and_then(|v| v.parse().ok())
                .unwrap_or(i128::MAX);
            let limit: usize = p.get("limit").and_then(|v| v.parse().ok()).unwrap_or(100);
            let hits = select(
                &world.lock().unwrap(),
                &pod_of(&p["query"]),
                start,
                end,
                limit,
            );
            let body = json!({"status": "success", "data": {"resultType": "streams", "result": stream(&hits)}});
            reply(s, 200, &body.to_string()).await
        }
        _ => reply(s, 404, "404 page not found").await,
    }
}
