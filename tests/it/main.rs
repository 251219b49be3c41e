//! Sentinel's integration tests, one binary. Tiers: `sim`, `runtime`, `ipc`
//! and `cli` always run; `e2e` drives the real app in the real webview and
//! needs `SENTINEL_E2E=1` plus a display (scripts/test.sh sets both up).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backfill;
mod calls;
mod cli;
mod connections;
mod demo_causes;
mod demo_incidents;
mod demo_silences;
mod demo_workloads;
mod e2e;
mod eval;
mod explain;
mod fakekube;
mod fakeloki;
mod feed_silences;
mod first_poll;
mod history;
mod history_page;
mod incidents;
mod ipc;
mod kube;
mod kube_explained;
mod kube_faults;
mod kube_jobs;
mod kube_nodes;
mod kube_ports;
mod kube_proxy;
mod kube_rollouts;
mod kube_services;
mod live;
mod live_workloads;
mod loki;
mod narrative;
mod offline;
mod restart;
mod rules;
mod runtime;
mod secrets;
mod silences;
mod sim;
mod stack;
mod support;
mod why;
