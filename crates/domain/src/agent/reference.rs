//! The person concerned by an agent's request, named without the hub keeping anyone's
//! identity.
//!
//! When a person files a request at a citizen service that asked for the `person_reference`
//! scope, their sign-in gives that service a **person reference**: their pivot identity, the
//! account they used, the service and an expiry, sealed by the hub under a key only it holds
//! (the server seals it; this module holds what is sealed and the rules). The service keeps
//! it with the file, as it keeps the identity itself. The agent who instructs the file later
//! exchanges it, together with their own access token, for a token about that person only
//! (RFC 8693 token exchange: the reference is the subject token, the agent's token the actor
//! token). The exchange is granted for a data scope only when a live habilitation of the
//! agent's organisation covers it **and** instructs the files of the service that received the
//! reference. The data provider then learns what it learns in a citizen transfer (its own
//! pairwise `sub` of the person and the pivot identity to find their record), plus the agent,
//! their organisation and the habilitation; the hub traces the access under the person's key,
//! so that their dashboard shows which organisation fetched what, from whom, when, under which
//! legal basis, and no agent's name.

use std::collections::BTreeMap;

use super::{AgentIdentity, Habilitation};
use crate::clock::UnixTime;
use crate::data::DataTransfer;
use crate::flow::{AccessGrant, AgentAccess, DataGrant};
use crate::ids::{IdpId, SpId};
use crate::pairwise::PersonKey;
use crate::pivot::PivotIdentity;

/// The scope a citizen service asks for to receive the person reference, and the claim that
/// carries it.
pub const PERSON_REFERENCE: &str = "person_reference";
/// RFC 8693's grant type.
pub const TOKEN_EXCHANGE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The token type of a person reference (RFC 8693 section 3 lets a deployment name its own).
pub const PERSON_REFERENCE_TOKEN_TYPE: &str = "urn:relais:params:oauth:token-type:person_reference";
/// RFC 8693's type of an access token.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// The associated data a person reference is sealed with: a value sealed for another use of
/// the same key does not open as a reference.
pub const SEALING_CONTEXT: &str = "relais:person-reference:v1";

/// What a person reference holds, before it is sealed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PersonReference {
    /// The person's pivot identity.
    pub pivot: PivotIdentity,
    /// The account they signed in with.
    pub idp: IdpId,
    /// The citizen service that received it (where the file is).
    pub service: SpId,
    /// Until when it may be exchanged (exclusive).
    pub expires_at: UnixTime,
}

impl PersonReference {
    /// Whether it may still be exchanged at `now`.
    pub fn is_live(&self, now: UnixTime) -> bool {
        now.is_before(self.expires_at)
    }
}

/// Why an exchange is refused: an OAuth `invalid_grant` or `invalid_scope` whose description
/// tells the integrator what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeRefusal {
    /// The reference has expired.
    #[error("the person reference has expired: the person must sign in to the citizen service again")]
    ReferenceExpired,
    /// A scope asked was not granted to the agent's token.
    #[error("scope `{0}` was not granted to the actor token: the agent must sign in asking for it")]
    NotInActorToken(String),
    /// No scope asked, and the agent's token grants no data.
    #[error("the actor token grants no data scope")]
    NoDataScope,
    /// No live habilitation of the organisation covers the scope for files of that service.
    #[error(
        "scope `{scope}` is not covered by a live habilitation of the agent's organisation (SIRET {siret}) \
         that instructs the files of the citizen service `{service}`: the habilitation must name that \
         service in its citizen_services"
    )]
    NotHabilitated {
        /// The scope.
        scope: String,
        /// The agent's establishment.
        siret: String,
        /// The service that received the reference.
        service: SpId,
    },
}

impl ExchangeRefusal {
    /// Whether the refusal is about the scope (`invalid_scope`) rather than the grant.
    pub fn is_about_scope(&self) -> bool {
        !matches!(self, Self::ReferenceExpired)
    }
}

/// The scopes an exchange grants and the habilitation of each: the scopes asked (`requested`,
/// space-separated; none asked: every data scope of the agent's token), each of which must be
/// a transfer of the agent's token and covered, now, by a habilitation of the agent's
/// organisation that instructs the files of the reference's service.
pub fn exchange_scopes(
    agent: &AgentIdentity,
    actor_transfers: &[DataTransfer],
    requested: Option<&str>,
    reference: &PersonReference,
    habilitations: &[Habilitation],
    now: UnixTime,
) -> Result<Vec<(DataTransfer, String)>, ExchangeRefusal> {
    if !reference.is_live(now) {
        return Err(ExchangeRefusal::ReferenceExpired);
    }
    let asked: Vec<&DataTransfer> = match requested.map(str::split_ascii_whitespace) {
        Some(names) => {
            let mut asked = Vec::new();
            for name in names {
                let transfer = actor_transfers
                    .iter()
                    .find(|t| t.scope == name)
                    .ok_or_else(|| ExchangeRefusal::NotInActorToken(name.to_owned()))?;
                if !asked.contains(&transfer) {
                    asked.push(transfer);
                }
            }
            asked
        }
        None => actor_transfers.iter().collect(),
    };
    if asked.is_empty() {
        return Err(ExchangeRefusal::NoDataScope);
    }
    let mut granted = Vec::with_capacity(asked.len());
    for transfer in asked {
        let habilitation = habilitations.iter().find(|h| {
            h.covers(&agent.siret, &transfer.dp, &transfer.scope, now) && h.instructs_files_of(&reference.service)
        });
        match habilitation {
            Some(habilitation) => granted.push((transfer.clone(), habilitation.id.clone())),
            None => {
                return Err(ExchangeRefusal::NotHabilitated {
                    scope: transfer.scope.clone(),
                    siret: agent.siret.as_str().to_owned(),
                    service: reference.service.clone(),
                })
            }
        }
    }
    Ok(granted)
}

/// The habilitations of an exchange's grant, by scope (as [`AgentAccess`] keeps them).
pub fn by_scope(granted: &[(DataTransfer, String)]) -> BTreeMap<String, String> {
    granted.iter().map(|(transfer, habilitation)| (transfer.scope.clone(), habilitation.clone())).collect()
}

/// The access token an exchange gives: the agent's (`actor`, whose agent access is `agent`),
/// for the `granted` transfers about the referenced person (`person`: their key), living
/// `lifetime` seconds from `now` and never longer than the agent's own token, in the agent's
/// session (it dies with it at logout).
pub fn exchanged_access(
    actor: &AccessGrant,
    agent: &AgentAccess,
    reference: PersonReference,
    person: PersonKey,
    granted: &[(DataTransfer, String)],
    now: UnixTime,
    lifetime: u64,
) -> AccessGrant {
    let expires_at = UnixTime(now.plus(lifetime).0.min(actor.expires_at.0));
    let citizen_service = Some(reference.service.clone());
    AccessGrant {
        sp: actor.sp.clone(),
        grant: actor.grant.clone(),
        data: DataGrant {
            transfers: granted.iter().map(|(transfer, _)| transfer.clone()).collect(),
            pivot: Some(reference.pivot),
            person,
            idp: reference.idp,
            agent: Some(AgentAccess {
                agent: agent.agent.clone(),
                sub: agent.sub.clone(),
                habilitations: by_scope(granted),
                citizen_service,
            }),
        },
        issued_at: now,
        expires_at,
        sid: actor.sid.clone(),
    }
}
