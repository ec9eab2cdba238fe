//! A fan-out that survives the death of a node: three `relais serve` processes share the
//! outbox on PostgreSQL, 1,000 notifications are pending, one node is killed with `SIGKILL`
//! while it delivers; every notification reaches its administration, each `webhook-id` is
//! accepted once, and the only repeats are the messages the dead node had in flight (claimed
//! for a lease, then taken over by the others, as the retry rule says).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use relais::config::{Config, ServiceProviderSection, WebhookSection};
use relais_domain::webhook::MessageState;
use relais_domain::webhook::{message_id, payload, EventKind};
use relais_domain::UnixTime;
use relais_mocks::receiver::{Fault, MockReceiver};
use relais_store::{NewMessage, OutboxStore};
use tokio::net::TcpListener;

use crate::harness::notifications::webhook_secret;
use crate::harness::*;
use crate::nodes::{hub_file, Node};

const EVENTS: usize = 1_000;

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set RELAIS_TEST_POSTGRES_URL"]
async fn a_node_killed_in_the_middle_of_a_fan_out_loses_nothing_and_duplicates_only_what_it_had_in_flight() {
    let administrations = ["admin-caf", "admin-impots", "admin-ameli", "admin-energie"];
    let mut receivers = Vec::new();
    let mut file = hub_file(Vec::new());
    file.storage.database_url = Some(fresh_database_url(Backends::Servers).await);
    for id in administrations {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = MockReceiver::serve(listener, webhook_secret(id), Arc::new(now)).unwrap();
        // Slow enough for the kill to land in the middle of the deliveries.
        receiver.set_fault(Fault::Slow(Duration::from_millis(40)));
        file.service_providers.push(ServiceProviderSection::new(
            id,
            id,
            Some("secret-for-tests-0123456789abcdef"),
            &format!("https://{id}.example/callback"),
            &["openid"],
        ));
        file.webhooks.push(WebhookSection {
            id: id.to_owned(),
            service: id.to_owned(),
            events: vec!["address.changed".into()],
            url: receiver.url().parse().unwrap(),
            secret: Some(webhook_secret(id).expose()),
            secret_file: None,
            description: String::new(),
        });
        receivers.push(receiver);
    }
    let toml = file.to_toml().unwrap();
    let config = Config::from_toml(&toml, &|_| None).unwrap();
    // The registry as the nodes will find it, 1,000 notifications pending in its outbox.
    let sql = relais::launch::open_database(&config).await.unwrap();
    relais::launch::load_subscriptions(&sql, &config, now()).await.unwrap();
    let mut ids = HashSet::new();
    let at = now();
    let messages: Vec<NewMessage> = (0..EVENTS)
        .map(|n| {
            let id = message_id(relais_oidc::random::random_bytes());
            ids.insert(id.clone());
            let data = serde_json::json!({ "sub": format!("sub-{n}"), "address": { "id": n } });
            NewMessage {
                id,
                subscription: administrations[n % administrations.len()].to_owned(),
                kind: EventKind::AddressChanged,
                person: None,
                payload: payload(EventKind::AddressChanged, UnixTime(at), data).to_string(),
                at,
            }
        })
        .collect();
    for chunk in messages.chunks(100) {
        sql.record_with_messages(&[], chunk).await.unwrap();
    }
    assert_eq!(sql.pending_count().await.unwrap(), EVENTS as u64);

    let path = std::env::temp_dir().join(format!("relais-fanout-{}.toml", relais_oidc::random::random_token()));
    std::fs::write(&path, &toml).unwrap();
    let mut a = Node::start(&path).await;
    let b = Node::start(&path).await;
    let c = Node::start(&path).await;
    let received = |receivers: &[MockReceiver]| receivers.iter().map(MockReceiver::received_count).sum::<usize>();
    let deadline = Instant::now() + Duration::from_secs(30);
    while received(&receivers) < EVENTS / 10 {
        assert!(Instant::now() < deadline, "deliveries started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.process.kill().await.unwrap();
    let at_kill = received(&receivers);
    assert!(at_kill < EVENTS, "killed in the middle of the fan-out ({at_kill} delivered)");

    // What node A had claimed waits for its lease to end (30 s), then the others deliver it.
    let deadline = Instant::now() + Duration::from_secs(120);
    while sql.pending_count().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "every notification delivered in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut accepted = HashSet::new();
    for receiver in &receivers {
        for message in receiver.received() {
            assert!(accepted.insert(message.id.clone()), "{} accepted twice", message.id);
        }
        assert!(receiver.refused().is_empty(), "{:?}", receiver.refused());
    }
    assert_eq!(accepted, ids, "every notification reached its administration, once");
    let repeats: usize = receivers.iter().map(MockReceiver::duplicates).sum();
    let attempts: usize = receivers.iter().map(|r| r.attempts().len()).sum();
    // Each message node A had in flight when it died is sent once more by another node: its
    // first attempt was accepted (a repeat, de-duplicated) or cut off by the kill. At most what
    // A had claimed: one batch.
    let batch = relais_server::engine::notifications::sender::BATCH as usize;
    let again = attempts - EVENTS;
    assert!(again <= batch, "{again} messages sent again: only the dead node's messages in flight");
    assert!(repeats <= again, "{repeats} repeats");
    eprintln!("fan-out: {at_kill} of {EVENTS} delivered when node A was killed; {again} sent again after its lease, {repeats} of them accepted twice");
    let delivered = sql.messages(Some(MessageState::Delivered), 2 * EVENTS as u32).await.unwrap();
    assert_eq!(delivered.len(), EVENTS);
    assert!(delivered.iter().all(|m| m.attempts >= 1));
    drop((b, c));
    std::fs::remove_file(path).unwrap();
}
