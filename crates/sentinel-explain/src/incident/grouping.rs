//! Which incident a signal belongs to: by topology within the time window,
//! by time alone for a cluster-wide signal, or as a recurrence.

use sentinel_model::Timestamp;

use super::manager::Manager;
use super::subject::{Link, Subject};
use super::{Incident, Member};

impl Manager {
    /// The incident a new signal belongs to: the most recently touched active
    /// one it relates to, else (for openers) a related one resolved lately.
    /// Once every member of an incident has stopped for longer than
    /// `aftermath` (quiet, or resolved), an opener joins it only as a
    /// recurrence, the same signal on the same subject again: a different
    /// problem on a related service minutes later (a slow dependency after
    /// a bad rollout was rolled back) is an incident of its own, not the old
    /// one carrying on; an event joins it no more. A cluster-wide signal
    /// goes first to the incident whose trouble began nearest it (see
    /// [`trouble_apart`]).
    /// Also lists in `linked` the active incidents `m` could join by
    /// topology (for [`Manager::tied`]): a quiet one only if `m` recurs
    /// there.
    pub(super) fn related(
        &self,
        m: &Member,
        reopen: bool,
        linked: &mut Vec<usize>,
    ) -> Option<usize> {
        // The same signal on the same subject again. A cluster-wide one is
        // tied to nothing but time: once every member of the incident has
        // stopped, it is the same trouble again only while it flaps (its
        // last firing ended within `cluster_window`); later, the cluster's
        // CPU moving is news of its own (a node going down after a noisy
        // neighbour's incident went quiet).
        let recurs = |inc: &Incident, stopped: bool| {
            let flapping = |x: &Member| {
                !(stopped && m.subject.is_cluster())
                    || x.ended_at
                        .is_none_or(|e| m.at.since(e) <= self.cfg.cluster_window)
            };
            inc.members
                .iter()
                .any(|x| x.title == m.title && x.subject == m.subject && flapping(x))
        };
        let mut best: Option<(Timestamp, usize)> = None;
        let mut resolved: Option<(Timestamp, usize)> = None;
        // (how far from the nearest beginning of its trouble, incident)
        let mut near: Option<(i64, usize)> = None;
        for (i, inc) in self.incidents.iter().enumerate() {
            // Folded into another: that one takes what relates.
            if inc.merged_into.is_some() {
                continue;
            }
            let stopped = || self.stopped(inc, m.at);
            // A quiet incident takes a finding or alert only as a
            // recurrence, and no event: a rollout minutes after the trouble
            // stopped begins the next one (it waits in the context for it).
            if inc.state.is_active() && stopped() && (!m.kind.opens() || !recurs(inc, true)) {
                continue;
            }
            if inc.state.is_active() {
                let by_time = m.subject.is_cluster() || cluster_wide(inc);
                if m.subject.is_cluster() {
                    let apart = trouble_apart(inc, m.at);
                    if apart <= self.cfg.cluster_window.0 && near.is_none_or(|(d, _)| apart < d) {
                        near = Some((apart, i));
                    }
                }
                let ok = if by_time {
                    // Around the opening, or the same rule or alert on the
                    // same subject again while the incident is live (a
                    // cluster-wide rule that fires, stops and fires again).
                    m.at.since(inc.opened_at).0.abs() <= self.cfg.cluster_window.0
                        || (m.at.since(inc.updated_at) <= self.cfg.window && recurs(inc, stopped()))
                } else {
                    let linked_now = m.at.since(inc.updated_at) <= self.cfg.window
                        && inc.opened_at.since(m.at) <= self.cfg.lookback
                        && self.links(inc, &m.subject, m.at);
                    if linked_now {
                        linked.push(i);
                    }
                    linked_now
                };
                if ok && best.is_none_or(|(t, _)| inc.updated_at > t) {
                    best = Some((inc.updated_at, i));
                }
            } else if reopen
                && inc
                    .resolved_at
                    .is_some_and(|r| m.at.since(r) <= self.cfg.reopen_window && m.at >= r)
                && (recurs(inc, stopped())
                    || (!stopped()
                        && (self.links(inc, &m.subject, m.at)
                            || (m.subject.is_cluster() && cluster_wide(inc)))))
                && resolved.is_none_or(|(t, _)| inc.updated_at > t)
            {
                resolved = Some((inc.updated_at, i));
            }
        }
        // A cluster-wide signal goes to the incident whose trouble began
        // (or whose node's trouble ended) nearest it: timing is all that
        // ties it anywhere, and a recurrence in an incident touched lately
        // (an alert's value moving) is weaker. A placed signal keeps to the
        // incident its place ties it to.
        near.map(|(_, i)| i)
            .or(best.map(|(_, i)| i))
            .or(resolved.map(|(_, i)| i))
    }

