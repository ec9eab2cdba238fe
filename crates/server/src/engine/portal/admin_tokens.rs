//! The admin API for an agent with the operator role: an instructor of the identity part
//! (`[[portal.instructors]] operator = true`) signed in to the portal makes a token of the
//! admin API on the instruction page. It is shown once, kept as a digest for a working day
//! ([`ADMIN_TOKEN_LIFETIME`]) in the ephemeral store, and good only while its agent keeps that
//! role in the configuration; the changes made with it are traced as that agent's
//! (`agent:<sub>`), as their changes on the portal are.

use relais_oidc::random::{digest, random_token};
use relais_store::{Namespace, StoreError};
use serde::{Deserialize, Serialize};

use super::PortalSession;
use crate::state::AppState;

/// How long an agent's admin token lives, in seconds: a working day.
pub const ADMIN_TOKEN_LIFETIME: u64 = 8 * 3600;

/// What the hub keeps of an agent's admin token (under its digest).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AgentOperator {
    /// Their agent `sub`.
    pub agent: String,
    /// Their e-mail address, checked again against the instructors at each use.
    pub email: String,
}

impl AgentOperator {
    /// The author of their changes in the traces.
    pub fn author(&self) -> String {
        format!("agent:{}", self.agent)
    }
}

/// Whether `email` is an instructor of the identity part: an agent with the operator role.
pub fn is_operator(state: &AppState, email: &str) -> bool {
    let email = email.to_lowercase();
    state.settings.portal.as_ref().is_some_and(|portal| {
        portal.instructors.iter().any(|instructor| instructor.operator && instructor.email == email)
    })
}

/// Makes an admin token for the agent of `session`: the token to show once, or `None` when
/// they do not have the operator role.
pub async fn make(state: &AppState, session: &PortalSession) -> Result<Option<String>, StoreError> {
    if !is_operator(state, &session.email) {
        return Ok(None);
    }
    let token = random_token();
    let kept = AgentOperator { agent: session.agent.clone(), email: session.email.to_lowercase() };
    state.records.put(Namespace::AdminToken, &digest(&token), &kept, ADMIN_TOKEN_LIFETIME).await?;
    tracing::info!(target: "relais::admin", author = %kept.author(), "admin token made for an agent with the operator role");
    Ok(Some(token))
}

/// The agent with the operator role whose admin token is `presented`, if it is live and they
/// still have that role.
pub async fn operator_of(state: &AppState, presented: &str) -> Result<Option<AgentOperator>, StoreError> {
    let kept: Option<AgentOperator> = state.records.get(Namespace::AdminToken, &digest(presented)).await?;
    Ok(kept.filter(|operator| is_operator(state, &operator.email)))
}
