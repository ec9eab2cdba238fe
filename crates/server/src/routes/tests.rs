//! Router tests without a socket (`tower::ServiceExt::oneshot`): the headers every response
//! carries, the cookies, and the format of errors per audience.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use tower::ServiceExt;

use crate::engine::tests::TestHub;

async fn send(hub: &TestHub, request: Request<Body>) -> Response {
    super::router(hub.state.clone()).oneshot(request).await.unwrap()
}

async fn get(hub: &TestHub, uri: &str) -> Response {
    send(hub, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn body(response: Response) -> String {
    String::from_utf8(axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
}

fn header_of<'a>(response: &'a Response, name: &str) -> &'a str {
    response.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or_default()
}

fn authorize_uri(client: &str) -> String {
    let mut url = url::Url::parse("https://relais.example/authorize").unwrap();
    url.query_pairs_mut().extend_pairs([
        ("client_id", client),
        ("redirect_uri", &format!("https://{client}.example/cb")),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "s"),
        ("nonce", "n"),
    ]);
    format!("/authorize?{}", url.query().unwrap())
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_request_id() {
    let hub = TestHub::new();
    for uri in ["/.well-known/openid-configuration", "/nowhere", "/healthz"] {
        let response = get(&hub, uri).await;
        assert_eq!(header_of(&response, "content-security-policy"), crate::context::CONTENT_SECURITY_POLICY, "{uri}");
        assert_eq!(header_of(&response, "x-frame-options"), "DENY", "{uri}");
        assert_eq!(header_of(&response, "x-content-type-options"), "nosniff", "{uri}");
        assert_eq!(header_of(&response, "referrer-policy"), "no-referrer", "{uri}");
        assert_eq!(header_of(&response, "x-request-id").len(), 32, "{uri}");
        assert!(!header_of(&response, "strict-transport-security").is_empty(), "the test issuer is https: {uri}");
    }
}

#[tokio::test]
async fn discovery_names_the_issuer_and_its_endpoints() {
    let hub = TestHub::new();
    let response = get(&hub, "/.well-known/openid-configuration").await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: serde_json::Value = serde_json::from_str(&body(response).await).unwrap();
    assert_eq!(document["issuer"], "https://relais.example");
    assert_eq!(document["token_endpoint"], "https://relais.example/token");
}

#[tokio::test]
async fn the_binding_cookie_is_host_only_http_only_and_same_site() {
    let hub = TestHub::new();
    let response = get(&hub, &authorize_uri("mairie")).await;
    assert_eq!(response.status(), StatusCode::OK, "the choice page");
    let cookie = header_of(&response, "set-cookie");
    assert!(cookie.starts_with("__Host-"), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert_eq!(header_of(&response, "cache-control"), "no-store");
}

#[tokio::test]
async fn a_person_gets_a_page_with_the_reference_to_quote() {
    let hub = TestHub::new();
    let response = get(&hub, &authorize_uri("inconnu")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(header_of(&response, "content-type").starts_with("text/html"));
    let id = header_of(&response, "x-request-id").to_owned();
    let html = body(response).await;
    assert!(html.contains(&id), "the page shows the request id");
    assert_eq!(get(&hub, "/nowhere").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_client_gets_json_errors_with_their_challenges() {
    let hub = TestHub::new();
    let not_a_form = Request::post("/token").header(header::CONTENT_TYPE, "application/json").body(Body::from("{}"));
    let response = send(&hub, not_a_form.unwrap()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(header_of(&response, "content-type").starts_with("application/json"));
    assert!(body(response).await.contains("\"invalid_request\""));

    let wrong_secret = Request::post("/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::AUTHORIZATION, "Basic bWFpcmllOndyb25n")
        .body(Body::from("grant_type=authorization_code&code=c&redirect_uri=https%3A%2F%2Fmairie.example%2Fcb"));
    let response = send(&hub, wrong_secret.unwrap()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(header_of(&response, "www-authenticate").starts_with("Basic"));
    assert!(body(response).await.contains("\"invalid_client\""));

    let response = get(&hub, "/userinfo").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header_of(&response, "www-authenticate"), "Bearer realm=\"relais\"");
}

#[tokio::test]
async fn an_outage_is_a_page_for_people_and_json_for_machines() {
    let hub = TestHub::on(Some(Arc::new(crate::engine::tests::Down)));
    let response = get(&hub, &authorize_uri("mairie")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(header_of(&response, "content-type").starts_with("text/html"));
    assert_eq!(header_of(&response, "retry-after"), "30");

    let checktoken = Request::post("/checktoken")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(
            header::AUTHORIZATION,
            format!("Basic {}", base64_of(&format!("caf:{}", crate::engine::tests::CAF_SECRET))),
        )
        .body(Body::from("token=t"));
    let response = send(&hub, checktoken.unwrap()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(header_of(&response, "content-type").starts_with("application/json"));
    assert_eq!(header_of(&response, "retry-after"), "30");
    let answer: serde_json::Value = serde_json::from_str(&body(response).await).unwrap();
    assert_eq!(answer["error"], "temporarily_unavailable");
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn a_binding_cookie_the_hub_did_not_make_is_replaced() {
    let hub = TestHub::new();
    let request = Request::get(authorize_uri("mairie")).header(header::COOKIE, "__Host-relais_browser=x");
    let response = send(&hub, request.body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = header_of(&response, "set-cookie");
    assert!(
        cookie.starts_with("__Host-relais_browser=") && !cookie.starts_with("__Host-relais_browser=x;"),
        "{cookie}"
    );
}

#[tokio::test]
async fn a_post_from_another_site_to_the_persons_forms_is_refused() {
    let hub = TestHub::new();
    // The sign-outs too: a forged one from another site ends nothing.
    let paths = [
        "/interaction/f/choose",
        "/consentement/f",
        "/tableau-de-bord/comptes",
        "/tableau-de-bord/deconnexion",
        "/tableau-de-bord/demenagement",
        "/tableau-de-bord/demenagement/confirmer",
    ];
    let agents = ["/agents/interaction/f/email", "/partenaires/deconnexion", "/partenaires/instruction/jeton"];
    for path in paths.into_iter().chain(agents) {
        let request = Request::post(path)
            .header(header::ORIGIN, "https://attacker.example")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("idp=impots"));
        let response = send(&hub, request.unwrap()).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(header_of(&response, "content-type").starts_with("text/html"), "{path}");
    }
    let same_site = Request::post("/consentement/f")
        .header(header::ORIGIN, "https://relais.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("decision=refuser"));
    assert_eq!(send(&hub, same_site.unwrap()).await.status(), StatusCode::BAD_REQUEST, "reaches the hub: expired");
    // A browser's own post under `no-referrer` (Origin: null) with Fetch Metadata.
    for (site, status) in [("same-origin", StatusCode::BAD_REQUEST), ("cross-site", StatusCode::FORBIDDEN)] {
        let request = Request::post("/consentement/f")
            .header(header::ORIGIN, "null")
            .header("sec-fetch-site", site)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("decision=refuser"));
        assert_eq!(send(&hub, request.unwrap()).await.status(), status, "{site}");
    }
}

#[tokio::test]
async fn what_cannot_be_echoed_exactly_is_refused_never_a_5xx() {
    let hub = TestHub::new();
    for query in ["state=%FF", "state=a%00b", "state=a%0Db", "state=a%7Fb", "state=a%01b"] {
        let uri = format!("{}&{query}", authorize_uri("mairie").replace("&state=s", ""));
        let response = get(&hub, &uri).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(header_of(&response, "location").is_empty(), "not echoed: {query}");
    }
    for body in ["client_id=mairie&state=a\rb", "client_id=mairie&state=a\x01b", "state=%FF"] {
        let request = Request::post("/authorize")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()));
        let response = send(&hub, request.unwrap()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body:?}");
    }
    let long = format!("client_id=mairie&state={}", "a".repeat(100_000));
    let request = Request::post("/authorize")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(long));
    let response = send(&hub, request.unwrap()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "not a 100 KB Location");
    assert!(header_of(&response, "location").is_empty());
    let good = Request::post("/authorize")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("client_id=mairie&state=a+b%2Bc"));
    let response = send(&hub, good.unwrap()).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(header_of(&response, "location"), "/authorize?client_id=mairie&state=a+b%2Bc");
}

#[tokio::test]
async fn framework_rejections_get_the_hubs_page_or_json() {
    let hub = TestHub::new();
    let huge = Request::post("/consentement/f")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(vec![b'a'; 3 * 1024 * 1024]));
    let response = send(&hub, huge.unwrap()).await;
    assert!(response.status().is_client_error());
    assert!(header_of(&response, "content-type").starts_with("text/html"));
    let html = body(response).await;
    assert!(!html.contains("Failed to buffer") && html.contains("id=\"reference\""), "{html}");

    let bad_path = get(&hub, "/interaction/%FF").await;
    assert!(bad_path.status().is_client_error());
    assert!(header_of(&bad_path, "content-type").starts_with("text/html"));
    assert!(!body(bad_path).await.contains("Invalid URL"));

    let wrong_method = send(&hub, Request::put("/jwks").body(Body::empty()).unwrap()).await;
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(header_of(&wrong_method, "content-type").starts_with("text/html"));

    let token = Request::post("/token").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let response = send(&hub, token.body(Body::from(vec![b'a'; 3 * 1024 * 1024])).unwrap()).await;
    assert!(response.status().is_client_error());
    assert!(header_of(&response, "content-type").starts_with("application/json"));
}

#[tokio::test]
async fn the_language_switch_goes_back_to_local_paths_only() {
    let hub = TestHub::new();
    for (retour, expected) in [
        ("/interaction/abc", "/interaction/abc"),
        ("%2F%09%2Fevil.example", "/"),
        ("%2F%2Fevil.example", "/"),
        ("%2F%5C%2Fevil.example", "/"),
        ("https%3A%2F%2Fevil.example", "/"),
        ("%2Fa%00b", "/"),
    ] {
        let response = get(&hub, &format!("/langue?lang=en&retour={retour}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{retour}");
        assert_eq!(header_of(&response, "location"), expected, "{retour}");
    }
}

/// The log lines written while `f` runs, as JSON objects.
async fn logs_of<F: std::future::Future<Output = ()>>(f: F) -> Vec<serde_json::Value> {
    #[derive(Clone, Default)]
    struct Buffer(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt().json().with_writer(move || writer.clone()).finish();
    let guard = tracing::subscriber::set_default(subscriber);
    f.await;
    drop(guard);
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

#[tokio::test]
async fn every_request_has_an_access_line_with_its_route_and_no_values() {
    let hub = TestHub::new();
    let lines = logs_of(async {
        get(&hub, "/idp/impots/callback?code=secret-code-value&state=secret-state-value").await;
    })
    .await;
    let access: Vec<_> = lines.iter().filter(|line| line["target"] == "relais::access").collect();
    assert_eq!(access.len(), 1, "{lines:?}");
    let line = access[0];
    assert_eq!(line["fields"]["route"], "/idp/{idp}/callback");
    assert_eq!(line["fields"]["method"], "GET");
    assert_eq!(line["fields"]["status"], 400);
    assert!(line["fields"]["duration_ms"].as_f64().is_some());
    assert_eq!(line["span"]["request_id"].as_str().map(str::len), Some(32));
    let all = serde_json::to_string(&lines).unwrap();
    assert!(!all.contains("secret-code-value") && !all.contains("secret-state-value"), "{all}");
}

#[tokio::test]
async fn a_refused_client_secret_or_redirect_uri_is_logged_with_the_client_and_method_never_the_secret() {
    let hub = TestHub::new();
    let lines = logs_of(async {
        // mairie:wrong-secret-value
        let wrong_secret = Request::post("/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::AUTHORIZATION, "Basic bWFpcmllOndyb25nLXNlY3JldC12YWx1ZQ==")
            .body(Body::from("grant_type=authorization_code&code=c&redirect_uri=https%3A%2F%2Fmairie.example%2Fcb"));
        send(&hub, wrong_secret.unwrap()).await;
        get(&hub, "/authorize?client_id=mairie&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code").await;
    })
    .await;
    let found = |message: &str| {
        lines.iter().find(|line| line["fields"]["message"] == message).unwrap_or_else(|| panic!("{message}: {lines:?}"))
    };
    let client = found("client authentication refused");
    assert_eq!(client["fields"]["client_id"], "mairie");
    assert_eq!(client["fields"]["auth_method"], "client_secret_basic");
    let redirect = found("authorization request refused");
    assert_eq!(redirect["fields"]["client_id"], "mairie");
    assert_eq!(redirect["fields"]["redirect_uri"], "https://evil.example/cb");
    let all = serde_json::to_string(&lines).unwrap();
    assert!(!all.contains("wrong-secret-value"), "{all}");
}

#[tokio::test]
async fn metrics_need_the_token_and_count_the_steps_and_the_stores() {
    let hub = TestHub::new();
    get(&hub, "/authorize?client_id=mairie&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code").await;
    get(&hub, "/interaction/no-such-flow").await;
    let response = get(&hub, "/metrics").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(header_of(&response, "www-authenticate").starts_with("Bearer"), "{:?}", response.headers());
    let wrong = Request::get("/metrics").header(header::AUTHORIZATION, "Bearer not-the-token").body(Body::empty());
    assert_eq!(send(&hub, wrong.unwrap()).await.status(), StatusCode::UNAUTHORIZED);
    let scrape = Request::get("/metrics")
        .header(header::AUTHORIZATION, format!("Bearer {}", crate::engine::tests::METRICS_TOKEN))
        .body(Body::empty());
    let response = send(&hub, scrape.unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header_of(&response, "content-type").starts_with("application/openmetrics-text"));
    let text = body(response).await;
    assert!(
        text.contains("relais_steps_total{step=\"authorization_asked\",outcome=\"not_redirectable\",sp=\"mairie\",idp=\"\",dp=\"\"} 1"),
        "{text}"
    );
    assert!(text.contains("relais_store_duration_seconds_count{store=\"ephemeral\",operation=\"get\"} 1"), "{text}");
    assert!(text.contains("relais_sessions_alive 0"), "{text}");
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn the_partner_portal_sends_a_stranger_to_the_agent_federation_and_changes_nothing_for_them() {
    let hub = TestHub::new();
    let response = get(&hub, "/partenaires").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = header_of(&response, "location").to_owned();
    assert!(to.starts_with("https://relais.example/agents/authorize?client_id=relais-partenaires&"), "{to}");
    assert!(to.contains("code_challenge_method=S256"), "{to}");
    for uri in ["/partenaires/services/nouveau", "/partenaires/services/abc", "/partenaires/services/abc/qr.png"] {
        assert_eq!(get(&hub, uri).await.status(), StatusCode::SEE_OTHER, "{uri}");
    }
    // A form sent without a session (or a made-up one): refused, nothing registered.
    let form = "csrf=x&name=Cantine&site=https%3A%2F%2Fc.example&initiate_login_uri=https%3A%2F%2Fc.example%2Fc&redirect_uris=https%3A%2F%2Fc.example%2Fr&eidas_level=eidas1";
    for cookie in [None, Some("relais_partenaires=made-up")] {
        let mut request =
            Request::post("/partenaires/services").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = send(&hub, request.body(Body::from(form)).unwrap()).await;
        assert!(response.status().is_client_error(), "{}", response.status());
        assert!(header_of(&response, "content-type").starts_with("text/html"));
    }
    assert!(hub.state.portal.partner_services_of("217500016").await.unwrap().is_empty());
    assert_eq!(hub.state.registry.service_providers().await.unwrap().len(), 3);
    // A callback that no sign-in started.
    let response = get(&hub, "/partenaires/retour?code=x&state=y").await;
    assert!(response.status().is_client_error());
}
