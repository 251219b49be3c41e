//! Containers' declared ports and probes written back from the model, and
//! the routing rule reading them: a Service's named target port resolves
//! only where a container declares it.

use sentinel_model::{
    ContainerPort, ContainerState, ContainerStatus, PodState, Probe, ProbeAction, ProbeKind,
    ServiceState,
};

use std::sync::Arc;

use super::*;

const AT: Timestamp = Timestamp(1_790_000_000_000);

fn web(ports: Vec<ContainerPort>) -> PodState {
    let probe = |kind, port: &str| Probe {
        kind,
        action: ProbeAction::HttpGet {
            path: "/healthz".into(),
            port: port.into(),
            scheme: "HTTP".into(),
        },
        initial_delay_seconds: 5,
        timeout_seconds: 1,
        period_seconds: 10,
        failure_threshold: 3,
    };
    super::tests::web_pod(
        AT,
        vec![ContainerStatus {
            name: "app".into(),
            image: "shop/web:2".into(),
            ready: true,
            restart_count: 0,
            state: ContainerState::Running { started_at: AT },
            last_termination_reason: None,
            cpu_request_millis: 100,
            memory_limit_bytes: 0,
            ports: ports.into(),
            probes: Arc::from([
                probe(ProbeKind::Liveness, "8080"),
                probe(ProbeKind::Readiness, "web"),
            ]),
        }],
    )
}

fn declared() -> Vec<ContainerPort> {
    vec![ContainerPort {
        name: "web".into(),
        port: 8080,
        protocol: "TCP".into(),
    }]
}

fn storefront(target: &str) -> ServiceState {
    super::tests::storefront(AT, "web", target)
}

fn explain(s: &ServiceState, p: &PodState) -> crate::Explanation {
    let mut v = objects_json([p], [], []);
    let items = v["items"].as_array_mut().unwrap();
    items.push(service_json(s));
    items.push(endpoints_json(s, [p]));
    crate::explain(&capture(AT, v, Vec::new()))
}

#[test]
fn a_pods_ports_and_probes_read_back_as_its_spec() {
    let json = pod_json(&web(declared()));
    let c = &json["spec"]["containers"][0];
    assert_eq!(c["ports"][0]["containerPort"], 8080);
    assert_eq!(c["ports"][0]["name"], "web");
    assert_eq!(c["ports"][0]["protocol"], "TCP");
    // A numbered probe port is a number, a named one a string.
    assert_eq!(c["livenessProbe"]["httpGet"]["port"], 8080);
    assert_eq!(c["readinessProbe"]["httpGet"]["port"], "web");
    assert_eq!(c["readinessProbe"]["failureThreshold"], 3);
    assert!(c.get("startupProbe").is_none());
}

#[test]
fn endpoints_list_a_pod_on_the_ports_its_service_resolves_to() {
    let pod = web(declared());
    let ep = endpoints_json(&storefront("web"), [&pod]);
    assert_eq!(
        ep["subsets"][0]["addresses"][0]["targetRef"]["name"],
        pod.name
    );
    assert_eq!(ep["subsets"][0]["ports"][0]["port"], 8080);
    assert_eq!(ep["subsets"][0]["ports"][0]["name"], "http");
    // A name the pod does not declare: the controller skips the pod.
    let ep = endpoints_json(&storefront("http"), [&pod]);
    assert_eq!(ep["subsets"], serde_json::json!([]));
    // A number reaches it, declared or not.
    let ep = endpoints_json(&storefront("9090"), [&pod]);
    assert_eq!(ep["subsets"][0]["ports"][0]["port"], 9090);
}

#[test]
fn a_named_target_port_no_container_declares_is_a_port_mismatch() {
    // The pod declares no ports at all: the name cannot resolve.
    let e = explain(&storefront("http"), &web(Vec::new()));
    let top = e.top().expect("a cause");
    assert_eq!(top.cause, "service_port_mismatch", "{}", e.render());
    let text = e.render();
    assert!(
        text.contains("targets the port named http, which no container of its pods declares (they declare no ports)"),
        "{text}"
    );
    assert!(
        e.candidates
            .iter()
            .all(|c| c.cause != "service_selector_mismatch"),
        "{text}"
    );
    // Declared under that name, nothing is wrong.
    let mut ports = declared();
    ports[0].name = "http".into();
    let e = explain(&storefront("http"), &web(ports));
    assert!(
        e.candidates.iter().all(|c| c.rule != "routing"),
        "{}",
        e.render()
    );
}

#[test]
fn an_undeclared_port_number_with_no_client_failing_is_only_a_lead() {
    let e = explain(&storefront("9090"), &web(declared()));
    let c = e
        .candidates
        .iter()
        .find(|c| c.cause == "service_port_mismatch")
        .expect("a lead");
    assert!(c.score <= 0.5, "{}", e.render());
    assert!(
        e.render().contains(
            "no client is seen failing, and a container may listen on a port it does not list"
        ),
        "{}",
        e.render()
    );
}
