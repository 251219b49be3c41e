//! The alert feed's filter: terms separated by spaces, each of which a row
//! must match, in the matcher syntax of Alertmanager and karma:
//!
//! - `namespace=shop`, `severity!=info`: a label equal (or not) to a value;
//! - `pod=~"checkout-.*"`, `alertname!~Kube.*`: a label matching (or not) a
//!   regular expression, anchored at both ends as Alertmanager anchors it;
//! - any other word: found, ignoring case, in the row's name, its summary or
//!   the value of one of its labels.
//!
//! A value may be quoted to hold spaces (`summary="is slow"`). A missing
//! label reads as empty, so `team!=db` keeps the rows without a team. An
//! engine finding's name answers for `alertname`, and every row's severity
//! for `severity`.

use regex::Regex;
use sentinel_model::{Labels, Severity};

#[derive(Debug)]
enum Term {
    Eq(String, String),
    Ne(String, String),
    Re(String, Regex),
    NotRe(String, Regex),
    Word(String),
}

/// A parsed filter.
#[derive(Debug, Default)]
pub struct AlertFilter {
    terms: Vec<Term>,
}

/// What a term is matched against.
pub struct Subject<'a> {
    pub name: &'a str,
    pub summary: &'a str,
    pub severity: Severity,
    pub labels: &'a Labels,
}

impl Subject<'_> {
    fn label(&self, key: &str) -> &str {
        match self.labels.get(key) {
            Some(v) => v,
            None if key == "alertname" => self.name,
            None if key == "severity" => self.severity.as_str(),
            None => "",
        }
    }
}

/// The terms of `text`, split at spaces outside double quotes.
fn split(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(format!("a quote is not closed in {text:?}"));
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn regex(term: &str, pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        let why = e.to_string();
        let why = why.lines().last().unwrap_or("").trim();
        let why = why.strip_prefix("error: ").unwrap_or(why);
        format!("{term:?} is not a regular expression: {why}")
    })
}

fn term(t: &str) -> Result<Term, String> {
    // The operator is the first `=`, `!=`, `=~` or `!~` after a label name.
    let Some(at) = t.find(['=', '!']) else {
        return Ok(Term::Word(t.to_lowercase()));
    };
    let (name, rest) = t.split_at(at);
    let (op, value) = ["=~", "!~", "!=", "="]
        .iter()
        .find_map(|op| rest.strip_prefix(op).map(|v| (*op, v)))
        .unwrap_or(("", rest));
    if op.is_empty() || !is_label_name(name) {
        return Ok(Term::Word(t.to_lowercase()));
    }
    let name = name.to_string();
    let value = value.to_string();
    Ok(match op {
        "=" => Term::Eq(name, value),
        "!=" => Term::Ne(name, value),
        "=~" => Term::Re(name, regex(t, &value)?),
        _ => Term::NotRe(name, regex(t, &value)?),
    })
}

impl AlertFilter {
    /// Parses `text`; an unclosed quote or a bad regular expression is an
    /// error that names the term.
    pub fn parse(text: &str) -> Result<Self, String> {
        let terms = split(text)?
            .iter()
            .map(|t| term(t))
            .collect::<Result<_, _>>()?;
        Ok(Self { terms })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn matches(&self, s: &Subject<'_>) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Eq(k, v) => s.label(k) == v,
            Term::Ne(k, v) => s.label(k) != v,
            Term::Re(k, re) => re.is_match(s.label(k)),
            Term::NotRe(k, re) => !re.is_match(s.label(k)),
            Term::Word(w) => {
                let has = |x: &str| x.to_lowercase().contains(w.as_str());
                has(s.name) || has(s.summary) || s.labels.values().any(|v| has(v))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    fn hits(filter: &str) -> Vec<&'static str> {
        let f = AlertFilter::parse(filter).unwrap();
        let a = labels(&[
            ("alertname", "HighErrorRate"),
            ("namespace", "shop"),
            ("service", "checkout"),
            ("severity", "critical"),
        ]);
        let b = labels(&[("namespace", "data"), ("pod", "postgres-0")]);
        let rows = [
            (
                "a",
                Subject {
                    name: "HighErrorRate",
                    summary: "checkout is failing requests",
                    severity: Severity::Critical,
                    labels: &a,
                },
            ),
            (
                "b",
                Subject {
                    name: "LatencyP95Anomaly",
                    summary: "p95 latency is 12 deviations above its median",
                    severity: Severity::Warning,
                    labels: &b,
                },
            ),
        ];
        rows.iter()
            .filter(|(_, s)| f.matches(s))
            .map(|(n, _)| *n)
            .collect()
    }

    #[test]
    fn terms_match_labels_and_words() {
        assert_eq!(hits(""), ["a", "b"]);
        assert_eq!(hits("namespace=shop"), ["a"]);
        assert_eq!(hits("namespace!=shop"), ["b"]);
        // A missing label reads as empty.
        assert_eq!(hits("service!=checkout"), ["b"]);
        assert_eq!(hits("service="), ["b"]);
        // Anchored at both ends.
        assert_eq!(hits("pod=~postgres"), Vec::<&str>::new());
        assert_eq!(hits("pod=~postgres-.*"), ["b"]);
        assert_eq!(hits(r#"pod!~"postgres-[0-9]""#), ["a"]);
        // A finding's name answers for alertname, every row's severity for
        // severity.
        assert_eq!(hits("alertname=LatencyP95Anomaly"), ["b"]);
        assert_eq!(hits("severity=warning"), ["b"]);
        // Words, ignoring case, in the name, the summary or a label value.
        assert_eq!(hits("CHECKOUT"), ["a"]);
        assert_eq!(hits("deviations"), ["b"]);
        assert_eq!(hits("postgres"), ["b"]);
        // Every term must match.
        assert_eq!(hits("namespace=shop latency"), Vec::<&str>::new());
        assert_eq!(hits(r#"summary="is failing""#), Vec::<&str>::new());
        assert_eq!(hits(r#""failing requests""#), ["a"]);
        // A label no row has is empty; no label name before the operator
        // makes a word.
        assert_eq!(hits("p95=12"), Vec::<&str>::new());
        assert_eq!(hits("p95!=12"), ["a", "b"]);
        assert_eq!(hits("!="), Vec::<&str>::new());
        assert_eq!(hits("shop-x=1"), Vec::<&str>::new());
    }

    #[test]
    fn bad_terms_say_which() {
        let e = AlertFilter::parse("namespace=~(shop").unwrap_err();
        assert!(
            e.starts_with(r#""namespace=~(shop" is not a regular expression"#),
            "{e}"
        );
        let e = AlertFilter::parse(r#"summary="is slow"#).unwrap_err();
        assert!(e.contains("quote is not closed"), "{e}");
    }
}
