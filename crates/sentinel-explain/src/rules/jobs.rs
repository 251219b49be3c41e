//! Jobs that failed: the Job's `Failed` condition with the reason the Job
//! controller gives, how its pods ended (reason and exit code), what their
//! logs said last, and what to do for that reason.
//!
//! A failed Job stays failed: when the incident's own readings say so (its
//! `job_failed` finding, or kube-state-metrics' `kube_job_failed`), the
//! failure is what the incident is about however long before it was first
//! seen (Sentinel started days after the run); otherwise it is weighed by
//! how near the onset it failed, like any other fact, so an old failure
//! captured beside another incident does not outrank its cause.

use serde_json::Value;

use super::{Ctx, Proposal, pod_ref, statuses};
use crate::evidence::{EvidenceId, EvidenceKind};
use crate::kube::{ObjRef, arr_at, i64_at, str_at, time_at};

const RULE: &str = "jobs";
/// Pods of one Job whose ends are cited, at most.
const PODS_CITED: usize = 3;
/// Words that mark a log line as saying why the work failed.
const ERROR_WORDS: &[&str] = &[
    "error",
    "exception",
    "fatal",
    "panic",
    "failed",
    "traceback",
    "denied",
    "refused",
    "timed out",
];

pub(crate) fn run(ctx: &mut Ctx) {
    for job in ctx.cap.objects.of_kind("Job") {
        if let Some(cond) = arr_at(job, "/status/conditions")
            .iter()
            .find(|c| str_at(c, "/type") == "Failed" && str_at(c, "/status") == "True")
        {
            failed(ctx, job, cond);
        }
    }
}

/// Series that say a Job failed, with its `job_name`.
const FAILED_SERIES: &[&str] = &["job_failed", "kube_job_failed", "kube_job_status_failed"];

/// Whether the capture's readings say `job` failed.
fn signalled(ctx: &Ctx, job: &ObjRef) -> bool {
    ctx.cap.metrics.iter().any(|s| {
        FAILED_SERIES.contains(&s.name.as_str())
            && s.label("job_name") == job.name
            && [job.namespace.as_str(), ""].contains(&s.label("namespace"))
            && s.points.iter().any(|p| p.1 > 0.0)
    })
}

/// Whether `v` is owned by `owner` (a pod by its Job, a Job by its
/// CronJob).
pub(super) fn owned_by(v: &Value, owner: &ObjRef) -> bool {
    str_at(v, "/metadata/namespace") == owner.namespace
        && arr_at(v, "/metadata/ownerReferences")
            .iter()
            .any(|o| str_at(o, "/kind") == owner.kind && str_at(o, "/name") == owner.name)
}

/// How a pod's containers ended: the first that terminated other than
/// with exit code 0: its reason, "container export terminated Error (exit
/// code 1)" and when.
fn end_of(p: &Value) -> Option<(String, String, Option<sentinel_model::Timestamp>)> {
    statuses(p).find_map(|st| {
        ["/state/terminated", "/lastState/terminated"]
            .into_iter()
            .map(|ptr| st.pointer(ptr))
            .find_map(|t| {
                let t = t?;
                let code = i64_at(t, "/exitCode")?;
                (code != 0).then(|| {
                    let reason = match str_at(t, "/reason") {
                        "" => "Error",
                        r => r,
                    };
                    (
                        reason.to_string(),
                        format!(
                            "container {} terminated {reason} (exit code {code})",
                            str_at(st, "/name")
                        ),
                        time_at(t, "/finishedAt"),
                    )
                })
            })
    })
}

