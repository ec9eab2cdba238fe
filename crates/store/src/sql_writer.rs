//! How the SQL store changes the registry: typed upserts of versioned rows, the data grants
//! kept apart from the providers' rows, and removals.

use async_trait::async_trait;
use relais_domain::agent::Habilitation;
use relais_domain::{DataProvider, DpId, IdentityProvider, IdpId, ServiceProvider, SpId};
use sqlx::Row;

use crate::records;
use crate::registry::{ActorRef, ConfiguredActors, DataGrant, Put, RegistryWriter, Source};
use crate::sql::{unavailable, SqlStore};
use crate::StoreError;

/// The table and the id column of an actor's kind.
fn table_of(actor: ActorRef<'_>) -> (&'static str, &'static str) {
    match actor {
        ActorRef::ServiceProvider(_) => ("service_providers", "client_id"),
        ActorRef::IdentityProvider(_) => ("identity_providers", "id"),
        ActorRef::DataProvider(_) => ("data_providers", "id"),
        ActorRef::Habilitation(_) => ("habilitations", "id"),
    }
}

#[async_trait]
impl RegistryWriter for SqlStore {
    async fn put_service_provider(&self, put: Put<'_, ServiceProvider>) -> Result<(), StoreError> {
        const UPSERT: &str = "INSERT INTO service_providers (client_id, registration, source, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (client_id) DO UPDATE SET registration = excluded.registration, \
             source = excluded.source, updated_at = excluded.updated_at";
        let row = records::service_provider_row(put.actor)?;
        self.upsert_row(UPSERT, put.actor.id.as_str(), None, row, put.source, put.at).await
    }

    async fn put_identity_provider(&self, put: Put<'_, IdentityProvider>, position: i64) -> Result<(), StoreError> {
        const UPSERT: &str = "INSERT INTO identity_providers (id, position, registration, source, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET position = excluded.position, \
             registration = excluded.registration, source = excluded.source, updated_at = excluded.updated_at";
        let row = records::identity_provider_row(put.actor, self.ring()?)?;
        self.upsert_row(UPSERT, put.actor.id.as_str(), Some(position), row, put.source, put.at).await
    }

    async fn put_data_provider(&self, put: Put<'_, DataProvider>) -> Result<(), StoreError> {
        const UPSERT: &str = "INSERT INTO data_providers (id, registration, source, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET registration = excluded.registration, \
             source = excluded.source, updated_at = excluded.updated_at";
        let row = records::data_provider_row(put.actor)?;
        self.upsert_row(UPSERT, put.actor.id.as_str(), None, row, put.source, put.at).await
    }

    async fn put_habilitation(&self, put: Put<'_, Habilitation>) -> Result<(), StoreError> {
        const UPSERT: &str = "INSERT INTO habilitations (id, registration, source, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET registration = excluded.registration, \
             source = excluded.source, updated_at = excluded.updated_at";
        let row = records::habilitation_row(put.actor)?;
        self.upsert_row(UPSERT, &put.actor.id, None, row, put.source, put.at).await
    }

    async fn source(&self, actor: ActorRef<'_>) -> Result<Option<Source>, StoreError> {
        let (table, column) = table_of(actor);
        let row = sqlx::query(&format!("SELECT source FROM {table} WHERE {column} = $1"))
            .bind(actor.id())
            .fetch_optional(self.pool())
            .await
            .map_err(unavailable)?;
        let Some(row) = row else { return Ok(None) };
        let source: String = row.try_get(0).map_err(unavailable)?;
        Ok(Some(if source == Source::Configuration.as_str() { Source::Configuration } else { Source::Registered }))
    }

    async fn put_data_grant(&self, grant: &DataGrant, at: u64) -> Result<(), StoreError> {
        let query = if grant.scopes.is_empty() {
            sqlx::query("DELETE FROM data_grants WHERE sp = $1 AND dp = $2")
                .bind(grant.sp.as_str())
                .bind(grant.dp.as_str())
        } else {
            sqlx::query(
                "INSERT INTO data_grants (sp, dp, scopes, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (sp, dp) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at",
            )
            .bind(grant.sp.as_str())
            .bind(grant.dp.as_str())
            .bind(grant.scopes.join(" "))
            .bind(at as i64)
        };
        query.execute(self.pool()).await.map_err(unavailable)?;
        Ok(())
    }

    async fn remove(&self, actor: ActorRef<'_>) -> Result<bool, StoreError> {
        if let ActorRef::ServiceProvider(id) = actor {
            sqlx::query("DELETE FROM data_grants WHERE sp = $1")
                .bind(id.as_str())
                .execute(self.pool())
                .await
                .map_err(unavailable)?;
        }
        let (table, column) = table_of(actor);
        let done = sqlx::query(&format!("DELETE FROM {table} WHERE {column} = $1"))
            .bind(actor.id())
            .execute(self.pool())
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_configured_except(&self, keep: &ConfiguredActors) -> Result<u64, StoreError> {
        let sps: Vec<&str> = keep.service_providers.iter().map(SpId::as_str).collect();
        let idps: Vec<&str> = keep.identity_providers.iter().map(IdpId::as_str).collect();
        let dps: Vec<&str> = keep.data_providers.iter().map(DpId::as_str).collect();
        let habilitations: Vec<&str> = keep.habilitations.iter().map(String::as_str).collect();
        Ok(self.remove_configured_from("service_providers", "client_id", &sps).await?
            + self.remove_configured_from("identity_providers", "id", &idps).await?
            + self.remove_configured_from("data_providers", "id", &dps).await?
            + self.remove_configured_from("habilitations", "id", &habilitations).await?)
    }
}
