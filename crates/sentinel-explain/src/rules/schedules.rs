//! CronJobs whose run did not start when due: the schedule (read in its
//! time zone) against the last run scheduled, and what holds the runs
//! back, as far as the capture tells: a run still going under
//! `concurrencyPolicy: Forbid` (with its pod's last log line), the
//! controller's warning events about the CronJob (a Job refused by a
//! quota or a webhook), or nothing at all (the controller itself).
//!
//! As with failed Jobs, the incident's own reading (`cronjob_late_seconds`
//! for that CronJob) makes the lateness what the incident is about; a late
//! CronJob merely captured beside another incident is weighed by how near
//! the onset its run was due.

use sentinel_model::cron::Due;
use sentinel_model::{Schedule, Timestamp};
use serde_json::Value;

use super::jobs::owned_by;
use super::{Ctx, Proposal, pod_ref};
use crate::evidence::EvidenceKind;
use crate::kube::{ObjRef, arr_at, i64_at, str_at, time_at};

const RULE: &str = "schedules";
/// The series Sentinel reads a CronJob's lateness into.
const LATE_SERIES: &str = "cronjob_late_seconds";

pub(crate) fn run(ctx: &mut Ctx) {
    for cj in ctx.cap.objects.of_kind("CronJob") {
        late(ctx, cj);
    }
}

/// The CronJob's schedule and status, as the model reads them.
fn schedule_of(cj: &Value) -> Schedule {
    let spec = |p: &str| str_at(cj, &format!("/spec/{p}")).to_string();
    Schedule {
        schedule: spec("schedule"),
        time_zone: Some(spec("timeZone")).filter(|z| !z.is_empty()),
        concurrency: spec("concurrencyPolicy"),
        starting_deadline_secs: i64_at(cj, "/spec/startingDeadlineSeconds"),
        suspended: cj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true),
        active: u32::try_from(arr_at(cj, "/status/active").len()).unwrap_or(u32::MAX),
        last_schedule: time_at(cj, "/status/lastScheduleTime"),
        last_success: time_at(cj, "/status/lastSuccessfulTime"),
    }
}

/// Whether the capture's readings say `cron` is late.
fn signalled(ctx: &Ctx, cron: &ObjRef) -> bool {
    ctx.cap.metrics.iter().any(|s| {
        s.name == LATE_SERIES
            && s.label("cronjob") == cron.name
            && [cron.namespace.as_str(), ""].contains(&s.label("namespace"))
            && s.points.iter().any(|p| p.1 > 0.0)
    })
}

/// Its runs not finished (no `Complete` or `Failed` condition), oldest
/// first.
fn running<'a>(ctx: &Ctx<'a>, cron: &ObjRef) -> Vec<&'a Value> {
    let mut runs: Vec<&Value> = ctx
        .cap
        .objects
        .of_kind("Job")
        .iter()
        .filter(|j| {
            owned_by(j, cron)
                && !arr_at(j, "/status/conditions").iter().any(|c| {
                    ["Complete", "Failed"].contains(&str_at(c, "/type"))
                        && str_at(c, "/status") == "True"
                })
        })
        .collect();
    runs.sort_by_key(|j| (started(j), str_at(j, "/metadata/name").to_string()));
    runs
}

fn started(job: &Value) -> Option<Timestamp> {
    time_at(job, "/status/startTime").or_else(|| time_at(job, "/metadata/creationTimestamp"))
}

fn ago(onset: Timestamp, t: Option<Timestamp>) -> String {
    t.map_or_else(
        || "at a time not recorded".to_string(),
        |t| format!("{} before the onset", onset.since(t).human()),
    )
}

