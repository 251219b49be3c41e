//! Scoring the explainer on labelled cases: where the expected cause and
//! object first appear among the ranked candidates.

use serde::Serialize;
use serde_json::Value;

use crate::catalogue;
use crate::explain::Explanation;
use crate::kube::ObjRef;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expected {
    pub object: Option<ObjRef>,
    pub cause: String,
}

/// Read `expected` from `case.json`. The explainer never sees this.
pub fn parse_expected(case_json: &str) -> Result<Expected, String> {
    let v: Value = serde_json::from_str(case_json).map_err(|e| e.to_string())?;
    let e = v.get("expected").ok_or("no \"expected\"")?;
    let cause = e
        .get("cause")
        .and_then(Value::as_str)
        .ok_or("no \"expected.cause\"")?
        .to_string();
    let object = e
        .get("object")
        .and_then(Value::as_str)
        .and_then(ObjRef::parse);
    Ok(Expected { object, cause })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Ranks {
    /// 1-based rank of the first candidate with the right cause.
    pub cause: Option<usize>,
    /// 1-based rank of the first candidate with the right cause and object.
    pub cause_and_object: Option<usize>,
}

pub fn rank(x: &Explanation, want: &Expected) -> Ranks {
    let mut r = Ranks::default();
    for (i, c) in x.candidates.iter().enumerate() {
        if !catalogue::matches(&c.cause, &want.cause) {
            continue;
        }
        r.cause.get_or_insert(i + 1);
        let object_ok = want.object.as_ref().is_none_or(|o| c.concerns(o));
        if object_ok && r.cause_and_object.is_none() {
            r.cause_and_object = Some(i + 1);
        }
    }
    r
}

/// top-1 and top-3 accuracy over cases, for causes and for cause + object.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Accuracy {
    pub cases: usize,
    pub cause_top1: f64,
    pub cause_top3: f64,
    pub object_top1: f64,
    pub object_top3: f64,
}

pub fn accuracy(ranks: &[Ranks]) -> Accuracy {
    let n = ranks.len();
    if n == 0 {
        return Accuracy::default();
    }
    let share =
        |f: &dyn Fn(&Ranks) -> bool| ranks.iter().filter(|r| f(r)).count() as f64 / n as f64;
    Accuracy {
        cases: n,
        cause_top1: share(&|r| r.cause == Some(1)),
        cause_top3: share(&|r| r.cause.is_some_and(|k| k <= 3)),
        object_top1: share(&|r| r.cause_and_object == Some(1)),
        object_top3: share(&|r| r.cause_and_object.is_some_and(|k| k <= 3)),
    }
}
