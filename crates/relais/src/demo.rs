//! `relais demo`: the whole platform on one machine: the hub, three mock identity providers of
//! different eIDAS levels and the demo service provider, each a real HTTP server on localhost,
//! talking to each other over HTTP only. The configuration is generated and written beside the
//! keys so an integrator can start from it.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use relais_domain::{EidasLevel, Profile};
use relais_mocks::dp::{DpKind, MockDp, MockDpSettings};
use relais_mocks::idp::{default_identities, ministry_agents, town_hall_agents, MockIdp, MockIdpSettings};
use relais_mocks::sp::{serve_demo_sp, DemoSpSettings, Desk, Dossiers};
use tokio::net::TcpListener;
use url::Url;

use crate::config::{
    process_env, Config, ConfigFile, DataProviderSection, DataScopeSection, HabilitationSection, HubSection,
    IdentityProviderSection, ServiceProviderSection,
};
use crate::launch::{assemble, SystemClock};

/// The demo's mock IdPs: id, name, level.
pub const DEMO_IDPS: [(&str, &str, EidasLevel); 3] = [
    ("impots", "Impôts (démo)", EidasLevel::Low),
    ("ameli", "Assurance maladie (démo)", EidasLevel::Substantial),
    ("identite-numerique", "Identité numérique (démo)", EidasLevel::High),
];

fn demo_dp_secret(kind: DpKind) -> String {
    format!("demo-dp-secret-{}-not-for-production", kind.id())
}

fn local(port: u16) -> anyhow::Result<Url> {
    Ok(Url::parse(&format!("http://localhost:{port}"))?)
}

/// The demo's agent directories: id, name, domains, whether it is the default (ports
/// `port + 9` and `port + 10`).
pub const DEMO_AGENT_IDPS: [(&str, &str, &[&str], bool); 2] = [
    ("annuaire-etat", "Annuaire des agents de l'État (démo)", &["numerique.gouv.fr", "interieur.gouv.fr"], true),
    ("annuaire-demoville", "Annuaire de la mairie de Démoville (démo)", &["demoville.fr"], false),
];

/// The scopes the demo back-office is registered for: an agent's names, e-mail, establishment
/// and organisation.
const BACK_OFFICE_SCOPES: [&str; 8] =
    ["openid", "given_name", "usual_name", "email", "uid", "siret", "organization_label", "organization_kind"];

/// The demo's administrations told of a change of address (ports `port + 15` to `port + 18`):
/// service id, name, what the person reads.
pub const DEMO_ADMINISTRATIONS: [(&str, &str, &str); 4] = [
    ("demo-caf", "Caisse d'allocations familiales (démo)", "Vos allocations et vos aides au logement"),
    ("demo-impots", "Centre des finances publiques (démo)", "Votre impôt sur le revenu et votre taxe d'habitation"),
    ("demo-ameli", "Assurance maladie (démo)", "Vos remboursements de soins et votre carte Vitale"),
    ("demo-energie", "Fournisseur d'électricité (démo)", "Votre contrat d'électricité"),
];

/// The webhook secret of the demo's administration `id`: `whsec_` and the base64 of
/// `demo-{id}` padded with spaces to 32 bytes (public, like every secret of the demo).
pub fn demo_webhook_secret(id: &str) -> String {
    let mut bytes = [b' '; 32];
    for (byte, letter) in bytes.iter_mut().zip(format!("demo-{id}").bytes()) {
        *byte = letter;
    }
    relais_domain::webhook::WebhookSecret::from_random(bytes).expose()
}

/// The demo's `/metrics` token (the demo's secrets are all public).
pub const DEMO_METRICS_TOKEN: &str = "demo-metrics-token-not-for-production";

/// The demo's operator token of the admin API (`relais admin --token …`).
pub const DEMO_OPERATOR_TOKEN: &str = "demo-operator-token-not-for-production";

