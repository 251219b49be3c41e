//! `sentinel watch`: the runtime against live sources, without the UI,
//! printing the same `Update` values as `sentinel demo`.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use sentinel_model::{Secret, Severity};
use sentinel_prom::{Alertmanager, Auth, Endpoint, Prometheus};
use sentinel_runtime::{Health, Runtime, SystemClock};

#[derive(Args)]
pub struct WatchArgs {
    /// Prometheus base URL, e.g. http://127.0.0.1:9090.
    #[arg(long, required_unless_present_any = ["context", "kubeconfig"])]
    prometheus: Option<String>,
    /// Watch this Kubernetes context (pods, nodes, events, rollouts) from
    /// the kubeconfig; its objects replace kube-state-metrics' view.
    #[arg(long)]
    context: Option<String>,
    /// The kubeconfig to read (default: KUBECONFIG, several files merged,
    /// else ~/.kube/config); alone, it watches its current context.
    #[arg(long)]
    kubeconfig: Option<std::path::PathBuf>,
    /// Alertmanager base URL; without it the alert feed comes from Prometheus.
    #[arg(long, requires = "prometheus")]
    alertmanager: Option<String>,
    /// Print one complete snapshot (after every source answered or failed) and exit 0.
    #[arg(long)]
    once: bool,
    /// Print one JSON `Update` per line.
    #[arg(long)]
    json: bool,
    /// Poll interval.
    #[arg(long, default_value = "5s", value_parser = crate::duration::parse)]
    interval: Duration,
    /// Timeout of each request.
    #[arg(long, default_value = "10s", value_parser = crate::duration::parse)]
    timeout: Duration,
    /// Stop after this long (default: until interrupted).
    #[arg(long, value_parser = crate::duration::parse)]
    duration: Option<Duration>,
    /// Name of an environment variable holding a bearer token (never pass
    /// a token on the command line: other users can read it).
    #[arg(long, value_name = "VAR", conflicts_with = "token_keyring")]
    token_env: Option<String>,
    /// Name of a bearer token stored with `sentinel secret set NAME`.
    #[arg(long, value_name = "NAME")]
    token_keyring: Option<String>,
    /// Basic-auth user; the password comes from --password-env.
    #[arg(long, requires = "password_env")]
    user: Option<String>,
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// A PEM file of extra CA certificates to trust.
    #[arg(long)]
    ca: Option<std::path::PathBuf>,
    /// Record the engine's input and findings into this history file.
    #[arg(long)]
    db: Option<std::path::PathBuf>,
    /// Rule files added to the default pack (Sentinel's format, or
    /// Prometheus alerting rules: those Sentinel can evaluate are imported).
    #[arg(long = "rules", value_name = "FILE")]
    rules: Vec<std::path::PathBuf>,
}

fn env_secret(var: &str) -> anyhow::Result<Secret> {
    let v =
        std::env::var(var).map_err(|_| anyhow::anyhow!("environment variable {var} is not set"))?;
    anyhow::ensure!(!v.is_empty(), "environment variable {var} is empty");
    Ok(Secret::new(v))
}

/// The bearer token stored under `name`, read off the async threads (the
/// keyring blocks on D-Bus).
async fn keyring_token(name: &str) -> anyhow::Result<Secret> {
    let owned = name.to_string();
    let found = tokio::task::spawn_blocking(move || {
        sentinel_secrets::Vault::os(sentinel_secrets::SERVICE).get(&owned)
    })
    .await??;
    found
        .ok_or_else(|| anyhow::anyhow!("{name} is not in the keyring (sentinel secret set {name})"))
}

fn endpoint(url: &str, args: &WatchArgs, keyring: Option<&Secret>) -> anyhow::Result<Endpoint> {
    let mut e = Endpoint::new(url);
    e.timeout = args.timeout;
    e.auth = match (keyring, &args.token_env, &args.user, &args.password_env) {
        (Some(token), ..) => Auth::Bearer(token.clone()),
        (None, Some(var), _, _) => Auth::Bearer(env_secret(var)?),
        (None, None, Some(user), Some(var)) => Auth::Basic {
            user: user.clone(),
            password: env_secret(var)?,
        },
        _ => Auth::None,
    };
    if let Some(path) = &args.ca {
        e.tls.ca_pem = Some(
            std::fs::read(path)
                .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))?,
        );
    }
    Ok(e)
}

