//! The `[storage]` section: where the registry and the ephemeral state live.

use serde::{Deserialize, Serialize};

use super::{error, ConfigError, Env};

/// `[storage]`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// `sqlite://…` or `postgres://…`; default: `sqlite://<data_dir>/relais.db`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `memory` or `redis://…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ephemeral_url: Option<String>,
    /// `id:base64` keys encrypting ephemeral entries; the first encrypts.
    #[serde(default)]
    pub ephemeral_encryption_keys: Vec<String>,
    /// Prefix of every Redis key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_key_prefix: Option<String>,
    /// `id:base64` keys sealing the hub's secrets in the registry (its private signing keys,
    /// its client secrets at identity providers); the first seals, all open. Default: one key
    /// derived from `hub.pairwise_secret`.
    #[serde(default)]
    pub key_encryption_keys: Vec<String>,
    /// A file holding those keys, one per line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_encryption_keys_file: Option<std::path::PathBuf>,
}

/// Where the ephemeral state lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EphemeralBackend {
    /// In the process.
    Memory,
    /// In Redis.
    Redis {
        /// `redis://…`
        url: String,
        /// Prefix of every key.
        prefix: String,
    },
}

/// The storage configuration, checked.
#[derive(Clone, Debug)]
pub struct StorageConfig {
    /// The registry database.
    pub database_url: String,
    /// The ephemeral store.
    pub ephemeral: EphemeralBackend,
    /// The encryption keys of ephemeral entries (required with Redis).
    pub ephemeral_keys: Vec<relais_store::EphemeralKey>,
    /// The keys sealing the hub's secrets at rest in the registry.
    pub key_encryption: relais_store::KeyRing,
    /// Whether those keys are derived from the pairwise secret (none configured).
    pub key_encryption_derived: bool,
}

/// The id of the key-encryption key derived from the pairwise secret when none is configured.
pub const DERIVED_KEY_ID: &str = "derived-from-pairwise-secret";

fn configured_keys(
    list: Option<String>,
    inline: Vec<String>,
    file: Option<&std::path::Path>,
) -> Result<Vec<String>, ConfigError> {
    let split = |text: &str, separator: char| -> Vec<String> {
        text.split(separator).map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect()
    };
    if let Some(list) = list {
        return Ok(split(&list, ','));
    }
    match (inline.is_empty(), file) {
        (_, None) => Ok(inline),
        (true, Some(path)) => std::fs::read_to_string(path)
            .map(|text| split(&text, '\n'))
            .map_err(|e| error("storage.key_encryption_keys_file", format!("cannot read {}: {e}", path.display()))),
        (false, Some(_)) => {
            Err(error("storage.key_encryption_keys", "give key_encryption_keys or key_encryption_keys_file, not both"))
        }
    }
}

fn parse_keys(field: &str, texts: &[String]) -> Result<Vec<relais_store::SealingKey>, ConfigError> {
    texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            relais_store::SealingKey::parse(text).map_err(|message| error(format!("{field}[{index}]"), message))
        })
        .collect()
}

fn key_ring(
    field: &str,
    texts: &[String],
    derived_from: Option<&relais_domain::Secret>,
) -> Result<(relais_store::KeyRing, bool), ConfigError> {
    let mut keys = parse_keys(field, texts)?;
    let derived = keys.is_empty();
    // The derived key always comes last: it seals only when no key is configured, and still
    // opens what it sealed before one was (moving to a configured key needs no migration).
    if let Some(secret) = derived_from {
        keys.push(relais_store::SealingKey::derive(DERIVED_KEY_ID, "key-encryption", secret.expose()));
    }
    let ring = relais_store::KeyRing::new(keys).map_err(|e| error(field, e.to_string()))?;
    Ok((ring, derived))
}

pub(super) fn storage(
    section: StorageSection,
    data_dir: &std::path::Path,
    pairwise_secret: &relais_domain::Secret,
    env: Env,
) -> Result<StorageConfig, ConfigError> {
    let database_url = env("RELAIS_DATABASE_URL")
        .or(section.database_url)
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("relais.db").display()));
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres://")
        || database_url.starts_with("postgresql://"))
    {
        return Err(error("storage.database_url", "must start with sqlite: or postgres://"));
    }
    let ephemeral_url = env("RELAIS_EPHEMERAL_URL").or(section.ephemeral_url).unwrap_or_else(|| "memory".into());
    let ephemeral = match ephemeral_url.as_str() {
        "memory" => EphemeralBackend::Memory,
        url if url.starts_with("redis://") || url.starts_with("rediss://") => EphemeralBackend::Redis {
            url: url.to_owned(),
            prefix: section.redis_key_prefix.unwrap_or_else(|| "relais:".into()),
        },
        _ => return Err(error("storage.ephemeral_url", "must be `memory` or a redis:// URL")),
    };
    let key_texts = configured_keys(env("RELAIS_EPHEMERAL_ENCRYPTION_KEYS"), section.ephemeral_encryption_keys, None)?;
    let ephemeral_keys = parse_keys("storage.ephemeral_encryption_keys", &key_texts)?;
    if matches!(ephemeral, EphemeralBackend::Redis { .. }) && ephemeral_keys.is_empty() {
        return Err(error(
            "storage.ephemeral_encryption_keys",
            "is required with Redis: sessions hold identities and are encrypted before they leave the hub \
             (generate one with `relais keys ephemeral-key`)",
        ));
    }
    let texts = configured_keys(
        env("RELAIS_KEY_ENCRYPTION_KEYS"),
        section.key_encryption_keys,
        section.key_encryption_keys_file.as_deref(),
    )?;
    let (key_encryption, key_encryption_derived) =
        key_ring("storage.key_encryption_keys", &texts, Some(pairwise_secret))?;
    Ok(StorageConfig { database_url, ephemeral, ephemeral_keys, key_encryption, key_encryption_derived })
}
