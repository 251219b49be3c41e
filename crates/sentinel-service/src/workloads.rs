//! The Workloads page: the controllers the snapshot holds, each with its
//! ready pods, its current revision and whether a rollout is moving pods.
//! A Deployment's ReplicaSets are folded into it: the newest dates its
//! revision, and an older one still holding pods means a rollout is under
//! way (or stuck).

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use sentinel_model::{Workload, WorkloadKind};
use sentinel_protocol::{
    ErrorKind, IpcError, MAX_WORKLOADS, Updated, WorkloadPage, WorkloadQuery, WorkloadRow,
};
use sentinel_runtime::Snapshot;

use crate::natural_cmp;

fn row(w: &Workload, sets: &[&Workload]) -> WorkloadRow {
    let current = sets.iter().find(|rs| rs.revision == w.revision);
    WorkloadRow {
        kind: w.kind.as_str().to_string(),
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        replicas: w.replicas,
        ready: w.ready,
        revision: w.revision.clone(),
        images: w.images.clone(),
        since: current.map_or(w.created_at, |rs| rs.created_at),
        rolling: sets
            .iter()
            .any(|rs| rs.revision != w.revision && rs.replicas > 0),
        updated: current.map(|rs| Updated {
            replicas: rs.replicas,
            ready: rs.ready,
        }),
    }
}

fn matches(r: &WorkloadRow, q: &WorkloadQuery, needle: &str) -> bool {
    q.namespace
        .as_deref()
        .is_none_or(|ns| ns.is_empty() || ns == r.namespace)
        && (needle.is_empty()
            || [&r.namespace, &r.name, &r.kind]
                .into_iter()
                .chain(&r.images)
                .any(|s| s.to_lowercase().contains(needle)))
}

