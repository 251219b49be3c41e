//! An OpenAI-compatible chat endpoint (llama.cpp's server, Ollama, vLLM or
//! a hosted service) for the optional incident narrative. It goes through
//! the same [`HttpClient`] as Prometheus: timeout, size limit, TLS, bearer
//! key. The base URL includes the API version (`http://127.0.0.1:11434/v1`).

use serde::{Deserialize, Serialize};

use crate::error::PromError;
use crate::http::{Endpoint, HttpClient};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: "system".into(),
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: "user".into(),
            content: content.into(),
        }
    }
}

/// The model's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    /// The model that answered, as the server names it.
    pub model: String,
}

#[derive(Debug, Clone)]
pub struct ChatClient {
    http: HttpClient,
    model: String,
}

impl ChatClient {
    pub fn new(endpoint: Endpoint, model: impl Into<String>) -> Result<Self, PromError> {
        Ok(Self {
            http: HttpClient::new(endpoint)?,
            model: model.into(),
        })
    }

    pub fn url(&self) -> &str {
        self.http.base()
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// One chat completion, deterministic as the server allows
    /// (temperature 0). Sent once: a completion is not idempotent.
    pub async fn complete(&self, messages: &[ChatMessage]) -> Result<Completion, PromError> {
        #[derive(Serialize)]
        struct Body<'a> {
            model: &'a str,
            messages: &'a [ChatMessage],
            temperature: f64,
            stream: bool,
        }
        let body = serde_json::to_vec(&Body {
            model: &self.model,
            messages,
            temperature: 0.0,
            stream: false,
        })
        .map_err(|e| PromError::Config(e.to_string()))?;
        let answer = self.http.post_json("/chat/completions", body).await?;
        parse_completion(self.url(), &answer, &self.model)
    }
}

/// The first choice's message of a `chat.completion` response, or the
/// server's own error.
pub fn parse_completion(url: &str, body: &[u8], asked: &str) -> Result<Completion, PromError> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        model: Option<String>,
        #[serde(default)]
        choices: Vec<Choice>,
        #[serde(default)]
        error: Option<ApiError>,
    }
    #[derive(Deserialize)]
    struct Choice {
        message: Message,
    }
    #[derive(Deserialize)]
    struct Message {
        #[serde(default)]
        content: Option<String>,
    }
    #[derive(Deserialize)]
    struct ApiError {
        #[serde(default)]
        message: String,
        #[serde(default, rename = "type")]
        kind: Option<String>,
    }
    let malformed = |reason: String| PromError::Malformed {
        url: url.to_string(),
        reason,
    };
    let raw: Raw = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("not a chat completion: {e}")))?;
    if let Some(e) = raw.error {
        return Err(PromError::Api {
            error_type: e.kind.unwrap_or_else(|| "error".into()),
            error: e.message,
        });
    }
    let text = raw
        .choices
        .into_iter()
        .next()
        .and_then(|c| c.message.content)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| malformed("the completion has no message".into()))?;
    Ok(Completion {
        text,
        model: raw.model.unwrap_or_else(|| asked.to_string()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_the_first_choice_and_the_servers_errors() {
        let ok = br#"{"id":"x","object":"chat.completion","model":"llama-3.1-8b",
            "choices":[{"index":0,"message":{"role":"assistant","content":"It ran out of memory [E1]."},
            "finish_reason":"stop"}]}"#;
        let c = parse_completion("http://llm", ok, "m").unwrap();
        assert_eq!(c.text, "It ran out of memory [E1].");
        assert_eq!(c.model, "llama-3.1-8b");

        let err = br#"{"error":{"message":"model 'x' not found","type":"invalid_request_error"}}"#;
        let e = parse_completion("http://llm", err, "x").unwrap_err();
        assert!(e.to_string().contains("model 'x' not found"), "{e}");

        for bad in [
            &b"<html>"[..],
            br#"{"choices":[]}"#,
            br#"{"choices":[{"message":{"content":"  "}}]}"#,
        ] {
            let e = parse_completion("http://llm", bad, "m").unwrap_err();
            assert_eq!(e.kind(), "malformed", "{e}");
        }
    }
}
