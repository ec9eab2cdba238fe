//! The notifications' outbox: how many events a hub process on one core delivers per second to
//! a local receiver (which verifies every signature, in this process, on the other core), and
//! the hub's CPU per event, on SQLite and on PostgreSQL. The events are written to the outbox
//! before the hub starts (as a burst of changes of address would leave them); the clock runs
//! from the hub's readiness to the receiver's last acceptance.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use relais::config::{Config, ConfigFile, HubSection, ServiceProviderSection, WebhookSection};
use relais_domain::webhook::{message_id, payload, EventKind, WebhookSecret};
use relais_domain::UnixTime;
use relais_mocks::receiver::MockReceiver;
use relais_store::{NewMessage, OutboxStore};
use serde_json::{json, Value};

use crate::{process, Cli};

/// The wall clock: the bench stands outside the hub, and its receiver checks the hub's
/// timestamps against it.
#[allow(clippy::disallowed_methods)]
fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// The workload on SQLite, and on PostgreSQL when `postgres` is given.
pub async fn outbox_workload(cli: &Cli, events: usize, postgres: Option<&str>) -> anyhow::Result<Value> {
    let dir = std::env::temp_dir().join(format!("relais-bench-outbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let sqlite = format!("sqlite://{}", dir.join("outbox.db").display());
    let mut results = serde_json::Map::new();
    results.insert("sqlite".into(), deliver(cli, &dir, &sqlite, events).await.context("outbox on SQLite")?);
    if let Some(base) = postgres {
        let url = fresh_schema(base).await?;
        results.insert("postgres".into(), deliver(cli, &dir, &url, events).await.context("outbox on PostgreSQL")?);
    }
    results.insert("events".into(), json!(events));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Value::Object(results))
}

async fn fresh_schema(base: &str) -> anyhow::Result<String> {
    let name = format!("relais_bench_{}", std::process::id());
    let admin = relais_store::SqlStore::connect(base).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).execute(admin.pool()).await?;
    sqlx::query(&format!("CREATE SCHEMA {name}")).execute(admin.pool()).await?;
    let separator = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{separator}options=-c%20search_path%3D{name}"))
}

async fn deliver(cli: &Cli, dir: &std::path::Path, database_url: &str, events: usize) -> anyhow::Result<Value> {
    let secret = WebhookSecret::from_random([42; 32]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver = MockReceiver::serve(listener, secret.clone(), Arc::new(now))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut hub = HubSection::new(
        url::Url::parse(&format!("http://localhost:{port}"))?,
        "bench-pairwise-secret-0123456789abcdef",
    );
    hub.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    hub.data_dir = dir.to_path_buf();
    let mut file = ConfigFile::new(hub);
    file.storage.database_url = Some(database_url.to_owned());
    file.service_providers.push(ServiceProviderSection::new(
        "bench-admin",
        "Administration",
        Some("bench-admin-secret-0123456789abcdef"),
        "https://bench-admin.example/callback",
        &["openid"],
    ));
    file.webhooks.push(WebhookSection {
        id: "bench-admin".into(),
        service: "bench-admin".into(),
        events: vec!["address.changed".into()],
        url: receiver.url().parse()?,
        secret: Some(secret.expose()),
        secret_file: None,
        description: String::new(),
    });
    let toml = file.to_toml()?;
    let config = Config::from_toml(&toml, &|_| None)?;
    let sql = relais::launch::open_database(&config).await?;
    relais::launch::load_subscriptions(&sql, &config, now()).await?;
    let at = now();
    let messages: Vec<NewMessage> = (0..events)
        .map(|n| NewMessage {
            id: message_id(relais_oidc::random::random_bytes()),
            subscription: "bench-admin".into(),
            kind: EventKind::AddressChanged,
            person: None,
            payload: payload(EventKind::AddressChanged, UnixTime(at), json!({ "sub": format!("{n:064}"), "address": { "id": "95127_0420_00008", "label": "8 Boulevard du Port 95000 Cergy" } })).to_string(),
            at,
        })
        .collect();
    for chunk in messages.chunks(500) {
        sql.record_with_messages(&[], chunk).await?;
    }
    let path = dir.join("outbox.toml");
    std::fs::write(&path, &toml)?;
    let server = crate::hub::serve(cli, &path).await?;
    let (started, cpu_before) = (Instant::now(), process::cpu_seconds(server.pid));
    let deadline = started + Duration::from_secs(600);
    while receiver.received_count() < events {
        anyhow::ensure!(Instant::now() < deadline, "the outbox did not drain in 10 minutes");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (elapsed, cpu) = (started.elapsed().as_secs_f64(), process::cpu_seconds(server.pid) - cpu_before);
    anyhow::ensure!(receiver.refused().is_empty(), "refused: {:?}", receiver.refused());
    let result = json!({
        "events_per_second": events as f64 / elapsed,
        "hub_cpu_ms_per_event": cpu * 1000.0 / events as f64,
        "hub_cpu_seconds": cpu,
        "seconds": elapsed,
        "repeats": receiver.duplicates(),
    });
    eprintln!("outbox on {}: {result}", database_url.split(':').next().unwrap_or_default());
    drop(server);
    Ok(result)
}
