//! The sign-in paths that must work.

use openidconnect::AuthType;

use crate::harness::*;

#[tokio::test]
async fn a_person_signs_in_to_an_sp_through_an_idp_of_their_choice() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let request = sp.request(&["openid", "identite_pivot", "email"], None, &[]);
    let page = browser.get(&request.url).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert_eq!(offered_idps(&html), ["impots", "ameli", "numerique"]);
    assert_eq!(html.matches("<h1").count(), 1);
    let redirect = through_choice(&browser, &platform, &html, "ameli", 0).await;
    assert_eq!(query_param(&redirect, "iss").as_deref(), Some(platform.issuer.as_str()), "RFC 9207 iss");
    let signed_in = sp.finish(request, &redirect).await.unwrap();

    assert_eq!(signed_in.acr.as_deref(), Some("eidas2"));
    assert_eq!(signed_in.userinfo["given_name"], "angela  claire louise", "claims as the IdP wrote them");
    assert_eq!(signed_in.userinfo["family_name"], "Dubois");
    assert_eq!(signed_in.userinfo["birthdate"], "1962-08-24");
    assert_eq!(signed_in.userinfo["birthplace"], "75107");
    assert_eq!(signed_in.userinfo["birthcountry"], "99100");
    assert_eq!(jwt_payload(&signed_in.id_token)["birthplace"], "75107", "claims in the ID token too");
    assert!(signed_in.userinfo.get("preferred_username").is_none(), "not a registered scope");
    assert!(signed_in.sub.ends_with("v1") && signed_in.sub.len() == 66);
}

#[tokio::test]
async fn two_sps_get_different_subs_and_the_second_one_gets_single_sign_on() {
    let platform = Platform::start().await;
    let sp_a = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let sp_b =
        Sp::discover(&platform, "sp-b", Some("secret-b-for-tests-0123456789abcdef"), AuthType::RequestBody).await;
    let browser = Browser::new();
    let at_a = sign_in(&platform, &browser, &sp_a, &["openid"], "impots", 0).await;

    let request = sp_b.request(&["openid", "given_name"], None, &[]);
    let sso = browser.get(&request.url).await;
    let redirect = location(&sso);
    assert!(redirect.starts_with("https://sp-b.example/callback?"), "no choice page: {redirect}");
    let at_b = sp_b.finish(request, &redirect).await.unwrap();
    assert_ne!(at_a.sub, at_b.sub, "pairwise sub");
    assert_eq!(at_b.userinfo["given_name"], "Angela Claire Louise");
    assert!(at_b.userinfo.get("family_name").is_none(), "only the requested scopes");
    assert_eq!(
        platform.idp("impots").received_requests().iter().filter(|r| r.path == "/token").count(),
        1,
        "one upstream sign-in"
    );
    let header = jsonwebtoken::decode_header(&at_b.id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256, "sp-b is registered for RS256");
}

#[tokio::test]
async fn one_sp_gets_the_same_sub_whichever_idp_the_person_used() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let first = sign_in(&platform, &Browser::new(), &sp, &["openid"], "impots", 0).await;
    // The other IdP writes the same person differently (variant 1: case, accents, spacing).
    let second = sign_in(&platform, &Browser::new(), &sp, &["openid"], "ameli", 0).await;
    let other_person = sign_in(&platform, &Browser::new(), &sp, &["openid"], "ameli", 1).await;
    assert_eq!(first.sub, second.sub);
    assert_ne!(first.sub, other_person.sub);
}

#[tokio::test]
async fn acr_values_eidas3_hides_the_lower_idps_and_the_level_is_returned() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let request = sp.request(&["openid"], Some("eidas3"), &[]);
    let html = browser.get(&request.url).await.text().await.unwrap();
    assert_eq!(offered_idps(&html), ["numerique"]);
    let redirect = through_choice(&browser, &platform, &html, "numerique", 2).await;
    assert_eq!(sp.finish(request, &redirect).await.unwrap().acr.as_deref(), Some("eidas3"));

    // A session at eidas1 does not serve a request for eidas2: the person signs in again.
    let low = Browser::new();
    sign_in(&platform, &low, &sp, &["openid"], "impots", 0).await;
    let request = sp.request(&["openid"], Some("eidas2"), &[]);
    let html = low.get(&request.url).await.text().await.unwrap();
    assert_eq!(offered_idps(&html), ["ameli", "numerique"]);
}