/// The workloads `q` asks for: those short of ready pods first, then the
/// latest changed, then by name.
pub fn list_workloads(s: &Snapshot, q: &WorkloadQuery) -> Result<WorkloadPage, IpcError> {
    if q.limit > MAX_WORKLOADS {
        return Err(IpcError::new(
            ErrorKind::InvalidArgument,
            format!("at most {MAX_WORKLOADS} workloads a page, not {}", q.limit),
        ));
    }
    // A Deployment's ReplicaSets, by namespace and Deployment.
    let mut sets: HashMap<(&str, &str), Vec<&Workload>> = HashMap::new();
    for w in s.workloads.iter() {
        if let (WorkloadKind::ReplicaSet, Some(owner)) = (w.kind, &w.owner) {
            sets.entry((&w.namespace, owner)).or_default().push(w);
        }
    }
    let shown: Vec<&Workload> = s
        .workloads
        .iter()
        .filter(|w| !(w.kind == WorkloadKind::ReplicaSet && w.owner.is_some()))
        .collect();
    let needle = q.text.trim().to_lowercase();
    let mut rows: Vec<WorkloadRow> = shown
        .iter()
        .map(|w| {
            let own = match w.kind {
                WorkloadKind::Deployment => sets
                    .get(&(w.namespace.as_str(), w.name.as_str()))
                    .map_or(&[][..], Vec::as_slice),
                _ => &[],
            };
            row(w, own)
        })
        .filter(|r| matches(r, q, &needle))
        .collect();
    let matched = rows.len();
    rows.sort_by(|a, b| {
        let key = |r: &WorkloadRow| (r.ready >= r.replicas, !r.rolling, Reverse(r.since));
        key(a)
            .cmp(&key(b))
            .then_with(|| a.namespace.cmp(&b.namespace))
            .then_with(|| natural_cmp(&a.name, &b.name))
    });
    rows.truncate(if q.limit == 0 { MAX_WORKLOADS } else { q.limit });
    Ok(WorkloadPage {
        at: s.at,
        rows,
        matched,
        total: shown.len(),
        namespaces: shown
            .iter()
            .map(|w| w.namespace.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sentinel_model::Timestamp;
    use sentinel_runtime::snapshot::Mode;

    use super::*;

    fn workload(
        kind: WorkloadKind,
        name: &str,
        owner: Option<&str>,
        revision: &str,
        (replicas, ready): (u32, u32),
        created: i64,
    ) -> Workload {
        Workload {
            kind,
            namespace: "shop".into(),
            name: name.into(),
            owner: owner.map(Into::into),
            revision: revision.into(),
            images: vec![format!("app=shop/{name}:{revision}")],
            replicas,
            ready,
            created_at: Timestamp(created),
        }
    }

    fn snap() -> Snapshot {
        use WorkloadKind::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
        let mut s = Snapshot::empty(Mode::Live, Timestamp(100_000));
        s.workloads = Arc::new(vec![
            // checkout: rolled out at 50,000, the old revision still holds a pod.
            workload(Deployment, "checkout", None, "2", (3, 2), 1_000),
            workload(
                ReplicaSet,
                "checkout-aaa",
                Some("checkout"),
                "1",
                (1, 1),
                1_000,
            ),
            workload(
                ReplicaSet,
                "checkout-bbb",
                Some("checkout"),
                "2",
                (2, 1),
                50_000,
            ),
            // cart: rolled out at 40,000 and done.
            workload(Deployment, "cart", None, "3", (2, 2), 2_000),
            workload(ReplicaSet, "cart-ccc", Some("cart"), "2", (0, 0), 20_000),
            workload(ReplicaSet, "cart-ddd", Some("cart"), "3", (2, 2), 40_000),
            workload(StatefulSet, "postgres", None, "postgres-7f", (3, 3), 500),
            workload(DaemonSet, "node-exporter", None, "1", (3, 3), 600),
        ]);
        s
    }

    fn names(p: &WorkloadPage) -> Vec<&str> {
        p.rows.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn short_of_ready_pods_first_then_the_latest_changed() {
        let p = list_workloads(&snap(), &WorkloadQuery::default()).unwrap();
        // ReplicaSets are folded into their Deployments.
        assert_eq!(names(&p), ["checkout", "cart", "node-exporter", "postgres"]);
        assert_eq!((p.matched, p.total), (4, 4));
        let checkout = &p.rows[0];
        assert!(checkout.rolling);
        assert_eq!((checkout.ready, checkout.replicas), (2, 3));
        assert_eq!(
            checkout.updated,
            Some(Updated {
                replicas: 2,
                ready: 1
            })
        );
        assert_eq!(p.rows[3].updated, None, "a StatefulSet has no ReplicaSets");
        assert_eq!(checkout.since, Timestamp(50_000));
        // cart's old ReplicaSet holds nothing: its rollout is done.
        assert!(!p.rows[1].rolling);
        assert_eq!(p.rows[1].since, Timestamp(40_000));
        assert_eq!(p.rows[3].since, Timestamp(500));
    }

    #[test]
    fn text_finds_names_kinds_and_images() {
        let find = |t: &str| {
            let q = WorkloadQuery {
                text: t.into(),
                ..WorkloadQuery::default()
            };
            names(&list_workloads(&snap(), &q).unwrap())
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(find("statefulset"), ["postgres"]);
        assert_eq!(find("shop/cart:3"), ["cart"]);
        assert_eq!(find("CHECK"), ["checkout"]);
        assert!(find("nothing").is_empty());
        let other = WorkloadQuery {
            namespace: Some("data".into()),
            ..WorkloadQuery::default()
        };
        assert!(list_workloads(&snap(), &other).unwrap().rows.is_empty());
    }

    #[test]
    fn pages_are_bounded() {
        let q = WorkloadQuery {
            limit: MAX_WORKLOADS + 1,
            ..WorkloadQuery::default()
        };
        let e = list_workloads(&snap(), &q).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        let one = WorkloadQuery {
            limit: 1,
            ..WorkloadQuery::default()
        };
        let p = list_workloads(&snap(), &one).unwrap();
        assert_eq!((names(&p), p.matched), (vec!["checkout"], 4));
    }
}
