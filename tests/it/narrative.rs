//! The optional narrative against a local fake of an OpenAI-compatible
//! endpoint: what is sent is the scrubbed evidence (and exactly what the
//! app shows as sent), the key rides in the Authorization header, and the
//! answer's citations are checked.

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use sentinel_model::{Duration, Secret};
use sentinel_prom::openai::ChatClient;
use sentinel_prom::{Auth, Endpoint};
use sentinel_protocol::ErrorKind;
use sentinel_runtime::{DemoConfig, Runtime};
use sentinel_sim::SimConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as the fake endpoint saw it: head and body.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// Answers every request with `status` and `body`, recording what it got.
async fn fake_llm(status: u16, body: &'static str) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = vec![0u8; 65536];
                loop {
                    if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&data[..end]).to_string();
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if data.len() >= end + 4 + len {
                            let body = String::from_utf8_lossy(&data[end + 4..end + 4 + len]);
                            log.lock().unwrap().push((head, body.to_string()));
                            break;
                        }
                    }
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => data.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (format!("http://{addr}/v1"), seen)
}

const ANSWER: &str = r#"{"object":"chat.completion","model":"fake-llm-1",
 "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant",
 "content":"The checkout container ran out of memory and was killed [E1]. Its limit is low [E2]. A bad node did it [E99]."}}]}"#;

fn client(url: &str) -> ChatClient {
    let mut e = Endpoint::new(url);
    e.auth = Auth::Bearer(Secret::new("sk-planted-narrative-key-0123456789"));
    e.retries = 0;
    ChatClient::new(e, "fake-llm-1").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_narrative_sends_scrubbed_evidence_and_checks_its_citations() {
    let rt = Runtime::demo(DemoConfig {
        sim: SimConfig { seed: 3, pods: 60 },
        interval: StdDuration::from_millis(200),
        backfill: Duration::from_secs(900),
        ..DemoConfig::default()
    })
    .start();
    // The rollout's OOM kills, and the saturated node (whose name, like
    // every demo node's, spells an address: ip-10-0-…).
    let snap = tokio::time::timeout(
        StdDuration::from_secs(60),
        rt.wait_for(|s| {
            s.incidents
                .iter()
                .any(|i| i.title.contains("KubePodCrashLooping on Pod/shop/checkout"))
                && s.incidents
                    .iter()
                    .any(|i| i.title.contains("on Node/ip-10-"))
        }),
    )
    .await
    .unwrap()
    .unwrap();
    let inc = snap
        .incidents
        .iter()
        .find(|i| i.title.contains("KubePodCrashLooping on Pod/shop/checkout"))
        .unwrap();
    let (url, seen) = fake_llm(200, ANSWER).await;
    let n = sentinel_service::narrate(&rt, &client(&url), &inc.id, "ana")
        .await
        .unwrap();
    assert_eq!(n.model, "fake-llm-1");
    assert_eq!(n.cited, ["E1", "E2"]);
    assert_eq!(n.unknown_cites, ["E99"], "a made-up id is flagged");
    assert!(n.text.contains("ran out of memory"));

    let first = seen.lock().unwrap().clone();
    assert_eq!(first.len(), 1, "one request, no retry");
    let (head, body) = &first[0];
    assert!(head.starts_with("POST /v1/chat/completions "), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer sk-planted-narrative-key-0123456789"),
        "the key goes to the endpoint it belongs to"
    );
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["model"], "fake-llm-1");
    assert_eq!(v["temperature"], 0.0);
    let system = v["messages"][0]["content"].as_str().unwrap();
    let user = v["messages"][1]["content"].as_str().unwrap();
    assert!(
        system.contains("[E1]"),
        "the model is asked to cite evidence ids"
    );
    assert!(user.contains("[E1] "), "the evidence, with its ids");
    assert!(user.contains("oom_killed"));
    // What the app shows as sent is what was sent.
    assert_eq!(n.prompt, format!("{system}\n\n{user}"));

    // The node's incident: its name spells an address and stays home.
    let node = snap
        .incidents
        .iter()
        .find(|i| i.title.contains("on Node/ip-10-"))
        .unwrap();
    let n = sentinel_service::narrate(&rt, &client(&url), &node.id, "ana")
        .await
        .unwrap();
    assert!(n.redacted >= 1, "{n:?}");
    let (_, body) = seen.lock().unwrap().last().cloned().unwrap();
    assert!(
        body.contains("<host-1>"),
        "the node is named by its placeholder"
    );
    assert!(!body.contains("ip-10-"), "a node name reached the endpoint");

    // A refusing or broken endpoint is an error with the reason, not a panic.
    let (bad, _) = fake_llm(
        500,
        r#"{"error":{"message":"model is loading","type":"server_error"}}"#,
    )
    .await;
    let err = sentinel_service::narrate(&rt, &client(&bad), &inc.id, "ana")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert!(
        err.message.contains("did not answer") && err.message.contains("500"),
        "{err:?}"
    );
    let gone = sentinel_service::narrate(&rt, &client(&url), "inc-00000000", "ana")
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);
}