#[tokio::test]
async fn logout_ends_the_hub_session_and_the_idp_session_then_returns_to_the_sp() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let signed_in = sign_in(&platform, &browser, &sp, &["openid"], "ameli", 0).await;
    assert_eq!(platform.idp("ameli").active_sessions(), 1);

    let mut logout = platform.url("/logout");
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", &signed_in.id_token)
        .append_pair("post_logout_redirect_uri", "https://sp-a.example/logged-out")
        .append_pair("state", "sp-logout-state");
    let to_idp = location(&browser.get(logout.as_str()).await);
    assert!(
        to_idp.starts_with(platform.idp("ameli").issuer().as_str().trim_end_matches('/')),
        "RP-initiated logout at the IdP: {to_idp}"
    );
    let back_to_hub = location(&browser.get(&to_idp).await);
    let back_to_sp = location(&browser.get(&back_to_hub).await);
    assert_eq!(back_to_sp, "https://sp-a.example/logged-out?state=sp-logout-state");
    assert_eq!(platform.idp("ameli").active_sessions(), 0, "IdP session ended");

    let request = sp.request(&["openid"], None, &[("prompt", "none")]);
    let redirect = location(&browser.get(&request.url).await);
    assert_eq!(sp.finish(request, &redirect).await.err().as_deref(), Some("login_required"), "hub session ended");
}

#[tokio::test]
async fn prompt_none_and_prompt_login() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let request = sp.request(&["openid"], None, &[("prompt", "none")]);
    let redirect = location(&browser.get(&request.url).await);
    assert_eq!(sp.finish(request, &redirect).await.err().as_deref(), Some("login_required"));

    let first = sign_in(&platform, &browser, &sp, &["openid"], "impots", 0).await;
    let request = sp.request(&["openid"], None, &[("prompt", "none")]);
    let redirect = location(&browser.get(&request.url).await);
    assert_eq!(sp.finish(request, &redirect).await.unwrap().sub, first.sub, "prompt=none with a session");

    let request = sp.request(&["openid"], None, &[("prompt", "login")]);
    let page = browser.get(&request.url).await;
    assert_eq!(page.status(), 200, "prompt=login shows the choice page despite the session");
}

#[tokio::test]
async fn idp_hint_skips_the_choice_page_and_sp_restrictions_apply() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let request = sp.request(&["openid"], None, &[("idp_hint", "ameli")]);
    let to_idp = location(&browser.get(&request.url).await);
    assert!(to_idp.starts_with(platform.idp("ameli").issuer().as_str().trim_end_matches('/')));
    let redirect = at_idp(&browser, &to_idp, 0).await;
    assert!(sp.finish(request, &redirect).await.is_ok());

    let restricted =
        Sp::discover(&platform, "sp-restricted", Some("secret-r-for-tests-0123456789abcdef"), AuthType::BasicAuth)
            .await;
    let request = restricted.request(&["openid"], None, &[("idp_hint", "ameli")]);
    let page = Browser::new().get(&request.url).await;
    assert_eq!(page.status(), 200, "an ineligible hint is ignored");
    assert_eq!(offered_idps(&page.text().await.unwrap()), ["impots"], "allow-list");

    // The restricted SP's allow-list also keeps it from reusing an ameli session.
    let request = restricted.request(&["openid"], None, &[]);
    let page = browser.get(&request.url).await;
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn private_key_jwt_and_public_clients_with_pkce() {
    let platform = Platform::start().await;
    let browser = Browser::new();
    let sp = Sp::discover(&platform, "sp-jwt", None, AuthType::BasicAuth).await;
    let request = sp.request(&["openid", "birth"], None, &[]);
    let html = browser.get(&request.url).await.text().await.unwrap();
    let redirect = through_choice(&browser, &platform, &html, "impots", 1).await;
    let code = query_param(&redirect, "code").unwrap();
    let tokens = crate::negative::token_with_assertion(
        &platform,
        &code,
        &sp.redirect_uri,
        request.verifier.as_ref().unwrap().secret(),
        sp_jwt_keys(),
        "sp-jwt",
    )
    .await;
    assert_eq!(tokens.status(), 200);
    let tokens: openidconnect::core::CoreTokenResponse = tokens.json().await.unwrap();
    let signed_in = sp.verify(&tokens, &request.nonce).await.unwrap();
    assert_eq!(signed_in.userinfo["birthplace"], "", "a person born abroad has an empty birthplace");
    assert_eq!(signed_in.userinfo["birthcountry"], "99217");

    let public = Sp::discover(&platform, "sp-public", None, AuthType::RequestBody).await;
    let request = public.request(&["openid", "profile"], None, &[]);
    let redirect = location(&browser.get(&request.url).await);
    let signed_in = public.finish(request, &redirect).await.unwrap();
    assert_eq!(signed_in.userinfo["family_name"], "TANAKA");
}

