//! The hub as an OpenID Connect client of the identity providers, built on the `openidconnect`
//! crate (a widely used, spec-following RP library): discovery, the authorization URL with the
//! hub's own state, nonce and PKCE, the code exchange, full ID token verification, userinfo
//! with the subject check, and RP-initiated logout. Nothing here names the service provider.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenResponse,
};
use openidconnect::{
    AccessToken, AdditionalClaims, AuthType, AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, EmptyAdditionalClaims, IssuerUrl, LogoutProviderMetadata, LogoutRequest, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, RedirectUrl, Scope, StandardErrorResponse,
    TokenResponse, UserInfoClaims,
};
use relais_domain::flow::UpstreamLogin;
use relais_domain::providers::UpstreamClientAuth;
use relais_domain::values;
use relais_domain::{EidasLevel, IdentityProvider, IdpId, VerifiedClaims};
use serde_json::{Map, Value};
use url::Url;

mod check;
mod error;

pub use check::ProviderCheck;
pub use error::{UpstreamError, UpstreamFailure, UpstreamStep};

use error::{discovery_failure, error_chain, token_failure, userinfo_failure};

use crate::random::random_token;
use crate::upstream_keys::ProviderKey;

/// How long discovery metadata (and the IdP's keys) are reused before being fetched again.
const METADATA_LIFETIME: Duration = Duration::from_secs(600);

/// The hub's request to an IdP, and what it must remember for the callback.
pub struct UpstreamAuthorization {
    /// Where to send the person.
    pub url: Url,
    /// The hub's `state` towards the IdP.
    pub state: String,
    /// The hub's `nonce` towards the IdP.
    pub nonce: values::Nonce,
    /// The PKCE verifier.
    pub pkce_verifier: values::PkceVerifier,
}

/// What a verified IdP sign-in gives.
pub struct UpstreamIdentity {
    /// The claims of the ID token and userinfo, verified, not yet normalised.
    pub claims: VerifiedClaims,
    /// The level reached: the IdP's assertion, capped by the level it is trusted for.
    pub acr: EidasLevel,
    /// The IdP's ID token, kept for logout.
    pub id_token: String,
}

/// Claims beyond the standard ones, whatever their names: the pivot identity's
/// (`birthplace`, `birthcountry`), an agent's (`usual_name`, `uid`, `siret`, …). The IdP's
/// profile reads the ones it knows.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct PivotExtraClaims {
    #[serde(flatten)]
    other: std::collections::BTreeMap<String, serde_json::Value>,
}
impl AdditionalClaims for PivotExtraClaims {}

/// The ID token algorithms accepted from IdPs: asymmetric only.
const ACCEPTED_ALGORITHMS: [CoreJwsSigningAlgorithm; 6] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// What the flow engine needs of the identity providers: the hub's request to one, the
/// verification of its answer, its logout. [`UpstreamClient`] is the real one; tests of the
/// engine plug a fake one in.
#[async_trait::async_trait]
pub trait Upstream: Send + Sync + 'static {
    /// The hub's own authorization request at `idp` (its own `state`, `nonce` and PKCE).
    async fn authorization_url(&self, idp: &IdentityProvider) -> Result<UpstreamAuthorization, UpstreamError>;
    /// The IdP's answer `code` to the request of `login`, verified.
    async fn complete(
        &self,
        idp: &IdentityProvider,
        code: &str,
        login: &UpstreamLogin,
    ) -> Result<UpstreamIdentity, UpstreamError>;
    /// The RP-initiated logout URL at `idp` for the session of `id_token`, coming back with
    /// `state`; `None` when the IdP has no end-session endpoint.
    async fn logout_url(
        &self,
        idp: &IdentityProvider,
        id_token: &str,
        state: &str,
    ) -> Result<Option<Url>, UpstreamError>;
    /// Whether `idp` advertises that its authorization responses carry `iss` (RFC 9207): an
    /// answer without it is then refused.
    async fn sends_iss(&self, idp: &IdentityProvider) -> Result<bool, UpstreamError>;
}

