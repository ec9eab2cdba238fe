//! The token endpoint (client authentication, code redemption with PKCE, ID token) and the
//! userinfo endpoint, where the faults are applied.

use super::authorize::Params;
use super::{lock, AccessGrant, Fault, IdpState, TestIdentity, LIFETIME_SECS};
use crate::web::{form_decode, now_secs, random_token};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq as _;

/// The scopes and the claims each one releases.
pub(super) const SCOPES: &[(&str, &[&str])] = &[
    ("openid", &["sub"]),
    ("profile", &["given_name", "family_name", "birthdate", "gender", "preferred_username"]),
    ("birth", &["birthplace", "birthcountry"]),
    ("identite_pivot", &["given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry"]),
    ("given_name", &["given_name"]),
    ("family_name", &["family_name"]),
    ("birthdate", &["birthdate"]),
    ("gender", &["gender"]),
    ("birthplace", &["birthplace"]),
    ("birthcountry", &["birthcountry"]),
    ("email", &["email"]),
    ("preferred_username", &["preferred_username"]),
];

/// An RFC 6749 error answer of the token endpoint.
struct TokenError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
    basic_challenge: bool,
}

impl TokenError {
    fn new(error: &'static str, description: &'static str) -> Self {
        Self { status: StatusCode::BAD_REQUEST, error, description, basic_challenge: false }
    }

    fn invalid_client(description: &'static str, basic_challenge: bool) -> Self {
        Self { status: StatusCode::UNAUTHORIZED, error: "invalid_client", description, basic_challenge }
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, no_store(), Json(body)).into_response();
        if self.basic_challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"mockidp\""));
        }
        response
    }
}

fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// `POST /token`.
pub(super) async fn token(State(state): State<Arc<IdpState>>, headers: HeaderMap, body: Bytes) -> Response {
    match state.fault() {
        Fault::RefuseClient => {
            return TokenError::invalid_client("unknown client or wrong secret", true).into_response()
        }
        Fault::TokenHangs => std::future::pending::<()>().await,
        Fault::TokenGatewayError => {
            let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
            return (StatusCode::BAD_GATEWAY, [(header::CONTENT_TYPE, "text/html")], page).into_response();
        }
        _ => {}
    }
    match redeem(&state, &headers, &Params::parse(&body)) {
        Ok(answer) => (StatusCode::OK, no_store(), Json(answer)).into_response(),
        Err(error) => error.into_response(),
    }
}

fn authenticate_client(state: &IdpState, headers: &HeaderMap, params: &Params) -> Result<(), TokenError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| strip_scheme(value, "basic "));
    let body_id = params.single("client_id").map_err(|()| TokenError::new("invalid_request", "repeated client_id"))?;
    let body_secret =
        params.single("client_secret").map_err(|()| TokenError::new("invalid_request", "repeated client_secret"))?;
    let (client_id, secret) = match (basic, body_secret) {
        (Some(_), Some(_)) => {
            return Err(TokenError::new("invalid_request", "use only one client authentication method"))
        }
        (Some(credentials), None) => {
            let decoded = STANDARD
                .decode(credentials.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or(TokenError::invalid_client("malformed Basic credentials", true))?;
            let (id, secret) =
                decoded.split_once(':').ok_or(TokenError::invalid_client("malformed Basic credentials", true))?;
            let id = form_decode(id).ok_or(TokenError::invalid_client("malformed client_id", true))?;
            let secret = form_decode(secret).ok_or(TokenError::invalid_client("malformed client_secret", true))?;
            if body_id.is_some_and(|body_id| body_id != id) {
                return Err(TokenError::invalid_client("client_id differs from Basic credentials", true));
            }
            (id, secret)
        }
        (None, Some(secret)) => {
            let id = body_id.ok_or(TokenError::invalid_client("client_id is missing", false))?;
            (id.to_owned(), secret.to_owned())
        }
        (None, None) => return Err(TokenError::invalid_client("client authentication is required", true)),
    };
    let known_id = client_id == state.settings.client_id;
    let good_secret: bool = secret.as_bytes().ct_eq(state.settings.client_secret.as_bytes()).into();
    if known_id && good_secret {
        Ok(())
    } else {
        Err(TokenError::invalid_client("unknown client or wrong secret", basic.is_some()))
    }
}

