//! Memory held per live session: full sign-ins leaving their sessions, and the growth of the
//! hub's RSS (memory backend) or of Redis' `used_memory`.

use std::sync::Arc;

use serde_json::{json, Value};
use url::Url;

use crate::flows::{FederatedFlow, Provider};
use crate::hub::{start_hub, SP_SECRET};
use crate::load::Flow;
use crate::vu::VirtualUser;
use crate::{discover, http, process, Cli, Settings};

/// Memory held per live session: `sessions` full sign-ins, each leaving a session (and its
/// access token), and the growth of `probe` (RSS, or Redis `used_memory`) divided by them.
async fn memory_per_session<F, Fut>(flow: Arc<FederatedFlow>, sessions: usize, probe: F) -> anyhow::Result<Value>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    let before = probe().await;
    let per_user = sessions / 16;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let flow = flow.clone();
            tokio::spawn(async move {
                let mut vu = VirtualUser::new(http()?);
                let mut done = 0usize;
                for _ in 0..per_user {
                    if flow.run(&mut vu).await.is_ok() {
                        done += 1;
                    }
                }
                anyhow::Ok(done)
            })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await??;
    }
    let after = probe().await;
    let growth = after.saturating_sub(before);
    Ok(
        json!({ "sessions": done, "before_bytes": before, "after_bytes": after, "bytes_per_session": growth as f64 / done.max(1) as f64 }),
    )
}

async fn redis_used_memory(url: &str) -> u64 {
    let Ok(client) = redis::Client::open(url) else { return 0 };
    let Ok(mut connection) = client.get_multiplexed_async_connection().await else { return 0 };
    let info: String = redis::cmd("INFO").arg("memory").query_async(&mut connection).await.unwrap_or_default();
    info.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// Memory per live session: a fresh hub, memory backend; then Redis, if given.
pub async fn memory_workload(cli: &Cli, settings: &Settings) -> anyhow::Result<(Value, Value)> {
    let (hub, issuer, _idp, _dir) = start_hub(cli, None).await?;
    let (sp, _) = discover(&issuer, "bench-sp", SP_SECRET).await?;
    let flow = |sp: Provider, issuer: &str| -> anyhow::Result<Arc<FederatedFlow>> {
        Ok(Arc::new(FederatedFlow {
            provider: sp,
            hub: Url::parse(issuer)?,
            idp: "mock".into(),
            scope: "openid profile".into(),
            transfer: None,
            tokens: None,
            keep_session: false,
            email: None,
        }))
    };
    let pid = hub.pid;
    let memory =
        memory_per_session(flow(sp, &issuer)?, settings.sessions, || async move { process::rss_bytes(pid) }).await?;
    drop(hub);
    let redis_memory = match &cli.redis {
        Some(url) => {
            let (hub, issuer, _idp, _dir) = start_hub(cli, Some(url)).await?;
            let (sp, _) = discover(&issuer, "bench-sp", SP_SECRET).await?;
            let url = url.clone();
            let result = memory_per_session(flow(sp, &issuer)?, settings.sessions, || redis_used_memory(&url)).await?;
            drop(hub);
            result
        }
        None => json!(null),
    };
    Ok((memory, redis_memory))
}
