//! "Je déménage": the person declares a new address once on their dashboard and chooses the
//! administrations to tell; exactly those receive one signed notification each, under the `sub`
//! they know the person by, delivered at least once through failures and outages, with the
//! same `webhook-id` on every attempt.

use std::time::Duration;

use relais_domain::trace::TraceKind;
use relais_mocks::receiver::Fault;
use relais_server::engine::notifications::sender;

use crate::harness::notifications::{administration_secret, webhook_secret};
use crate::harness::*;

const CERGY: &str = "95127_0420_00008";

/// Declares the move to `address` from the dashboard of `browser` (signed in), telling the
/// administrations `to` (service ids); the dashboard's answer.
async fn declare_move(platform: &Platform, browser: &Browser, query: &str, address: &str, to: &[&str]) -> String {
    let page = browser.get(platform.url("/tableau-de-bord/demenagement").as_str()).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = hidden_inputs(&html).into_iter().find(|(name, _)| name == "csrf").unwrap().1;
    let form = vec![("csrf".to_owned(), csrf.clone()), ("adresse".to_owned(), query.to_owned())];
    let found = browser.post(platform.url("/tableau-de-bord/demenagement").as_str(), &form).await;
    assert_eq!(found.status(), 200);
    let found = found.text().await.unwrap();
    assert!(found.contains(&format!("value=\"{address}\"")), "{found}");
    for (_, name, _) in crate::harness::notifications::ADMINISTRATIONS {
        assert!(found.contains(&name.replace('\'', "&#x27;")), "{name} offered: {found}");
    }
    let ticked = found.split('<').filter(|tag| tag.contains("name=\"administration\"") && tag.contains("checked"));
    assert_eq!(ticked.count(), 0, "nothing ticked for the person");
    let mut form = vec![("csrf".to_owned(), csrf), ("adresse".to_owned(), address.to_owned())];
    form.extend(to.iter().map(|id| ("administration".to_owned(), format!("{id}-adresses"))));
    let sent = browser.post(platform.url("/tableau-de-bord/demenagement/confirmer").as_str(), &form).await;
    location(&sent)
}

async fn deliver(platform: &Platform) -> relais_server::engine::notifications::Delivery {
    platform.state.deliver_notifications(&sender::client()).await.unwrap()
}

/// The `sub` administration `id` knows test identity `identity` of `idp` by, from a sign-in
/// there by the `openidconnect` crate.
async fn sub_at(platform: &Platform, id: &str, idp: &str, identity: usize) -> String {
    let sp = Sp::discover(platform, id, Some(&administration_secret(id)), openidconnect::AuthType::BasicAuth).await;
    sign_in(platform, &Browser::new(), &sp, &["openid"], idp, identity).await.sub
}

#[tokio::test]
async fn a_change_of_address_reaches_exactly_the_two_administrations_chosen_each_under_its_own_sub() {
    let platform = Platform::start().await;
    let browser = Browser::new();
    let dashboard = dashboard(&platform, &browser, "impots", 0).await;
    assert!(dashboard.contains("href=\"/tableau-de-bord/demenagement\""), "{dashboard}");

    let back = declare_move(&platform, &browser, "8 bd du Port Cergy", CERGY, &["admin-caf", "admin-energie"]).await;
    assert_eq!(back, "/tableau-de-bord#demenagements");
    assert!(platform.administration("admin-caf").attempts().is_empty(), "sent by the outbox, not by the page");
    assert_eq!(platform.addresses.searches(), 1, "the address checked against the national base");

    let pass = deliver(&platform).await;
    assert_eq!((pass.delivered, pass.retried, pass.given_up), (2, 0, 0));
    assert_eq!(deliver(&platform).await.claimed(), 0, "delivered once");
    for silent in ["admin-impots", "admin-ameli"] {
        assert!(platform.administration(silent).attempts().is_empty(), "{silent} was not chosen");
    }
    let mut subs = Vec::new();
    for chosen in ["admin-caf", "admin-energie"] {
        let receiver = platform.administration(chosen);
        let received = receiver.received();
        assert_eq!(received.len(), 1, "{chosen}");
        assert!(receiver.refused().is_empty() && receiver.duplicates() == 0);
        let payload = &received[0].payload;
        assert_eq!(payload["type"], "address.changed");
        assert_eq!(payload["data"]["address"]["id"], CERGY);
        assert_eq!(payload["data"]["address"]["label"], "8 Boulevard du Port 95000 Cergy");
        assert_eq!(payload["data"]["address"]["citycode"], "95127");
        let keys: Vec<&String> = payload["data"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["address", "sub"], "no other identifier of the person");
        let sub = payload["data"]["sub"].as_str().unwrap().to_owned();
        assert_eq!(sub, sub_at(&platform, chosen, "impots", 0).await, "the sub {chosen} knows the person by");
        subs.push(sub);
    }
    assert_ne!(subs[0], subs[1], "pairwise: no shared identifier");

    let traces = platform.state_traces().await;
    let notifications: Vec<_> =
        traces.iter().filter(|r| r.event.kind == TraceKind::Notification).map(|r| r.event.outcome.as_str()).collect();
    assert_eq!(notifications, ["queued", "queued", "delivered", "delivered"]);
    assert_eq!(traces.iter().filter(|r| r.event.kind == TraceKind::AddressChange).count(), 1);
    let text = serde_json::to_string(&traces).unwrap();
    assert!(!text.contains("Boulevard du Port"), "the address is in no trace");
    let store = relais_store::SqlStore::connect(&platform.database_url).await.unwrap();
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_messages WHERE payload IS NOT NULL")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(kept, 0, "the payloads (the address) are erased once delivered");

    let dashboard = browser.get(platform.url("/tableau-de-bord").as_str()).await.text().await.unwrap();
    assert!(dashboard.contains("Votre nouvelle adresse est transmise"), "{dashboard}");
    let received = dashboard.matches("Changement d&#x27;adresse reçu par l&#x27;administration").count();
    assert!(received >= 2, "each delivery shown with its state: {dashboard}");
    assert!(
        dashboard.contains("Caisse d&#x27;allocations familiales")
            && dashboard.contains("Fournisseur d&#x27;électricité")
    );

    assert_eq!(platform.state.purge_notifications().await.unwrap(), 0, "kept 30 days for the operator");
    platform.clock.advance(31 * 86_400);
    assert_eq!(platform.state.purge_notifications().await.unwrap(), 2, "then forgotten");
}

