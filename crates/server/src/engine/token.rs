//! Step 5: the service provider's token request. The client authenticates as registered, the
//! code is redeemed once (a second presentation revokes the access token the first one gave,
//! RFC 6749 section 4.1.2), the redirect URI and PKCE are checked, and the answer carries the
//! signed ID token and an opaque access token. The agent federation also takes RFC 8693's
//! token exchange ([`super::exchange`]).

use relais_domain::flow::{CodeGrant, RedeemedCode};
use relais_domain::step::StepEvent;
use relais_domain::values::Digest;
use relais_domain::Profile;
use relais_oidc::code_grant::{assertion_lifetime, assertion_replay_key, invalid_grant, AuthorizationCodeRequest};
use relais_oidc::id_token::IdTokenClaims;
use relais_oidc::random::{digest, random_token};
use relais_oidc::token::{authenticate, presented_credentials, RawTokenRequest};
use relais_oidc::token_exchange::is_token_exchange;
use relais_oidc::{ErrorCode, OAuthError};
use relais_store::Namespace;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::AppState;

/// Step 5: the token endpoint, with the request's `Authorization` header and form.
#[tracing::instrument(skip_all, fields(sp))]
pub async fn token(state: &AppState, authorization: Option<&str>, form: &RawTokenRequest) -> Result<Value, ApiError> {
    let credentials = presented_credentials(authorization, form)
        .map_err(|error| ApiError::OAuth { error, basic: authorization.is_some() })?;
    let basic = credentials.used_basic();
    let client_failure =
        |description: &str| ApiError::OAuth { error: OAuthError::new(ErrorCode::InvalidClient, description), basic };
    let sp_id = credentials.client_id();
    tracing::Span::current().record("sp", sp_id.as_str());
    // The operator learns which client failed and how it tried; never what it presented.
    let refused = |reason: &str| {
        tracing::warn!(client_id = %sp_id, auth_method = credentials.method(), reason, "client authentication refused");
    };
    // A client of the other federation is unknown at this token endpoint.
    let Some(sp) = state.registry.service_provider(&sp_id).await?.filter(|sp| sp.profile == state.federation) else {
        refused("unknown client");
        return Err(client_failure("client authentication failed"));
    };
    let audiences = [state.endpoints.token.clone(), state.endpoints.issuer.clone()];
    let assertion = authenticate(&credentials, &sp, &audiences).map_err(|error| {
        refused(&error.description);
        ApiError::OAuth { error, basic }
    })?;
    let now = state.clock.now();
    if let Some(claims) = assertion {
        let ttl = assertion_lifetime(&claims, now).map_err(|error| ApiError::OAuth { error, basic })?;
        let key = assertion_replay_key(&sp.id, &claims);
        if !state.records.put_if_absent(Namespace::ClientAssertion, &key, &true, ttl).await? {
            return Err(client_failure("client assertion replayed"));
        }
    }
    // RFC 8693: the agent federation's services exchange a person reference for a token about
    // that person; the citizen federation has no such grant.
    if is_token_exchange(form) && state.federation == Profile::Agent {
        return super::exchange::exchange(state, &sp, form).await;
    }
    let request = AuthorizationCodeRequest::parse(form).map_err(|error| ApiError::OAuth { error, basic: false })?;
    let code_key = digest(request.code);
    let Some(grant) = state.records.take::<CodeGrant>(Namespace::Code, &code_key).await? else {
        if let Some(redeemed) = state.records.get::<RedeemedCode>(Namespace::RedeemedCode, &code_key).await? {
            state.records.delete(Namespace::AccessToken, redeemed.access_token_digest.as_str()).await?;
            state.tracer.emit(StepEvent::token_refused(Some(&sp.id), "code_replayed")).await?;
        }
        return Err(ApiError::OAuth { error: invalid_grant(), basic: false });
    };
    request.redeems(&grant, &sp.id).map_err(|error| {
        let presented = form.redirect_uri.as_deref().unwrap_or_default();
        tracing::warn!(client_id = %sp.id, redirect_uri = presented, reason = %error.description, "code refused");
        ApiError::OAuth { error, basic: false }
    })?;

    let access_token = random_token();
    let access_digest = digest(&access_token);
    let lifetime = state.settings.access_token_lifetime;
    state.records.put(Namespace::AccessToken, &access_digest, &grant.redeem(now, lifetime), lifetime).await?;
    let redeemed = RedeemedCode { access_token_digest: Digest::new(access_digest) };
    let remembered = state.settings.code_lifetime + lifetime;
    state.records.put(Namespace::RedeemedCode, &code_key, &redeemed, remembered).await?;

    let claims = IdTokenClaims::new(
        &state.endpoints.issuer,
        &sp.id,
        &grant.grant,
        grant.nonce.as_str(),
        &access_token,
        now,
        state.settings.id_token_lifetime,
    );
    let id_token = state.keys().sign(sp.id_token_algorithm, &claims, now.0).map_err(|error| {
        tracing::error!(%error, "ID token signing failed");
        ApiError::oauth(ErrorCode::ServerError, "the ID token could not be signed")
    })?;
    state.tracer.emit(StepEvent::token_issued(&sp.id, grant.grant.acr)).await?;
    Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "id_token": id_token,
        "scope": grant.granted_scope(),
    }))
}