fn redeem(state: &IdpState, headers: &HeaderMap, params: &Params) -> Result<Value, TokenError> {
    authenticate_client(state, headers, params)?;
    let single =
        |name: &'static str| params.single(name).map_err(|()| TokenError::new("invalid_request", "repeated parameter"));
    if single("grant_type")? != Some("authorization_code") {
        return Err(TokenError::new("unsupported_grant_type", "only authorization_code is supported"));
    }
    let code = single("code")?.ok_or(TokenError::new("invalid_request", "code is missing"))?;
    let now = now_secs();
    let mut grant = lock(&state.inner)
        .codes
        .remove(code)
        .ok_or(TokenError::new("invalid_grant", "unknown or already used code"))?;
    if grant.expires_at <= now {
        return Err(TokenError::new("invalid_grant", "the code has expired"));
    }
    if single("redirect_uri")? != Some(grant.redirect_uri.as_str()) {
        return Err(TokenError::new("invalid_grant", "redirect_uri differs from the authorization request"));
    }
    let verifier = single("code_verifier")?.ok_or(TokenError::new("invalid_grant", "code_verifier is missing"))?;
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let matches: bool = computed.as_bytes().ct_eq(grant.code_challenge.as_bytes()).into();
    if !(well_formed && matches) {
        return Err(TokenError::new("invalid_grant", "PKCE verification failed"));
    }
    let identity = state
        .settings
        .identities
        .get(grant.identity)
        .ok_or(TokenError::new("invalid_grant", "the person no longer exists"))?;
    let fault = state.fault();

    let mut claims = Map::new();
    let issuer = if fault == Fault::WrongIssuer { "https://evil.example" } else { state.issuer.as_str() };
    let audience = if fault == Fault::WrongAudience { "someone-else" } else { state.settings.client_id.as_str() };
    let nonce = if fault == Fault::WrongNonce { "not-the-nonce" } else { grant.nonce.as_str() };
    let (iat, exp) = if fault == Fault::ExpiredIdToken { (now - 600, now - 300) } else { (now, now + LIFETIME_SECS) };
    claims.insert("iss".into(), issuer.into());
    claims.insert("sub".into(), identity.sub.clone().into());
    claims.insert("aud".into(), audience.into());
    claims.insert("exp".into(), exp.into());
    claims.insert("iat".into(), iat.into());
    claims.insert("nonce".into(), nonce.into());
    claims.insert("acr".into(), state.settings.acr.clone().into());
    claims.insert("auth_time".into(), grant.auth_time.into());
    claims.insert("amr".into(), json!(["pwd"]));
    if let Fault::MissingClaim(name) = &fault {
        claims.remove(name);
    }
    let id_token = state.keys.sign_id_token(&claims, &fault).map_err(|error| {
        tracing::error!(%error, "cannot sign the ID token");
        TokenError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: "signing failed",
            basic_challenge: false,
        }
    })?;

    let access_token = random_token();
    if let Fault::WithholdScopes(withheld) = &fault {
        grant.scopes.retain(|scope| !withheld.contains(scope));
    }
    let scope = grant.scopes.join(" ");
    {
        let mut inner = lock(&state.inner);
        inner.access_tokens.retain(|_, access| access.expires_at > now);
        inner.access_tokens.insert(
            access_token.clone(),
            AccessGrant { identity: grant.identity, scopes: grant.scopes, expires_at: now + LIFETIME_SECS },
        );
        inner.issued_id_tokens.push(id_token.clone());
    }
    Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": LIFETIME_SECS,
        "id_token": id_token,
        "scope": scope,
    }))
}

/// `GET|POST /userinfo` with a Bearer access token.
pub(super) async fn userinfo(State(state): State<Arc<IdpState>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| strip_scheme(value, "bearer "))
        .map(str::trim);
    let now = now_secs();
    let grant = token.and_then(|token| {
        lock(&state.inner)
            .access_tokens
            .get(token)
            .filter(|grant| grant.expires_at > now)
            .map(|grant| (grant.identity, grant.scopes.clone()))
    });
    let identity =
        grant.and_then(|(index, scopes)| state.settings.identities.get(index).map(|person| (person, scopes)));
    let Some((person, scopes)) = identity else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""))],
            Json(json!({ "error": "invalid_token" })),
        )
            .into_response();
    };
    let mut claims = Map::new();
    for scope in &scopes {
        let released = SCOPES.iter().find(|(name, _)| name == scope).map(|(_, claims)| *claims).unwrap_or_default();
        for name in released {
            if let Some(value) = claim(person, name) {
                claims.insert((*name).to_owned(), value.into());
            }
        }
        // An agent directory's claims: one scope each.
        if let Some(value) = person.extra.get(scope.as_str()) {
            claims.insert(scope.clone(), value.clone().into());
        }
    }
    match state.fault() {
        Fault::UserinfoOtherSub => {
            claims.insert("sub".into(), format!("{}-autre-personne", state.settings.id).into());
        }
        Fault::MissingClaim(name) => {
            claims.remove(&name);
        }
        _ => {}
    }
    (StatusCode::OK, no_store(), Json(Value::Object(claims))).into_response()
}

/// The value of one claim for a person, if they have one.
fn claim(person: &TestIdentity, name: &str) -> Option<String> {
    match name {
        "sub" => Some(person.sub.clone()),
        "given_name" => Some(person.given_name.clone()),
        "family_name" => Some(person.family_name.clone()),
        "birthdate" => Some(person.birthdate.clone()),
        "gender" => Some(person.gender.clone()),
        "birthplace" => Some(person.birthplace.clone()),
        "birthcountry" => Some(person.birthcountry.clone()),
        "email" => person.email.clone(),
        "preferred_username" => person.preferred_username.clone(),
        other => person.extra.get(other).cloned(),
    }
}

/// The credentials after an authorization scheme (compared case-insensitively).
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let prefix = value.get(..scheme.len())?;
    if prefix.eq_ignore_ascii_case(scheme) {
        value.get(scheme.len()..)
    } else {
        None
    }
}
