//! `relais check-config --online`: what an IdP's discovery offers the hub.

use openidconnect::core::CoreClientAuthMethod;
use relais_domain::providers::UpstreamClientAuth;
use relais_domain::IdentityProvider;

use super::{UpstreamClient, UpstreamError};

/// What an IdP's discovery tells of it, as `relais check-config --online` reports it.
#[derive(Clone, Debug)]
pub struct ProviderCheck {
    /// The `kid` of each signing key it publishes.
    pub keys: Vec<String>,
    /// Whether it has an end-session endpoint (logout reaches it).
    pub end_session: bool,
    /// Whether it says its answers carry `iss` (RFC 9207; then required).
    pub sends_iss: bool,
    /// Whether it accepts the client authentication method configured for the hub.
    pub auth_method_supported: bool,
    /// Whether it lists the level it is configured for (`None`: it lists none).
    pub acr_supported: Option<bool>,
}

impl UpstreamClient {
    /// Fetches `idp`'s discovery document and keys afresh and reports what the hub will use of
    /// them (`relais check-config --online`).
    pub async fn check(&self, idp: &IdentityProvider) -> Result<ProviderCheck, UpstreamError> {
        use openidconnect::JsonWebKey;
        let discovered = self.discovered(idp, true).await?;
        let metadata = &discovered.metadata;
        let keys = metadata
            .jwks()
            .keys()
            .iter()
            .map(|key| key.key_id().map_or_else(|| "(no kid)".to_owned(), |kid| kid.as_str().to_owned()))
            .collect();
        let method = match idp.token_auth {
            UpstreamClientAuth::SecretBasic => CoreClientAuthMethod::ClientSecretBasic,
            UpstreamClientAuth::SecretPost => CoreClientAuthMethod::ClientSecretPost,
        };
        // Discovery 1.0: without the member, client_secret_basic is the default.
        let auth_method_supported = match metadata.token_endpoint_auth_methods_supported() {
            Some(methods) => methods.contains(&method),
            None => method == CoreClientAuthMethod::ClientSecretBasic,
        };
        let level = idp.level.as_acr();
        let acr_supported =
            metadata.acr_values_supported().map(|values| values.iter().any(|acr| acr.as_str() == level));
        Ok(ProviderCheck {
            keys,
            end_session: metadata.additional_metadata().end_session_endpoint.is_some(),
            sends_iss: metadata
                .additional_metadata()
                .additional_metadata
                .authorization_response_iss_parameter_supported
                == Some(true),
            auth_method_supported,
            acr_supported,
        })
    }
}