/// The demo's configuration for a hub on `port` (SP on `port + 1`, IdPs on `port + 2..=port + 4`,
/// data providers on `port + 5..=port + 7`, the agents' back-office on `port + 8`, their
/// directories on `port + 9` and `port + 10`, the organisation registry on `port + 11`, the mock
/// mail relay on `port + 12` and its mailbox's page on `port + 13`, the national address base
/// on `port + 14` and the administrations receiving changes of address on `port + 15` to
/// `port + 18`), built as the configuration's own types.
pub fn demo_config(port: u16, data_dir: &std::path::Path) -> anyhow::Result<ConfigFile> {
    let mut hub = HubSection::new(local(port)?, "demo-only-pairwise-secret-not-for-production");
    hub.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    hub.data_dir = data_dir.to_path_buf();
    hub.metrics_token = Some(DEMO_METRICS_TOKEN.to_owned());
    let mut file = ConfigFile::new(hub);
    file.portal = Some(crate::config::PortalSection {
        sandbox_identity_providers: DEMO_IDPS.iter().map(|(id, _, _)| (*id).to_owned()).collect(),
        sandbox_data_providers: DpKind::ALL.iter().map(|kind| kind.id().to_owned()).collect(),
        // The State's agent instructs for the operator.
        instructors: vec![crate::config::InstructorSection {
            email: "camille.martin@numerique.gouv.fr".into(),
            data_providers: vec![],
            operator: true,
        }],
    });
    file.mail = Some(crate::config::MailSection {
        relay: Some(format!("smtp://127.0.0.1:{}", port + 12)),
        relay_file: None,
        from: "Relais <ne-pas-repondre@relais.localhost>".into(),
    });
    file.operators.push(crate::config::OperatorSection {
        name: "demo".into(),
        token: Some(DEMO_OPERATOR_TOKEN.to_owned()),
        token_file: None,
    });
    for (index, (id, name, level)) in DEMO_IDPS.iter().enumerate() {
        let issuer = local(port + 2 + index as u16)?;
        let secret = format!("demo-idp-secret-{id}");
        file.identity_providers.push(IdentityProviderSection::new(id, name, issuer, "relais", &secret, *level));
    }
    let sp_port = port + 1;
    let mut sp = ServiceProviderSection::new(
        "demo-mairie",
        "Mairie de Démoville",
        Some("demo-sp-secret-not-for-production-0123"),
        &format!("http://localhost:{sp_port}/callback"),
        &["openid", "identite_pivot", "email", "preferred_username", "person_reference"],
    );
    sp.post_logout_redirect_uris = vec![format!("http://localhost:{sp_port}/deconnecte")];
    file.service_providers.push(sp);
    for (index, kind) in DpKind::ALL.into_iter().enumerate() {
        let mut dp = DataProviderSection::new(kind.id(), kind.name(), &demo_dp_secret(kind));
        let names = kind.scopes().iter().map(|(name, _, _)| (*name).to_owned()).collect();
        dp.allowed_service_providers.insert("demo-mairie".into(), names);
        dp.scopes = kind
            .scopes()
            .iter()
            .map(|(name, label, description)| DataScopeSection::new(name, label, description))
            .collect();
        // What the catalogue says of it, its API's description too.
        dp.eligibility = kind.eligibility().to_owned();
        dp.rate_limit_per_minute = Some(kind.rate_limit_per_minute());
        dp.openapi = Some(kind.openapi());
        // Checked once a minute by the hub: its home page answers.
        dp.status_url = Some(format!("http://127.0.0.1:{}/", port + 5 + index as u16));
        file.data_providers.push(dp);
    }
    for (index, (id, name, domains, default)) in DEMO_AGENT_IDPS.iter().enumerate() {
        let issuer = local(port + 9 + index as u16)?;
        let secret = format!("demo-idp-secret-{id}");
        let mut idp = IdentityProviderSection::new(id, name, issuer, "relais", &secret, EidasLevel::Low);
        idp.profile = Profile::Agent;
        idp.require_acr = false;
        idp.scopes = ["openid", "given_name", "usual_name", "email", "uid", "siret", "organizational_unit"]
            .map(String::from)
            .to_vec();
        idp.domains = domains.iter().map(|d| (*d).to_owned()).collect();
        idp.default_for_agents = *default;
        file.identity_providers.push(idp);
    }
    let back_office_port = port + 8;
    let mut back_office = ServiceProviderSection::new(
        "demo-back-office",
        "Back-office de la mairie de Démoville",
        Some("demo-back-office-secret-not-for-production"),
        &format!("http://localhost:{back_office_port}/callback"),
        &BACK_OFFICE_SCOPES,
    );
    back_office.profile = Profile::Agent;
    back_office.public_agents_only = true;
    back_office.post_logout_redirect_uris = vec![format!("http://localhost:{back_office_port}/deconnecte")];
    file.service_providers.push(back_office);
    file.hub.organisation_registry = Some(local(port + 11)?);
    file.notifications = Some(crate::config::NotificationsSection {
        address_base: Some(Url::parse(&format!("http://127.0.0.1:{}", port + 14))?),
    });
    for (index, (id, name, description)) in DEMO_ADMINISTRATIONS.iter().enumerate() {
        let receiver = port + 15 + index as u16;
        file.service_providers.push(ServiceProviderSection::new(
            id,
            name,
            Some(&format!("{id}-secret-not-for-production-0123")),
            &format!("http://localhost:{receiver}/callback"),
            &["openid"],
        ));
        file.webhooks.push(crate::config::WebhookSection {
            id: format!("{id}-adresses"),
            service: (*id).to_owned(),
            events: vec!["address.changed".into()],
            url: Url::parse(&format!("http://127.0.0.1:{receiver}/webhooks"))?,
            secret: Some(demo_webhook_secret(id)),
            secret_file: None,
            description: (*description).to_owned(),
        });
    }
    file.habilitations.push(HabilitationSection {
        id: "demoville-cantine-quotient-familial".into(),
        organisation: "217500016".into(),
        procedure: "Tarification de la cantine scolaire".into(),
        legal_basis: "Article L. 114-8 du code des relations entre le public et l'administration".into(),
        legal_basis_url: "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000043346953".into(),
        data_provider: DpKind::Caf.id().into(),
        scopes: vec!["quotient_familial".into()],
        valid_until: "2030-12-31".into(),
        citizen_services: vec!["demo-mairie".into()],
    });
    Ok(file)
}

