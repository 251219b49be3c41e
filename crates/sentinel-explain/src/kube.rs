//! Kubernetes objects as `kubectl get ... -o json` prints them, read without
//! a schema: a capture may hold any subset of kinds and any API version, so
//! every accessor tolerates what is missing.

use std::collections::BTreeMap;
use std::fmt;

use sentinel_model::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjRef {
    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        Self {
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// Parse `Kind/ns/name`, `Kind//name` or `Kind/name`.
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.trim().split('/').collect();
        match parts.as_slice() {
            [k, n] if !k.is_empty() && !n.is_empty() => Some(Self::new(k, "", n)),
            [k, ns, n] if !k.is_empty() && !n.is_empty() => Some(Self::new(k, ns, n)),
            _ => None,
        }
    }

    /// Same object, comparing kinds without case.
    pub fn same(&self, other: &ObjRef) -> bool {
        self.kind.eq_ignore_ascii_case(&other.kind)
            && self.namespace == other.namespace
            && self.name == other.name
    }

    pub fn of(v: &Value, kind: &str) -> Self {
        Self::new(
            kind,
            str_at(v, "/metadata/namespace"),
            str_at(v, "/metadata/name"),
        )
    }
}

impl fmt::Display for ObjRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

pub fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

pub fn arr_at<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub fn i64_at(v: &Value, ptr: &str) -> Option<i64> {
    let x = v.pointer(ptr)?;
    x.as_i64()
        .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
}

pub fn time_at(v: &Value, ptr: &str) -> Option<Timestamp> {
    Timestamp::parse(v.pointer(ptr)?.as_str()?)
}

