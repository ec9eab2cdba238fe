//! The protocol's values as types, so that a nonce is never passed where a state is expected:
//! the service provider's `state`, `nonce`, `redirect_uri` and PKCE challenge, the hub's own
//! PKCE verifier towards an identity provider (a secret), the ids of its pending records, and
//! the digests it keys records by. Each wraps the text as received or made; none is parsed
//! further here (the protocol rules in `relais_oidc` check them).

use crate::ids::identifier as value;

macro_rules! secret_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
            /// The value, for the one place that must send it.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(***)"))
            }
        }
    };
}

value!(
    /// The service provider's `state`, returned to it unchanged.
    State
);
value!(
    /// A `nonce`: the service provider's, put in its ID token, or the hub's towards an IdP.
    Nonce
);
value!(
    /// A `redirect_uri`, one of those registered for the service provider (compared exactly).
    RedirectUri
);
value!(
    /// A PKCE `S256` code challenge (RFC 7636).
    CodeChallenge
);
value!(
    /// The id of a pending authorization (the choice page's address) or a pending consent.
    FlowId
);
value!(
    /// A hub session's id as the protocol knows it (`sid`, OpenID Connect Front- and
    /// Back-Channel Logout): random, never the cookie; what the session's tokens are revoked by.
    Sid
);
value!(
    /// The digest of a value the hub keys a record by (a session id, a browser's binding
    /// cookie): the value itself is never stored.
    Digest
);
secret_value!(
    /// The hub's PKCE verifier towards an identity provider: sent once, to its token endpoint.
    PkceVerifier
);
secret_value!(
    /// The ID token an identity provider issued, kept for the logout there.
    UpstreamIdToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print_and_values_serialise_as_text() {
        assert_eq!(format!("{:?}", PkceVerifier::new("v3rifier")), "PkceVerifier(***)");
        assert_eq!(format!("{:?}", UpstreamIdToken::new("eyJ")), "UpstreamIdToken(***)");
        assert_eq!(serde_json::to_string(&State::new("s")).ok().as_deref(), Some("\"s\""));
    }
}
