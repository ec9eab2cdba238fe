//! Traces and the person's preferences: the traits, and their SQL implementation (append-only
//! records chained by hashes; preferences keyed by the person's keyed hash).

use async_trait::async_trait;
use std::collections::BTreeMap;

use relais_domain::catalogue::{Availability, Figures};
use relais_domain::preferences::Preferences;
use relais_domain::trace::{chain_hash, TraceEvent, TraceKind, TraceRecord, GENESIS_HASH};
use relais_domain::{IdpId, UnixTime};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::sql::SqlStore;
use crate::StoreError;

/// Where traces are recorded.
#[async_trait]
pub trait TraceStore: Send + Sync + 'static {
    /// Appends an event at the end of the chain.
    async fn append(&self, event: &TraceEvent) -> Result<TraceRecord, StoreError>;
    /// The most recent records of one person, newest first.
    async fn for_person(&self, person: &str, limit: u32) -> Result<Vec<TraceRecord>, StoreError>;
    /// Every record, in order (for verification).
    async fn all(&self) -> Result<Vec<TraceRecord>, StoreError>;
    /// The newest record.
    async fn last(&self) -> Result<Option<TraceRecord>, StoreError>;
    /// The record at `seq`.
    async fn at(&self, seq: u64) -> Result<Option<TraceRecord>, StoreError>;
    /// The catalogue's figures of each data provider from `since` on, counted as
    /// [`relais_domain::catalogue::figures`] counts them.
    async fn transfer_figures(&self, since: UnixTime) -> Result<BTreeMap<String, Figures>, StoreError>;
    /// Keeps the check of provider `dp` in `minute` (since the epoch), unless one is kept
    /// already (another node's).
    async fn record_check(&self, dp: &str, minute: u64, answered: bool) -> Result<(), StoreError>;
    /// The checks of each provider from `minute` on.
    async fn availability(&self, minute: u64) -> Result<BTreeMap<String, Availability>, StoreError>;
}

/// Where each person's preferences are kept.
#[async_trait]
pub trait PreferenceStore: Send + Sync + 'static {
    /// The person's choices on the accounts that may sign in as them (none: the defaults).
    async fn preferences(&self, person: &str) -> Result<Preferences, StoreError>;
    /// Replaces them.
    async fn set_preferences(&self, person: &str, preferences: &Preferences, now: u64) -> Result<(), StoreError>;
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::Unavailable(format!("database: {error}"))
}

fn record(row: &AnyRow) -> Result<TraceRecord, StoreError> {
    let text = |name: &str| -> Result<Option<String>, StoreError> {
        row.try_get::<Option<String>, _>(name).map_err(unavailable)
    };
    let kind: String = row.try_get("kind").map_err(unavailable)?;
    let scopes: String = row.try_get("scopes").map_err(unavailable)?;
    Ok(TraceRecord {
        seq: row.try_get::<i64, _>("seq").map_err(unavailable)?.max(0) as u64,
        event: TraceEvent {
            at: UnixTime(row.try_get::<i64, _>("at").map_err(unavailable)?.max(0) as u64),
            kind: TraceKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("trace kind `{kind}`")))?,
            person: text("person")?,
            sub: text("sub")?,
            sp: text("sp")?,
            idp: text("idp")?,
            dp: text("dp")?,
            scopes: serde_json::from_str(&scopes).map_err(|e| StoreError::Corrupt(format!("trace scopes: {e}")))?,
            outcome: row.try_get("outcome").map_err(unavailable)?,
            organisation: text("organisation")?,
            habilitation: text("habilitation")?,
            author: text("author")?,
            reference: text("reference")?,
        },
        hash: row.try_get("hash").map_err(unavailable)?,
    })
}

const COLUMNS: &str =
    "seq, at, kind, person, sub, sp, idp, dp, scopes, outcome, organisation, habilitation, author, reference, hash";
const COLUMN_COUNT: usize = 15;
/// Most rows per `INSERT`: 15 parameters each, well under SQLite's 32,766 and PostgreSQL's
/// 65,535.
const ROWS_PER_INSERT: usize = 500;

/// Trace records between two checkpoints of SQLite's write-ahead log (about 2 MB of log).
const CHECKPOINT_EVERY: usize = 1000;

/// How many times an append retries when another node took the same place in the chain.
const APPEND_ATTEMPTS: usize = 20;

