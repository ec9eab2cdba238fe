//! The relying-party side: discovery of the hub, authorization URL, code exchange, ID token
//! verification, userinfo and the end-session URL, all with the `openidconnect` crate.

use super::error::{chain, SpError};
use super::{PendingLogin, Procedure, SignedIn, SpState, QUOTIENT_SCOPES};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod,
    CoreGenderClaim, CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadata, RedirectUrl, Scope, TokenResponse as _, UserInfoClaims,
};
use serde_json::Value;
use std::collections::BTreeMap;

use relais_domain::agent::reference::PERSON_REFERENCE;

/// The `end_session_endpoint` of RP-Initiated Logout, absent from the core metadata.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub(super) struct LogoutMetadata {
    end_session_endpoint: Option<url::Url>,
}
impl AdditionalProviderMetadata for LogoutMetadata {}

/// The hub's discovery document.
pub(super) type HubMetadata = ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type HubClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// Userinfo claims beyond the standard ones (`birthplace`, `birthcountry`, …), all kept.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct OtherClaims {
    #[serde(flatten)]
    claims: BTreeMap<String, Value>,
}
impl AdditionalClaims for OtherClaims {}

/// Extra parameters passed through from `/connexion` to the hub.
pub(super) struct LoginRequest {
    pub(super) procedure: Procedure,
    pub(super) acr: String,
    pub(super) idp_hint: Option<String>,
    pub(super) prompt: Option<String>,
    /// `ui_locales` for the hub's pages (e.g. `en`).
    pub(super) ui_locales: Option<String>,
}

impl SpState {
    /// The hub's metadata, discovered at first use and then cached.
    pub(super) async fn hub(&self) -> Result<&HubMetadata, SpError> {
        self.hub.get_or_try_init(|| self.discover()).await
    }

    async fn discover(&self) -> Result<HubMetadata, SpError> {
        let exact = self.settings.hub_issuer.as_str();
        let trimmed = exact.trim_end_matches('/');
        let mut last = SpError::Discovery("no issuer".into());
        // The issuer must match the discovered one exactly: try both spellings of a root URL.
        for candidate in [trimmed, exact] {
            let issuer = IssuerUrl::new(candidate.to_owned()).map_err(|e| SpError::Config(e.to_string()))?;
            match HubMetadata::discover_async(issuer, &self.http).await {
                Ok(metadata) => return Ok(metadata),
                Err(error) => last = SpError::Discovery(chain(&error)),
            }
            if trimmed == exact {
                break;
            }
        }
        tracing::warn!(error = ?last, "hub discovery failed");
        Err(last)
    }

