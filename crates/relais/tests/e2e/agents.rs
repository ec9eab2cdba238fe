//! The agent federation (issue 12), driven over HTTP with the `openidconnect` crate as the
//! agent services, at the issuer `{hub}/agents`: routing by e-mail domain, the IdP's domain
//! checked at the callback, the organisation from the registry, public agents only, the two
//! federations kept apart, single sign-on and logout among agent services, and habilitations
//! seen by the data provider at checktoken.

use openidconnect::AuthType;
use serde_json::Value;

use crate::harness::*;

const TOOL: (&str, &str) = ("sp-agent-b", "secret-agent-b-for-tests-0123456789ab");
const BACK_OFFICE_SCOPES: [&str; 9] = [
    "openid",
    "given_name",
    "usual_name",
    "email",
    "uid",
    "siret",
    "idp_id",
    "organization_label",
    "organization_kind",
];

async fn agent_sp(platform: &Platform, (id, secret): (&str, &str)) -> Sp {
    Sp::discover_at(&platform.agents_issuer(), id, Some(secret), AuthType::BasicAuth).await
}

async fn raw_userinfo(platform: &Platform, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/userinfo", platform.agents_issuer()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_agent_signs_in_by_e_mail_at_the_idp_of_their_domain_with_their_organisation() {
    let platform = Platform::start().await;
    let discovery: Value = reqwest::get(format!("{}/.well-known/openid-configuration", platform.agents_issuer()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], platform.agents_issuer());
    assert_eq!(discovery["subject_types_supported"], serde_json::json!(["public"]));
    assert_eq!(discovery["jwks_uri"], format!("{}/jwks", platform.agents_issuer()));
    let sp = agent_sp(&platform, BACK_OFFICE).await;

    // One IdP serves the ministry's domain.
    let browser = Browser::new();
    let request = sp.request(&BACK_OFFICE_SCOPES, None, &[]);
    let redirect = by_email(&platform, &browser, &request.url.clone(), "Camille.Martin@NUMERIQUE.gouv.fr", 0).await;
    let camille = sp.finish(request, &redirect).await.unwrap();
    assert_eq!(camille.id_token_claims["iss"], platform.agents_issuer());
    let claims: Value = raw_userinfo(&platform, &camille.access_token).await.json().await.unwrap();
    assert_eq!(claims["usual_name"], "MARTIN");
    assert_eq!(claims["uid"], "cmartin");
    assert_eq!(claims["siret"], "13002526500013");
    assert_eq!(claims["idp_id"], "ministere");
    assert_eq!(claims["organization_kind"], "state_administration");
    assert_eq!(claims["organization_label"], "Direction interministérielle du numérique");
    assert!(claims.get("birthdate").is_none() && claims.get("family_name").is_none(), "{claims}");

    // Two IdPs claim the town's domain: the agent chooses.
    let browser = Browser::new();
    let request = sp.request(&BACK_OFFICE_SCOPES, None, &[]);
    let choice = type_email(&platform, &browser, &request.url, "jeanne.moreau@demoville.fr").await;
    assert_eq!(choice.status(), 200);
    let html = choice.text().await.unwrap();
    assert_eq!(offered_idps(&html), ["mairie", "interco"]);
    let redirect = through_choice(&browser, &platform, &html, "mairie", 0).await;
    let jeanne = sp.finish(request, &redirect).await.unwrap();
    let claims: Value = raw_userinfo(&platform, &jeanne.access_token).await.json().await.unwrap();
    assert_eq!(claims["organization_kind"], "local_authority");
    assert_eq!(claims["idp_id"], "mairie");
    assert_ne!(jeanne.sub, camille.sub);

    // A domain no IdP claims goes to the default IdP.
    let browser = Browser::new();
    let request = sp.request(&BACK_OFFICE_SCOPES, None, &[]);
    let to_idp = type_email(&platform, &browser, &request.url, "agent@ville-inconnue.fr").await;
    assert!(location(&to_idp).starts_with(platform.agent_idp("ministere").issuer().as_str()), "the default IdP");

    // Not an e-mail: the page again, saying so, nothing started.
    let browser = Browser::new();
    let request = sp.request(&BACK_OFFICE_SCOPES, None, &[]);
    let wrong = type_email(&platform, &browser, &request.url, "jeanne.moreau").await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("aria-invalid=\"true\""));
    assert_eq!(platform.organisations.lookups(), 2, "the registry is asked once per organisation");
}

