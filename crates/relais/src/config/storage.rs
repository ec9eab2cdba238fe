//! The `[storage]` section: where the registry and the ephemeral state live.

use serde::Deserialize;

use super::{error, ConfigError, Env};

/// `[storage]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// `sqlite://…` or `postgres://…`; default: `sqlite://<data_dir>/relais.db`.
    pub database_url: Option<String>,
    /// `memory` or `redis://…`.
    pub ephemeral_url: Option<String>,
    /// `id:base64` keys encrypting ephemeral entries; the first encrypts.
    #[serde(default)]
    pub ephemeral_encryption_keys: Vec<String>,
    /// Prefix of every Redis key.
    pub redis_key_prefix: Option<String>,
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
}

pub(super) fn storage(
    section: StorageSection,
    data_dir: &std::path::Path,
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
    let key_texts = match env("RELAIS_EPHEMERAL_ENCRYPTION_KEYS") {
        Some(list) => list.split(',').map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect(),
        None => section.ephemeral_encryption_keys,
    };
    let ephemeral_keys = key_texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            relais_store::EphemeralKey::parse(text)
                .map_err(|message| error(format!("storage.ephemeral_encryption_keys[{index}]"), message))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if matches!(ephemeral, EphemeralBackend::Redis { .. }) && ephemeral_keys.is_empty() {
        return Err(error(
            "storage.ephemeral_encryption_keys",
            "is required with Redis: sessions hold identities and are encrypted before they leave the hub \
             (generate one with `relais keys ephemeral-key`)",
        ));
    }
    Ok(StorageConfig { database_url, ephemeral, ephemeral_keys })
}
