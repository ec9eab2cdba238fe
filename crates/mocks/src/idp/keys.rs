//! The provider's ES256 key pair, its JWKS, and the signing of (possibly faulty) ID tokens.
//! Signing is `ring`'s, on keys parsed once: `jsonwebtoken` parses the key again for every
//! token, which made this mock, not the hub, the slow side of the benchmark's federated flow.

use super::Fault;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::EncodePrivateKey as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Map, Value};

/// Why the keys could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyError {
    #[error("cannot encode the key: {0}")]
    Pkcs8(String),
    #[error("JOSE: {0}")]
    Jose(#[from] jsonwebtoken::errors::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The published key and an unpublished one (for [`Fault::BadSignature`]).
pub(crate) struct SigningKeys {
    kid: String,
    signing: EcdsaKeyPair,
    rogue: EcdsaKeyPair,
    verifying: DecodingKey,
    jwk: Value,
}

impl SigningKeys {
    /// Generates both key pairs with the OS random generator.
    pub(crate) fn generate() -> Result<Self, KeyError> {
        let (signing, x, y) = new_key()?;
        let (rogue, _, _) = new_key()?;
        let verifying = DecodingKey::from_ec_components(&x, &y)?;
        let kid = crate::web::random_token().chars().take(16).collect::<String>();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y,
            "kid": kid, "use": "sig", "alg": "ES256",
        });
        Ok(Self { kid, signing, rogue, verifying, jwk })
    }

    /// The JWK Set with the published public key.
    pub(crate) fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }

    /// Signs `claims` as an ID token, honouring the signature-related faults.
    pub(crate) fn sign_id_token(&self, claims: &Map<String, Value>, fault: &Fault) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        match fault {
            Fault::AlgNone => {
                let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&json!({ "alg": "none" }))?);
                let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?);
                Ok([header, payload, String::new()].join("."))
            }
            Fault::BadSignature => sign(&header, claims, &self.rogue),
            _ => sign(&header, claims, &self.signing),
        }
    }

    /// Claims of an ID token signed with our published key, for `issuer`; expiry and
    /// audience are not checked (an expired `id_token_hint` is acceptable).
    pub(crate) fn verify_hint(&self, token: &str, issuer: &str) -> Option<Map<String, Value>> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[issuer]);
        jsonwebtoken::decode::<Map<String, Value>>(token, &self.verifying, &validation).ok().map(|data| data.claims)
    }
}

/// A compact JWS (RFC 7515) of `claims` under `header`.
fn sign(header: &Header, claims: &Map<String, Value>, key: &EcdsaKeyPair) -> Result<String, KeyError> {
    let mut jws = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header)?);
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?));
    let signature = key.sign(&SystemRandom::new(), jws.as_bytes()).map_err(|e| KeyError::Pkcs8(e.to_string()))?;
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(signature.as_ref()));
    Ok(jws)
}

/// A new P-256 key: the signing key and the public coordinates (base64url).
fn new_key() -> Result<(EcdsaKeyPair, String, String), KeyError> {
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let der = secret.to_pkcs8_der().map_err(|e| KeyError::Pkcs8(e.to_string()))?;
    let encoding = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.as_bytes(), &SystemRandom::new())
        .map_err(|e| KeyError::Pkcs8(e.to_string()))?;
    let point = secret.public_key().to_encoded_point(false);
    let (Some(x), Some(y)) = (point.x(), point.y()) else {
        return Err(KeyError::Pkcs8("public key is the identity".to_owned()));
    };
    Ok((encoding, URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y)))
}