fn failed(ctx: &mut Ctx, job: &Value, cond: &Value) {
    let jref = ObjRef::of(job, "Job");
    let at = time_at(cond, "/lastTransitionTime");
    let reason = match str_at(cond, "/reason") {
        "" => "Failed",
        r => r,
    };
    let message = str_at(cond, "/message").trim();
    let failed_pods = i64_at(job, "/status/failed").unwrap_or(0);
    let detail = if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    };
    let jid = ctx.note(
        EvidenceKind::Workload,
        &jref,
        at,
        format!("{jref} Failed: {reason}{detail}; {failed_pods} pods failed"),
    );
    let cron = arr_at(job, "/metadata/ownerReferences")
        .iter()
        .find(|o| str_at(o, "/kind") == "CronJob")
        .map(|o| ObjRef::new("CronJob", &jref.namespace, str_at(o, "/name")));
    let what = match reason {
        "BackoffLimitExceeded" => format!(
            "Job {} failed: its pods failed {failed_pods} times, using up its retries (backoffLimit).",
            jref.name
        ),
        "DeadlineExceeded" => format!(
            "Job {} failed: it ran longer than its activeDeadlineSeconds and was stopped.",
            jref.name
        ),
        "PodFailurePolicy" => format!(
            "Job {} failed: a pod's failure matched its podFailurePolicy, which fails the Job at once.",
            jref.name
        ),
        _ => format!("Job {} failed ({reason}).", jref.name),
    };
    let weight = if signalled(ctx, &jref) {
        1.0
    } else {
        ctx.near(at)
    };
    let mut prop = Proposal::new("job_failed", jref.clone(), RULE, 0.9 * weight)
        .related(cron.clone())
        .say(what, &[jid]);
    // How its pods ended, newest first, and what their logs said last.
    let mut pods: Vec<&Value> = ctx.pods().iter().filter(|p| owned_by(p, &jref)).collect();
    pods.sort_by_key(|p| std::cmp::Reverse(time_at(p, "/metadata/creationTimestamp")));
    let mut ends: Vec<EvidenceId> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    // (evidence, the line) of each pod's last error line, newest pod first.
    let mut last_lines: Vec<(EvidenceId, String)> = Vec::new();
    for p in pods.into_iter().take(PODS_CITED) {
        let pod = pod_ref(p);
        if let Some((why, text, at)) = end_of(p) {
            ends.push(ctx.note(EvidenceKind::Container, &pod, at, format!("{pod} {text}")));
            if !reasons.contains(&why) {
                reasons.push(why);
            }
        }
        let lines = ctx.logs_matching(&pod.namespace, &pod.name, ERROR_WORDS);
        if let Some(last) = lines.last().copied()
            && let Some(id) = ctx.note_logs(&pod, &[last])
        {
            last_lines.push((id, last.line.trim().to_string()));
        }
    }
    if !ends.is_empty() {
        let n = ends.len();
        let pods = if n == 1 {
            "Its pod's container".to_string()
        } else {
            format!("Its last {n} pods' containers")
        };
        prop = prop.say(format!("{pods} ended with {}.", reasons.join(", ")), &ends);
    }
    if let Some((_, line)) = last_lines.first() {
        let same: Vec<EvidenceId> = last_lines
            .iter()
            .filter(|(_, l)| l == line)
            .map(|(id, _)| id.clone())
            .collect();
        let also = match same.len() {
            1 => String::new(),
            n => format!(" (the same in {n} of its pods)"),
        };
        prop = prop.say(
            format!("The newest pod's last error in its log: \"{line}\"{also}."),
            &same,
        );
    }
    let rerun = match &cron {
        Some(c) => format!(
            "Once fixed, run it again now with `kubectl create job --from=cronjob/{} -n {} <name>`, or wait for the next schedule.",
            c.name, c.namespace
        ),
        None => "Once fixed, delete and re-create the Job to run it again.".to_string(),
    };
    let hint = match reason {
        "DeadlineExceeded" => {
            format!("Make the work faster or raise activeDeadlineSeconds. {rerun}")
        }
        _ if reasons.iter().any(|r| r == "OOMKilled") => format!(
            "Its pods ran out of memory: raise the memory limit or make the work use less. {rerun}"
        ),
        _ => format!("Read the failed pods' logs for why the work failed and fix that. {rerun}"),
    };
    prop.hint(hint).done(ctx);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use crate::capture::Capture;
    use crate::explain::explain;

    /// A Job (of a CronJob when `cron`) with the condition `(type, reason)`,
    /// and one pod of it that ended `(reason, exit code)`, the onset when it
    /// failed.
    fn case(cron: bool, condition: (&str, &str), end: (&str, i64)) -> Capture {
        case_at("2026-03-10T02:03:00Z", cron, condition, end, None)
    }

    /// The same with the onset at `onset`, and `metrics` (CSV) captured.
    fn case_at(
        onset: &str,
        cron: bool,
        condition: (&str, &str),
        end: (&str, i64),
        metrics: Option<&str>,
    ) -> Capture {
        let mut meta = json!({"name": "report-1", "namespace": "batch"});
        if cron {
            meta["ownerReferences"] =
                json!([{"kind": "CronJob", "name": "report", "controller": true}]);
        }
        let objects = json!({"kind": "List", "items": [
            {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
             "status": {"failed": 1, "conditions": [{"type": condition.0, "status": "True",
                "reason": condition.1, "lastTransitionTime": "2026-03-10T02:03:00Z"}]}},
            {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "report-1-abcde", "namespace": "batch",
                "creationTimestamp": "2026-03-10T02:00:00Z",
                "ownerReferences": [{"kind": "Job", "name": "report-1", "controller": true}]},
             "status": {"phase": "Failed", "containerStatuses": [{"name": "report",
                "state": {"terminated": {"reason": end.0, "exitCode": end.1}}}]}}
        ]});
        let onset = sentinel_model::Timestamp::parse(onset).unwrap();
        Capture::parse(onset, Some(&objects.to_string()), metrics, None).unwrap()
    }

    fn top(cap: &Capture) -> (String, String, String) {
        let e = explain(cap);
        let c = e.top().unwrap();
        let said: Vec<&str> = c.sentences.iter().map(|s| s.text.as_str()).collect();
        (c.cause.clone(), said.join(" "), c.mitigation.join(" "))
    }

    #[test]
    fn each_reason_is_worded_with_what_to_do() {
        let (cause, said, hint) = top(&case(false, ("Failed", "DeadlineExceeded"), ("Error", 1)));
        assert_eq!(cause, "job_failed");
        assert!(
            said.contains("ran longer than its activeDeadlineSeconds"),
            "{said}"
        );
        assert!(
            hint.starts_with("Make the work faster or raise activeDeadlineSeconds"),
            "{hint}"
        );
        assert!(hint.contains("delete and re-create the Job"), "{hint}");

        let (_, said, hint) = top(&case(
            true,
            ("Failed", "BackoffLimitExceeded"),
            ("OOMKilled", 137),
        ));
        assert!(
            said.contains("Its pod's container ended with OOMKilled."),
            "{said}"
        );
        assert!(hint.contains("ran out of memory"), "{hint}");
        assert!(
            hint.contains("kubectl create job --from=cronjob/report -n batch"),
            "{hint}"
        );
    }

    #[test]
    fn a_job_that_has_not_failed_proposes_nothing() {
        for condition in [("Complete", ""), ("FailureTarget", "BackoffLimitExceeded")] {
            let e = explain(&case(false, condition, ("Error", 1)));
            assert!(
                e.candidates.iter().all(|c| c.cause != "job_failed"),
                "{condition:?}"
            );
        }
    }

    #[test]
    fn an_old_failure_counts_in_full_only_when_the_incidents_readings_name_it() {
        // Seen four days after the run failed, as when Sentinel starts then.
        let later = "2026-03-14T09:00:00Z";
        let failed = ("Failed", "BackoffLimitExceeded");
        let e = explain(&case_at(later, false, failed, ("Error", 1), None));
        let top = e.top().unwrap();
        assert_eq!(top.cause, "job_failed");
        assert!(!e.confident, "an old failure beside another incident");
        let finding = "timestamp,series,value\n\
            2026-03-14T09:00:00Z,\"job_failed{namespace=\"\"batch\"\",job_name=\"\"report-1\"\"}\",1\n";
        let e = explain(&case_at(later, false, failed, ("Error", 1), Some(finding)));
        assert!(e.confident, "{}", e.render());
        assert!((e.top().unwrap().score - 0.9).abs() < 1e-9);
        // Another Job's reading does not count.
        let other = finding.replace("report-1", "report-2");
        assert!(!explain(&case_at(later, false, failed, ("Error", 1), Some(&other))).confident);
    }
}
