//! Credentials live in the OS keyring (the Secret Service on Linux) and
//! nowhere else: not in the settings file, the history, the logs or any IPC
//! answer. The app can set, replace, delete and test a credential; only the
//! code that sends it (an HTTP header) reads it back, as a [`Secret`] that
//! prints as `***`.
//!
//! Without a secret service the app says so and can hold a credential in
//! memory for the session ([`Vault::session`]).
//!
//! The keyring calls block (they talk D-Bus); call them off the async loop.

use std::collections::HashMap;
use std::sync::Mutex;

pub use sentinel_model::Secret;

/// The keyring "service" under which Sentinel stores its credentials.
pub const SERVICE: &str = "dev.sentinel.console";

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No keyring to talk to: no session bus, or nothing provides the
    /// Secret Service on it.
    #[error("no secret service is available ({0}); credentials can be held for this session only")]
    Unavailable(String),
    /// The keyring exists but is locked and could not be unlocked.
    #[error("the keyring is locked: unlock it (log in to the desktop session) and try again")]
    Locked,
    #[error(
        "credential names must be 1 to 128 characters of letters, digits, '.', '-', '_' or '/'"
    )]
    BadName,
    #[error("a credential cannot be empty")]
    Empty,
    #[error("the keyring failed: {0}")]
    Failed(String),
}

fn classify(e: keyring::Error) -> SecretsError {
    let text = e.to_string();
    match e {
        keyring::Error::NoStorageAccess(_) => SecretsError::Locked,
        keyring::Error::PlatformFailure(_)
            if text.contains("IsLocked") || text.contains("locked") =>
        {
            SecretsError::Locked
        }
        keyring::Error::PlatformFailure(_) => SecretsError::Unavailable(text),
        _ => SecretsError::Failed(text),
    }
}

/// A credential name is 1–200 characters without control characters.
pub fn check_name(name: &str) -> Result<(), SecretsError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'));
    if ok {
        Ok(())
    } else {
        Err(SecretsError::BadName)
    }
}

#[derive(Clone)]
enum Backend {
    Os,
    /// Clones share the same memory.
    Session(std::sync::Arc<Mutex<HashMap<String, Secret>>>),
}

/// Where credentials are kept: the OS keyring, or memory for this session.
/// Clones of a session vault share its credentials.
#[derive(Clone)]
pub struct Vault {
    service: String,
    backend: Backend,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("service", &self.service)
            .field("session_only", &self.is_session_only())
            .finish()
    }
}

impl Vault {
    /// The OS keyring under `service`. Does not touch it yet: see [`Vault::probe`].
    pub fn os(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            backend: Backend::Os,
        }
    }

    /// Memory only: forgotten when the app exits.
    pub fn session(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            backend: Backend::Session(std::sync::Arc::default()),
        }
    }

    /// The OS keyring if it answers, else a session vault and the reason.
    pub fn open(service: &str) -> (Self, Option<SecretsError>) {
        let os = Self::os(service);
        match os.probe() {
            Ok(()) => (os, None),
            Err(e) => (Self::session(service), Some(e)),
        }
    }

    pub fn is_session_only(&self) -> bool {
        matches!(self.backend, Backend::Session(_))
    }

    /// Checks that the keyring answers (a lookup of a name never stored).
    pub fn probe(&self) -> Result<(), SecretsError> {
        self.get("sentinel-probe").map(|_| ())
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretsError> {
        check_name(name)?;
        keyring::Entry::new(&self.service, name).map_err(classify)
    }

    /// Stores (or replaces) a credential.
    pub fn set(&self, name: &str, secret: &Secret) -> Result<(), SecretsError> {
        check_name(name)?;
        if secret.is_empty() {
            return Err(SecretsError::Empty);
        }
        match &self.backend {
            Backend::Os => self
                .entry(name)?
                .set_password(secret.expose())
                .map_err(classify),
            Backend::Session(map) => {
                map.lock()
                    .map_err(|_| SecretsError::Failed("the session vault is poisoned".into()))?
                    .insert(name.to_string(), secret.clone());
                Ok(())
            }
        }
    }

    /// The credential, for the code that sends it. Never show or return it.
    pub fn get(&self, name: &str) -> Result<Option<Secret>, SecretsError> {
        check_name(name)?;
        match &self.backend {
            Backend::Os => match self.entry(name)?.get_password() {
                Ok(v) => Ok(Some(Secret::new(v))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(classify(e)),
            },
            Backend::Session(map) => Ok(map
                .lock()
                .map_err(|_| SecretsError::Failed("the session vault is poisoned".into()))?
                .get(name)
                .cloned()),
        }
    }

    /// Whether a credential is stored, without reading it out.
    pub fn exists(&self, name: &str) -> Result<bool, SecretsError> {
        Ok(self.get(name)?.is_some())
    }

    /// Deletes a credential; false if there was none.
    pub fn delete(&self, name: &str) -> Result<bool, SecretsError> {
        check_name(name)?;
        match &self.backend {
            Backend::Os => match self.entry(name)?.delete_credential() {
                Ok(()) => Ok(true),
                Err(keyring::Error::NoEntry) => Ok(false),
                Err(e) => Err(classify(e)),
            },
            Backend::Session(map) => Ok(map
                .lock()
                .map_err(|_| SecretsError::Failed("the session vault is poisoned".into()))?
                .remove(name)
                .is_some()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn session_vault_sets_replaces_and_deletes() {
        let v = Vault::session("test");
        assert!(v.is_session_only());
        assert!(!v.exists("prom/token").unwrap());
        v.set("prom/token", &Secret::new("a")).unwrap();
        v.set("prom/token", &Secret::new("b")).unwrap();
        assert_eq!(v.get("prom/token").unwrap().unwrap().expose(), "b");
        assert!(v.delete("prom/token").unwrap());
        assert!(!v.delete("prom/token").unwrap());
    }

    #[test]
    fn names_and_values_are_checked() {
        let v = Vault::session("test");
        assert!(matches!(
            v.set("", &Secret::new("x")),
            Err(SecretsError::BadName)
        ));
        assert!(matches!(
            v.set("a b", &Secret::new("x")),
            Err(SecretsError::BadName)
        ));
        assert!(matches!(
            v.set("ok", &Secret::new("")),
            Err(SecretsError::Empty)
        ));
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let v = Vault::session("test");
        v.set("t", &Secret::new("hunter2")).unwrap();
        assert!(!format!("{v:?}").contains("hunter2"));
    }
}