    /// Whether the incident's trouble stopped more than `aftermath` before
    /// `at`. Where it has members with a place, those say: a cluster-wide
    /// member is tied to it by time alone, and lingers (a robust anomaly
    /// keeps firing for two minutes after its last reading above the
    /// limit).
    fn stopped(&self, inc: &Incident, at: Timestamp) -> bool {
        let skip = inc.scope.cluster && !cluster_wide(inc);
        let counted = |x: &&Member| !skip || !x.subject.is_cluster();
        inc.members.iter().filter(counted).all(|x| !x.is_active())
            && inc
                .members
                .iter()
                .filter(counted)
                .filter_map(|x| x.ended_at)
                .max()
                .is_some_and(|e| at.since(e) > self.cfg.aftermath)
    }

    /// Of the incidents `linked` (see [`Manager::related`]), those other
    /// than `i` that a finding or alert with a place ties to it: each opened
    /// within `merge_window` of the signal. None when `i` itself opened
    /// earlier than that (a signal joining an incident long under way ties
    /// nothing new to it).
    pub(super) fn tied(&self, i: usize, m: &Member, linked: &[usize]) -> Vec<usize> {
        let near =
            |k: usize| m.at.since(self.incidents[k].opened_at).0.abs() <= self.cfg.merge_window.0;
        if !m.kind.opens() || m.subject.is_cluster() || !near(i) {
            return Vec::new();
        }
        linked
            .iter()
            .copied()
            .filter(|&k| k != i && near(k))
            .collect()
    }

    /// Whether a signal about `s` at `at` relates to `inc` by topology. A pod
    /// (or a service with pods) whose only link is its node relates while
    /// the node's trouble lasts (a member about the node active, or ended
    /// within `node_grace`), and a node whose only link is pods on it, while
    /// theirs does: a pod that fails after its node recovered, or a node
    /// that fails after its pods did, is a problem of its own. A service's
    /// trouble is tied to a node's only when it began at most `node_grace`
    /// before the node's and lasts until it: a service slow for minutes
    /// before one of its nodes goes down was slow for some other reason.
    pub(super) fn links(&self, inc: &Incident, s: &Subject, at: Timestamp) -> bool {
        let live = |x: &Member| {
            x.ended_at
                .is_none_or(|e| at.since(e) <= self.cfg.node_grace)
        };
        let on = |x: &Member, node: &str| x.subject.node.as_deref() == Some(node);
        let topo = &self.topology;
        match inc.scope.link(s, topo) {
            None => false,
            Some(Link::Direct) => true,
            Some(Link::OnNode(n)) => inc
                .members
                .iter()
                .any(|x| x.subject.is_node() && on(x, &n) && live(x)),
            Some(Link::ServiceOnNode) => s.service_key().is_some_and(|key| {
                inc.members.iter().any(|x| {
                    x.subject.is_node()
                        && live(x)
                        && x.subject
                            .node
                            .as_deref()
                            .is_some_and(|n| topo.runs_on(&key, n))
                })
            }),
            Some(Link::NodeOfPods(n)) => inc.members.iter().any(|x| {
                if x.subject.pod.is_some() {
                    return on(x, &n) && live(x);
                }
                x.subject.node.is_none()
                    && at.since(x.at) <= self.cfg.node_grace
                    && x.ended_at.is_none_or(|e| e >= at)
                    && x.subject
                        .service_key()
                        .is_some_and(|key| topo.runs_on(&key, &n))
            }),
        }
    }
}

/// Holds only cluster-wide members (no place at all).
fn cluster_wide(inc: &Incident) -> bool {
    inc.scope.cluster
        && inc.scope.touched.is_empty()
        && inc.scope.nodes.is_empty()
        && inc.scope.pod_nodes.is_empty()
}

/// How near `at` the incident's trouble began: its opening, a later
/// alert or finding, or a node's trouble starting or ending (which
/// moves the cluster's CPU and memory: its capacity and its pods come
/// and go).
fn trouble_apart(inc: &Incident, at: Timestamp) -> i64 {
    inc.members
        .iter()
        .flat_map(|x| {
            let node = x.subject.is_node();
            [
                (node || x.kind.opens()).then_some(x.at),
                x.ended_at.filter(|_| node),
            ]
        })
        .flatten()
        .chain([inc.opened_at])
        .map(|t| at.since(t).0.abs())
        .min()
        .unwrap_or(i64::MAX)
}
