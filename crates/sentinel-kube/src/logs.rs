//! Container logs: a one-off tail, and a follow stream into a bounded
//! buffer the UI reads from a cursor. Lines longer than `MAX_LINE` are cut,
//! and the buffer drops its oldest lines past `MAX_LINES` or `MAX_BYTES`,
//! so a chatty container never grows the app.

use std::collections::VecDeque;

use futures_util::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};

/// Lines a buffer keeps.
pub const MAX_LINES: usize = 5000;
/// Bytes a buffer keeps.
pub const MAX_BYTES: usize = 2 << 20;
/// Bytes of one line kept (the rest is cut, marked with `…`).
pub const MAX_LINE: usize = 4096;
/// Lines a tail asks for at most.
pub const MAX_TAIL: i64 = 5000;

fn cut(mut line: String) -> String {
    if line.len() > MAX_LINE {
        let mut end = MAX_LINE;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push('…');
    }
    line
}

/// Numbered lines, oldest dropped first.
#[derive(Debug, Default)]
pub struct LogBuffer {
    lines: VecDeque<(u64, String)>,
    next: u64,
    bytes: usize,
    /// Why the stream ended, once it has.
    pub ended: Option<String>,
    /// A passing problem (a tail reconnecting), cleared when it passes.
    pub notice: Option<String>,
    /// Lines the server dropped before they reached us (Loki's tail says).
    pub upstream_dropped: u64,
}

impl LogBuffer {
    pub fn push(&mut self, line: String) {
        let line = cut(line);
        self.bytes += line.len();
        self.lines.push_back((self.next, line));
        self.next += 1;
        while self.lines.len() > MAX_LINES || self.bytes > MAX_BYTES {
            match self.lines.pop_front() {
                Some((_, l)) => self.bytes -= l.len(),
                None => break,
            }
        }
    }

    /// Lines numbered `after` or later, and how many before them were
    /// dropped unread.
    pub fn since(&self, after: u64) -> (Vec<(u64, String)>, u64) {
        let first = self.lines.front().map_or(self.next, |(n, _)| *n);
        let dropped = first.saturating_sub(after);
        let lines = self
            .lines
            .iter()
            .filter(|(n, _)| *n >= after)
            .cloned()
            .collect();
        (lines, dropped)
    }

    pub fn next(&self) -> u64 {
        self.next
    }

    pub fn add_dropped(&mut self, n: u64) {
        self.upstream_dropped = self.upstream_dropped.saturating_add(n);
    }
}

fn params(container: Option<&str>, tail: i64, follow: bool) -> LogParams {
    LogParams {
        container: container.map(str::to_string),
        follow,
        tail_lines: Some(tail.clamp(1, MAX_TAIL)),
        limit_bytes: (!follow).then_some(MAX_BYTES as i64),
        ..LogParams::default()
    }
}

fn describe(e: kube::Error, pod: &str) -> String {
    match e {
        kube::Error::Api(s) if s.code == 403 => format!(
            "403 Forbidden: the account may not read logs (RBAC needs get on pods/log): {}",
            s.message
        ),
        kube::Error::Api(s) => format!(
            "the API server answered {} for {pod}'s logs: {}",
            s.code, s.message
        ),
        e => format!("cannot read {pod}'s logs: {e}"),
    }
}

/// The last `tail` lines of a container's log.
pub async fn tail(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
    container: Option<&str>,
    tail: i64,
) -> Result<Vec<String>, String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let text = api
        .logs(pod, &params(container, tail, false))
        .await
        .map_err(|e| describe(e, pod))?;
    Ok(text.lines().map(|l| cut(l.to_string())).collect())
}

/// The last `tail` lines of the container instance that ran before the
/// current one (the log of a crash), else of the current one.
pub async fn previous(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
    container: &str,
    tail: i64,
) -> Result<Vec<String>, String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut lp = params(Some(container), tail, false);
    lp.previous = true;
    match api.logs(pod, &lp).await {
        Ok(text) => Ok(text.lines().map(|l| cut(l.to_string())).collect()),
        Err(_) => self::tail(client, namespace, pod, Some(container), tail).await,
    }
}

/// Follows a container's log into `buffer` until the stream ends or the
/// task is aborted; the end (or the error) is noted in the buffer.
pub async fn follow(
    client: kube::Client,
    namespace: String,
    pod: String,
    container: Option<String>,
    tail: i64,
    buffer: std::sync::Arc<std::sync::Mutex<LogBuffer>>,
) {
    let api: Api<Pod> = Api::namespaced(client, &namespace);
    let ended = match api
        .log_stream(&pod, &params(container.as_deref(), tail, true))
        .await
    {
        Err(e) => describe(e, &pod),
        Ok(reader) => {
            let mut lines = reader.lines();
            loop {
                match lines.next().await {
                    Some(Ok(line)) => match buffer.lock() {
                        Ok(mut b) => b.push(line),
                        Err(_) => return,
                    },
                    Some(Err(e)) => break format!("the log stream broke: {e}"),
                    None => break "the log stream ended (the container stopped?)".to_string(),
                }
            }
        }
    };
    if let Ok(mut b) = buffer.lock() {
        b.ended = Some(ended);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_is_bounded_and_read_from_a_cursor() {
        let mut b = LogBuffer::default();
        for i in 0..(MAX_LINES + 10) {
            b.push(format!("line {i}"));
        }
        let (lines, dropped) = b.since(0);
        assert_eq!(lines.len(), MAX_LINES);
        assert_eq!(dropped, 10);
        assert_eq!(lines[0], (10, "line 10".to_string()));
        let (tail, dropped) = b.since(b.next() - 2);
        assert_eq!((tail.len(), dropped), (2, 0));
        assert!(b.since(b.next()).0.is_empty());
    }

    #[test]
    fn long_lines_are_cut_on_a_char_boundary() {
        let mut b = LogBuffer::default();
        b.push("é".repeat(MAX_LINE));
        let (lines, _) = b.since(0);
        assert!(lines[0].1.len() <= MAX_LINE + '…'.len_utf8());
        assert!(lines[0].1.ends_with('…'));
        for _ in 0..2000 {
            b.push("x".repeat(MAX_LINE));
        }
        assert!(b.bytes <= MAX_BYTES);
    }
}
