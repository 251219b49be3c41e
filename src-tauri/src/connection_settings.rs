//! Connections as the settings hold them: one per kind in each cluster,
//! read out as the page's specs, put in (checked) and taken out, and the
//! settings file written so that a failure keeps the old one whole.

use std::path::{Path, PathBuf};

use sentinel_protocol::{ConnectionKind, ConnectionSpec, ErrorKind, IpcError};

use crate::settings::{ClusterSettings, Connection, KubeSettings, Settings};

type Res<T> = Result<T, IpcError>;

pub(crate) fn invalid(message: impl Into<String>) -> IpcError {
    IpcError::new(ErrorKind::InvalidArgument, message)
}

fn opt_path(s: &Option<String>) -> Option<PathBuf> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
}

fn opt_text(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The connections of one cluster's settings, in kind order.
fn cluster_specs(cluster: &str, c: &ClusterSettings) -> Vec<ConnectionSpec> {
    let http = |kind, conn: &Connection| ConnectionSpec {
        cluster: cluster.to_string(),
        url: conn.url.clone(),
        token_name: conn.token_keyring.clone(),
        ca_file: conn.ca_file.as_ref().map(|p| p.display().to_string()),
        insecure_skip_verify: conn.insecure_skip_verify,
        ..ConnectionSpec::new(kind)
    };
    let mut out = Vec::new();
    if let Some(p) = &c.prometheus {
        out.push(http(ConnectionKind::Prometheus, p));
    }
    if let Some(a) = &c.alertmanager {
        out.push(http(ConnectionKind::Alertmanager, a));
    }
    if let Some(l) = &c.loki {
        out.push(http(ConnectionKind::Loki, l));
    }
    if let Some(k) = &c.kubernetes {
        out.push(ConnectionSpec {
            cluster: cluster.to_string(),
            kubeconfig: k.kubeconfig.as_ref().map(|p| p.display().to_string()),
            context: k.context.clone(),
            discover_prometheus: k.discover_prometheus,
            ..ConnectionSpec::new(ConnectionKind::Kubernetes)
        });
    }
    out
}

fn top(settings: &Settings) -> ClusterSettings {
    ClusterSettings {
        name: settings.cluster_name(),
        prometheus: settings.prometheus.clone(),
        alertmanager: settings.alertmanager.clone(),
        kubernetes: settings.kubernetes.clone(),
        loki: settings.loki.clone(),
    }
}

/// Every cluster's connections: the first cluster's, then the others'.
pub fn specs(settings: &Settings) -> Vec<ConnectionSpec> {
    let first = top(settings);
    let mut out = cluster_specs(&first.name, &first);
    for c in &settings.clusters {
        out.extend(cluster_specs(&c.name, c));
    }
    out
}

/// Where a connection of `cluster` goes: the first cluster (`None`) or the
/// index of another. A new name starts a cluster, unless the first one has
/// no connections yet (then it takes the name).
fn slot(settings: &mut Settings, cluster: &str, create: bool) -> Res<Option<usize>> {
    let name = cluster.trim();
    if name.is_empty() || name == settings.cluster_name() {
        return Ok(None);
    }
    if let Some(i) = settings.clusters.iter().position(|c| c.name == name) {
        return Ok(Some(i));
    }
    if !create {
        return Err(invalid(format!("no cluster named {name:?}")));
    }
    if !settings.has_connections() && settings.loki.is_none() {
        settings.cluster = Some(name.to_string());
        return Ok(None);
    }
    settings.clusters.push(ClusterSettings {
        name: name.to_string(),
        prometheus: None,
        alertmanager: None,
        kubernetes: None,
        loki: None,
    });
    Ok(Some(settings.clusters.len() - 1))
}

fn with_slot<T>(
    settings: &mut Settings,
    at: Option<usize>,
    f: impl FnOnce(&mut ClusterSettings) -> Res<T>,
) -> Res<T> {
    match at {
        Some(i) => f(&mut settings.clusters[i]),
        None => {
            let mut c = top(settings);
            let out = f(&mut c)?;
            settings.prometheus = c.prometheus;
            settings.alertmanager = c.alertmanager;
            settings.kubernetes = c.kubernetes;
            settings.loki = c.loki;
            Ok(out)
        }
    }
}

/// Checks a connection and writes it into `settings` (replacing the one of
/// its kind in its cluster).
pub fn put(settings: &mut Settings, spec: &ConnectionSpec) -> Res<()> {
    let conn = match spec.kind {
        ConnectionKind::Prometheus | ConnectionKind::Alertmanager | ConnectionKind::Loki => {
            let url = spec.url.trim();
            let parsed = url::Url::parse(url)
                .map_err(|e| invalid(format!("the URL {url:?} is not valid: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(invalid("the URL must start with http:// or https://"));
            }
            if let Some(name) = opt_text(&spec.token_name) {
                sentinel_secrets::check_name(&name).map_err(|e| invalid(e.to_string()))?;
            }
            Some(Connection {
                url: url.to_string(),
                token_keyring: opt_text(&spec.token_name),
                ca_file: opt_path(&spec.ca_file),
                insecure_skip_verify: spec.insecure_skip_verify,
            })
        }
        ConnectionKind::Kubernetes => None,
    };
    if spec.cluster.trim().chars().any(|c| c.is_control()) || spec.cluster.len() > 100 {
        return Err(invalid(
            "a cluster name is up to 100 characters, none of them control characters",
        ));
    }
    let at = slot(settings, &spec.cluster, true)?;
    with_slot(settings, at, |c| {
        match spec.kind {
            ConnectionKind::Prometheus => c.prometheus = conn,
            ConnectionKind::Loki => c.loki = conn,
            ConnectionKind::Alertmanager => {
                if c.prometheus.is_none() {
                    return Err(invalid(
                        "add the Prometheus first: the alert feed sits beside its data",
                    ));
                }
                c.alertmanager = conn;
            }
            ConnectionKind::Kubernetes => {
                c.kubernetes = Some(KubeSettings {
                    context: opt_text(&spec.context),
                    kubeconfig: opt_path(&spec.kubeconfig),
                    discover_prometheus: spec.discover_prometheus,
                });
            }
        }
        Ok(())
    })
}

pub fn remove(settings: &mut Settings, cluster: &str, kind: ConnectionKind) -> Res<()> {
    let at = slot(settings, cluster, false)?;
    with_slot(settings, at, |c| {
        match kind {
            ConnectionKind::Prometheus => {
                c.prometheus = None;
                // Sentinel reads Alertmanager only beside a Prometheus.
                c.alertmanager = None;
            }
            ConnectionKind::Alertmanager => c.alertmanager = None,
            ConnectionKind::Kubernetes => c.kubernetes = None,
            ConnectionKind::Loki => c.loki = None,
        }
        Ok(())
    })?;
    // A cluster with nothing left goes.
    settings.clusters.retain(|c| !c.is_empty());
    Ok(())
}

/// Writes the settings next to the old file and renames it into place, so
/// a crash or a full disk leaves the old file whole.
pub fn write(path: &Path, settings: &Settings) -> Res<()> {
    let text = toml::to_string_pretty(settings)
        .map_err(|e| IpcError::new(ErrorKind::Internal, format!("cannot write settings: {e}")))?;
    let fail = |e: std::io::Error| {
        IpcError::new(
            ErrorKind::Unavailable,
            format!("cannot save the settings to {}: {e}", path.display()),
        )
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = path.with_extension("toml.saving");
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_go_into_settings_and_come_back_the_same() {
        let mut s = Settings::default();
        let prom = ConnectionSpec {
            url: " https://prom.example:9090 ".into(),
            token_name: Some("prod/prometheus".into()),
            ca_file: Some("/etc/ca.pem".into()),
            ..ConnectionSpec::new(ConnectionKind::Prometheus)
        };
        let am = ConnectionSpec {
            url: "http://am:9093".into(),
            token_name: Some(" ".into()),
            ..ConnectionSpec::new(ConnectionKind::Alertmanager)
        };
        let kube = ConnectionSpec {
            context: Some("prod-eu".into()),
            ..ConnectionSpec::new(ConnectionKind::Kubernetes)
        };
        assert!(
            put(&mut s, &am)
                .unwrap_err()
                .message
                .contains("Prometheus first")
        );
        put(&mut s, &prom).unwrap();
        put(&mut s, &am).unwrap();
        put(&mut s, &kube).unwrap();
        let got = specs(&s);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].url, "https://prom.example:9090");
        assert_eq!(got[0].token_name.as_deref(), Some("prod/prometheus"));
        assert_eq!(got[1].token_name, None, "a blank name is no name");
        assert_eq!(got[2].context.as_deref(), Some("prod-eu"));
        assert!(got[2].discover_prometheus);

        let bad = ConnectionSpec {
            url: "ftp://x".into(),
            ..ConnectionSpec::new(ConnectionKind::Prometheus)
        };
        assert!(put(&mut s, &bad).unwrap_err().message.contains("http://"));
        let bad = ConnectionSpec {
            url: "not a url".into(),
            ..ConnectionSpec::new(ConnectionKind::Prometheus)
        };
        assert!(
            put(&mut s, &bad)
                .unwrap_err()
                .message
                .contains("is not valid")
        );

        remove(&mut s, "", ConnectionKind::Prometheus).unwrap();
        assert_eq!(specs(&s).len(), 1, "its Alertmanager goes with it");
    }

    #[test]
    fn connections_of_several_clusters_live_side_by_side() {
        let mut s = Settings::default();
        let prom = |cluster: &str, url: &str| ConnectionSpec {
            cluster: cluster.into(),
            url: url.into(),
            ..ConnectionSpec::new(ConnectionKind::Prometheus)
        };
        // The first named connection names the first cluster.
        put(&mut s, &prom("eu", "http://eu:9090")).unwrap();
        assert_eq!(s.cluster_name(), "eu");
        put(&mut s, &prom("us", "http://us:9090")).unwrap();
        put(
            &mut s,
            &ConnectionSpec {
                cluster: "us".into(),
                context: Some("us-1".into()),
                ..ConnectionSpec::new(ConnectionKind::Kubernetes)
            },
        )
        .unwrap();
        let all = specs(&s);
        let seen: Vec<(&str, ConnectionKind)> =
            all.iter().map(|c| (c.cluster.as_str(), c.kind)).collect();
        assert_eq!(
            seen,
            [
                ("eu", ConnectionKind::Prometheus),
                ("us", ConnectionKind::Prometheus),
                ("us", ConnectionKind::Kubernetes)
            ]
        );
        // Replacing keeps one per kind and cluster.
        put(&mut s, &prom("us", "http://us2:9090")).unwrap();
        assert_eq!(
            s.clusters[0].prometheus.as_ref().unwrap().url,
            "http://us2:9090"
        );
        assert_eq!(s.prometheus.as_ref().unwrap().url, "http://eu:9090");
        // The settings say it back after a save and load.
        let text = toml::to_string_pretty(&s).unwrap();
        let again: Settings = toml::from_str(&text).unwrap();
        assert_eq!(again, s);
        // A cluster whose last connection goes, goes.
        remove(&mut s, "us", ConnectionKind::Prometheus).unwrap();
        remove(&mut s, "us", ConnectionKind::Kubernetes).unwrap();
        assert!(s.clusters.is_empty());
        assert!(remove(&mut s, "nowhere", ConnectionKind::Loki).is_err());
    }

    #[test]
    fn saved_settings_load_again_and_a_failed_save_keeps_the_old_file() {
        let dir = std::env::temp_dir().join(format!("sentinel-conn-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("settings.toml");
        let mut s = Settings::default();
        put(
            &mut s,
            &ConnectionSpec {
                url: "http://127.0.0.1:9090".into(),
                token_name: Some("lab/prom".into()),
                ..ConnectionSpec::new(ConnectionKind::Prometheus)
            },
        )
        .unwrap();
        write(&path, &s).unwrap();
        let loaded = crate::settings::load(&path);
        assert!(loaded.notice.is_none(), "{:?}", loaded.notice);
        assert_eq!(loaded.settings, s);
        // A directory where the temp file goes: the save fails, the file stays.
        std::fs::create_dir_all(path.with_extension("toml.saving")).unwrap();
        let mut t = s.clone();
        remove(&mut t, "", ConnectionKind::Prometheus).unwrap();
        let err = write(&path, &t).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unavailable);
        assert_eq!(crate::settings::load(&path).settings, s);
        let _ = std::fs::remove_dir_all(dir);
    }
}
