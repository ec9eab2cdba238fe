//! The hub's JOSE: its signing keys (generated, loaded, published as a JWKS), the ID tokens
//! it signs, and the JWTs it verifies (its own `id_token_hint`, the clients' `private_key_jwt`
//! assertions). Verification is `jsonwebtoken` with its RustCrypto backend, the same
//! `p256`/`rsa` stack as `openidconnect` uses. Only asymmetric algorithms are accepted:
//! `alg: none` cannot be parsed and HMAC is refused before a key is chosen, so a public key is
//! never used as an HMAC secret.
//!
//! Signing is `aws-lc-rs`, each key parsed once when the keys are loaded. RS256 is the default
//! path (an SP that names no algorithm gets it, Core 3.1.3.7), and `ring`'s RSA-2048 signature
//! took 420 µs where OpenSSL takes 205 µs on the same AMD EPYC: OpenSSL and AWS-LC (AWS's
//! maintained, FIPS-validated fork of BoringSSL, which `aws-lc-rs` wraps with `ring`'s API) use
//! the processor's AVX-512 IFMA instructions for the modular exponentiation, `ring` does not.
//! `aws-lc-rs` signs RS256 in 205 µs there, and ES256 in 11.2 µs against `ring`'s 12.0, so it
//! signs both. The benchmark's floor measures both libraries for both algorithms and `openssl
//! speed` on the machine it runs on (docs/benchmark.md). `ring` stays for verifying the IdPs'
//! tokens (`upstream_keys`). Why not `jsonwebtoken` for signing too: it parses the PKCS#8 key
//! again on every signature, and with RustCrypto's `p256` that is two scalar multiplications
//! (the public key, validated, then derived again) before the signature's own; a profile of the
//! SSO flow showed 52 % of the hub's CPU in `jsonwebtoken::encode`. And the `rsa` crate's
//! signing is exposed to the Marvin timing advisory (RUSTSEC-2023-0071), AWS-LC's is constant
//! time. The compact serialisation around the signature is
//! RFC 7515's `BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature)`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use relais_domain::providers::IdTokenAlgorithm;
use rsa::traits::PublicKeyParts;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A JOSE failure.
#[derive(Debug, thiserror::Error)]
pub enum JoseError {
    /// Key material could not be generated or read.
    #[error("key material: {0}")]
    Key(String),
    /// No key of the hub can sign with this algorithm.
    #[error("no signing key for {0:?}")]
    NoKeyFor(IdTokenAlgorithm),
    /// A token could not be signed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// A presented JWT is not acceptable.
    #[error("invalid token: {0}")]
    InvalidToken(String),
}

/// Private key material as persisted: the key store's record, kept out of this crate's types.
#[derive(Clone)]
pub struct KeyMaterial {
    /// The key id.
    pub kid: String,
    /// The algorithm.
    pub alg: IdTokenAlgorithm,
    /// PKCS#8 PEM of the private key.
    pub private_pem: String,
    /// When it may start signing (published before, so that verifiers know it first).
    pub not_before: u64,
    /// When it leaves the JWKS (after the tokens it signed have expired).
    pub retire_at: Option<u64>,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyMaterial").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl KeyMaterial {
    /// Generates a new key: P-256 for ES256, RSA-2048 for RS256. Its `kid` is its RFC 7638
    /// thumbprint.
    pub fn generate(alg: IdTokenAlgorithm) -> Result<Self, JoseError> {
        let key_error = |e: &dyn std::fmt::Display| JoseError::Key(e.to_string());
        let private_pem = match alg {
            IdTokenAlgorithm::ES256 => p256::SecretKey::random(&mut rand::rngs::OsRng)
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| key_error(&e))?
                .to_string(),
            IdTokenAlgorithm::RS256 => rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
                .map_err(|e| key_error(&e))?
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| key_error(&e))?
                .to_string(),
        };
        let public = public_jwk(alg, &private_pem)?;
        Ok(Self { kid: thumbprint(&public), alg, private_pem, not_before: 0, retire_at: None })
    }
}

