//! The token request (RFC 6749 section 4.1.3) and client authentication at the token
//! endpoint: `client_secret_basic`, `client_secret_post` and `private_key_jwt` (RFC 7523), each
//! client with the one method it registered.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use relais_domain::providers::ClientAuthentication;
use relais_domain::{ServiceProvider, SpId};

use crate::error::{ErrorCode, OAuthError};
use crate::jose::{self, ClientAssertionClaims};

/// The assertion type of `private_key_jwt`.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The raw form of a token request. `Debug` hides the code, the verifier, the secret, the
/// assertion and the exchanged tokens.
#[derive(Clone, Default, serde::Deserialize)]
pub struct RawTokenRequest {
    /// `grant_type`
    pub grant_type: Option<String>,
    /// `code`
    pub code: Option<String>,
    /// `redirect_uri`
    pub redirect_uri: Option<String>,
    /// `code_verifier`
    pub code_verifier: Option<String>,
    /// `client_id`
    pub client_id: Option<String>,
    /// `client_secret`
    pub client_secret: Option<String>,
    /// `client_assertion_type`
    pub client_assertion_type: Option<String>,
    /// `client_assertion`
    pub client_assertion: Option<String>,
    /// `subject_token` (RFC 8693 token exchange)
    pub subject_token: Option<String>,
    /// `subject_token_type`
    pub subject_token_type: Option<String>,
    /// `actor_token`
    pub actor_token: Option<String>,
    /// `actor_token_type`
    pub actor_token_type: Option<String>,
    /// `requested_token_type`
    pub requested_token_type: Option<String>,
    /// `scope`
    pub scope: Option<String>,
}

/// The credentials a client presented, by method. `Debug` shows the method and the client,
/// never the secret or the assertion.
pub enum PresentedCredentials {
    /// HTTP Basic.
    Basic {
        /// The client id.
        client_id: String,
        /// The secret presented.
        secret: String,
    },
    /// Secret in the body.
    Post {
        /// The client id.
        client_id: String,
        /// The secret presented.
        secret: String,
    },
    /// A signed assertion.
    Assertion {
        /// The client id (from the form or the assertion's `sub`).
        client_id: String,
        /// The JWT.
        assertion: String,
    },
    /// Only a client id: a public client.
    None {
        /// The client id.
        client_id: String,
    },
}

impl std::fmt::Debug for PresentedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedCredentials")
            .field("method", &self.method())
            .field("client_id", &self.client_id().as_str())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RawTokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawTokenRequest")
            .field("grant_type", &self.grant_type)
            .field("redirect_uri", &self.redirect_uri)
            .field("client_id", &self.client_id)
            .field("client_assertion_type", &self.client_assertion_type)
            .finish_non_exhaustive()
    }
}

impl PresentedCredentials {
    /// The client these credentials claim to be.
    pub fn client_id(&self) -> SpId {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::Assertion { client_id, .. }
            | Self::None { client_id } => SpId::new(client_id.clone()),
        }
    }

    /// The authentication method presented, by its registration name (RFC 7591).
    pub fn method(&self) -> &'static str {
        match self {
            Self::Basic { .. } => "client_secret_basic",
            Self::Post { .. } => "client_secret_post",
            Self::Assertion { .. } => "private_key_jwt",
            Self::None { .. } => "none",
        }
    }

    /// Whether HTTP Basic was used (the 401 answer then carries `WWW-Authenticate`).
    pub fn used_basic(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }
}

fn invalid_client(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClient, description)
}

