#![allow(clippy::unwrap_used)]
use super::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::json;

/// A JWS signed by `jsonwebtoken` (RustCrypto), split into the signed message and signature.
fn signed(alg: Algorithm, key: &EncodingKey) -> (Vec<u8>, Vec<u8>) {
    let token = jsonwebtoken::encode(&Header::new(alg), &json!({"sub": "x"}), key).unwrap();
    let (message, signature) = token.rsplit_once('.').unwrap();
    (message.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(signature).unwrap())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn es256() -> (EncodingKey, Value) {
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())});
    (EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(), jwk)
}

fn key(jwk: Value) -> ProviderKey {
    serde_json::from_value(jwk).unwrap()
}

#[test]
fn es256_verifies_with_ring_and_a_changed_message_does_not() {
    let (signing, jwk) = es256();
    let (mut message, signature) = signed(Algorithm::ES256, &signing);
    let key = key(jwk);
    assert!(matches!(key.ring, Some(RingKey::P256(_))));
    key.verify_signature(&CoreJwsSigningAlgorithm::EcdsaP256Sha256, &message, &signature).unwrap();
    message[0] ^= 1;
    assert!(key.verify_signature(&CoreJwsSigningAlgorithm::EcdsaP256Sha256, &message, &signature).is_err());
}

#[test]
fn rs256_verifies_with_ring_and_ps256_through_openidconnect() {
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
    let pem = private.to_pkcs8_pem(LineEnding::LF).unwrap();
    let signing = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let key = key(json!({"kty": "RSA", "n": b64(&private.n().to_bytes_be()), "e": b64(&private.e().to_bytes_be())}));
    let (message, signature) = signed(Algorithm::RS256, &signing);
    key.verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, &message, &signature).unwrap();
    let (message, signature) = signed(Algorithm::PS256, &signing);
    key.verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPssSha256, &message, &signature).unwrap();
    assert!(
        key.verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, &message, &signature).is_err(),
        "a PS256 signature is not an RS256 one"
    );
}

#[test]
fn a_key_for_another_algorithm_or_for_encryption_is_refused() {
    let (signing, jwk) = es256();
    let (message, signature) = signed(Algorithm::ES256, &signing);
    let mut for_rs256 = jwk.clone();
    for_rs256["alg"] = json!("RS256");
    let refused = key(for_rs256).verify_signature(&CoreJwsSigningAlgorithm::EcdsaP256Sha256, &message, &signature);
    assert!(matches!(refused, Err(SignatureVerificationError::InvalidKey(_))), "{refused:?}");
    let mut for_encryption = jwk.clone();
    for_encryption["use"] = json!("enc");
    let refused = key(for_encryption).verify_signature(&CoreJwsSigningAlgorithm::EcdsaP256Sha256, &message, &signature);
    assert!(matches!(refused, Err(SignatureVerificationError::InvalidKey(_))), "{refused:?}");
    let refused = key(jwk).verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, &message, &signature);
    assert!(refused.is_err(), "an EC key does not verify RS256");
}

#[test]
fn the_key_serialises_as_the_jwk_it_was_read_from() {
    let (_, jwk) = es256();
    let back = serde_json::to_value(key(jwk.clone())).unwrap();
    assert_eq!(back["x"], jwk["x"]);
    assert_eq!(back["kty"], "EC");
}
