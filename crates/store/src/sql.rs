//! The SQL store: the registry and the signing keys in SQLite (the one-machine default, a file
//! created on first start) or PostgreSQL (many nodes), through one implementation on
//! `sqlx::Any` with portable SQL and versioned migrations, so no call asks which database it
//! runs on. Registrations are versioned JSON records keyed by id (`records.rs`): partners'
//! secrets as digests, the hub's own secrets and private keys sealed with the key-encryption
//! keys; nothing about a person is stored. A SQLite file is created readable by its owner only,
//! and deleted content is overwritten (`secure_delete`).

use std::time::Duration;

use async_trait::async_trait;
use relais_domain::agent::Habilitation;
use relais_domain::{DataProvider, DpId, IdentityProvider, ServiceProvider, SpId};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::keys::{KeyStore, StoredSigningKey};
use crate::records;
use crate::registry::{with_grants, DataGrant, Registry, Source};
use crate::sealing::{is_sealed_text, KeyRing};
use crate::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub(crate) fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::Unavailable(format!("database: {error}"))
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
    /// Told the size of every batch committed to the trace chain (the metrics).
    pub(crate) batch_observer: std::sync::Arc<std::sync::OnceLock<BatchObserver>>,
    /// The key-encryption keys sealing the hub's secrets at rest (none: they cannot be read or
    /// written, and the store says so).
    sealing: Option<KeyRing>,
}

/// What is told the number of records of each trace batch committed.
pub type BatchObserver = Box<dyn Fn(usize) + Send + Sync>;

