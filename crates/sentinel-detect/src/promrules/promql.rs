//! The part of PromQL an alerting rule needs for Sentinel to evaluate it
//! itself: a vector selector compared with a number, optionally through
//! `rate`, `increase`, `delta`, `deriv`, `absent` or `absent_over_time`.
//! Anything else is an error that says what is not supported, so an import
//! can list the rules it left to Prometheus.

use std::collections::BTreeMap;

use sentinel_model::Duration;

use crate::detectors::Op;
use crate::duration::parse_duration;

/// A vector selector: `metric{label="v", other!="w", present=~".+"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSelector {
    pub metric: String,
    /// In the rule format's notation: `v`, `!v`, or `*`.
    pub labels: BTreeMap<String, String>,
}

/// A parsed expression of the supported subset.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(f64),
    Vector(VectorSelector),
    /// `name(selector)` or `name(selector[range])`.
    Call {
        name: String,
        arg: VectorSelector,
        range: Option<Duration>,
    },
    Compare {
        lhs: Box<Expr>,
        op: Op,
        rhs: Box<Expr>,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    Dur(Duration),
    Punct(&'static str),
}

const PUNCT: [&str; 20] = [
    "==", "!=", ">=", "<=", "=~", "!~", ">", "<", "=", "(", ")", "{", "}", "[", "]", ",", "+", "-",
    "*", "/",
];

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_range = false;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'"' || c == b'\'' || c == b'`' {
            let (s, next) = string(src, i)?;
            out.push(Tok::Str(s));
            i = next;
        } else if in_range && c.is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let d = parse_duration(&src[start..i])
                .ok_or_else(|| format!("bad duration {:?}", &src[start..i]))?;
            out.push(Tok::Dur(d));
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric()
                    || b[i] == b'.'
                    || ((b[i] == b'+' || b[i] == b'-') && matches!(b[i - 1], b'e' | b'E')))
            {
                i += 1;
            }
            let text = &src[start..i];
            match (text.parse::<f64>(), parse_duration(text)) {
                (Ok(n), _) => out.push(Tok::Num(n)),
                (Err(_), Some(d)) => out.push(Tok::Dur(d)),
                _ => return Err(format!("bad number {text:?}")),
            }
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b':' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':') {
                i += 1;
            }
            out.push(Tok::Ident(src[start..i].to_string()));
        } else if let Some(p) = PUNCT.iter().find(|p| src[i..].starts_with(**p)) {
            in_range = match *p {
                "[" => true,
                "]" => false,
                _ => in_range,
            };
            out.push(Tok::Punct(p));
            i += p.len();
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            return Err(format!("unexpected character {ch:?}"));
        }
    }
    Ok(out)
}

fn string(src: &str, start: usize) -> Result<(String, usize), String> {
    let quote = src[start..].chars().next().unwrap_or('"');
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Ok((out, start + 1 + i + c.len_utf8()));
        }
        if c == '\\' && quote != '`' {
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, e)) => out.push(e),
                None => break,
            }
        } else {
            out.push(c);
        }
    }
    Err("unterminated string".into())
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

/// Parses `src`, or says which part Sentinel cannot evaluate.
pub fn parse(src: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
    };
    let e = p.expr()?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(format!("unsupported {}", describe(t))),
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) if is_keyword(s) => format!("`{s}`"),
        Tok::Ident(s) => format!("name {s}"),
        Tok::Num(n) => format!("number {n}"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Dur(_) => "range".into(),
        Tok::Punct(p) if matches!(*p, "+" | "-" | "*" | "/") => format!("arithmetic `{p}`"),
        Tok::Punct(p) => format!("`{p}`"),
    }
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "and" | "or" | "unless" | "by" | "without" | "on" | "ignoring" | "offset" | "bool"
    )
}