pub async fn run(args: WatchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.interval >= Duration::from_secs(1),
        "--interval must be at least 1s"
    );
    let token = match &args.token_keyring {
        Some(name) => Some(keyring_token(name).await?),
        None => None,
    };
    let rules = crate::rules::with_default_pack(&args.rules)?;
    let mut builder = Runtime::builder(std::sync::Arc::new(SystemClock)).rules(rules);
    if let Some(url) = &args.prometheus {
        let prom = Prometheus::new(endpoint(url, &args, token.as_ref())?)?;
        let am = match &args.alertmanager {
            Some(url) => Some(Alertmanager::new(endpoint(url, &args, token.as_ref())?)?),
            None => None,
        };
        builder = builder.live(prom, am, args.interval);
    }
    if args.context.is_some() || args.kubeconfig.is_some() {
        let conn =
            sentinel_kube::connect(args.kubeconfig.as_deref(), args.context.as_deref()).await?;
        if args.prometheus.is_none() {
            // No URL: look for Prometheus behind the API server's service proxy.
            match sentinel_runtime::kube_proxy::discover_prometheus(&conn, args.timeout).await {
                Ok(prom) => {
                    eprintln!("Prometheus: {}", prom.url());
                    builder = builder.live(prom, None, args.interval);
                }
                Err(e) => {
                    eprintln!("{e}");
                    builder = builder.notice(Severity::Warning, format!("Prometheus: {e}"));
                }
            }
        }
        builder = builder.kubernetes(conn, args.interval);
    }
    if let Some(path) = &args.db {
        let now = sentinel_runtime::Clock::now(&SystemClock);
        let opened = sentinel_store::Store::open(path, now).await?;
        if let Some(notice) = opened.notice {
            eprintln!("{notice}");
            builder = builder.notice(Severity::Warning, notice);
        }
        builder = builder.history(opened.store);
    }
    let rt = builder.start();
    let stdout = std::io::stdout();
    if args.once {
        // Every source has answered (or failed): the snapshot is complete.
        let bound = args.timeout * 3 + args.interval * 2;
        let snap = tokio::time::timeout(
            bound,
            rt.wait_for(|s| {
                s.sources
                    .iter()
                    .all(|src| src.health != Health::Starting || src.last_error.is_some())
            }),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_else(|| rt.snapshot());
        let mut out = stdout.lock();
        let written =
            crate::demo::write_snapshot(&mut out, &snap, args.json).and_then(|()| Ok(out.flush()?));
        // A closed pipe (`| head -1`) is the reader's choice, not an error.
        if let Err(e) = written
            && e.downcast_ref::<std::io::Error>()
                .is_none_or(|e| e.kind() != std::io::ErrorKind::BrokenPipe)
        {
            return Err(e);
        }
        rt.shutdown(Duration::from_secs(30)).await;
        return Ok(());
    }
    let mut rx = rt.subscribe();
    let deadline = args.duration.map(|d| tokio::time::Instant::now() + d);
    let mut last = None;
    loop {
        tokio::select! {
            changed = rx.changed() => if changed.is_err() { break },
            () = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => break,
            _ = tokio::signal::ctrl_c() => break,
        }
        let snap = rx.borrow_and_update().clone();
        // One snapshot per new data or per change of a source's health.
        let key = (
            snap.data_at,
            snap.sources
                .iter()
                .map(|s| (s.health, s.last_error.clone()))
                .collect::<Vec<_>>(),
        );
        if last.as_ref() == Some(&key) {
            continue;
        }
        last = Some(key);
        let mut out = stdout.lock();
        if crate::demo::write_snapshot(&mut out, &snap, args.json).is_err() || out.flush().is_err()
        {
            break;
        }
    }
    rt.shutdown(Duration::from_secs(30)).await;
    Ok(())
}
