//! Kubernetes for Sentinel: kubeconfig contexts and clients (`config`),
//! watches of pods, nodes, events and workloads (`watch`, kube-rs), the pure
//! mapping of their objects to the model (`convert`, `batch` for Jobs and
//! CronJobs), and the folded picture
//! the runtime reads (`mirror`), and the API server's service proxy
//! (`proxy`), through which Prometheus is found when no URL is given.

pub mod batch;
pub mod config;
mod container;
pub mod convert;
pub mod logs;
pub mod mirror;
pub mod proxy;
mod rollout;
pub mod watch;

pub use config::{Connection, Contexts, KubeError, connect, contexts};
pub use kube::Client;
pub use mirror::{Mirror, Step, Update, Watched};
