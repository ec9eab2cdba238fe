//! Checktoken: a data provider, called by an SP with an access token, asks the hub whether the
//! token is active and what it covers for that provider only (RFC 7662 shape; a signed JWT,
//! RFC 9701, for providers registered for it or asking for it). The answer names the SP, gives
//! a `sub` pairwise for the provider and the pivot identity to find the person's record,
//! nothing more. Every call is traced.

use relais_domain::flow::AccessGrant;
use relais_domain::providers::IdTokenAlgorithm;
use relais_domain::trace::{TraceEvent, TraceKind};
use relais_domain::{DataProvider, DpId, PairwiseSub, Scope, Sector};
use relais_oidc::random::digest;
use relais_oidc::token::{presented_credentials, PresentedCredentials, RawTokenRequest};
use relais_oidc::{ErrorCode, OAuthError};
use relais_store::Namespace;
use serde_json::{json, Map, Value};

use super::record;
use crate::error::AppError;
use crate::state::AppState;

/// The checktoken form.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CheckTokenForm {
    /// The SP's access token.
    pub token: Option<String>,
    /// Ignored (only access tokens exist).
    pub token_type_hint: Option<String>,
    /// For `client_secret_post`-style authentication.
    pub client_id: Option<String>,
    /// For `client_secret_post`-style authentication.
    pub client_secret: Option<String>,
}

/// A checktoken answer: JSON, or a signed JWT.
pub enum CheckTokenAnswer {
    /// `application/json`
    Json(Value),
    /// `application/token-introspection+jwt`
    Jwt(String),
}

async fn authenticate(
    state: &AppState,
    authorization: Option<&str>,
    form: &CheckTokenForm,
) -> Result<DataProvider, AppError> {
    let raw = RawTokenRequest {
        client_id: form.client_id.clone(),
        client_secret: form.client_secret.clone(),
        ..Default::default()
    };
    let credentials =
        presented_credentials(authorization, &raw).map_err(|error| AppError::Direct { error, basic: true })?;
    let failure = || AppError::Direct {
        error: OAuthError::new(ErrorCode::InvalidClient, "data provider authentication failed"),
        basic: true,
    };
    let (id, secret) = match credentials {
        PresentedCredentials::Basic { client_id, secret } | PresentedCredentials::Post { client_id, secret } => {
            (client_id, secret)
        }
        _ => return Err(failure()),
    };
    let provider = state.registry.data_provider(&DpId::new(id)).await?.ok_or_else(failure)?;
    if !provider.secret.matches(&secret) {
        return Err(failure());
    }
    Ok(provider)
}

/// The checktoken endpoint.
#[tracing::instrument(skip_all, fields(dp))]
pub async fn checktoken(
    state: &AppState,
    authorization: Option<&str>,
    form: &CheckTokenForm,
    wants_jwt: bool,
) -> Result<CheckTokenAnswer, AppError> {
    let provider = authenticate(state, authorization, form).await?;
    tracing::Span::current().record("dp", provider.id.as_str());
    let now = state.clock.now();
    let access: Option<AccessGrant> = match form.token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => state.records.get(Namespace::AccessToken, &digest(token)).await?,
        None => None,
    };
    let access = access.filter(|a| now.is_before(a.expires_at));
    let scopes: Vec<String> = access
        .iter()
        .flat_map(|a| a.data.transfers.iter())
        .filter(|t| t.dp == provider.id)
        .map(|t| t.scope.clone())
        .collect();
    let active = match (&access, &access.as_ref().and_then(|a| a.data.pivot.as_ref())) {
        (Some(access), Some(pivot)) if !scopes.is_empty() => Some((access, *pivot)),
        _ => None,
    };
    let sub = active.map(|(_, pivot)| {
        PairwiseSub::derive(&state.settings.pairwise_secret, &Sector::new(format!("relais:dp:{}", provider.id)), pivot)
    });
    record(
        state,
        TraceEvent {
            at: now,
            kind: TraceKind::Checktoken,
            person: access.as_ref().map(|a| a.data.person.clone()),
            sub: sub.as_ref().map(|s| s.as_str().to_owned()),
            sp: access.as_ref().map(|a| a.sp.to_string()),
            idp: access.as_ref().map(|a| a.data.idp.to_string()),
            dp: Some(provider.id.to_string()),
            scopes: scopes.clone(),
            outcome: if active.is_some() { "active" } else { "inactive" }.to_owned(),
        },
    )
    .await?;
    tracing::info!(target: "relais::trace", step = "checktoken", dp = %provider.id, active = active.is_some(), "checktoken answered");

    let body = match (active, sub) {
        (Some((access, pivot)), Some(sub)) => {
            let mut identity = Map::new();
            for claim in Scope::IdentitePivot.claims() {
                if let Some(value) = claim.value_of(pivot) {
                    identity.insert(claim.name().to_owned(), json!(value));
                }
            }
            json!({
                "active": true,
                "client_id": access.sp.as_str(),
                "scope": scopes.join(" "),
                "sub": sub.as_str(),
                "iat": access.issued_at.0,
                "exp": access.expires_at.0,
                "identity": identity,
            })
        }
        _ => json!({ "active": false }),
    };
    if !(provider.signed_checktoken || wants_jwt) {
        return Ok(CheckTokenAnswer::Json(body));
    }
    let claims = json!({
        "iss": state.endpoints.issuer,
        "aud": provider.id.as_str(),
        "iat": now.0,
        "token_introspection": body,
    });
    let jwt = state.keys().sign_typed(IdTokenAlgorithm::RS256, &claims, now.0, "token-introspection+jwt").map_err(
        |error| {
            tracing::error!(%error, "checktoken answer signing failed");
            AppError::direct(ErrorCode::ServerError, "the answer could not be signed")
        },
    )?;
    Ok(CheckTokenAnswer::Jwt(jwt))
}
