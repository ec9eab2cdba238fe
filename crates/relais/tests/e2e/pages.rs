//! The person's pages as HTTP: security headers and cookie attributes on every route, the
//! static files of the design system, the language of the pages.

use openidconnect::AuthType;
use reqwest::header::{HeaderMap, CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};

use crate::harness::*;

/// The headers every response of the hub carries, and the attributes of every cookie it sets.
fn assert_secure(what: &str, headers: &HeaderMap, https: bool) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    let csp = header("content-security-policy");
    for directive in
        ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]
    {
        assert!(csp.contains(directive), "{what}: {directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}: {csp}");
    assert_eq!(header("strict-transport-security").is_empty(), !https, "{what}: HSTS only over HTTPS");
    assert!(!header("x-request-id").is_empty(), "{what}");
    for cookie in headers.get_all(SET_COOKIE) {
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("; HttpOnly"), "{what}: {cookie}");
        assert!(cookie.contains("; SameSite=Lax"), "{what}: {cookie}");
        assert!(cookie.contains("; Path=/"), "{what}: {cookie}");
        assert_eq!(cookie.contains("; Secure"), https, "{what}: {cookie}");
        assert_eq!(cookie.starts_with("__Host-"), https, "{what}: {cookie}");
    }
}

fn cookie_names(headers: &HeaderMap) -> Vec<String> {
    headers.get_all(SET_COOKIE).iter().filter_map(|c| c.to_str().ok()?.split('=').next().map(str::to_owned)).collect()
}

/// GET with the person's browser, headers checked.
async fn get(browser: &Browser, url: &str, what: &str) -> reqwest::Response {
    let response = browser.get(url).await;
    assert_secure(what, response.headers(), false);
    response
}

async fn post(browser: &Browser, url: &str, form: &[(String, String)], what: &str) -> reqwest::Response {
    let response = browser.post(url, form).await;
    assert_secure(what, response.headers(), false);
    response
}

