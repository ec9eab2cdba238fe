//! Step 5 and 6: the SP's token request (code → ID token and access token) and userinfo.

use std::collections::BTreeMap;

use relais_domain::flow::{AccessGrant, CodeGrant, RedeemedCode};
use relais_oidc::jose::at_hash;
use relais_oidc::pkce;
use relais_oidc::random::{digest, random_token};
use relais_oidc::token::{authenticate, presented_credentials, RawTokenRequest};
use relais_oidc::{ErrorCode, OAuthError};
use relais_store::{Namespace, StoreError};
use serde_json::{json, Value};

use crate::error::AppError;
use crate::state::AppState;

/// The claims of the hub's ID tokens.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Pairwise subject.
    pub sub: String,
    /// The SP.
    pub aud: String,
    /// Expiry.
    pub exp: u64,
    /// Issued at.
    pub iat: u64,
    /// Upstream sign-in time.
    pub auth_time: u64,
    /// The SP's nonce.
    pub nonce: String,
    /// The level reached.
    pub acr: String,
    /// Hash of the access token.
    pub at_hash: String,
    /// The released claims.
    #[serde(flatten)]
    pub claims: BTreeMap<String, String>,
}

fn unavailable(error: StoreError) -> AppError {
    tracing::error!(%error, "storage unavailable: failing closed");
    AppError::direct(ErrorCode::TemporarilyUnavailable, "the service is temporarily unavailable")
}

fn invalid_grant() -> AppError {
    AppError::direct(ErrorCode::InvalidGrant, "the code is invalid, expired or already used")
}

/// The token endpoint: authenticates the client as registered, redeems the code once, checks
/// the redirect URI and PKCE, and answers with the tokens. A second presentation of a code
/// revokes the access token the first one gave.
#[tracing::instrument(skip_all, fields(sp))]
pub async fn token(state: &AppState, authorization: Option<&str>, form: &RawTokenRequest) -> Result<Value, AppError> {
    let credentials = presented_credentials(authorization, form)
        .map_err(|error| AppError::Direct { error, basic: authorization.is_some() })?;
    let basic = credentials.used_basic();
    let client_failure =
        |description: &str| AppError::Direct { error: OAuthError::new(ErrorCode::InvalidClient, description), basic };
    let sp_id = credentials.client_id();
    tracing::Span::current().record("sp", sp_id.as_str());
    let sp = state
        .registry
        .service_provider(&sp_id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| client_failure("client authentication failed"))?;
    let audiences = [state.endpoints.token.clone(), state.endpoints.issuer.clone()];
    let assertion = authenticate(&credentials, &sp, &audiences).map_err(|error| AppError::Direct { error, basic })?;
    let now = state.clock.now();
    if let Some(claims) = assertion {
        if claims.exp <= now.0 || claims.nbf.is_some_and(|nbf| nbf > now.0 + 60) {
            return Err(client_failure("client assertion expired"));
        }
        let key = format!("{}:{}", sp.id, claims.jti);
        let ttl = claims.exp.saturating_sub(now.0).max(1);
        if !state.records.put_if_absent(Namespace::ClientAssertion, &key, &true, ttl).await.map_err(unavailable)? {
            return Err(client_failure("client assertion replayed"));
        }
    }
    if form.grant_type.as_deref() != Some("authorization_code") {
        return Err(AppError::direct(ErrorCode::UnsupportedGrantType, "only authorization_code is supported"));
    }
    let code = form
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AppError::direct(ErrorCode::InvalidRequest, "code is required"))?;
    let code_key = digest(code);
    let Some(grant) = state.records.take::<CodeGrant>(Namespace::Code, &code_key).await.map_err(unavailable)? else {
        if let Some(redeemed) =
            state.records.get::<RedeemedCode>(Namespace::RedeemedCode, &code_key).await.map_err(unavailable)?
        {
            state.records.delete(Namespace::AccessToken, &redeemed.access_token_digest).await.map_err(unavailable)?;
            tracing::warn!(target: "relais::trace", step = "token_issued", sp = %sp.id, outcome = "code_replayed", "code presented again: its tokens are revoked");
        }
        return Err(invalid_grant());
    };
    if grant.sp != sp.id || form.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return Err(invalid_grant());
    }
    match (&grant.code_challenge, form.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if pkce::verify_s256(verifier, challenge) => {}
        (None, None) => {}
        _ => return Err(AppError::direct(ErrorCode::InvalidGrant, "PKCE verification failed")),
    }

    let access_token = random_token();
    let access_digest = digest(&access_token);
    let lifetime = state.settings.access_token_lifetime;
    let access = AccessGrant {
        sp: sp.id.clone(),
        grant: grant.grant.clone(),
        data: grant.data.clone(),
        issued_at: now,
        expires_at: now.plus(lifetime),
    };
    state.records.put(Namespace::AccessToken, &access_digest, &access, lifetime).await.map_err(unavailable)?;
    let redeemed = RedeemedCode { access_token_digest: access_digest };
    state
        .records
        .put(Namespace::RedeemedCode, &code_key, &redeemed, state.settings.code_lifetime + lifetime)
        .await
        .map_err(unavailable)?;

    let scope = granted_scope(&grant);
    let claims = IdTokenClaims {
        iss: state.endpoints.issuer.clone(),
        sub: grant.grant.sub.as_str().to_owned(),
        aud: sp.id.to_string(),
        exp: now.plus(state.settings.id_token_lifetime).0,
        iat: now.0,
        auth_time: grant.grant.auth_time.0,
        nonce: grant.nonce,
        acr: grant.grant.acr.as_acr().to_owned(),
        at_hash: at_hash(&access_token),
        claims: grant.grant.claims.clone(),
    };
    let id_token = state.keys().sign(sp.id_token_algorithm, &claims, now.0).map_err(|error| {
        tracing::error!(%error, "ID token signing failed");
        AppError::direct(ErrorCode::ServerError, "the ID token could not be signed")
    })?;
    tracing::info!(target: "relais::trace", step = "token_issued", sp = %sp.id, acr = %grant.grant.acr, outcome = "ok", "tokens issued");
    Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "id_token": id_token,
        "scope": scope,
    }))
}

/// Userinfo (OpenID Connect Core 5.3): the claims of a live access token's scopes.
pub async fn userinfo(state: &AppState, access_token: Option<&str>) -> Result<Value, AppError> {
    let refused = |description: &str| AppError::Bearer(OAuthError::new(ErrorCode::InvalidToken, description));
    let token = access_token.filter(|t| !t.is_empty()).ok_or(AppError::BearerMissing)?;
    let access: AccessGrant = state
        .records
        .get(Namespace::AccessToken, &digest(token))
        .await
        .map_err(unavailable)?
        .filter(|access: &AccessGrant| state.clock.now().is_before(access.expires_at))
        .ok_or_else(|| refused("the access token is invalid or expired"))?;
    let mut body = serde_json::Map::new();
    body.insert("sub".into(), json!(access.grant.sub.as_str()));
    for (name, value) in &access.grant.claims {
        body.insert(name.clone(), json!(value));
    }
    tracing::info!(target: "relais::trace", step = "userinfo", sp = %access.sp, outcome = "ok", "userinfo served");
    Ok(Value::Object(body))
}

/// The `scope` of the token response: the identity scopes and the consented data scopes.
fn granted_scope(grant: &CodeGrant) -> String {
    let mut scope = grant.grant.scopes.to_request_value();
    for transfer in &grant.data.transfers {
        scope.push(' ');
        scope.push_str(&transfer.scope);
    }
    scope
}