/// A value bound to a [`Statement`].
#[derive(Clone, Debug)]
pub(crate) enum Bind {
    Text(Option<String>),
    Int(i64),
}

/// A statement run in the transaction of a trace append.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    pub(crate) sql: &'static str,
    pub(crate) binds: Vec<Bind>,
}

impl Statement {
    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        self.binds.iter().fold(sqlx::query(self.sql), |query, bind| match bind {
            Bind::Text(text) => query.bind(text.clone()),
            Bind::Int(value) => query.bind(*value),
        })
    }
}

/// One event waiting to be appended, and where to send its record.
pub(crate) type QueuedTrace = (TraceEvent, tokio::sync::oneshot::Sender<Result<TraceRecord, StoreError>>);

impl SqlStore {
    /// Appends `events` in order, in one statement (group commit): a failure appends none.
    async fn append_batch(&self, events: &[TraceEvent]) -> Result<Vec<TraceRecord>, StoreError> {
        self.append_batch_with(events, &[]).await
    }

    /// Appends `events` and runs `statements` in one transaction (the outbox's messages written
    /// with the change that causes them), this node's appends held meanwhile.
    pub(crate) async fn append_in_transaction(
        &self,
        events: &[TraceEvent],
        statements: &[Statement],
    ) -> Result<Vec<TraceRecord>, StoreError> {
        if events.is_empty() {
            // Nothing to chain: the statements alone, without waiting for the chain's writer.
            let mut transaction = self.pool().begin().await.map_err(unavailable)?;
            for statement in statements {
                statement.query().execute(&mut *transaction).await.map_err(unavailable)?;
            }
            transaction.commit().await.map_err(unavailable)?;
            return Ok(Vec::new());
        }
        let _writer = self.append_lock.lock().await;
        self.append_batch_with(events, statements).await
    }