/// Reads the credentials from the `Authorization` header and the form. More than one method
/// in one request is refused (RFC 6749, section 2.3).
pub fn presented_credentials(
    authorization: Option<&str>,
    form: &RawTokenRequest,
) -> Result<PresentedCredentials, OAuthError> {
    let basic = authorization.map(parse_basic).transpose()?;
    let assertion = match (&form.client_assertion_type, &form.client_assertion) {
        (Some(kind), Some(assertion)) if kind == JWT_BEARER_ASSERTION => Some(assertion.clone()),
        (None, None) => None,
        _ => return Err(OAuthError::new(ErrorCode::InvalidRequest, "unsupported or incomplete client assertion")),
    };
    let methods =
        usize::from(basic.is_some()) + usize::from(assertion.is_some()) + usize::from(form.client_secret.is_some());
    if methods > 1 {
        return Err(OAuthError::new(ErrorCode::InvalidRequest, "more than one client authentication method"));
    }
    if let Some((client_id, secret)) = basic {
        if form.client_id.as_deref().is_some_and(|id| id != client_id) {
            return Err(invalid_client("client_id differs from the authenticated client"));
        }
        return Ok(PresentedCredentials::Basic { client_id, secret });
    }
    if let Some(assertion) = assertion {
        let client_id = match form.client_id.clone() {
            Some(id) => id,
            None => unverified_subject(&assertion).ok_or_else(|| invalid_client("client assertion without sub"))?,
        };
        return Ok(PresentedCredentials::Assertion { client_id, assertion });
    }
    let client_id = form
        .client_id
        .clone()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| invalid_client("client authentication is required"))?;
    Ok(match form.client_secret.clone() {
        Some(secret) => PresentedCredentials::Post { client_id, secret },
        None => PresentedCredentials::None { client_id },
    })
}

/// `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749, section 2.3.1).
fn parse_basic(header: &str) -> Result<(String, String), OAuthError> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))
        .ok_or_else(|| invalid_client("unsupported Authorization scheme"))?;
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| invalid_client("malformed Basic credentials"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid_client("malformed Basic credentials"))?;
    let (id, secret) = decoded.split_once(':').ok_or_else(|| invalid_client("malformed Basic credentials"))?;
    Ok((form_decode(id), form_decode(secret)))
}

/// `application/x-www-form-urlencoded` decoding of one component: `+` is a space, `%XX` a
/// byte; `&` and `=` are data here, not separators.
fn form_decode(component: &str) -> String {
    let spaced = component.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// The `sub` of a JWT, read without verification, only to know whose keys verify it.
fn unverified_subject(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("sub")?.as_str().map(str::to_owned)
}

/// Authenticates `credentials` against the registered `sp`: the method must be the one it
/// registered. For an assertion, the verified claims are returned: the caller checks its
/// expiry and records its `jti` against replay.
pub fn authenticate(
    credentials: &PresentedCredentials,
    sp: &ServiceProvider,
    assertion_audiences: &[String],
) -> Result<Option<ClientAssertionClaims>, OAuthError> {
    match (credentials, &sp.authentication) {
        (PresentedCredentials::Basic { secret, .. }, ClientAuthentication::SecretBasic(registered))
        | (PresentedCredentials::Post { secret, .. }, ClientAuthentication::SecretPost(registered)) => {
            if registered.matches(sp.id.as_str(), secret) {
                Ok(None)
            } else {
                Err(invalid_client("client authentication failed"))
            }
        }
        (PresentedCredentials::Assertion { assertion, client_id }, ClientAuthentication::PrivateKeyJwt { jwks }) => {
            jose::verify_client_assertion(assertion, jwks, client_id, assertion_audiences)
                .map(Some)
                .map_err(|_| invalid_client("client assertion is invalid"))
        }
        (PresentedCredentials::None { .. }, ClientAuthentication::None) => Ok(None),
        _ => Err(invalid_client("client authentication method not registered for this client")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn basic_credentials_are_url_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20client:p%40ss%3Aword"));
        let credentials = presented_credentials(Some(&header), &RawTokenRequest::default()).unwrap();
        match credentials {
            PresentedCredentials::Basic { client_id, secret } => {
                assert_eq!(client_id, "my client");
                assert_eq!(secret, "p@ss:word");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unencoded_reserved_characters_in_basic_credentials_are_kept() {
        let header = format!("Basic {}", STANDARD.encode("client:a&b=c+d"));
        match presented_credentials(Some(&header), &RawTokenRequest::default()).unwrap() {
            PresentedCredentials::Basic { secret, .. } => assert_eq!(secret, "a&b=c d"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let header = format!("Basic {}", STANDARD.encode("a:b"));
        let form = RawTokenRequest { client_secret: Some("b".into()), ..Default::default() };
        assert_eq!(presented_credentials(Some(&header), &form).unwrap_err().code, ErrorCode::InvalidRequest);
    }
}
