//! Starts a whole platform per test (the hub on fresh stores, the mock IdPs and DPs, all on
//! ephemeral ports) and drives it as a person ([`browser`]) and as service providers ([`sp`]).

mod agents;
mod browser;
pub mod notifications;
mod sp;

pub use agents::*;
pub use browser::*;
pub use sp::*;

use std::sync::{Arc, OnceLock};

use relais::config::{
    Config, ConfigFile, DataProviderSection, DataScopeSection, HubSection, IdentityProviderSection,
    ServiceProviderSection,
};
use relais_domain::providers::IdTokenAlgorithm;
use relais_domain::registration::TokenEndpointAuthMethod;
use relais_domain::{ManualClock, UnixTime};
use relais_mocks::idp::{default_identities, MockIdp, MockIdpSettings};
use relais_oidc::jose::{HubKeys, KeyMaterial};
use relais_store::{KeyStore, SqlStore, StoredSigningKey};
use tokio::net::TcpListener;
use url::Url;

/// Keys shared by every hub of the test binary (RSA generation is slow).
pub fn shared_keys() -> Vec<StoredSigningKey> {
    static KEYS: OnceLock<Vec<StoredSigningKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            (relais_domain::providers::IdTokenAlgorithm::RS256, "RS256"),
            (relais_domain::providers::IdTokenAlgorithm::ES256, "ES256"),
        ]
        .into_iter()
        .map(|(alg, name)| {
            let material = KeyMaterial::generate(alg).unwrap();
            StoredSigningKey {
                kid: material.kid,
                alg: name.into(),
                private_pem: material.private_pem,
                created_at: 0,
                not_before: 0,
                retire_at: None,
            }
        })
        .collect()
    })
    .clone()
}

/// Where a test platform keeps its state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backends {
    /// A fresh SQLite file and the in-memory ephemeral store.
    Local,
    /// A fresh PostgreSQL schema and a fresh Redis key prefix (`RELAIS_TEST_POSTGRES_URL`,
    /// `RELAIS_TEST_REDIS_URL`).
    Servers,
}

pub fn postgres_url() -> String {
    std::env::var("RELAIS_TEST_POSTGRES_URL").expect("RELAIS_TEST_POSTGRES_URL")
}

pub fn redis_url() -> String {
    std::env::var("RELAIS_TEST_REDIS_URL").expect("RELAIS_TEST_REDIS_URL")
}

/// A database URL of its own for one test: a temporary SQLite file, or a new PostgreSQL schema.
pub async fn fresh_database_url(backends: Backends) -> String {
    let name = format!("relais_test_{}", relais_oidc::random::random_token().to_lowercase().replace(['-', '_'], ""));
    match backends {
        Backends::Local => format!("sqlite://{}", std::env::temp_dir().join(format!("{name}.db")).display()),
        Backends::Servers => {
            let base = postgres_url();
            let admin = SqlStore::connect(&base).await.unwrap();
            sqlx::query(&format!("CREATE SCHEMA {name}")).execute(admin.pool()).await.unwrap();
            let separator = if base.contains('?') { '&' } else { '?' };
            format!("{base}{separator}options=-c%20search_path%3D{name}")
        }
    }
}

/// The three mock IdPs, registered for a hub at `issuer`, and their registrations there.
pub async fn start_mock_idps(issuer: &str) -> (Vec<MockIdp>, Vec<IdentityProviderSection>) {
    let mut idps = Vec::new();
    let mut sections = Vec::new();
    for (index, (id, name, level)) in IDPS.iter().enumerate() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let idp_issuer = Url::parse(&format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())).unwrap();
        let settings = MockIdpSettings {
            id: (*id).into(),
            display_name: (*name).into(),
            issuer: idp_issuer.clone(),
            client_id: "relais-hub".into(),
            client_secret: format!("idp-secret-{id}"),
            redirect_uris: vec![format!("{issuer}/idp/{id}/callback")],
            post_logout_redirect_uris: vec![format!("{issuer}/idp/logout-callback")],
            acr: (*level).into(),
            identities: default_identities(id, index as u8),
        };
        idps.push(MockIdp::serve(listener, settings).await.unwrap());
        let level = relais_domain::EidasLevel::from_acr(level).unwrap();
        let secret = format!("idp-secret-{id}");
        sections.push(IdentityProviderSection::new(id, name, idp_issuer, "relais-hub", &secret, level));
    }
    (idps, sections)
}

