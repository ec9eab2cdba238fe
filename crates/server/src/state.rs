//! The state shared by every handler: settings, registry, ephemeral records, keys, the
//! upstream client, the clock and the page templates. Built once; no global singletons.

use std::sync::{Arc, RwLock};

use relais_domain::Clock;
use relais_oidc::discovery::Endpoints;
use relais_oidc::jose::HubKeys;
use relais_oidc::upstream::{Upstream, UpstreamClient, UpstreamError};
use relais_store::{
    EphemeralRecords, EphemeralStore, KeyStore, OutboxStore, PortalStore, PreferenceStore, Registry, RegistryWriter,
    TraceStore,
};

use crate::engine::support::tracer::Tracer;
use crate::metrics::{MeasuredEphemeral, MeasuredTraces, Metrics};
use crate::pages::Pages;
use crate::settings::HubSettings;

/// What the hub is made of, as the binary assembles it.
pub struct HubParts {
    /// The hub's settings.
    pub settings: HubSettings,
    /// The registry of actors.
    pub registry: Arc<dyn Registry>,
    /// How it is changed (the admin API, the partner portal): the same registry, so that this
    /// node serves a change at once.
    pub registry_writer: Arc<dyn RegistryWriter>,
    /// The ephemeral store backend.
    pub ephemeral: Arc<dyn EphemeralStore>,
    /// The signing keys, as loaded at start.
    pub keys: HubKeys,
    /// Where they are kept (reloaded from there).
    pub key_store: Arc<dyn KeyStore>,
    /// Where traces are recorded.
    pub traces: Arc<dyn TraceStore>,
    /// Where each person's preferences are kept.
    pub preferences: Arc<dyn PreferenceStore>,
    /// Where the partner portal keeps the services declared.
    pub portal: Arc<dyn PortalStore>,
    /// The notifications to administrations and their subscriptions (the same database as the
    /// traces: a change and its notifications are written in one transaction).
    pub outbox: Arc<dyn OutboxStore>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// Cheap to clone: one shared pointer (axum clones the state for every extractor of every
/// request, and a clone of each field was a dozen atomic operations).
#[derive(Clone)]
pub struct AppState(Arc<Hub>);

impl std::ops::Deref for AppState {
    type Target = Hub;

    fn deref(&self) -> &Hub {
        &self.0
    }
}

/// What the handlers share. The agent federation is a view of the same hub (its own issuer,
/// endpoints and upstream callbacks; the same stores, keys and tracer): [`AppState::agents`].
#[derive(Clone)]
pub struct Hub {
    /// The federation this view serves.
    pub(crate) federation: relais_domain::Profile,
    /// The agent federation's view (in the citizen view only).
    agents: Option<AppState>,
    /// The organisation registry's client, if configured.
    pub(crate) organisations: Option<Arc<relais_oidc::organisations::OrganisationRegistry>>,
    pub(crate) settings: Arc<HubSettings>,
    pub(crate) endpoints: Arc<Endpoints>,
    pub(crate) registry: Arc<dyn Registry>,
    pub(crate) registry_writer: Arc<dyn RegistryWriter>,
    pub(crate) records: EphemeralRecords,
    /// Seals the person references given to citizen services (a key derived from the pairwise
    /// secret: every node has it, and it lives as long as the `sub`s do).
    pub(crate) references: Arc<relais_store::KeyRing>,
    keys: Arc<RwLock<Arc<HubKeys>>>,
    pub(crate) key_store: Arc<dyn KeyStore>,
    pub(crate) traces: Arc<dyn TraceStore>,
    pub(crate) tracer: Arc<Tracer>,
    pub(crate) preferences: Arc<dyn PreferenceStore>,
    pub(crate) portal: Arc<dyn PortalStore>,
    pub(crate) outbox: Arc<dyn OutboxStore>,
    pub(crate) upstream: Arc<dyn Upstream>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) pages: Arc<Pages>,
    pub(crate) checkpoints: Arc<crate::checkpoints::Latest>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) catalogue_cache: Arc<crate::engine::catalogue::CatalogueCache>,
    mail_queue: Arc<std::sync::OnceLock<MailQueue>>,
}

