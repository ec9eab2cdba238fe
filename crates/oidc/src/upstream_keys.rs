//! The identity providers' public keys, as `openidconnect` reads them from a JWKS, with ES256
//! and RS256 signatures checked by `ring` and every other algorithm by `openidconnect` itself.
//! Why: `openidconnect` verifies ES256 with RustCrypto's portable `p256`, which took a fifth of
//! the hub's CPU in a full federated sign-in (one ID token per sign-in); `ring` (already in the
//! tree, constant-time assembly) does the same check in a fraction of that. Everything around
//! the signature (key selection by `kid` and algorithm, claims, nonce, expiry) stays the
//! library's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeyType, CoreJsonWebKeyUse, CoreJwsSigningAlgorithm};
use openidconnect::{
    JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyId, JsonWebKeyUse, JwsSigningAlgorithm, SignatureVerificationError,
};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The public key material `ring` verifies with, read once when the JWKS is.
#[derive(Clone, Debug)]
enum RingKey {
    /// An uncompressed P-256 point (`04 || x || y`).
    P256(Vec<u8>),
    /// An RSA modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl RingKey {
    fn from_jwk(jwk: &Value) -> Option<Self> {
        let bytes = |name: &str| jwk.get(name).and_then(Value::as_str).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
        match (jwk.get("kty").and_then(Value::as_str), jwk.get("crv").and_then(Value::as_str)) {
            (Some("EC"), Some("P-256")) => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Some(Self::P256(point))
            }
            (Some("RSA"), _) => Some(Self::Rsa { n: bytes("n")?, e: bytes("e")? }),
            _ => None,
        }
    }
}

/// A key of an IdP's JWKS.
#[derive(Clone, Debug)]
pub struct ProviderKey {
    jwk: CoreJsonWebKey,
    ring: Option<RingKey>,
}

impl Serialize for ProviderKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.jwk.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ProviderKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let ring = RingKey::from_jwk(&value);
        let jwk = CoreJsonWebKey::deserialize(value).map_err(D::Error::custom)?;
        Ok(Self { jwk, ring })
    }
}

impl ProviderKey {
    /// The checks `openidconnect` makes before its own verification: a key for signatures, of
    /// the algorithm's type, and of this algorithm if the JWKS names one.
    fn suits(&self, alg: &CoreJwsSigningAlgorithm) -> Result<(), SignatureVerificationError> {
        let refuse = |why: &str| Err(SignatureVerificationError::InvalidKey(why.to_owned()));
        if self.key_use().is_some_and(|key_use| !key_use.allows_signature()) {
            return refuse("key usage not permitted for digital signatures");
        }
        if alg.key_type().as_ref() != Some(self.key_type()) {
            return refuse("key type does not match signature algorithm");
        }
        match self.signing_alg() {
            JsonWebKeyAlgorithm::Unspecified => Ok(()),
            JsonWebKeyAlgorithm::Algorithm(key_alg) if key_alg == alg => Ok(()),
            JsonWebKeyAlgorithm::Algorithm(_) => refuse("incompatible key algorithm"),
            JsonWebKeyAlgorithm::Unsupported => refuse("key algorithm is not a signing algorithm"),
        }
    }
}

impl JsonWebKey for ProviderKey {
    type KeyUse = CoreJsonWebKeyUse;
    type SigningAlgorithm = CoreJwsSigningAlgorithm;

    fn key_id(&self) -> Option<&JsonWebKeyId> {
        self.jwk.key_id()
    }

    fn key_type(&self) -> &CoreJsonWebKeyType {
        self.jwk.key_type()
    }

    fn key_use(&self) -> Option<&CoreJsonWebKeyUse> {
        self.jwk.key_use()
    }

    fn signing_alg(&self) -> JsonWebKeyAlgorithm<&CoreJwsSigningAlgorithm> {
        self.jwk.signing_alg()
    }

    fn new_symmetric(key: Vec<u8>) -> Self {
        Self { jwk: CoreJsonWebKey::new_symmetric(key), ring: None }
    }

    fn verify_signature(
        &self,
        alg: &CoreJwsSigningAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureVerificationError> {
        use ring::signature::{
            RsaPublicKeyComponents, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256,
        };
        let wrong = |_| SignatureVerificationError::CryptoError("bad signature".into());
        match (alg, &self.ring) {
            (CoreJwsSigningAlgorithm::EcdsaP256Sha256, Some(RingKey::P256(point))) => {
                self.suits(alg)?;
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(message, signature).map_err(wrong)
            }
            // Keys under 2048 bits are refused (ring's minimum, and ANSSI's).
            (CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, Some(RingKey::Rsa { n, e })) => {
                self.suits(alg)?;
                RsaPublicKeyComponents { n, e }.verify(&RSA_PKCS1_2048_8192_SHA256, message, signature).map_err(wrong)
            }
            _ => self.jwk.verify_signature(alg, message, signature),
        }
    }

    fn hash_bytes(&self, bytes: &[u8], alg: &CoreJwsSigningAlgorithm) -> Result<Vec<u8>, String> {
        self.jwk.hash_bytes(bytes, alg)
    }
}

#[cfg(test)]
#[path = "upstream_keys_tests.rs"]
mod tests;