    async fn append_batch_with(
        &self,
        events: &[TraceEvent],
        statements: &[Statement],
    ) -> Result<Vec<TraceRecord>, StoreError> {
        let mut last_error = None;
        for _ in 0..APPEND_ATTEMPTS {
            match self.try_append_batch(events, statements).await {
                Ok(records) => {
                    if let Some(observe) = self.batch_observer.get() {
                        observe(records.len());
                    }
                    return Ok(records);
                }
                // Another node appended at the same place first: read the new end and retry.
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.map_or_else(|| StoreError::Unavailable("trace append".into()), unavailable))
    }

    /// One multi-row `INSERT`: atomic on its own, so no transaction is needed, and one round
    /// trip to the database per batch. The end of the chain it links to is the one this node
    /// last wrote, else the one read; if another node has appended since, the statement collides
    /// on `seq` (the primary key), inserts nothing, and the retry reads the real end.
    async fn try_append_batch(
        &self,
        events: &[TraceEvent],
        statements: &[Statement],
    ) -> Result<Vec<TraceRecord>, sqlx::Error> {
        let cached = self.chain_head.lock().ok().and_then(|mut head| head.take());
        let (mut seq, mut previous_hash) = match cached {
            Some(head) => head,
            None => {
                let last = sqlx::query("SELECT seq, hash FROM traces ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(self.pool())
                    .await?;
                match &last {
                    Some(row) => (row.try_get::<i64, _>("seq")?.max(0) as u64, row.try_get::<String, _>("hash")?),
                    None => (0, GENESIS_HASH.to_owned()),
                }
            }
        };
        let mut records = Vec::with_capacity(events.len());
        for event in events {
            seq += 1;
            let hash = chain_hash(&previous_hash, seq, event);
            previous_hash = hash.clone();
            records.push(TraceRecord { seq, event: event.clone(), hash });
        }
        let rows: Vec<String> = (0..records.len())
            .map(|row| {
                let first = row * COLUMN_COUNT + 1;
                let placeholders: Vec<String> = (first..first + COLUMN_COUNT).map(|n| self.placeholder(n)).collect();
                format!("({})", placeholders.join(", "))
            })
            .collect();
        let statement = format!("INSERT INTO traces ({COLUMNS}) VALUES {}", rows.join(", "));
        let mut query = sqlx::query(&statement);
        for record in &records {
            let event = &record.event;
            query = query
                .bind(record.seq as i64)
                .bind(event.at.0 as i64)
                .bind(event.kind.as_str())
                .bind(event.person.clone())
                .bind(event.sub.clone())
                .bind(event.sp.clone())
                .bind(event.idp.clone())
                .bind(event.dp.clone())
                .bind(serde_json::to_string(&event.scopes).unwrap_or_else(|_| "[]".into()))
                .bind(event.outcome.clone())
                .bind(event.organisation.clone())
                .bind(event.habilitation.clone())
                .bind(event.author.clone())
                .bind(event.reference.clone())
                .bind(record.hash.clone());
        }
        if statements.is_empty() {
            query.execute(self.pool()).await?;
        } else {
            let mut transaction = self.pool().begin().await?;
            if !records.is_empty() {
                query.execute(&mut *transaction).await?;
            }
            for statement in statements {
                statement.query().execute(&mut *transaction).await?;
            }
            transaction.commit().await?;
        }
        if let (Some(last), Ok(mut head)) = (records.last(), self.chain_head.lock()) {
            *head = Some((last.seq, last.hash.clone()));
        }
        self.checkpoint_now_and_then(records.len());
        Ok(records)
    }

    /// On SQLite, every `CHECKPOINT_EVERY` records, a passive checkpoint of the write-ahead log
    /// on a connection of its own: it copies the log into the database and syncs it while the
    /// next appends go on, instead of stalling one of them (SQLite's automatic checkpoint runs
    /// inside the commit that crosses its threshold).
    fn checkpoint_now_and_then(&self, appended: usize) {
        use std::sync::atomic::Ordering;
        if !self.sqlite || self.since_checkpoint.fetch_add(appended, Ordering::Relaxed) + appended < CHECKPOINT_EVERY {
            return;
        }
        self.since_checkpoint.store(0, Ordering::Relaxed);
        let pool = self.pool().clone();
        tokio::spawn(async move {
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                tracing::warn!(%error, "trace log checkpoint failed (SQLite retries at its own threshold)");
            }
        });
    }
}

#[async_trait]
impl TraceStore for SqlStore {
    /// Group commit: the event joins a queue; whoever holds the writer's turn appends what is
    /// queued (up to a statement's worth) and hands each request its record. Every request still
    /// waits for its own record to be committed (a flow whose trace fails, fails).
    async fn append(&self, event: &TraceEvent) -> Result<TraceRecord, StoreError> {
        let (sender, mut receiver) = tokio::sync::oneshot::channel();
        if let Ok(mut queue) = self.trace_queue.lock() {
            queue.push((event.clone(), sender));
        }
        let _writer = self.append_lock.lock().await;
        loop {
            if let Ok(result) = receiver.try_recv() {
                return result;
            }
            // Let the requests already arrived reach the queue first (their tasks run before this
            // one resumes): on one core, the batch would otherwise hold one or two records.
            let mut queued = self.trace_queue.lock().map(|queue| queue.len()).unwrap_or(0);
            for _ in 0..8 {
                tokio::task::yield_now().await;
                let now_queued = self.trace_queue.lock().map(|queue| queue.len()).unwrap_or(0);
                if now_queued == queued {
                    break;
                }
                queued = now_queued;
            }
            let batch: Vec<QueuedTrace> = self
                .trace_queue
                .lock()
                .map(|mut queue| {
                    let count = queue.len().min(ROWS_PER_INSERT);
                    queue.drain(..count).collect()
                })
                .unwrap_or_default();
            if batch.is_empty() {
                return Err(StoreError::Unavailable("trace not appended".into()));
            }
            let events: Vec<TraceEvent> = batch.iter().map(|(event, _)| event.clone()).collect();
            match self.append_batch(&events).await {
                Ok(records) => {
                    for ((_, sender), record) in batch.into_iter().zip(records) {
                        let _ = sender.send(Ok(record));
                    }
                }
                Err(error) => {
                    for (_, sender) in batch {
                        let _ = sender.send(Err(StoreError::Unavailable(error.to_string())));
                    }
                }
            }
        }
    }

    async fn for_person(&self, person: &str, limit: u32) -> Result<Vec<TraceRecord>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM traces WHERE person = $1 ORDER BY seq DESC LIMIT $2"))
            .bind(person)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(unavailable)?;
        rows.iter().map(record).collect()
    }

