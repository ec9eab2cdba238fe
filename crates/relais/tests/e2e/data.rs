//! "Dites-le-nous une fois": data from a data provider to an SP with the person's consent for
//! each transfer, checked by the provider at checktoken, traced, and shown on the person's
//! dashboard.

use openidconnect::AuthType;
use relais_mocks::dp::DpKind;
use serde_json::Value;

use crate::harness::*;

#[tokio::test]
async fn with_consent_the_sp_gets_the_family_quotient_from_the_provider_which_checks_the_token() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let (request, url, html) =
        up_to_consent(&platform, &browser, &sp, &["openid", "quotient_familial", "enfants"], 0).await;
    assert!(
        html.contains("Mairie A") && html.contains("Quotient familial") && html.contains("Enfants à charge"),
        "{html}"
    );
    assert!(html.contains(DpKind::Caf.name().split(' ').next().unwrap()));
    assert_eq!(html.matches("<h1").count(), 1);

    // Only the family quotient is ticked: the children stay with the CAF.
    let signed_in =
        answer(&sp, &browser, request, &url, &[("decision", "accepter"), ("transfert", "caf:quotient_familial")]).await;
    assert!(signed_in.scope.contains(&"quotient_familial".to_owned()), "{:?}", signed_in.scope);
    assert!(!signed_in.scope.contains(&"enfants".to_owned()));

    let (status, data) = call_dp(&platform, DpKind::Caf, &signed_in.access_token).await;
    assert_eq!(status, 200, "{data}");
    assert_eq!(data["quotient_familial"], 742);
    assert!(data.get("enfants").is_none(), "not consented");
    let answers = dp(&platform, DpKind::Caf).checktoken_answers();
    let last = answers.last().unwrap();
    assert_eq!(last["active"], true);
    assert_eq!(last["client_id"], "sp-a");
    assert_eq!(last["scope"], "quotient_familial");
    assert_eq!(last["identity"]["family_name"], "DUBOIS");
    assert_ne!(last["sub"], signed_in.sub.as_str(), "the provider's sub is pairwise for it");

    let traces = platform.state_traces().await;
    let kinds: Vec<(String, String)> =
        traces.iter().map(|t| (t.event.kind.as_str().to_owned(), t.event.outcome.clone())).collect();
    assert!(kinds.contains(&("consent_given".into(), "given".into())), "{kinds:?}");
    assert!(kinds.contains(&("consent_refused".into(), "refused".into())), "the unticked transfer: {kinds:?}");
    assert!(kinds.contains(&("checktoken".into(), "active".into())), "{kinds:?}");
}

#[tokio::test]
async fn refusing_still_signs_the_person_in_and_the_provider_gets_an_inactive_answer() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let (request, url, _) =
        up_to_consent(&platform, &browser, &sp, &["openid", "identite_pivot", "quotient_familial"], 0).await;
    let signed_in =
        answer(&sp, &browser, request, &url, &[("decision", "refuser"), ("transfert", "caf:quotient_familial")]).await;
    assert_eq!(signed_in.userinfo["family_name"], "DUBOIS", "signed in all the same");
    assert!(!signed_in.scope.contains(&"quotient_familial".to_owned()));
    let (status, _) = call_dp(&platform, DpKind::Caf, &signed_in.access_token).await;
    assert_eq!(status, 401);
    assert_eq!(platform.checktoken("caf", &signed_in.access_token).await, serde_json::json!({"active": false}));

    // Consent is asked for each transfer: the next sign-in asks again, even in single sign-on.
    let (_, _, html) = up_to_consent(&platform, &browser, &sp, &["openid", "quotient_familial"], 0).await;
    assert!(html.contains("Quotient familial"));
}

