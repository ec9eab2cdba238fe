//! `relais traces verify`'s checkpoint: read from what the operator kept (a JWT, the JSON of
//! `/traces/checkpoint`, a `relais::checkpoint` JSON log line, or a file holding one), or
//! fetched from the hub; and the problems found, in words.

use relais_domain::trace::ChainProblem;
use url::Url;

/// The hub's checkpoint endpoint under `issuer`.
pub fn checkpoint_url(issuer: &Url) -> Url {
    let mut url = issuer.clone();
    url.set_path(&format!("{}/traces/checkpoint", issuer.path().trim_end_matches('/')));
    url
}

/// The checkpoint JWT in `given`: a path to a file, or the text itself.
pub fn checkpoint_jwt(given: &str) -> anyhow::Result<String> {
    let text = match std::fs::read_to_string(given) {
        Ok(content) => content,
        Err(_) => given.to_owned(),
    };
    jwt_in(text.trim()).ok_or_else(|| anyhow::anyhow!("--checkpoint: no checkpoint JWT found in {given:?}"))
}

/// The JWT in a text: itself, or the `checkpoint` member of a JSON answer or log line (the
/// last one, in a file of log lines).
fn jwt_in(text: &str) -> Option<String> {
    let is_jwt = |t: &str| {
        t.split('.').count() == 3 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    };
    if is_jwt(text) {
        return Some(text.to_owned());
    }
    text.lines().rev().find_map(|line| {
        let value: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
        let found = value.get("checkpoint").or_else(|| value.get("fields").and_then(|f| f.get("checkpoint")))?;
        found.as_str().filter(|t| is_jwt(t)).map(str::to_owned)
    })
}

/// Fetches the checkpoint at `url`.
pub async fn fetch_checkpoint(url: &Url) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|error| error.to_string())?;
    let response = client.get(url.clone()).send().await.map_err(|error| error.to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status().as_u16()));
    }
    let text = response.text().await.map_err(|error| error.to_string())?;
    jwt_in(text.trim()).ok_or_else(|| "the answer holds no checkpoint".to_owned())
}

/// A problem, as `traces verify` prints it.
pub fn describe(problem: &ChainProblem) -> String {
    match problem {
        ChainProblem::Missing { seq, expected } => {
            format!("trace {seq}: records {expected} to {} are missing", seq.saturating_sub(1))
        }
        ChainProblem::Altered { seq } => format!("trace {seq}: altered (its hash does not match)"),
        ChainProblem::Truncated { counted, found } => format!(
            "traces {} to {counted} are missing: the checkpoint counted {counted}, the chain ends at {found}",
            found + 1
        ),
        ChainProblem::Diverged { seq } => {
            format!("trace {seq}: not the record the checkpoint saw (the chain was rewritten from there or before)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJFUzI1NiJ9.eyJ0cmFjZV9jb3VudCI6MX0.c2ln";

    #[test]
    fn the_checkpoint_is_found_in_a_jwt_an_answer_or_log_lines() {
        assert_eq!(jwt_in(JWT).as_deref(), Some(JWT));
        assert_eq!(jwt_in(&format!("{{\"checkpoint\":\"{JWT}\",\"trace_count\":1}}")).as_deref(), Some(JWT));
        let logs = format!(
            "{{\"fields\":{{\"message\":\"trace checkpoint\",\"checkpoint\":\"old.jwt.x\"}}}}\nnot json\n{{\"fields\":{{\"checkpoint\":\"{JWT}\"}}}}\n"
        );
        assert_eq!(jwt_in(logs.trim()).as_deref(), Some(JWT), "the newest line");
        assert_eq!(jwt_in("nothing here"), None);
    }

    #[test]
    fn the_endpoint_is_under_the_issuer() {
        let url = checkpoint_url(&Url::parse("https://hub.example/relais/").unwrap());
        assert_eq!(url.as_str(), "https://hub.example/relais/traces/checkpoint");
    }
}
