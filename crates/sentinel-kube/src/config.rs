//! Kubeconfig: the contexts a user has (`KUBECONFIG`, several files merged,
//! or `~/.kube/config`), and a client for one of them. Authentication is
//! whatever kube-rs supports from the file: tokens, client certificates,
//! exec plugins (cloud CLIs), OIDC.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("cannot read the kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("no context named {name:?} in the kubeconfig (it has: {known})")]
    UnknownContext { name: String, known: String },
    #[error("cannot set up a client for context {context:?}: {reason}")]
    Client { context: String, reason: String },
}

/// The contexts of a kubeconfig, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contexts {
    pub current: Option<String>,
    pub names: Vec<String>,
}

fn read(path: Option<&Path>) -> Result<Kubeconfig, KubeError> {
    match path {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    }
    .map_err(|e| KubeError::Kubeconfig(e.to_string()))
}

pub fn contexts(path: Option<&Path>) -> Result<Contexts, KubeError> {
    let k = read(path)?;
    Ok(Contexts {
        current: k.current_context.clone(),
        names: k.contexts.iter().map(|c| c.name.clone()).collect(),
    })
}

/// A client for one context, and what it points at.
#[derive(Clone)]
pub struct Connection {
    pub client: kube::Client,
    pub context: String,
    pub server: String,
}

/// Connects to `context` (the current one when `None`). Nothing is sent
/// until the first watch starts.
pub async fn connect(path: Option<&Path>, context: Option<&str>) -> Result<Connection, KubeError> {
    let k = read(path)?;
    let name = match context {
        Some(c) => c.to_string(),
        None => k
            .current_context
            .clone()
            .ok_or_else(|| KubeError::Kubeconfig("it names no current-context; pick one".into()))?,
    };
    if !k.contexts.iter().any(|c| c.name == name) {
        return Err(KubeError::UnknownContext {
            name,
            known: k
                .contexts
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let opts = KubeConfigOptions {
        context: Some(name.clone()),
        ..KubeConfigOptions::default()
    };
    let fail = |reason: String| KubeError::Client {
        context: name.clone(),
        reason,
    };
    let config = kube::Config::from_custom_kubeconfig(k, &opts)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).map_err(|e| fail(e.to_string()))?;
    Ok(Connection {
        client,
        context: name,
        server,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const TWO: &str = "apiVersion: v1
kind: Config
current-context: staging
clusters:
- name: prod
  cluster: {server: 'https://prod.example:6443'}
- name: staging
  cluster: {server: 'http://127.0.0.1:1'}
users:
- name: ops
  user: {token: not-a-real-token}
contexts:
- name: prod
  context: {cluster: prod, user: ops}
- name: staging
  context: {cluster: staging, user: ops, namespace: default}
";

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("sentinel-kube-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("config");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn contexts_and_the_current_one() {
        let p = file("two", TWO);
        let c = contexts(Some(&p)).unwrap();
        assert_eq!(c.current.as_deref(), Some("staging"));
        assert_eq!(c.names, ["prod", "staging"]);
    }

    #[tokio::test]
    async fn connect_picks_a_context_and_names_unknown_ones() {
        let p = file("connect", TWO);
        let c = connect(Some(&p), None).await.unwrap();
        assert_eq!(
            (c.context.as_str(), c.server.as_str()),
            ("staging", "http://127.0.0.1:1/")
        );
        let c = connect(Some(&p), Some("prod")).await.unwrap();
        assert_eq!(c.server, "https://prod.example:6443/");
        let e = connect(Some(&p), Some("dev"))
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("\"dev\"") && e.contains("prod, staging"), "{e}");
    }

    #[test]
    fn a_broken_file_is_a_clear_error() {
        let p = file("broken", "clusters: [[[");
        let e = contexts(Some(&p)).unwrap_err().to_string();
        assert!(e.starts_with("cannot read the kubeconfig"), "{e}");
    }
}
