//! Live sources from the settings: endpoints with their TLS settings and the
//! keyring credentials they name. Runs before the async runtime starts (the
//! keyring blocks on D-Bus).

use sentinel_model::Severity;
use sentinel_prom::openai::ChatClient;
use sentinel_prom::{Alertmanager, Auth, Endpoint, Prometheus};
use sentinel_secrets::{SERVICE, Vault};

use crate::keys::Keys;
use crate::settings::{Connection, Settings};

/// The clients the live runtime polls.
#[derive(Debug, Clone)]
pub struct Live {
    pub prometheus: Prometheus,
    pub alertmanager: Option<Alertmanager>,
}

fn endpoint(c: &Connection, vault: &Vault, notices: &mut Vec<(Severity, String)>) -> Endpoint {
    let mut e = Endpoint::new(&c.url);
    e.tls.insecure = c.insecure_skip_verify;
    if c.insecure_skip_verify {
        notices.push((
            Severity::Warning,
            format!("TLS verification is off for {}", c.url),
        ));
    }
    if let Some(path) = &c.ca_file {
        match std::fs::read(path) {
            Ok(pem) => e.tls.ca_pem = Some(pem),
            Err(err) => notices.push((
                Severity::Warning,
                format!("Cannot read the CA file {}: {err}", path.display()),
            )),
        }
    }
    if let Some(name) = &c.token_keyring {
        match vault.get(name) {
            Ok(Some(token)) => e.auth = Auth::Bearer(token),
            Ok(None) => notices.push((
                Severity::Warning,
                format!("The credential {name} for {} is not in the keyring", c.url),
            )),
            Err(err) => notices.push((Severity::Warning, format!("{}: {err}", c.url))),
        }
    }
    e
}

/// The shared vault when a credential is named (its problem, if any,
/// becomes a notice), else a session-only vault that never touches D-Bus.
fn vault(keys: &Keys, needed: bool, notices: &mut Vec<(Severity, String)>) -> Vault {
    if !needed {
        return Vault::session(SERVICE);
    }
    if let Some(p) = keys.problem() {
        notices.push((Severity::Warning, p.to_string()));
    }
    keys.vault().clone()
}

/// The endpoint of one connection, with its credential from the keyring.
pub fn endpoint_for(
    c: &Connection,
    keys: &Keys,
    notices: &mut Vec<(Severity, String)>,
) -> Endpoint {
    let vault = vault(keys, c.token_keyring.is_some(), notices);
    endpoint(c, &vault, notices)
}

/// The live clients, or `None` for the demo cluster. Problems become notices.
pub fn from_settings(
    settings: &Settings,
    keys: &Keys,
    notices: &mut Vec<(Severity, String)>,
) -> Option<Live> {
    let prom = settings.prometheus.as_ref()?;
    let needs_keyring = prom.token_keyring.is_some()
        || settings
            .alertmanager
            .as_ref()
            .is_some_and(|a| a.token_keyring.is_some());
    let vault = vault(keys, needs_keyring, notices);
    let prometheus = match Prometheus::new(endpoint(prom, &vault, notices)) {
        Ok(p) => p,
        Err(e) => {
            notices.push((
                Severity::Critical,
                format!("Prometheus connection unusable ({e}); showing the demo cluster"),
            ));
            return None;
        }
    };
    let alertmanager = settings.alertmanager.as_ref().and_then(|a| {
        Alertmanager::new(endpoint(a, &vault, notices))
            .map_err(|e| notices.push((Severity::Warning, format!("Alertmanager: {e}"))))
            .ok()
    });
    Some(Live {
        prometheus,
        alertmanager,
    })
}

/// The Loki client, when the settings name one.
pub fn loki_from_settings(
    settings: &Settings,
    keys: &Keys,
    notices: &mut Vec<(Severity, String)>,
) -> Option<sentinel_prom::Loki> {
    let c = settings.loki.as_ref()?;
    sentinel_prom::Loki::new(endpoint_for(c, keys, notices))
        .map_err(|e| notices.push((Severity::Warning, format!("Loki: {e}"))))
        .ok()
}

/// The narrative's chat client, when the settings name one. The API key is
/// read from the keyring here, before the async runtime starts.
pub fn narrative_from_settings(
    settings: &Settings,
    keys: &Keys,
    notices: &mut Vec<(Severity, String)>,
) -> Option<ChatClient> {
    let n = settings.narrative.as_ref()?;
    let vault = vault(keys, n.token_keyring.is_some(), notices);
    let mut e = endpoint(&n.connection(), &vault, notices);
    e.timeout = std::time::Duration::from_secs(n.timeout_secs.clamp(5, 600));
    e.retries = 0;
    e.max_bytes = 4 << 20;
    ChatClient::new(e, &n.model)
        .map_err(|e| notices.push((Severity::Warning, format!("Narrative endpoint: {e}"))))
        .ok()
}
