//! The SQL store: the registry and the signing keys in SQLite (the one-machine default, a file
//! created on first start) or PostgreSQL (many nodes), through one implementation on
//! `sqlx::Any` with portable SQL and versioned migrations, so no call asks which database it
//! runs on. Registrations are JSON documents keyed by id; nothing about a person is stored.

use std::time::Duration;

use async_trait::async_trait;
use relais_domain::{DataProvider, IdentityProvider, ServiceProvider, SpId};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::keys::{KeyStore, StoredSigningKey};
use crate::registry::Registry;
use crate::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::Unavailable(format!("database: {error}"))
}

fn corrupt(error: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("registry entry: {error}"))
}

/// Where a registration came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The configuration file (reloaded at every start; the file wins).
    Configuration,
    /// Registered at run time (self-service, admin API).
    Registered,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Configuration => "configuration",
            Self::Registered => "registered",
        }
    }
}

/// The registry and keys in a SQL database.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    /// Trace appends of this node one at a time: concurrent SQLite writers would fail to
    /// upgrade their transactions; other nodes' appends are handled by retrying.
    pub(crate) append_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Trace events waiting for the next group commit.
    pub(crate) trace_queue: std::sync::Arc<std::sync::Mutex<Vec<crate::traces::QueuedTrace>>>,
    /// The `(seq, hash)` this node last appended, taken by the next append (none after a failure).
    pub(crate) chain_head: std::sync::Arc<std::sync::Mutex<Option<(u64, String)>>>,
    /// Whether the database is SQLite (else PostgreSQL).
    pub(crate) sqlite: bool,
    /// Trace records appended since the last WAL checkpoint was started (SQLite).
    pub(crate) since_checkpoint: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl SqlStore {
    /// Connects to `url` (`sqlite://path` or `postgres://…`); a SQLite file is created if
    /// missing. The pool reconnects by itself after an outage.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let url = sqlite_creating(url)?;
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 16 })
            // SQLite: write-ahead log, synced at checkpoints rather than at every commit (durable
            // against a crash of the hub, not of the machine: the usual choice for WAL), so that
            // a trace per sign-in does not cost an fsync. Checkpoints are the trace appender's
            // (see `traces.rs`), off the committing connection; the automatic one, which would
            // stall a commit for its fsync, is only a safety net far behind.
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if sqlite {
                        sqlx::Executor::execute(
                            &mut *connection,
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            // A SQLite connection is a file handle, never dropped by a server: no ping before
            // each use (a round trip to its worker thread). PostgreSQL keeps the ping, so that
            // a connection cut by a server restart is replaced instead of failing a request.
            .test_before_acquire(!sqlite)
            .acquire_timeout(Duration::from_secs(3))
            .connect(&url)
            .await
            .map_err(unavailable)?;
        Ok(Self {
            pool,
            append_lock: Default::default(),
            trace_queue: Default::default(),
            chain_head: Default::default(),
            sqlite,
            since_checkpoint: Default::default(),
        })
    }

    /// The `n`th bind parameter of a statement built at run time (from 1, bound in order):
    /// anonymous `?` on SQLite, which looks a named parameter up in a list (quadratic over a
    /// multi-row insert), `$n` on PostgreSQL.
    pub(crate) fn placeholder(&self, n: usize) -> String {
        if self.sqlite {
            "?".to_owned()
        } else {
            format!("${n}")
        }
    }

    /// Applies the migrations not applied yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(|e| StoreError::Unavailable(format!("migration: {e}")))
    }

    /// Adds or replaces a service provider.
    pub async fn upsert_service_provider(
        &self,
        sp: &ServiceProvider,
        source: Source,
        now: u64,
    ) -> Result<(), StoreError> {
        const UPSERT: &str = "INSERT INTO service_providers (client_id, registration, source, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (client_id) DO UPDATE SET registration = excluded.registration, \
             source = excluded.source, updated_at = excluded.updated_at";
        self.upsert_registration(UPSERT, sp.id.as_str(), None, sp, source, now).await
    }

    /// Adds or replaces an identity provider, at `position` on the choice page.
    pub async fn upsert_identity_provider(
        &self,
        idp: &IdentityProvider,
        position: i64,
        source: Source,
        now: u64,
    ) -> Result<(), StoreError> {
        const UPSERT: &str = "INSERT INTO identity_providers (id, position, registration, source, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET position = excluded.position, \
             registration = excluded.registration, source = excluded.source, updated_at = excluded.updated_at";
        self.upsert_registration(UPSERT, idp.id.as_str(), Some(position), idp, source, now).await
    }

    /// Adds or replaces a data provider.
    pub async fn upsert_data_provider(&self, dp: &DataProvider, source: Source, now: u64) -> Result<(), StoreError> {
        const UPSERT: &str = "INSERT INTO data_providers (id, registration, source, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET registration = excluded.registration, \
             source = excluded.source, updated_at = excluded.updated_at";
        self.upsert_registration(UPSERT, dp.id.as_str(), None, dp, source, now).await
    }

    /// Runs an upsert of one registration table; its parameters are, in order: the id, the
    /// position (identity providers only), the registration as JSON, the source, the time.
    async fn upsert_registration<T: serde::Serialize>(
        &self,
        upsert: &str,
        id: &str,
        position: Option<i64>,
        registration: &T,
        source: Source,
        now: u64,
    ) -> Result<(), StoreError> {
        let registration = serde_json::to_string(registration).map_err(corrupt)?;
        let mut query = sqlx::query(upsert).bind(id);
        if let Some(position) = position {
            query = query.bind(position);
        }
        query
            .bind(registration)
            .bind(source.as_str())
            .bind(now as i64)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// The pool, for the stores of later capabilities sharing the database.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// A SQLite URL gets `mode=rwc` (create the file) and its directory is created.
fn sqlite_creating(url: &str) -> Result<String, StoreError> {
    let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        return Ok(url.to_owned());
    };
    let file = path.split('?').next().unwrap_or_default();
    if !file.is_empty() && file != ":memory:" {
        if let Some(parent) = std::path::Path::new(file).parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", parent.display())))?;
        }
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

fn registration<T: serde::de::DeserializeOwned>(row: &AnyRow) -> Result<T, StoreError> {
    let text: String = row.try_get("registration").map_err(unavailable)?;
    serde_json::from_str(&text).map_err(corrupt)
}

#[async_trait]
impl Registry for SqlStore {
    async fn service_provider(&self, id: &SpId) -> Result<Option<ServiceProvider>, StoreError> {
        let row = sqlx::query("SELECT registration FROM service_providers WHERE client_id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(registration).transpose()
    }

    async fn identity_providers(&self) -> Result<Vec<IdentityProvider>, StoreError> {
        let rows = sqlx::query("SELECT registration FROM identity_providers ORDER BY position, id")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(registration).collect()
    }

    async fn data_providers(&self) -> Result<Vec<DataProvider>, StoreError> {
        let rows = sqlx::query("SELECT registration FROM data_providers ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(registration).collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(unavailable)
    }
}

fn signing_key(row: &AnyRow) -> Result<StoredSigningKey, StoreError> {
    let retire_at: Option<i64> = row.try_get("retire_at").map_err(unavailable)?;
    Ok(StoredSigningKey {
        kid: row.try_get("kid").map_err(unavailable)?,
        alg: row.try_get("alg").map_err(unavailable)?,
        private_pem: row.try_get("private_pem").map_err(unavailable)?,
        created_at: row.try_get::<i64, _>("created_at").map_err(unavailable)?.max(0) as u64,
        not_before: row.try_get::<i64, _>("not_before").map_err(unavailable)?.max(0) as u64,
        retire_at: retire_at.map(|t| t.max(0) as u64),
    })
}

#[async_trait]
impl KeyStore for SqlStore {
    async fn load(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, alg, private_pem, created_at, not_before, retire_at FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(signing_key).collect()
    }

    async fn add(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_pem, created_at, not_before, retire_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.kid)
        .bind(&key.alg)
        .bind(&key.private_pem)
        .bind(key.created_at as i64)
        .bind(key.not_before as i64)
        .bind(key.retire_at.map(|t| t as i64))
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn retire(&self, kid: &str, retire_at: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE signing_keys SET retire_at = $1 WHERE kid = $2")
            .bind(retire_at as i64)
            .bind(kid)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn remove_retired(&self, now: u64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM signing_keys WHERE retire_at IS NOT NULL AND retire_at < $1")
            .bind(now as i64)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}
