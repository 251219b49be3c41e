//! Prometheus through the Kubernetes API server's service proxy, with the
//! cluster's own credentials: what Sentinel watches when a context is given
//! and no Prometheus URL.

use std::sync::Arc;
use std::time::Duration;

use sentinel_kube::proxy::{self, ProxyError};
use sentinel_prom::{Endpoint, Prometheus, Tunnel, TunnelError, TunnelFuture, TunnelRequest};

struct KubeTunnel {
    client: sentinel_kube::Client,
    context: String,
}

impl std::fmt::Debug for KubeTunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeTunnel")
            .field("context", &self.context)
            .finish()
    }
}

impl Tunnel for KubeTunnel {
    fn send(&self, req: TunnelRequest) -> TunnelFuture<'_> {
        Box::pin(async move {
            proxy::send(
                &self.client,
                req.method,
                &req.path_and_query,
                req.content_type,
                req.body,
                req.limit,
            )
            .await
            .map_err(|e| match e {
                ProxyError::TooLarge(_) => TunnelError::TooLarge,
                ProxyError::Connect(reason) => TunnelError::Connect(reason),
            })
        })
    }
}

/// A Prometheus at `path` (a service proxy path) of `conn`'s cluster.
pub fn through_proxy(
    conn: &sentinel_kube::Connection,
    path: &str,
    timeout: Duration,
) -> Result<Prometheus, String> {
    let mut e = Endpoint::new(format!("{}{path}", conn.server.trim_end_matches('/')));
    e.timeout = timeout;
    e.tunnel = Some(Arc::new(KubeTunnel {
        client: conn.client.clone(),
        context: conn.context.clone(),
    }));
    Prometheus::new(e).map_err(|e| e.to_string())
}

/// The first of the usual Prometheus services of `conn`'s cluster that
/// answers through the service proxy; the error says what was tried.
pub async fn discover_prometheus(
    conn: &sentinel_kube::Connection,
    timeout: Duration,
) -> Result<Prometheus, String> {
    let path =
        proxy::discover_prometheus(&conn.client, timeout.min(Duration::from_secs(5))).await?;
    tracing::info!(context = %conn.context, %path, "found Prometheus behind the service proxy");
    through_proxy(conn, &path, timeout)
}

/// How long to wait before looking again when no Prometheus was found.
const RETRY: Duration = Duration::from_secs(60);

/// A Prometheus source that first finds its Prometheus behind the service
/// proxy (the app's start is not held up by it). Until found, the source
/// is failing with the list of what was tried, and looks again every minute.
pub struct DiscoveredPrometheus {
    conn: sentinel_kube::Connection,
    interval: Duration,
    timeout: Duration,
    rule_series: crate::live::RuleSeries,
}

impl DiscoveredPrometheus {
    pub(crate) fn new(
        conn: sentinel_kube::Connection,
        interval: Duration,
        timeout: Duration,
        rule_series: crate::live::RuleSeries,
    ) -> Self {
        Self {
            conn,
            interval,
            timeout,
            rule_series,
        }
    }
}

impl crate::source::Source for DiscoveredPrometheus {
    fn name(&self) -> String {
        format!("prometheus ({} service proxy)", self.conn.context)
    }

    fn kind(&self) -> &'static str {
        "prometheus"
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    async fn run(self, ctx: crate::source::SourceCtx) {
        loop {
            match discover_prometheus(&self.conn, self.timeout).await {
                Ok(prom) => {
                    let source =
                        crate::live::PrometheusSource::new(self.name(), prom, self.interval)
                            .with_alerts()
                            .with_rule_series(self.rule_series);
                    return source.run(ctx).await;
                }
                Err(e) => {
                    if !ctx.failed(e).await {
                        return;
                    }
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }
}