/// `sp-a`'s client secret.
pub const SECRET_A: &str = "secret-a-for-tests-0123456789abcdef";

/// The secret of a mock data provider at the hub.
pub fn dp_secret(id: &str) -> String {
    format!("dp-secret-{id}-0123456789abcdef0123456789")
}

/// The three mock data providers, checking tokens at the hub at `issuer`, and their
/// registrations: sp-a may ask the CAF for both its scopes and the tax office for the income;
/// no other SP may ask anything.
pub async fn start_mock_dps(issuer: &str) -> (Vec<relais_mocks::dp::MockDp>, Vec<DataProviderSection>) {
    use relais_mocks::dp::{DpKind, MockDp, MockDpSettings};
    let mut dps = Vec::new();
    let mut sections = Vec::new();
    for kind in DpKind::ALL {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let settings = MockDpSettings {
            kind,
            hub_issuer: Url::parse(issuer).unwrap(),
            client_id: kind.id().into(),
            client_secret: dp_secret(kind.id()),
        };
        dps.push(MockDp::serve(listener, settings).await.unwrap());
        let mut section = DataProviderSection::new(kind.id(), kind.name(), &dp_secret(kind.id()));
        let allowed: &[&str] = match kind {
            DpKind::Caf => &["quotient_familial", "enfants"],
            DpKind::Impots => &["revenu_fiscal_reference"],
            DpKind::Adresse => &[],
        };
        if !allowed.is_empty() {
            section.allowed_service_providers.insert("sp-a".into(), allowed.iter().map(|s| (*s).to_owned()).collect());
        }
        section.scopes = kind.scopes().iter().map(|(name, label, _)| DataScopeSection::new(name, label, "")).collect();
        if kind == DpKind::Caf {
            section.eligibility = kind.eligibility().to_owned();
            section.rate_limit_per_minute = Some(kind.rate_limit_per_minute());
            section.openapi = Some(kind.openapi());
            // Checked by the hub: the mock answers its home page.
            let mut status = dps.last().map(|dp: &MockDp| dp.api_url()).unwrap();
            status.set_path("/");
            section.status_url = Some(status.to_string());
        }
        if kind == DpKind::Impots {
            // Checked too, at an address where nothing listens.
            section.status_url = Some("http://127.0.0.1:9/sante".into());
        }
        sections.push(section);
    }
    (dps, sections)
}

/// The test platform's service providers: two with secrets (basic and post), one with
/// `private_key_jwt`, a public one, one restricted to one IdP.
fn test_service_providers() -> Vec<ServiceProviderSection> {
    let mut sp_a = ServiceProviderSection::new(
        "sp-a",
        "Mairie A",
        Some(SECRET_A),
        "https://sp-a.example/callback",
        &["openid", "identite_pivot", "email", "person_reference"],
    );
    sp_a.post_logout_redirect_uris = vec!["https://sp-a.example/logged-out".into()];
    sp_a.id_token_signed_response_alg = IdTokenAlgorithm::ES256;
    let mut sp_b = ServiceProviderSection::new(
        "sp-b",
        "Caisse B",
        Some("secret-b-for-tests-0123456789abcdef"),
        "https://sp-b.example/callback",
        &["openid", "given_name", "family_name", "person_reference"],
    );
    sp_b.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost;
    let mut sp_jwt = ServiceProviderSection::new(
        "sp-jwt",
        "Service JWT",
        None,
        "https://sp-jwt.example/callback",
        &["openid", "birth"],
    );
    sp_jwt.token_endpoint_auth_method = TokenEndpointAuthMethod::PrivateKeyJwt;
    sp_jwt.jwks = Some(sp_jwt_keys().jwks(0).to_string());
    let sp_public = ServiceProviderSection::new(
        "sp-public",
        "Application mobile",
        None,
        "https://sp-public.example/callback",
        &["openid", "profile"],
    );
    let mut sp_restricted = ServiceProviderSection::new(
        "sp-restricted",
        "Service restreint",
        Some("secret-r-for-tests-0123456789abcdef"),
        "https://sp-restricted.example/callback",
        &["openid"],
    );
    sp_restricted.allowed_idps = Some(vec!["impots".into()]);
    vec![sp_a, sp_b, sp_jwt, sp_public, sp_restricted]
}

