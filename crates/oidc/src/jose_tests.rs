#![allow(clippy::unwrap_used)]
use super::*;
use jsonwebtoken::{EncodingKey, Header};
use std::sync::OnceLock;

/// RSA generation is slow; one key per test binary.
fn keys() -> &'static HubKeys {
    static KEYS: OnceLock<HubKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        HubKeys::from_material(vec![
            KeyMaterial::generate(IdTokenAlgorithm::ES256).unwrap(),
            KeyMaterial::generate(IdTokenAlgorithm::RS256).unwrap(),
        ])
        .unwrap()
    })
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Claims {
    iss: String,
    sub: String,
}

fn claims() -> Claims {
    Claims { iss: "https://hub.example".into(), sub: "abc".into() }
}

#[test]
fn signed_tokens_verify_with_both_algorithms_and_carry_the_kid() {
    for alg in [IdTokenAlgorithm::ES256, IdTokenAlgorithm::RS256] {
        let token = keys().sign(alg, &claims(), 0).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        let kid = header.kid.unwrap();
        assert!(keys().jwks(0)["keys"].as_array().unwrap().iter().any(|k| k["kid"] == kid.as_str()));
        let back: Claims = keys().verify_own(&token, "https://hub.example").unwrap();
        assert_eq!(back, claims());
        assert!(keys().verify_own::<Claims>(&token, "https://other.example").is_err());
    }
}

#[test]
fn alg_none_and_tampered_tokens_are_refused() {
    let token = keys().sign(IdTokenAlgorithm::ES256, &claims(), 0).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{}.", parts[1]);
    assert!(keys().verify_own::<Claims>(&unsigned, "https://hub.example").is_err());
    let forged_payload = URL_SAFE_NO_PAD.encode(br#"{"iss":"https://hub.example","sub":"someone-else"}"#);
    let tampered = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    assert!(keys().verify_own::<Claims>(&tampered, "https://hub.example").is_err());
}

#[test]
fn hmac_signed_with_the_public_key_is_refused_as_a_client_assertion() {
    let rsa_public = keys().jwks(0)["keys"].as_array().unwrap().iter().find(|k| k["kty"] == "RSA").unwrap().clone();
    let jwks = json!({"keys": [rsa_public.clone()]}).to_string();
    let secret = rsa_public["n"].as_str().unwrap().as_bytes().to_vec();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = rsa_public["kid"].as_str().map(str::to_owned);
    let claims =
        json!({"iss": "sp", "sub": "sp", "aud": "https://hub.example/token", "jti": "1", "exp": 4_000_000_000u64});
    let forged = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&secret)).unwrap();
    let result = verify_client_assertion(&forged, &jwks, "sp", &["https://hub.example/token".into()]);
    assert!(matches!(result, Err(JoseError::InvalidToken(message)) if message.contains("not accepted")));
}

#[test]
fn a_client_assertion_signed_by_the_client_key_verifies() {
    let client = HubKeys::from_material(vec![KeyMaterial::generate(IdTokenAlgorithm::ES256).unwrap()]).unwrap();
    let jwks = client.jwks(0).to_string();
    let claims =
        json!({"iss": "sp", "sub": "sp", "aud": "https://hub.example/token", "jti": "1", "exp": 4_000_000_000u64});
    let assertion = client.sign(IdTokenAlgorithm::ES256, &claims, 0).unwrap();
    let verified = verify_client_assertion(&assertion, &jwks, "sp", &["https://hub.example/token".into()]).unwrap();
    assert_eq!(verified.jti, "1");
    assert!(verify_client_assertion(&assertion, &jwks, "sp", &["https://other.example/token".into()]).is_err());
    assert!(verify_client_assertion(&assertion, &jwks, "another-sp", &["https://hub.example/token".into()]).is_err());
    let other = keys().sign(IdTokenAlgorithm::ES256, &claims, 0).unwrap();
    assert!(verify_client_assertion(&other, &jwks, "sp", &["https://hub.example/token".into()]).is_err());
}

#[test]
fn a_new_key_is_published_before_it_signs_and_an_old_one_until_it_retires() {
    let mut old = KeyMaterial::generate(IdTokenAlgorithm::ES256).unwrap();
    old.retire_at = Some(2_000);
    let mut new = KeyMaterial::generate(IdTokenAlgorithm::ES256).unwrap();
    new.not_before = 1_000;
    let (old_kid, new_kid) = (old.kid.clone(), new.kid.clone());
    let keys = HubKeys::from_material(vec![old, new]).unwrap();
    let kid_of = |token: &str| jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let published = |now| {
        keys.jwks(now)["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(published(500), [old_kid.clone(), new_kid.clone()]);
    assert_eq!(kid_of(&keys.sign(IdTokenAlgorithm::ES256, &claims(), 500).unwrap()), old_kid);
    assert_eq!(kid_of(&keys.sign(IdTokenAlgorithm::ES256, &claims(), 1_000).unwrap()), new_kid);
    assert_eq!(published(2_000), [new_kid]);
}
