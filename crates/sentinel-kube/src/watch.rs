//! The watches: one kube-rs watcher per kind, each listing in pages and
//! then watching, relisting on 410 Gone, retrying with backoff, and mapping
//! every object to the model before it leaves here, so no raw object is
//! held. Failures are reported as they happen, worded for the operator.

use std::fmt::Debug;

use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event as CoreEvent, Node, Pod, Service};
use k8s_openapi::api::events::v1::Event as NewEvent;
use kube::api::Api;
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher as watch_fn};
use sentinel_model::WorkloadKind;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::mirror::{Step, Update, Watched};
use crate::{batch, convert};

/// Objects per list page: big lists arrive in pieces, never all at once.
pub const PAGE_SIZE: u32 = 500;

/// How a watch ended.
enum Ended {
    /// The receiver went away.
    Closed,
    /// The API does not serve this kind (404 on the first list).
    NotServed,
}

/// Says what went wrong in the words an operator acts on.
pub fn describe(e: &watcher::Error, what: Watched) -> String {
    let (verb, inner) = match e {
        watcher::Error::InitialListFailed(e) => ("list", Some(e)),
        watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => ("watch", Some(e)),
        watcher::Error::WatchError(s) => {
            return format!(
                "the API server ended the {} watch: {}",
                what.as_str(),
                s.message
            );
        }
        watcher::Error::NoResourceVersion => ("watch", None),
    };
    match inner {
        Some(kube::Error::Api(s)) if s.code == 403 => format!(
            "403 Forbidden: the account may not {verb} {} (RBAC needs get, list and watch on \
             {} at the cluster scope): {}",
            what.as_str(),
            what.as_str(),
            s.message
        ),
        Some(kube::Error::Api(s)) if s.code == 401 => {
            "401 Unauthorized: the API server refused the credentials (expired token or \
             certificate?)"
                .to_string()
        }
        Some(kube::Error::Api(s)) => format!(
            "the API server answered {} to {verb} {}: {}",
            s.code,
            what.as_str(),
            s.message
        ),
        Some(e) => format!("cannot {verb} {}: {e}", what.as_str()),
        None => format!(
            "the API server gave no resourceVersion for {}",
            what.as_str()
        ),
    }
}

fn not_served(e: &watcher::Error) -> bool {
    matches!(e, watcher::Error::InitialListFailed(kube::Error::Api(s)) if s.code == 404)
}

/// Runs one watcher, sending mapped steps until the receiver goes away.
async fn run<K, T>(
    api: Api<K>,
    what: Watched,
    map: impl Fn(&K) -> Option<T> + Send,
    wrap: impl Fn(Step<T>) -> Update + Send,
    tx: mpsc::Sender<Update>,
    stop_if_not_served: bool,
) -> Ended
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    K::DynamicType: Default,
{
    let cfg = watcher::Config::default().page_size(PAGE_SIZE);
    let mut stream = watch_fn(api, cfg).default_backoff().boxed();
    while let Some(ev) = stream.next().await {
        let update = match ev {
            Ok(Event::Init) => wrap(Step::Init),
            Ok(Event::InitDone) => wrap(Step::InitDone),
            Ok(Event::InitApply(o)) => match map(&o) {
                Some(t) => wrap(Step::InitApply(t)),
                None => continue,
            },
            Ok(Event::Apply(o)) => match map(&o) {
                Some(t) => wrap(Step::Apply(t)),
                None => continue,
            },
            Ok(Event::Delete(o)) => match map(&o) {
                Some(t) => wrap(Step::Delete(t)),
                None => continue,
            },
            Err(e) if stop_if_not_served && not_served(&e) => return Ended::NotServed,
            Err(e) => {
                tracing::debug!(error = %e, what = what.as_str(), "watch failed; retrying");
                Update::Failed(what, describe(&e, what))
            }
        };
        if tx.send(update).await.is_err() {
            return Ended::Closed;
        }
    }
    Ended::Closed
}

