//! A mock administration receiving the hub's notifications as Standard Webhooks, as a real
//! receiver should: it verifies `webhook-signature` (HMAC-SHA256 over `id.timestamp.body`) and
//! that `webhook-timestamp` is within five minutes of its own clock, refuses a request it
//! has already seen with the same signature (a replay), and accepts a message it already has
//! (a retry of the same `webhook-id`) without recording it twice. It records what it
//! received, as the other mocks record what they saw, and can be made to fail: `500` for a
//! number of requests, no answer for a while (a timeout), a slow answer, or down altogether
//! and back up on the same port.
//!
//! Answers: `204` accepted (a duplicate too); `400` not signed as it should be (missing
//! headers, bad or expired timestamp, no matching signature); `409` a replay; `500` injected.
//! `GET /webhooks` lists what it accepted, headers and body as they came (JSON).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use relais_domain::webhook::{verify, WebhookSecret};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::web::lock;

/// The receiver's clock, seconds since the epoch (tests give theirs).
pub type ReceiverClock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// A notification accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct Received {
    /// Its `webhook-id`.
    pub id: String,
    /// Its `webhook-timestamp` (of the attempt accepted first).
    pub timestamp: u64,
    /// Its body, parsed.
    pub payload: Value,
    /// Its body and headers as they came, for an independent library to verify again.
    pub raw: RawMessage,
}

/// A request as it came.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RawMessage {
    /// `webhook-id`.
    #[serde(rename = "webhook-id")]
    pub id: String,
    /// `webhook-timestamp`.
    #[serde(rename = "webhook-timestamp")]
    pub timestamp: String,
    /// `webhook-signature`.
    #[serde(rename = "webhook-signature")]
    pub signature: String,
    /// The body.
    pub body: String,
}

/// What the receiver does with the next requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answers as it should.
    None,
    /// Answers `500` to the next `n` requests, then as it should.
    Fail(u32),
    /// Waits this long before answering (longer than the hub waits: a timeout).
    Slow(Duration),
}

#[derive(Default)]
struct Log {
    received: Vec<Received>,
    /// Every request, accepted or not.
    attempts: Vec<String>,
    /// Requests refused, and why.
    refused: Vec<String>,
    /// Duplicates of a message already received (retries of the same `webhook-id`).
    duplicates: usize,
    /// Signatures already seen (`id timestamp signature`).
    seen: HashSet<String>,
    /// The ids received.
    ids: HashSet<String>,
}

struct Inner {
    secret: WebhookSecret,
    clock: ReceiverClock,
    fault: Mutex<Fault>,
    log: Mutex<Log>,
    address: SocketAddr,
    server: Mutex<Option<JoinHandle<()>>>,
}

/// A running mock receiver; cheap to clone.
#[derive(Clone)]
pub struct MockReceiver {
    inner: Arc<Inner>,
}

impl MockReceiver {
    /// Serves on `listener` in a spawned task, verifying with `secret` at `clock`'s time.
    pub fn serve(listener: TcpListener, secret: WebhookSecret, clock: ReceiverClock) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let inner = Arc::new(Inner {
            secret,
            clock,
            fault: Mutex::new(Fault::None),
            log: Mutex::default(),
            address,
            server: Mutex::new(None),
        });
        let receiver = Self { inner };
        receiver.start(listener);
        Ok(receiver)
    }

    fn start(&self, listener: TcpListener) {
        let app = Router::new()
            .route("/", post(receive))
            .route("/webhooks", post(receive).get(list))
            .with_state(self.inner.clone());
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "mock webhook receiver stopped");
            }
        });
        *lock(&self.inner.server) = Some(server);
    }

    /// Its endpoint.
    pub fn url(&self) -> String {
        format!("http://{}/webhooks", self.inner.address)
    }

    /// Stops listening: connections are refused until [`Self::up`].
    pub async fn down(&self) {
        let server = lock(&self.inner.server).take();
        if let Some(server) = server {
            server.abort();
            let _ = server.await;
        }
    }

    /// Listens again on the same port.
    pub async fn up(&self) -> std::io::Result<()> {
        let listener = TcpListener::bind(self.inner.address).await?;
        self.start(listener);
        Ok(())
    }

    /// Makes the next requests fail as `fault` says.
    pub fn set_fault(&self, fault: Fault) {
        *lock(&self.inner.fault) = fault;
    }

    /// The notifications accepted, each once, in the order they came.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.inner.log).received.clone()
    }

    /// How many notifications it accepted (without copying them).
    pub fn received_count(&self) -> usize {
        lock(&self.inner.log).received.len()
    }

    /// The `webhook-id` of every request, accepted or not, in the order they came.
    pub fn attempts(&self) -> Vec<String> {
        lock(&self.inner.log).attempts.clone()
    }

    /// Why each refused request was refused.
    pub fn refused(&self) -> Vec<String> {
        lock(&self.inner.log).refused.clone()
    }

    /// How many requests repeated a message already received.
    pub fn duplicates(&self) -> usize {
        lock(&self.inner.log).duplicates
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

async fn receive(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let id = header(&headers, "webhook-id").unwrap_or_default().to_owned();
    lock(&inner.log).attempts.push(id.clone());
    let fault = {
        let mut fault = lock(&inner.fault);
        let now = *fault;
        if let Fault::Fail(n) = now {
            *fault = if n > 1 { Fault::Fail(n - 1) } else { Fault::None };
        }
        now
    };
    match fault {
        Fault::Fail(_) => return StatusCode::INTERNAL_SERVER_ERROR,
        Fault::Slow(delay) => tokio::time::sleep(delay).await,
        Fault::None => {}
    }
    let refuse = |why: String| {
        lock(&inner.log).refused.push(why);
        StatusCode::BAD_REQUEST
    };
    let (Some(timestamp), Some(signature)) =
        (header(&headers, "webhook-timestamp"), header(&headers, "webhook-signature"))
    else {
        return refuse("missing webhook-timestamp or webhook-signature".to_owned());
    };
    if id.is_empty() {
        return refuse("missing webhook-id".to_owned());
    }
    if let Err(error) = verify(&inner.secret, &id, timestamp, &body, signature, (inner.clock)()) {
        return refuse(error.to_string());
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return refuse("the body is not JSON".to_owned());
    };
    let mut log = lock(&inner.log);
    if !log.seen.insert(format!("{id} {timestamp} {signature}")) {
        log.refused.push(format!("replay of {id}"));
        return StatusCode::CONFLICT;
    }
    if !log.ids.insert(id.clone()) {
        log.duplicates += 1;
        return StatusCode::NO_CONTENT;
    }
    let raw = RawMessage {
        id: id.clone(),
        timestamp: timestamp.to_owned(),
        signature: signature.to_owned(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let timestamp = timestamp.trim().parse().unwrap_or_default();
    log.received.push(Received { id, timestamp, payload, raw });
    StatusCode::NO_CONTENT
}

async fn list(State(inner): State<Arc<Inner>>) -> axum::Json<Vec<RawMessage>> {
    axum::Json(lock(&inner.log).received.iter().map(|received| received.raw.clone()).collect())
}
