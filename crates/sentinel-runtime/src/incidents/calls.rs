//! Which services call which: the configured calls (the demo's) and those
//! a source last read (a service mesh's metrics, the service graph of
//! traces), merged for the topology, the captures of active incidents and
//! the snapshot. A side named without its namespace (a traced service) is
//! placed in the one namespace holding a workload or Service of that name,
//! and placed again as workloads and Services appear.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Incidents, row};
use sentinel_store::Record;

impl Incidents {
    /// Calls between services as a source reads them now (replacing what
    /// it read before).
    pub fn observed_calls(&mut self, calls: Vec<(String, String)>) {
        self.observed_calls = calls;
        self.set_calls();
    }

    pub(super) fn set_calls(&mut self) {
        let all = self.placed_calls();
        self.apply_calls(all);
    }

    /// The configured and observed calls, each side placed in its
    /// namespace; notes whether some could not be.
    fn placed_calls(&mut self) -> BTreeSet<(String, String)> {
        let topology = self.manager.topology();
        let names = topology.namespaces_by_name();
        let place = |side: &String| -> Option<String> {
            if side.contains('/') {
                return Some(side.clone());
            }
            let ns = names.get(side.as_str()).copied().flatten()?;
            Some(format!("{ns}/{side}"))
        };
        let mut unplaced = 0;
        let mut all = BTreeSet::new();
        for (a, b) in self.configured_calls.iter().chain(&self.observed_calls) {
            match (place(a), place(b)) {
                (Some(a), Some(b)) if a != b => {
                    all.insert((a, b));
                }
                (Some(_), Some(_)) => {}
                _ => unplaced += 1,
            }
        }
        self.unplaced_calls = (unplaced > 0).then(|| topology.named_objects());
        all
    }

    fn apply_calls(&mut self, all: BTreeSet<(String, String)>) {
        self.calls = Arc::new(all.iter().cloned().collect());
        for id in self.manager.set_calls(all) {
            if let Some(log) = &mut self.log
                && let Some(inc) = self.manager.get(&id)
            {
                log.push(Record::Incident(Box::new(row(inc))));
            }
            self.changed.insert(id);
            self.dirty = true;
        }
    }

    /// Places again the calls named without a namespace that could not be
    /// placed, once the topology holds other workloads or Services; the
    /// captures hear of it only if that placed any. (A traced graph
    /// usually names something outside the cluster, a database host, which
    /// stays unplaced.)
    pub(super) fn place_calls_again(&mut self) {
        if let Some(named) = self.unplaced_calls
            && named != self.manager.topology().named_objects()
        {
            let all = self.placed_calls();
            if !all.iter().eq(self.calls.iter()) {
                self.apply_calls(all);
            }
        }
    }

    /// Every call between services the topology knows, sorted.
    pub fn calls(&self) -> Arc<Vec<(String, String)>> {
        Arc::clone(&self.calls)
    }
}

#[cfg(test)]
mod tests {
    use sentinel_explain::incident::IncidentConfig;
    use sentinel_explain::incident::notify::NotifyConfig;

    use super::*;

    #[test]
    fn calls_a_source_reads_join_the_configured_ones_and_replace_its_last() {
        let edge = |a: &str, b: &str| (a.to_string(), b.to_string());
        let mut inc = Incidents::new(IncidentConfig::default(), NotifyConfig::default());
        inc.configure(
            IncidentConfig::default(),
            NotifyConfig::default(),
            vec![edge("shop/frontend", "shop/checkout")],
        );
        inc.observed_calls(vec![edge("shop/checkout", "shop/payments")]);
        assert_eq!(
            *inc.calls(),
            [
                edge("shop/checkout", "shop/payments"),
                edge("shop/frontend", "shop/checkout")
            ]
        );
        let around_payments = |inc: &Incidents| {
            inc.manager
                .topology()
                .calls_touching(&["shop/payments".to_string()].into())
        };
        assert_eq!(
            around_payments(&inc),
            [edge("shop/checkout", "shop/payments")]
        );
        // The mesh no longer counts that call: it is gone, the configured stays.
        inc.observed_calls(Vec::new());
        assert_eq!(*inc.calls(), [edge("shop/frontend", "shop/checkout")]);
        assert!(around_payments(&inc).is_empty());
    }

    #[test]
    fn calls_named_without_a_namespace_are_placed_once_the_workloads_are_known() {
        use sentinel_model::{Labels, OwnerKind, OwnerRef, PodPhase, PodState, Timestamp};
        let edge = |a: &str, b: &str| (a.to_string(), b.to_string());
        let pod = |ns: &str, workload: &str| PodState {
            uid: format!("{ns}-{workload}"),
            namespace: ns.into(),
            name: format!("{workload}-7d8e9f6a5-abcde"),
            labels: Labels::new(),
            owner: Some(OwnerRef {
                kind: OwnerKind::ReplicaSet,
                name: format!("{workload}-7d8e9f6a5"),
            }),
            node: Some("node-1".into()),
            phase: PodPhase::Running,
            created_at: Timestamp(0),
            containers: vec![],
        };
        let mut inc = Incidents::new(IncidentConfig::default(), NotifyConfig::default());
        inc.observed_calls(vec![
            edge("frontend", "checkout"),
            edge("checkout", "payments"),
            edge("checkout", "cart"),
            edge("payments", "bank.example.com"),
        ]);
        // No workload known yet: nothing placed.
        assert!(inc.calls().is_empty());
        let (frontend, checkout, payments) = (
            pod("shop", "frontend"),
            pod("shop", "checkout"),
            pod("shop", "payments"),
        );
        inc.pods(&[&frontend, &checkout]);
        assert_eq!(*inc.calls(), [edge("shop/frontend", "shop/checkout")]);
        // `cart` runs in two namespaces: which one is called is not guessed.
        let (cart, staging_cart) = (pod("shop", "cart"), pod("staging", "cart"));
        inc.pods(&[&frontend, &checkout, &payments, &cart, &staging_cart]);
        assert_eq!(
            *inc.calls(),
            [
                edge("shop/checkout", "shop/payments"),
                edge("shop/frontend", "shop/checkout")
            ]
        );
        inc.pods(&[&frontend, &checkout, &payments, &cart]);
        assert_eq!(inc.calls().len(), 3);
        // A host outside the cluster stays unplaced, looked for again only
        // when the names the topology holds change.
        assert_eq!(inc.unplaced_calls, Some(4));
    }
}
