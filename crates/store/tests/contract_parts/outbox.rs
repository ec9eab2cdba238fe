//! The SQL contract's part about the outbox: a message is written with its trace in one
//! transaction, sealed at rest and erased once delivered; two nodes claiming at once never
//! take the same message; failures are retried, given up, replayed; subscriptions are kept
//! with their secret sealed and disabled with their pending messages.

use relais_domain::trace::{verify_chain, TraceEvent, TraceKind};
use relais_domain::webhook::{EventKind, MessageState, Subscription, SubscriptionStatus, WebhookSecret};
use relais_domain::{SpId, UnixTime};
use relais_store::{NewMessage, OutboxStore, Outcome, Source, SqlStore, TraceStore};

fn subscription(id: &str) -> Subscription {
    Subscription {
        id: id.into(),
        service: SpId::new("caf"),
        events: vec![EventKind::AddressChanged],
        url: url::Url::parse("https://caf.example/webhooks").unwrap(),
        secret: WebhookSecret::from_random([9; 32]),
        description: "Allocations familiales".into(),
    }
}

fn trace(at: u64, reference: &str, outcome: &str) -> TraceEvent {
    TraceEvent {
        at: UnixTime(at),
        kind: TraceKind::Notification,
        person: Some("person-key".into()),
        sub: None,
        sp: Some("caf".into()),
        idp: None,
        dp: None,
        scopes: vec![],
        outcome: outcome.into(),
        organisation: None,
        habilitation: None,
        author: None,
        reference: Some(reference.into()),
    }
}

