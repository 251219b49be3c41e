//! "Test connection": each check a source's first polls would make, in
//! order, and what it found, with the same words the status bar and the
//! empty charts use.

use std::time::Instant;

use sentinel_model::Timestamp;
use sentinel_prom::identify::{self, ServerKind};
use sentinel_prom::{AlertFilter, Alertmanager, Endpoint, Prometheus};
use sentinel_protocol::{Check, TestReport};

fn check(name: &str, ok: bool, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok,
        detail: detail.into(),
    }
}

fn report(checks: Vec<Check>, latency_ms: Option<i64>) -> TestReport {
    TestReport {
        ok: !checks.is_empty() && checks.iter().all(|c| c.ok),
        latency_ms,
        checks,
    }
}

fn ms(since: Instant) -> i64 {
    i64::try_from(since.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// The first check of every test: one request, timed. `Err` is the whole
/// report when the server cannot be reached (nothing after it can work);
/// when something else answered there (Alertmanager in the Prometheus form,
/// a browser URL with its page path), it says what, and what to type.
async fn reach<T>(
    request: impl std::future::Future<Output = Result<T, sentinel_prom::PromError>>,
    said: impl FnOnce(T) -> String,
    (asked, endpoint): (ServerKind, &Endpoint),
) -> Result<(Vec<Check>, i64), TestReport> {
    let began = Instant::now();
    let answer = request.await;
    let latency = ms(began);
    match answer {
        Ok(v) => Ok((vec![check("reach", true, said(v))], latency)),
        Err(e) => {
            let mut checks = vec![check("reach", false, e.to_string())];
            if identify::worth_identifying(&e)
                && let Some(found) = identify::identify(endpoint).await
            {
                let advice = identify::advice(asked, &endpoint.url, &found);
                checks.push(check("what answers", false, advice));
            }
            Err(report(checks, None))
        }
    }
}

/// Reaches Prometheus, runs a query, says why any dashboard panel would be
/// empty, and what a service mesh's metrics say of calls between services.
pub async fn test_prometheus(prom: &Prometheus, now: Timestamp) -> TestReport {
    let (mut checks, latency) = match reach(
        prom.version(),
        |v| format!("Prometheus {v} at {}", prom.url()),
        (ServerKind::Prometheus, prom.endpoint()),
    )
    .await
    {
        Ok(r) => r,
        Err(failed) => return failed,
    };
    match prom.query("count(up == 1) or vector(0)", now).await {
        Ok(data) => {
            let up = data
                .into_series()
                .first()
                .and_then(|s| s.values.first().map(|p| p.value))
                .unwrap_or(0.0);
            checks.push(check("query", true, format!("{up} scrape targets up")));
        }
        Err(e) => checks.push(check("query", false, e.to_string())),
    }
    match sentinel_prom::diagnose::diagnose(prom, now).await {
        Ok(found) if found.is_empty() => {
            checks.push(check("dashboard", true, "every panel has its metrics"));
        }
        Ok(found) => {
            for d in found {
                checks.push(check(&format!("panel {}", d.panel), false, d.message));
            }
        }
        Err(e) => checks.push(check("dashboard", false, format!("cannot diagnose: {e}"))),
    }
    // Optional: without a mesh the check passes and says what is missing.
    match sentinel_prom::calls::call_graph(prom, now).await {
        Ok(g) => checks.push(check("call graph", true, g.describe())),
        Err(e) => checks.push(check("call graph", false, e.to_string())),
    }
    report(checks, Some(latency))
}

/// Reaches Alertmanager and reads its alerts and silences.
pub async fn test_alertmanager(am: &Alertmanager) -> TestReport {
    let (mut checks, latency) = match reach(
        am.version(),
        |v| format!("Alertmanager {v} at {}", am.url()),
        (ServerKind::Alertmanager, am.endpoint()),
    )
    .await
    {
        Ok(r) => r,
        Err(failed) => return failed,
    };
    match am.alerts(&AlertFilter::default()).await {
        Ok(a) => checks.push(check("alerts", true, format!("{} alerts", a.len()))),
        Err(e) => checks.push(check("alerts", false, e.to_string())),
    }
    match am.silences().await {
        Ok(s) => checks.push(check("silences", true, format!("{} silences", s.len()))),
        Err(e) => checks.push(check("silences", false, e.to_string())),
    }
    report(checks, Some(latency))
}

/// Reaches Loki and checks that container logs can be found by the labels
/// Sentinel asks for (`namespace`, `pod`, `container`).
pub async fn test_loki(loki: &sentinel_prom::Loki) -> TestReport {
    let (mut checks, latency) = match reach(
        loki.ready(),
        |()| format!("Loki ready at {}", loki.url()),
        (ServerKind::Loki, loki.endpoint()),
    )
    .await
    {
        Ok(r) => r,
        Err(failed) => return failed,
    };
    match loki.labels().await {
        Ok(labels) => {
            let missing: Vec<&str> = ["namespace", "pod"]
                .into_iter()
                .filter(|l| !labels.iter().any(|x| x == l))
                .collect();
            if missing.is_empty() {
                checks.push(check(
                    "labels",
                    true,
                    "streams carry namespace and pod labels",
                ));
            } else {
                checks.push(check(
                    "labels",
                    false,
                    format!(
                        "no stream carries {}: container logs are found by these labels (have: {})",
                        missing.join(", "),
                        labels.join(", ")
                    ),
                ));
            }
        }
        Err(e) => checks.push(check("labels", false, e.to_string())),
    }
    report(checks, Some(latency))
}

/// Reaches the API server of a kubeconfig context, lists each kind the
/// source watches (naming the RBAC rule a refusal needs), and looks for
/// Prometheus behind the service proxy when asked to.
pub async fn test_kubernetes(
    kubeconfig: Option<&std::path::Path>,
    context: Option<&str>,
    discover_prometheus: bool,
) -> TestReport {
    use sentinel_kube::Watched;
    use sentinel_model::WorkloadKind;
    let mut checks = Vec::new();
    let conn = match sentinel_kube::connect(kubeconfig, context).await {
        Ok(c) => {
            checks.push(check(
                "kubeconfig",
                true,
                format!("context {} at {}", c.context, c.server),
            ));
            c
        }
        Err(e) => {
            checks.push(check("kubeconfig", false, e.to_string()));
            return report(checks, None);
        }
    };
    let began = Instant::now();
    let mut latency = None;
    for what in [
        Watched::Pods,
        Watched::Nodes,
        Watched::Events,
        Watched::Workloads(WorkloadKind::Deployment),
        Watched::Workloads(WorkloadKind::ReplicaSet),
        Watched::Workloads(WorkloadKind::Job),
        Watched::Services,
    ] {
        let r = sentinel_kube::watch::probe(&conn.client, what).await;
        latency.get_or_insert_with(|| ms(began));
        let name = format!("list {}", what.as_str());
        match r {
            Ok(()) => checks.push(check(&name, true, "allowed")),
            Err(e) => checks.push(check(&name, false, e)),
        }
        if what == Watched::Pods && !checks.last().is_some_and(|c| c.ok) {
            // Nothing else will answer either.
            return report(checks, latency);
        }
    }
    if discover_prometheus {
        let timeout = std::time::Duration::from_secs(5);
        match sentinel_runtime::kube_proxy::discover_prometheus(&conn, timeout).await {
            Ok(p) => checks.push(check("prometheus", true, format!("found at {}", p.url()))),
            Err(e) => checks.push(check("prometheus", false, e)),
        }
    }
    report(checks, latency)
}
