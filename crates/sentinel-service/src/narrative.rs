//! The optional narrative: the incident's scrubbed evidence sent to an
//! OpenAI-compatible endpoint, the answer's citations checked.

use sentinel_explain::narrative;
use sentinel_explain::scrub::Scrubber;
use sentinel_prom::openai::{ChatClient, ChatMessage};
use sentinel_protocol::{ErrorKind, IpcError, Narrative};
use sentinel_runtime::Runtime;

/// Asks `client` about incident `id` as `by`; the request is audited (it
/// sends data off the machine).
pub async fn narrate(
    rt: &Runtime,
    client: &ChatClient,
    id: &str,
    by: &str,
) -> Result<Narrative, IpcError> {
    let prompt = {
        let s = rt.snapshot();
        let i = s.incidents.iter().find(|i| i.id == id).ok_or_else(|| {
            IpcError::new(
                ErrorKind::NotFound,
                format!("incident {id} is no longer held in memory"),
            )
        })?;
        let i = crate::incidents::not_merged(i)?;
        let explanation = crate::analyse(&s, i);
        let mut scrubber =
            Scrubber::new(&[]).map_err(|e| IpcError::new(ErrorKind::Internal, e.to_string()))?;
        narrative::prompt(i, &explanation, &mut scrubber)
    };
    rt.audit(
        by.to_string(),
        "narrated",
        id.to_string(),
        format!(
            "{} bytes of scrubbed evidence to {} ({})",
            prompt.user.len(),
            client.url(),
            client.model()
        ),
    )
    .await
    .map_err(crate::ipc_error)?;
    let answer = client
        .complete(&[
            ChatMessage::system(prompt.system.clone()),
            ChatMessage::user(prompt.user.clone()),
        ])
        .await
        .map_err(|e| {
            IpcError::new(
                ErrorKind::Unavailable,
                format!("the language model did not answer: {e}"),
            )
        })?;
    let checked = narrative::check(&answer.text, &prompt.evidence_ids);
    Ok(Narrative {
        text: checked.text,
        model: answer.model,
        endpoint: client.url().to_string(),
        cited: checked.cited,
        unknown_cites: checked.unknown,
        uncited_sentences: checked.uncited_sentences,
        prompt: format!("{}\n\n{}", prompt.system, prompt.user),
        redacted: prompt.redacted,
    })
}