#[tokio::test]
async fn a_provider_cannot_introspect_for_another_providers_scopes_nor_an_expired_token() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let (request, url, _) = up_to_consent(&platform, &browser, &sp, &["openid", "quotient_familial"], 0).await;
    let signed_in =
        answer(&sp, &browser, request, &url, &[("decision", "accepter"), ("transfert", "caf:quotient_familial")]).await;

    assert_eq!(
        platform.checktoken("impots-donnees", &signed_in.access_token).await,
        serde_json::json!({"active": false})
    );
    let (status, _) = call_dp(&platform, DpKind::Impots, &signed_in.access_token).await;
    assert_eq!(status, 401, "the tax office gets nothing with the CAF's token");
    assert_eq!(platform.checktoken("caf", &signed_in.access_token).await["active"], true);

    let wrong = reqwest::Client::new()
        .post(platform.url("/checktoken"))
        .basic_auth("caf", Some("not-the-secret"))
        .form(&[("token", signed_in.access_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    platform.clock.advance(platform.config().settings.access_token_lifetime + 1);
    assert_eq!(platform.checktoken("caf", &signed_in.access_token).await, serde_json::json!({"active": false}));
}

#[tokio::test]
async fn an_sp_not_allowed_a_data_scope_cannot_ask_for_it() {
    let platform = Platform::start().await;
    let sp_b =
        Sp::discover(&platform, "sp-b", Some("secret-b-for-tests-0123456789abcdef"), AuthType::RequestBody).await;
    let request = sp_b.request(&["openid", "quotient_familial"], None, &[]);
    let redirect = location(&Browser::new().get(&request.url).await);
    assert_eq!(sp_b.finish(request, &redirect).await.err().as_deref(), Some("invalid_scope"));
}

#[tokio::test]
async fn checktoken_answers_as_a_signed_jwt_when_asked() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let browser = Browser::new();
    let (request, url, _) = up_to_consent(&platform, &browser, &sp, &["openid", "quotient_familial"], 0).await;
    let signed_in =
        answer(&sp, &browser, request, &url, &[("decision", "accepter"), ("transfert", "caf:quotient_familial")]).await;
    let response = reqwest::Client::new()
        .post(platform.url("/checktoken"))
        .basic_auth("caf", Some(dp_secret("caf")))
        .header("accept", "application/token-introspection+jwt")
        .form(&[("token", signed_in.access_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers().get("content-type").unwrap(), "application/token-introspection+jwt");
    let jwt = response.text().await.unwrap();
    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    assert_eq!(header.typ.as_deref(), Some("token-introspection+jwt"));
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(platform.url("/jwks")).await.unwrap().json().await.unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&["caf"]);
    validation.set_issuer(&[platform.issuer.as_str()]);
    validation.required_spec_claims.clear();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let claims = jsonwebtoken::decode::<Value>(&jwt, &key, &validation).unwrap().claims;
    assert_eq!(claims["token_introspection"]["active"], true);
    assert_eq!(claims["token_introspection"]["scope"], "quotient_familial");
}

#[tokio::test]
async fn each_person_sees_only_their_own_history_and_can_block_an_identity_provider() {
    let platform = Platform::start().await;
    let sp_a = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let sp_b =
        Sp::discover(&platform, "sp-b", Some("secret-b-for-tests-0123456789abcdef"), AuthType::RequestBody).await;
    let angela = Browser::new();
    let (request, url, _) = up_to_consent(&platform, &angela, &sp_a, &["openid", "quotient_familial"], 0).await;
    let signed_in =
        answer(&sp_a, &angela, request, &url, &[("decision", "accepter"), ("transfert", "caf:quotient_familial")])
            .await;
    call_dp(&platform, DpKind::Caf, &signed_in.access_token).await;
    let kenji = Browser::new();
    sign_in(&platform, &kenji, &sp_b, &["openid"], "ameli", 1).await;

    let page = dashboard(&platform, &Browser::new(), "ameli", 0).await;
    assert!(
        page.contains("Mairie A") && page.contains("Quotient familial") && page.contains("Données transmises"),
        "{page}"
    );
    assert!(page.to_lowercase().contains("bonjour angela"), "greeted by name (as ameli writes it)");
    assert!(!page.contains("Caisse B"), "Kenji's sign-in is not on Angela's dashboard");
    let page = dashboard(&platform, &Browser::new(), "impots", 1).await;
    assert!(page.contains("Caisse B") && !page.contains("Mairie A"), "{page}");

    // Angela also has a live session through ameli, in another browser.
    let via_ameli = Browser::new();
    sign_in(&platform, &via_ameli, &sp_a, &["openid"], "ameli", 0).await;
    let before = via_ameli.get(&sp_a.request(&["openid"], None, &[]).url).await;
    assert_eq!(before.status(), 303, "single sign-on through ameli before the block");

    // Angela blocks ameli for her account.
    let browser = Browser::new();
    let page = dashboard(&platform, &browser, "impots", 0).await;
    let csrf = hidden_inputs(&page).into_iter().find(|(k, _)| k == "csrf").unwrap().1;
    let saved = browser
        .post(
            platform.url("/tableau-de-bord/comptes").as_str(),
            &[("csrf".into(), csrf), ("bloquer".into(), "ameli".into())],
        )
        .await;
    assert_eq!(location(&saved), "/tableau-de-bord");
    let forged =
        browser.post(platform.url("/tableau-de-bord/comptes").as_str(), &[("csrf".into(), "forged".into())]).await;
    assert_eq!(forged.status(), 400, "the preferences form needs its anti-forgery token");

    // Someone signing in as Angela through ameli is refused…
    let request = sp_a.request(&["openid"], None, &[]);
    let other = Browser::new();
    let html = other.get(&request.url).await.text().await.unwrap();
    let outcome = through_choice(&other, &platform, &html, "ameli", 0).await;
    assert!(
        outcome.starts_with("status:403:") && outcome.contains("Compte bloqué"),
        "{}",
        &outcome[..80.min(outcome.len())]
    );
    // …her live session through ameli (from before the block) no longer signs her in…
    let request = sp_a.request(&["openid"], None, &[]);
    let response = via_ameli.get(&request.url).await;
    assert_eq!(
        response.status(),
        200,
        "the choice page, not single sign-on through a blocked IdP: {:?}",
        response.headers().get("location")
    );
    assert_eq!(offered_idps(&response.text().await.unwrap()), ["impots", "numerique"]);
    // …and in Angela's own browser ameli is no longer offered.
    let request = sp_a.request(&["openid"], None, &[("prompt", "login")]);
    let html = angela.get(&request.url).await.text().await.unwrap();
    assert_eq!(offered_idps(&html), ["impots", "numerique"]);
}

#[tokio::test]
async fn relais_traces_verify_finds_an_edited_or_removed_record() {
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    for identity in 0..3 {
        sign_in(&platform, &Browser::new(), &sp, &["openid"], "impots", identity).await;
    }
    let config = TracesConfig::write(&platform);
    let verify = || config.verify(&[]);
    let (code, output) = verify().await;
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("3 traces, chain intact"), "{output}");

    let sql = relais_store::SqlStore::connect(&platform.database_url).await.unwrap();
    sqlx::query("UPDATE traces SET sp = 'sp-b' WHERE seq = 2").execute(sql.pool()).await.unwrap();
    let (code, output) = verify().await;
    assert_eq!(code, Some(1));
    assert!(output.contains("trace 2: altered"), "{output}");

    sqlx::query("UPDATE traces SET sp = 'sp-a' WHERE seq = 2").execute(sql.pool()).await.unwrap();
    assert_eq!(verify().await.0, Some(0), "restored");
    sqlx::query("DELETE FROM traces WHERE seq = 2").execute(sql.pool()).await.unwrap();
    let (code, output) = verify().await;
    assert_eq!(code, Some(1));
    assert!(output.contains("trace 3: records 2 to 2 are missing"), "{output}");
}

/// The platform's configuration in a file, for `relais traces verify`.
struct TracesConfig(std::path::PathBuf);

impl TracesConfig {
    fn write(platform: &Platform) -> Self {
        let path = std::env::temp_dir().join(format!("relais-traces-{}.toml", relais_oidc::random::random_token()));
        std::fs::write(&path, &platform.config_toml).unwrap();
        Self(path)
    }

    /// `relais traces verify` with `args`: its exit code and output. A child process of its own
    /// while this runtime goes on serving the hub (which it may fetch a checkpoint from).
    async fn verify(&self, args: &[&str]) -> (Option<i32>, String) {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_relais"))
            .args(["traces", "verify", "--config"])
            .arg(&self.0)
            .args(args)
            .env("RELAIS_LOG", "error")
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        (output.status.code(), text)
    }
}

impl Drop for TracesConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn removing_the_newest_traces_is_found_against_a_signed_checkpoint() {
    let (logs, _guard) = LogCapture::start();
    let platform = Platform::start().await;
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    for identity in 0..3 {
        sign_in(&platform, &Browser::new(), &sp, &["openid"], "impots", identity).await;
    }
    let config = TracesConfig::write(&platform);
    // Anyone may keep the hub's checkpoint: a JWT the hub signed, with the count and head.
    let kept: Value = reqwest::get(platform.url("/traces/checkpoint")).await.unwrap().json().await.unwrap();
    let count = kept["trace_count"].as_u64().unwrap();
    assert!(count >= 3, "{kept}");
    let claims = jwt_payload(kept["checkpoint"].as_str().unwrap());
    assert_eq!((claims["trace_count"].as_u64(), claims["iss"].as_str()), (Some(count), Some(platform.issuer.as_str())));
    let kept_file =
        std::env::temp_dir().join(format!("relais-checkpoint-{}.json", relais_oidc::random::random_token()));
    std::fs::write(&kept_file, kept.to_string()).unwrap();
    let kept_path = kept_file.to_str().unwrap();

    let sql = relais_store::SqlStore::connect(&platform.database_url).await.unwrap();
    sqlx::query("DELETE FROM traces WHERE seq > $1").bind(count as i64 - 3).execute(sql.pool()).await.unwrap();
    // Without a checkpoint the shorter chain is a valid one, and the command says what it cannot see.
    let nowhere = format!(
        "http://{}/traces/checkpoint",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
    );
    let (code, output) = config.verify(&["--checkpoint-url", &nowhere]).await;
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("warning: no checkpoint") && output.contains("chain intact"), "{output}");
    // Against the checkpoint kept, and against the hub's own (fetched): the three are missing.
    let missing = format!("traces {} to {count} are missing", count - 2);
    for args in [vec!["--checkpoint", kept_path], vec![]] {
        let (code, output) = config.verify(&args).await;
        assert_eq!(code, Some(1), "{args:?}: {output}");
        assert!(output.contains(&missing), "{args:?}: {output}");
    }
    // A checkpoint signed by someone else is refused.
    let forged = kept["checkpoint"].as_str().unwrap().rsplit_once('.').unwrap().0.to_owned() + ".AAAA";
    let (code, _) = config.verify(&["--checkpoint", &forged]).await;
    assert_eq!(code, Some(1));
    // The hub's next checkpoint raises the alarm in its logs.
    platform.state.checkpoint_traces().await.unwrap();
    let alarm = logs.line("the trace chain no longer holds the previous checkpoint: records were removed or rewritten");
    let alarm = alarm.unwrap_or_else(|| panic!("{}", logs.text()));
    assert_eq!(alarm["level"], "ERROR");
    assert_eq!(alarm["fields"]["counted"].as_u64(), Some(count));
    std::fs::remove_file(kept_file).unwrap();
}

