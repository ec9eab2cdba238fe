#![allow(clippy::unwrap_used)]
use super::*;
use relais_domain::providers::{ClientAuthentication, IdTokenAlgorithm};
use relais_domain::{IdpPolicy, Scope, Secret, Sector};

fn sp(authentication: ClientAuthentication) -> ServiceProvider {
    ServiceProvider {
        id: SpId::new("mairie"),
        name: "Mairie".into(),
        authentication,
        redirect_uris: vec!["https://mairie.example/callback".into()],
        post_logout_redirect_uris: vec![],
        scopes: ScopeSet::from_scopes([Scope::OpenId, Scope::IdentitePivot]),
        id_token_algorithm: IdTokenAlgorithm::ES256,
        sector: Sector::new("mairie"),
        idp_policy: IdpPolicy::All,
        minimum_level: EidasLevel::Low,
        profile: Default::default(),
        agent_claims: Vec::new(),
        public_agents_only: false,
    }
}

fn confidential() -> ServiceProvider {
    sp(ClientAuthentication::SecretBasic(relais_domain::SecretDigest::of("sp", &Secret::new("s"))))
}

fn raw() -> RawAuthorizationRequest {
    RawAuthorizationRequest {
        client_id: Some("mairie".into()),
        redirect_uri: Some("https://mairie.example/callback".into()),
        response_type: Some("code".into()),
        scope: Some("openid identite_pivot".into()),
        state: Some("st".into()),
        nonce: Some("no".into()),
        ..Default::default()
    }
}

fn error_code(result: Result<AuthorizationRequest, AuthorizeError>) -> ErrorCode {
    match result {
        Err(AuthorizeError::Redirect { error, .. }) => error.code,
        other => panic!("expected a redirected error, got {other:?}"),
    }
}

#[test]
fn a_valid_request_is_parsed() {
    let request = validate(&raw(), Some(&confidential())).unwrap();
    assert_eq!(request.state.as_str(), "st");
    assert_eq!(request.required_level, EidasLevel::Low);
    assert_eq!(request.prompt, Prompt::Default);
}

#[test]
fn unknown_client_and_unregistered_redirect_are_not_redirected() {
    assert_eq!(validate(&raw(), None), Err(AuthorizeError::NotRedirectable(AuthorizeRefusal::UnknownClient)));
    let mut request = raw();
    request.redirect_uri = Some("https://evil.example/callback".into());
    assert_eq!(
        validate(&request, Some(&confidential())),
        Err(AuthorizeError::NotRedirectable(AuthorizeRefusal::UnregisteredRedirectUri))
    );
    request.redirect_uri = None;
    assert_eq!(
        validate(&request, Some(&confidential())),
        Err(AuthorizeError::NotRedirectable(AuthorizeRefusal::MissingRedirectUri))
    );
}

#[test]
fn state_and_nonce_are_required() {
    let mut request = raw();
    request.state = None;
    assert_eq!(error_code(validate(&request, Some(&confidential()))), ErrorCode::InvalidRequest);
    let mut request = raw();
    request.nonce = Some(String::new());
    assert_eq!(error_code(validate(&request, Some(&confidential()))), ErrorCode::InvalidRequest);
}

#[test]
fn pkce_plain_is_refused_and_public_clients_need_pkce() {
    let mut request = raw();
    request.code_challenge = Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into());
    request.code_challenge_method = Some("plain".into());
    assert_eq!(error_code(validate(&request, Some(&confidential()))), ErrorCode::InvalidRequest);
    request.code_challenge_method = None;
    assert_eq!(error_code(validate(&request, Some(&confidential()))), ErrorCode::InvalidRequest);
    assert_eq!(error_code(validate(&raw(), Some(&sp(ClientAuthentication::None)))), ErrorCode::InvalidRequest);
    request.code_challenge_method = Some("S256".into());
    assert!(validate(&request, Some(&sp(ClientAuthentication::None))).is_ok());
}

#[test]
fn response_type_scope_and_prompt() {
    let mut request = raw();
    request.response_type = Some("token".into());
    assert_eq!(error_code(validate(&request, Some(&confidential()))), ErrorCode::UnsupportedResponseType);
    let mut request = raw();
    request.scope = Some("openid profile".into());
    assert_eq!(error_code(validate(&request, Some(&confidential()))), ErrorCode::InvalidScope);
    let mut request = raw();
    request.prompt = Some("none login".into());
    assert_eq!(error_code(validate(&request, Some(&confidential()))), ErrorCode::InvalidRequest);
    request.prompt = Some("login consent".into());
    assert_eq!(validate(&request, Some(&confidential())).unwrap().prompt, Prompt::Login);
}

#[test]
fn acr_values_raise_the_required_level_above_the_sp_minimum() {
    let mut request = raw();
    request.acr_values = Some("eidas3".into());
    assert_eq!(validate(&request, Some(&confidential())).unwrap().required_level, EidasLevel::High);
    let mut strict = confidential();
    strict.minimum_level = EidasLevel::Substantial;
    request.acr_values = Some("eidas1".into());
    assert_eq!(validate(&request, Some(&strict)).unwrap().required_level, EidasLevel::Substantial);
}
