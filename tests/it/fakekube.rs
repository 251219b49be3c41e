//! A fake Kubernetes API server at the HTTP level: real Kubernetes JSON,
//! paged lists (`limit`/`continue`), chunked watch streams of
//! `{"type","object"}` lines from a resourceVersion, `410 Gone` as an
//! `ERROR` event once the history is compacted, `403` Status bodies for
//! forbidden resources, and bearer-token checks. No API server can run
//! here; this speaks what one speaks, so kube-rs is exercised for real.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

/// Collection paths and the list kinds they answer with.
const COLLECTIONS: &[(&str, &str, &str)] = &[
    ("/api/v1/pods", "v1", "Pod"),
    ("/api/v1/nodes", "v1", "Node"),
    ("/api/v1/events", "v1", "Event"),
    ("/api/v1/services", "v1", "Service"),
    ("/apis/events.k8s.io/v1/events", "events.k8s.io/v1", "Event"),
    ("/apis/apps/v1/deployments", "apps/v1", "Deployment"),
    ("/apis/apps/v1/replicasets", "apps/v1", "ReplicaSet"),
    ("/apis/apps/v1/statefulsets", "apps/v1", "StatefulSet"),
    ("/apis/apps/v1/daemonsets", "apps/v1", "DaemonSet"),
    ("/apis/batch/v1/jobs", "batch/v1", "Job"),
    ("/apis/batch/v1/cronjobs", "batch/v1", "CronJob"),
];

#[derive(Clone, Debug)]
enum Change {
    Event {
        rv: u64,
        path: String,
        line: String,
    },
    /// History compacted: open watches end.
    Compact,
    /// A log line: (namespace/pod/container, line).
    Log(String, String),
}

#[derive(Default)]
struct World {
    rv: u64,
    /// (collection path, namespace/name) → object.
    objects: BTreeMap<(String, String), Value>,
    /// Watch history: (rv, collection, line).
    log: Vec<(u64, String, String)>,
    /// Watches from before this resourceVersion get 410 Gone.
    oldest: u64,
    forbidden: HashSet<String>,
    /// Collections this server does not serve (404), like an old release.
    unserved: HashSet<String>,
    requests: Vec<String>,
    /// namespace/pod/container → lines.
    logs: BTreeMap<String, Vec<String>>,
    /// Service proxy path → upstream `host:port`.
    proxies: BTreeMap<String, String>,
    /// Collections that answer only after this long.
    slow: BTreeMap<String, std::time::Duration>,
    /// Collections whose lists come back as broken JSON.
    malformed: HashSet<String>,
}

pub struct FakeKube {
    pub url: String,
    token: String,
    world: Arc<Mutex<World>>,
    changes: broadcast::Sender<Change>,
}

fn key(obj: &Value) -> String {
    let m = &obj["metadata"];
    format!(
        "{}/{}",
        m["namespace"].as_str().unwrap_or(""),
        m["name"].as_str().unwrap_or("")
    )
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code})
}

