//! Scrubbing identifiers out of text before it leaves the machine (a
//! language model's prompt) or goes to someone else (a redacted report).
//!
//! Secrets (JWTs, API keys, bearer tokens, passwords in `key=value` form,
//! credentials in URLs) and personal or network identifiers (emails, IP
//! addresses, UUIDs, long hex ids) are replaced by placeholders such as
//! `<email-1>`. The same value always gets the same placeholder within one
//! scrubber, so "`<ip-1>` refused `<ip-2>`" still reads. Operators add their
//! own patterns (label values, host names); a match is replaced whole.

use std::collections::HashMap;

use regex::Regex;

/// One kind of identifier and how to find it.
struct Rule {
    kind: &'static str,
    re: Regex,
    /// The capture group holding the value; the rest of the match is kept
    /// (`password=` stays, what follows goes).
    group: usize,
}

const BUILT_IN: &[(&str, &str, usize)] = &[
    // Credentials embedded in URLs: scheme://user:password@host.
    (
        "credential",
        r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@",
        1,
    ),
    (
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
        0,
    ),
    (
        "secret",
        r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})",
        1,
    ),
    (
        "secret",
        r#"(?i)\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret|authorization)\b["']?\s*[:=]\s*["']?(?:(?:bearer|basic)\s+)?([^\s"',;}&]+)"#,
        1,
    ),
    (
        "key",
        r"\b(?:sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35})",
        0,
    ),
    (
        "email",
        r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
        0,
    ),
    (
        "uuid",
        r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
        0,
    ),
    (
        "ip",
        r"\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\b",
        0,
    ),
    // IPv6: full form, or compressed with `::` and at least two groups.
    (
        "ip",
        r"(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|(?i)(?:\b[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}\b(?::[0-9a-f]{1,4}\b)*)?|::(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4}\b",
        0,
    ),
    // Cloud host names that spell an address (ip-10-0-2-21.eu-west-1.compute.internal).
    (
        "host",
        r"\bip-(?:[0-9]{1,3}-){3}[0-9]{1,3}(?:\.[a-z0-9-]+)*",
        0,
    ),
    // Long hex strings: digests, keys, session ids.
    ("hex", r"\b[0-9a-fA-F]{32,}\b", 0),
];

/// A pattern that is not a valid regular expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("redaction pattern {pattern:?} is not a valid regular expression: {message}")]
pub struct PatternError {
    pub pattern: String,
    pub message: String,
}

/// Replaces identifiers with stable placeholders. Not `Clone` on purpose:
/// one scrubber per document keeps placeholders consistent within it.
pub struct Scrubber {
    rules: Vec<Rule>,
    seen: HashMap<String, String>,
    counts: HashMap<&'static str, usize>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber")
            .field("rules", &self.rules.len())
            .field("replaced", &self.seen.len())
            .finish()
    }
}

impl Scrubber {
    /// The built-in identifiers plus the operator's patterns.
    pub fn new(patterns: &[String]) -> Result<Self, PatternError> {
        let mut rules = Vec::new();
        for p in patterns {
            let re = Regex::new(p).map_err(|e| PatternError {
                pattern: p.clone(),
                message: e.to_string(),
            })?;
            rules.push(Rule {
                kind: "redacted",
                re,
                group: 0,
            });
        }
        for (kind, re, group) in BUILT_IN {
            // The built-in patterns are constants covered by tests.
            if let Ok(re) = Regex::new(re) {
                rules.push(Rule {
                    kind,
                    re,
                    group: *group,
                });
            }
        }
        Ok(Self {
            rules,
            seen: HashMap::new(),
            counts: HashMap::new(),
        })
    }

    /// How many distinct values were replaced so far.
    pub fn replaced(&self) -> usize {
        self.seen.len()
    }