pub fn labels_at(v: &Value, ptr: &str) -> BTreeMap<String, String> {
    v.pointer(ptr)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Does `selector` (a label map) select an object with `labels`? An empty
/// selector selects nothing here (a Service without one has manual endpoints).
pub fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

pub use sentinel_model::quantity;

/// Bytes in the unit a person would use: `512Mi`, `1.5Gi`.
pub fn bytes_human(b: f64) -> String {
    const GI: f64 = 1024.0 * 1024.0 * 1024.0;
    const MI: f64 = 1024.0 * 1024.0;
    if b >= GI {
        format!("{}Gi", trim(b / GI))
    } else if b >= MI {
        format!("{}Mi", trim(b / MI))
    } else {
        format!("{}", b.round())
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// One event, whichever API wrote it (core/v1 or events.k8s.io/v1).
#[derive(Debug, Clone)]
pub struct Event {
    pub object: ObjRef,
    pub reason: String,
    pub message: String,
    pub warning: bool,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub count: i64,
}

impl Event {
    pub fn from_value(v: &Value) -> Self {
        let core = v.get("involvedObject").is_some();
        let (obj, message) = if core {
            ("/involvedObject", str_at(v, "/message"))
        } else {
            ("/regarding", str_at(v, "/note"))
        };
        let object = ObjRef::new(
            str_at(v, &format!("{obj}/kind")),
            str_at(v, &format!("{obj}/namespace")),
            str_at(v, &format!("{obj}/name")),
        );
        let pick = |ptrs: &[&str]| ptrs.iter().find_map(|p| time_at(v, p));
        let last = pick(&[
            "/lastTimestamp",
            "/series/lastObservedTime",
            "/deprecatedLastTimestamp",
            "/eventTime",
            "/firstTimestamp",
            "/metadata/creationTimestamp",
        ]);
        let first = pick(&[
            "/firstTimestamp",
            "/deprecatedFirstTimestamp",
            "/eventTime",
            "/metadata/creationTimestamp",
        ])
        .or(last);
        let count = i64_at(v, "/count")
            .or_else(|| i64_at(v, "/series/count"))
            .or_else(|| i64_at(v, "/deprecatedCount"))
            .unwrap_or(1);
        Self {
            object,
            reason: str_at(v, "/reason").to_string(),
            message: message.to_string(),
            warning: str_at(v, "/type") == "Warning",
            first,
            last,
            count,
        }
    }
}

/// The annotation on an object's earlier version that a live capture keeps
/// (a node NotReady that has recovered since): when it was last seen so, as
/// RFC 3339.
pub const SEEN_AT: &str = "sentinel.dev/seen-at";

/// Whether a node condition is a problem: `Ready` not `True`, or a pressure
/// (or `NetworkUnavailable`) `True`.
pub fn bad_node_condition(ty: &str, status: &str) -> bool {
    match ty {
        "Ready" => status != "True",
        "MemoryPressure" | "DiskPressure" | "PIDPressure" | "NetworkUnavailable" => {
            status == "True"
        }
        _ => false,
    }
}

/// Whether a node object has a problem condition.
pub fn node_in_trouble(n: &Value) -> bool {
    str_at(n, "/kind") == "Node"
        && arr_at(n, "/status/conditions")
            .iter()
            .any(|c| bad_node_condition(str_at(c, "/type"), str_at(c, "/status")))
}

/// The objects of a capture, by kind, in input order.
#[derive(Debug, Default)]
pub struct Objects {
    by_kind: BTreeMap<String, Vec<Value>>,
    /// Earlier versions, in trouble then (marked [`SEEN_AT`]), by kind.
    earlier: BTreeMap<String, Vec<Value>>,
    pub events: Vec<Event>,
}

impl Objects {
    /// Accepts a `List` (or `PodList`, …), a JSON array of objects, or one object.
    pub fn from_value(v: Value) -> Self {
        let mut out = Objects::default();
        let list_kind = str_at(&v, "/kind").to_string();
        let items = match v {
            Value::Array(items) => items,
            Value::Object(ref m) if m.contains_key("items") => {
                match v.get("items").cloned().unwrap_or_default() {
                    Value::Array(items) => items,
                    _ => Vec::new(),
                }
            }
            other @ Value::Object(_) => vec![other],
            _ => Vec::new(),
        };
        let implied = list_kind
            .strip_suffix("List")
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        for item in items {
            let kind = match str_at(&item, "/kind") {
                "" => match &implied {
                    Some(k) => k.clone(),
                    None => continue,
                },
                k => k.to_string(),
            };
            if kind == "List" || kind.ends_with("List") {
                let nested = Objects::from_value(item);
                for (k, vs) in nested.by_kind {
                    out.by_kind.entry(k).or_default().extend(vs);
                }
                for (k, vs) in nested.earlier {
                    out.earlier.entry(k).or_default().extend(vs);
                }
                out.events.extend(nested.events);
                continue;
            }
            if seen_at(&item).is_some() {
                out.earlier.entry(kind).or_default().push(item);
                continue;
            }
            if kind == "Event" {
                out.events.push(Event::from_value(&item));
            }
            out.by_kind.entry(kind).or_default().push(item);
        }
        out
    }

    pub fn of_kind(&self, kind: &str) -> &[Value] {
        self.by_kind.get(kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Earlier versions of this kind's objects, from when they were in
    /// trouble (they are well in [`Objects::of_kind`] now).
    pub fn earlier_of_kind(&self, kind: &str) -> &[Value] {
        self.earlier.get(kind).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn kinds(&self) -> impl Iterator<Item = (&str, usize)> {
        self.by_kind.iter().map(|(k, v)| (k.as_str(), v.len()))
    }

    pub fn find(&self, kind: &str, namespace: &str, name: &str) -> Option<&Value> {
        self.of_kind(kind).iter().find(|v| {
            str_at(v, "/metadata/name") == name
                && (namespace.is_empty() || str_at(v, "/metadata/namespace") == namespace)
        })
    }

    pub fn events_for(&self, obj: &ObjRef) -> impl Iterator<Item = &Event> + '_ {
        let obj = obj.clone();
        self.events.iter().filter(move |e| e.object.same(&obj))
    }

    /// The owner chain of an object: Pod → ReplicaSet → Deployment.
    pub fn owners(&self, v: &Value) -> Vec<ObjRef> {
        let mut out = Vec::new();
        let ns = str_at(v, "/metadata/namespace").to_string();
        let mut cur = v.clone();
        for _ in 0..4 {
            let Some(o) = arr_at(&cur, "/metadata/ownerReferences").first() else {
                break;
            };
            let r = ObjRef::new(str_at(o, "/kind"), &ns, str_at(o, "/name"));
            let next = self.find(&r.kind, &ns, &r.name).cloned();
            out.push(r);
            match next {
                Some(n) => cur = n,
                None => {
                    // A ReplicaSet named `<deploy>-<hash>` belongs to that Deployment.
                    let last = out.last().cloned();
                    if let Some(l) = last.filter(|l| l.kind == "ReplicaSet")
                        && let Some((d, _)) = l.name.rsplit_once('-')
                        && self.find("Deployment", &ns, d).is_some()
                    {
                        out.push(ObjRef::new("Deployment", &ns, d));
                    }
                    break;
                }
            }
        }
        out
    }
}

/// When an earlier version was last seen so ([`SEEN_AT`]).
pub fn seen_at(v: &Value) -> Option<Timestamp> {
    v.pointer("/metadata/annotations")
        .and_then(|a| a.get(SEEN_AT))
        .and_then(Value::as_str)
        .and_then(Timestamp::parse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_parse_in_cores_and_bytes() {
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("2"), Some(2.0));
        assert_eq!(quantity("512Mi"), Some(512.0 * 1024.0 * 1024.0));
        assert_eq!(quantity("1G"), Some(1e9));
        assert_eq!(quantity("1e3"), Some(1000.0));
        assert_eq!(quantity("12x"), None);
        assert_eq!(bytes_human(1536.0 * 1024.0 * 1024.0), "1.5Gi");
    }

    #[test]
    fn lists_of_any_shape_are_read() {
        let list =
            json!({"kind": "PodList", "items": [{"metadata": {"name": "a", "namespace": "x"}}]});
        assert_eq!(Objects::from_value(list).of_kind("Pod").len(), 1);
        let arr = json!([{"kind": "Node", "metadata": {"name": "n1"}}]);
        assert_eq!(Objects::from_value(arr).of_kind("Node").len(), 1);
        let nested = json!({"kind": "List", "items": [{"kind": "EventList", "items": [
            {"kind": "Event", "involvedObject": {"kind": "Pod", "namespace": "x", "name": "a"},
             "reason": "BackOff", "type": "Warning", "message": "m", "count": 3,
             "lastTimestamp": "2026-01-01T00:00:00Z"}]}]});
        let o = Objects::from_value(nested);
        assert_eq!(o.events.len(), 1);
        assert_eq!(o.events[0].count, 3);
        assert_eq!(o.events[0].object.to_string(), "Pod/x/a");
    }

    #[test]
    fn events_k8s_io_v1_are_read() {
        let e = Event::from_value(&json!({"kind": "Event", "apiVersion": "events.k8s.io/v1",
            "regarding": {"kind": "Node", "name": "n1"}, "note": "NotReady", "reason": "NodeNotReady",
            "type": "Normal", "eventTime": "2026-01-01T00:00:00.000000Z"}));
        assert_eq!(e.object.to_string(), "Node/n1");
        assert_eq!(e.message, "NotReady");
        assert!(e.last.is_some());
    }

    #[test]
    fn object_refs_parse_both_forms() {
        let a = ObjRef::parse("Node//n1").unwrap_or_else(|| ObjRef::new("", "", ""));
        let b = ObjRef::parse("node/n1").unwrap_or_else(|| ObjRef::new("", "", ""));
        assert!(a.same(&b));
        assert_eq!(ObjRef::parse("Pod/x"), Some(ObjRef::new("Pod", "", "x")));
        assert_eq!(ObjRef::parse("bad"), None);
    }
}
