//! The demo's calls as Istio's sidecars count them: `istio_requests_total`
//! per calling and called workload and response code; and as Tempo's
//! metrics generator counts them from traces: `traces_service_graph_request_total`
//! and `…_failed_total` per client and server, named by service only (no
//! namespace dimension configured, Tempo's default). The requests a
//! service serves are split evenly among the services that call it
//! ([`crate::scenario::CALLS`]); those from no known caller are not counted,
//! as Istio counts them under `unknown`.

use std::collections::HashMap;

use sentinel_model::{PodState, PodUsage};

use super::Family;
use crate::scenario::CALLS;

/// The label the demo's Services select their pods by.
const NAME: &str = "app.kubernetes.io/name";

#[derive(Debug, Default)]
pub(super) struct Mesh {
    /// Requests and errors each pod had served at the last frame, by uid.
    last: HashMap<String, (u64, u64)>,
    /// Requests per call (index into `CALLS`): successful, failed.
    counted: [(f64, f64); CALLS.len()],
}

impl Mesh {
    /// Counts the requests each pod served since the last frame towards
    /// the calls into its service. A pod seen for the first time starts
    /// from what it has served; one whose counter fell restarted from 0.
    /// Pods no longer listed are forgotten.
    pub(super) fn observe<'a>(&mut self, pods: impl Iterator<Item = (&'a PodUsage, &'a PodState)>) {
        let mut last = HashMap::with_capacity(self.last.len());
        for (u, pod) in pods {
            let now = (u.requests_total, u.errors_total);
            last.insert(pod.uid.clone(), now);
            let Some(&before) = self.last.get(&pod.uid) else {
                continue;
            };
            let since = |now: u64, before: u64| if now >= before { now - before } else { now };
            let (requests, errors) = (since(now.0, before.0), since(now.1, before.1));
            let Some(service) = pod.labels.get(NAME) else {
                continue;
            };
            let callee = format!("{}/{service}", pod.namespace);
            let into: Vec<usize> = (0..CALLS.len()).filter(|&i| CALLS[i].1 == callee).collect();
            let share = into.len().max(1) as f64;
            for i in into {
                let failed = errors.min(requests) as f64 / share;
                self.counted[i].0 += requests as f64 / share - failed;
                self.counted[i].1 += failed;
            }
        }
        self.last = last;
    }

    /// Istio's family, then the service graph's two.
    pub(super) fn families(&self) -> [Family; 3] {
        [self.istio(), self.traced(false), self.traced(true)]
    }

    fn traced(&self, failed: bool) -> Family {
        let mut f = if failed {
            Family::new(
                "traces_service_graph_request_failed_total",
                "counter",
                "Total count of failed requests between two nodes.",
            )
        } else {
            Family::new(
                "traces_service_graph_request_total",
                "counter",
                "Total count of requests between two nodes.",
            )
        };
        for ((caller, callee), (ok, bad)) in CALLS.iter().zip(self.counted) {
            let client = caller.split_once('/').map_or(*caller, |(_, s)| s);
            let server = callee.split_once('/').map_or(*callee, |(_, s)| s);
            let labels = [
                ("client", client),
                ("server", server),
                ("connection_type", ""),
            ];
            f.push("", &labels, if failed { bad } else { ok + bad });
        }
        f
    }

    fn istio(&self) -> Family {
        let mut f = Family::new(
            "istio_requests_total",
            "counter",
            "Total requests, by source and destination workload and response code.",
        );
        for ((caller, callee), (ok, failed)) in CALLS.iter().zip(self.counted) {
            let (sns, swl) = caller.split_once('/').unwrap_or(("", caller));
            let (dns, dwl) = callee.split_once('/').unwrap_or(("", callee));
            let host = format!("{dwl}.{dns}.svc.cluster.local");
            let labels = [
                ("reporter", "source"),
                ("source_workload", swl),
                ("source_workload_namespace", sns),
                ("destination_workload", dwl),
                ("destination_workload_namespace", dns),
                ("destination_service", host.as_str()),
            ];
            f.push_more("", &labels, &[("response_code", "200")], ok);
            f.push_more("", &labels, &[("response_code", "503")], failed);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::Exposition;
    use crate::{Sim, SimConfig};
    use sentinel_model::Timestamp;

    /// One scrape's samples of the family `name`.
    fn family(exp: &Exposition, frame: &crate::Frame, name: &str) -> Vec<(String, f64)> {
        let family = exp.families(frame).into_iter().find(|f| f.name == name);
        family.unwrap().samples
    }

    /// `(caller, callee, code) -> count` of one scrape's Istio family.
    fn counts(exp: &Exposition, frame: &crate::Frame) -> Vec<(String, f64)> {
        family(exp, frame, "istio_requests_total")
    }

    #[test]
    fn each_call_counts_requests_its_callee_served_and_only_grows() {
        let mut sim = Sim::new(SimConfig::default(), Timestamp(0));
        let mut exp = Exposition::new();
        let mut before: Option<Vec<(String, f64)>> = None;
        let mut frame = sim.step(Timestamp(2000));
        for i in 2..=40 {
            exp.observe(&frame);
            let now = counts(&exp, &frame);
            assert_eq!(now.len(), 2 * crate::scenario::CALLS.len());
            if let Some(before) = &before {
                for ((series, was), (_, is)) in before.iter().zip(&now) {
                    assert!(is >= was, "{series}: {was} then {is}");
                }
            }
            before = Some(now);
            frame = sim.step(Timestamp(2000 * i));
        }
        let last = before.unwrap();
        let served = |edge: &str| {
            last.iter()
                .filter(|(s, _)| s.contains(edge) && s.contains("response_code=\"200\""))
                .map(|(_, v)| *v)
                .sum::<f64>()
        };
        let into_payments = r#"source_workload="checkout",source_workload_namespace="shop",destination_workload="payments""#;
        let into_checkout = r#"source_workload="frontend",source_workload_namespace="shop",destination_workload="checkout""#;
        assert!(served(into_payments) > 0.0, "{last:?}");
        assert!(served(into_checkout) > 0.0, "{last:?}");
        assert!(
            last[0]
                .0
                .starts_with("istio_requests_total{reporter=\"source\"")
        );
        // The service graph counts the same calls, by service name.
        let traced = family(&exp, &frame, "traces_service_graph_request_total");
        let failed = family(&exp, &frame, "traces_service_graph_request_failed_total");
        assert_eq!(
            traced[1].0,
            r#"traces_service_graph_request_total{client="checkout",server="payments",connection_type=""}"#
        );
        let istio_total = |edge: &str| {
            last.iter()
                .filter(|(s, _)| s.contains(edge))
                .map(|(_, v)| *v)
                .sum::<f64>()
        };
        assert_eq!(traced[1].1, istio_total(into_payments));
        assert_eq!(traced[0].1, istio_total(into_checkout));
        assert!(failed[1].1 <= traced[1].1);
    }
}
