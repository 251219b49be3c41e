//! The calls a capture carries: those around the incident's services, and
//! around the workloads of the series it holds; kept current as the call
//! graph changes.

use super::*;
use crate::live::CapturedSeries;

fn p95_of(workload: &str, pod: &str) -> CapturedSeries {
    CapturedSeries {
        name: crate::live::POD_P95.into(),
        labels: labels(&[("namespace", "shop"), ("pod", pod), ("workload", workload)]),
        points: vec![(t(1.0), 0.1), (t(2.0), 0.9)],
    }
}

#[test]
fn a_cluster_wide_incident_carries_the_calls_of_the_workloads_it_captured() {
    let mut m = manager();
    m.finding(&finding("ErrorRateAnomaly", t(2.0), &[], Severity::Warning));
    let id = m.incidents()[0].id.clone();
    assert!(m.incidents()[0].scope.services.is_empty());
    m.capture(
        &id,
        t(2.5),
        Vec::new(),
        vec![p95_of("payments", "payments-4b3a2c1d0-pqrst")],
        Vec::new(),
    );
    let calls = |m: &Manager| m.get(&id).unwrap().capture.as_ref().unwrap().calls.clone();
    assert_eq!(
        calls(&m),
        [("shop/checkout".to_string(), "shop/payments".to_string())]
    );
    // The graph changes (a mesh no longer counts the call): the capture
    // follows at once, and says which incidents changed.
    assert_eq!(
        m.set_calls([("shop/frontend".into(), "shop/checkout".into())]),
        std::slice::from_ref(&id)
    );
    assert!(calls(&m).is_empty());
    assert!(
        m.set_calls([("shop/frontend".into(), "shop/checkout".into())])
            .is_empty()
    );
    assert_eq!(
        m.set_calls([("shop/checkout".into(), "shop/payments".into())]),
        std::slice::from_ref(&id)
    );
    assert_eq!(calls(&m).len(), 1);
}