/// [`demo_config`] as the TOML file the demo writes for an integrator to start from.
pub fn demo_config_toml(port: u16, data_dir: &std::path::Path) -> anyhow::Result<String> {
    let text = demo_config(port, data_dir)?.to_toml()?;
    Ok(format!("# Generated by `relais demo`. Secrets here are for the demo only.\n{text}"))
}

/// Writes `contents` to a file only its owner can read (it holds the demo's secrets).
pub fn write_private(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).write(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // An existing file keeps its mode through `open`: set it.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot protect {}", path.display()))?;
        }
    }
    let mut file = options.open(path).with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(contents.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

async fn bind(port: u16) -> anyhow::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port)).await.with_context(|| format!("cannot listen on 127.0.0.1:{port}"))
}

/// Runs the demo until the process is stopped.
pub async fn run(port: u16, data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    anyhow::ensure!(port <= u16::MAX - 19, "--port must leave room for the mocks' ports after it");
    let data_dir = data_dir.unwrap_or_else(|| std::env::temp_dir().join(format!("relais-demo-{port}")));
    std::fs::create_dir_all(&data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let toml = demo_config_toml(port, &data_dir)?;
    write_private(&data_dir.join("relais-demo.toml"), &toml)?;
    let config = Config::from_toml(&toml, &process_env)?;

    for (index, (id, name, level)) in DEMO_IDPS.iter().enumerate() {
        let idp_port = port + 2 + index as u16;
        let settings = MockIdpSettings {
            id: (*id).to_owned(),
            display_name: (*name).to_owned(),
            issuer: Url::parse(&format!("http://localhost:{idp_port}"))?,
            client_id: "relais".into(),
            client_secret: format!("demo-idp-secret-{id}"),
            redirect_uris: vec![format!("http://localhost:{port}/idp/{id}/callback")],
            post_logout_redirect_uris: vec![format!("http://localhost:{port}/idp/logout-callback")],
            acr: level.as_acr().to_owned(),
            identities: default_identities(id, index as u8),
        };
        MockIdp::serve(bind(idp_port).await?, settings).await?;
    }
    let mut caf_api = None;
    // The town's files, filed at its citizen site and instructed at its back-office.
    let dossiers = Dossiers::default();
    for (index, kind) in DpKind::ALL.into_iter().enumerate() {
        let settings = MockDpSettings {
            kind,
            hub_issuer: config.settings.issuer.clone(),
            client_id: kind.id().to_owned(),
            client_secret: demo_dp_secret(kind),
        };
        let dp = MockDp::serve(bind(port + 5 + index as u16).await?, settings).await?;
        if kind == DpKind::Caf {
            caf_api = Some(dp.api_url());
        }
    }
    let sp_port = port + 1;
    let sp = DemoSpSettings {
        base_url: Url::parse(&format!("http://localhost:{sp_port}"))?,
        hub_issuer: config.settings.issuer.clone(),
        client_id: "demo-mairie".into(),
        client_secret: "demo-sp-secret-not-for-production-0123".into(),
        display_name: "Mairie de Démoville".into(),
        scopes: vec!["openid".into(), "identite_pivot".into(), "email".into()],
        caf_api: caf_api.clone(),
        desk: Some(Desk::Citizens(dossiers.clone())),
    };
    serve_demo_sp(bind(sp_port).await?, sp).await?;
    for (index, (id, name, _, _)) in DEMO_AGENT_IDPS.iter().enumerate() {
        let idp_port = port + 9 + index as u16;
        let settings = MockIdpSettings {
            id: (*id).to_owned(),
            display_name: (*name).to_owned(),
            issuer: local(idp_port)?,
            client_id: "relais".into(),
            client_secret: format!("demo-idp-secret-{id}"),
            redirect_uris: vec![format!("http://localhost:{port}/agents/idp/{id}/callback")],
            post_logout_redirect_uris: vec![format!("http://localhost:{port}/agents/idp/logout-callback")],
            acr: "eidas1".into(),
            identities: if index == 0 { ministry_agents(id) } else { town_hall_agents(id) },
        };
        MockIdp::serve(bind(idp_port).await?, settings).await?;
    }
    relais_mocks::organisations::MockOrganisations::serve(
        bind(port + 11).await?,
        relais_mocks::organisations::default_establishments(),
    )
    .await?;
    let mailbox = relais_mocks::mail::MockMailbox::serve(bind(port + 12).await?).await?;
    mailbox.serve_page(bind(port + 13).await?);
    relais_mocks::addresses::MockAddressBase::serve(
        bind(port + 14).await?,
        relais_mocks::addresses::default_addresses(),
    )
    .await?;
    for (index, (id, _, _)) in DEMO_ADMINISTRATIONS.iter().enumerate() {
        let secret = relais_domain::webhook::WebhookSecret::parse(&demo_webhook_secret(id))?;
        let clock: relais_mocks::receiver::ReceiverClock = Arc::new(|| relais_domain::Clock::now(&SystemClock).0);
        relais_mocks::receiver::MockReceiver::serve(bind(port + 15 + index as u16).await?, secret, clock)?;
    }
    let back_office_port = port + 8;
    let back_office = DemoSpSettings {
        base_url: local(back_office_port)?,
        hub_issuer: relais_server::agent_issuer(&config.settings.issuer),
        client_id: "demo-back-office".into(),
        client_secret: "demo-back-office-secret-not-for-production".into(),
        display_name: "Back-office de la mairie de Démoville".into(),
        // The family quotient too, which the town's habilitation covers (a data scope is not
        // registered: the habilitation is the right to it).
        scopes: BACK_OFFICE_SCOPES.iter().chain(&["quotient_familial"]).map(|s| (*s).to_owned()).collect(),
        caf_api,
        desk: Some(Desk::BackOffice(dossiers)),
    };
    serve_demo_sp(bind(back_office_port).await?, back_office).await?;

    let state = assemble(&config, Arc::new(SystemClock)).await?.state;
    let listener = bind(port).await?;
    println!("Relais demo is running.");
    println!("  Open the demo service:   http://localhost:{sp_port}/");
    println!("  Hub (issuer):            http://localhost:{port}/.well-known/openid-configuration");
    for (index, (_, name, level)) in DEMO_IDPS.iter().enumerate() {
        println!("  Mock IdP {name} ({level}): http://localhost:{}", port + 2 + index as u16);
    }
    for (index, kind) in DpKind::ALL.into_iter().enumerate() {
        println!("  Mock data provider {}: http://127.0.0.1:{}", kind.name(), port + 5 + index as u16);
    }
    println!("  Agents' back-office:     http://localhost:{back_office_port}/ (jeanne.moreau@demoville.fr, camille.martin@numerique.gouv.fr)");
    println!("  Agents' issuer:          http://localhost:{port}/agents/.well-known/openid-configuration");
    println!("  Your dashboard:          http://localhost:{port}/tableau-de-bord");
    println!("  Partner portal:          http://localhost:{port}/partenaires (jeanne.moreau@demoville.fr; camille.martin@numerique.gouv.fr instructs)");
    println!("  The portal's mail:       http://127.0.0.1:{}/ (the mock relay's mailbox)", port + 13);
    println!("  Change of address:       http://localhost:{port}/tableau-de-bord/demenagement");
    for (index, (_, name, _)) in DEMO_ADMINISTRATIONS.iter().enumerate() {
        println!("  {name} receives at:   http://127.0.0.1:{}/webhooks", port + 15 + index as u16);
    }
    println!("  Metrics:                 curl -H 'Authorization: Bearer {DEMO_METRICS_TOKEN}' http://localhost:{port}/metrics");
    println!("  Admin API:               relais admin --url http://localhost:{port} --token {DEMO_OPERATOR_TOKEN} list service-providers");
    println!("  Its OpenAPI document:    http://localhost:{port}/api/openapi.json");
    println!("  Configuration used:      {}", data_dir.join("relais-demo.toml").display());
    println!("Stop with Ctrl+C.");
    crate::launch::spawn_checkpointer(state.clone());
    crate::launch::spawn_provider_checker(state.clone());
    crate::launch::spawn_webhook_sender(state.clone());
    relais_server::serve_until(listener, state.clone(), crate::launch::shutdown_signal()).await?;
    if let Err(error) = state.checkpoint_traces().await {
        tracing::error!(target: "relais::checkpoint", %error, "no trace checkpoint at shutdown");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[cfg(unix)]
    #[test]
    fn the_demo_configuration_is_written_for_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!("relais-demo-test-{}.toml", std::process::id()));
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::write_private(&path, "pairwise_secret = \"x\"").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "pairwise_secret = \"x\"");
        std::fs::remove_file(path).unwrap();
    }
}
