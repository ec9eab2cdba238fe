//! The setup of the agent's checktoken about a person (issue 12): a citizen signs in at the
//! bench service asking for the person reference, then each agent's token is exchanged with
//! that reference for a token about the person (RFC 8693, the hub's agent token endpoint).
//! The data provider's checktoken over those tokens is then measured like the others.

use anyhow::Context;
use relais_domain::agent::reference::{
    ACCESS_TOKEN_TYPE, PERSON_REFERENCE, PERSON_REFERENCE_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT_TYPE,
};
use serde_json::Value;

use crate::flows::{FederatedFlow, Provider};
use crate::load::Flow;
use crate::vu::VirtualUser;

/// How many agents' tokens are exchanged (each one a token about the person).
const EXCHANGED: usize = 2_000;

/// Tokens about one person, one per agent's token of `agent_tokens` (at most [`EXCHANGED`]):
/// `citizen` signs a person in (through `citizen_flow`, whose scope asks the reference),
/// `agent` exchanges.
pub async fn person_tokens(
    http: reqwest::Client,
    citizen_flow: FederatedFlow,
    agent: &Provider,
    agent_tokens: &[String],
) -> anyhow::Result<Vec<String>> {
    let collected = citizen_flow.tokens.clone().context("the citizen flow collects its token")?;
    let citizen = citizen_flow.provider.clone();
    let mut vu = VirtualUser::new(http.clone());
    citizen_flow.run(&mut vu).await?;
    let token = collected.lock().ok().and_then(|t| t.last().cloned()).context("no citizen token")?;
    let userinfo: Value = http.get(citizen.userinfo.clone()).bearer_auth(&token).send().await?.json().await?;
    let reference = userinfo[PERSON_REFERENCE].as_str().context("no person_reference at userinfo")?.to_owned();
    let mut tokens = Vec::with_capacity(EXCHANGED.min(agent_tokens.len()));
    for actor in agent_tokens.iter().take(EXCHANGED) {
        let answer: Value = http
            .post(agent.token.clone())
            .basic_auth(&agent.client_id, Some(&agent.secret))
            .form(&[
                ("grant_type", TOKEN_EXCHANGE_GRANT_TYPE),
                ("subject_token", reference.as_str()),
                ("subject_token_type", PERSON_REFERENCE_TOKEN_TYPE),
                ("actor_token", actor.as_str()),
                ("actor_token_type", ACCESS_TOKEN_TYPE),
            ])
            .send()
            .await?
            .json()
            .await?;
        tokens.push(answer["access_token"].as_str().with_context(|| format!("token exchange: {answer}"))?.to_owned());
    }
    Ok(tokens)
}