/// Posts the dashboard's accounts form blocking `blocked`; the dashboard page after it.
async fn save_accounts(platform: &Platform, browser: &Browser, csrf: &str, blocked: &[&str]) -> String {
    let mut form = vec![("csrf".to_owned(), csrf.to_owned())];
    form.extend(blocked.iter().map(|id| ("bloquer".to_owned(), (*id).to_owned())));
    let saved = browser.post(platform.url("/tableau-de-bord/comptes").as_str(), &form).await;
    assert_eq!(location(&saved), "/tableau-de-bord");
    browser.get(platform.url("/tableau-de-bord").as_str()).await.text().await.unwrap()
}

#[tokio::test]
async fn nobody_can_lock_themselves_out_and_each_change_is_confirmed_and_traced() {
    let platform = Platform::start().await;
    let browser = Browser::new();
    let page = dashboard(&platform, &browser, "impots", 0).await;
    assert!(page.contains("value=\"impots\" disabled"), "the account of this session cannot be ticked");
    let csrf = hidden_inputs(&page).into_iter().find(|(k, _)| k == "csrf").unwrap().1;
    // A forged form ticking the current account changes nothing, and says so.
    let page = save_accounts(&platform, &browser, &csrf, &["impots", "ameli", "numerique"]).await;
    assert!(page.contains("Rien n&#x27;a été changé"), "{page}");
    assert!(!page.contains("value=\"ameli\" checked"), "nothing was blocked");
    // Blocking the others is confirmed, shown in the history, and the current one stays allowed.
    let page = save_accounts(&platform, &browser, &csrf, &["ameli", "numerique"]).await;
    assert!(page.contains("Vos choix sont enregistrés") && page.contains("Choix des comptes modifiés"), "{page}");
    let page = browser.get(platform.url("/tableau-de-bord").as_str()).await.text().await.unwrap();
    assert!(!page.contains("Vos choix sont enregistrés"), "confirmed once");
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    let signed_in = sign_in(&platform, &Browser::new(), &sp, &["openid"], "impots", 0).await;
    assert!(!signed_in.sub.is_empty(), "still able to sign in through the account kept");
    let kinds: Vec<_> = platform.state_traces().await.iter().map(|r| r.event.kind).collect();
    assert!(kinds.contains(&relais_domain::trace::TraceKind::Preferences), "{kinds:?}");
    assert!(
        page.contains("id=\"nouveaux-autoriser\" name=\"nouveaux\" value=\"autoriser\" checked"),
        "allowed by default"
    );
}

