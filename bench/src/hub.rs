//! The hub under test: its configuration, typed as the hub reads it, and its process pinned to
//! core 0 with a mock IdP (in this process) registered for it.

use std::path::PathBuf;

use relais::config::{
    ConfigFile, DataProviderSection, DataScopeSection, HabilitationSection, HubSection, IdentityProviderSection,
    LogFormat, ServiceProviderSection,
};
use relais_domain::providers::IdTokenAlgorithm;
use relais_domain::{EidasLevel, Profile};
use relais_mocks::idp::{default_identities, ministry_agents, MockIdp, MockIdpSettings};
use url::Url;

use crate::{process, Cli};

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub const SP_SECRET: &str = "bench-sp-secret-0123456789abcdef0123";
pub const DP_SECRET: &str = "bench-dp-secret-0123456789abcdef0123";

/// The hub's configuration for the benchmark, typed as the hub reads it; `redis`: the
/// ephemeral store there, under a fresh key prefix.
/// The agent the agent sign-in workload signs in (of the ministry directory's test agents).
pub const AGENT_EMAIL: &str = "camille.martin@numerique.gouv.fr";

fn hub_config(
    port: u16,
    idp_issuer: &str,
    agent_idp_issuer: &str,
    data_dir: &std::path::Path,
    redis: Option<&str>,
    large: bool,
) -> anyhow::Result<String> {
    let mut hub =
        HubSection::new(Url::parse(&format!("http://localhost:{port}"))?, "bench-pairwise-secret-0123456789abcdef");
    hub.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    hub.data_dir = data_dir.to_path_buf();
    hub.access_token_lifetime = 3600;
    hub.log_format = LogFormat::Json;
    let mut file = ConfigFile::new(hub);
    if let Some(url) = redis {
        file.storage.ephemeral_url = Some(url.to_owned());
        file.storage.redis_key_prefix = Some(format!("relais-bench-{}:", free_port()?));
        file.storage.ephemeral_encryption_keys = vec!["k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into()];
    }
    let idp = Url::parse(idp_issuer)?;
    file.identity_providers = vec![IdentityProviderSection::new(
        "mock",
        "Mock IdP",
        idp,
        "relais",
        "bench-idp-secret",
        EidasLevel::Substantial,
    )];
    let mut sp = ServiceProviderSection::new(
        "bench-sp",
        "Bench SP",
        Some(SP_SECRET),
        "https://sp.example/callback",
        &["openid", "profile", "person_reference"],
    );
    sp.id_token_signed_response_alg = IdTokenAlgorithm::ES256;
    // The same service naming no algorithm: RS256, Core's default.
    let sp_rs256 = ServiceProviderSection::new(
        "bench-sp-rs256",
        "Bench SP (RS256)",
        Some(SP_SECRET),
        "https://sp.example/callback",
        &["openid", "profile"],
    );
    file.service_providers = vec![sp, sp_rs256];
    let mut dp = DataProviderSection::new("bench-dp", "Bench DP", DP_SECRET);
    for sp in ["bench-sp", "bench-sp-rs256"] {
        dp.allowed_service_providers.insert(sp.into(), vec!["quotient_familial".into()]);
    }
    dp.scopes = vec![DataScopeSection::new("quotient_familial", "Quotient familial", "")];
    file.data_providers = vec![dp];
    // The agent federation: one directory for the agent's domain, an agent service (RS256, the
    // default) and the habilitation of the agent's organisation for the provider's scope.
    let mut agent_idp = IdentityProviderSection::new(
        "mock-agents",
        "Mock agent directory",
        Url::parse(agent_idp_issuer)?,
        "relais",
        "bench-idp-secret",
        EidasLevel::Low,
    );
    agent_idp.profile = Profile::Agent;
    agent_idp.require_acr = false;
    agent_idp.scopes = ["openid", "given_name", "usual_name", "email", "uid", "siret"].map(String::from).to_vec();
    agent_idp.domains = vec!["numerique.gouv.fr".into()];
    file.identity_providers.push(agent_idp);
    let mut agent_sp = ServiceProviderSection::new(
        "bench-agent",
        "Bench agent SP",
        Some(SP_SECRET),
        "https://sp.example/callback",
        &["openid", "given_name", "usual_name", "email", "uid", "siret"],
    );
    agent_sp.profile = Profile::Agent;
    file.service_providers.push(agent_sp);
    file.habilitations = vec![HabilitationSection {
        id: "bench-habilitation".into(),
        organisation: "130025265".into(),
        procedure: "Bench".into(),
        legal_basis: "Bench".into(),
        legal_basis_url: "https://www.legifrance.gouv.fr/".into(),
        data_provider: "bench-dp".into(),
        scopes: vec!["quotient_familial".into()],
        valid_until: "2099-12-31".into(),
        citizen_services: vec!["bench-sp".into()],
    }];
    if large {
        crate::pages::large_registry(&mut file);
    }
    Ok(file.to_toml()?)
}

/// A hub process on core 0 with a mock IdP (in this process) registered for it.
pub async fn start_hub(
    cli: &Cli,
    redis: Option<&str>,
) -> anyhow::Result<(process::Server, String, [MockIdp; 2], PathBuf)> {
    start_hub_with(cli, redis, false).await
}

/// [`start_hub`], with the registry of the pages workload when `large` (1,000 services, 100
/// data providers, the partner portal).
pub async fn start_hub_with(
    cli: &Cli,
    redis: Option<&str>,
    large: bool,
) -> anyhow::Result<(process::Server, String, [MockIdp; 2], PathBuf)> {
    let port = free_port()?;
    let issuer = format!("http://localhost:{port}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let idp_issuer = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    let idp = MockIdp::serve(
        listener,
        MockIdpSettings {
            id: "mock".into(),
            display_name: "Mock IdP".into(),
            issuer: Url::parse(&idp_issuer)?,
            client_id: "relais".into(),
            client_secret: "bench-idp-secret".into(),
            redirect_uris: vec![format!("{issuer}/idp/mock/callback")],
            post_logout_redirect_uris: vec![],
            acr: "eidas2".into(),
            identities: default_identities("mock", 0),
        },
    )
    .await?;
    let agent_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let agent_idp_issuer = format!("http://127.0.0.1:{}", agent_listener.local_addr()?.port());
    let agent_idp = MockIdp::serve(
        agent_listener,
        MockIdpSettings {
            id: "mock-agents".into(),
            display_name: "Mock agent directory".into(),
            issuer: Url::parse(&agent_idp_issuer)?,
            client_id: "relais".into(),
            client_secret: "bench-idp-secret".into(),
            redirect_uris: vec![format!("{issuer}/agents/idp/mock-agents/callback")],
            post_logout_redirect_uris: vec![],
            acr: "eidas1".into(),
            identities: ministry_agents("mock-agents"),
        },
    )
    .await?;
    let dir = std::env::temp_dir().join(format!("relais-bench-{port}"));
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("relais.toml");
    std::fs::write(&config, hub_config(port, &idp_issuer, &agent_idp_issuer, &dir, redis, large)?)?;
    let server = serve(cli, &config).await?;
    Ok((server, issuer, [idp, agent_idp], dir))
}

/// `relais serve --config config` on core 0, once it listens.
pub async fn serve(cli: &Cli, config: &std::path::Path) -> anyhow::Result<process::Server> {
    let config_text = config.display().to_string();
    let (server, _) = process::start(
        &cli.relais,
        &["serve", "--config", &config_text],
        0,
        &[("RELAIS_LOG", "warn".into())],
        "relais hub listening on",
    )
    .await?;
    Ok(server)
}
