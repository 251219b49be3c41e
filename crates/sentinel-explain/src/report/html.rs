//! The report as one self-contained HTML page: inline CSS, charts as inline
//! SVG, no scripts and nothing fetched.

use std::fmt::Write;

use super::chart;
use super::{Doc, Row, score, when};

pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(c.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(c.get(2).copied().unwrap_or(0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(char::from(A[(n >> (18 - 6 * k) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.5 system-ui,sans-serif;color:#111827;max-width:980px;\
margin:2em auto;padding:0 1em}h1{font-size:1.5em}h2{border-bottom:1px solid #e5e7eb;\
margin-top:2em}table{border-collapse:collapse;width:100%;font-size:13px}\
td,th{border:1px solid #e5e7eb;padding:3px 6px;text-align:left;vertical-align:top}\
th{background:#f9fafb}.cite{font:12px monospace;color:#2563eb}.facts td:first-child{\
font-weight:600;width:12em}.warn{background:#fef3c7;padding:6px 10px}\
.sev-critical{color:#b91c1c}.sev-warning{color:#b45309}figure{margin:1em 0}\
code{font-size:12px}.time{white-space:nowrap}";

fn cites(ids: &[String]) -> String {
    let links: Vec<String> = ids
        .iter()
        .map(|id| format!("<a class=\"cite\" href=\"#ev-{0}\">{0}</a>", esc(id)))
        .collect();
    if links.is_empty() {
        String::new()
    } else {
        format!(" [{}]", links.join(", "))
    }
}

fn table(out: &mut String, head: &str, rows: &[Row], anchors: bool) {
    let _ = write!(
        out,
        "<table><tr><th>Time</th><th>{head}</th><th>Subject</th><th>Detail</th></tr>"
    );
    for r in rows {
        let id = if anchors {
            format!(" id=\"ev-{}\"", esc(&r.tag))
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<tr{id}><td class=\"time\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            when(r.at),
            esc(&r.tag),
            esc(&r.subject),
            esc(&r.text)
        );
    }
    out.push_str("</table>\n");
}

fn figure(out: &mut String, spec: &chart::ChartSpec) {
    if let Some(svg) = chart::svg(spec) {
        let _ = writeln!(out, "<figure>{svg}</figure>");
    }
}

pub(super) fn write(d: &Doc) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{0}</title><style>{STYLE}</style></head><body>\n<h1>{0}</h1>\n",
        esc(&d.title)
    );
    if let Some(n) = d.redacted {
        let _ = writeln!(
            out,
            "<p class=\"warn\">Redacted: {n} distinct identifiers were replaced by placeholders.</p>"
        );
    }
    out.push_str("<table class=\"facts\">");
    for (k, v) in &d.facts {
        let _ = write!(out, "<tr><td>{k}</td><td>{}</td></tr>", esc(v));
    }
    out.push_str("</table>\n<h2>Explanation</h2>\n");
    if !d.confident {
        out.push_str(
            "<p class=\"warn\">The evidence is not enough to name a cause with confidence.</p>\n",
        );
    }
    for (text, ids) in &d.summary {
        let _ = writeln!(out, "<p>{}{}</p>", esc(text), cites(ids));
    }
    if !d.gaps.is_empty() {
        out.push_str("<ul>");
        for g in &d.gaps {
            let _ = write!(out, "<li>Not established: {}</li>", esc(g));
        }
        out.push_str("</ul>\n");
    }
    if !d.causes.is_empty() {
        out.push_str("<h2>Candidate causes</h2>\n");
    }
    for (k, c) in d.causes.iter().enumerate() {
        let _ = write!(
            out,
            "<h3>{}. <code>{}</code> on {} (score {}, rule <code>{}</code>)</h3><ul>",
            k + 1,
            esc(&c.cause),
            esc(&c.object),
            score(c.score),
            esc(&c.rule)
        );
        for (text, ids) in &c.sentences {
            let _ = write!(out, "<li>{}{}</li>", esc(text), cites(ids));
        }
        out.push_str("</ul>");
        if !c.mitigation.is_empty() {
            out.push_str("<p>What to try (never done automatically):</p><ol>");
            for m in &c.mitigation {
                let _ = write!(out, "<li>{}</li>", esc(m));
            }
            out.push_str("</ol>");
        }
        out.push('\n');
    }
    if !d.evidence.is_empty() {
        out.push_str("<h2 id=\"evidence\">Evidence</h2>\n");
        table(&mut out, "Id", &d.evidence, true);
    }
    out.push_str("<h2 id=\"timeline\">Timeline</h2>\n");
    table(&mut out, "Kind", &d.timeline, false);
    if !d.traces.is_empty() {
        out.push_str("<h2 id=\"traces\">Rule traces</h2>\n");
    }
    for t in &d.traces {
        let sev = t.severity.as_str();
        let _ = write!(
            out,
            "<h3>{} <span class=\"sev-{sev}\">({sev}, {})</span></h3><ol>",
            esc(&t.title),
            esc(&t.state)
        );
        for s in &t.steps {
            let _ = write!(out, "<li>{}</li>", esc(s));
        }
        out.push_str("</ol>\n");
        figure(&mut out, &t.chart);
    }
    if !d.charts.is_empty() {
        out.push_str("<h2>Captured series</h2>\n");
    }
    for c in &d.charts {
        figure(&mut out, c);
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes()), enc);
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<script>alert('x' & \"y\")</script>"),
            "&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;"
        );
    }
}
