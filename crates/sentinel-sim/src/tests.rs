//! Behaviour of the demo cluster over whole incident cycles.

use std::collections::BTreeSet;

use sentinel_model::{Duration, PodPhase, Timestamp};

use super::*;

const T0: Timestamp = Timestamp(1_700_000_000_000);

fn run(seed: u64, pods: usize, until_s: i64) -> Vec<Frame> {
    let mut sim = Sim::new(SimConfig { seed, pods }, T0);
    let mut frames = Vec::new();
    sim.fast_forward(
        T0.saturating_add(Duration::from_secs(until_s)),
        Duration::from_secs(2),
        |f| frames.push(f.clone()),
    );
    frames
}

fn alert_names(frames: &[Frame], from_s: i64, to_s: i64) -> BTreeSet<String> {
    frames
        .iter()
        .filter(|f| (from_s * 1000..to_s * 1000).contains(&(f.at.millis() - T0.millis())))
        .flat_map(|f| f.alerts.iter().map(|a| a.name().to_string()))
        .collect()
}

#[test]
fn same_seed_gives_the_same_stream_and_another_seed_does_not() {
    let a = run(7, 40, 300);
    let b = run(7, 40, 300);
    assert_eq!(a, b);
    let c = run(8, 40, 300);
    assert_ne!(a.last().map(|f| &f.pods), c.last().map(|f| &f.pods));
}

#[test]
fn base_cluster_has_the_promised_shape() {
    let sim = &mut Sim::new(SimConfig::default(), T0);
    let f = sim.step(T0.saturating_add(Duration::from_secs(1)));
    assert!(f.nodes.len() >= 3);
    assert!(f.pods.len() >= 40, "{}", f.pods.len());
    let namespaces: BTreeSet<_> = f.pods.iter().map(|p| p.namespace.as_str()).collect();
    assert!(namespaces.len() >= 4, "{namespaces:?}");
    assert!(
        f.pods
            .iter()
            .all(|p| p.phase == PodPhase::Running && p.node.is_some())
    );
    let names: BTreeSet<_> = f.pods.iter().map(|p| (&p.namespace, &p.name)).collect();
    assert_eq!(names.len(), f.pods.len(), "pod names are unique");
    assert!(f.pods.iter().any(|p| p.name == "postgres-0"));
    assert!(
        f.pods
            .iter()
            .any(|p| p.name.starts_with("checkout-") && p.name.len() == "checkout-".len() + 16)
    );
    assert_eq!(
        f.alerts.len(),
        1,
        "only the watchdog fires on a calm cluster"
    );
}

#[test]
fn rollout_is_oomkilled_into_crashloop_then_rolled_back() {
    let frames = run(1, 40, 300);
    let crashing = frames.iter().find_map(|f| {
        f.pods.iter().find(|p| {
            p.containers
                .iter()
                .any(|c| c.last_termination_reason.as_deref() == Some("OOMKilled"))
                && p.last_termination_reason() == Some("CrashLoopBackOff")
        })
    });
    let pod = crashing.expect("a checkout pod is OOMKilled into CrashLoopBackOff");
    assert!(pod.name.starts_with("checkout-"));
    assert_eq!(pod.containers[0].image, "ghcr.io/acme/checkout:2.8.0");
    assert!(alert_names(&frames, 60, 270).contains("KubePodCrashLooping"));
    let reasons: BTreeSet<_> = frames
        .iter()
        .flat_map(|f| f.events.iter().map(|e| e.reason.as_str()))
        .collect();
    for r in [
        "ScalingReplicaSet",
        "BackOff",
        "DeploymentRollback",
        "Killing",
    ] {
        assert!(reasons.contains(r), "{r} missing from {reasons:?}");
    }
    let last = frames.last().unwrap();
    assert!(
        last.pods
            .iter()
            .filter(|p| p.name.starts_with("checkout-"))
            .all(|p| p.containers[0].image.ends_with(":2.7.4"))
    );
}

