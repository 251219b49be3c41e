//! The lifecycle: what operators may do to an incident in each state, and
//! how every change (theirs or automatic) is applied, logged and reported.

use sentinel_model::Timestamp;

use super::manager::Manager;
use super::{Ack, Action, Change, IncidentState, Update};

/// Why an operator's action was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleError {
    NotFound(String),
    /// The action does not apply in the incident's state.
    State {
        id: String,
        action: Action,
        state: IncidentState,
    },
    /// Operator actions need a name.
    NoActor,
    /// The incident was folded into another, which is the one to act on.
    Merged {
        id: String,
        into: String,
    },
}

impl std::fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LifecycleError::NotFound(id) => write!(f, "no incident {id}"),
            LifecycleError::State { id, action, state } => write!(
                f,
                "incident {id} is {}; it cannot be {}",
                state.as_str(),
                action.as_str()
            ),
            LifecycleError::NoActor => f.write_str("an operator action needs a name"),
            LifecycleError::Merged { id, into } => {
                write!(f, "incident {id} was merged into {into}; act on that one")
            }
        }
    }
}

impl std::error::Error for LifecycleError {}

impl Manager {
    pub fn acknowledge(
        &mut self,
        id: &str,
        by: &str,
        note: &str,
        at: Timestamp,
    ) -> Result<(), LifecycleError> {
        self.operator(id, by, note, at, Action::Acknowledged, |s| {
            s == IncidentState::Open
        })
    }

    pub fn resolve(
        &mut self,
        id: &str,
        by: &str,
        note: &str,
        at: Timestamp,
    ) -> Result<(), LifecycleError> {
        self.operator(id, by, note, at, Action::Resolved, IncidentState::is_active)
    }

    pub fn reopen(
        &mut self,
        id: &str,
        by: &str,
        note: &str,
        at: Timestamp,
    ) -> Result<(), LifecycleError> {
        self.operator(id, by, note, at, Action::Reopened, |s| {
            s == IncidentState::Resolved
        })
    }

    fn operator(
        &mut self,
        id: &str,
        by: &str,
        note: &str,
        at: Timestamp,
        action: Action,
        allowed: impl Fn(IncidentState) -> bool,
    ) -> Result<(), LifecycleError> {
        if by.trim().is_empty() {
            return Err(LifecycleError::NoActor);
        }
        let &i = self
            .by_id
            .get(id)
            .ok_or_else(|| LifecycleError::NotFound(id.to_string()))?;
        if let Some(into) = &self.incidents[i].merged_into {
            return Err(LifecycleError::Merged {
                id: id.to_string(),
                into: into.clone(),
            });
        }
        let state = self.incidents[i].state;
        if !allowed(state) {
            return Err(LifecycleError::State {
                id: id.to_string(),
                action,
                state,
            });
        }
        self.change(i, at, action, by.trim(), note.trim().to_string());
        Ok(())
    }

    /// Applies a lifecycle change, logs it and reports it.
    pub(super) fn change(
        &mut self,
        i: usize,
        at: Timestamp,
        action: Action,
        by: &str,
        note: String,
    ) {
        let inc = &mut self.incidents[i];
        match action {
            Action::Opened | Action::Escalated | Action::Merged => {}
            Action::Acknowledged => {
                inc.state = IncidentState::Acknowledged;
                inc.ack = Some(Ack {
                    by: by.to_string(),
                    note: note.clone(),
                    at,
                });
            }
            Action::Resolved | Action::MergedInto => {
                inc.state = IncidentState::Resolved;
                inc.resolved_at = Some(at);
            }
            Action::Reopened => {
                inc.state = IncidentState::Open;
                inc.resolved_at = None;
                inc.ack = None;
            }
        }
        inc.updated_at = inc.updated_at.max(at);
        inc.changes.push(Change {
            at,
            action,
            by: by.to_string(),
            note,
        });
        self.updates.push(Update {
            id: inc.id.clone(),
            at,
            action: Some(action),
            severity: inc.severity,
        });
    }
}