    /// `text` with every identifier replaced.
    pub fn scrub(&mut self, text: &str) -> String {
        let mut out = text.to_string();
        for k in 0..self.rules.len() {
            if !self.rules[k].re.is_match(&out) {
                continue;
            }
            let mut spans = Vec::new();
            for caps in self.rules[k].re.captures_iter(&out) {
                if let Some(m) = caps.get(self.rules[k].group) {
                    // A placeholder from an earlier rule is never re-scrubbed.
                    if !m.as_str().starts_with('<') {
                        spans.push((m.start(), m.end()));
                    }
                }
            }
            let kind = self.rules[k].kind;
            let mut next = String::with_capacity(out.len());
            let mut last = 0;
            for (a, b) in spans {
                next.push_str(&out[last..a]);
                let placeholder = self.placeholder(kind, &out[a..b]);
                next.push_str(&placeholder);
                last = b;
            }
            next.push_str(&out[last..]);
            out = next;
        }
        out
    }

    fn placeholder(&mut self, kind: &'static str, value: &str) -> String {
        if let Some(p) = self.seen.get(value) {
            return p.clone();
        }
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        let p = format!("<{kind}-{n}>");
        self.seen.insert(value.to_string(), p.clone());
        p
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn scrub(s: &str) -> String {
        Scrubber::new(&[]).unwrap().scrub(s)
    }

    #[test]
    fn secrets_go_and_their_keys_stay() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let out = scrub(&format!("Authorization: Bearer {jwt} failed"));
        assert!(!out.contains("eyJ"), "{out}");
        assert!(out.contains("Authorization: Bearer <"), "{out}");

        let out =
            scrub("db password=hunter22; api_key: \"sk-abcdefghijklmnop1234\" token=abc123xyz");
        for secret in ["hunter22", "sk-abcdefghijklmnop1234", "abc123xyz"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.starts_with("db password=<secret-1>;"), "{out}");

        let out = scrub("dial postgres://app:s3cr3t@db.shop.svc:5432/orders");
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(
            out.contains("postgres://app:<credential-1>@db.shop.svc"),
            "{out}"
        );

        for key in [
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "xoxb-1234567890-abcdefghij",
        ] {
            let out = scrub(&format!("leaked {key} in env"));
            assert!(!out.contains(key), "{out}");
        }
    }

    #[test]
    fn identifiers_get_stable_placeholders() {
        let mut s = Scrubber::new(&[]).unwrap();
        let out = s.scrub(
            "alice@example.com called 10.0.3.17 then 10.0.3.18; alice@example.com retried 10.0.3.17",
        );
        assert_eq!(
            out,
            "<email-1> called <ip-1> then <ip-2>; <email-1> retried <ip-1>"
        );
        // The same scrubber keeps its numbering across calls.
        assert_eq!(s.scrub("from 10.0.3.18"), "from <ip-2>");
        assert_eq!(s.replaced(), 3);

        let out = scrub(
            "uid 3f2504e0-4f89-11d3-9a0c-0305e82c3301 on fe80::1ff:fe23:4567:890a and 2001:db8:0:0:0:0:2:1",
        );
        assert!(!out.contains("3f2504e0"), "{out}");
        assert!(!out.contains("fe80"), "{out}");
        assert!(!out.contains("2001:db8"), "{out}");
        let out =
            scrub("image sha256:9b2a7c0d8e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3");
        assert!(out.contains("sha256:<hex-1>"), "{out}");
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let text = "Pod shop/checkout-7d9f-abcde was OOMKilled at 14:03:22 (limit 256 MiB, \
                    exit 137); version 1.25.3, 3 of 4 replicas ready, ratio 0.97, rev 12:14";
        assert_eq!(scrub(text), text);
    }

    #[test]
    fn operator_patterns_replace_whole_matches() {
        let mut s = Scrubber::new(&["acme-[a-z]+".into(), r"cust\d+".into()]).unwrap();
        assert_eq!(
            s.scrub("node acme-prod-1 serves cust42 and acme-staging"),
            "node <redacted-1>-1 serves <redacted-3> and <redacted-2>"
        );
        let err = Scrubber::new(&["(unclosed".into()]).unwrap_err();
        assert!(err.to_string().contains("(unclosed"), "{err}");
    }
}
