//! The SQL contract's part about what the admin API and the partner portal write.

use relais_domain::{EidasLevel, Secret, SecretDigest, UnixTime};
use relais_store::{Put, Registry, RegistryWriter, Source, SqlStore};

use super::service_provider;

/// What the admin API and the partner portal write: registered actors, their source, their
/// removal with their data grants, the grants read merged into the providers' allow-lists by
/// every node, and the portal's services by organisation.
pub async fn registered_actors_and_grants(sql: &SqlStore, other_node: &SqlStore) {
    use relais_domain::portal::{PartnerService, ServiceDeclaration};
    use relais_domain::{DataProvider, DataScope, DpId};
    use relais_store::{ActorRef, DataGrant, PortalStore};
    let caf = DataProvider {
        id: DpId::new("caf-contract"),
        name: "CAF".into(),
        scopes: vec![DataScope { name: "qf".into(), label: "QF".into(), description: String::new() }],
        secret: SecretDigest::of("caf-contract", &Secret::new("x".repeat(32))),
        signed_checktoken: false,
        allowed: Default::default(),
        about: std::sync::Arc::new(relais_domain::api_description::ProviderAbout {
            eligibility: "Les communes".into(),
            rate_limit_per_minute: Some(60),
            api: relais_domain::api_description::ApiDescription::parse(
                r#"{"openapi": "3.1.0", "info": {"title": "API"}, "paths": {"/qf": {"get": {}}}}"#,
            )
            .ok(),
            status_url: Some("https://caf.example/sante".into()),
        }),
    };
    sql.put_data_provider(Put::configured(&caf, 1)).await.unwrap();
    // What the catalogue says of it is read back by every node.
    let read = other_node.data_provider(&caf.id).await.unwrap().unwrap();
    assert_eq!(read.about, caf.about);
    let sandbox = service_provider("bac-a-sable-1");
    let registered = Put { actor: &sandbox, source: Source::Registered, at: 3 };
    sql.put_service_provider(registered).await.unwrap();
    assert_eq!(sql.source(ActorRef::ServiceProvider(&sandbox.id)).await.unwrap(), Some(Source::Registered));
    assert_eq!(sql.source(ActorRef::DataProvider(&caf.id)).await.unwrap(), Some(Source::Configuration));
    assert!(sql.service_providers().await.unwrap().iter().any(|sp| sp.id == sandbox.id));
    let grant = |scopes: &[&str]| DataGrant {
        sp: sandbox.id.clone(),
        dp: caf.id.clone(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    };
    // A scope the provider does not serve is not granted.
    sql.put_data_grant(&grant(&["qf", "unknown"]), 4).await.unwrap();
    let read = other_node.data_provider(&caf.id).await.unwrap().unwrap();
    assert!(read.allows(&sandbox.id, "qf") && !read.allows(&sandbox.id, "unknown"));
    // The configuration rewrites the provider: the grant stays.
    sql.put_data_provider(Put::configured(&caf, 5)).await.unwrap();
    assert!(sql.data_provider(&caf.id).await.unwrap().unwrap().allows(&sandbox.id, "qf"));
    sql.put_data_grant(&grant(&[]), 6).await.unwrap();
    assert!(!sql.data_provider(&caf.id).await.unwrap().unwrap().allows(&sandbox.id, "qf"));
    sql.put_data_grant(&grant(&["qf"]), 7).await.unwrap();
    assert!(sql.remove(ActorRef::ServiceProvider(&sandbox.id)).await.unwrap());
    assert!(!sql.remove(ActorRef::ServiceProvider(&sandbox.id)).await.unwrap());
    assert!(!sql.data_provider(&caf.id).await.unwrap().unwrap().allows(&sandbox.id, "qf"), "its grants went with it");
    assert!(sql.remove(ActorRef::DataProvider(&caf.id)).await.unwrap());

    let service = |id: &str, organisation: &str, at: u64| PartnerService {
        id: id.into(),
        organisation: organisation.into(),
        organisation_label: "Commune".into(),
        declaration: ServiceDeclaration {
            name: "Cantine".into(),
            site: "https://cantine.example".into(),
            initiate_login_uri: "https://cantine.example/connexion".into(),
            redirect_uris: vec!["https://cantine.example/retour".into()],
            post_logout_redirect_uris: vec![],
            claims: vec!["given_name".into()],
            data: vec![],
            eidas_level: EidasLevel::Low,
        },
        sandbox_client_id: format!("bac-a-sable-{id}"),
        production_client_id: None,
        created_by: "agent-sub".into(),
        created_at: UnixTime(at),
        members: Vec::new(),
        versions: Vec::new(),
    };
    sql.put_partner_service(&service("b", "217500016", 20), 20).await.unwrap();
    sql.put_partner_service(&service("a", "217500016", 10), 10).await.unwrap();
    sql.put_partner_service(&service("c", "130025265", 30), 30).await.unwrap();
    let ids: Vec<String> =
        other_node.partner_services_of("217500016").await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(other_node.partner_service("c").await.unwrap(), Some(service("c", "130025265", 30)));
    assert!(other_node.partner_service("d").await.unwrap().is_none());
    // Its team and its configuration's versions too.
    {
        use relais_domain::portal::request::ServiceRole;
        use relais_domain::portal::team::{ClientSettings, Environment};
        let mut team = service("c", "130025265", 30);
        team.invite(ServiceRole::Admin, "paul@x.fr", Some(ServiceRole::Tech), "agent:a", UnixTime(31)).unwrap();
        let settings = ClientSettings::check("https://c.example/start", "https://c.example/v2", "").unwrap();
        team.write_draft(Environment::Sandbox, settings, "agent:a", UnixTime(32));
        sql.put_partner_service(&team, 32).await.unwrap();
        assert_eq!(other_node.partner_service("c").await.unwrap(), Some(team));
    }

    // A habilitation request and its history, as the other node reads them.
    use relais_domain::portal::request::{
        Actor, HabilitationRequest, RequestEvent, RequestState, ServiceRole, Template,
    };
    let mut request = HabilitationRequest::draft("r1".into(), "a".into(), Template::Canteen.form(&DpId::new("caf")));
    sql.put_request(&request, 40).await.unwrap();
    let admin = Actor::Applicant(ServiceRole::Admin);
    request.apply(RequestEvent::Submit, admin, "agent-sub", None, &[], UnixTime(41)).unwrap();
    sql.put_request(&request, 41).await.unwrap();
    let read = other_node.request("r1").await.unwrap().unwrap();
    assert_eq!(read, request);
    assert_eq!(read.state, RequestState::Submitted);
    assert_eq!(other_node.requests_of("a").await.unwrap().len(), 1);
    assert!(other_node.requests_of("b").await.unwrap().is_empty());
    assert!(other_node.request("r2").await.unwrap().is_none());
    assert_eq!(other_node.requests_in(&[RequestState::Submitted]).await.unwrap().len(), 1);
    assert!(other_node.requests_in(&[RequestState::Draft]).await.unwrap().is_empty());
}
