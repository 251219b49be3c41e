//! The optional narrative: a prompt for a language model built only from
//! the scrubbed evidence, and a check of its answer's citations. The model
//! writes prose; the deterministic explanation stays what the evidence
//! supports, and the app shows the two side by side.

use std::collections::BTreeSet;

use crate::explain::Explanation;
use crate::incident::Incident;
use crate::scrub::Scrubber;

/// Timeline entries and evidence items a prompt holds at most.
pub const MAX_TIMELINE: usize = 40;
pub const MAX_EVIDENCE: usize = 60;

const SYSTEM: &str = "You are assisting an on-call engineer. Explain the incident below in at \
most six plain sentences: what happened, the most likely cause, and what to check next. Use \
only the evidence listed; do not invent facts, names or numbers. End every sentence with the \
ids of the evidence it rests on in square brackets, like [E1] or [E2, E3]. If the evidence is \
not enough to name a cause, say so. Identifiers were replaced by placeholders such as <ip-1>; \
keep them as they are.";

/// What is sent: every text passed through the scrubber first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub system: String,
    pub user: String,
    /// The evidence ids the model may cite.
    pub evidence_ids: Vec<String>,
    /// Distinct identifiers replaced.
    pub redacted: usize,
}

pub fn prompt(incident: &Incident, e: &Explanation, scrubber: &mut Scrubber) -> Prompt {
    let mut user = String::new();
    let mut line = |s: &str, scrubber: &mut Scrubber| {
        user.push_str(&scrubber.scrub(s));
        user.push('\n');
    };
    line(
        &format!(
            "Incident: {} (severity {}, {} signals, onset {})",
            incident.title,
            incident.severity.as_str(),
            incident.members.len() + incident.dropped as usize,
            incident.onset().to_rfc3339()
        ),
        scrubber,
    );
    line("", scrubber);
    line("Timeline:", scrubber);
    for m in incident.members.iter().take(MAX_TIMELINE) {
        line(
            &format!(
                "- {} {} {} on {}: {}",
                m.at.to_rfc3339(),
                m.kind.as_str(),
                m.title,
                m.subject,
                m.text
            ),
            scrubber,
        );
    }
    if incident.members.len() > MAX_TIMELINE {
        line(
            &format!("- … {} more", incident.members.len() - MAX_TIMELINE),
            scrubber,
        );
    }
    line("", scrubber);
    line("Evidence:", scrubber);
    let mut ids = Vec::new();
    for v in e.evidence.iter().take(MAX_EVIDENCE) {
        let at =
            v.at.map(|t| format!(" at {}", t.to_rfc3339()))
                .unwrap_or_default();
        line(
            &format!("[{}] {}{at}: {}", v.id, v.subject, v.text),
            scrubber,
        );
        ids.push(v.id.clone());
    }
    if e.evidence.is_empty() {
        line("(none was captured)", scrubber);
    }
    line("", scrubber);
    line(
        "The rule-based analysis (deterministic; treat it as a lead, not a fact):",
        scrubber,
    );
    for c in e.candidates.iter().take(3) {
        line(
            &format!(
                "- {} on {} (score {:.2}) citing {}",
                c.cause,
                c.object,
                c.score,
                c.evidence.join(", ")
            ),
            scrubber,
        );
    }
    if e.candidates.is_empty() {
        line("- no cause was proposed", scrubber);
    }
    Prompt {
        system: SYSTEM.to_string(),
        user,
        evidence_ids: ids,
        redacted: scrubber.replaced(),
    }
}

/// The model's answer, with what its citations are worth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub text: String,
    /// Evidence ids it cited that exist.
    pub cited: Vec<String>,
    /// Ids it cited that are not in the evidence (made up).
    pub unknown: Vec<String>,
    /// Sentences without any citation.
    pub uncited_sentences: usize,
}

/// Bracketed ids in `s`: `[E1]`, `[E2, E3]`.
fn citations(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']') else {
            break;
        };
        let inside = &rest[open + 1..open + close];
        for id in inside.split(',').map(str::trim) {
            let well_formed = id.len() > 1
                && id.len() <= 8
                && id.starts_with('E')
                && id[1..].bytes().all(|b| b.is_ascii_digit());
            if well_formed {
                out.push(id.to_string());
            }
        }
        rest = &rest[open + close + 1..];
    }
    out
}

/// Sentences: cut after `.`, `!` or `?` followed by a space (so `0.82` and
/// `v1.2` stay whole) and at line ends.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|(_, n)| *n);
        let end =
            c == '\n' || (matches!(c, '.' | '!' | '?') && next.is_none_or(char::is_whitespace));
        if end {
            out.push(&text[start..i + c.len_utf8()]);
            start = i + c.len_utf8();
        }
    }
    out.push(&text[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|s| s.chars().any(char::is_alphanumeric))
        .collect()
}

pub fn check(answer: &str, evidence_ids: &[String]) -> Checked {
    let known: BTreeSet<&str> = evidence_ids.iter().map(String::as_str).collect();
    let mut cited = BTreeSet::new();
    let mut unknown = BTreeSet::new();
    let mut uncited = 0;
    let text = answer.trim();
    for sentence in sentences(text) {
        let ids = citations(sentence);
        if ids.is_empty() {
            uncited += 1;
        }
        for id in ids {
            if known.contains(id.as_str()) {
                cited.insert(id);
            } else {
                unknown.insert(id);
            }
        }
    }
    Checked {
        text: text.to_string(),
        cited: cited.into_iter().collect(),
        unknown: unknown.into_iter().collect(),
        uncited_sentences: uncited,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn citations_are_checked_against_the_evidence() {
        let ids = vec!["E1".to_string(), "E2".to_string()];
        let c = check(
            "The pod was OOMKilled [E1]. Its limit is 256Mi [E2, E1]. \
             A deploy happened [E9]. Probably the leak is in the cache.",
            &ids,
        );
        assert_eq!(c.cited, ["E1", "E2"]);
        assert_eq!(c.unknown, ["E9"]);
        assert_eq!(c.uncited_sentences, 1);
        assert_eq!(citations("[note] [E12] [E 3] [E4,E5]"), ["E12", "E4", "E5"]);
        let c = check("Score 0.82 on v1.2 [E1].\nNothing else [E2]", &ids);
        assert_eq!(c.uncited_sentences, 0, "numbers do not end sentences");
    }

    #[test]
    fn the_prompt_holds_scrubbed_evidence_only() {
        let (inc, e, _) = crate::report::tests::fixture();
        let mut s = Scrubber::new(&[]).unwrap();
        let p = prompt(&inc, &e, &mut s);
        let all = format!("{}\n{}", p.system, p.user);
        for planted in ["10.42.3.17", "s3cr3tT0ken", "ops@acme-corp.io"] {
            assert!(!all.contains(planted), "{planted} reached the prompt");
        }
        assert!(p.redacted >= 2, "{}", p.redacted);
        // Every evidence item, with its id, for the model to cite.
        assert!(!p.evidence_ids.is_empty());
        for id in &p.evidence_ids {
            assert!(p.user.contains(&format!("[{id}] ")), "{id}");
        }
        assert!(p.user.contains("oom_killed"));
        assert!(p.user.contains("BackOff"), "the timeline is in it");
        assert!(p.system.contains("[E1]"), "the model is asked to cite");
    }
}