#[tokio::test]
async fn accounts_added_later_are_blocked_when_the_person_chose_so() {
    let platform = Platform::start().await;
    let browser = Browser::new();
    let page = dashboard(&platform, &browser, "impots", 0).await;
    let csrf = hidden_inputs(&page).into_iter().find(|(k, _)| k == "csrf").unwrap().1;
    let form = [("csrf".to_owned(), csrf), ("nouveaux".to_owned(), "bloquer".to_owned())];
    let saved = browser.post(platform.url("/tableau-de-bord/comptes").as_str(), &form).await;
    assert_eq!(location(&saved), "/tableau-de-bord");
    let page = browser.get(platform.url("/tableau-de-bord").as_str()).await.text().await.unwrap();
    assert!(page.contains("value=\"bloquer\" checked"), "the choice is kept");
    // The accounts offered when she chose stay allowed: she still signs in through ameli.
    let sp = Sp::discover(&platform, "sp-a", Some(SECRET_A), AuthType::BasicAuth).await;
    sign_in(&platform, &Browser::new(), &sp, &["openid"], "ameli", 0).await;
    let preferences = relais::launch::open_database(&platform.config()).await.unwrap();
    let person = platform.state_traces().await.iter().find_map(|r| r.event.person.clone()).unwrap();
    use relais_store::PreferenceStore;
    let chosen = preferences.preferences(&person).await.unwrap();
    assert_eq!(chosen.new_accounts, relais_domain::preferences::NewAccounts::Blocked);
    assert!(
        chosen.blocks(&relais_domain::IdpId::new("added-later")) && !chosen.blocks(&relais_domain::IdpId::new("ameli"))
    );
}
