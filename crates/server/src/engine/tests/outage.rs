//! A store that fails: every step fails closed, in its audience's format.

use async_trait::async_trait;
use relais_oidc::token::RawTokenRequest;
use relais_store::StoreError;

use super::*;
use crate::engine::checktoken::CheckTokenForm;
use crate::error::ApiError;

/// An ephemeral store that is down.
pub struct Down;

#[async_trait]
impl EphemeralStore for Down {
    async fn put(&self, _: &str, _: Vec<u8>, _: u64) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("redis: connection refused".into()))
    }
    async fn put_if_absent(&self, _: &str, _: Vec<u8>, _: u64) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("redis: connection refused".into()))
    }
    async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Err(StoreError::Unavailable("redis: connection refused".into()))
    }
    async fn take(&self, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Err(StoreError::Unavailable("redis: connection refused".into()))
    }
    async fn delete(&self, _: &str) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("redis: connection refused".into()))
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("redis: connection refused".into()))
    }
}

#[tokio::test]
async fn the_persons_steps_fail_closed_with_a_page() {
    let hub = TestHub::on(Some(Arc::new(Down)));
    let result = crate::engine::authorize(&hub.state, &request("mairie", "openid"), &browser()).await;
    assert!(matches!(result, Err(PageError::Store(_))));
}

#[tokio::test]
async fn the_machines_endpoints_fail_closed_with_temporarily_unavailable() {
    let hub = TestHub::on(Some(Arc::new(Down)));
    let form = RawTokenRequest {
        grant_type: Some("authorization_code".into()),
        code: Some("c".into()),
        redirect_uri: Some("https://mairie.example/cb".into()),
        ..Default::default()
    };
    let token = crate::engine::token(&hub.state, Some(&basic("mairie", MAIRIE_SECRET)), &form).await;
    assert!(matches!(token, Err(ApiError::Unavailable(_))));
    assert!(matches!(crate::engine::userinfo(&hub.state, Some("t")).await, Err(ApiError::Unavailable(_))));
    let form = CheckTokenForm { token: Some("t".into()), ..Default::default() };
    let check = crate::engine::checktoken(&hub.state, Some(&basic("caf", CAF_SECRET)), &form, false).await;
    assert!(matches!(check, Err(ApiError::Unavailable(_))));
}
