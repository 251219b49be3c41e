//! Incidents folded together by a signal that ties them: a node's trouble
//! and the services slowed on it.

use super::*;

const CART: [(&str, &str); 2] = [("namespace", "shop"), ("service", "cart")];
const CHECKOUT: [(&str, &str); 2] = [("namespace", "shop"), ("service", "checkout")];

fn latency(service: &[(&str, &str)], at: f64) -> Alert {
    alert("HighRequestLatency", "warning", t(at), service)
}

fn node_cpu(at: f64) -> Alert {
    alert(
        "NodeCPUSaturation",
        "critical",
        t(at),
        &[("node", "node-1")],
    )
}

#[test]
fn a_nodes_signal_folds_the_incidents_of_the_services_slowed_on_it() {
    // cart and checkout both run on node-1 and do not call each other: their
    // latency, a few seconds before the node's CPU alert, opens two
    // incidents, and the node's alert ties both to it.
    let mut m = manager();
    m.alerts(t(0.0), &[latency(&CART, 0.0), latency(&CHECKOUT, 0.02)]);
    assert_eq!(m.incidents().len(), 2);
    let (cart_id, checkout_id) = (m.incidents()[0].id.clone(), m.incidents()[1].id.clone());
    m.acknowledge(&checkout_id, "ana", "looking", t(0.05))
        .unwrap();
    m.take_updates();
    let firing = [
        latency(&CART, 0.0),
        latency(&CHECKOUT, 0.02),
        node_cpu(0.07),
    ];
    m.alerts(t(0.07), &firing);

    let all = m.incidents();
    assert_eq!(all.len(), 2);
    let (one, folded) = (&all[0], &all[1]);
    // The one that opened first takes the other's members, named after the
    // place they share.
    assert_eq!(one.id, cart_id);
    assert_eq!(one.title, "NodeCPUSaturation on Node/node-1");
    let mut titles: Vec<String> = one
        .members
        .iter()
        .map(|x| format!("{} {}", x.title, x.subject))
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            "HighRequestLatency Service/shop/cart",
            "HighRequestLatency Service/shop/checkout",
            "NodeCPUSaturation Node/node-1",
        ]
    );
    assert_eq!(one.severity, Severity::Critical);
    assert!(one.scope.services.contains("shop/checkout"));
    // Someone was on checkout's: they are on the whole of it.
    assert_eq!(one.state, IncidentState::Acknowledged);
    assert_eq!(one.ack.as_ref().map(|a| a.by.as_str()), Some("ana"));
    let merged = one
        .changes
        .iter()
        .find(|c| c.action == Action::Merged)
        .unwrap();
    assert!(merged.note.starts_with(&checkout_id), "{}", merged.note);
    assert!(
        merged.note.ends_with("(acknowledged by ana)"),
        "{}",
        merged.note
    );
    // The other resolves into it, holding nothing of its own.
    assert_eq!(folded.id, checkout_id);
    assert_eq!(folded.merged_into.as_deref(), Some(cart_id.as_str()));
    assert_eq!(folded.state, IncidentState::Resolved);
    assert!(folded.members.is_empty() && folded.ack.is_none());
    let last = folded.changes.last().unwrap();
    assert_eq!(last.action, Action::MergedInto);
    assert_eq!(
        last.note,
        format!("into {cart_id}: NodeCPUSaturation on Node/node-1")
    );
    let updates = m.take_updates();
    assert!(
        updates
            .iter()
            .any(|u| u.id == checkout_id && u.action == Some(Action::MergedInto))
    );

    // Its signals are the merged incident's now: checkout's latency ending
    // ends it there, and the folded one is neither reopened nor acted on.
    m.alerts(t(1.0), &[latency(&CART, 0.0), node_cpu(0.07)]);
    let one = &m.incidents()[0];
    let checkout = one
        .members
        .iter()
        .find(|x| x.subject.to_string() == "Service/shop/checkout");
    assert_eq!(checkout.unwrap().ended_at, Some(t(1.0)));
    m.alerts(
        t(1.5),
        &[latency(&CART, 0.0), node_cpu(0.07), latency(&CHECKOUT, 1.5)],
    );
    assert_eq!(m.incidents().len(), 2);
    assert_eq!(m.incidents()[0].members.len(), 4);
    assert!(m.incidents()[1].members.is_empty());
    assert_eq!(
        m.reopen(&checkout_id, "ana", "", t(2.0)),
        Err(LifecycleError::Merged {
            id: checkout_id.clone(),
            into: cart_id.clone()
        })
    );
}

