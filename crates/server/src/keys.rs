//! The hub's signing keys over their life: generated on first start, loaded by every node (and
//! reloaded periodically, so a rotation reaches all nodes), rotated without downtime.

use relais_domain::providers::IdTokenAlgorithm;
use relais_oidc::jose::{HubKeys, JoseError, KeyMaterial};
use relais_store::{KeyStore, StoreError, StoredSigningKey};

/// Why the keys could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum KeySetupError {
    /// The key store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Key material is invalid or could not be generated.
    #[error(transparent)]
    Jose(#[from] JoseError),
}

/// The algorithms the hub signs with: RS256 (every client library's default) and ES256.
pub const SIGNING_ALGORITHMS: [IdTokenAlgorithm; 2] = [IdTokenAlgorithm::RS256, IdTokenAlgorithm::ES256];

/// How long the keys a rotation replaces stay published once the new ones sign: the longest
/// token lifetime `token_lifetime`, plus the five minutes verifiers may cache the JWKS.
pub fn keep_replaced_for(token_lifetime: u64) -> u64 {
    token_lifetime + 300
}

/// The name of an algorithm as stored.
pub fn algorithm_name(alg: IdTokenAlgorithm) -> &'static str {
    match alg {
        IdTokenAlgorithm::ES256 => "ES256",
        IdTokenAlgorithm::RS256 => "RS256",
    }
}

fn algorithm_of(name: &str) -> Result<IdTokenAlgorithm, JoseError> {
    match name {
        "ES256" => Ok(IdTokenAlgorithm::ES256),
        "RS256" => Ok(IdTokenAlgorithm::RS256),
        other => Err(JoseError::Key(format!("unsupported stored key algorithm {other}"))),
    }
}

fn stored(material: KeyMaterial, created_at: u64) -> StoredSigningKey {
    StoredSigningKey {
        kid: material.kid,
        alg: algorithm_name(material.alg).to_owned(),
        private_pem: material.private_pem,
        created_at,
        not_before: material.not_before,
        retire_at: material.retire_at,
    }
}

/// The keys in the store, as the hub uses them.
pub async fn load(store: &dyn KeyStore) -> Result<HubKeys, KeySetupError> {
    let materials = store
        .load()
        .await?
        .into_iter()
        .map(|key| {
            Ok(KeyMaterial {
                alg: algorithm_of(&key.alg)?,
                kid: key.kid,
                private_pem: key.private_pem,
                not_before: key.not_before,
                retire_at: key.retire_at,
            })
        })
        .collect::<Result<Vec<_>, JoseError>>()?;
    Ok(HubKeys::from_material(materials)?)
}

/// The stored keys, after removing retired ones and generating a key, signing at once, for each
/// algorithm in `needed` that has none.
pub async fn load_or_generate(
    store: &dyn KeyStore,
    needed: &[IdTokenAlgorithm],
    now: u64,
) -> Result<HubKeys, KeySetupError> {
    store.remove_retired(now).await?;
    let existing = store.load().await?;
    for &alg in needed {
        if !existing.iter().any(|key| key.alg == algorithm_name(alg)) {
            let mut material = KeyMaterial::generate(alg)?;
            material.not_before = now;
            tracing::info!(kid = %material.kid, alg = algorithm_name(alg), "generated a signing key");
            store.add(&stored(material, now)).await?;
        }
    }
    load(store).await
}

/// Rotates the keys of `algorithms`: a new key is published now and signs from
/// `now + publish_for` (once every verifier has refreshed its copy of the JWKS); the keys it
/// replaces stay published until `keep_for` seconds after that (the longest token lifetime).
/// Returns the new keys' ids.
pub async fn rotate(
    store: &dyn KeyStore,
    algorithms: &[IdTokenAlgorithm],
    now: u64,
    publish_for: u64,
    keep_for: u64,
) -> Result<Vec<String>, KeySetupError> {
    let existing = store.load().await?;
    let mut added = Vec::new();
    for &alg in algorithms {
        let mut material = KeyMaterial::generate(alg)?;
        material.not_before = now + publish_for;
        for old in existing.iter().filter(|key| key.alg == algorithm_name(alg) && key.retire_at.is_none()) {
            store.retire(&old.kid, now + publish_for + keep_for).await?;
        }
        added.push(material.kid.clone());
        store.add(&stored(material, now)).await?;
    }
    Ok(added)
}
