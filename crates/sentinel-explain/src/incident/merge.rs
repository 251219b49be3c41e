//! Folding incidents together: a signal that relates to several incidents
//! opened around it shows them to be one problem. The services slowed by a
//! noisy neighbour alert seconds before their node's CPU does; each opened
//! an incident of its own (nothing ties one service to another), and the
//! node's alert, which relates to every one of them, folds them into one.

use sentinel_model::Timestamp;

use super::manager::Manager;
use super::{AUTOMATIC, Action, IncidentState, Member};

impl Manager {
    /// Folds the incidents `m` ties to `i` (see [`Manager::tied`]; `linked`
    /// as [`Manager::related`] found them) into the
    /// one that opened first, and returns where `m` now joins. The others
    /// resolve, marked as merged into it, with nothing left in them: their
    /// members, capture and acknowledgement move over, and operators act
    /// on the one they were folded into. Tied by a node, the incident is
    /// named after the node's signal: the place they share.
    pub(super) fn merge_tied(
        &mut self,
        i: usize,
        m: &Member,
        linked: &[usize],
        at: Timestamp,
    ) -> usize {
        let mut set = self.tied(i, m, linked);
        if set.is_empty() {
            return i;
        }
        set.push(i);
        let into = set
            .iter()
            .copied()
            .min_by_key(|&k| (self.incidents[k].opened_at, k))
            .unwrap_or(i);
        if m.subject.is_node() {
            self.incidents[into].title = format!("{} on {}", m.title, m.subject);
        }
        let id = self.incidents[into].id.clone();
        let onset = self.incidents[into].onset();
        let mut severity = self.incidents[into].severity;
        for other in set.into_iter().filter(|&k| k != into) {
            let inc = &mut self.incidents[other];
            let members = std::mem::take(&mut inc.members);
            let capture = inc.capture.take();
            let dropped = std::mem::take(&mut inc.dropped);
            let ack = inc.ack.take();
            inc.merged_into = Some(id.clone());
            severity = severity.max(inc.severity);
            let mut note = format!("{}: {}", inc.id, inc.title);
            if let Some(a) = &ack {
                note.push_str(&format!(" (acknowledged by {})", a.by));
            }
            let into_note = format!("into {id}: {}", self.incidents[into].title);
            self.change(other, at, Action::MergedInto, AUTOMATIC, into_note);
            let inc = &mut self.incidents[into];
            for x in &members {
                inc.scope.add(&x.subject);
            }
            inc.members.extend(members);
            inc.dropped += dropped;
            match (&mut inc.capture, capture) {
                (Some(mine), Some(theirs)) => mine.absorb(*theirs, onset),
                (mine @ None, theirs) => *mine = theirs,
                _ => {}
            }
            // Someone is on one of them: they are on the whole of it now.
            if inc.ack.is_none() && ack.is_some() {
                inc.ack = ack;
                inc.state = IncidentState::Acknowledged;
            }
            self.change(into, at, Action::Merged, AUTOMATIC, note);
        }
        self.reindex();
        self.trim_members(into);
        self.escalate_or_update(into, severity, at);
        into
    }
}