#[async_trait::async_trait]
impl Upstream for UpstreamClient {
    async fn authorization_url(&self, idp: &IdentityProvider) -> Result<UpstreamAuthorization, UpstreamError> {
        UpstreamClient::authorization_url(self, idp).await
    }

    async fn complete(
        &self,
        idp: &IdentityProvider,
        code: &str,
        login: &UpstreamLogin,
    ) -> Result<UpstreamIdentity, UpstreamError> {
        UpstreamClient::complete(self, idp, code, login).await
    }

    async fn logout_url(
        &self,
        idp: &IdentityProvider,
        id_token: &str,
        state: &str,
    ) -> Result<Option<Url>, UpstreamError> {
        UpstreamClient::logout_url(self, idp, id_token, state).await
    }

    async fn sends_iss(&self, idp: &IdentityProvider) -> Result<bool, UpstreamError> {
        let discovered = self.discovered(idp, false).await?;
        Ok(discovered.metadata.additional_metadata().additional_metadata.authorization_response_iss_parameter_supported
            == Some(true))
    }
}

/// How long the hub waits for an IdP: to connect, and for a whole request (discovery, token,
/// userinfo), while the person waits on the callback.
#[derive(Clone, Copy, Debug)]
pub struct UpstreamTimeouts {
    /// To open the connection.
    pub connect: Duration,
    /// For the whole request, connection included.
    pub request: Duration,
}

impl Default for UpstreamTimeouts {
    /// 3 s to connect, 10 s in all.
    fn default() -> Self {
        Self { connect: Duration::from_secs(3), request: Duration::from_secs(10) }
    }
}

/// The hub's client towards every IdP, with a cache of their discovered metadata.
pub struct UpstreamClient {
    http: reqwest::Client,
    issuer: String,
    post_logout_redirect_uri: String,
    discovered: RwLock<HashMap<IdpId, Arc<Discovered>>>,
}

/// An IdP as discovered, and the client made once for it (not for every request: the metadata
/// holds the IdP's keys and lists, and building a client copies them).
struct Discovered {
    metadata: ProviderMetadataWithLogout,
    client: CoreClientFromMetadata,
    /// The registration the client was made with: a changed one makes a new client.
    registration: (String, String, UpstreamClientAuth),
    fetched: Instant,
}

fn registration_of(idp: &IdentityProvider) -> (String, String, UpstreamClientAuth) {
    (idp.client_id.clone(), idp.client_secret.expose().to_owned(), idp.token_auth)
}

