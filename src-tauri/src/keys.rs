//! The credential store the app shares: the OS keyring when it answers,
//! else memory for this session. Opened on first use (asking the keyring
//! blocks on D-Bus), and the same vault for the app's whole life, so a
//! session-only credential survives applying new settings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sentinel_secrets::{SERVICE, Secret, SecretsError, Vault};

/// How long "is it stored?" is believed before the keyring is asked again
/// (another program, `sentinel secret set`, may change it meanwhile).
const KNOWN_FOR: Duration = Duration::from_secs(30);

#[derive(Clone, Default)]
pub struct Keys {
    cell: Arc<OnceLock<(Vault, Option<String>)>>,
    /// Whether a name is stored, as last seen: the Connections page asks
    /// with every update, and the keyring answers over D-Bus.
    known: Arc<Mutex<HashMap<String, (bool, Instant)>>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("opened", &self.cell.get().is_some())
            .finish()
    }
}

impl Keys {
    /// A store that never touches the OS keyring (tests, no D-Bus).
    pub fn session_only() -> Self {
        let keys = Self::default();
        let _ = keys.cell.set((
            Vault::session(SERVICE),
            Some("credentials are kept for this session only".into()),
        ));
        keys
    }

    fn get(&self) -> &(Vault, Option<String>) {
        self.cell.get_or_init(|| {
            let (vault, problem) = Vault::open(SERVICE);
            (vault, problem.map(|p| p.to_string()))
        })
    }

    /// The vault (blocks on first use).
    pub fn vault(&self) -> &Vault {
        &self.get().0
    }

    /// Why credentials are not in the OS keyring, if they are not.
    pub fn problem(&self) -> Option<&str> {
        self.get().1.as_deref()
    }

    fn remember(&self, name: &str, stored: bool) {
        if let Ok(mut k) = self.known.lock() {
            k.insert(name.to_string(), (stored, Instant::now()));
        }
    }

    /// Whether `name` is stored (never what it is).
    pub fn exists(&self, name: &str) -> Result<bool, SecretsError> {
        let seen = self
            .known
            .lock()
            .ok()
            .and_then(|k| k.get(name).copied())
            .filter(|(_, at)| at.elapsed() < KNOWN_FOR);
        if let Some((stored, _)) = seen {
            return Ok(stored);
        }
        let stored = self.vault().exists(name)?;
        self.remember(name, stored);
        Ok(stored)
    }

    pub fn set(&self, name: &str, secret: &Secret) -> Result<(), SecretsError> {
        self.vault().set(name, secret)?;
        self.remember(name, true);
        Ok(())
    }

    pub fn delete(&self, name: &str) -> Result<bool, SecretsError> {
        let had = self.vault().delete(name)?;
        self.remember(name, false);
        Ok(had)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_stored_is_remembered_and_follows_set_and_delete() {
        let keys = Keys::session_only();
        assert!(!keys.exists("lab/a").unwrap());
        // Stored behind the cache's back: still "missing" until it expires.
        keys.vault().set("lab/a", &Secret::new("x")).unwrap();
        assert!(!keys.exists("lab/a").unwrap());
        // Through the keys, the answer follows at once.
        keys.set("lab/b", &Secret::new("y")).unwrap();
        assert!(keys.exists("lab/b").unwrap());
        keys.delete("lab/b").unwrap();
        assert!(!keys.exists("lab/b").unwrap());
    }
}
