//! OOM kills, read with the memory limit, the usage trend before the kill
//! and the rollout that preceded them.

use serde_json::Value;

use super::{Ctx, Proposal, container_spec};
use crate::evidence::{EvidenceId, EvidenceKind};
use crate::kube::{ObjRef, bytes_human, i64_at, quantity, str_at, time_at};
use crate::metrics;

const RULE: &str = "containers";

pub(crate) fn oom(
    ctx: &mut Ctx,
    p: &Value,
    pod: &ObjRef,
    name: &str,
    term: &Value,
    restarts: i64,
    owners: &[ObjRef],
) {
    let finished = time_at(term, "/finishedAt");
    let tid = ctx.note(
        EvidenceKind::Container,
        pod,
        finished,
        format!(
            "{pod} container {name} last terminated OOMKilled (exit code {}), {restarts} restarts",
            i64_at(term, "/exitCode").unwrap_or(137)
        ),
    );
    let limit =
        container_spec(p, name).and_then(|c| quantity(str_at(c, "/resources/limits/memory")));
    let mut prop = Proposal::new("oom_killed", pod.clone(), RULE, 0.97 * ctx.near(finished))
        .related(owners.to_vec())
        .say(
            format!(
                "Container {name} of {pod} was killed for exceeding its memory limit (OOMKilled)."
            ),
            &[tid],
        );
    if let Some(l) = limit {
        let lid = ctx.note(
            EvidenceKind::Spec,
            pod,
            None,
            format!("{pod} container {name} memory limit {}", bytes_human(l)),
        );
        prop = prop.say(format!("Its memory limit is {}.", bytes_human(l)), &[lid]);
    }
    // The usage trend before the kill, when metrics were captured.
    let cap = ctx.cap;
    let usage = cap.metrics.iter().find(|s| {
        s.name == "container_memory_working_set_bytes"
            && s.label("pod") == pod.name
            && (s.label("container") == name || s.label("container").is_empty())
    });
    if let Some(s) = usage
        && let Some(sh) = metrics::shift(&s.values(), cap.onset, 10 * 60_000)
    {
        let peak = s.points.iter().map(|p| p.1).fold(0.0_f64, f64::max);
        let mid = ctx.note(
            EvidenceKind::Metric,
            pod,
            sh.changed_at,
            format!(
                "{}: {} before, rising to {} (peak {})",
                s.text(),
                bytes_human(sh.before),
                bytes_human(sh.after),
                bytes_human(peak)
            ),
        );
        let of_limit = limit
            .map(|l| format!(", {:.0}% of the limit", 100.0 * peak / l))
            .unwrap_or_default();
        prop = prop.say(
            format!(
                "Its working set grew from {} to a peak of {}{of_limit} before the kill.",
                bytes_human(sh.before),
                bytes_human(peak)
            ),
            &[mid],
        );
    }
    let mut hint = match limit {
        Some(l) => format!(
            "Raise the memory limit above {} if the growth is expected, or find the leak (the working set keeps growing until the kill).",
            bytes_human(l)
        ),
        None => "Set a memory limit that fits the workload and find what grows.".to_string(),
    };
    if let Some((rid, text)) = rollout(ctx, p) {
        prop = prop.say(text.clone(), &[rid]).scale(1.02);
        if let Some(prev) = text.split("roll back to ").nth(1) {
            hint = format!(
                "Roll back to {} — the kills started after the rollout. {hint}",
                prev.trim_end_matches('.')
            );
        }
    }
    prop.hint(hint).done(ctx);
}

/// The rollout that produced this pod's ReplicaSet, if it was recent: the
/// evidence id and a sentence naming the old and new revision and image.
pub(crate) fn rollout(ctx: &mut Ctx, p: &Value) -> Option<(EvidenceId, String)> {
    let cap = ctx.cap;
    let owner = crate::kube::arr_at(p, "/metadata/ownerReferences").first()?;
    if str_at(owner, "/kind") != "ReplicaSet" {
        return None;
    }
    let ns = str_at(p, "/metadata/namespace");
    let rs = cap.objects.find("ReplicaSet", ns, str_at(owner, "/name"))?;
    let deploy = cap.objects.owners(rs).into_iter().next()?;
    let revision = |r: &Value| {
        i64_at(
            r,
            "/metadata/annotations/deployment.kubernetes.io~1revision",
        )
        .unwrap_or(0)
    };
    let image = |r: &Value| {
        crate::kube::arr_at(r, "/spec/template/spec/containers")
            .iter()
            .map(|c| str_at(c, "/image"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let cur = revision(rs);
    let created = time_at(rs, "/metadata/creationTimestamp");
    if ctx.near(created) < 0.9 || cur <= 1 {
        return None;
    }
    let prev = cap
        .objects
        .of_kind("ReplicaSet")
        .iter()
        .filter(|r| cap.objects.owners(r).first() == Some(&deploy) && revision(r) < cur)
        .max_by_key(|r| revision(r))?;
    let when = created.map_or(String::new(), |t| {
        format!(" {}", metrics::from_onset(t, cap.onset))
    });
    let text = format!(
        "{deploy} rolled out revision {cur} ({}){when}, replacing revision {} ({}); roll back to revision {} ({}).",
        image(rs),
        revision(prev),
        image(prev),
        revision(prev),
        image(prev),
    );
    let id = ctx.note(
        EvidenceKind::Rollout,
        &deploy,
        created,
        text.split("; roll back")
            .next()
            .unwrap_or(&text)
            .to_string(),
    );
    Some((id, text))
}
