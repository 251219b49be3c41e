//! The API server's service proxy: requests to a Service inside the
//! cluster (`/api/v1/namespaces/NS/services/NAME:PORT/proxy/…`) with the
//! cluster's own credentials, whatever kind they are (tokens, certificates,
//! exec plugins). This is how Sentinel reaches a Prometheus that has no
//! address outside the cluster, as Lens does.

use std::time::Duration;

use http_body_util::BodyExt;
use kube::client::Body;

/// Where Prometheus usually lives: (namespace, service, port), in the
/// order tried. kube-prometheus and the Prometheus Operator, the
/// kube-prometheus-stack and prometheus Helm charts, Lens' own metrics.
pub const PROMETHEUS_SERVICES: [(&str, &str, &str); 9] = [
    ("monitoring", "prometheus-k8s", "9090"),
    ("monitoring", "prometheus-operated", "9090"),
    ("monitoring", "kube-prometheus-stack-prometheus", "9090"),
    (
        "monitoring",
        "prometheus-kube-prometheus-prometheus",
        "9090",
    ),
    ("monitoring", "prometheus-server", "80"),
    ("prometheus", "prometheus-server", "80"),
    ("default", "prometheus-server", "80"),
    ("lens-metrics", "prometheus", "80"),
    ("kube-system", "prometheus", "9090"),
];

/// The proxy path of a service port.
pub fn service_path(namespace: &str, service: &str, port: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy")
}

/// Why a proxied request got no answer.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProxyError {
    #[error("{0}")]
    Connect(String),
    #[error("the answer is larger than the {0}-byte limit")]
    TooLarge(usize),
}

/// Sends one request through the API server; the status and body come
/// back whatever the status (the caller reads them as Prometheus' own).
/// At most `limit` bytes of body are read.
pub async fn send(
    client: &kube::Client,
    method: &str,
    path_and_query: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
    limit: usize,
) -> Result<(u16, Vec<u8>), ProxyError> {
    let mut req = http::Request::builder().method(method).uri(path_and_query);
    if let Some(ct) = content_type {
        req = req.header(http::header::CONTENT_TYPE, ct);
    }
    let req = req
        .body(Body::from(body))
        .map_err(|e| ProxyError::Connect(format!("bad request: {e}")))?;
    let resp = client
        .send(req)
        .await
        .map_err(|e| ProxyError::Connect(e.to_string()))?;
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ProxyError::Connect(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ProxyError::TooLarge(limit));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok((status, buf))
}

/// Finds Prometheus behind the service proxy: the first of
/// [`PROMETHEUS_SERVICES`] that answers `/api/v1/status/buildinfo` like a
/// Prometheus. The error lists what was tried and what each said.
pub async fn discover_prometheus(
    client: &kube::Client,
    timeout: Duration,
) -> Result<String, String> {
    let mut tried = Vec::new();
    for (ns, svc, port) in PROMETHEUS_SERVICES {
        let path = service_path(ns, svc, port);
        let probe = format!("{path}/api/v1/status/buildinfo");
        let said = match tokio::time::timeout(
            timeout,
            send(client, "GET", &probe, None, Vec::new(), 1 << 20),
        )
        .await
        {
            Err(_) => format!("no answer within {timeout:?}"),
            Ok(Err(e)) => e.to_string(),
            Ok(Ok((200, body))) if is_prometheus(&body) => return Ok(path),
            Ok(Ok((200, _))) => "answers, but not as Prometheus".into(),
            Ok(Ok((403, _))) => "403 Forbidden: the credentials may not get services/proxy".into(),
            Ok(Ok((404, _))) => "no such service".into(),
            Ok(Ok((code, _))) => format!("HTTP {code}"),
        };
        tried.push(format!("{ns}/{svc}:{port} ({said})"));
    }
    Err(format!(
        "no Prometheus found through the API server's service proxy; tried {}",
        tried.join(", ")
    ))
}

fn is_prometheus(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .is_ok_and(|v| v["status"] == "success" && v["data"]["version"].is_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prometheus_is_told_by_its_build_info() {
        assert!(is_prometheus(
            br#"{"status":"success","data":{"version":"2.42.0","revision":"x"}}"#
        ));
        assert!(!is_prometheus(br#"{"status":"success","data":{}}"#));
        assert!(!is_prometheus(b"<html>Grafana</html>"));
        assert_eq!(
            service_path("monitoring", "prometheus-k8s", "9090"),
            "/api/v1/namespaces/monitoring/services/prometheus-k8s:9090/proxy"
        );
    }
}