/// The Deployment and its ReplicaSets as the API would list them through
/// the rollout and the rollback: the crashing pod's ReplicaSet is revision
/// 2 with the new image, beside the old one with its pods; rolled back,
/// revision 2 is left with none.
#[test]
fn the_rollout_shows_in_the_workloads() {
    use sentinel_model::{Workload, WorkloadKind as Kind};
    // The listing as of each frame: a frame lists them only when changed.
    let mut listed: Vec<Workload> = Vec::new();
    let mut changes = 0;
    let frames: Vec<(Frame, Vec<Workload>)> = run(1, 40, 300)
        .into_iter()
        .map(|f| {
            if let Some(w) = &f.workloads {
                listed.clone_from(w);
                changes += 1;
            }
            (f, listed.clone())
        })
        .collect();
    assert!(frames[0].0.workloads.is_some());
    assert!(changes < frames.len() / 4, "{changes} of {}", frames.len());
    let of = |f: &(Frame, Vec<Workload>), kind: Kind| -> Vec<Workload> {
        f.1.iter()
            .filter(|w| w.kind == kind && w.namespace == "shop" && w.name.starts_with("checkout"))
            .cloned()
            .collect()
    };
    let first = &frames[0];
    let deploy = of(first, Kind::Deployment);
    assert_eq!(deploy.len(), 1);
    assert_eq!(
        (
            deploy[0].revision.as_str(),
            deploy[0].replicas,
            deploy[0].ready
        ),
        ("1", 3, 3)
    );
    let sets = of(first, Kind::ReplicaSet);
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(sets[0].owner.as_deref(), Some("checkout"));
    assert_eq!(sets[0].images, ["checkout=ghcr.io/acme/checkout:2.7.4"]);
    // Every pod's owner is listed.
    for p in &first.0.pods {
        let o = p.owner.as_ref().unwrap();
        assert!(
            o.kind == sentinel_model::OwnerKind::Job
                || first
                    .1
                    .iter()
                    .any(|w| w.name == o.name && w.namespace == p.namespace),
            "{}/{} owned by {o:?}",
            p.namespace,
            p.name
        );
    }
    // A minute after the rollout: revision 2, its new pod not ready.
    let during = frames.iter().find(|f| f.0.at.0 >= T0.0 + 120_000).unwrap();
    let sets = of(during, Kind::ReplicaSet);
    let new = sets.iter().find(|w| w.revision == "2").expect("revision 2");
    assert_eq!(new.images, ["checkout=ghcr.io/acme/checkout:2.8.0"]);
    assert_eq!(new.created_at, Timestamp(T0.0 + 60_000));
    assert_eq!((new.replicas, new.ready), (1, 0));
    let crashing = during
        .0
        .pods
        .iter()
        .find(|p| p.containers[0].image.ends_with(":2.8.0"))
        .unwrap();
    assert_eq!(crashing.owner.as_ref().unwrap().name, new.name);
    let old = sets.iter().find(|w| w.revision == "1").unwrap();
    assert_eq!((old.replicas, old.ready), (3, 3));
    // The Deployment's status says the rollout waits, as the API's would,
    // its last progress when the new ReplicaSet was made.
    let rollout = of(during, Kind::Deployment)[0].rollout.clone().unwrap();
    assert_eq!((rollout.updated, rollout.wanted), (1, 3));
    assert_eq!(rollout.waiting, "1 out of 3 new replicas have been updated");
    assert_eq!(rollout.progressed_at, Some(new.created_at));
    // Rolled back: revision 1 again, revision 2 left with no pods.
    let last = frames.last().unwrap();
    assert_eq!(of(last, Kind::Deployment)[0].revision, "1");
    assert_eq!(of(last, Kind::Deployment)[0].rollout, None);
    let sets = of(last, Kind::ReplicaSet);
    let rolled = sets.iter().find(|w| w.revision == "2").unwrap();
    assert_eq!((rolled.replicas, rolled.ready), (0, 0));
}

#[test]
fn every_scripted_incident_raises_its_alerts() {
    let frames = run(3, 40, 1200);
    assert!(alert_names(&frames, 360, 620).contains("NodeCPUSaturation"));
    assert!(alert_names(&frames, 360, 620).contains("HighRequestLatency"));
    assert!(alert_names(&frames, 660, 920).contains("HighErrorRate"));
    assert!(alert_names(&frames, 900, 1100).contains("KubeNodeNotReady"));
    // Calm periods are calm.
    assert_eq!(
        alert_names(&frames, 20, 58),
        BTreeSet::from(["Watchdog".to_string()])
    );
    assert_eq!(
        alert_names(&frames, 1150, 1200),
        BTreeSet::from(["Watchdog".to_string()])
    );
}

#[test]
fn node_failure_reschedules_its_pods_elsewhere() {
    let frames = run(5, 40, 1000);
    let at = |s: i64| {
        frames
            .iter()
            .find(|f| f.at.millis() - T0.millis() >= s * 1000)
            .unwrap()
    };
    let before = at(890);
    let down_node = &before.nodes[scenario::DOWN_NODE].name;
    let on_node = |f: &Frame| {
        f.pods
            .iter()
            .filter(|p| p.node.as_ref() == Some(down_node))
            .count()
    };
    assert!(on_node(before) > 3);
    let during = at(920);
    assert!(
        during
            .pods
            .iter()
            .filter(|p| p.node.as_ref() == Some(down_node))
            .all(|p| p.phase == PodPhase::Unknown)
    );
    let after = at(990);
    assert_eq!(on_node(after), 1, "only the daemonset pod stays");
    assert_eq!(after.pods.len(), before.pods.len());
    assert!(
        after
            .pods
            .iter()
            .filter(|p| p.node.as_ref() != Some(down_node))
            .all(|p| p.phase == PodPhase::Running)
    );
    assert!(
        after
            .pods
            .iter()
            .any(|p| p.name == "postgres-2" || p.name == "postgres-1" || p.name == "postgres-0")
    );
}