fn message(id: &str, subscription: &str, at: u64) -> NewMessage {
    NewMessage {
        id: id.into(),
        subscription: subscription.into(),
        kind: EventKind::AddressChanged,
        person: Some("person-key".into()),
        payload: format!(r#"{{"type":"address.changed","data":{{"address":"12 rue Secrète {id}"}}}}"#),
        at,
    }
}

async fn column_text(sql: &SqlStore, query: &str) -> String {
    let mut text = String::new();
    for row in sqlx::query(query).fetch_all(sql.pool()).await.unwrap() {
        let value: Option<String> = sqlx::Row::try_get(&row, 0).unwrap();
        text.push_str(&value.unwrap_or_default());
        text.push('\n');
    }
    text
}

pub async fn delivered_once_sealed_and_erased(sql: &SqlStore, other_node: &SqlStore) {
    let prefix = format!("{:x}", rand::random::<u32>());
    let sub_a = format!("a-{prefix}");
    let sub_b = format!("b-{prefix}");
    sql.put_subscription(&subscription(&sub_a), Source::Configuration, 10).await.unwrap();
    sql.put_subscription(&subscription(&sub_b), Source::Registered, 10).await.unwrap();
    let stored = other_node.subscriptions().await.unwrap();
    let a = stored.iter().find(|r| r.subscription.id == sub_a).unwrap();
    assert_eq!(a.subscription, subscription(&sub_a), "the secret reads back");
    assert_eq!(a.status, SubscriptionStatus::Active);
    let rows = column_text(sql, "SELECT registration FROM webhook_subscriptions").await;
    assert!(!rows.contains(&subscription(&sub_a).secret.expose()), "the secret is sealed at rest");

    // Forty messages and their traces, in one transaction each; then two nodes claim at once.
    let before = sql.all().await.unwrap().len();
    for i in 0..40 {
        let id = format!("msg_{prefix}_{i:02}");
        let records =
            sql.record_with_messages(&[trace(100, &id, "queued")], &[message(&id, &sub_a, 100)]).await.unwrap();
        assert_eq!(records.len(), 1);
    }
    let payloads = column_text(sql, "SELECT payload FROM webhook_messages").await;
    assert!(!payloads.contains("rue Secrète"), "payloads are sealed at rest");
    let (one, two) = tokio::join!(sql.claim_due(100, 60, 25), other_node.claim_due(100, 60, 25));
    let (one, two) = (one.unwrap(), two.unwrap());
    let mut ids: Vec<String> = one.iter().chain(&two).map(|m| m.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), one.len() + two.len(), "no message claimed twice");
    assert_eq!(ids.len(), 40);
    assert!(one.iter().all(|m| m.attempts == 1 && m.payload.contains("rue Secrète")));
    // Claimed for 60 s: nobody takes them again meanwhile; after the lease, whoever asks does.
    assert!(sql.claim_due(159, 60, 100).await.unwrap().is_empty());
    let retaken = other_node.claim_due(160, 60, 100).await.unwrap();
    assert_eq!(retaken.len(), 40);
    assert!(retaken.iter().all(|m| m.attempts == 2));

    // One delivered: its payload is erased, its trace chained.
    let first = &retaken[0];
    let delivered = trace(161, &first.id, "delivered");
    sql.settle(first, Outcome::Delivered { trace: Some(&delivered) }, 161).await.unwrap();
    let erased = column_text(sql, &format!("SELECT payload FROM webhook_messages WHERE id = '{}'", first.id)).await;
    assert_eq!(erased.trim(), "", "a delivered payload is erased");
    // A second settle of the same attempt (a node that lost its lease) changes nothing.
    sql.settle(first, Outcome::GiveUp { error: "late", trace: None }, 162).await.unwrap();
    // One retried later, one given up, the rest failing too.
    let second = &retaken[1];
    sql.settle(second, Outcome::Retry { next_attempt_at: 500, error: "HTTP 500" }, 161).await.unwrap();
    let third = &retaken[2];
    let dead = trace(161, &third.id, "given_up");
    sql.settle(third, Outcome::GiveUp { error: "HTTP 410", trace: Some(&dead) }, 161).await.unwrap();
    let states = other_node.messages(None, 1000).await.unwrap();
    let state = |id: &str| states.iter().find(|m| m.id == id).map(|m| m.state);
    assert_eq!(state(&first.id), Some(MessageState::Delivered));
    assert_eq!(state(&second.id), Some(MessageState::Pending));
    assert_eq!(state(&third.id), Some(MessageState::Dead));
    let failing = sql.subscriptions().await.unwrap();
    assert_eq!(failing.iter().find(|r| r.subscription.id == sub_a).unwrap().failing_since, Some(161));
    // The retried one is not due before its time.
    assert!(sql.claim_due(499, 60, 100).await.unwrap().iter().all(|m| m.id != second.id));
    assert!(sql.claim_due(500, 60, 100).await.unwrap().iter().any(|m| m.id == second.id));

    // The dead letter is replayed, for another day of attempts.
    assert!(other_node.replay(&third.id, 600).await.unwrap());
    assert!(!other_node.replay(&first.id, 600).await.unwrap(), "a delivered message is not replayed");
    let again = sql.claim_due(600, 60, 100).await.unwrap();
    let replayed = again.iter().find(|m| m.id == third.id).unwrap();
    assert_eq!((replayed.attempts, replayed.created_at), (1, 600));

    // Disabled: its pending messages become dead letters; enabled again, its failures forgotten.
    assert!(sql.set_subscription_status(&sub_a, SubscriptionStatus::Disabled, 700).await.unwrap());
    assert_eq!(sql.pending_count().await.unwrap(), 0);
    assert!(other_node.messages(Some(MessageState::Dead), 1000).await.unwrap().len() >= 39);
    assert!(sql.set_subscription_status(&sub_a, SubscriptionStatus::Active, 701).await.unwrap());
    let enabled = sql.subscriptions().await.unwrap();
    let a = enabled.iter().find(|r| r.subscription.id == sub_a).unwrap();
    assert_eq!((a.status, a.failing_since), (SubscriptionStatus::Active, None));

    // The chain holds the traces written with the messages, whole.
    let all = other_node.all().await.unwrap();
    assert_eq!(all.len(), before + 42);
    assert!(verify_chain(&all).is_empty());
    assert_eq!(all.last().unwrap().event.reference.as_deref(), Some(third.id.as_str()));

    // Finished long enough ago: the delivered forgotten, the dead letters' payloads erased.
    let dead_letters = other_node.messages(Some(MessageState::Dead), 1000).await.unwrap().len();
    assert_eq!(sql.purge_finished(161).await.unwrap(), 0, "nothing finished before 161");
    assert_eq!(sql.purge_finished(10_000).await.unwrap() as usize, 1 + dead_letters);
    assert!(other_node.message(&first.id).await.unwrap().is_none(), "the delivered message is gone");
    let kept: Vec<_> = other_node.messages(Some(MessageState::Dead), 1000).await.unwrap();
    assert_eq!(kept.len(), dead_letters, "the dead letters' records stay for the operator");
    assert!(!other_node.replay(&kept[0].id, 10_001).await.unwrap(), "without its payload, not replayable");
    assert_eq!(sql.purge_finished(10_000).await.unwrap(), 0);

    // The configuration's subscriptions not declared any more are removed; registered ones stay.
    assert_eq!(sql.remove_configured_subscriptions_except(&[], 800).await.unwrap(), 1);
    let left: Vec<String> = sql.subscriptions().await.unwrap().into_iter().map(|r| r.subscription.id).collect();
    assert!(left.contains(&sub_b) && !left.contains(&sub_a));
}