impl AppState {
    /// Assembles the hub, with the real clients towards the identity providers (one per
    /// federation: each sends the person back under its own issuer).
    pub fn new(parts: HubParts) -> Result<Self, UpstreamError> {
        let client = |endpoints: &Endpoints| -> Result<Arc<dyn Upstream>, UpstreamError> {
            let timeouts = parts.settings.upstream_timeouts;
            Ok(Arc::new(UpstreamClient::new(&endpoints.issuer, &endpoints.idp_logout_callback, timeouts)?))
        };
        let citizens = client(&Endpoints::new(&parts.settings.issuer))?;
        let agents = client(&Endpoints::new(&agent_issuer(&parts.settings.issuer)))?;
        Ok(Self::with_upstreams(parts, citizens, agents))
    }

    /// Assembles the hub with `upstream` towards the identity providers of both federations.
    pub fn with_upstream(parts: HubParts, upstream: Arc<dyn Upstream>) -> Self {
        Self::with_upstreams(parts, upstream.clone(), upstream)
    }

    /// Assembles the hub with `citizens` towards the citizens' identity providers and `agents`
    /// towards the agents'.
    pub fn with_upstreams(parts: HubParts, citizens: Arc<dyn Upstream>, agents: Arc<dyn Upstream>) -> Self {
        let mut citizen = Self::assemble(parts, citizens);
        let mut agent = (*citizen.0).clone();
        agent.federation = relais_domain::Profile::Agent;
        agent.endpoints = Arc::new(Endpoints::new(&agent_issuer(&citizen.settings.issuer)));
        agent.upstream = agents;
        if let Some(hub) = Arc::get_mut(&mut citizen.0) {
            hub.agents = Some(AppState(Arc::new(agent)));
        }
        citizen
    }

    /// Checks once that each data provider with a `status_url` answers (run every minute by
    /// the process; the catalogue's availability).
    pub async fn check_providers(&self) -> Result<(), relais_store::StoreError> {
        crate::engine::catalogue::check_providers(self).await
    }

    /// One pass of the notifications' sender: the messages due now delivered, retried later or
    /// given up (run every second by the process; tests run it with their clock).
    pub async fn deliver_notifications(
        &self,
        client: &reqwest::Client,
    ) -> Result<crate::engine::notifications::Delivery, relais_store::StoreError> {
        crate::engine::notifications::deliver_due(self, client).await
    }

    /// Forgets the notifications finished more than 30 days ago (delivered ones; dead letters'
    /// payloads); how many.
    pub async fn purge_notifications(&self) -> Result<u64, relais_store::StoreError> {
        crate::engine::notifications::sender::purge_finished(self).await
    }

    /// The agent federation's view of this hub (itself, when it is that view).
    pub fn agents(&self) -> AppState {
        self.0.agents.clone().unwrap_or_else(|| self.clone())
    }

    fn assemble(parts: HubParts, upstream: Arc<dyn Upstream>) -> Self {
        let endpoints = Endpoints::new(&parts.settings.issuer);
        let organisations = parts.settings.organisation_registry.clone().and_then(|url| {
            relais_oidc::organisations::OrganisationRegistry::new(url, parts.settings.upstream_timeouts.request)
                .map_err(|error| tracing::error!(%error, "organisation registry client"))
                .ok()
                .map(Arc::new)
        });
        let pages = Pages::new(parts.settings.brand.clone());
        let metrics = Arc::new(Metrics::default());
        let ephemeral: Arc<dyn EphemeralStore> = Arc::new(MeasuredEphemeral::new(parts.ephemeral, metrics.clone()));
        let traces: Arc<dyn TraceStore> = Arc::new(MeasuredTraces::new(parts.traces, metrics.clone()));
        let references = Arc::new(reference_ring(&parts.settings.pairwise_secret));
        Self(Arc::new(Hub {
            federation: relais_domain::Profile::Citizen,
            agents: None,
            organisations,
            settings: Arc::new(parts.settings),
            endpoints: Arc::new(endpoints),
            registry: parts.registry,
            registry_writer: parts.registry_writer,
            records: EphemeralRecords::new(ephemeral),
            references,
            keys: Arc::new(RwLock::new(Arc::new(parts.keys))),
            key_store: parts.key_store,
            tracer: Arc::new(Tracer::new(traces.clone(), parts.outbox.clone(), metrics.clone())),
            traces,
            preferences: parts.preferences,
            portal: parts.portal,
            outbox: parts.outbox,
            upstream,
            clock: parts.clock,
            pages: Arc::new(pages),
            checkpoints: Arc::default(),
            metrics,
            catalogue_cache: Arc::default(),
            mail_queue: Arc::default(),
        }))
    }
}