#[tokio::test]
async fn login_hint_and_idp_hint_skip_the_page_and_the_sub_is_the_same_at_every_agent_service() {
    let platform = Platform::start().await;
    let back_office = agent_sp(&platform, BACK_OFFICE).await;
    let tool = agent_sp(&platform, TOOL).await;
    let browser = Browser::new();
    let request = back_office.request(&["openid", "uid"], None, &[("login_hint", "camille.martin@numerique.gouv.fr")]);
    let to_idp = browser.get(&request.url).await;
    assert!(location(&to_idp).starts_with(platform.agent_idp("ministere").issuer().as_str()), "login_hint routes");
    let redirect = at_idp(&browser, &location(&to_idp), 0).await;
    let first = back_office.finish(request, &redirect).await.unwrap();

    // Single sign-on at another agent service: no page, the same sub.
    let request = tool.request(&["openid", "uid"], None, &[]);
    let redirect = location(&browser.get(&request.url).await);
    let second = tool.finish(request, &redirect).await.unwrap();
    assert_eq!(second.sub, first.sub, "one agent sub across agent services");
    assert_eq!(second.userinfo["sub"], first.sub.as_str());

    let browser = Browser::new();
    let request = tool.request(&["openid"], None, &[("idp_hint", "interco")]);
    let to_idp = location(&browser.get(&request.url).await);
    assert!(to_idp.starts_with(platform.agent_idp("interco").issuer().as_str()), "idp_hint skips the e-mail");
}

#[tokio::test]
async fn an_idp_cannot_assert_another_domain_nor_a_half_agent_and_a_private_agent_is_refused_where_public_only() {
    let platform = Platform::start().await;
    let mut steps = platform.state.subscribe_steps();
    let sp = agent_sp(&platform, BACK_OFFICE).await;
    let attempt = |email: &'static str, identity: usize| {
        let (platform, sp) = (&platform, &sp);
        async move {
            let browser = Browser::new();
            let hint = if email.ends_with("@demoville.fr") { ("idp_hint", "mairie") } else { ("login_hint", email) };
            let request = sp.request(&["openid", "uid"], None, &[hint]);
            let to_idp = location(&browser.get(&request.url).await);
            let answer = at_idp(&browser, &to_idp, identity).await;
            let _ = platform;
            answer
        }
    };
    // The town hall's directory returns an agent of the ministry's domain.
    let refused = attempt("x@demoville.fr", 1).await;
    assert!(refused.starts_with("status:502:"), "{refused}");
    assert!(refused.contains("Adresse électronique non reconnue pour ce compte"), "{refused}");

    // A SIRET whose key is wrong: no half identity.
    let refused = attempt("x@demoville.fr", 2).await;
    assert!(refused.contains("Identité incomplète"), "{refused}");
    // A mandatory claim missing.
    platform.agent_idp("ministere").set_fault(relais_mocks::idp::Fault::MissingClaim("siret".into()));
    let refused = attempt("camille.martin@numerique.gouv.fr", 0).await;
    assert!(refused.contains("Identité incomplète"), "{refused}");
    platform.agent_idp("ministere").set_fault(relais_mocks::idp::Fault::None);
    let mut outcomes = Vec::new();
    while let Ok(step) = steps.try_recv() {
        outcomes.push(step.outcome.clone());
    }
    for traced in ["email_domain_not_of_idp", "siret_invalid", "agent_claim_missing"] {
        assert!(outcomes.iter().any(|o| o == traced), "{traced} traced: {outcomes:?}");
    }

    // A contractor of a private company, at a service for public agents only.
    let refused = attempt("lea.petit@prestataire.example", 1).await;
    assert!(refused.starts_with("status:403:"), "{refused}");
    assert!(refused.contains("Service réservé aux agents publics"), "{refused}");
    // The same contractor at an agent service open to all agents.
    let tool = agent_sp(&platform, TOOL).await;
    let browser = Browser::new();
    let request = tool.request(&["openid", "siret"], None, &[("login_hint", "lea.petit@prestataire.example")]);
    let redirect = at_idp(&browser, &location(&browser.get(&request.url).await), 1).await;
    let lea = tool.finish(request, &redirect).await.unwrap();
    let claims: Value = raw_userinfo(&platform, &lea.access_token).await.json().await.unwrap();
    assert_eq!(claims["siret"], "55210055400013");
}