#[test]
fn scale_knob_builds_ten_thousand_pods() {
    let mut sim = Sim::new(
        SimConfig {
            seed: 1,
            pods: 10_000,
        },
        T0,
    );
    let f = sim.step(T0.saturating_add(Duration::from_secs(2)));
    assert_eq!(f.pods.len(), 10_000);
    assert!(f.nodes.len() >= 300);
    assert_eq!(f.pod_usage.len(), 10_000);
}

fn started_at(offset_s: i64) -> (Sim, Frame) {
    let mut sim = Sim::in_loop(SimConfig::default(), T0, offset_s, Duration::from_secs(2));
    let first = sim.step(T0.saturating_add(Duration::from_secs(2)));
    (sim, first)
}

#[test]
fn a_sim_started_mid_slowdown_dates_its_alerts_from_the_slowdown() {
    // 750 s in: the dependency slowdown began 90 s before the start.
    let (_, first) = started_at(750);
    let errors = first
        .alerts
        .iter()
        .find(|a| a.name() == "HighErrorRate")
        .expect("the slowdown's alerts are firing at once");
    let before = T0.since(errors.starts_at);
    assert!(
        before > Duration::from_secs(30) && before <= Duration::from_secs(90),
        "fired {before:?} before the start"
    );
}

#[test]
fn a_sim_started_after_the_rollout_has_lived_through_it() {
    let (mut sim, first) = started_at(150);
    // The rollout 90 s before the start is still listed, as the API keeps events.
    let rollout = first
        .events
        .iter()
        .find(|e| e.reason == "ScalingReplicaSet")
        .expect("the rollout's event");
    assert_eq!(T0.since(rollout.last_timestamp), Duration::from_secs(90));
    let checkout = first
        .workloads
        .as_ref()
        .expect("the first frame lists the controllers")
        .iter()
        .find(|w| w.name == "checkout")
        .unwrap();
    assert_eq!(checkout.revision, "2");
    assert!(
        first
            .pods
            .iter()
            .filter(|p| p.name.starts_with("checkout-"))
            .any(|p| p.containers.iter().any(|c| c.restart_count > 0)),
        "the new revision's pod has been OOMKilled already"
    );
    // What happened before is not told again.
    let later = sim.step(T0.saturating_add(Duration::from_secs(4)));
    assert!(later.events.iter().all(|e| e.reason != "ScalingReplicaSet"));
    assert!(later.workloads.is_none());
}

#[test]
fn a_sim_started_while_a_node_is_down_starts_with_it_down() {
    let (mut sim, first) = started_at(960);
    let down = &first.nodes[scenario::DOWN_NODE];
    assert!(!down.is_ready(), "{down:?}");
    assert!(first.events.iter().any(|e| e.reason == "NodeNotReady"));
    // It comes back when the loop says, 120 s later.
    let mut frames = Vec::new();
    sim.fast_forward(
        T0.saturating_add(Duration::from_secs(130)),
        Duration::from_secs(2),
        |f| frames.push(f.clone()),
    );
    assert!(frames.last().unwrap().nodes[scenario::DOWN_NODE].is_ready());
    assert!(
        frames
            .iter()
            .flat_map(|f| &f.events)
            .any(|e| e.reason == "NodeReady")
    );
}

#[test]
fn the_first_frame_lists_services_that_select_their_workloads_pods() {
    let frames = run(42, DEFAULT_PODS, 30);
    let services = frames[0].services.as_ref().expect("listed first");
    assert!(frames[1..].iter().all(|f| f.services.is_none()));
    let names: BTreeSet<String> = services
        .iter()
        .map(|s| format!("{}/{}", s.namespace, s.name))
        .collect();
    for n in ["shop/payments", "shop/checkout", "data/postgres"] {
        assert!(names.contains(n), "{names:?}");
    }
    // Each selects the running pods of its workload, and only them.
    let pods = &frames[0].pods;
    for s in services {
        let picked: Vec<_> = pods
            .iter()
            .filter(|p| p.namespace == s.namespace && s.selects(&p.labels))
            .collect();
        assert!(!picked.is_empty(), "{} selects nothing", s.name);
        assert!(
            picked
                .iter()
                .all(|p| p.name.starts_with(&format!("{}-", s.name))),
            "{}",
            s.name
        );
        // Its target port is one they declare (by number or by name), and
        // they are probed on it or have no port to probe.
        let target = &s.ports[0].target;
        for p in &picked {
            let c = &p.containers[0];
            assert!(
                c.ports
                    .iter()
                    .any(|cp| &cp.name == target || &cp.port.to_string() == target),
                "{}: {target} not in {:?}",
                p.name,
                c.ports
            );
            assert_eq!(c.probes.len(), 2, "{}", p.name);
            for pr in c.probes.iter() {
                let port = pr.action.port().unwrap_or_default();
                assert!(
                    port.is_empty()
                        || c.ports
                            .iter()
                            .any(|cp| cp.name == port || cp.port.to_string() == port),
                    "{}: probe on {port}",
                    p.name
                );
            }
        }
    }
    // Started mid-loop, the cluster lists them too.
    let (_, first) = started_at(540);
    let again = first.services.expect("listed first");
    assert_eq!(again.len(), services.len());
}
