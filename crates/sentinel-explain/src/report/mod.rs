//! Incident reports: Markdown, and a self-contained HTML page, with the
//! incident's facts, the explanation and the evidence it cites, the
//! timeline, each finding's rule trace and charts drawn by plotters.
//!
//! A report is first gathered into a [`Doc`] (every text passed through the
//! scrubber when redacting), then written in either format, so the two
//! always say the same thing.

pub mod chart;
mod html;
mod markdown;

use sentinel_model::{Finding, Severity, Timestamp, num};

use crate::explain::Explanation;
use crate::incident::Incident;
use crate::scrub::Scrubber;
use chart::ChartSpec;

/// Findings whose traces a report includes at most, and captured series
/// it charts at most.
pub const MAX_TRACES: usize = 20;
pub const MAX_SERIES: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "md" | "markdown" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            _ => Err(format!("unknown report format {s:?} (md or html)")),
        }
    }
}

/// What a report is made from.
pub struct ReportInput<'a> {
    pub incident: &'a Incident,
    pub explanation: &'a Explanation,
    /// The incident's findings with their traces (the newest version of each).
    pub findings: &'a [Finding],
    pub generated_at: Timestamp,
}

/// The report's content, format-neutral, already redacted.
pub(crate) struct Doc {
    pub title: String,
    pub facts: Vec<(&'static str, String)>,
    pub confident: bool,
    pub summary: Vec<(String, Vec<String>)>,
    pub gaps: Vec<String>,
    pub causes: Vec<Cause>,
    pub evidence: Vec<Row>,
    pub timeline: Vec<Row>,
    pub traces: Vec<Trace>,
    pub charts: Vec<ChartSpec>,
    /// Distinct values replaced, when redacting.
    pub redacted: Option<usize>,
}

pub(crate) struct Cause {
    pub cause: String,
    pub object: String,
    pub rule: String,
    pub score: f64,
    pub sentences: Vec<(String, Vec<String>)>,
    pub mitigation: Vec<String>,
}

/// A timeline or evidence line: when, a tag, what, details.
pub(crate) struct Row {
    pub at: Option<Timestamp>,
    pub tag: String,
    pub subject: String,
    pub text: String,
}

pub(crate) struct Trace {
    pub title: String,
    pub severity: Severity,
    pub state: String,
    pub steps: Vec<String>,
    pub chart: ChartSpec,
}

/// Time as `2026-11-21T14:03:22Z`.
pub(crate) fn when(t: Option<Timestamp>) -> String {
    t.map(Timestamp::to_rfc3339).unwrap_or_default()
}

/// Passes text through the scrubber when there is one.
struct Pen<'s>(Option<&'s mut Scrubber>);

impl Pen<'_> {
    fn w(&mut self, s: &str) -> String {
        match self.0.as_deref_mut() {
            Some(sc) => sc.scrub(s),
            None => s.to_string(),
        }
    }
}

fn gather(input: &ReportInput<'_>, scrubber: Option<&mut Scrubber>) -> Doc {
    let mut p = Pen(scrubber);
    let i = input.incident;
    let e = input.explanation;
    let mut facts = vec![
        ("Incident", i.id.clone()),
        ("State", format!("{:?}", i.state).to_lowercase()),
        ("Severity", i.severity.as_str().to_string()),
        ("Cluster", p.w(&i.cluster)),
        (
            "Namespaces",
            p.w(&i
                .scope
                .touched
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")),
        ),
        ("Opened", when(Some(i.opened_at))),
        ("Onset", when(Some(i.onset()))),
        ("Last change", when(Some(i.updated_at))),
    ];
    if let Some(r) = i.resolved_at {
        facts.push(("Resolved", when(Some(r))));
    }
    if let Some(a) = &i.ack {
        facts.push((
            "Acknowledged",
            format!(
                "by {} at {}: {}",
                p.w(&a.by),
                when(Some(a.at)),
                p.w(&a.note)
            ),
        ));
    }
    let members = i.members.len() + i.dropped as usize;
    facts.push(("Signals", members.to_string()));
    facts.push(("Report generated", when(Some(input.generated_at))));

    let cited = |s: &crate::Sentence, p: &mut Pen<'_>| (p.w(&s.text), s.cites.clone());
    let summary = e.summary.iter().map(|s| cited(s, &mut p)).collect();
    let causes = e
        .candidates
        .iter()
        .take(5)
        .map(|c| Cause {
            cause: c.cause.clone(),
            object: p.w(&c.object.to_string()),
            rule: c.rule.clone(),
            score: c.score,
            sentences: c.sentences.iter().map(|s| cited(s, &mut p)).collect(),
            mitigation: c.mitigation.iter().map(|m| p.w(m)).collect(),
        })
        .collect();
    let evidence = e
        .evidence
        .iter()
        .map(|v| Row {
            at: v.at,
            tag: v.id.clone(),
            subject: p.w(&v.subject.to_string()),
            text: p.w(&v.text),
        })
        .collect();
    let gaps = e.gaps.iter().map(|g| p.w(g)).collect();

    let mut timeline: Vec<Row> = i
        .members
        .iter()
        .map(|m| Row {
            at: Some(m.at),
            tag: format!("{} · {}", m.kind.as_str(), m.severity.as_str()),
            subject: p.w(&m.subject.to_string()),
            text: p.w(&format!("{}: {}", m.title, m.text)),
        })
        .collect();
    timeline.extend(i.changes.iter().map(|c| Row {
        at: Some(c.at),
        tag: c.action.as_str().to_string(),
        subject: p.w(&c.by),
        text: p.w(&c.note),
    }));
    timeline.sort_by_key(|r| r.at);

    let traces = input
        .findings
        .iter()
        .take(MAX_TRACES)
        .map(|f| {
            let title = p.w(&format!("{} on {}", f.rule, f.series));
            let t = &f.trace;
            Trace {
                severity: f.severity,
                state: f.state.as_str().to_string(),
                steps: t.sentences().iter().map(|s| p.w(s)).collect(),
                chart: ChartSpec {
                    title: title.clone(),
                    points: t.points.clone(),
                    band: t.band,
                    threshold: t.threshold,
                    markers: t
                        .transitions
                        .iter()
                        .map(|tr| (tr.at, tr.to.as_str().to_string()))
                        .collect(),
                },
                title,
            }
        })
        .collect();
    let onset = vec![(i.onset(), "onset".to_string())];
    let charts = i
        .capture
        .iter()
        .flat_map(|c| c.metrics.iter())
        .filter(|s| !s.points.is_empty())
        .take(MAX_SERIES)
        .map(|s| {
            let labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            ChartSpec {
                title: p.w(&format!("{}{{{}}}", s.name, labels.join(", "))),
                points: s.points.clone(),
                markers: onset.clone(),
                ..ChartSpec::default()
            }
        })
        .collect();
    let title = p.w(&i.title);
    let redacted = p.0.as_ref().map(|s| s.replaced());
    Doc {
        title,
        facts,
        confident: e.confident,
        summary,
        gaps,
        causes,
        evidence,
        timeline,
        traces,
        charts,
        redacted,
    }
}

/// The report in `format`; with a scrubber, every text in it is redacted.
pub fn render(input: &ReportInput<'_>, format: Format, scrubber: Option<&mut Scrubber>) -> String {
    let doc = gather(input, scrubber);
    match format {
        Format::Markdown => markdown::write(&doc),
        Format::Html => html::write(&doc),
    }
}

/// A score as a percentage.
pub(crate) fn score(s: f64) -> String {
    format!("{}%", num((s * 100.0).round()))
}

#[cfg(test)]
pub(crate) mod tests;
