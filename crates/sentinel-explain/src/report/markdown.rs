//! The report as Markdown. Charts are embedded as SVG data URIs so the file
//! stands alone.

use std::fmt::Write;

use super::chart::{self, ChartSpec};
use super::{Doc, Row, score, when};

/// Text safe in Markdown: no stray emphasis, links, HTML or table breaks.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn cites(ids: &[String]) -> String {
    if ids.is_empty() {
        return String::new();
    }
    let refs: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
    format!(" ({})", refs.join(", "))
}

fn image(out: &mut String, spec: &ChartSpec) {
    if let Some(svg) = chart::svg(spec) {
        let _ = writeln!(
            out,
            "![{}](data:image/svg+xml;base64,{})\n",
            esc(&spec.title),
            super::html::base64(svg.as_bytes())
        );
    }
}

fn rows(out: &mut String, head: &str, rows: &[Row]) {
    let _ = writeln!(
        out,
        "| Time | {head} | Subject | Detail |\n|---|---|---|---|"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            when(r.at),
            esc(&r.tag),
            esc(&r.subject),
            esc(&r.text)
        );
    }
    out.push('\n');
}

pub(super) fn write(d: &Doc) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", esc(&d.title));
    if let Some(n) = d.redacted {
        let _ = writeln!(
            out,
            "> Redacted: {n} distinct identifiers were replaced by placeholders.\n"
        );
    }
    for (k, v) in &d.facts {
        let _ = writeln!(out, "- **{k}:** {}", esc(v));
    }
    out.push_str("\n## Explanation\n\n");
    if !d.confident {
        out.push_str("_The evidence is not enough to name a cause with confidence._\n\n");
    }
    for (text, ids) in &d.summary {
        let _ = writeln!(out, "{}{}\n", esc(text), cites(ids));
    }
    for g in &d.gaps {
        let _ = writeln!(out, "- Not established: {}", esc(g));
    }
    if !d.gaps.is_empty() {
        out.push('\n');
    }
    if !d.causes.is_empty() {
        out.push_str("## Candidate causes\n\n");
    }
    for (k, c) in d.causes.iter().enumerate() {
        let _ = writeln!(
            out,
            "### {}. `{}` on {} (score {}, rule `{}`)\n",
            k + 1,
            c.cause,
            esc(&c.object),
            score(c.score),
            c.rule
        );
        for (text, ids) in &c.sentences {
            let _ = writeln!(out, "- {}{}", esc(text), cites(ids));
        }
        if !c.mitigation.is_empty() {
            out.push_str("\nWhat to try (never done automatically):\n\n");
            for m in &c.mitigation {
                let _ = writeln!(out, "1. {}", esc(m));
            }
        }
        out.push('\n');
    }
    if !d.evidence.is_empty() {
        out.push_str("## Evidence\n\n");
        rows(&mut out, "Id", &d.evidence);
    }
    out.push_str("## Timeline\n\n");
    rows(&mut out, "Kind", &d.timeline);
    if !d.traces.is_empty() {
        out.push_str("## Rule traces\n\n");
    }
    for t in &d.traces {
        let _ = writeln!(
            out,
            "### {} ({}, {})\n",
            esc(&t.title),
            t.severity.as_str(),
            t.state
        );
        for s in &t.steps {
            let _ = writeln!(out, "1. {}", esc(s));
        }
        out.push('\n');
        image(&mut out, &t.chart);
    }
    if !d.charts.is_empty() {
        out.push_str("## Captured series\n\n");
    }
    for c in &d.charts {
        image(&mut out, c);
    }
    out
}