    async fn all(&self) -> Result<Vec<TraceRecord>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM traces ORDER BY seq"))
            .fetch_all(self.pool())
            .await
            .map_err(unavailable)?;
        rows.iter().map(record).collect()
    }

    async fn last(&self) -> Result<Option<TraceRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM traces ORDER BY seq DESC LIMIT 1"))
            .fetch_optional(self.pool())
            .await
            .map_err(unavailable)?;
        row.as_ref().map(record).transpose()
    }

    async fn at(&self, seq: u64) -> Result<Option<TraceRecord>, StoreError> {
        let seq = i64::try_from(seq).map_err(|_| StoreError::Unavailable("trace seq out of range".into()))?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM traces WHERE seq = $1"))
            .bind(seq)
            .fetch_optional(self.pool())
            .await
            .map_err(unavailable)?;
        row.as_ref().map(record).transpose()
    }

    async fn transfer_figures(&self, since: UnixTime) -> Result<BTreeMap<String, Figures>, StoreError> {
        // One document per person, service and provider: the three joined with a separator
        // neither a keyed hash nor an id holds.
        let counted = self
            .two_counts_by_provider(
                "SELECT dp, COUNT(*), COUNT(DISTINCT person || ' ' || sp) FROM traces \
                 WHERE kind = 'checktoken' AND at >= $1 AND outcome = 'active' AND dp IS NOT NULL GROUP BY dp",
                since.0,
            )
            .await?;
        Ok(counted
            .into_iter()
            .map(|(dp, transfers, documents_avoided)| (dp, Figures { transfers, documents_avoided }))
            .collect())
    }

    async fn record_check(&self, dp: &str, minute: u64, answered: bool) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO provider_checks (dp, minute, up) VALUES ($1, $2, $3) ON CONFLICT (dp, minute) DO NOTHING",
        )
        .bind(dp)
        .bind(minute as i64)
        .bind(i32::from(answered))
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn availability(&self, minute: u64) -> Result<BTreeMap<String, Availability>, StoreError> {
        let sql = "SELECT dp, COUNT(*), SUM(up) FROM provider_checks WHERE minute >= $1 GROUP BY dp";
        let counted = self.two_counts_by_provider(sql, minute).await?;
        Ok(counted.into_iter().map(|(dp, checks, answered)| (dp, Availability { checks, answered })).collect())
    }
}

impl SqlStore {
    /// The rows of `sql` (bound to `from`): a provider and two counts each.
    async fn two_counts_by_provider(&self, sql: &str, from: u64) -> Result<Vec<(String, u64, u64)>, StoreError> {
        let rows = sqlx::query(sql).bind(from as i64).fetch_all(self.pool()).await.map_err(unavailable)?;
        rows.iter()
            .map(|row| {
                let dp: String = row.try_get(0).map_err(unavailable)?;
                let first: i64 = row.try_get(1).map_err(unavailable)?;
                let second: i64 = row.try_get(2).map_err(unavailable)?;
                Ok((dp, first as u64, second as u64))
            })
            .collect()
    }
}

#[async_trait]
impl PreferenceStore for SqlStore {
    async fn preferences(&self, person: &str) -> Result<Preferences, StoreError> {
        let row = sqlx::query("SELECT blocked_idps FROM person_preferences WHERE person = $1")
            .bind(person)
            .fetch_optional(self.pool())
            .await
            .map_err(unavailable)?;
        let Some(row) = row else { return Ok(Preferences::default()) };
        let text: String = row.try_get("blocked_idps").map_err(unavailable)?;
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("preferences: {e}"));
        // The first layout was the list of blocked accounts alone.
        if text.trim_start().starts_with('[') {
            let blocked: Vec<IdpId> = serde_json::from_str(&text).map_err(corrupt)?;
            return Ok(Preferences { blocked, ..Preferences::default() });
        }
        serde_json::from_str(&text).map_err(corrupt)
    }

    async fn set_preferences(&self, person: &str, preferences: &Preferences, now: u64) -> Result<(), StoreError> {
        let text = serde_json::to_string(preferences).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO person_preferences (person, blocked_idps, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (person) DO UPDATE SET blocked_idps = excluded.blocked_idps, updated_at = excluded.updated_at",
        )
        .bind(person)
        .bind(text)
        .bind(now as i64)
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(())
    }
}
