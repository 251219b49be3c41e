//! Prometheus and Alertmanager, as Sentinel talks to them: every request has
//! a timeout, a response-size limit and a retry policy ([`http`]); responses
//! are parsed by pure functions ([`parse`], [`alertmanager`]) that never
//! panic; [`dashboard`] is the query set behind the dashboard and turns its
//! answers into model values; [`diagnose`] says why a panel has no data.
//! [`identify`] says what answers at an address that did not answer as
//! asked. [`calls`] reads which services call which from a mesh's metrics.
//! [`openai`] is the optional narrative's chat endpoint, held to the same
//! limits.

pub mod alertmanager;
pub mod calls;
pub mod dashboard;
pub mod diagnose;
mod error;
pub mod http;
pub mod identify;
pub mod loki;
pub mod openai;
pub mod parse;
pub mod prometheus;

pub use alertmanager::{AlertFilter, Alertmanager, Matcher, NewSilence, Silence};
pub use error::PromError;
pub use http::{Auth, Endpoint, Tls, Tunnel, TunnelError, TunnelFuture, TunnelRequest};
pub use loki::Loki;
pub use prometheus::Prometheus;
