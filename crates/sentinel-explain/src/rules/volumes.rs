//! Claims that do not bind: the claim is compared with the storage classes
//! and volumes in the capture, and the controller's own words are used when
//! it wrote them (`Cannot bind to requested volume …: requested PV is too small`).

use serde_json::Value;

use super::{Ctx, Proposal, latest};
use crate::evidence::EvidenceKind;
use crate::kube::{ObjRef, arr_at, labels_at, quantity, selects, str_at, time_at};

const RULE: &str = "volumes";

pub(crate) fn run(ctx: &mut Ctx) {
    let objects = &ctx.cap.objects;
    let claims: Vec<&Value> = objects
        .of_kind("PersistentVolumeClaim")
        .iter()
        .filter(|c| str_at(c, "/status/phase") != "Bound")
        .collect();
    for claim in claims {
        let r = ObjRef::of(claim, "PersistentVolumeClaim");
        let users: Vec<ObjRef> = ctx
            .pods()
            .iter()
            .filter(|p| {
                str_at(p, "/metadata/namespace") == r.namespace
                    && arr_at(p, "/spec/volumes")
                        .iter()
                        .any(|v| str_at(v, "/persistentVolumeClaim/claimName") == r.name)
            })
            .map(|p| ObjRef::of(p, "Pod"))
            .collect();
        let events = ctx.events_for(&r);
        let last = latest(
            &events,
            &[
                "ProvisioningFailed",
                "FailedBinding",
                "VolumeMismatch",
                "ClaimMisbound",
                "ClaimLost",
            ],
        );
        let at = last
            .and_then(|e| e.last)
            .or_else(|| time_at(claim, "/metadata/creationTimestamp"));
        let near = ctx.near(at);
        let event_id = last.map(|e| ctx.note_event(e));
        let pending = ctx.note(
            EvidenceKind::Spec,
            &r,
            time_at(claim, "/metadata/creationTimestamp"),
            format!(
                "{r} is {} (class {:?}, modes {}, request {}{})",
                match str_at(claim, "/status/phase") {
                    "" => "not bound",
                    p => p,
                },
                str_at(claim, "/spec/storageClassName"),
                modes(claim, "/spec/accessModes").join(","),
                str_at(claim, "/spec/resources/requests/storage"),
                match str_at(claim, "/spec/volumeName") {
                    "" => String::new(),
                    v => format!(", volume {v}"),
                },
            ),
        );
        let mut cites = vec![pending];
        cites.extend(event_id);
        let Some((cause, sentence, hint)) = diagnose(ctx, claim, last.map(|e| e.message.as_str()))
        else {
            continue;
        };
        let boost = if users.is_empty() { 0.9 } else { 1.0 };
        Proposal::new(cause, r.clone(), RULE, 0.95 * boost * near)
            .related(users)
            .say(sentence.0, &[cites.clone(), sentence.1].concat())
            .hint(hint)
            .done(ctx);
    }
}

type Said = (String, Vec<String>);