#[tokio::test]
async fn double_blindness_the_idp_never_learns_the_sp_and_the_sp_never_learns_the_idp() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let request = sp.request(&["openid", "identite_pivot", "email"], None, &[]);
    let (sp_state, sp_nonce) = (request.state.clone(), request.nonce.secret().clone());
    let html = browser.get(&request.url).await.text().await.unwrap();
    let redirect = through_choice(&browser, &platform, &html, "ameli", 0).await;
    let signed_in = sp.finish(request, &redirect).await.unwrap();

    let seen_by_idp: String = platform
        .idp("ameli")
        .received_requests()
        .iter()
        .map(|r| format!("{} {} {} {} {:?}", r.method, r.path, r.query, r.body, r.headers))
        .collect();
    assert!(seen_by_idp.contains("/authorize"), "the IdP was used");
    for secret in ["sp-a", "Mairie A", "sp-a.example", &sp_state, &sp_nonce] {
        assert!(!seen_by_idp.contains(secret), "the IdP saw `{secret}`");
    }
    let ameli = platform.idp("ameli");
    let ameli_issuer = ameli.issuer().as_str().trim_end_matches('/');
    let seen_by_sp = format!("{redirect} {} {} {}", signed_in.id_token_claims, signed_in.userinfo, signed_in.id_token);
    for secret in ["ameli", "Assurance maladie", ameli_issuer, "ameli-angela"] {
        assert!(!seen_by_sp.contains(secret), "the SP saw `{secret}`");
    }
}

#[tokio::test]
async fn max_age_and_id_token_hint_limit_single_sign_on() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let angela = sign_in(&platform, &browser, &sp, &["openid"], "impots", 0).await;
    platform.clock.advance(120);

    let request = sp.request(&["openid"], None, &[("max_age", "600")]);
    let redirect = location(&browser.get(&request.url).await);
    let fresh_enough = sp.finish(request, &redirect).await.unwrap();
    assert_eq!(fresh_enough.sub, angela.sub);
    let auth_time = jwt_payload(&fresh_enough.id_token)["auth_time"].as_u64().unwrap();
    assert_eq!(
        jwt_payload(&angela.id_token)["auth_time"].as_u64().unwrap(),
        auth_time,
        "auth_time of the upstream sign-in"
    );

    let request = sp.request(&["openid"], None, &[("max_age", "60")]);
    assert_eq!(browser.get(&request.url).await.status(), 200, "too old: the choice page again");
    let request = sp.request(&["openid"], None, &[("max_age", "60"), ("prompt", "none")]);
    let redirect = location(&browser.get(&request.url).await);
    assert_eq!(sp.finish(request, &redirect).await.err().as_deref(), Some("login_required"));

    // A hint naming another person: the session of Angela does not answer silently.
    let kenji = sign_in(&platform, &Browser::new(), &sp, &["openid"], "impots", 1).await;
    let request = sp.request(&["openid"], None, &[("prompt", "none"), ("id_token_hint", &kenji.id_token)]);
    let redirect = location(&browser.get(&request.url).await);
    assert_eq!(sp.finish(request, &redirect).await.err().as_deref(), Some("login_required"));
    let request = sp.request(&["openid"], None, &[("prompt", "none"), ("id_token_hint", &angela.id_token)]);
    let redirect = location(&browser.get(&request.url).await);
    assert_eq!(sp.finish(request, &redirect).await.unwrap().sub, angela.sub);
}

#[tokio::test]
async fn a_posted_authorization_request_continues_as_a_get_with_the_session() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let first = sign_in(&platform, &browser, &sp, &["openid"], "impots", 0).await;
    let request = sp.request(&["openid"], None, &[]);
    let query = url::Url::parse(&request.url).unwrap().query().unwrap().to_owned();
    let posted = browser
        .http
        .post(platform.url("/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303);
    let get = location(&posted);
    assert_eq!(get, format!("/authorize?{query}"));
    let redirect = location(&browser.get(platform.url(&get).as_str()).await);
    assert_eq!(sp.finish(request, &redirect).await.unwrap().sub, first.sub);
}