/// A signed-in person declares a move to Cergy for `to`; the platform and their browser.
async fn moved_for(to: &[&str]) -> (Platform, Browser) {
    let platform = Platform::start().await;
    let browser = Browser::new();
    dashboard(&platform, &browser, "ameli", 1).await;
    declare_move(&platform, &browser, "8 boulevard du port cergy", CERGY, to).await;
    (platform, browser)
}

#[tokio::test]
async fn a_receiver_down_for_ten_minutes_receives_the_notification_once_it_is_back() {
    let (platform, browser) = moved_for(&["admin-ameli"]).await;
    let receiver = platform.administration("admin-ameli");
    receiver.down().await;
    let mut failed = 0;
    for _ in 0..60 {
        failed += deliver(&platform).await.retried;
        platform.clock.advance(10);
    }
    assert!(failed >= 5, "tried again and again while it was down: {failed}");
    assert!(receiver.received().is_empty());
    receiver.up().await.unwrap();
    let mut delivered = 0;
    for _ in 0..90 {
        delivered += deliver(&platform).await.delivered;
        if delivered > 0 {
            break;
        }
        platform.clock.advance(10);
    }
    assert_eq!(delivered, 1, "delivered within 15 minutes of coming back");
    assert_eq!(receiver.received().len(), 1);
    // A fresh sign-in: the dashboard session of the move has expired meanwhile.
    drop(browser);
    let dashboard = dashboard(&platform, &Browser::new(), "ameli", 1).await;
    assert!(dashboard.contains("reçu par l&#x27;administration"), "{dashboard}");
}

#[tokio::test]
async fn a_receiver_answering_500_three_times_then_200_receives_it_once_with_the_same_webhook_id() {
    let platform = Platform::start().await;
    platform.administration("admin-caf").set_fault(Fault::Fail(3));
    let browser = Browser::new();
    dashboard(&platform, &browser, "impots", 0).await;
    declare_move(&platform, &browser, "8 boulevard du port cergy", CERGY, &["admin-caf"]).await;
    let mut outcomes = Vec::new();
    while outcomes.last() != Some(&"delivered") && outcomes.len() < 10 {
        let pass = deliver(&platform).await;
        if pass.claimed() > 0 {
            outcomes.push(if pass.delivered == 1 { "delivered" } else { "retried" });
        }
        platform.clock.advance(60);
    }
    assert_eq!(outcomes, ["retried", "retried", "retried", "delivered"]);
    let receiver = platform.administration("admin-caf");
    let attempts = receiver.attempts();
    assert_eq!(attempts.len(), 4);
    assert!(attempts.iter().all(|id| *id == attempts[0]) && attempts[0].starts_with("msg_"), "{attempts:?}");
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(receiver.received()[0].id, attempts[0]);
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_in_time_is_tried_again() {
    let (platform, _browser) = moved_for(&["admin-impots"]).await;
    let receiver = platform.administration("admin-impots");
    receiver.set_fault(Fault::Slow(Duration::from_secs(3)));
    let impatient = sender::client_waiting(Duration::from_millis(300));
    let pass = platform.state.deliver_notifications(&impatient).await.unwrap();
    assert_eq!((pass.delivered, pass.retried), (0, 1));
    receiver.set_fault(Fault::None);
    platform.clock.advance(3_600);
    assert_eq!(deliver(&platform).await.delivered, 1);
    let ids: Vec<String> = receiver.received().into_iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 1, "the slow answer may have been accepted too, but only once: {ids:?}");
}

