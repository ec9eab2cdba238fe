//! The agent federation of the test platform: three agent directories (a ministry's, the
//! default; a town hall's and an intercommunality's, both claiming the town's domain), the
//! organisation registry, two agent services and the town's habilitations.

use super::{at_idp, form_action, location, query_param, Browser, Platform};
use relais::config::{IdentityProviderSection, ServiceProviderSection};
use relais_mocks::idp::{MockIdp, MockIdpSettings};
use tokio::net::TcpListener;
use url::Url;

/// The agent IdPs of the test platform: a ministry's directory (the default: any domain), a
/// town hall's and an intercommunality's, both claiming the town's domain.
pub const AGENT_IDPS: [(&str, &str, &[&str], bool); 3] = [
    ("ministere", "Annuaire interministériel", &["numerique.gouv.fr", "interieur.gouv.fr"], true),
    ("mairie", "Annuaire de la mairie de Démoville", &["demoville.fr"], false),
    ("interco", "Annuaire de l'intercommunalité", &["demoville.fr"], false),
];

/// The mock agent IdPs and the organisation registry, and their registrations for a hub at
/// `issuer`. The town hall's directory also knows an agent of the ministry's domain (index 1)
/// an agent with a wrong SIRET key (index 2) and a colleague of the town's first agent (index 3).
pub async fn start_agent_idps(
    issuer: &str,
) -> (Vec<MockIdp>, Vec<IdentityProviderSection>, relais_mocks::organisations::MockOrganisations, Url) {
    use relais_mocks::idp::{agent, ministry_agents, town_hall_agents};
    let mut idps = Vec::new();
    let mut sections = Vec::new();
    for (id, name, domains, default) in AGENT_IDPS {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let idp_issuer = Url::parse(&format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())).unwrap();
        let identities = match id {
            "ministere" => ministry_agents(id),
            _ => {
                let mut agents = town_hall_agents(id);
                agents.push(agent(
                    id,
                    "intrus",
                    "Paul",
                    "DURAND",
                    "paul.durand@numerique.gouv.fr",
                    "21750001600019",
                    "",
                    "agent",
                ));
                agents.push(agent(id, "clef", "Marc", "FAUX", "marc.faux@demoville.fr", "21750001600018", "", "agent"));
                // A colleague of Jeanne's (index 3), for the portal's teams.
                agents.push(agent(
                    id,
                    "pbernard",
                    "Pierre",
                    "BERNARD",
                    "pierre.bernard@demoville.fr",
                    "21750001600019",
                    "DSI",
                    "agent",
                ));
                agents
            }
        };
        let settings = MockIdpSettings {
            id: id.into(),
            display_name: name.into(),
            issuer: idp_issuer.clone(),
            client_id: "relais-hub".into(),
            client_secret: format!("idp-secret-{id}"),
            redirect_uris: vec![format!("{issuer}/agents/idp/{id}/callback")],
            post_logout_redirect_uris: vec![format!("{issuer}/agents/idp/logout-callback")],
            acr: "eidas1".into(),
            identities,
        };
        idps.push(MockIdp::serve(listener, settings).await.unwrap());
        let secret = format!("idp-secret-{id}");
        let mut section =
            IdentityProviderSection::new(id, name, idp_issuer, "relais-hub", &secret, relais_domain::EidasLevel::Low);
        section.profile = relais_domain::Profile::Agent;
        section.require_acr = false;
        section.scopes = [
            "openid",
            "given_name",
            "usual_name",
            "email",
            "uid",
            "siret",
            "organizational_unit",
            "belonging_population",
        ]
        .map(String::from)
        .to_vec();
        section.domains = domains.iter().map(|d| (*d).to_owned()).collect();
        section.default_for_agents = default;
        sections.push(section);
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let registry_url = Url::parse(&format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())).unwrap();
    let organisations = relais_mocks::organisations::MockOrganisations::serve(
        listener,
        relais_mocks::organisations::default_establishments(),
    )
    .await
    .unwrap();
    (idps, sections, organisations, registry_url)
}

/// The back-office's client id and secret.
pub const BACK_OFFICE: (&str, &str) = ("sp-agent", "secret-agent-for-tests-0123456789abcd");

/// The agent services: a back-office for public agents only, and another agent tool.
pub(super) fn agent_service_providers() -> Vec<ServiceProviderSection> {
    let mut back_office = ServiceProviderSection::new(
        BACK_OFFICE.0,
        "Back-office de la mairie",
        Some(BACK_OFFICE.1),
        "https://sp-agent.example/callback",
        &[
            "openid",
            "given_name",
            "usual_name",
            "email",
            "uid",
            "siret",
            "idp_id",
            "organization_label",
            "organization_kind",
        ],
    );
    back_office.profile = relais_domain::Profile::Agent;
    back_office.public_agents_only = true;
    back_office.post_logout_redirect_uris = vec!["https://sp-agent.example/logged-out".into()];
    let mut tool = ServiceProviderSection::new(
        "sp-agent-b",
        "Outil interministériel",
        Some("secret-agent-b-for-tests-0123456789ab"),
        "https://sp-agent-b.example/callback",
        &["openid", "uid", "email", "siret"],
    );
    tool.profile = relais_domain::Profile::Agent;
    vec![back_office, tool]
}

/// The habilitations: the town (SIREN 217500016) may receive the family quotient for the
/// canteen, for the files filed at `sp-a`; its habilitation for the children's list has ended.
pub(super) fn test_habilitations() -> Vec<relais::config::HabilitationSection> {
    let habilitation = |id: &str, scope: &str, until: &str| relais::config::HabilitationSection {
        id: id.into(),
        organisation: "217500016".into(),
        procedure: "Tarification de la cantine scolaire".into(),
        legal_basis: "Article L. 114-8 du code des relations entre le public et l'administration".into(),
        legal_basis_url: "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000043346953".into(),
        data_provider: "caf".into(),
        scopes: vec![scope.into()],
        valid_until: until.into(),
        citizen_services: vec!["sp-a".into()],
    };
    vec![
        habilitation("hab-cantine-qf", "quotient_familial", "2099-12-31"),
        habilitation("hab-cantine-enfants", "enfants", "2020-12-31"),
    ]
}

/// The e-mail page of an authorization request, then `email` typed there: the hub's answer.
pub async fn type_email(platform: &Platform, browser: &Browser, request_url: &str, email: &str) -> reqwest::Response {
    let page = browser.get(request_url).await;
    assert_eq!(page.status(), 200, "the e-mail page");
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"email\""), "{html}");
    let action = platform.url(&form_action(&html));
    assert!(action.path().starts_with("/agents/interaction/"), "{action}");
    browser.post(action.as_str(), &[("email".into(), email.into())]).await
}

/// A whole sign-in by e-mail at the one IdP of its domain, as the IdP's agent `identity`: the
/// hub's last redirect.
pub async fn by_email(
    platform: &Platform,
    browser: &Browser,
    request_url: &str,
    email: &str,
    identity: usize,
) -> String {
    let to_idp = type_email(platform, browser, request_url, email).await;
    assert_eq!(to_idp.status(), 303, "to the IdP of the domain");
    let idp_url = location(&to_idp);
    assert_eq!(query_param(&idp_url, "login_hint").as_deref(), Some(email), "the IdP gets the address typed");
    at_idp(browser, &idp_url, identity).await
}
