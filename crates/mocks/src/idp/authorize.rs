//! The authorization endpoint: validation of the request, the login page and the login
//! form that opens a session and issues a single-use code.

use super::{lock, CodeGrant, IdpSession, IdpState, LIFETIME_SECS};
use crate::web::{cookie, now_secs, random_token, see_other, session_cookie};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// Request parameters carried from the login page to the login form.
const CARRIED: [&str; 10] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "acr_values",
    "prompt",
];

/// Raw form or query parameters; a repeated parameter is kept to be refused.
pub(super) struct Params(HashMap<String, Vec<String>>);

impl Params {
    pub(super) fn parse(raw: &[u8]) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(raw) {
            map.entry(name.into_owned()).or_default().push(value.into_owned());
        }
        Self(map)
    }

    /// The value of a parameter given once; `Err` when repeated.
    pub(super) fn single(&self, name: &str) -> Result<Option<&str>, ()> {
        match self.0.get(name).map(Vec::as_slice) {
            None => Ok(None),
            Some([value]) => Ok(Some(value.as_str())),
            Some(_) => Err(()),
        }
    }

    /// The value of a parameter given once and not empty.
    pub(super) fn present(&self, name: &str) -> Option<&str> {
        self.single(name).ok().flatten().filter(|value| !value.is_empty())
    }
}

/// A valid authorization request.
struct AuthorizationRequest {
    redirect_uri: String,
    scopes: Vec<String>,
    state: String,
    nonce: String,
    code_challenge: String,
}

/// Why an authorization request is refused.
enum Refusal {
    /// The client or its redirect URI cannot be trusted: answer with a page.
    Page(&'static str),
    /// Tell the client through its redirect URI.
    Redirect { redirect_uri: String, error: &'static str, description: &'static str, state: Option<String> },
}

fn validate(state: &IdpState, params: &Params) -> Result<AuthorizationRequest, Refusal> {
    match params.single("client_id") {
        Ok(Some(client_id)) if client_id == state.settings.client_id => {}
        _ => return Err(Refusal::Page("Le client (client_id) est inconnu ou absent.")),
    }
    let redirect_uri = match params.single("redirect_uri") {
        Ok(Some(uri)) if state.settings.redirect_uris.iter().any(|r| r == uri) => uri.to_owned(),
        _ => return Err(Refusal::Page("L'adresse de retour (redirect_uri) n'est pas enregistrée.")),
    };
    let client_state = params.present("state").map(str::to_owned);
    let refuse = |error, description| Refusal::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description,
        state: client_state.clone(),
    };
    for name in CARRIED {
        if params.single(name).is_err() {
            return Err(refuse("invalid_request", "repeated parameter"));
        }
    }
    if params.present("response_type") != Some("code") {
        return Err(refuse("unsupported_response_type", "only response_type=code is supported"));
    }
    let scopes: Vec<String> = params
        .present("scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|scope| !scope.is_empty())
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|scope| scope == "openid") {
        return Err(refuse("invalid_scope", "the openid scope is required"));
    }
    let Some(request_state) = client_state.clone() else {
        return Err(refuse("invalid_request", "state is required"));
    };
    let Some(nonce) = params.present("nonce") else {
        return Err(refuse("invalid_request", "nonce is required"));
    };
    let Some(code_challenge) = params.present("code_challenge") else {
        return Err(refuse("invalid_request", "code_challenge is required (PKCE)"));
    };
    if params.present("code_challenge_method") != Some("S256") {
        return Err(refuse("invalid_request", "code_challenge_method must be S256"));
    }
    let well_formed = code_challenge.len() == 43
        && code_challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(refuse("invalid_request", "code_challenge is not a S256 challenge"));
    }
    Ok(AuthorizationRequest {
        redirect_uri,
        scopes,
        state: request_state,
        nonce: nonce.to_owned(),
        code_challenge: code_challenge.to_owned(),
    })
}

/// `GET /authorize`: validates the request and shows the identity chooser.
pub(super) async fn authorize(State(state): State<Arc<IdpState>>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    if let Err(refusal) = validate(&state, &params) {
        return refuse(&state, refusal);
    }
    let hidden: Vec<(&str, &str)> =
        CARRIED.iter().filter_map(|name| params.present(name).map(|value| (*name, value))).collect();
    state.templates.page(
        StatusCode::OK,
        "idp_authorize.html",
        json!({
            "display_name": state.settings.display_name,
            "acr": state.settings.acr,
            "action": "/authorize/login",
            "hidden": hidden,
            "identities": state.settings.identities,
        }),
    )
}

/// `POST /authorize/login`: opens a session for the chosen person and returns a code.
pub(super) async fn login(State(state): State<Arc<IdpState>>, headers: HeaderMap, body: Bytes) -> Response {
    let params = Params::parse(&body);
    let request = match validate(&state, &params) {
        Ok(request) => request,
        Err(refusal) => return refuse(&state, refusal),
    };
    let identity = params
        .present("identity")
        .and_then(|index| index.parse::<usize>().ok())
        .filter(|index| *index < state.settings.identities.len());
    let Some(identity) = identity else {
        return message(
            &state,
            StatusCode::BAD_REQUEST,
            "Identité inconnue",
            "La personne choisie n'existe pas.",
            Some("invalid_request"),
        );
    };
    let Ok(mut location) = url::Url::parse(&request.redirect_uri) else {
        return message(
            &state,
            StatusCode::BAD_REQUEST,
            "Adresse de retour invalide",
            "L'adresse de retour enregistrée n'est pas une URL.",
            None,
        );
    };
    let now = now_secs();
    let session_id = random_token();
    let code = random_token();
    {
        let mut inner = lock(&state.inner);
        if let Some(previous) = cookie(&headers, &state.cookie_name) {
            inner.sessions.remove(&previous);
        }
        inner.sessions.insert(session_id.clone(), IdpSession { identity });
        inner.codes.retain(|_, grant| grant.expires_at > now);
        inner.codes.insert(
            code.clone(),
            CodeGrant {
                identity,
                redirect_uri: request.redirect_uri.clone(),
                nonce: request.nonce,
                code_challenge: request.code_challenge,
                scopes: request.scopes,
                auth_time: now,
                expires_at: now + LIFETIME_SECS,
            },
        );
    }
    location
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &request.state)
        .append_pair("iss", &state.issuer);
    let mut response = see_other(location.as_str());
    if let Some(value) = session_cookie(&state.cookie_name, &session_id) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn refuse(state: &IdpState, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Page(text) => {
            message(state, StatusCode::BAD_REQUEST, "Demande refusée", text, Some("invalid_request"))
        }
        Refusal::Redirect { redirect_uri, error, description, state: client_state } => {
            let Ok(mut location) = url::Url::parse(&redirect_uri) else {
                return message(state, StatusCode::BAD_REQUEST, "Demande refusée", description, Some(error));
            };
            {
                let mut pairs = location.query_pairs_mut();
                pairs.append_pair("error", error).append_pair("error_description", description);
                if let Some(client_state) = &client_state {
                    pairs.append_pair("state", client_state);
                }
                pairs.append_pair("iss", &state.issuer);
            }
            see_other(location.as_str())
        }
    }
}

/// A page with a title and a message (and an error code when it is an error).
pub(super) fn message(state: &IdpState, status: StatusCode, title: &str, text: &str, error: Option<&str>) -> Response {
    state
        .templates
        .page(
            status,
            "idp_message.html",
            json!({
                "display_name": state.settings.display_name,
                "title": title,
                "message": text,
                "error": error,
            }),
        )
        .into_response()
}
