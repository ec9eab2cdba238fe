//! The partner portal's store: the services organisations declare (their clients at the hub
//! are rows of the registry). Versioned rows, as the registry's.

use async_trait::async_trait;
use relais_domain::portal::request::{HabilitationRequest, RequestState};
use relais_domain::portal::PartnerService;
use sqlx::Row;

use crate::sql::SqlStore;
use crate::StoreError;

/// Where the portal keeps the services declared.
#[async_trait]
pub trait PortalStore: Send + Sync + 'static {
    /// Adds or replaces a service.
    async fn put_partner_service(&self, service: &PartnerService, at: u64) -> Result<(), StoreError>;
    /// The service with this id.
    async fn partner_service(&self, id: &str) -> Result<Option<PartnerService>, StoreError>;
    /// The service whose production client is `client_id`.
    async fn partner_service_of_client(&self, client_id: &str) -> Result<Option<PartnerService>, StoreError>;
    /// The services of an organisation (SIREN), oldest first.
    async fn partner_services_of(&self, organisation: &str) -> Result<Vec<PartnerService>, StoreError>;
    /// Adds or replaces a habilitation request.
    async fn put_request(&self, request: &HabilitationRequest, at: u64) -> Result<(), StoreError>;
    /// The request with this id.
    async fn request(&self, id: &str) -> Result<Option<HabilitationRequest>, StoreError>;
    /// The requests of a portal service, by id.
    async fn requests_of(&self, service: &str) -> Result<Vec<HabilitationRequest>, StoreError>;
    /// The requests in one of `states` (the instructors' queue), by id.
    async fn requests_in(&self, states: &[RequestState]) -> Result<Vec<HabilitationRequest>, StoreError>;
}

/// A service's row (`v: 1`).
#[derive(serde::Serialize, serde::Deserialize)]
struct PartnerServiceV1 {
    v: u32,
    #[serde(flatten)]
    service: PartnerService,
}

/// A request's row (`v: 1`).
#[derive(serde::Serialize, serde::Deserialize)]
struct HabilitationRequestV1 {
    v: u32,
    #[serde(flatten)]
    request: HabilitationRequest,
}

fn request_row(request: &HabilitationRequest) -> Result<String, StoreError> {
    serde_json::to_string(&HabilitationRequestV1 { v: 1, request: request.clone() })
        .map_err(|e| StoreError::Corrupt(format!("habilitation request: {e}")))
}

fn request_of(text: &str) -> Result<HabilitationRequest, StoreError> {
    serde_json::from_str::<HabilitationRequestV1>(text)
        .map(|row| row.request)
        .map_err(|e| StoreError::Corrupt(format!("habilitation request: {e}")))
}

fn row(service: &PartnerService) -> Result<String, StoreError> {
    serde_json::to_string(&PartnerServiceV1 { v: 1, service: service.clone() })
        .map_err(|e| StoreError::Corrupt(format!("partner service: {e}")))
}

fn service(text: &str) -> Result<PartnerService, StoreError> {
    serde_json::from_str::<PartnerServiceV1>(text)
        .map(|row| row.service)
        .map_err(|e| StoreError::Corrupt(format!("partner service: {e}")))
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

#[async_trait]
impl PortalStore for SqlStore {
    async fn put_partner_service(&self, service: &PartnerService, at: u64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO partner_services (id, organisation, registration, updated_at, production_client_id) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET organisation = excluded.organisation, \
             registration = excluded.registration, updated_at = excluded.updated_at, \
             production_client_id = excluded.production_client_id",
        )
        .bind(&service.id)
        .bind(&service.organisation)
        .bind(row(service)?)
        .bind(at as i64)
        .bind(service.production_client_id.as_deref())
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn partner_service(&self, id: &str) -> Result<Option<PartnerService>, StoreError> {
        let found = sqlx::query("SELECT registration FROM partner_services WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(unavailable)?;
        found.map(|row| service(&row.try_get::<String, _>(0).map_err(unavailable)?)).transpose()
    }

    async fn partner_service_of_client(&self, client_id: &str) -> Result<Option<PartnerService>, StoreError> {
        let found = sqlx::query("SELECT registration FROM partner_services WHERE production_client_id = $1")
            .bind(client_id)
            .fetch_optional(self.pool())
            .await
            .map_err(unavailable)?;
        found.map(|row| service(&row.try_get::<String, _>(0).map_err(unavailable)?)).transpose()
    }

    async fn partner_services_of(&self, organisation: &str) -> Result<Vec<PartnerService>, StoreError> {
        let rows = sqlx::query("SELECT registration FROM partner_services WHERE organisation = $1")
            .bind(organisation)
            .fetch_all(self.pool())
            .await
            .map_err(unavailable)?;
        let mut services = rows
            .iter()
            .map(|row| service(&row.try_get::<String, _>(0).map_err(unavailable)?))
            .collect::<Result<Vec<_>, _>>()?;
        services.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(services)
    }

    async fn put_request(&self, request: &HabilitationRequest, at: u64) -> Result<(), StoreError> {
        let state = request.state.name();
        sqlx::query(
            "INSERT INTO habilitation_requests (id, service, state, registration, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET service = excluded.service, state = excluded.state, \
             registration = excluded.registration, updated_at = excluded.updated_at",
        )
        .bind(&request.id)
        .bind(&request.service)
        .bind(state)
        .bind(request_row(request)?)
        .bind(at as i64)
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn request(&self, id: &str) -> Result<Option<HabilitationRequest>, StoreError> {
        let found = sqlx::query("SELECT registration FROM habilitation_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(unavailable)?;
        found.map(|row| request_of(&row.try_get::<String, _>(0).map_err(unavailable)?)).transpose()
    }

    async fn requests_of(&self, service: &str) -> Result<Vec<HabilitationRequest>, StoreError> {
        let rows = sqlx::query("SELECT registration FROM habilitation_requests WHERE service = $1 ORDER BY id")
            .bind(service)
            .fetch_all(self.pool())
            .await
            .map_err(unavailable)?;
        rows.iter().map(|row| request_of(&row.try_get::<String, _>(0).map_err(unavailable)?)).collect()
    }

    async fn requests_in(&self, states: &[RequestState]) -> Result<Vec<HabilitationRequest>, StoreError> {
        let mut found = Vec::new();
        for state in states {
            let rows = sqlx::query("SELECT registration FROM habilitation_requests WHERE state = $1 ORDER BY id")
                .bind(state.name())
                .fetch_all(self.pool())
                .await
                .map_err(unavailable)?;
            for row in &rows {
                found.push(request_of(&row.try_get::<String, _>(0).map_err(unavailable)?)?);
            }
        }
        Ok(found)
    }
}