#[test]
fn a_service_slowed_while_its_node_is_in_trouble_joins_the_nodes_incident() {
    // The node first: cart's latency a minute on joins its incident, as
    // cart runs there; payments (node-2) opens its own.
    let mut m = manager();
    m.alerts(t(0.0), &[node_cpu(0.0)]);
    let payments = [("namespace", "shop"), ("service", "payments")];
    m.alerts(
        t(1.0),
        &[node_cpu(0.0), latency(&CART, 1.0), latency(&payments, 1.0)],
    );
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[0].members.len(), 2);
    assert_eq!(all[1].title, "HighRequestLatency on Service/shop/payments");
    // Once the node has been well for longer than the grace, checkout
    // slowing (on node-1 too, cart still slow) is news of its own; within
    // it, the node's aftermath.
    let ahead = |after: f64| {
        let mut m = manager();
        m.alerts(t(0.0), &[node_cpu(0.0)]);
        m.alerts(t(1.0), &[node_cpu(0.0), latency(&CART, 1.0)]);
        m.alerts(t(2.0), &[latency(&CART, 1.0)]);
        let at = 2.0 + after;
        m.alerts(t(at), &[latency(&CART, 1.0), latency(&CHECKOUT, at)]);
        m.incidents().len()
    };
    assert_eq!(ahead(2.5), 2);
    assert_eq!(ahead(1.5), 1);
}

#[test]
fn a_service_slow_for_minutes_before_its_node_fails_is_not_tied_to_it() {
    // cart slow from minute 0, still slow when node-1's CPU saturates at
    // minute 4: it was slow for some other reason, and the node's alert
    // opens an incident of its own.
    let mut m = manager();
    m.alerts(t(0.0), &[latency(&CART, 0.0)]);
    m.alerts(t(4.0), &[latency(&CART, 0.0), node_cpu(4.0)]);
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[1].title, "NodeCPUSaturation on Node/node-1");
    // Slowing a minute before the node's alert, it is tied to it.
    let mut m = manager();
    m.alerts(t(3.0), &[latency(&CART, 3.0)]);
    m.alerts(t(4.0), &[latency(&CART, 3.0), node_cpu(4.0)]);
    assert_eq!(m.incidents().len(), 1, "{:#?}", m.incidents());
}

#[test]
fn incidents_opened_minutes_apart_are_not_folded() {
    // cart's pod on node-1 not ready from minute 0, checkout slow from
    // minute 3, then node-1's CPU: the node relates to both, joins the
    // newer, and the incident three minutes older stays apart.
    let mut m = manager();
    let cart_pod = [("namespace", "shop"), ("pod", "cart-6c5b4a3d2-klmno")];
    m.finding(&finding(
        "PodNotReady",
        t(0.0),
        &cart_pod,
        Severity::Warning,
    ));
    m.alerts(t(3.0), &[latency(&CHECKOUT, 3.0)]);
    m.alerts(t(3.05), &[latency(&CHECKOUT, 3.0), node_cpu(3.05)]);
    let all = m.incidents();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all.iter().all(|i| i.merged_into.is_none()));
    assert_eq!(all[0].members.len(), 1);
    assert_eq!(all[1].members.len(), 2);
}

#[test]
fn a_folded_incident_is_not_notified() {
    let mut m = manager();
    let mut n = Notifier::new(NotifyConfig::default());
    m.alerts(t(0.0), &[latency(&CART, 0.0), latency(&CHECKOUT, 0.02)]);
    m.alerts(
        t(0.07),
        &[
            latency(&CART, 0.0),
            latency(&CHECKOUT, 0.02),
            node_cpu(0.07),
        ],
    );
    let updates = m.take_updates();
    n.offer(&updates, |id| m.get(id));
    let sent = n.poll(t(0.1), m.incidents());
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].incident, m.incidents()[0].id);
    assert_eq!(sent[0].covers, 1);
    assert_eq!(sent[0].title, "[critical] NodeCPUSaturation on Node/node-1");
}
