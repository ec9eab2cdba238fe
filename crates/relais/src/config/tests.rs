#![allow(clippy::unwrap_used)]
use super::*;
use relais_domain::providers::ClientAuthentication;
use relais_domain::{EidasLevel, IdpPolicy};

const VALID: &str = r#"
[hub]
issuer = "http://localhost:8000"
pairwise_secret = "0123456789abcdef0123456789abcdef"

[[identity_providers]]
id = "impots"
display_name = "Impôts"
issuer = "http://localhost:8002"
client_id = "relais"
client_secret = "s"
eidas_level = "eidas2"

[[service_providers]]
client_id = "mairie"
name = "Mairie"
client_secret = "secret-for-tests-0123456789abcdef0123"
redirect_uris = ["http://localhost:8001/callback"]
scopes = ["openid", "identite_pivot"]
allowed_idps = ["impots"]
"#;

fn no_env(_: &str) -> Option<String> {
    None
}

fn message(text: &str) -> String {
    match Config::from_toml(text, &no_env) {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_valid_file_loads_with_defaults() {
    let config = Config::from_toml(VALID, &no_env).unwrap();
    assert_eq!(config.settings.code_lifetime, 60);
    assert_eq!(config.settings.access_token_lifetime, 300);
    assert_eq!(config.service_providers[0].idp_policy, IdpPolicy::AllowOnly(vec![IdpId::new("impots")]));
    assert_eq!(config.identity_providers[0].level, EidasLevel::Substantial);
}

#[test]
fn errors_name_the_field() {
    assert!(message(&VALID.replace("[hub]", "[hub]\nlisten_port = 3")).contains("unknown field `listen_port`"));
    assert!(message(&VALID.replace("eidas2", "eidas9")).contains("identity_providers[0].eidas_level"));
    assert!(message(&VALID.replace("client_secret = \"secret-for-tests-0123456789abcdef0123\"\n", ""))
        .contains("service_providers[0].client_secret"));
    assert!(message(&VALID.replace("\"impots\"]", "\"ameli\"]")).contains("service_providers[0].allowed_idps"));
    assert!(message(&VALID.replace("\"openid\", \"identite_pivot\"", "\"openid\", \"telepathy\""))
        .contains("service_providers[0].scopes"));
    assert!(message(&VALID.replace("http://localhost:8000", "http://relais.example")).contains("hub.issuer"));
    assert!(message(&VALID.replace("0123456789abcdef0123456789abcdef", "short")).contains("hub.pairwise_secret"));
    assert!(message(&VALID.replace("[hub]", "[hub]\ncode_lifetime = 600")).contains("hub.code_lifetime"));
    assert!(
        message(&VALID.replace("http://localhost:8002", "http://idp.example")).contains("identity_providers[0].issuer")
    );
    assert!(message(&VALID.replace("client_secret = \"s\"", "client_secret = \"\""))
        .contains("identity_providers[0].client_secret"));
    assert!(message(&VALID.replace("secret-for-tests-0123456789abcdef0123", "short")).contains("at least 32"));
    assert!(message(&VALID.replace("http://localhost:8001/callback", "http://sp.example/callback"))
        .contains("redirect_uris"));
    assert!(message(&VALID.replace("id = \"impots\"", "id = \"imp/ots\"")).contains("identity_providers[0].id"));
}

#[test]
fn the_environment_overrides_secrets() {
    let env = |name: &str| {
        (name == "RELAIS_SP_MAIRIE_CLIENT_SECRET").then(|| "from-env-0123456789abcdef0123456789".to_owned())
    };
    let config = Config::from_toml(VALID, &env).unwrap();
    match &config.service_providers[0].authentication {
        ClientAuthentication::SecretBasic(secret) => {
            assert!(secret.matches("mairie", "from-env-0123456789abcdef0123456789"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn what_the_derived_key_sealed_still_opens_once_a_key_is_configured() {
    let derived = Config::from_toml(VALID, &no_env).unwrap();
    let sealed = derived.storage.key_encryption.seal_text("signing_key:k1", "pem").unwrap();
    let key = relais_store::SealingKey::generate_text("kek1");
    let configured =
        Config::from_toml(&format!("{VALID}\n[storage]\nkey_encryption_keys = [\"{key}\"]\n"), &no_env).unwrap();
    assert_eq!(configured.storage.key_encryption.current_id(), "kek1", "the configured key seals");
    assert!(!configured.storage.key_encryption_derived);
    assert_eq!(configured.storage.key_encryption.open_text("signing_key:k1", &sealed).unwrap(), "pem");
}
