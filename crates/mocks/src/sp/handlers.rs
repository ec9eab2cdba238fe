//! The pages of the demo service provider: thin handlers over [`super::hub`].

use super::dossiers::Instruction;
use super::hub::LoginRequest;
use super::{Desk, Procedure, Session, SpError, SpState, SESSION_COOKIE};
use crate::web::{cookie, expired_cookie, lock, random_token, see_other, session_cookie};
use axum::extract::{Form, Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use subtle::ConstantTimeEq as _;

const LEVELS: [(&str, &str); 3] =
    [("eidas1", "Faible (eidas1)"), ("eidas2", "Substantiel (eidas2)"), ("eidas3", "Élevé (eidas3)")];

/// Query parameters (the last one wins when repeated).
fn query_params(query: Option<String>) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect()
}

impl SpState {
    fn error_page(&self, error: &SpError) -> Response {
        tracing::info!(?error, "demo SP error page");
        self.templates.page(
            error.status(),
            "sp_message.html",
            json!({
                "display_name": self.settings.display_name,
                "title": "La connexion n'a pas abouti",
                "message": error.to_string(),
                "error": error.code(),
                "detail": error.detail(),
            }),
        )
    }
}

/// `GET /`: the procedure and the login form, or the identity received (and the person's
/// requests); at the back-office, the requests to instruct.
pub(super) async fn home(State(state): State<Arc<SpState>>, headers: HeaderMap) -> Response {
    let sessions = lock(&state.sessions);
    let signed_in = cookie(&headers, SESSION_COOKIE).and_then(|id| match sessions.get(&id) {
        Some(Session::SignedIn(signed_in)) => Some(signed_in),
        _ => None,
    });
    if let Some(Desk::BackOffice(dossiers)) = &state.settings.desk {
        let dossiers = signed_in.map(|_| dossiers.all());
        return state.templates.page(
            StatusCode::OK,
            "sp_back_office.html",
            json!({ "display_name": state.settings.display_name, "signed_in": signed_in, "dossiers": dossiers }),
        );
    }
    let demandes = match (&state.settings.desk, signed_in) {
        (Some(Desk::Citizens(dossiers)), Some(signed_in)) => dossiers.of(&signed_in.sub),
        _ => Vec::new(),
    };
    state.templates.page(
        StatusCode::OK,
        "sp_home.html",
        json!({
            "display_name": state.settings.display_name,
            "signed_in": signed_in,
            "levels": LEVELS,
            "instruction": matches!(state.settings.desk, Some(Desk::Citizens(_))),
            "demandes": demandes,
        }),
    )
}

/// `POST /dossiers/{numero}/instruire` (back-office): the signed-in agent instructs the
/// request: the family quotient fetched from the CAF under the town's habilitation.
pub(super) async fn instruire(
    State(state): State<Arc<SpState>>,
    Path(numero): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(Desk::BackOffice(dossiers)) = &state.settings.desk else { return not_found(&state) };
    let agent = cookie(&headers, SESSION_COOKIE).and_then(|id| match lock(&state.sessions).get(&id) {
        Some(Session::SignedIn(signed_in)) => {
            Some((signed_in.csrf.clone(), signed_in.access_token.clone(), signed_in.display_name.clone()))
        }
        _ => None,
    });
    let Some((csrf, agent_token, agent)) = agent else { return see_other("/") };
    let presented = form.get("csrf").map(String::as_str).unwrap_or_default();
    if !bool::from(presented.as_bytes().ct_eq(csrf.as_bytes())) {
        return state.error_page(&SpError::StateMismatch);
    }
    let token_endpoint = match state.hub().await {
        Ok(metadata) => metadata.token_endpoint().map(|url| url.url().to_string()).unwrap_or_default(),
        Err(error) => return state.error_page(&error),
    };
    let instruction = Instruction {
        http: &state.http,
        token_endpoint: &token_endpoint,
        client_id: &state.settings.client_id,
        client_secret: &state.settings.client_secret,
        caf_api: state.settings.caf_api.as_ref(),
        agent_token: &agent_token,
        agent,
    };
    if !instruction.instruct(dossiers, &numero).await {
        return not_found(&state);
    }
    see_other("/")
}

fn not_found(state: &SpState) -> Response {
    state.templates.page(
        StatusCode::NOT_FOUND,
        "sp_message.html",
        json!({
            "display_name": state.settings.display_name,
            "title": "Page introuvable",
            "message": "Cette demande n'existe pas. Revenez à la liste des demandes.",
        }),
    )
}