impl SqlStore {
    /// Tells `observer` the size of every trace batch committed from now on (once per store and
    /// its clones; later calls are ignored).
    pub fn observe_trace_batches(&self, observer: BatchObserver) {
        let _ = self.batch_observer.set(observer);
    }

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
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000; \
                             PRAGMA secure_delete = ON;",
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
            batch_observer: Default::default(),
            trace_queue: Default::default(),
            chain_head: Default::default(),
            sqlite,
            since_checkpoint: Default::default(),
            sealing: None,
        })
    }

    /// The same store without its sealing keys (for tools that read traces only).
    pub fn without_sealing(&self) -> Self {
        Self { sealing: None, ..self.clone() }
    }

    /// The same store, sealing the hub's secrets at rest with `ring` (its first key seals,
    /// every key opens).
    pub fn with_sealing(mut self, ring: KeyRing) -> Self {
        self.sealing = Some(ring);
        self
    }

    pub(crate) fn ring(&self) -> Result<&KeyRing, StoreError> {
        self.sealing.as_ref().ok_or_else(|| StoreError::Unavailable("no key-encryption key configured".into()))
    }

    /// Seals the signing keys still stored in clear by an earlier version (at start, before any
    /// other node reads them); how many. With `secure_delete`, SQLite overwrites the clear
    /// text; PostgreSQL leaves it to its vacuum.
    pub async fn seal_legacy_keys(&self) -> Result<usize, StoreError> {
        let rows = sqlx::query("SELECT kid, private_pem FROM signing_keys")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let mut sealed = 0;
        for row in rows {
            let kid: String = row.try_get("kid").map_err(unavailable)?;
            let pem: String = row.try_get("private_pem").map_err(unavailable)?;
            if is_sealed_text(&pem) {
                continue;
            }
            let text = self.ring()?.seal_text(&key_context(&kid), &pem)?;
            sqlx::query("UPDATE signing_keys SET private_pem = $1 WHERE kid = $2 AND private_pem = $3")
                .bind(text)
                .bind(&kid)
                .bind(&pem)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
            sealed += 1;
        }
        Ok(sealed)
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

    /// Runs an upsert of one registration table; its parameters are, in order: the id, the
    /// position (identity providers only), the row, the source, the time.
    pub(crate) async fn upsert_row(
        &self,
        upsert: &str,
        id: &str,
        position: Option<i64>,
        row: String,
        source: Source,
        at: u64,
    ) -> Result<(), StoreError> {
        let mut query = sqlx::query(upsert).bind(id);
        if let Some(position) = position {
            query = query.bind(position);
        }
        query.bind(row).bind(source.as_str()).bind(at as i64).execute(&self.pool).await.map_err(unavailable)?;
        Ok(())
    }

    pub(crate) async fn remove_configured_from(
        &self,
        table: &str,
        column: &str,
        keep: &[&str],
    ) -> Result<u64, StoreError> {
        let rows = sqlx::query(&format!("SELECT {column} FROM {table} WHERE source = $1"))
            .bind(Source::Configuration.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let mut removed = 0;
        for row in rows {
            let id: String = row.try_get(0).map_err(unavailable)?;
            if keep.contains(&id.as_str()) {
                continue;
            }
            let done = sqlx::query(&format!("DELETE FROM {table} WHERE {column} = $1 AND source = $2"))
                .bind(&id)
                .bind(Source::Configuration.as_str())
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
            removed += done.rows_affected();
        }
        Ok(removed)
    }

    /// The pool, for the stores of later capabilities sharing the database.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// A SQLite URL gets `mode=rwc` (create the file) and its directory is created; a new file is
/// created readable and writable by its owner only (SQLite gives its write-ahead log and shared
/// memory files the same mode), an existing one is made so.
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
        owner_only(std::path::Path::new(file))?;
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// Creates `file` with mode 0600 if it does not exist, and sets that mode if it does. An
/// existing file is never opened here: closing a descriptor of a database file releases every
/// POSIX lock the process holds on it, SQLite's included (this process may have it open).
fn owner_only(file: &std::path::Path) -> Result<(), StoreError> {
    let failed = |e: std::io::Error| StoreError::Unavailable(format!("{}: {e}", file.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if file.exists() {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).map_err(failed)?;
        } else {
            match std::fs::OpenOptions::new().create_new(true).write(true).mode(0o600).open(file) {
                Ok(_) => {}
                // Created meanwhile by another process starting on the same file.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(failed(e)),
            }
        }
    }
    #[cfg(not(unix))]
    if !file.exists() {
        std::fs::File::create(file).map_err(failed)?;
    }
    Ok(())
}

fn registration(row: &AnyRow) -> Result<String, StoreError> {
    row.try_get("registration").map_err(unavailable)
}

fn key_context(kid: &str) -> String {
    format!("signing_key:{kid}")
}

#[async_trait]
impl Registry for SqlStore {
    async fn service_providers(&self) -> Result<Vec<ServiceProvider>, StoreError> {
        let rows = sqlx::query("SELECT registration FROM service_providers ORDER BY client_id")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|row| records::service_provider(&registration(row)?)).collect()
    }

    async fn service_provider(&self, id: &SpId) -> Result<Option<ServiceProvider>, StoreError> {
        let row = sqlx::query("SELECT registration FROM service_providers WHERE client_id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(|row| records::service_provider(&registration(row)?)).transpose()
    }

    async fn identity_providers(&self) -> Result<Vec<IdentityProvider>, StoreError> {
        let rows = sqlx::query("SELECT registration FROM identity_providers ORDER BY position, id")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let ring = self.ring()?;
        rows.iter().map(|row| records::identity_provider(&registration(row)?, ring)).collect()
    }

    async fn data_providers(&self) -> Result<Vec<DataProvider>, StoreError> {
        let rows = sqlx::query("SELECT registration FROM data_providers ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let providers = rows.iter().map(|row| records::data_provider(&registration(row)?)).collect::<Result<_, _>>()?;
        let grants = sqlx::query("SELECT sp, dp, scopes FROM data_grants ORDER BY sp, dp")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|row| {
                let scopes: String = row.try_get("scopes").map_err(unavailable)?;
                Ok(DataGrant {
                    sp: SpId::new(row.try_get::<String, _>("sp").map_err(unavailable)?),
                    dp: DpId::new(row.try_get::<String, _>("dp").map_err(unavailable)?),
                    scopes: scopes.split_ascii_whitespace().map(str::to_owned).collect(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(with_grants(providers, &grants))
    }

    async fn habilitations(&self) -> Result<Vec<Habilitation>, StoreError> {
        let rows = sqlx::query("SELECT registration FROM habilitations ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|row| records::habilitation(&registration(row)?)).collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(unavailable)
    }
}

fn signing_key(row: &AnyRow, ring: &KeyRing) -> Result<StoredSigningKey, StoreError> {
    let retire_at: Option<i64> = row.try_get("retire_at").map_err(unavailable)?;
    let kid: String = row.try_get("kid").map_err(unavailable)?;
    let stored: String = row.try_get("private_pem").map_err(unavailable)?;
    // A key of an earlier version, in clear until `seal_legacy_keys` runs.
    let private_pem = if is_sealed_text(&stored) { ring.open_text(&key_context(&kid), &stored)? } else { stored };
    Ok(StoredSigningKey {
        kid,
        alg: row.try_get("alg").map_err(unavailable)?,
        private_pem,
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
        let ring = self.ring()?;
        rows.iter().map(|row| signing_key(row, ring)).collect()
    }

    async fn add(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_pem, created_at, not_before, retire_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.kid)
        .bind(&key.alg)
        .bind(self.ring()?.seal_text(&key_context(&key.kid), &key.private_pem)?)
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
