//! Where silences are set: the Alertmanager the runtime polls, or the demo
//! cluster's own, which holds its simulated alerts back as Alertmanager
//! would.

use sentinel_model::Timestamp;
use sentinel_prom::{Alertmanager, NewSilence};

use super::DemoSilences;

#[derive(Debug, Clone)]
pub enum SilenceTarget {
    Alertmanager(Box<Alertmanager>),
    Demo(DemoSilences),
}

impl From<Alertmanager> for SilenceTarget {
    fn from(am: Alertmanager) -> Self {
        Self::Alertmanager(Box::new(am))
    }
}

impl SilenceTarget {
    /// What keeps the silences, as the operator is told.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Alertmanager(_) => "Alertmanager",
            Self::Demo(_) => "the demo's Alertmanager",
        }
    }

    /// Creates a silence (or, with an id, replaces it: extends it); the
    /// answer is its id.
    pub async fn create(&self, s: &NewSilence) -> Result<String, String> {
        match self {
            Self::Alertmanager(am) => am.create_silence(s).await.map_err(|e| e.to_string()),
            Self::Demo(d) => d.create(s),
        }
    }

    /// Ends a silence at `now`.
    pub async fn expire(&self, id: &str, now: Timestamp) -> Result<(), String> {
        match self {
            Self::Alertmanager(am) => am.expire_silence(id).await.map_err(|e| e.to_string()),
            Self::Demo(d) => d.expire(id, now),
        }
    }
}