/// A key pair of an SP using `private_key_jwt`.
pub fn sp_jwt_keys() -> &'static HubKeys {
    static KEYS: OnceLock<HubKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        HubKeys::from_material(vec![KeyMaterial::generate(relais_domain::providers::IdTokenAlgorithm::ES256).unwrap()])
            .unwrap()
    })
}

pub const IDPS: [(&str, &str, &str); 3] = [
    ("impots", "Impôts", "eidas1"),
    ("ameli", "Assurance maladie", "eidas2"),
    ("numerique", "Identité numérique", "eidas3"),
];

/// The operator's token of the admin API on every test platform.
pub const OPERATOR_TOKEN: &str = "operator-token-for-tests-0123456789abcdef";

pub struct Platform {
    pub dps: Vec<relais_mocks::dp::MockDp>,
    pub hub: Url,
    pub issuer: String,
    pub idps: Vec<MockIdp>,
    pub agent_idps: Vec<MockIdp>,
    pub organisations: relais_mocks::organisations::MockOrganisations,
    /// The mail relay the hub hands its mail to, and its mailbox.
    pub mailbox: relais_mocks::mail::MockMailbox,
    pub clock: Arc<ManualClock>,
    pub state: relais_server::AppState,
    pub config_toml: String,
    pub database_url: String,
    pub redis_prefix: String,
    /// The administrations subscribed to changes of address, each with its receiver.
    pub administrations: Vec<notifications::Administration>,
    /// The national address base.
    pub addresses: relais_mocks::addresses::MockAddressBase,
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

impl Platform {
    pub async fn start() -> Platform {
        Self::start_on(Backends::Local).await
    }

    pub async fn start_on(backends: Backends) -> Platform {
        Self::start_with(backends, None).await
    }