#[tokio::test]
async fn every_route_carries_the_security_headers_and_every_cookie_is_http_only_and_same_site() {
    let platform = Platform::start().await;
    let browser = Browser::new();
    let hub = |path: &str| platform.url(path).to_string();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // Machine endpoints and the person's static pages.
    for path in
        ["/.well-known/openid-configuration", "/jwks", "/healthz", "/readyz", "/traces/checkpoint", "/", "/nulle-part"]
    {
        get(&browser, &hub(path), path).await;
    }
    let css = get(&browser, &hub("/static/dsfr-1.15.3/dsfr.min.css"), "css").await;
    assert_eq!(css.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    assert_eq!(css.headers()[CACHE_CONTROL], "public, max-age=31536000, immutable");
    for (file, content_type) in [
        ("dsfr.module.min.js", "text/javascript; charset=utf-8"),
        ("dsfr.nomodule.min.js", "text/javascript; charset=utf-8"),
        ("fonts/Marianne-Regular.woff2", "font/woff2"),
        ("favicon/favicon.svg", "image/svg+xml"),
    ] {
        let response = get(&browser, &hub(&format!("/static/dsfr-1.15.3/{file}")), file).await;
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(response.headers()[CONTENT_TYPE], content_type, "{file}");
    }
    assert_eq!(get(&browser, &hub("/static/dsfr-1.15.3/nothing.css"), "missing").await.status(), 404);

    // The language switch: a cookie, and back to a local page only.
    let switch = get(&browser, &hub("/langue?lang=en&retour=/interaction/x"), "switch").await;
    assert_eq!(location(&switch), "/interaction/x");
    assert_eq!(cookie_names(switch.headers()), ["relais_lang"]);
    let switch = get(&browser, &hub("/langue?lang=fr&retour=//evil.example/"), "switch away").await;
    assert_eq!(location(&switch), "/");

    // A sign-in with data: authorize, choice, IdP callback, consent, token, userinfo, checktoken,
    // in a browser that never used the switch (whose choice would win over `ui_locales`).
    let browser = Browser::new();
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let request = sp.request(&["openid", "identite_pivot", "quotient_familial"], None, &[("ui_locales", "en")]);
    let page = get(&browser, &request.url, "authorize").await;
    assert!(cookie_names(page.headers()).contains(&"relais_browser".to_owned()));
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"), "the SP's ui_locales: English");
    let choose =
        post(&browser, platform.url(&form_action(&html)).as_str(), &[("idp".into(), "impots".into())], "choose").await;
    assert_eq!(cookie_names(choose.headers()), ["relais_dernier_compte"], "the last IdP used, nothing else");
    let last = choose.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(last.starts_with("relais_dernier_compte=impots;"), "{last}");
    // The IdP's page (not the hub's), then the hub's callback.
    let idp_page = browser.get(&location(&choose)).await.text().await.unwrap();
    let mut form = hidden_inputs(&idp_page);
    form.push(("identity".into(), "0".into()));
    let idp_url = reqwest::Url::parse(&location(&choose)).unwrap();
    let back = browser.post(idp_url.join(&form_action(&idp_page)).unwrap().as_str(), &form).await;
    let callback = get(&browser, &location(&back), "idp callback").await;
    assert!(cookie_names(callback.headers()).contains(&"relais_session".to_owned()));
    let consent_url = platform.url(&location(&callback)).to_string();
    let consent = get(&browser, &consent_url, "consent page").await;
    assert_eq!(consent.headers()[CACHE_CONTROL], "no-store");
    assert!(consent.text().await.unwrap().contains("<html lang=\"en\">"), "the consent page keeps ui_locales");
    let answer = post(
        &browser,
        &consent_url,
        &[("decision".into(), "accepter".into()), ("transfert".into(), "caf:quotient_familial".into())],
        "consent",
    )
    .await;
    let signed_in = sp.finish(request, &location(&answer)).await.unwrap();
    let token = client.post(hub("/token")).form(&[("grant_type", "authorization_code")]).send().await.unwrap();
    assert_secure("token", token.headers(), false);
    let userinfo = client.get(hub("/userinfo")).bearer_auth(&signed_in.access_token).send().await.unwrap();
    assert_secure("userinfo", userinfo.headers(), false);
    let checktoken = client
        .post(hub("/checktoken"))
        .basic_auth("caf", Some(dp_secret("caf")))
        .form(&[("token", signed_in.access_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_secure("checktoken", checktoken.headers(), false);

    // Error pages of the flow.
    for path in ["/interaction/inconnu", "/consentement/inconnu", "/authorize?client_id=inconnu"] {
        let page = get(&browser, &hub(path), path).await;
        assert_eq!(page.headers()[CACHE_CONTROL], "no-store", "{path}");
        assert!(page.text().await.unwrap().contains("id=\"reference\""), "{path}");
    }

    // The dashboard: sign-in, callback, preferences, sign-out.
    let start = get(&browser, &hub("/tableau-de-bord"), "dashboard").await;
    let authorize = get(&browser, &location(&start), "dashboard authorize").await;
    let redirect = if authorize.status() == 200 {
        through_choice(&browser, &platform, &authorize.text().await.unwrap(), "impots", 0).await
    } else {
        location(&authorize)
    };
    let callback = get(&browser, &redirect, "dashboard callback").await;
    assert_eq!(cookie_names(callback.headers()), ["relais_dashboard"]);
    let html = get(&browser, &hub("/tableau-de-bord"), "dashboard page").await.text().await.unwrap();
    let csrf = hidden_inputs(&html).into_iter().find(|(k, _)| k == "csrf").unwrap().1;
    post(&browser, &hub("/tableau-de-bord/comptes"), &[("csrf".into(), csrf)], "dashboard accounts").await;
    let out = post(&browser, &hub("/tableau-de-bord/deconnexion"), &[], "dashboard sign-out").await;
    assert_eq!(cookie_names(out.headers()), ["relais_dashboard"]);

    // Logout: the confirmation page, the logout, the IdP's return.
    let confirm = get(&browser, &hub("/logout"), "logout confirm").await;
    assert_eq!(confirm.status(), 200);
    let html = confirm.text().await.unwrap();
    let form: Vec<(String, String)> = hidden_inputs(&html);
    let logout = post(&browser, &hub("/logout"), &form, "logout").await;
    assert!(cookie_names(logout.headers()).contains(&"relais_session".to_owned()));
    get(&browser, &hub("/idp/logout-callback?state=inconnu"), "logout callback").await;
}

#[tokio::test]
async fn over_https_cookies_are_secure_with_the_host_prefix_and_hsts_is_sent() {
    let platform = Platform::start().await;
    let mut file: relais::config::ConfigFile = toml::from_str(&platform.config_toml).unwrap();
    file.hub.issuer = url::Url::parse("https://relais.example").unwrap();
    let toml = file.to_toml().unwrap();
    let config = relais::config::Config::from_toml(&toml, &|_| None).unwrap();
    let sql = relais::launch::open_database(&config).await.unwrap();
    let ephemeral = relais::launch::ephemeral_store(&config, platform.clock.clone()).unwrap();
    let state = relais::launch::assemble_with(&config, sql, ephemeral, platform.clock.clone()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(relais_server::serve(listener, state));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let request = sp.request(&["openid"], None, &[]);
    let query = reqwest::Url::parse(&request.url).unwrap().query().unwrap().to_owned();
    let page = client.get(format!("{base}/authorize?{query}")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_secure("authorize over https", page.headers(), true);
    assert_eq!(cookie_names(page.headers()), ["__Host-relais_browser"]);
    let switch = client.get(format!("{base}/langue?lang=en")).send().await.unwrap();
    assert_secure("switch over https", switch.headers(), true);
    assert_eq!(cookie_names(switch.headers()), ["__Host-relais_lang"]);
    for path in ["/", "/jwks", "/interaction/inconnu", "/static/dsfr-1.15.3/dsfr.min.css"] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_secure(path, response.headers(), true);
    }
}

#[tokio::test]
async fn the_pages_speak_the_browsers_language_french_by_default() {
    let platform = Platform::start().await;
    let client = reqwest::Client::new();
    let page = |lang: Option<&'static str>| {
        let mut request = client.get(platform.url("/interaction/inconnu"));
        if let Some(lang) = lang {
            request = request.header("accept-language", lang);
        }
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let french = page(None).await;
    assert!(french.contains("<html lang=\"fr\">") && french.contains("Votre session a expiré"));
    let english = page(Some("en-GB,en;q=0.9")).await;
    assert!(english.contains("<html lang=\"en\">") && english.contains("Your session has expired"));
    let german = page(Some("de-DE,de;q=0.9")).await;
    assert!(german.contains("<html lang=\"fr\">"), "French when the browser speaks neither");
}

#[tokio::test]
async fn without_a_metrics_token_there_is_no_metrics_endpoint() {
    let platform = Platform::start().await;
    let response = reqwest::get(platform.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), 404);
}
