//! Which services call which: the configured calls (the demo's) and those
//! a source last read (a service mesh's metrics), merged for the topology,
//! the captures of active incidents and the snapshot.

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
        let all: BTreeSet<(String, String)> = self
            .configured_calls
            .iter()
            .chain(&self.observed_calls)
            .cloned()
            .collect();
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
}