    /// With Redis reached at `redis_url` (a proxy, say) instead of `RELAIS_TEST_REDIS_URL`.
    pub async fn start_with(backends: Backends, redis: Option<String>) -> Platform {
        let hub_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hub_port = hub_listener.local_addr().unwrap().port();
        // The hub answers at `localhost`, the IdPs at `127.0.0.1`: a browser keeps their cookies
        // apart, as it would for different sites.
        let issuer = format!("http://localhost:{hub_port}");
        let (idps, idp_sections) = start_mock_idps(&issuer).await;
        let (dps, dp_sections) = start_mock_dps(&issuer).await;
        let (agent_idps, agent_idp_sections, organisations, registry_url) = start_agent_idps(&issuer).await;
        let smtp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let smtp_port = smtp.local_addr().unwrap().port();
        let mailbox = relais_mocks::mail::MockMailbox::serve(smtp).await.unwrap();
        let clock = Arc::new(ManualClock::new(UnixTime(now())));
        let (administrations, administration_sections, webhook_sections) =
            notifications::start_administrations(clock.clone()).await;
        let address_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address_base = format!("http://127.0.0.1:{}", address_listener.local_addr().unwrap().port());
        let addresses = relais_mocks::addresses::MockAddressBase::serve(
            address_listener,
            relais_mocks::addresses::default_addresses(),
        )
        .await
        .unwrap();
        let database_url = fresh_database_url(backends).await;
        let redis_prefix = format!("relais-test-{}:", relais_oidc::random::random_token());
        let mut file =
            ConfigFile::new(HubSection::new(Url::parse(&issuer).unwrap(), "test-pairwise-secret-0123456789abcdef"));
        file.storage.database_url = Some(database_url.clone());
        // The mocks answer at once; a hanging one is given up on soon.
        file.hub.upstream_timeout = 2;
        file.hub.upstream_connect_timeout = 1;
        if backends == Backends::Servers {
            file.storage.ephemeral_url = Some(redis.unwrap_or_else(redis_url));
            file.storage.redis_key_prefix = Some(redis_prefix.clone());
            file.storage.ephemeral_encryption_keys = vec!["k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into()];
        }
        file.identity_providers = idp_sections.into_iter().chain(agent_idp_sections).collect();
        file.data_providers = dp_sections;
        file.service_providers = test_service_providers()
            .into_iter()
            .chain(agents::agent_service_providers())
            .chain(administration_sections)
            .collect();
        file.webhooks = webhook_sections;
        file.notifications =
            Some(relais::config::NotificationsSection { address_base: Some(address_base.parse().unwrap()) });
        file.habilitations = agents::test_habilitations();
        file.hub.organisation_registry = Some(registry_url);
        file.portal = Some(relais::config::PortalSection {
            sandbox_identity_providers: vec!["impots".into()],
            sandbox_data_providers: vec!["caf".into()],
            instructors: vec![relais::config::InstructorSection {
                email: "camille.martin@numerique.gouv.fr".into(),
                data_providers: vec![],
                operator: true,
            }],
        });
        file.mail = Some(relais::config::MailSection {
            relay: Some(format!("smtp://127.0.0.1:{smtp_port}")),
            relay_file: None,
            from: "Relais <ne-pas-repondre@relais.test>".into(),
        });
        file.operators = vec![relais::config::OperatorSection {
            name: "ops".into(),
            token: Some(OPERATOR_TOKEN.into()),
            token_file: None,
        }];
        let toml = file.to_toml().unwrap();
        let config = Config::from_toml(&toml, &|_| None).unwrap();
        let sql = relais::launch::open_database(&config).await.unwrap();
        if sql.load().await.unwrap().is_empty() {
            for key in shared_keys() {
                sql.add(&key).await.unwrap();
            }
        }
        let ephemeral = relais::launch::ephemeral_store(&config, clock.clone()).unwrap();
        let state = relais::launch::assemble_with(&config, sql, ephemeral, clock.clone()).await.unwrap();
        tokio::spawn(relais_server::serve(hub_listener, state.clone()));
        Platform {
            dps,
            hub: Url::parse(&issuer).unwrap(),
            issuer,
            idps,
            agent_idps,
            organisations,
            mailbox,
            clock,
            state,
            config_toml: toml,
            database_url,
            redis_prefix,
            administrations,
            addresses,
        }
    }

    /// The receiver of administration `id`.
    pub fn administration(&self, id: &str) -> &relais_mocks::receiver::MockReceiver {
        &self.administrations.iter().find(|a| a.id == id).unwrap().receiver
    }

    /// The platform's configuration, parsed again.
    pub fn config(&self) -> Config {
        Config::from_toml(&self.config_toml, &|_| None).unwrap()
    }

    /// Another hub node on the same stores, as behind one load balancer; its base URL.
    pub async fn add_node(&self) -> Url {
        let config = Config::from_toml(&self.config_toml, &|_| None).unwrap();
        let sql = relais::launch::open_database(&config).await.unwrap();
        let ephemeral = relais::launch::ephemeral_store(&config, self.clock.clone()).unwrap();
        let state = relais::launch::assemble_with(&config, sql, ephemeral, self.clock.clone()).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://localhost:{}", listener.local_addr().unwrap().port())).unwrap();
        tokio::spawn(relais_server::serve(listener, state));
        url
    }

    /// Every trace recorded, in order.
    pub async fn state_traces(&self) -> Vec<relais_domain::trace::TraceRecord> {
        use relais_store::TraceStore;
        relais_store::SqlStore::connect(&self.database_url).await.unwrap().all().await.unwrap()
    }

    pub fn idp(&self, id: &str) -> &MockIdp {
        let index = IDPS.iter().position(|(i, _, _)| *i == id).unwrap();
        &self.idps[index]
    }

    pub fn agent_idp(&self, id: &str) -> &MockIdp {
        let index = AGENT_IDPS.iter().position(|(i, _, _, _)| *i == id).unwrap();
        &self.agent_idps[index]
    }

    pub fn url(&self, path: &str) -> Url {
        self.hub.join(path).unwrap()
    }

    /// The agent federation's issuer, `{hub}/agents`.
    pub fn agents_issuer(&self) -> String {
        format!("{}/agents", self.issuer)
    }

    /// Data provider `dp` asks checktoken about `token`: the answer (always a 200).
    pub async fn checktoken(&self, dp: &str, token: &str) -> serde_json::Value {
        let answer = reqwest::Client::new()
            .post(self.url("/checktoken"))
            .basic_auth(dp, Some(dp_secret(dp)))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        answer.json().await.unwrap()
    }
}

/// The JSON log lines of everything that runs on this thread (the hub, the mocks and a
/// `#[tokio::test]` share its one thread) while the guard lives.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    pub fn start() -> (LogCapture, tracing::subscriber::DefaultGuard) {
        let capture = LogCapture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt().json().with_writer(move || writer.clone()).finish();
        (capture, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// The first line whose message is `message`.
    pub fn line(&self, message: &str) -> Option<serde_json::Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .find(|line| line["fields"]["message"] == message)
    }
}