const AGGREGATIONS: [&str; 12] = [
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "group",
];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str) -> Result<(), String> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(match self.peek() {
                Some(t) => format!("expected `{p}`, found {}", describe(t)),
                None => format!("expected `{p}` at the end"),
            })
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let lhs = self.term()?;
        let op = match self.peek() {
            Some(Tok::Punct(p)) => match *p {
                ">" => Op::Gt,
                ">=" => Op::Ge,
                "<" => Op::Lt,
                "<=" => Op::Le,
                "==" => Op::Eq,
                "!=" => Op::Ne,
                _ => return Ok(lhs),
            },
            _ => return Ok(lhs),
        };
        self.pos += 1;
        if matches!(self.peek(), Some(Tok::Ident(s)) if s == "bool") {
            return Err("unsupported `bool` comparison".into());
        }
        let rhs = self.term()?;
        Ok(Expr::Compare {
            lhs: Box::new(lhs),
            op,
            rhs: Box::new(rhs),
        })
    }

    fn term(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(Expr::Number(n)),
            Some(Tok::Punct("-")) => match self.next() {
                Some(Tok::Num(n)) => Ok(Expr::Number(-n)),
                _ => Err("unsupported arithmetic `-`".into()),
            },
            Some(Tok::Punct("(")) => {
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Some(Tok::Punct("{")) => {
                self.pos -= 1;
                self.selector(String::new()).map(Expr::Vector)
            }
            Some(Tok::Ident(name)) if self.eat("(") => {
                if AGGREGATIONS.contains(&name.as_str()) {
                    return Err(format!("unsupported aggregation `{name}`"));
                }
                if !matches!(
                    name.as_str(),
                    "rate" | "increase" | "delta" | "deriv" | "absent" | "absent_over_time"
                ) {
                    return Err(format!("unsupported function `{name}`"));
                }
                let arg = match self.next() {
                    Some(Tok::Ident(m)) => self.selector(m)?,
                    Some(Tok::Punct("{")) => {
                        self.pos -= 1;
                        self.selector(String::new())?
                    }
                    _ => return Err(format!("`{name}` of something other than a selector")),
                };
                let range = if self.eat("[") {
                    let d = match self.next() {
                        Some(Tok::Dur(d)) => d,
                        _ => return Err("unsupported subquery range".into()),
                    };
                    if !self.eat("]") {
                        return Err("unsupported subquery range".into());
                    }
                    Some(d)
                } else {
                    None
                };
                self.expect(")")?;
                Ok(Expr::Call { name, arg, range })
            }
            Some(Tok::Ident(name)) if AGGREGATIONS.contains(&name.as_str()) => {
                Err(format!("unsupported aggregation `{name}`"))
            }
            Some(Tok::Ident(name)) if is_keyword(&name) => Err(format!("unsupported `{name}`")),
            Some(Tok::Ident(name)) => self.selector(name).map(Expr::Vector),
            Some(t) => Err(format!("unsupported {}", describe(&t))),
            None => Err("the expression ends early".into()),
        }
    }

    fn selector(&mut self, mut metric: String) -> Result<VectorSelector, String> {
        let mut labels = BTreeMap::new();
        if self.eat("{") {
            while !self.eat("}") {
                let Some(Tok::Ident(label)) = self.next() else {
                    return Err("expected a label name in the selector".into());
                };
                let op = match self.next() {
                    Some(Tok::Punct(p)) if matches!(p, "=" | "!=" | "=~" | "!~") => p,
                    _ => return Err(format!("expected a matcher after {label}")),
                };
                let Some(Tok::Str(value)) = self.next() else {
                    return Err(format!("expected a quoted value for {label}"));
                };
                let matcher = match (op, value.as_str()) {
                    ("=", v) => Some(v.to_string()),
                    ("!=", "") | ("=~", ".+") => Some("*".into()),
                    ("!=", v) => Some(format!("!{v}")),
                    ("=~", ".*") => None,
                    ("=~", v) if is_literal(v) => Some(v.to_string()),
                    ("!~", v) if is_literal(v) && !v.is_empty() => Some(format!("!{v}")),
                    (op, v) => {
                        return Err(format!("unsupported matcher {label}{op}{v:?}"));
                    }
                };
                if label == "__name__" {
                    match matcher {
                        Some(m) if !m.starts_with('!') && m != "*" && metric.is_empty() => {
                            metric = m
                        }
                        _ => return Err("unsupported __name__ matcher".into()),
                    }
                } else if let Some(m) = matcher
                    && labels.insert(label.clone(), m).is_some()
                {
                    return Err(format!("two matchers on {label}"));
                }
                if !self.eat(",") {
                    self.expect("}")?;
                    break;
                }
            }
        }
        if metric.is_empty() {
            return Err("a selector without a metric name".into());
        }
        if matches!(self.peek(), Some(Tok::Ident(s)) if s == "offset") {
            return Err("unsupported `offset`".into());
        }
        Ok(VectorSelector { metric, labels })
    }
}

/// A regex that matches exactly one string: no metacharacters.
fn is_literal(v: &str) -> bool {
    !v.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(metric: &str, labels: &[(&str, &str)]) -> VectorSelector {
        VectorSelector {
            metric: metric.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn comparisons_of_selectors_and_functions_parse() {
        assert_eq!(
            parse(r#"node_load1{job="node", instance!="a", env=~".+", x=~".*"} > 4"#),
            Ok(Expr::Compare {
                lhs: Box::new(Expr::Vector(sel(
                    "node_load1",
                    &[("job", "node"), ("instance", "!a"), ("env", "*")]
                ))),
                op: Op::Gt,
                rhs: Box::new(Expr::Number(4.0)),
            })
        );
        assert_eq!(
            parse("(increase(kube_pod_container_status_restarts_total[15m]) >= 1e0)"),
            Ok(Expr::Compare {
                lhs: Box::new(Expr::Call {
                    name: "increase".into(),
                    arg: sel("kube_pod_container_status_restarts_total", &[]),
                    range: Some(Duration::from_mins(15)),
                }),
                op: Op::Ge,
                rhs: Box::new(Expr::Number(1.0)),
            })
        );
        assert_eq!(
            parse(r#"absent({__name__="up", job='api'})"#),
            Ok(Expr::Call {
                name: "absent".into(),
                arg: sel("up", &[("job", "api")]),
                range: None,
            })
        );
        assert_eq!(
            parse("0.5 < up"),
            Ok(Expr::Compare {
                lhs: Box::new(Expr::Number(0.5)),
                op: Op::Lt,
                rhs: Box::new(Expr::Vector(sel("up", &[]))),
            })
        );
    }

    #[test]
    fn what_is_not_supported_is_named() {
        for (src, why) in [
            ("sum by (job) (up) == 0", "unsupported aggregation `sum`"),
            ("up == 0 and on() vector(1)", "unsupported `and`"),
            ("a / b > 1", "unsupported arithmetic `/`"),
            (
                r#"up{job=~"a|b"} == 0"#,
                r#"unsupported matcher job=~"a|b""#,
            ),
            ("up offset 5m == 0", "unsupported `offset`"),
            ("histogram_quantile(0.9, x) > 1", "unsupported function"),
            ("rate(x[5m:1m]) > 1", "unsupported subquery range"),
            ("up == bool 0", "unsupported `bool` comparison"),
            ("up{job=\"a", "unterminated string"),
            ("up >", "the expression ends early"),
        ] {
            let e = parse(src).unwrap_err();
            assert!(e.contains(why), "{src}: {e}");
        }
    }
}