/// Posts `body` to `receiver` with these Standard Webhooks headers; the status.
async fn post_signed(url: &str, id: &str, timestamp: u64, signature: &str, body: &str) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_receivers_refuse_a_forged_a_stale_or_a_replayed_notification() {
    use relais_domain::webhook::{sign, WebhookSecret};
    use relais_domain::Clock;
    let platform = Platform::start().await;
    let receiver = platform.administration("admin-caf");
    let now = platform.clock.now().0;
    let body = r#"{"type":"address.changed","timestamp":"2026-12-03T10:00:00Z","data":{"sub":"x"}}"#;
    let secret = webhook_secret("admin-caf");
    let good = sign(&secret, "msg_1", now, body.as_bytes());
    assert_eq!(post_signed(&receiver.url(), "msg_1", now, &good, body).await, 204);
    assert_eq!(post_signed(&receiver.url(), "msg_1", now, &good, body).await, 409, "the same request again: a replay");
    let forged = sign(&WebhookSecret::from_random([7; 32]), "msg_2", now, body.as_bytes());
    assert_eq!(post_signed(&receiver.url(), "msg_2", now, &forged, body).await, 400, "another secret");
    let tampered = body.replace("\"x\"", "\"y\"");
    assert_eq!(post_signed(&receiver.url(), "msg_1", now, &good, &tampered).await, 400, "another body");
    let stale = sign(&secret, "msg_3", now - 600, body.as_bytes());
    assert_eq!(post_signed(&receiver.url(), "msg_3", now - 600, &stale, body).await, 400, "ten minutes old");
    let retry = sign(&secret, "msg_1", now + 5, body.as_bytes());
    assert_eq!(post_signed(&receiver.url(), "msg_1", now + 5, &retry, body).await, 204, "a retry is accepted");
    assert_eq!(receiver.received().len(), 1, "and recorded once");
    assert_eq!(receiver.duplicates(), 1);
    assert_eq!(receiver.refused().len(), 4, "{:?}", receiver.refused());
}

/// Runs `relais webhooks --url hub --token … args`; its exit status and standard output.
async fn relais_webhooks(hub: &url::Url, args: &[&str]) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_relais"))
        .args(["webhooks", "--url", hub.as_str(), "--token", OPERATOR_TOKEN])
        .args(args)
        .output()
        .await
        .unwrap();
    (output.status.success(), String::from_utf8(output.stdout).unwrap() + &String::from_utf8(output.stderr).unwrap())
}

