//! The demo cluster as the runtime sees it: deterministic batches.

use sentinel_model::{Duration, Timestamp};
use sentinel_runtime::frame_to_batch;
use sentinel_sim::{Sim, SimConfig};

fn stream(seed: u64, pods: usize) -> Vec<String> {
    let t0 = Timestamp(1_750_000_000_000);
    let mut sim = Sim::new(SimConfig { seed, pods }, t0);
    (1..=150)
        .map(|i| {
            let f = sim.step(t0.saturating_add(Duration::from_secs(2 * i)));
            let b = frame_to_batch(f, false);
            // Serialised as the UI would receive its parts: byte-identical or bust.
            format!(
                "{}|{}|{}",
                serde_json::to_string(&b.pods).unwrap(),
                serde_json::to_string(&b.alerts).unwrap(),
                serde_json::to_string(&b.events).unwrap()
            )
        })
        .collect()
}

#[test]
fn same_seed_same_stream_byte_for_byte() {
    let a = stream(11, 120);
    assert_eq!(a, stream(11, 120));
    assert_ne!(a, stream(12, 120));
}

#[test]
fn rollout_events_reach_the_stream_with_kubernetes_shapes() {
    let t0 = Timestamp(1_750_000_000_000);
    let mut sim = Sim::new(SimConfig::default(), t0);
    let mut events = Vec::new();
    sim.fast_forward(
        t0.saturating_add(Duration::from_secs(200)),
        Duration::from_secs(2),
        |f| events.extend(f.events.clone()),
    );
    let scaled = events
        .iter()
        .find(|e| e.reason == "ScalingReplicaSet")
        .expect("a rollout event");
    let json = serde_json::to_value(scaled).unwrap();
    assert_eq!(json["type"], "Normal");
    assert_eq!(json["involvedObject"]["kind"], "Deployment");
    assert_eq!(json["involvedObject"]["name"], "checkout");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .starts_with("Scaled up replica set checkout-")
    );
    assert!(events.iter().any(
        |e| e.reason == "BackOff" && e.message.contains("Back-off restarting failed container")
    ));
}