impl FakeKube {
    pub async fn start(token: &str) -> FakeKube {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let world: Arc<Mutex<World>> = Arc::default();
        let (changes, _) = broadcast::channel(100_000);
        let (w, c, t) = (Arc::clone(&world), changes.clone(), token.to_string());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (w, c, t) = (Arc::clone(&w), c.clone(), t.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, w, c, t).await;
                });
            }
        });
        FakeKube {
            url,
            token: token.into(),
            world,
            changes,
        }
    }

    /// Serves `/api/v1/namespaces/NS/services/SERVICE_PORT/proxy/…` from
    /// `upstream` (`http://host:port`), as the API server's service proxy
    /// does; `forbid` on the proxy path answers 403 instead.
    pub fn proxy(&self, namespace: &str, service_port: &str, upstream: &str) {
        let prefix = format!("/api/v1/namespaces/{namespace}/services/{service_port}/proxy");
        let host = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        self.world.lock().unwrap().proxies.insert(prefix, host);
    }

    /// Lists (not watches) of `collection` answer after `delay`; zero undoes it.
    pub fn slow(&self, collection: &str, delay: std::time::Duration) {
        let mut w = self.world.lock().unwrap();
        if delay.is_zero() {
            w.slow.remove(collection);
        } else {
            w.slow.insert(collection.into(), delay);
        }
    }

    /// Lists of `collection` answer 200 with a body that is not JSON
    /// (`false` undoes it).
    pub fn malformed(&self, collection: &str, on: bool) {
        let mut w = self.world.lock().unwrap();
        if on {
            w.malformed.insert(collection.into());
        } else {
            w.malformed.remove(collection);
        }
    }

    /// A kubeconfig with one context, `fake`, pointing here.
    pub fn kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let p = dir.join("kubeconfig");
        std::fs::write(
            &p,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n- name: fake\n  cluster: {{server: '{}'}}\nusers:\n- name: ops\n  user: {{token: {}}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: ops}}\n",
                self.url, self.token
            ),
        )
        .unwrap();
        p
    }

    /// Adds or replaces an object in a collection (`/api/v1/pods`, ...).
    pub fn put(&self, collection: &str, mut obj: Value) {
        let (_, api, kind) = COLLECTIONS
            .iter()
            .find(|(p, _, _)| *p == collection)
            .unwrap();
        let mut w = self.world.lock().unwrap();
        w.rv += 1;
        let rv = w.rv;
        obj["apiVersion"] = json!(api);
        obj["kind"] = json!(kind);
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let k = key(&obj);
        if obj["metadata"]["uid"].is_null() {
            obj["metadata"]["uid"] = json!(format!("uid-{collection}-{k}"));
        }
        let kind = match w.objects.insert((collection.into(), k), obj.clone()) {
            Some(_) => "MODIFIED",
            None => "ADDED",
        };
        self.record(&mut w, rv, collection, kind, obj);
    }

    pub fn delete(&self, collection: &str, namespace: &str, name: &str) {
        let mut w = self.world.lock().unwrap();
        let Some(mut obj) = w
            .objects
            .remove(&(collection.into(), format!("{namespace}/{name}")))
        else {
            return;
        };
        w.rv += 1;
        let rv = w.rv;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.record(&mut w, rv, collection, "DELETED", obj);
    }

    fn record(&self, w: &mut World, rv: u64, collection: &str, kind: &str, obj: Value) {
        let line = json!({"type": kind, "object": obj}).to_string();
        w.log.push((rv, collection.into(), line.clone()));
        let _ = self.changes.send(Change::Event {
            rv,
            path: collection.into(),
            line,
        });
    }

    /// Deletes an object while no watch can see it (a partition): only a
    /// relist finds out.
    pub fn delete_unseen(&self, collection: &str, namespace: &str, name: &str) {
        let mut w = self.world.lock().unwrap();
        w.objects
            .remove(&(collection.into(), format!("{namespace}/{name}")));
        w.rv += 1;
    }

    /// A container writes a log line.
    pub fn log(&self, namespace: &str, pod: &str, container: &str, line: &str) {
        let key = format!("{namespace}/{pod}/{container}");
        self.world
            .lock()
            .unwrap()
            .logs
            .entry(key.clone())
            .or_default()
            .push(line.into());
        let _ = self.changes.send(Change::Log(key, line.into()));
    }

    pub fn unserve(&self, collection: &str) {
        self.world
            .lock()
            .unwrap()
            .unserved
            .insert(collection.into());
    }

    /// Forgets the watch history, as etcd compaction does: every open watch
    /// ends, and resuming from an old resourceVersion gets 410 Gone.
    pub fn compact(&self) {
        let mut w = self.world.lock().unwrap();
        w.oldest = w.rv + 1;
        w.log.clear();
        let _ = self.changes.send(Change::Compact);
    }

    pub fn forbid(&self, collection: &str) {
        self.world
            .lock()
            .unwrap()
            .forbidden
            .insert(collection.into());
    }

    pub fn allow(&self, collection: &str) {
        self.world.lock().unwrap().forbidden.remove(collection);
    }

    /// Request lines seen so far (`GET /api/v1/pods?...`).
    pub fn requests(&self) -> Vec<String> {
        self.world.lock().unwrap().requests.clone()
    }
}

fn query(target: &str) -> (String, BTreeMap<String, String>) {
    let (path, q) = target.split_once('?').unwrap_or((target, ""));
    let params = q
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%2F", "/")))
        .collect();
    (path.to_string(), params)
}

