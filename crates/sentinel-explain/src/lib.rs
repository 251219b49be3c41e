//! The explainer. Given what was captured around an incident (Kubernetes
//! objects and events, metric series, log lines) and its onset, it gathers
//! evidence, runs one rule per known cause, ranks the candidates and writes
//! plain sentences, each citing the evidence it rests on. When nothing is
//! strong enough it says so instead of guessing.
//!
//! Like the detection engine it does no IO and never reads the clock: the
//! caller reads files and passes their text, and the onset is an argument.
//! The same capture always gives the same explanation.

pub mod capture;
pub mod catalogue;
pub mod evidence;
mod explain;
pub mod incident;
pub mod kube;
pub mod live;
pub mod metrics;
pub mod narrative;
pub mod rca;
pub mod report;
mod rules;
pub mod score;
pub mod scrub;

pub use capture::{Capture, CaptureError, LogLine};
pub use catalogue::{CATALOGUE, Cause, Family};
pub use evidence::{Evidence, EvidenceId, EvidenceKind};
pub use explain::{Candidate, Explanation, Sentence, explain};
pub use kube::ObjRef;