fn diagnose(
    ctx: &mut Ctx,
    claim: &Value,
    msg: Option<&str>,
) -> Option<(&'static str, Said, String)> {
    let objects = &ctx.cap.objects;
    let r = ObjRef::of(claim, "PersistentVolumeClaim");
    let class = str_at(claim, "/spec/storageClassName");
    let msg = msg.unwrap_or("").to_ascii_lowercase();
    let classes = objects.of_kind("StorageClass");
    let pvs = objects.of_kind("PersistentVolume");
    // A class named only by volumes (static binding, e.g. "manual") is fine.
    let class_known = classes.iter().any(|c| str_at(c, "/metadata/name") == class)
        || pvs
            .iter()
            .any(|p| str_at(p, "/spec/storageClassName") == class);
    if (!class.is_empty() && !classes.is_empty() && !class_known)
        || (msg.contains("storageclass") && msg.contains("not found"))
    {
        let known: Vec<&str> = classes
            .iter()
            .map(|c| str_at(c, "/metadata/name"))
            .collect();
        return Some((
            "pvc_storage_class_missing",
            (
                format!(
                    "{r} asks for storage class {class:?}, which does not exist (known: {}).",
                    known.join(", ")
                ),
                vec![],
            ),
            format!(
                "Set storageClassName to an existing class ({}) and recreate the claim.",
                known.join(", ")
            ),
        ));
    }
    let bound_elsewhere = |pv: &Value| {
        let n = str_at(pv, "/spec/claimRef/name");
        !n.is_empty() && (n != r.name || str_at(pv, "/spec/claimRef/namespace") != r.namespace)
    };
    let wanted = str_at(claim, "/spec/volumeName");
    if msg.contains("already bound") {
        return Some(already_bound(ctx, &r, wanted));
    }
    if !wanted.is_empty()
        && let Some(pv) = pvs.iter().find(|p| str_at(p, "/metadata/name") == wanted)
        && bound_elsewhere(pv)
    {
        return Some(already_bound(ctx, &r, wanted));
    }
    // Volumes of the claim's class (static binding).
    let same_class: Vec<&Value> = pvs
        .iter()
        .filter(|p| str_at(p, "/spec/storageClassName") == class)
        .collect();
    if same_class.is_empty() && !msg.contains("too small") && !msg.contains("accessmode") {
        return None;
    }
    let sel = labels_at(claim, "/spec/selector/matchLabels");
    let selected: Vec<&Value> = same_class
        .iter()
        .copied()
        .filter(|p| sel.is_empty() || selects(&sel, &labels_at(p, "/metadata/labels")))
        .collect();
    if !sel.is_empty() && selected.is_empty() {
        return Some((
            "pvc_selector_mismatch",
            (
                format!(
                    "{r} selects volumes labelled {}, and no volume of class {class:?} carries those labels.",
                    super::scheduling::fmt_map(&sel)
                ),
                vec![],
            ),
            "Fix the claim's selector or label the intended volume.".into(),
        ));
    }
    let free: Vec<&Value> = selected
        .iter()
        .copied()
        .filter(|p| !bound_elsewhere(p))
        .collect();
    if (free.is_empty() && !selected.is_empty()) || msg.contains("already bound") {
        let name = selected
            .first()
            .map(|p| str_at(p, "/metadata/name"))
            .unwrap_or("");
        return Some(already_bound(ctx, &r, name));
    }
    let want_modes = modes(claim, "/spec/accessModes");
    let with_modes: Vec<&Value> = free
        .iter()
        .copied()
        .filter(|p| {
            let m = modes(p, "/spec/accessModes");
            want_modes.iter().all(|w| m.contains(w))
        })
        .collect();
    if (with_modes.is_empty() && !free.is_empty()) || msg.contains("accessmode") {
        let (offered, id) = note_offered(ctx, &r, class, &free, |p| {
            modes(p, "/spec/accessModes").join(",")
        });
        return Some((
            "pvc_access_mode_mismatch",
            (format!("{r} asks for {}, and the available volumes offer only {}.", want_modes.join(","), offered.join("; ")), vec![id]),
            "Ask for an access mode the storage offers (ReadWriteOnce for block storage), or provide a volume that supports it.".into(),
        ));
    }
    let want = quantity(str_at(claim, "/spec/resources/requests/storage")).unwrap_or(0.0);
    let big_enough = with_modes
        .iter()
        .any(|p| quantity(str_at(p, "/spec/capacity/storage")).unwrap_or(0.0) >= want);
    if !big_enough || msg.contains("too small") {
        let (offered, id) = note_offered(ctx, &r, class, &with_modes, |p| {
            str_at(p, "/spec/capacity/storage").to_string()
        });
        return Some((
            "pvc_capacity_insufficient",
            (
                format!(
                    "{r} requests {}, more than any available volume holds ({}).",
                    str_at(claim, "/spec/resources/requests/storage"),
                    offered.join("; ")
                ),
                vec![id],
            ),
            "Lower the claim's request or provide a larger volume.".into(),
        ));
    }
    None
}

fn already_bound(ctx: &mut Ctx, r: &ObjRef, pv: &str) -> (&'static str, Said, String) {
    let pvo = ctx.cap.objects.find("PersistentVolume", "", pv);
    let other = pvo
        .map(|p| {
            format!(
                "{}/{}",
                str_at(p, "/spec/claimRef/namespace"),
                str_at(p, "/spec/claimRef/name")
            )
        })
        .unwrap_or_default();
    let pv_ref = ObjRef::new("PersistentVolume", "", pv);
    let id = ctx.note(
        EvidenceKind::Spec,
        &pv_ref,
        None,
        format!("{pv_ref} is bound to claim {other}"),
    );
    (
        "pv_already_bound",
        (
            format!("{r} wants {pv_ref}, which is already bound to claim {other}."),
            vec![id],
        ),
        format!(
            "Point the claim at a free volume, or release {pv} (delete claim {other} and clear the volume's claimRef) if it is no longer used."
        ),
    )
}

/// Note the volumes a claim could have had, each with `what` of it.
fn note_offered(
    ctx: &mut Ctx,
    r: &ObjRef,
    class: &str,
    volumes: &[&Value],
    what: impl Fn(&Value) -> String,
) -> (Vec<String>, String) {
    let offered: Vec<String> = volumes
        .iter()
        .map(|p| format!("{} ({})", str_at(p, "/metadata/name"), what(p)))
        .collect();
    let text = format!(
        "available volumes of class {class:?}: {}",
        offered.join("; ")
    );
    let id = ctx.note(EvidenceKind::Spec, r, None, text);
    (offered, id)
}

fn modes(v: &Value, ptr: &str) -> Vec<String> {
    arr_at(v, ptr)
        .iter()
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect()
}