/// The public JWK members of a private key (without `kid`).
fn public_jwk(alg: IdTokenAlgorithm, private_pem: &str) -> Result<Value, JoseError> {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    match alg {
        IdTokenAlgorithm::ES256 => {
            let key = p256::SecretKey::from_pkcs8_pem(private_pem).map_err(|e| JoseError::Key(e.to_string()))?;
            let point = key.public_key().to_encoded_point(false);
            let (Some(x), Some(y)) = (point.x(), point.y()) else {
                return Err(JoseError::Key("P-256 point at infinity".into()));
            };
            Ok(json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)}))
        }
        IdTokenAlgorithm::RS256 => {
            let key = rsa::RsaPrivateKey::from_pkcs8_pem(private_pem).map_err(|e| JoseError::Key(e.to_string()))?;
            Ok(json!({"kty": "RSA", "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())}))
        }
    }
}

/// RFC 7638 thumbprint of a public JWK (members in lexicographic order, no whitespace).
fn thumbprint(jwk: &Value) -> String {
    let canonical = match jwk["kty"].as_str() {
        Some("EC") => json!({"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]}),
        _ => json!({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}),
    };
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn jwt_algorithm(alg: IdTokenAlgorithm) -> Algorithm {
    match alg {
        IdTokenAlgorithm::ES256 => Algorithm::ES256,
        IdTokenAlgorithm::RS256 => Algorithm::RS256,
    }
}

/// A private key parsed once for `aws-lc-rs`.
enum Signer {
    Es256(aws_lc_rs::signature::EcdsaKeyPair),
    Rs256(aws_lc_rs::signature::RsaKeyPair),
}

impl Signer {
    fn load(alg: IdTokenAlgorithm, private_pem: &str) -> Result<Self, JoseError> {
        let key_error = |e: &dyn std::fmt::Display| JoseError::Key(e.to_string());
        match alg {
            IdTokenAlgorithm::ES256 => {
                let key = p256::SecretKey::from_pkcs8_pem(private_pem).map_err(|e| key_error(&e))?;
                let public = key.public_key().to_encoded_point(false);
                aws_lc_rs::signature::EcdsaKeyPair::from_private_key_and_public_key(
                    &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &key.to_bytes(),
                    public.as_bytes(),
                )
                .map(Signer::Es256)
                .map_err(|e| key_error(&e))
            }
            IdTokenAlgorithm::RS256 => {
                let der = rsa::RsaPrivateKey::from_pkcs8_pem(private_pem)
                    .and_then(|key| key.to_pkcs8_der())
                    .map_err(|e| key_error(&e))?;
                aws_lc_rs::signature::RsaKeyPair::from_pkcs8(der.as_bytes())
                    .map(Signer::Rs256)
                    .map_err(|e| key_error(&e))
            }
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let failed = |e: aws_lc_rs::error::Unspecified| JoseError::Signing(e.to_string());
        match self {
            Signer::Es256(key) => key.sign(&rng, message).map(|signature| signature.as_ref().to_vec()).map_err(failed),
            Signer::Rs256(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &rng, message, &mut signature).map_err(failed)?;
                Ok(signature)
            }
        }
    }
}

struct SigningKey {
    material: KeyMaterial,
    public: Value,
    signer: Signer,
    decoding: DecodingKey,
}

/// The hub's keys. Each is published until its `retire_at`; the newest of an algorithm whose
/// `not_before` has come signs, so a new key is published before it signs and an old one stays
/// published until the tokens it signed have expired.
pub struct HubKeys {
    keys: Vec<SigningKey>,
}

impl HubKeys {
    /// Loads persisted keys, oldest first.
    pub fn from_material(materials: Vec<KeyMaterial>) -> Result<Self, JoseError> {
        let keys = materials
            .into_iter()
            .map(|material| {
                let public = public_jwk(material.alg, &material.private_pem)?;
                let signer = Signer::load(material.alg, &material.private_pem)?;
                let decoding = match material.alg {
                    IdTokenAlgorithm::ES256 => DecodingKey::from_ec_components(text(&public["x"]), text(&public["y"])),
                    IdTokenAlgorithm::RS256 => DecodingKey::from_rsa_components(text(&public["n"]), text(&public["e"])),
                }
                .map_err(|e| JoseError::Key(e.to_string()))?;
                Ok(SigningKey { material, public, signer, decoding })
            })
            .collect::<Result<Vec<_>, JoseError>>()?;
        Ok(Self { keys })
    }

    /// Whether a key signs with `alg`.
    pub fn has(&self, alg: IdTokenAlgorithm) -> bool {
        self.keys.iter().any(|k| k.material.alg == alg)
    }

    /// The public JWK Set (RFC 7517) at `now`.
    pub fn jwks(&self, now: u64) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .filter(|key| key.material.retire_at.is_none_or(|retire_at| now < retire_at))
            .map(|key| {
                let mut jwk = key.public.clone();
                if let Some(members) = jwk.as_object_mut() {
                    members.insert("kid".into(), json!(key.material.kid));
                    members.insert("use".into(), json!("sig"));
                    members.insert("alg".into(), json!(jwt_algorithm(key.material.alg)));
                }
                jwk
            })
            .collect();
        json!({ "keys": keys })
    }

    /// Signs `claims` as a JWT with the newest key of `alg` that may sign at `now`.
    pub fn sign<T: Serialize>(&self, alg: IdTokenAlgorithm, claims: &T, now: u64) -> Result<String, JoseError> {
        self.sign_typed(alg, claims, now, "JWT")
    }

    /// Signs `claims` with a `typ` header of its own (e.g. `token-introspection+jwt`, RFC 9701).
    pub fn sign_typed<T: Serialize>(
        &self,
        alg: IdTokenAlgorithm,
        claims: &T,
        now: u64,
        typ: &str,
    ) -> Result<String, JoseError> {
        let key = self
            .keys
            .iter()
            .rev()
            .find(|k| k.material.alg == alg && k.material.not_before <= now)
            .ok_or(JoseError::NoKeyFor(alg))?;
        let header = json!({ "alg": jwt_algorithm(alg), "kid": key.material.kid, "typ": typ });
        let payload = serde_json::to_vec(claims).map_err(|e| JoseError::Signing(e.to_string()))?;
        let mut jws = String::with_capacity(64 + payload.len() * 4 / 3 + 400);
        URL_SAFE_NO_PAD.encode_string(header.to_string(), &mut jws);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jws);
        let signature = key.signer.sign(jws.as_bytes())?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut jws);
        Ok(jws)
    }

    /// Verifies a JWT the hub signed itself (an `id_token_hint`), whatever its expiry (RP-
    /// initiated logout accepts expired hints), and returns its claims.
    pub fn verify_own<T: DeserializeOwned>(&self, token: &str, issuer: &str) -> Result<T, JoseError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| JoseError::InvalidToken(e.to_string()))?;
        let key = self
            .keys
            .iter()
            .find(|k| {
                header.kid.as_deref() == Some(k.material.kid.as_str()) && jwt_algorithm(k.material.alg) == header.alg
            })
            .ok_or_else(|| JoseError::InvalidToken("unknown key or algorithm".into()))?;
        let mut validation = Validation::new(header.alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[issuer]);
        jsonwebtoken::decode::<T>(token, &key.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| JoseError::InvalidToken(e.to_string()))
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// The accepted algorithms for clients' assertions: asymmetric only.
const ASSERTION_ALGORITHMS: [Algorithm; 7] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// The claims of a `private_key_jwt` client assertion that the hub checks itself.
#[derive(Debug, serde::Deserialize)]
pub struct ClientAssertionClaims {
    /// Must be the client id.
    pub iss: String,
    /// Must be the client id.
    pub sub: String,
    /// Unique id, single use.
    pub jti: String,
    /// Expiry.
    pub exp: u64,
    /// Not before, if any.
    pub nbf: Option<u64>,
}

/// Verifies a client assertion's signature with a key of the client's registered JWK Set,
/// its audience (one of `audiences`) and issuer; expiry and replay are the caller's, against
/// the hub's clock and store.
pub fn verify_client_assertion(
    assertion: &str,
    client_jwks: &str,
    client_id: &str,
    audiences: &[String],
) -> Result<ClientAssertionClaims, JoseError> {
    let invalid = |message: String| JoseError::InvalidToken(message);
    let header = jsonwebtoken::decode_header(assertion).map_err(|e| invalid(e.to_string()))?;
    if !ASSERTION_ALGORITHMS.contains(&header.alg) {
        return Err(invalid(format!("algorithm {:?} is not accepted", header.alg)));
    }
    let jwks: JwkSet =
        serde_json::from_str(client_jwks).map_err(|e| invalid(format!("client JWKS unreadable: {e}")))?;
    let candidates: Vec<&Jwk> = match header.kid.as_deref() {
        Some(kid) => jwks.keys.iter().filter(|k| k.common.key_id.as_deref() == Some(kid)).collect(),
        None => jwks.keys.iter().collect(),
    };
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    // RFC 7523 section 3: `aud` is mandatory (expiry is checked by the caller's clock).
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    validation.set_audience(audiences);
    validation.set_issuer(&[client_id]);
    let mut last_error = invalid("no key of the client matches".into());
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else { continue };
        match jsonwebtoken::decode::<ClientAssertionClaims>(assertion, &key, &validation) {
            Ok(data) if data.claims.sub == client_id => return Ok(data.claims),
            Ok(_) => return Err(invalid("sub must be the client id".into())),
            Err(e) => last_error = invalid(e.to_string()),
        }
    }
    Err(last_error)
}

/// The `at_hash` of an access token for an ID token signed with a SHA-256 algorithm
/// (OpenID Connect Core 3.1.3.6).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
#[path = "jose_tests.rs"]
mod tests;
