//! Loading the hub's signing keys from their store, generating the missing ones on first start.

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

fn algorithm_name(alg: IdTokenAlgorithm) -> &'static str {
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

/// The stored keys, with a key generated and persisted for each algorithm in `needed` that has
/// none yet.
pub async fn load_or_generate(
    store: &dyn KeyStore,
    needed: &[IdTokenAlgorithm],
    now: u64,
) -> Result<HubKeys, KeySetupError> {
    let mut stored = store.load().await?;
    let mut generated = false;
    for &alg in needed {
        if !stored.iter().any(|key| key.alg == algorithm_name(alg)) {
            let material = KeyMaterial::generate(alg)?;
            tracing::info!(kid = %material.kid, alg = algorithm_name(alg), "generated a signing key");
            stored.push(StoredSigningKey {
                kid: material.kid,
                alg: algorithm_name(alg).to_owned(),
                private_pem: material.private_pem,
                created_at: now,
            });
            generated = true;
        }
    }
    if generated {
        store.save(&stored).await?;
    }
    let materials = stored
        .into_iter()
        .map(|key| Ok(KeyMaterial { alg: algorithm_of(&key.alg)?, kid: key.kid, private_pem: key.private_pem }))
        .collect::<Result<Vec<_>, JoseError>>()?;
    Ok(HubKeys::from_material(materials)?)
}
