//! The administrations told of a change of address, each a real receiver of signed
//! notifications, and the national address base a new address is checked against.

use std::sync::Arc;

use relais::config::{ServiceProviderSection, WebhookSection};
use relais_domain::webhook::WebhookSecret;
use relais_domain::{Clock, ManualClock};
use relais_mocks::receiver::MockReceiver;
use tokio::net::TcpListener;

/// The four administrations subscribed to changes of address: service id, name, what the
/// person reads.
pub const ADMINISTRATIONS: [(&str, &str, &str); 4] = [
    ("admin-caf", "Caisse d'allocations familiales", "Vos allocations et aides au logement"),
    ("admin-impots", "Centre des finances publiques", "Votre impôt sur le revenu et votre taxe foncière"),
    ("admin-ameli", "Assurance maladie", "Vos remboursements de soins"),
    ("admin-energie", "Fournisseur d'électricité", "Votre contrat d'électricité"),
];

/// The client secret of administration `id` at the hub.
pub fn administration_secret(id: &str) -> String {
    format!("{id}-client-secret-for-tests-0123456789")
}

/// The webhook secret of administration `id`.
pub fn webhook_secret(id: &str) -> WebhookSecret {
    let mut bytes = [0u8; 32];
    for (byte, source) in bytes.iter_mut().zip(id.bytes().cycle()) {
        *byte = source;
    }
    WebhookSecret::from_random(bytes)
}

/// A running administration: its service id and its receiver.
pub struct Administration {
    pub id: &'static str,
    pub receiver: MockReceiver,
}

/// The administrations' receivers (verifying at `clock`'s time), their services and their
/// subscriptions.
pub async fn start_administrations(
    clock: Arc<ManualClock>,
) -> (Vec<Administration>, Vec<ServiceProviderSection>, Vec<WebhookSection>) {
    let (mut running, mut services, mut subscriptions) = (Vec::new(), Vec::new(), Vec::new());
    for (id, name, description) in ADMINISTRATIONS {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let clock = clock.clone();
        let receiver = MockReceiver::serve(listener, webhook_secret(id), Arc::new(move || clock.now().0)).unwrap();
        services.push(ServiceProviderSection::new(
            id,
            name,
            Some(&administration_secret(id)),
            &format!("https://{id}.example/callback"),
            &["openid", "given_name"],
        ));
        subscriptions.push(WebhookSection {
            id: format!("{id}-adresses"),
            service: id.into(),
            events: vec!["address.changed".into()],
            url: receiver.url().parse().unwrap(),
            secret: Some(webhook_secret(id).expose()),
            secret_file: None,
            description: description.into(),
        });
        running.push(Administration { id, receiver });
    }
    (running, services, subscriptions)
}
