//! The admin API through the router (`oneshot`), on the engine tests' memory hub: its
//! authentication, its writes and their traces, and that a refused request changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use relais_domain::trace::TraceKind;
use relais_domain::SpId;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::engine::tests::{TestHub, OPERATOR_TOKEN};

async fn call(hub: &TestHub, method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = body.map_or_else(Body::empty, |value| Body::from(value.to_string()));
    let response = crate::routes::router(hub.state.clone()).oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn admin(hub: &TestHub, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    call(hub, method, uri, Some(OPERATOR_TOKEN), body).await
}

fn town_hall() -> Value {
    json!({
        "client_name": "Mairie de Trifouillis",
        "redirect_uris": ["https://trifouillis.example/callback"],
        "post_logout_redirect_uris": ["https://trifouillis.example/"],
        "scope": "openid given_name family_name",
        "id_token_signed_response_alg": "ES256",
    })
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_every_route_with_the_bearer_scheme() {
    let hub = TestHub::new();
    let (status, document) = call(&hub, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"), "{}", document["openapi"]);
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/admin/service-providers/{client_id}",
        "/api/admin/service-providers/{client_id}/client-secret",
        "/api/admin/identity-providers/{id}",
        "/api/admin/data-providers/{id}",
        "/api/admin/habilitations/{id}",
        "/api/admin/keys/rotation",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert_eq!(document["components"]["securitySchemes"]["operator"]["scheme"], "bearer");
    assert_eq!(document["servers"][0]["url"], "https://relais.example");
}

#[tokio::test]
async fn without_an_operators_token_nothing_is_read_or_written() {
    let hub = TestHub::new();
    for token in [None, Some("not-the-token"), Some("")] {
        let (status, body) = call(&hub, "GET", "/api/admin/service-providers", token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(body["error"], "invalid_token");
        let (status, _) = call(&hub, "PUT", "/api/admin/service-providers/trifouillis", token, Some(town_hall())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert!(hub.state.registry.service_provider(&SpId::new("trifouillis")).await.unwrap().is_none());
    assert!(hub.chain().await.is_empty());
}

#[tokio::test]
async fn a_service_registered_gets_a_secret_once_and_the_change_is_traced_with_its_author() {
    let hub = TestHub::new();
    let (status, written) = admin(&hub, "PUT", "/api/admin/service-providers/trifouillis", Some(town_hall())).await;
    assert_eq!(status, StatusCode::CREATED, "{written}");
    let secret = written["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32);
    assert_eq!(
        (written["source"].as_str(), written["scope"].as_str()),
        (Some("registered"), Some("openid given_name family_name"))
    );
    let sp = hub.state.registry.service_provider(&SpId::new("trifouillis")).await.unwrap().unwrap();
    match &sp.authentication {
        relais_domain::providers::ClientAuthentication::SecretBasic(digest) => {
            assert!(digest.matches("trifouillis", &secret));
        }
        other => panic!("{other:?}"),
    }
    // Read back: never the secret.
    let (status, read) = admin(&hub, "GET", "/api/admin/service-providers/trifouillis", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(read.get("client_secret").is_none());
    assert_eq!(read["id_token_signed_response_alg"], "ES256");
    // Replaced without a secret: the secret stays.
    let mut renamed = town_hall();
    renamed["client_name"] = json!("Mairie de Trifouillis-les-Oies");
    let (status, written) = admin(&hub, "PUT", "/api/admin/service-providers/trifouillis", Some(renamed)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(written.get("client_secret").is_none());
    let sp = hub.state.registry.service_provider(&SpId::new("trifouillis")).await.unwrap().unwrap();
    assert_eq!(sp.name, "Mairie de Trifouillis-les-Oies");
    assert_eq!(sp.authentication.method_name(), "client_secret_basic");
    // Renewed: the new one works, the old one no longer.
    let (status, issued) = admin(&hub, "POST", "/api/admin/service-providers/trifouillis/client-secret", None).await;
    assert_eq!(status, StatusCode::OK);
    let renewed = issued["client_secret"].as_str().unwrap();
    let sp = hub.state.registry.service_provider(&SpId::new("trifouillis")).await.unwrap().unwrap();
    let relais_domain::providers::ClientAuthentication::SecretBasic(digest) = &sp.authentication else { panic!() };
    assert!(digest.matches("trifouillis", renewed) && !digest.matches("trifouillis", &secret));

    let chain = hub.chain().await;
    let changes: Vec<_> =
        chain.iter().map(|r| (r.event.kind, r.event.outcome.as_str(), r.event.author.as_deref())).collect();
    let by_ops = Some("operator:ops");
    assert_eq!(
        changes,
        [
            (TraceKind::RegistryChange, "added", by_ops),
            (TraceKind::RegistryChange, "replaced", by_ops),
            (TraceKind::RegistryChange, "secret_renewed", by_ops)
        ]
    );
    assert!(chain.iter().all(|r| r.event.sp.as_deref() == Some("trifouillis") && r.event.person.is_none()));
    assert!(relais_domain::trace::verify_chain(&chain).is_empty());
}

#[tokio::test]
async fn a_refused_registration_names_its_field_and_changes_nothing() {
    let hub = TestHub::new();
    let cases = [
        (json!({"redirect_uris": ["http://trifouillis.example/cb"]}), "redirect_uris"),
        (json!({"redirect_uris": []}), "redirect_uris"),
        (json!({"scope": "given_name"}), "scopes"),
        (json!({"client_name": "  "}), "client_name"),
        (json!({"token_endpoint_auth_method": "password"}), "token_endpoint_auth_method"),
        (json!({"client_secret": "short"}), "client_secret"),
        (json!({"allowed_idps": ["nowhere"]}), "allowed_idps"),
        (json!({"minimum_eidas_level": "eidas9"}), "minimum_eidas_level"),
        (json!({"redirect_uris": "https://one.example/cb"}), "redirect_uris"),
        (json!({"surprise": true}), "surprise"),
        (json!({"jwks": "{}"}), "jwks"),
    ];
    for (change, field) in cases {
        let mut body = town_hall();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let (status, error) = admin(&hub, "PUT", "/api/admin/service-providers/trifouillis", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{change}: {error}");
        assert_eq!(error["error"], "invalid_request");
        assert_eq!(error["field"], field, "{change}: {error}");
        assert!(!error["error_description"].as_str().unwrap().is_empty());
    }
    let (status, error) = admin(&hub, "PUT", "/api/admin/service-providers/has%20space", Some(town_hall())).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::BAD_REQUEST, Some("client_id")));
    let (status, _) = admin(&hub, "GET", "/api/admin/service-providers/trifouillis", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(hub.chain().await.is_empty());
}

#[tokio::test]
async fn the_configuration_files_actors_are_read_only_here() {
    let hub = TestHub::new();
    let (status, read) = admin(&hub, "GET", "/api/admin/service-providers/mairie", None).await;
    assert_eq!((status, read["source"].as_str()), (StatusCode::OK, Some("configuration")));
    let (status, error) = admin(&hub, "PUT", "/api/admin/service-providers/mairie", Some(town_hall())).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::CONFLICT, Some("conflict")));
    assert!(error["error_description"].as_str().unwrap().contains("configuration file"));
    for uri in
        ["/api/admin/service-providers/mairie", "/api/admin/data-providers/caf", "/api/admin/identity-providers/impots"]
    {
        let (status, _) = admin(&hub, "DELETE", uri, None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{uri}");
    }
    let sp = hub.state.registry.service_provider(&SpId::new("mairie")).await.unwrap().unwrap();
    assert_ne!(sp.name, "Mairie de Trifouillis");
}

#[tokio::test]
async fn an_actor_others_depend_on_is_not_removed() {
    let hub = TestHub::new();
    admin(&hub, "PUT", "/api/admin/service-providers/trifouillis", Some(town_hall())).await;
    let dp = json!({
        "name": "Caisse des écoles",
        "scopes": [{"name": "tarif_cantine", "label": "Tarif de cantine", "description": "Le tarif appliqué"}],
        "allowed_service_providers": {"trifouillis": ["tarif_cantine"]},
    });
    let (status, written) = admin(&hub, "PUT", "/api/admin/data-providers/ecoles", Some(dp.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{written}");
    assert!(written["client_secret"].as_str().unwrap().len() >= 32);
    let (status, error) = admin(&hub, "DELETE", "/api/admin/service-providers/trifouillis", None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert!(error["error_description"].as_str().unwrap().contains("`ecoles`"));
    // A scope another provider serves is refused.
    let mut taken = dp;
    taken["scopes"][0]["name"] = json!("quotient_familial");
    taken["allowed_service_providers"] = json!({});
    let (status, error) = admin(&hub, "PUT", "/api/admin/data-providers/autre", Some(taken)).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::BAD_REQUEST, Some("scopes")));
    // Once the provider no longer allows it, the service goes.
    let (status, _) = admin(&hub, "DELETE", "/api/admin/data-providers/ecoles", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin(&hub, "DELETE", "/api/admin/service-providers/trifouillis", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin(&hub, "DELETE", "/api/admin/service-providers/trifouillis", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_habilitation_is_checked_against_the_registry_and_reads_back_its_last_day() {
    let hub = TestHub::new();
    let mut habilitation = json!({
        "organisation": "21750001600019",
        "procedure": "Tarif de cantine",
        "legal_basis": "Code de l'éducation, art. L. 131-13",
        "legal_basis_url": "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000038901859",
        "data_provider": "caf",
        "scopes": ["quotient_familial"],
        "valid_until": "2027-12-31",
        "citizen_services": ["mairie"],
    });
    for (field, value) in [
        ("organisation", json!("21750001600018")),
        ("data_provider", json!("nowhere")),
        ("scopes", json!(["revenu"])),
        ("valid_until", json!("31/12/2027")),
        ("citizen_services", json!(["nowhere"])),
        ("legal_basis_url", json!("http://legifrance.example/")),
    ] {
        let mut wrong = habilitation.clone();
        wrong[field] = value;
        let (status, error) = admin(&hub, "PUT", "/api/admin/habilitations/cantine", Some(wrong)).await;
        assert_eq!((status, error["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{error}");
    }
    let (status, written) = admin(&hub, "PUT", "/api/admin/habilitations/cantine", Some(habilitation.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{written}");
    assert_eq!(written["valid_until"], "2027-12-31");
    assert_eq!(written["expires_at"], 1_830_294_000u64);
    habilitation["valid_until"] = json!("2028-06-30");
    let (status, written) = admin(&hub, "PUT", "/api/admin/habilitations/cantine", Some(habilitation)).await;
    assert_eq!((status, written["valid_until"].as_str()), (StatusCode::OK, Some("2028-06-30")));
    let (status, _) = admin(&hub, "DELETE", "/api/admin/data-providers/caf", None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = admin(&hub, "DELETE", "/api/admin/habilitations/cantine", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(hub.state.registry.habilitations().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_identity_provider_keeps_its_secret_and_its_place_when_replaced() {
    let hub = TestHub::new();
    let idp = json!({
        "display_name": "Identité locale",
        "issuer": "https://idp.trifouillis.example",
        "client_id": "relais",
        "client_secret": "a-secret-of-the-hub-at-this-idp",
        "eidas_level": "eidas1",
    });
    let (status, written) = admin(&hub, "PUT", "/api/admin/identity-providers/locale", Some(idp.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{written}");
    assert!(written.get("client_secret").is_none());
    let mut replaced = idp;
    replaced.as_object_mut().unwrap().remove("client_secret");
    replaced["enabled"] = json!(false);
    let (status, _) = admin(&hub, "PUT", "/api/admin/identity-providers/locale", Some(replaced)).await;
    assert_eq!(status, StatusCode::OK);
    let idps = hub.state.registry.identity_providers().await.unwrap();
    let last = idps.last().unwrap();
    assert_eq!((last.id.as_str(), last.enabled), ("locale", false));
    assert_eq!(last.client_secret.expose(), "a-secret-of-the-hub-at-this-idp");
    let (status, error) =
        admin(&hub, "PUT", "/api/admin/identity-providers/autre", Some(json!({"display_name": "x"}))).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::BAD_REQUEST, Some("issuer")), "{error}");
}

#[tokio::test]
async fn odd_ids_and_bodies_get_json_errors() {
    let hub = TestHub::new();
    for uri in ["/api/admin/service-providers/%00", "/api/admin/habilitations/a%0Ab", "/api/admin/data-providers/%20"] {
        let (status, error) = admin(&hub, "GET", uri, None).await;
        assert_eq!((status, error["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{uri}");
    }
    let (status, error) = admin(&hub, "GET", "/api/admin/service-providers/%FF", None).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::BAD_REQUEST, Some("path")));
    let request = Request::put("/api/admin/service-providers/x")
        .header(header::AUTHORIZATION, format!("Bearer {OPERATOR_TOKEN}"))
        .body(Body::from("{not json"))
        .unwrap();
    let response = crate::routes::router(hub.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_key_rotation_adds_a_key_per_algorithm_and_is_traced() {
    let hub = TestHub::new();
    let (status, before) = admin(&hub, "GET", "/api/admin/keys", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, error) =
        admin(&hub, "POST", "/api/admin/keys/rotation", Some(json!({"publish_for": 1u64 << 40}))).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::BAD_REQUEST, Some("publish_for")));
    let (status, rotation) = admin(&hub, "POST", "/api/admin/keys/rotation", Some(json!({"publish_for": 60}))).await;
    assert_eq!(status, StatusCode::OK, "{rotation}");
    assert_eq!(rotation["added"].as_array().unwrap().len(), 2);
    let (_, after) = admin(&hub, "GET", "/api/admin/keys", None).await;
    assert_eq!(after.as_array().unwrap().len(), before.as_array().unwrap().len() + 2);
    assert!(after.as_array().unwrap().iter().all(|key| key.get("private_pem").is_none()));
    let chain = hub.chain().await;
    assert_eq!(chain.last().unwrap().event.outcome, "keys_rotated");
}

/// `call` asking for `language`: the status, the `Content-Language` and the description.
async fn in_language(
    hub: &TestHub,
    language: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (u16, String, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {OPERATOR_TOKEN}"))
        .header(header::ACCEPT_LANGUAGE, language)
        .body(body.map_or_else(Body::empty, |value| Body::from(value.to_string())))
        .unwrap();
    let response = crate::routes::router(hub.state.clone()).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let said = response.headers().get(header::CONTENT_LANGUAGE).map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap();
    let error: Value = serde_json::from_slice(&bytes).unwrap();
    (status, said.unwrap_or_default(), error["error_description"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn errors_are_said_in_french_when_french_is_preferred() {
    let hub = TestHub::new();
    let mut body = town_hall();
    body["redirect_uris"] = json!(["http://trifouillis.example/cb"]);
    let uri = "/api/admin/service-providers/trifouillis";
    let (status, language, said) = in_language(&hub, "fr-FR,fr;q=0.9,en;q=0.8", "PUT", uri, Some(body.clone())).await;
    assert_eq!((status, language.as_str()), (400, "fr"));
    assert!(said.contains("doit être en https"), "{said}");
    let (_, language, said) = in_language(&hub, "en-GB, fr;q=0.5", "PUT", uri, Some(body)).await;
    assert_eq!(language, "en");
    assert!(said.contains("must be https"), "{said}");
    let (status, language, said) = in_language(&hub, "fr", "GET", "/api/admin/data-providers/nulle-part", None).await;
    assert_eq!((status, language.as_str(), said.as_str()), (404, "fr", "aucun fournisseur de données `nulle-part`"));
    let mut wrong = town_hall();
    wrong["surprise"] = json!(true);
    let (status, _, said) = in_language(&hub, "fr", "PUT", uri, Some(wrong)).await;
    assert_eq!(status, 400);
    assert!(said.starts_with("JSON refusé"), "{said}");
    assert!(hub.chain().await.is_empty(), "nothing changed");
}

#[tokio::test]
async fn a_providers_catalogue_details_and_openapi_description_read_back_and_a_wrong_one_changes_nothing() {
    let hub = TestHub::new();
    let openapi = json!({
        "openapi": "3.1.0",
        "info": { "title": "API des écoles", "version": "1" },
        "paths": { "/api/tarif": { "get": { "summary": "Le tarif", "responses": { "200": { "description": "Le tarif" } } } } }
    });
    let dp = json!({
        "name": "Service des écoles",
        "scopes": [{"name": "tarif_cantine", "label": "Tarif de cantine", "description": "Le tarif appliqué"}],
        "eligibility": "Les communes",
        "rate_limit_per_minute": 120,
        "openapi": openapi,
    });
    let (status, _) = admin(&hub, "PUT", "/api/admin/data-providers/ecoles", Some(dp.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, read) = admin(&hub, "GET", "/api/admin/data-providers/ecoles", None).await;
    assert_eq!(
        (read["eligibility"].as_str(), read["rate_limit_per_minute"].as_u64()),
        (Some("Les communes"), Some(120))
    );
    assert_eq!(read["openapi"], openapi, "the document as given");
    let before = hub.chain().await.len();
    let mut wrong = dp.clone();
    wrong["openapi"] = json!({"swagger": "2.0"});
    let (status, language, said) =
        in_language(&hub, "fr", "PUT", "/api/admin/data-providers/ecoles", Some(wrong)).await;
    assert_eq!((status, language.as_str()), (400, "fr"));
    assert!(said.contains("OpenAPI 3"), "{said}");
    let (_, read) = admin(&hub, "GET", "/api/admin/data-providers/ecoles", None).await;
    assert_eq!(read["openapi"], openapi, "nothing changed");
    assert_eq!(hub.chain().await.len(), before);
}