/// Asks for one object of `what`, to learn whether a failing watch works
/// again: a watch that restarts quietly reports nothing until something
/// changes, so its failure would otherwise outlive its cause.
pub async fn probe(client: &kube::Client, what: Watched) -> Result<(), String> {
    use kube::api::ListParams;
    let lp = ListParams::default().limit(1);
    let c = client.clone();
    let result = match what {
        Watched::Pods => Api::<Pod>::all(c).list(&lp).await.map(drop),
        Watched::Nodes => Api::<Node>::all(c).list(&lp).await.map(drop),
        Watched::Events => match Api::<NewEvent>::all(c.clone()).list(&lp).await {
            Err(kube::Error::Api(s)) if s.code == 404 => {
                Api::<CoreEvent>::all(c).list(&lp).await.map(drop)
            }
            r => r.map(drop),
        },
        Watched::Workloads(WorkloadKind::Deployment) => {
            Api::<Deployment>::all(c).list(&lp).await.map(drop)
        }
        Watched::Workloads(WorkloadKind::ReplicaSet) => {
            Api::<ReplicaSet>::all(c).list(&lp).await.map(drop)
        }
        Watched::Workloads(WorkloadKind::StatefulSet) => {
            Api::<StatefulSet>::all(c).list(&lp).await.map(drop)
        }
        Watched::Workloads(WorkloadKind::DaemonSet) => {
            Api::<DaemonSet>::all(c).list(&lp).await.map(drop)
        }
        Watched::Workloads(WorkloadKind::Job) => Api::<Job>::all(c).list(&lp).await.map(drop),
        Watched::Workloads(WorkloadKind::CronJob) => {
            Api::<CronJob>::all(c).list(&lp).await.map(drop)
        }
        Watched::Services => Api::<Service>::all(c).list(&lp).await.map(drop),
    };
    result.map_err(|e| describe(&watcher::Error::InitialListFailed(e), what))
}

/// Starts every watch; updates arrive on `tx` until it is dropped.
pub fn spawn(client: kube::Client, tx: mpsc::Sender<Update>) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    let c = client.clone();
    let t = tx.clone();
    tasks.push(tokio::spawn(async move {
        run(
            Api::<Pod>::all(c),
            Watched::Pods,
            convert::pod,
            Update::Pod,
            t,
            false,
        )
        .await;
    }));
    let c = client.clone();
    let t = tx.clone();
    tasks.push(tokio::spawn(async move {
        run(
            Api::<Node>::all(c),
            Watched::Nodes,
            convert::node,
            Update::Node,
            t,
            false,
        )
        .await;
    }));
    let c = client.clone();
    let t = tx.clone();
    tasks.push(tokio::spawn(async move {
        // events.k8s.io/v1 where served (every supported release), else core/v1.
        let new = |e: &NewEvent| Some((convert::event_key(&e.metadata), convert::new_event(e)));
        let ended = run(
            Api::<NewEvent>::all(c.clone()),
            Watched::Events,
            new,
            Update::Event,
            t.clone(),
            true,
        )
        .await;
        if matches!(ended, Ended::NotServed) {
            tracing::info!("events.k8s.io/v1 is not served; watching core/v1 events");
            let core =
                |e: &CoreEvent| Some((convert::event_key(&e.metadata), convert::core_event(e)));
            run(
                Api::<CoreEvent>::all(c),
                Watched::Events,
                core,
                Update::Event,
                t,
                false,
            )
            .await;
        }
    }));
    macro_rules! workload {
        ($k:ty, $kind:expr, $map:expr) => {{
            let c = client.clone();
            let t = tx.clone();
            tasks.push(tokio::spawn(async move {
                run(
                    Api::<$k>::all(c),
                    Watched::Workloads($kind),
                    $map,
                    |s| Update::Workload($kind, s),
                    t,
                    false,
                )
                .await;
            }));
        }};
    }
    workload!(Deployment, WorkloadKind::Deployment, convert::deployment);
    workload!(ReplicaSet, WorkloadKind::ReplicaSet, convert::replica_set);
    workload!(
        StatefulSet,
        WorkloadKind::StatefulSet,
        convert::stateful_set
    );
    workload!(DaemonSet, WorkloadKind::DaemonSet, convert::daemon_set);
    workload!(Job, WorkloadKind::Job, batch::job);
    workload!(CronJob, WorkloadKind::CronJob, batch::cron_job);
    let c = client.clone();
    let t = tx.clone();
    tasks.push(tokio::spawn(async move {
        run(
            Api::<Service>::all(c),
            Watched::Services,
            convert::service,
            Update::Service,
            t,
            false,
        )
        .await;
    }));
    tasks
}