    async fn client(&self) -> Result<HubClient, SpError> {
        let metadata = self.hub().await?.clone();
        let redirect =
            RedirectUrl::new(format!("{}/callback", self.base)).map_err(|e| SpError::Config(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// The authorization URL to send the browser to, and what to remember until the callback.
    pub(super) async fn begin_login(&self, request: LoginRequest) -> Result<(url::Url, PendingLogin), SpError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut authorization = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge)
            .add_extra_param("acr_values", request.acr);
        for scope in self.requested_scopes(request.procedure).into_iter().filter(|scope| scope != "openid") {
            authorization = authorization.add_scope(Scope::new(scope));
        }
        if let Some(hint) = request.idp_hint {
            authorization = authorization.add_extra_param("idp_hint", hint);
        }
        if let Some(ui_locales) = request.ui_locales {
            authorization = authorization.add_extra_param("ui_locales", ui_locales);
        }
        if let Some(prompt) = request.prompt {
            authorization = authorization.add_extra_param("prompt", prompt);
        }
        let (url, csrf_state, nonce) = authorization.url();
        let pending = PendingLogin {
            procedure: request.procedure,
            csrf_state: csrf_state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        };
        Ok((url, pending))
    }

    /// The configured scopes, and those the procedure adds, without repetition.
    fn requested_scopes(&self, procedure: Procedure) -> Vec<String> {
        let mut scopes = self.settings.scopes.clone();
        match procedure {
            Procedure::Quotient => scopes.extend(QUOTIENT_SCOPES.iter().map(|scope| (*scope).to_owned())),
            Procedure::Demande => scopes.push(PERSON_REFERENCE.to_owned()),
            Procedure::Acte => {}
        }
        let mut unique = Vec::with_capacity(scopes.len());
        for scope in scopes {
            if !unique.contains(&scope) {
                unique.push(scope);
            }
        }
        unique
    }

    /// Exchanges the code, verifies the ID token, fetches userinfo and, for the family
    /// quotient procedure, the family quotient from the CAF.
    pub(super) async fn complete_login(&self, pending: PendingLogin, code: String) -> Result<SignedIn, SpError> {
        let procedure = pending.procedure;
        let client = self.client().await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| SpError::Config(chain(&e)))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| SpError::Exchange(chain(&e)))?;
        let id_token = tokens.id_token().ok_or_else(|| SpError::IdToken("no id_token in the token response".into()))?;
        let verifier = client.id_token_verifier().set_allowed_algs(vec![
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        ]);
        let id_claims =
            id_token.claims(&verifier, &Nonce::new(pending.nonce)).map_err(|e| SpError::IdToken(chain(&e)))?;
        let userinfo: UserInfoClaims<OtherClaims, CoreGenderClaim> = client
            .user_info(tokens.access_token().clone(), Some(id_claims.subject().clone()))
            .map_err(|e| SpError::UserInfo(chain(&e)))?
            .request_async(&self.http)
            .await
            .map_err(|e| SpError::UserInfo(chain(&e)))?;
        let claims: Vec<(String, String)> = match serde_json::to_value(&userinfo) {
            Ok(Value::Object(map)) => map
                .into_iter()
                .map(|(name, value)| {
                    let shown = match value {
                        Value::String(text) => text,
                        other => other.to_string(),
                    };
                    (name, shown)
                })
                .collect(),
            _ => Vec::new(),
        };
        let claim = |name: &str| claims.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let sub = id_claims.subject().as_str().to_owned();
        let dossier = match (procedure, &self.settings.desk, claim(PERSON_REFERENCE)) {
            (Procedure::Demande, Some(super::Desk::Citizens(dossiers)), Some(reference)) => {
                let names = [claim("given_name"), claim("family_name")].into_iter().flatten();
                Some(dossiers.file(&sub, names.collect::<Vec<_>>().join(" "), reference))
            }
            _ => None,
        };
        let display_name =
            [claim("given_name"), claim("usual_name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
        // The sealed reference is for the file, not for the person's eyes.
        let claims = claims
            .into_iter()
            .map(|(name, value)| match name.as_str() {
                PERSON_REFERENCE => (name, "(référence scellée, jointe à votre demande)".to_owned()),
                _ => (name, value),
            })
            .collect();
        let tarif = match procedure {
            Procedure::Acte | Procedure::Demande => None,
            Procedure::Quotient => {
                // RFC 6749 5.1: no `scope` in the token response means every requested one.
                let granted: Vec<String> = match tokens.scopes() {
                    Some(scopes) => scopes.iter().map(|scope| scope.as_str().to_owned()).collect(),
                    None => self.requested_scopes(procedure),
                };
                Some(self.tarif(&granted, tokens.access_token().secret()).await)
            }
        };
        Ok(SignedIn {
            sub,
            dossier,
            csrf: crate::web::random_token(),
            display_name,
            access_token: tokens.access_token().secret().clone(),
            acr: id_claims.auth_context_ref().map(|acr| acr.as_ref().to_owned()),
            claims,
            tarif,
            id_token: id_token.to_string(),
        })
    }

    /// The hub's end-session URL for this ID token, if the hub has one (and was discovered).
    pub(super) fn logout_url(&self, id_token: &str, state: &str) -> Option<url::Url> {
        let mut url = self.hub.get()?.additional_metadata().end_session_endpoint.clone()?;
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token)
            .append_pair("post_logout_redirect_uri", &format!("{}/deconnecte", self.base))
            .append_pair("state", state)
            .append_pair("client_id", &self.settings.client_id);
        Some(url)
    }
}