#[tokio::test]
async fn a_receiver_failing_for_a_day_is_disabled_and_its_dead_letter_replayed_by_the_operator() {
    let (platform, browser) = moved_for(&["admin-energie"]).await;
    let receiver = platform.administration("admin-energie");
    receiver.set_fault(Fault::Fail(u32::MAX));
    let (mut given_up, mut disabled) = (0, 0);
    for _ in 0..30 {
        let pass = deliver(&platform).await;
        (given_up, disabled) = (given_up + pass.given_up, disabled + pass.disabled);
        platform.clock.advance(3_600);
    }
    assert_eq!((given_up, disabled), (1, 1), "given up after 24 hours of attempts, and the receiver disabled");
    let (ok, list) = relais_webhooks(&platform.hub, &["list"]).await;
    assert!(ok, "{list}");
    let subscriptions: serde_json::Value = serde_json::from_str(&list).unwrap();
    let energie = subscriptions.as_array().unwrap().iter().find(|s| s["id"] == "admin-energie-adresses").unwrap();
    assert_eq!(energie["status"], "disabled", "shown to the operator: {list}");
    assert!(energie["failing_since"].is_u64());
    assert!(!list.contains("whsec_"), "no secret shown: {list}");
    let (ok, dead) = relais_webhooks(&platform.hub, &["messages", "--state", "dead"]).await;
    assert!(ok, "{dead}");
    let dead: serde_json::Value = serde_json::from_str(&dead).unwrap();
    assert_eq!(dead.as_array().unwrap().len(), 1, "{dead}");
    let id = dead[0]["id"].as_str().unwrap().to_owned();
    assert!(dead[0]["last_error"].as_str().unwrap().contains("HTTP 500"), "{dead}");
    drop(browser);
    let dashboard = dashboard(&platform, &Browser::new(), "ameli", 1).await;
    assert!(dashboard.contains("non remis à l&#x27;administration"), "the person sees it failed: {dashboard}");

    receiver.set_fault(Fault::None);
    let (ok, refused) = relais_webhooks(&platform.hub, &["replay", &id]).await;
    assert!(!ok && refused.contains("enable it first"), "{refused}");
    let (ok, out) = relais_webhooks(&platform.hub, &["enable", "admin-energie-adresses"]).await;
    assert!(ok, "{out}");
    let (ok, out) = relais_webhooks(&platform.hub, &["replay", &id]).await;
    assert!(ok, "{out}");
    let (ok, again) = relais_webhooks(&platform.hub, &["replay", &id]).await;
    assert!(!ok && again.contains("404"), "no longer a dead letter: {again}");
    assert_eq!(deliver(&platform).await.delivered, 1);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].id, id, "the same webhook-id after the replay");
    let traces = platform.state_traces().await;
    let replayed = traces.iter().find(|r| r.event.outcome == "replayed").unwrap();
    assert_eq!(replayed.event.author.as_deref(), Some("operator:ops"));
}

#[tokio::test]
async fn a_change_of_address_refused_or_incomplete_sends_nothing_and_says_why() {
    let platform = Platform::start().await;
    let anonymous = Browser::new();
    let away = anonymous.get(platform.url("/tableau-de-bord/demenagement").as_str()).await;
    assert_eq!(location(&away), "/tableau-de-bord", "signed out: to the dashboard's sign-in");

    let browser = Browser::new();
    dashboard(&platform, &browser, "impots", 0).await;
    let moving = platform.url("/tableau-de-bord/demenagement").to_string();
    let confirm = platform.url("/tableau-de-bord/demenagement/confirmer").to_string();
    let html = browser.get(&moving).await.text().await.unwrap();
    let csrf = hidden_inputs(&html).into_iter().find(|(name, _)| name == "csrf").unwrap().1;
    let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());

    let short = browser.post(&moving, &[pair("csrf", &csrf), pair("adresse", "8")]).await.text().await.unwrap();
    assert!(short.contains("Saisissez une adresse de 3 à 200 caractères") && short.contains("aria-invalid=\"true\""));
    let unknown = browser.post(&moving, &[pair("csrf", &csrf), pair("adresse", "Impasse Nulle Part")]).await;
    assert!(unknown.text().await.unwrap().contains("n&#x27;a pas été trouvée dans la Base Adresse Nationale"));
    let forged = browser.post(&moving, &[pair("csrf", "forged"), pair("adresse", "8 bd du port cergy")]).await;
    assert_eq!(forged.status(), 400, "a search without the page's token");

    browser.post(&moving, &[pair("csrf", &csrf), pair("adresse", "8 bd du port cergy")]).await;
    let chosen = pair("administration", "admin-caf-adresses");
    let cases = [
        (vec![pair("csrf", "forged"), pair("adresse", CERGY), chosen.clone()], None),
        (
            vec![pair("csrf", &csrf), pair("adresse", "75056_9999_00001"), chosen.clone()],
            Some("choisissez votre adresse"),
        ),
        (vec![pair("csrf", &csrf), pair("adresse", CERGY)], Some("cochez au moins une administration")),
        (
            vec![pair("csrf", &csrf), pair("adresse", CERGY), pair("administration", "unknown")],
            Some("cochez au moins une administration"),
        ),
    ];
    for (form, said) in cases {
        let answer = browser.post(&confirm, &form).await;
        match said {
            None => assert_eq!(answer.status(), 400, "a confirmation without the page's token"),
            Some(said) => {
                assert_eq!(location(&answer), "/tableau-de-bord/demenagement");
                let page = browser.get(&moving).await.text().await.unwrap();
                assert!(page.contains(said), "{said}: {page}");
                assert!(page.contains(&format!("value=\"{CERGY}\"")), "the candidates are offered again");
            }
        }
    }
    assert_eq!(deliver(&platform).await.claimed(), 0, "nothing was queued");
    let traces = platform.state_traces().await;
    assert!(!traces.iter().any(|r| matches!(r.event.kind, TraceKind::AddressChange | TraceKind::Notification)));
}
