//! The credential store the app shares: the OS keyring when it answers,
//! else memory for this session. Opened on first use (asking the keyring
//! blocks on D-Bus), and the same vault for the app's whole life, so a
//! session-only credential survives applying new settings.

use std::sync::{Arc, OnceLock};

use sentinel_secrets::{SERVICE, Vault};

#[derive(Clone, Default)]
pub struct Keys {
    cell: Arc<OnceLock<(Vault, Option<String>)>>,
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
}
