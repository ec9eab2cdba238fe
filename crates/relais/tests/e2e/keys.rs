//! The hub's signing keys: generated on first start, persisted, reused on the next start.

use std::sync::Arc;

use relais::config::Config;
use relais::demo::demo_config_toml;
use relais_domain::{ManualClock, UnixTime};
use relais_store::{FileKeyStore, KeyStore};

#[tokio::test]
async fn keys_are_generated_on_first_start_persisted_privately_and_reused() {
    let dir = std::env::temp_dir().join(format!("relais-keys-test-{}", relais_oidc::random::random_token()));
    let config = Config::from_toml(&demo_config_toml(8000, &dir), &|_| None).unwrap();
    let store = FileKeyStore::new(dir.join("signing-keys.json"));
    assert!(store.load().await.unwrap().is_empty());

    let clock = Arc::new(ManualClock::new(UnixTime(1_700_000_000)));
    let first = relais::launch::assemble(&config, &store, clock.clone()).await.unwrap();
    let stored = store.load().await.unwrap();
    assert_eq!(stored.iter().map(|k| k.alg.as_str()).collect::<Vec<_>>(), ["RS256", "ES256"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("signing-keys.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "private key file readable by others: {mode:o}");
    }
    drop(first);
    relais::launch::assemble(&config, &store, clock).await.unwrap();
    let again = store.load().await.unwrap();
    let kids = |keys: &[relais_store::StoredSigningKey]| keys.iter().map(|k| k.kid.clone()).collect::<Vec<_>>();
    assert_eq!(kids(&again), kids(&stored), "the same keys after a restart");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_demo_configuration_is_valid() {
    let config = Config::from_toml(&demo_config_toml(8000, std::path::Path::new("/tmp/x")), &|_| None).unwrap();
    assert_eq!(config.identity_providers.len(), 3);
    assert_eq!(config.service_providers.len(), 1);
}