impl UpstreamClient {
    /// A client for the hub at `issuer`. Each IdP sends the person back to its own callback,
    /// `{issuer}/idp/{id}/callback`, so that a response can never be mistaken for another
    /// IdP's (mix-up, RFC 9700 section 4.4.2). Redirects are never followed (they would open
    /// the hub to request forgery).
    pub fn new(
        issuer: &str,
        post_logout_redirect_uri: &str,
        timeouts: UpstreamTimeouts,
    ) -> Result<Self, UpstreamError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .build()
            .map_err(|e| UpstreamError::unavailable(UpstreamStep::Discovery, e.to_string()))?;
        Ok(Self {
            http,
            issuer: issuer.trim_end_matches('/').to_owned(),
            post_logout_redirect_uri: post_logout_redirect_uri.to_owned(),
            discovered: RwLock::new(HashMap::new()),
        })
    }

    /// The IdP's metadata and client, discovered again after `METADATA_LIFETIME`, when
    /// `refresh` asks (a key rotation at the IdP) or when its registration changed.
    async fn discovered(&self, idp: &IdentityProvider, refresh: bool) -> Result<Arc<Discovered>, UpstreamError> {
        let registration = registration_of(idp);
        if !refresh {
            if let Ok(cache) = self.discovered.read() {
                if let Some(discovered) = cache.get(&idp.id) {
                    if discovered.fetched.elapsed() < METADATA_LIFETIME && discovered.registration == registration {
                        return Ok(discovered.clone());
                    }
                }
            }
        }
        let issuer = IssuerUrl::new(idp.issuer.as_str().trim_end_matches('/').to_owned())
            .map_err(|e| UpstreamError::unavailable(UpstreamStep::Discovery, e.to_string()))?;
        let metadata =
            ProviderMetadataWithLogout::discover_async(issuer, &self.http).await.map_err(discovery_failure)?;
        let client = self.client(idp, &metadata)?;
        let discovered = Arc::new(Discovered { metadata, client, registration, fetched: Instant::now() });
        if let Ok(mut cache) = self.discovered.write() {
            cache.insert(idp.id.clone(), discovered.clone());
        }
        Ok(discovered)
    }

    /// The hub's redirect URI at `idp`.
    pub fn redirect_uri(&self, idp: &IdpId) -> String {
        format!("{}/idp/{}/callback", self.issuer, idp.as_str())
    }

    fn client(
        &self,
        idp: &IdentityProvider,
        metadata: &ProviderMetadataWithLogout,
    ) -> Result<CoreClientFromMetadata, UpstreamError> {
        let redirect_uri = RedirectUrl::new(self.redirect_uri(&idp.id))
            .map_err(|e| UpstreamError::unavailable(UpstreamStep::Discovery, e.to_string()))?;
        Ok(CoreClientFromMetadata::from_provider_metadata(
            metadata.clone(),
            ClientId::new(idp.client_id.clone()),
            Some(ClientSecret::new(idp.client_secret.expose().to_owned())),
        )
        .set_redirect_uri(redirect_uri)
        .set_auth_type(match idp.token_auth {
            UpstreamClientAuth::SecretBasic => AuthType::BasicAuth,
            UpstreamClientAuth::SecretPost => AuthType::RequestBody,
        }))
    }

    /// The authorization URL at `idp`: the IdP's configured scopes, `prompt=login` (the hub owns
    /// single sign-on), the level the IdP is trusted for, and fresh state, nonce and PKCE of
    /// the hub's own. Nothing in it derives from the SP's request, not even its level (which
    /// could single out an SP with an unusual minimum): eligibility already ensures the IdP's
    /// level reaches it, and the callback checks the level reached.
    pub async fn authorization_url(&self, idp: &IdentityProvider) -> Result<UpstreamAuthorization, UpstreamError> {
        let client = &self.discovered(idp, false).await?.client;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (state, nonce) = (random_token(), random_token());
        let (state_for_url, nonce_for_url) = (state.clone(), nonce.clone());
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state_for_url),
                move || Nonce::new(nonce_for_url),
            )
            .set_pkce_challenge(challenge)
            .add_prompt(openidconnect::core::CoreAuthPrompt::Login)
            .add_auth_context_value(AuthenticationContextClass::new(idp.level.as_acr().to_owned()));
        for scope in idp.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, _, _) = request.url();
        let (nonce, pkce_verifier) = (values::Nonce::new(nonce), values::PkceVerifier::new(verifier.secret().clone()));
        Ok(UpstreamAuthorization { url, state, nonce, pkce_verifier })
    }

    /// Completes the sign-in: exchanges `code`, verifies the ID token (signature from the IdP's
    /// JWKS, `iss`, `aud`, `exp`, `nonce`, `acr`), fetches userinfo for the same `sub`, and
    /// returns the claims of both, verified: the IdP's profile normalises them.
    pub async fn complete(
        &self,
        idp: &IdentityProvider,
        code: &str,
        login: &UpstreamLogin,
    ) -> Result<UpstreamIdentity, UpstreamError> {
        let discovered = self.discovered(idp, false).await?;
        let client = &discovered.client;
        let token_response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| UpstreamError::unavailable(UpstreamStep::Token, e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier.secret().to_owned()))
            .request_async(&self.http)
            .await
            .map_err(token_failure)?;
        let id_token_rejected =
            |detail: String| UpstreamError::new(UpstreamFailure::IdTokenRejected, UpstreamStep::IdToken, detail);
        let id_token = token_response.id_token().ok_or_else(|| id_token_rejected("no id_token".into()))?;
        let nonce = Nonce::new(login.nonce.as_str().to_owned());
        let verified = {
            let verifier = client.id_token_verifier().set_allowed_algs(ACCEPTED_ALGORITHMS);
            id_token.claims(&verifier, &nonce).cloned()
        };
        // A signature that fails with cached keys may be a rotation at the IdP: verify once
        // more with freshly discovered keys before refusing.
        let claims = match verified {
            Ok(claims) => claims,
            Err(first) => {
                let fresh = self.discovered(idp, true).await?;
                let verifier = fresh.client.id_token_verifier().set_allowed_algs(ACCEPTED_ALGORITHMS);
                id_token.claims(&verifier, &nonce).cloned().map_err(|_| id_token_rejected(error_chain(&first)))?
            }
        };
        let not_reached =
            |detail: String| UpstreamError::new(UpstreamFailure::LevelNotReached, UpstreamStep::IdToken, detail);
        let asserted = match claims.auth_context_ref().and_then(|acr| EidasLevel::from_acr(acr.as_str())) {
            Some(level) => level,
            None if !idp.require_acr => idp.level,
            None => return Err(not_reached("no eIDAS acr in the ID token".into())),
        };
        let acr = asserted.min(idp.level);
        if acr < login.required_level {
            return Err(not_reached(format!("{acr} reached, {} required", login.required_level)));
        }

        let userinfo: UserInfoClaims<PivotExtraClaims, CoreGenderClaim> = client
            .user_info(AccessToken::new(token_response.access_token().secret().clone()), Some(claims.subject().clone()))
            .map_err(|e| UpstreamError::new(UpstreamFailure::UserinfoRejected, UpstreamStep::Userinfo, e.to_string()))?
            .request_async(&self.http)
            .await
            .map_err(userinfo_failure)?;

        let mut merged = as_object(&claims);
        merged.extend(as_object(&userinfo));
        let claims = merged.into_iter().filter_map(|(name, value)| value.as_str().map(|v| (name, v.to_owned())));
        Ok(UpstreamIdentity { claims: VerifiedClaims::new(claims.collect()), acr, id_token: id_token.to_string() })
    }

    /// The RP-initiated logout URL at `idp` for the session of `id_token`, coming back to the
    /// hub with `state`; `None` when the IdP has no end-session endpoint.
    pub async fn logout_url(
        &self,
        idp: &IdentityProvider,
        id_token: &str,
        state: &str,
    ) -> Result<Option<Url>, UpstreamError> {
        let discovered = self.discovered(idp, false).await?;
        let Some(endpoint) = discovered.metadata.additional_metadata().end_session_endpoint.clone() else {
            return Ok(None);
        };
        let post_logout = PostLogoutRedirectUrl::new(self.post_logout_redirect_uri.clone())
            .map_err(|e| UpstreamError::unavailable(UpstreamStep::Discovery, e.to_string()))?;
        let mut url = LogoutRequest::from(endpoint)
            .set_client_id(ClientId::new(idp.client_id.clone()))
            .set_post_logout_redirect_uri(post_logout)
            .set_state(CsrfToken::new(state.to_owned()))
            .http_get_url();
        // The raw ID token is passed as received: `set_id_token_hint` needs a parsed token,
        // and re-serialising one would not change it.
        url.query_pairs_mut().append_pair("id_token_hint", id_token);
        Ok(Some(url))
    }
}

/// RFC 9207's discovery member: whether the IdP sends `iss` in its authorization responses.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
struct IssParameterMetadata {
    #[serde(default)]
    authorization_response_iss_parameter_supported: Option<bool>,
}
impl openidconnect::AdditionalProviderMetadata for IssParameterMetadata {}

/// `openidconnect`'s core provider metadata (with RP-initiated logout), its keys checked by
/// [`ProviderKey`].
type ProviderMetadataWithLogout = openidconnect::ProviderMetadata<
    LogoutProviderMetadata<IssParameterMetadata>,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    ProviderKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// `openidconnect`'s core client made from discovered metadata, its keys checked by
/// [`ProviderKey`].
type CoreClientFromMetadata = openidconnect::Client<
    EmptyAdditionalClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    ProviderKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    CoreTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

fn as_object<T: serde::Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}
