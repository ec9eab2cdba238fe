//! The checktoken answer (RFC 7662 shape, FranceConnect's checktoken): what a data provider
//! learns about an access token, typed, so that no field can be added by accident. As JSON,
//! or as the `token_introspection` claim of a signed JWT (RFC 9701).

use std::collections::BTreeMap;

use relais_domain::agent::Habilitation;
use relais_domain::flow::{AccessGrant, AgentAccess};
use relais_domain::{DpId, PairwiseSub, PivotIdentity, Scope};

/// An introspection answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IntrospectionResponse {
    /// Whether the token is active for this data provider.
    pub active: bool,
    /// The other members, only when active.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub token: Option<ActiveToken>,
}

/// What an active answer carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActiveToken {
    /// The service provider holding the token.
    pub client_id: String,
    /// The consented data scopes of this data provider, space-separated.
    pub scope: String,
    /// The person's `sub`, pairwise for this data provider (none for an agent's token that
    /// names no person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// When the token was issued.
    pub iat: u64,
    /// When it expires.
    pub exp: u64,
    /// The pivot identity, for the provider to find the person's record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<BTreeMap<String, String>>,
    /// For an agent's token: the agent, their organisation and the habilitations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Box<AgentAnswer>>,
}

/// Who asks, for an agent's token: the agent (the organisation answers for them), their
/// organisation, and the habilitation of each scope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentAnswer {
    /// The agent's `sub` (the same at every agent service).
    pub sub: String,
    /// The IdP that authenticated them.
    pub idp_id: String,
    /// Their id there.
    pub uid: String,
    /// First names.
    pub given_name: String,
    /// Family name of use.
    pub usual_name: String,
    /// Professional e-mail.
    pub email: String,
    /// Their organisation.
    pub organization: OrganizationAnswer,
    /// The habilitations the scopes rest on.
    pub habilitations: Vec<HabilitationAnswer>,
}

/// An agent's organisation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrganizationAnswer {
    /// The establishment.
    pub siret: String,
    /// The organisation.
    pub siren: String,
    /// Its name, from the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Its kind, from the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// One habilitation, as the data provider sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HabilitationAnswer {
    /// Its id.
    pub id: String,
    /// The procedure it serves.
    pub procedure: String,
    /// The scopes of this data provider it covers in this token.
    pub scope: String,
    /// The text's reference.
    pub legal_basis: String,
    /// Where to read it.
    pub legal_basis_url: String,
    /// Until when (seconds since the epoch).
    pub expires_at: u64,
}

impl IntrospectionResponse {
    /// `{"active": false}`.
    pub fn inactive() -> Self {
        Self { active: false, token: None }
    }

    /// The active answer for `access`, covering `scopes`, about `pivot`, known as `sub`.
    pub fn active(access: &AccessGrant, scopes: &[String], sub: &PairwiseSub, pivot: &PivotIdentity) -> Self {
        Self::active_for(access, scopes, Some((sub, pivot)), None)
    }

    /// The active answer for an agent's `access`, covering `scopes` under `habilitations` (one
    /// per scope, in order), about the person `person` when the token names one.
    pub fn active_agent(
        access: &AccessGrant,
        agent: &AgentAccess,
        scopes: &[String],
        habilitations: &[&Habilitation],
        person: Option<(&PairwiseSub, &PivotIdentity)>,
    ) -> Self {
        let identity = &agent.agent;
        let mut answers: Vec<HabilitationAnswer> = Vec::new();
        for (scope, habilitation) in scopes.iter().zip(habilitations) {
            match answers.iter_mut().find(|a| a.id == habilitation.id) {
                Some(answer) => {
                    answer.scope.push(' ');
                    answer.scope.push_str(scope);
                }
                None => answers.push(HabilitationAnswer {
                    id: habilitation.id.clone(),
                    procedure: habilitation.procedure.clone(),
                    scope: scope.clone(),
                    legal_basis: habilitation.legal_basis.reference.clone(),
                    legal_basis_url: habilitation.legal_basis.url.clone(),
                    expires_at: habilitation.expires_at.0,
                }),
            }
        }
        let answer = AgentAnswer {
            sub: agent.sub.as_str().to_owned(),
            idp_id: identity.idp_id.to_string(),
            uid: identity.uid.clone(),
            given_name: identity.given_name.clone(),
            usual_name: identity.usual_name.clone(),
            email: identity.email.clone(),
            organization: OrganizationAnswer {
                siret: identity.siret.as_str().to_owned(),
                siren: identity.siren.clone(),
                label: identity.organisation.as_ref().map(|o| o.label.clone()),
                kind: identity.organisation.as_ref().map(|o| o.kind.as_str().to_owned()),
            },
            habilitations: answers,
        };
        Self::active_for(access, scopes, person, Some(Box::new(answer)))
    }

    fn active_for(
        access: &AccessGrant,
        scopes: &[String],
        person: Option<(&PairwiseSub, &PivotIdentity)>,
        agent: Option<Box<AgentAnswer>>,
    ) -> Self {
        let identity = person.map(|(_, pivot)| {
            Scope::IdentitePivot
                .claims()
                .into_iter()
                .filter_map(|claim| claim.value_of(pivot).map(|value| (claim.name().to_owned(), value)))
                .collect()
        });
        Self {
            active: true,
            token: Some(ActiveToken {
                client_id: access.sp.to_string(),
                scope: scopes.join(" "),
                sub: person.map(|(sub, _)| sub.as_str().to_owned()),
                iat: access.issued_at.0,
                exp: access.expires_at.0,
                identity,
                agent,
            }),
        }
    }
}

/// The claims of a signed checktoken answer (RFC 9701, section 5).
#[derive(Debug, serde::Serialize)]
pub struct IntrospectionJwtClaims<'a> {
    /// The hub.
    pub iss: &'a str,
    /// The data provider.
    pub aud: &'a str,
    /// When the answer was made.
    pub iat: u64,
    /// The answer.
    pub token_introspection: &'a IntrospectionResponse,
}

impl<'a> IntrospectionJwtClaims<'a> {
    /// The claims of `answer` signed by `issuer` for `dp` at `iat`.
    pub fn new(issuer: &'a str, dp: &'a DpId, iat: u64, answer: &'a IntrospectionResponse) -> Self {
        Self { iss: issuer, aud: dp.as_str(), iat, token_introspection: answer }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inactive_answer_is_only_active_false() {
        assert_eq!(
            serde_json::to_value(IntrospectionResponse::inactive()).ok(),
            Some(serde_json::json!({"active": false}))
        );
    }
}