async fn reply(stream: &mut TcpStream, code: u16, body: &Value) -> std::io::Result<()> {
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

async fn chunk(stream: &mut TcpStream, line: &str) -> std::io::Result<()> {
    let data = format!("{line}\n");
    stream
        .write_all(format!("{:x}\r\n{data}\r\n", data.len()).as_bytes())
        .await
}

/// One page of a collection, as a real server lists it.
fn list(w: &World, path: &str, params: &BTreeMap<String, String>, api: &str, kind: &str) -> Value {
    let from: usize = params
        .get("continue")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX);
    let total = w.objects.keys().filter(|(c, _)| *c == path).count();
    // Only the page is copied, so a big collection costs one page per request.
    let page: Vec<Value> = w
        .objects
        .iter()
        .filter(|((c, _), _)| *c == path)
        .skip(from)
        .take(limit)
        .map(|(_, v)| {
            // List items carry no kind or apiVersion, as a real server sends them.
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("kind");
                o.remove("apiVersion");
            }
            v
        })
        .collect();
    let mut meta = json!({"resourceVersion": w.rv.to_string()});
    if from.saturating_add(limit) < total {
        meta["continue"] = json!((from + limit).to_string());
        meta["remainingItemCount"] = json!(total - from - limit);
    }
    json!({"kind": format!("{kind}List"), "apiVersion": api, "metadata": meta, "items": page})
}

