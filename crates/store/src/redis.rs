//! The Redis ephemeral store, for many hub nodes: every entry carries its TTL in Redis itself,
//! single use is `GETDEL` (atomic in the server), "store unless present" is `SET NX`. The
//! connection is made lazily and re-made by the connection manager, so the hub starts while
//! Redis is down and recovers when it is back, answering "unavailable" in between.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::Mutex;

use crate::{EphemeralStore, StoreError};

/// Entries in Redis under a key prefix.
pub struct RedisEphemeralStore {
    client: redis::Client,
    prefix: String,
    connection: Mutex<Option<ConnectionManager>>,
}

fn unavailable(error: redis::RedisError) -> StoreError {
    StoreError::Unavailable(format!("redis: {error}"))
}

impl RedisEphemeralStore {
    /// A store at `url` (`redis://host:port/db`), every key under `prefix`. Does not connect yet.
    pub fn new(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        Ok(Self { client, prefix: prefix.to_owned(), connection: Mutex::new(None) })
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_with_config(self.client.clone(), config).await.map_err(unavailable)?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn run<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, StoreError> {
        let mut connection = self.connection().await?;
        let result = command.query_async(&mut connection).await;
        if let Err(error) = &result {
            if error.is_io_error()
                || error.is_connection_dropped()
                || error.is_timeout()
                || error.is_connection_refusal()
            {
                // Forget the connection: the next call connects afresh, so the hub is back as
                // soon as Redis is, without waiting for a background reconnection.
                *self.connection.lock().await = None;
            }
        }
        result.map_err(unavailable)
    }
}

#[async_trait]
impl EphemeralStore for RedisEphemeralStore {
    async fn put(&self, key: &str, value: Vec<u8>, ttl_seconds: u64) -> Result<(), StoreError> {
        let command = redis::cmd("SET").arg(self.key(key)).arg(value).arg("EX").arg(ttl_seconds.max(1)).clone();
        self.run::<()>(&command).await
    }

    async fn put_if_absent(&self, key: &str, value: Vec<u8>, ttl_seconds: u64) -> Result<bool, StoreError> {
        let command =
            redis::cmd("SET").arg(self.key(key)).arg(value).arg("NX").arg("EX").arg(ttl_seconds.max(1)).clone();
        Ok(self.run::<Option<String>>(&command).await?.is_some())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(redis::cmd("GET").arg(self.key(key))).await
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(redis::cmd("GETDEL").arg(self.key(key))).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.run::<()>(redis::cmd("DEL").arg(self.key(key))).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.run::<String>(&redis::cmd("PING")).await.map(|_| ())
    }
}