/// `GET /connexion?acr=eidas1[&idp_hint=..][&prompt=..][&ui_locales=..]`: sends the browser to the hub.
pub(super) async fn connexion(
    State(state): State<Arc<SpState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut params = query_params(query);
    let acr = params.remove("acr").unwrap_or_else(|| "eidas1".to_owned());
    if !LEVELS.iter().any(|(level, _)| *level == acr) {
        return state.error_page(&SpError::UnknownAcr);
    }
    let procedure = match params.remove("procedure").as_deref() {
        Some("quotient") => Procedure::Quotient,
        Some("demande") if matches!(state.settings.desk, Some(Desk::Citizens(_))) => Procedure::Demande,
        Some("acte") | Some("") | None => Procedure::Acte,
        Some(_) => return state.error_page(&SpError::UnknownProcedure),
    };
    let request = LoginRequest {
        procedure,
        acr,
        idp_hint: params.remove("idp_hint").filter(|v| !v.is_empty()),
        prompt: params.remove("prompt").filter(|v| !v.is_empty()),
        ui_locales: params.remove("ui_locales").filter(|v| !v.is_empty()),
    };
    let (url, pending) = match state.begin_login(request).await {
        Ok(started) => started,
        Err(error) => return state.error_page(&error),
    };
    let session_id = cookie(&headers, SESSION_COOKIE).filter(|id| !id.is_empty()).unwrap_or_else(random_token);
    lock(&state.sessions).insert(session_id.clone(), Session::Pending(pending));
    let mut response = see_other(url.as_str());
    if let Some(value) = session_cookie(SESSION_COOKIE, &session_id) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /callback`: the hub's answer; on success the person is signed in.
pub(super) async fn callback(
    State(state): State<Arc<SpState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match complete(&state, &headers, query_params(query)).await {
        Ok(()) => see_other("/"),
        Err(error) => state.error_page(&error),
    }
}

async fn complete(state: &SpState, headers: &HeaderMap, mut params: HashMap<String, String>) -> Result<(), SpError> {
    let session_id = cookie(headers, SESSION_COOKIE).ok_or(SpError::NoPendingLogin)?;
    let pending = {
        let mut sessions = lock(&state.sessions);
        match sessions.remove(&session_id) {
            Some(Session::Pending(pending)) => pending,
            Some(other) => {
                sessions.insert(session_id.clone(), other);
                return Err(SpError::NoPendingLogin);
            }
            None => return Err(SpError::NoPendingLogin),
        }
    };
    // An error ends the pending login whatever its state: show its code.
    if let Some(error) = params.remove("error") {
        return Err(SpError::Authorization { error, description: params.remove("error_description") });
    }
    let given_state = params.remove("state").unwrap_or_default();
    let state_matches: bool = given_state.as_bytes().ct_eq(pending.csrf_state.as_bytes()).into();
    if !state_matches {
        return Err(SpError::StateMismatch);
    }
    if let Some(iss) = params.remove("iss") {
        let expected = state.hub().await?.issuer().as_str().to_owned();
        if iss != expected {
            return Err(SpError::IssuerMismatch);
        }
    }
    let code = params.remove("code").filter(|c| !c.is_empty()).ok_or(SpError::MissingCode)?;
    let signed_in = state.complete_login(pending, code).await?;
    lock(&state.sessions).insert(session_id, Session::SignedIn(Box::new(signed_in)));
    Ok(())
}

/// `GET /deconnexion`: forgets the local session and sends the browser to the hub's
/// end-session endpoint.
pub(super) async fn deconnexion(State(state): State<Arc<SpState>>, headers: HeaderMap) -> Response {
    let session = cookie(&headers, SESSION_COOKIE).and_then(|id| lock(&state.sessions).remove(&id));
    let target = match session {
        Some(Session::SignedIn(signed_in)) => state
            .logout_url(&signed_in.id_token, &random_token())
            .map(|url| url.to_string())
            .unwrap_or_else(|| "/deconnecte".to_owned()),
        _ => "/deconnecte".to_owned(),
    };
    let mut response = see_other(&target);
    if let Some(value) = expired_cookie(SESSION_COOKIE) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /deconnecte`: confirmation of the logout.
pub(super) async fn deconnecte(State(state): State<Arc<SpState>>) -> Response {
    state.templates.page(
        StatusCode::OK,
        "sp_message.html",
        json!({
            "display_name": state.settings.display_name,
            "title": "Vous êtes déconnecté",
            "message": "Vous êtes déconnecté du service de la mairie et de Relais.",
        }),
    )
}
