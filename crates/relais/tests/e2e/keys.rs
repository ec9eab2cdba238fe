//! The hub's signing keys: generated on first start, kept in the registry database, reused on
//! the next start, rotated without downtime.

use std::sync::Arc;

use openidconnect::AuthType;
use relais::config::Config;
use relais::demo::demo_config_toml;
use relais_domain::{ManualClock, UnixTime};
use relais_store::KeyStore;
use serde_json::Value;

use crate::harness::*;

#[tokio::test]
async fn keys_are_generated_on_first_start_kept_in_the_database_and_reused() {
    let dir = std::env::temp_dir().join(format!("relais-keys-test-{}", relais_oidc::random::random_token()));
    let config = Config::from_toml(&demo_config_toml(8000, &dir).unwrap(), &|_| None).unwrap();
    let clock = Arc::new(ManualClock::new(UnixTime(1_700_000_000)));
    relais::launch::assemble(&config, clock.clone()).await.unwrap();
    let sql = relais::launch::open_database(&config).await.unwrap();
    let stored = sql.load().await.unwrap();
    let mut algorithms: Vec<&str> = stored.iter().map(|k| k.alg.as_str()).collect();
    algorithms.sort();
    assert_eq!(algorithms, ["ES256", "RS256"]);

    relais::launch::assemble(&config, clock).await.unwrap();
    let kids = |keys: &[relais_store::StoredSigningKey]| keys.iter().map(|k| k.kid.clone()).collect::<Vec<_>>();
    assert_eq!(kids(&sql.load().await.unwrap()), kids(&stored), "the same keys after a restart");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_demo_configuration_is_valid() {
    let config =
        Config::from_toml(&demo_config_toml(8000, std::path::Path::new("/tmp/x")).unwrap(), &|_| None).unwrap();
    let profiles = |profile| config.identity_providers.iter().filter(|idp| idp.profile == profile).count();
    assert_eq!((profiles(relais_domain::Profile::Citizen), profiles(relais_domain::Profile::Agent)), (3, 2));
    assert_eq!(
        config.service_providers.len(),
        6,
        "the citizens' demo service, the agents' back-office and the four administrations told of a move"
    );
    assert_eq!(config.webhooks.len(), 4, "each administration subscribed to changes of address");
    assert!(config.settings.address_base.is_some());
    assert_eq!(config.habilitations.len(), 1);
    assert!(config.settings.organisation_registry.is_some());
}

/// Verifies `token` with the key of its `kid` in the JWKS the hub publishes now.
async fn verifies_with_published_jwks(platform: &Platform, token: &str) -> bool {
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(platform.url("/jwks")).await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let Some(jwk) = jwks.find(header.kid.as_deref().unwrap()) else { return false };
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(), &validation).is_ok()
}

#[tokio::test]
async fn a_rotation_publishes_the_new_key_before_it_signs_and_keeps_the_old_one_until_its_tokens_expire() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let before = sign_in(&platform, &Browser::new(), &sp, &["openid"], "impots", 0).await;
    let old_kid = jsonwebtoken::decode_header(&before.id_token).unwrap().kid.unwrap();

    let sql = relais::launch::open_database(&platform.config()).await.unwrap();
    let now = platform.clock.now_secs();
    let new_kids = relais_server::keys::rotate(&sql, &relais::launch::SIGNING_ALGORITHMS, now, 600, 600).await.unwrap();
    platform.state.reload_keys().await.unwrap();
    let published: jsonwebtoken::jwk::JwkSet = reqwest::get(platform.url("/jwks")).await.unwrap().json().await.unwrap();
    assert_eq!(published.keys.len(), 4, "old and new keys published");
    assert!(new_kids.iter().all(|kid| published.find(kid).is_some()));

    let still_old = sign_in(&platform, &Browser::new(), &sp, &["openid"], "impots", 0).await;
    assert_eq!(
        jsonwebtoken::decode_header(&still_old.id_token).unwrap().kid.unwrap(),
        old_kid,
        "not signing before its time"
    );

    platform.clock.advance(600);
    platform.state.reload_keys().await.unwrap();
    // The SP refreshed its copy of the JWKS during the publication delay.
    let sp = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let after = sign_in(&platform, &Browser::new(), &sp, &["openid"], "impots", 0).await;
    let new_kid = jsonwebtoken::decode_header(&after.id_token).unwrap().kid.unwrap();
    assert!(new_kids.contains(&new_kid), "the new key signs new tokens");
    assert!(verifies_with_published_jwks(&platform, &before.id_token).await, "a token from before still verifies");
    assert!(verifies_with_published_jwks(&platform, &after.id_token).await);

    platform.clock.advance(601);
    platform.state.reload_keys().await.unwrap();
    assert!(!verifies_with_published_jwks(&platform, &before.id_token).await, "the old key is retired");
    assert!(verifies_with_published_jwks(&platform, &after.id_token).await);
}