fn late(ctx: &mut Ctx, cj: &Value) {
    let s = schedule_of(cj);
    let created = time_at(cj, "/metadata/creationTimestamp").unwrap_or(Timestamp(0));
    let onset = ctx.cap.onset;
    let Ok(Due::Late { since, missed }) = s.due(created, onset) else {
        return;
    };
    let cref = ObjRef::of(cj, "CronJob");
    let zone = s
        .time_zone
        .as_deref()
        .map_or(String::new(), |z| format!(" ({z})"));
    let policy = match s.concurrency.as_str() {
        "" => "Allow",
        p => p,
    };
    let last = s
        .last_schedule
        .map_or("never".to_string(), Timestamp::to_rfc3339);
    let cid = ctx.note(
        EvidenceKind::Workload,
        &cref,
        s.last_schedule,
        format!(
            "{cref} schedule \"{}\"{zone}, concurrencyPolicy {policy}, last scheduled {last}, {} active",
            s.schedule, s.active
        ),
    );
    let weight = if signalled(ctx, &cref) {
        1.0
    } else {
        ctx.near(Some(since))
    };
    let missed = match missed {
        1 => "1 run due".to_string(),
        n if n >= sentinel_model::cron::MISSED_COUNTED => format!("{n} or more runs due"),
        n => format!("{n} runs due"),
    };
    let head = format!(
        "CronJob {} has started no run since {last}: the run due at {} did not start ({missed} by the onset).",
        cref.name,
        since.to_rfc3339()
    );
    let mut prop = Proposal::new("cronjob_late", cref.clone(), RULE, 0.9 * weight)
        .say(head, std::slice::from_ref(&cid));
    let runs = running(ctx, &cref);
    let hint;
    if policy == "Forbid" && runs.is_empty() && s.active > 0 {
        // Its Jobs not captured (not listed, or not readable): the status
        // still says a run is going.
        prop = prop.say(
            format!(
                "Its status lists {} run(s) still active, and concurrencyPolicy Forbid skips every run due while one runs.",
                s.active
            ),
            &[cid],
        );
        hint = format!(
            "Find the CronJob's running Job (`kubectl get jobs -n {}`) and what it waits on; delete it so the next run starts, and set activeDeadlineSeconds in the jobTemplate so a run that hangs is ended.",
            cref.namespace
        );
    } else if policy == "Forbid" && !runs.is_empty() {
        let job = runs[0];
        let jref = ObjRef::of(job, "Job");
        let at = started(job);
        let jid = ctx.note(
            EvidenceKind::Workload,
            &jref,
            at,
            format!(
                "{jref} started {}, not finished: {} pods active",
                at.map_or("at an unknown time".to_string(), Timestamp::to_rfc3339),
                i64_at(job, "/status/active").unwrap_or(0)
            ),
        );
        prop = prop.related([jref.clone()]).say(
            format!(
                "Its run {} started {} and is still running, and concurrencyPolicy Forbid skips every run due while one runs: that run holds all the later ones back.",
                jref.name,
                ago(onset, at)
            ),
            &[cid.clone(), jid],
        );
        // What its newest pod said last: where it hangs.
        let mut pods: Vec<&Value> = ctx.pods().iter().filter(|p| owned_by(p, &jref)).collect();
        pods.sort_by_key(|p| std::cmp::Reverse(time_at(p, "/metadata/creationTimestamp")));
        if let Some(p) = pods.first() {
            let pod = pod_ref(p);
            let lines = ctx.logs_matching(&pod.namespace, &pod.name, &[""]);
            if let Some(last) = lines.last().copied()
                && let Some(id) = ctx.note_logs(&pod, &[last])
            {
                // A log read live has no times unless the container writes them.
                let when = last
                    .at
                    .map_or(String::new(), |t| format!(" ({})", ago(onset, Some(t))));
                prop = prop.say(
                    format!(
                        "Its pod {}'s log ends with \"{}\"{when}.",
                        pod.name,
                        last.line.trim()
                    ),
                    &[id],
                );
            }
        }
        hint = format!(
            "Find what the run waits on (its pod's log), then delete it (`kubectl delete job {} -n {}`) so the next run starts; set activeDeadlineSeconds in the jobTemplate so a run that hangs is ended.",
            jref.name, jref.namespace
        );
    } else if let Some(e) = ctx
        .events_for(&cref)
        .into_iter()
        .filter(|e| e.warning)
        .max_by_key(|e| (e.last, e.count))
    {
        let eid = ctx.note_event(e);
        let message = e.message.trim().to_string();
        prop = prop.say(
            format!(
                "The CronJob controller reported {}: \"{message}\".",
                e.reason
            ),
            &[eid],
        );
        let low = message.to_ascii_lowercase();
        hint = if low.contains("quota") {
            "The Job is refused by a ResourceQuota: raise the quota or lower the jobTemplate's requests; the next run then starts on schedule.".to_string()
        } else if low.contains("webhook") {
            "An admission webhook refuses the Job: fix the webhook or the jobTemplate; the next run then starts on schedule.".to_string()
        } else {
            "Fix what the event says; the next run then starts on schedule.".to_string()
        };
    } else {
        let text = if runs.is_empty() {
            "No Job was created for it, no run of it is still going and no event says why."
                .to_string()
        } else {
            format!(
                "No Job was created for it and no event says why; a run is still going, but concurrencyPolicy {policy} does not wait for it."
            )
        };
        prop = prop.say(text, &[cid]);
        hint = "Check that the CronJob controller runs: kube-controller-manager's logs and its leader election; a clock far off on the control plane delays runs too.".to_string();
    }
    prop.hint(hint).done(ctx);
}

#[cfg(test)]
#[path = "schedules_tests.rs"]
mod tests;