#[tokio::test]
async fn the_two_federations_stay_apart() {
    let platform = Platform::start().await;
    // A citizen service at the agent issuer, an agent service at the citizens': unknown there.
    let citizen =
        Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    let request = citizen.request(&["openid"], None, &[]);
    let at_agents = request.url.replace("/authorize", "/agents/authorize");
    let page = Browser::new().get(&at_agents).await;
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("Service inconnu"));
    let agent = agent_sp(&platform, BACK_OFFICE).await;
    let request = agent.request(&["openid"], None, &[]);
    let at_citizens = request.url.replace("/agents/authorize", "/authorize");
    assert_eq!(Browser::new().get(&at_citizens).await.status(), 400);

    // The citizens' choice page offers no agent IdP, and the reverse.
    let request = citizen.request(&["openid"], None, &[]);
    let html = Browser::new().get(&request.url).await.text().await.unwrap();
    assert_eq!(offered_idps(&html), ["impots", "ameli", "numerique"]);
    let browser = Browser::new();
    let request = agent.request(&["openid"], None, &[("idp_hint", "impots")]);
    let page = browser.get(&request.url).await;
    assert_eq!(page.status(), 200, "a citizen IdP hinted is ignored: the e-mail page");

    // An agent's token is not good at the citizens' userinfo, nor an agent client at their
    // token endpoint.
    let browser = Browser::new();
    let request = agent.request(&["openid", "uid"], None, &[("login_hint", "camille.martin@numerique.gouv.fr")]);
    let redirect = at_idp(&browser, &location(&browser.get(&request.url).await), 0).await;
    let code = query_param(&redirect, "code").unwrap();
    let at_citizens = reqwest::Client::new()
        .post(platform.url("/token"))
        .basic_auth(BACK_OFFICE.0, Some(BACK_OFFICE.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://sp-agent.example/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(at_citizens.status(), 401, "an agent client is unknown at the citizens' token endpoint");
    let request = agent.request(&["openid", "uid"], None, &[]);
    let redirect = location(&browser.get(&request.url).await);
    let signed_in = agent.finish(request, &redirect).await.unwrap();
    let citizens_userinfo = reqwest::Client::new()
        .get(platform.url("/userinfo"))
        .bearer_auth(&signed_in.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(citizens_userinfo.status(), 401);
}

#[tokio::test]
async fn logout_ends_the_agent_session_and_its_tokens_not_the_citizen_one() {
    let platform = Platform::start().await;
    let browser = Browser::new();
    // A citizen session in the same browser.
    let citizen =
        Sp::discover(&platform, "sp-a", Some("secret-a-for-tests-0123456789abcdef"), AuthType::BasicAuth).await;
    sign_in(&platform, &browser, &citizen, &["openid"], "impots", 0).await;
    let agent = agent_sp(&platform, BACK_OFFICE).await;
    let request = agent.request(&["openid", "uid"], None, &[("login_hint", "camille.martin@numerique.gouv.fr")]);
    let to_idp = location(&browser.get(&request.url).await);
    assert!(
        to_idp.starts_with(platform.agent_idp("ministere").issuer().as_str()),
        "no citizen session serves an agent"
    );
    let redirect = at_idp(&browser, &to_idp, 0).await;
    let signed_in = agent.finish(request, &redirect).await.unwrap();

    let mut logout = url::Url::parse(&format!("{}/logout", platform.agents_issuer())).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", &signed_in.id_token)
        .append_pair("post_logout_redirect_uri", "https://sp-agent.example/logged-out")
        .append_pair("state", "s");
    let to_idp = location(&browser.get(logout.as_str()).await);
    assert!(to_idp.starts_with(platform.agent_idp("ministere").issuer().as_str()), "{to_idp}");
    let back_to_hub = location(&browser.get(&to_idp).await);
    assert!(back_to_hub.contains("/agents/idp/logout-callback"), "{back_to_hub}");
    let back_to_sp = location(&browser.get(&back_to_hub).await);
    assert_eq!(back_to_sp, "https://sp-agent.example/logged-out?state=s");
    assert_eq!(raw_userinfo(&platform, &signed_in.access_token).await.status(), 401, "revoked with the session");

    let request = agent.request(&["openid"], None, &[("prompt", "none")]);
    let redirect = location(&browser.get(&request.url).await);
    assert_eq!(agent.finish(request, &redirect).await.err().as_deref(), Some("login_required"));
    let request = citizen.request(&["openid"], None, &[("prompt", "none")]);
    let answer = browser.get(&request.url).await;
    assert!(answer.status().is_redirection(), "{}", answer.text().await.unwrap());
    let redirect = location(&answer);
    assert!(citizen.finish(request, &redirect).await.is_ok(), "the citizen session lives on");
}

#[tokio::test]
async fn a_habilitation_lets_the_town_receive_the_family_quotient_and_the_provider_sees_it() {
    let platform = Platform::start().await;
    let sp = agent_sp(&platform, BACK_OFFICE).await;
    let jeanne = |scopes: &'static [&'static str]| {
        let (platform, sp) = (&platform, &sp);
        async move {
            let browser = Browser::new();
            let request = sp.request(scopes, None, &[("idp_hint", "mairie")]);
            let redirect = at_idp(&browser, &location(&browser.get(&request.url).await), 0).await;
            let _ = platform;
            (request, redirect)
        }
    };
    let (request, redirect) = jeanne(&["openid", "uid", "quotient_familial"]).await;
    let signed_in = sp.finish(request, &redirect).await.unwrap();
    assert!(signed_in.scope.contains(&"quotient_familial".to_owned()), "{:?}", signed_in.scope);
    let answer = platform.checktoken("caf", &signed_in.access_token).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["scope"], "quotient_familial");
    assert_eq!(answer["agent"]["organization"]["siret"], "21750001600019");
    assert_eq!(answer["agent"]["organization"]["kind"], "local_authority");
    assert_eq!(answer["agent"]["uid"], "jmoreau");
    assert_eq!(answer["agent"]["sub"], signed_in.sub.as_str());
    let habilitation = &answer["agent"]["habilitations"][0];
    assert_eq!(habilitation["id"], "hab-cantine-qf");
    assert!(habilitation["legal_basis"].as_str().unwrap().starts_with("Article L. 114-8"));
    assert!(habilitation["legal_basis_url"].as_str().unwrap().starts_with("https://www.legifrance.gouv.fr/"));
    assert!(habilitation["expires_at"].as_u64().unwrap() > 4_000_000_000);
    // Another provider sees nothing of it.
    assert_eq!(
        platform.checktoken("impots-donnees", &signed_in.access_token).await,
        serde_json::json!({"active": false})
    );

    // An ended habilitation, and a scope of another provider no habilitation covers.
    for (scopes, scope) in [
        (&["openid", "enfants"][..], "enfants"),
        (&["openid", "revenu_fiscal_reference"][..], "revenu_fiscal_reference"),
    ] {
        let scopes: &'static [&'static str] = Box::leak(scopes.to_vec().into_boxed_slice());
        let (request, redirect) = jeanne(scopes).await;
        assert_eq!(query_param(&redirect, "error").as_deref(), Some("invalid_scope"), "{redirect}");
        let description = query_param(&redirect, "error_description").unwrap();
        assert!(description.contains(scope) && description.contains("habilitation"), "{description}");
        let _ = request;
    }

    // An agent of another organisation: no habilitation of theirs covers it.
    let browser = Browser::new();
    let request =
        sp.request(&["openid", "quotient_familial"], None, &[("login_hint", "camille.martin@numerique.gouv.fr")]);
    let redirect = at_idp(&browser, &location(&browser.get(&request.url).await), 0).await;
    assert_eq!(query_param(&redirect, "error").as_deref(), Some("invalid_scope"));
}