/// `GET /api/v1/namespaces/NS/pods/POD/log`: text, or a chunked follow.
async fn logs(
    mut stream: TcpStream,
    world: &Mutex<World>,
    changes: broadcast::Sender<Change>,
    pod: String,
    params: &BTreeMap<String, String>,
) -> std::io::Result<()> {
    let mut rx = changes.subscribe();
    let (key, lines) = {
        let w = world.lock().unwrap();
        let key = match params.get("container") {
            Some(c) => format!("{pod}/{c}"),
            None => w
                .logs
                .keys()
                .find(|k| k.starts_with(&format!("{pod}/")))
                .cloned()
                .unwrap_or_default(),
        };
        let found = w.logs.get(&key).map(|all| {
            let tail: usize = params
                .get("tailLines")
                .and_then(|t| t.parse().ok())
                .unwrap_or(all.len());
            all[all.len().saturating_sub(tail)..].to_vec()
        });
        (key, found)
    };
    let Some(lines) = lines else {
        let msg = format!("pods \"{pod}\" not found");
        return reply(&mut stream, 404, &status(404, "NotFound", &msg)).await;
    };
    let follow = params.get("follow").map(String::as_str) == Some("true");
    if !follow {
        let mut body = lines.join("\n");
        body.push('\n');
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        return stream.shutdown().await;
    }
    stream
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .await?;
    for l in lines {
        chunk(&mut stream, &l).await?;
    }
    loop {
        match rx.recv().await {
            Ok(Change::Log(k, line)) if k == key => chunk(&mut stream, &line).await?,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    stream.write_all(b"0\r\n\r\n").await?;
    stream.shutdown().await
}

/// Relays one request to `upstream` and its answer back, byte for byte.
async fn forward(
    mut stream: TcpStream,
    head: &str,
    mut body: Vec<u8>,
    path: &str,
    upstream: &str,
) -> std::io::Result<()> {
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut buf = [0u8; 8192];
    while body.len() < length {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    let method = head.split(' ').next().unwrap_or("GET");
    let mut out = TcpStream::connect(upstream).await?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {upstream}\r\nConnection: close\r\n");
    if let Some(ct) = header("content-type") {
        req.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    out.write_all(req.as_bytes()).await?;
    out.write_all(&body).await?;
    let mut answer = Vec::new();
    out.read_to_end(&mut answer).await?;
    stream.write_all(&answer).await?;
    stream.shutdown().await
}

async fn serve(
    mut stream: TcpStream,
    world: Arc<Mutex<World>>,
    changes: broadcast::Sender<Change>,
    token: String,
) -> std::io::Result<()> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    while !data.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        data.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&data).to_string();
    let first = head.lines().next().unwrap_or_default().to_string();
    let target = first.split(' ').nth(1).unwrap_or("/").to_string();
    world.lock().unwrap().requests.push(first.clone());
    let authorized = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {token}")));
    if !authorized {
        return reply(
            &mut stream,
            401,
            &status(401, "Unauthorized", "Unauthorized"),
        )
        .await;
    }
    let proxied = {
        let w = world.lock().unwrap();
        w.proxies
            .iter()
            .find(|(p, _)| target.starts_with(p.as_str()))
            .map(|(p, u)| (p.clone(), u.clone(), w.forbidden.contains(p)))
    };
    if let Some((prefix, upstream, forbidden)) = proxied {
        if forbidden {
            let msg = "services \"prometheus\" is forbidden: User \"sentinel\" cannot get resource \"services/proxy\"";
            return reply(&mut stream, 403, &status(403, "Forbidden", msg)).await;
        }
        let body_start = data.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
        let rest = &target[prefix.len()..];
        let rest = if rest.is_empty() { "/" } else { rest };
        return forward(stream, &head, data[body_start..].to_vec(), rest, &upstream).await;
    }
    let (path, params) = query(&target);
    if let Some(rest) = path.strip_prefix("/api/v1/namespaces/")
        && let Some(pod) = rest.strip_suffix("/log")
    {
        return logs(stream, &world, changes, pod.replace("/pods/", "/"), &params).await;
    }
    let served = !world.lock().unwrap().unserved.contains(&path);
    let Some((_, api, kind)) = COLLECTIONS
        .iter()
        .find(|(p, _, _)| *p == path)
        .filter(|_| served)
    else {
        let msg = format!("the server could not find the requested resource ({path})");
        return reply(&mut stream, 404, &status(404, "NotFound", &msg)).await;
    };
    let resource = path.rsplit('/').next().unwrap_or_default().to_string();
    let watch = matches!(params.get("watch").map(String::as_str), Some("true" | "1"));
    if world.lock().unwrap().forbidden.contains(&path) {
        let verb = if watch { "watch" } else { "list" };
        let group = api.split_once('/').map_or("", |(g, _)| g);
        let msg = format!(
            "{resource} is forbidden: User \"system:serviceaccount:sentinel:viewer\" cannot {verb} resource \"{resource}\" in API group \"{group}\" at the cluster scope"
        );
        return reply(&mut stream, 403, &status(403, "Forbidden", &msg)).await;
    }
    if !watch {
        let (delay, broken) = {
            let w = world.lock().unwrap();
            (w.slow.get(&path).copied(), w.malformed.contains(&path))
        };
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        if broken {
            let body = b"{\"kind\": \"PodList\", \"items\": [{\"metadata\": ";
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body).await?;
            return stream.shutdown().await;
        }
        let body = list(&world.lock().unwrap(), &path, &params, api, kind);
        return reply(&mut stream, 200, &body).await;
    }
    // A watch: history after the given version, then live changes.
    let since: u64 = params
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut rx = changes.subscribe();
    let (backlog, gone) = {
        let w = world.lock().unwrap();
        let gone = since + 1 < w.oldest;
        let backlog: Vec<(u64, String)> = w
            .log
            .iter()
            .filter(|(rv, c, _)| *rv > since && *c == path)
            .map(|(rv, _, l)| (*rv, l.clone()))
            .collect();
        (backlog, gone)
    };
    stream
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .await?;
    if gone {
        let msg = format!("too old resource version: {since}");
        let line = json!({"type": "ERROR", "object": status(410, "Expired", &msg)}).to_string();
        chunk(&mut stream, &line).await?;
    } else {
        let mut last = since;
        for (rv, line) in backlog {
            chunk(&mut stream, &line).await?;
            last = rv;
        }
        let timeout: u64 = params
            .get("timeoutSeconds")
            .and_then(|t| t.parse().ok())
            .unwrap_or(300);
        let until = tokio::time::Instant::now() + std::time::Duration::from_secs(timeout);
        loop {
            match tokio::time::timeout_at(until, rx.recv()).await {
                Ok(Ok(Change::Event { rv, path: p, line })) if p == path && rv > last => {
                    chunk(&mut stream, &line).await?;
                    last = rv;
                }
                Ok(Ok(Change::Event { .. } | Change::Log(..))) => {}
                Ok(Ok(Change::Compact)) | Err(_) => break,
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => break,
                Ok(Err(broadcast::error::RecvError::Closed)) => break,
            }
        }
    }
    stream.write_all(b"0\r\n\r\n").await?;
    stream.shutdown().await
}