/// Where a node's mails wait for its one sender, each batch with the span of its request.
type MailQueue = tokio::sync::mpsc::UnboundedSender<(Vec<relais_mail::Mail>, tracing::Span)>;

/// The ring that seals person references: one key, derived from the pairwise secret under a
/// label of its own.
fn reference_ring(secret: &relais_domain::PairwiseSecret) -> relais_store::KeyRing {
    let key = relais_store::SealingKey::derive("ref1", "person-reference", secret.expose());
    relais_store::KeyRing::one(key)
}

/// The agent federation's issuer: `{hub issuer}/agents`.
pub fn agent_issuer(issuer: &url::Url) -> url::Url {
    let mut agents = issuer.clone();
    agents.set_path(&format!("{}/agents", issuer.path().trim_end_matches('/')));
    agents
}

impl Hub {
    /// The signing keys in use.
    pub(crate) fn keys(&self) -> Arc<HubKeys> {
        match self.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reloads the keys from their store: run periodically, so that a rotation made by
    /// `relais keys rotate` reaches every node.
    pub async fn reload_keys(&self) -> Result<(), crate::keys::KeySetupError> {
        let keys = Arc::new(crate::keys::load(self.key_store.as_ref()).await?);
        match self.keys.write() {
            Ok(mut slot) => *slot = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
        Ok(())
    }

    /// A subscription to every step the hub traces from now on (for webhooks and logout tokens
    /// to come, and for tests).
    pub fn subscribe_steps(&self) -> tokio::sync::broadcast::Receiver<Arc<relais_domain::step::StepEvent>> {
        self.tracer.subscribe()
    }

    /// The hub's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Whether the stores answer (for `/readyz`).
    pub async fn ready(&self) -> Result<(), relais_store::StoreError> {
        self.registry.ping().await?;
        self.records.ping().await
    }
}

impl AppState {
    /// Hands `mails` to the SMTP relay in the background, in the request's span: the page does
    /// not wait for the relay, and a relay that fails is a warning in the log, not a failed
    /// change (the change is made and traced already). Without a relay, the log says so. One
    /// sender per node sends them in the order they were posted (a request's moves reach their
    /// recipients in the order they were made).
    pub(crate) fn post(&self, mails: Vec<relais_mail::Mail>) {
        if mails.is_empty() {
            return;
        }
        let Some(mailer) = self.settings.mailer.clone() else {
            tracing::info!(target: "relais::mail", count = mails.len(), "no [mail] relay configured: not sent");
            return;
        };
        let queue = self.mail_queue.get_or_init(|| {
            let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(async move {
                while let Some((mails, span)) = receiver.recv().await {
                    let sending = async {
                        for mail in mails {
                            match mailer.send(&mail).await {
                                Ok(()) => {
                                    tracing::info!(target: "relais::mail", relay = mailer.relay(), "mail handed to the relay")
                                }
                                Err(error) => tracing::warn!(target: "relais::mail", %error, "mail not sent"),
                            }
                        }
                    };
                    tracing::Instrument::instrument(sending, span).await;
                }
            });
            sender
        });
        if queue.send((mails, tracing::Span::current())).is_err() {
            tracing::warn!(target: "relais::mail", "the mail sender has stopped: not sent");
        }
    }
}
