//! The partner portal's teams, configuration versions and mail (issue 13) over HTTP: a
//! colleague of the same town hall sees nothing of a service until its admin invites them (by
//! e-mail: the mock relay's mailbox receives the invitation); as a contributor they write a
//! draft of the sandbox client's addresses but cannot publish it, regenerate a secret nor send
//! a request; the admin publishes the draft (the client accepts the new redirect URI at once,
//! no longer the old one) and restores the previous version; every move of the request is
//! mailed to the service's admins, its technical contact and its instructor; the operator
//! sends it back and validates it through the admin API.

use openidconnect::AuthType;

use crate::harness::*;
use crate::portal::{between, canteen, csrf, request_form, unescape};

/// Signs the town hall's agent `index` in to the portal through the town's directory.
async fn town_sign_in(platform: &Platform, browser: &Browser, email: &str, index: usize) -> String {
    let to_hub = browser.get(platform.url("/partenaires").as_str()).await;
    let authorize = location(&to_hub);
    let choice = type_email(platform, browser, &authorize, email).await;
    assert_eq!(choice.status(), 200, "two directories claim the town's domain");
    let back = through_choice(browser, platform, &choice.text().await.unwrap(), "mairie", index).await;
    assert_eq!(location(&browser.get(&back).await), "/partenaires");
    browser.get(platform.url("/partenaires").as_str()).await.text().await.unwrap()
}

/// Whether the sandbox client `sp` accepts `redirect_uri`: its authorization request gets the
/// choice page, not the error page of an unregistered redirect.
async fn accepts(platform: &Platform, (client_id, secret): (&str, &str), redirect_uri: &str) -> bool {
    let mut sp = Sp::discover(platform, client_id, Some(secret), AuthType::BasicAuth).await;
    sp.redirect_uri = redirect_uri.into();
    Browser::new().get(&sp.request(&["openid"], None, &[]).url).await.status() == 200
}

fn form(token: &str, pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    std::iter::once(("csrf".to_owned(), token.to_owned()))
        .chain(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
        .collect()
}

#[tokio::test]
async fn a_team_works_by_role_on_a_versioned_configuration_and_is_told_by_mail() {
    let platform = Platform::start().await;
    let jeanne = Browser::new();
    town_sign_in(&platform, &jeanne, "jeanne.moreau@demoville.fr", 0).await;
    let new = jeanne.get(platform.url("/partenaires/services/nouveau").as_str()).await.text().await.unwrap();
    let token = csrf(&new);
    let service_path = location(&jeanne.post(platform.url("/partenaires/services").as_str(), &canteen(&token)).await);
    let page = jeanne.get(platform.url(&service_path).as_str()).await.text().await.unwrap();
    assert!(page.contains("Votre rôle sur ce service : administrateur."), "{page}");
    let client_id = between(&page, "<code id=\"client-id\">", "</code>").to_owned();
    let secret = between(&page, "<code id=\"secret\">", "</code>").to_owned();
    let sp = (client_id.as_str(), secret.as_str());

    // A colleague of the same town hall sees nothing of it until invited.
    let pierre = Browser::new();
    let home = town_sign_in(&platform, &pierre, "pierre.bernard@demoville.fr", 3).await;
    assert!(home.contains("Aucun service déclaré") && !home.contains("Cantine"), "{home}");
    assert_eq!(pierre.get(platform.url(&service_path).as_str()).await.status(), 404);

    // A wrong invitation is refused in French and changes nothing; a right one is mailed.
    let team = platform.url(&format!("{service_path}/equipe"));
    let wrong = form(&token, &[("action", "inviter"), ("email", "pas-une-adresse"), ("role", "contributor")]);
    let refused = jeanne.post(team.as_str(), &wrong).await;
    assert_eq!(refused.status(), 400);
    let html = unescape(&refused.text().await.unwrap());
    assert!(html.contains("ce n'est pas une adresse électronique"), "{html}");
    let bad_role = form(&token, &[("action", "inviter"), ("email", "pierre.bernard@demoville.fr"), ("role", "chef")]);
    assert_eq!(jeanne.post(team.as_str(), &bad_role).await.status(), 400);
    assert_eq!(pierre.get(platform.url(&service_path).as_str()).await.status(), 404, "nothing changed");
    let invite =
        form(&token, &[("action", "inviter"), ("email", "Pierre.Bernard@demoville.fr"), ("role", "contributor")]);
    assert_eq!(location(&jeanne.post(team.as_str(), &invite).await), format!("{service_path}#equipe"));
    let mail = platform.mailbox.wait_for(1).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0].to, ["pierre.bernard@demoville.fr"]);
    assert!(mail[0].subject.contains("vous êtes invité sur le service « Cantine de Démoville »"), "{mail:?}");
    assert!(mail[0].text.contains(&platform.url(&service_path).to_string()) && mail[0].text.contains("contributeur"));

    // The contributor: the page without the secret's button; no secret, no team change, no
    // publishing, no request sent.
    let page = pierre.get(platform.url(&service_path).as_str()).await.text().await.unwrap();
    assert!(page.contains("Votre rôle sur ce service : contributeur."), "{page}");
    assert!(!page.contains("Générer un nouveau secret"), "{page}");
    let pierre_token = csrf(&page);
    let renew = pierre.post(platform.url(&format!("{service_path}/secret")).as_str(), &form(&pierre_token, &[])).await;
    assert_eq!(renew.status(), 403);
    let invite_self = form(&pierre_token, &[("action", "inviter"), ("email", "x@demoville.fr"), ("role", "admin")]);
    let refused = pierre.post(team.as_str(), &invite_self).await;
    assert_eq!(refused.status(), 400);
    assert!(unescape(&refused.text().await.unwrap()).contains("votre rôle sur ce service ne le permet pas"));

    let configuration = platform.url(&format!("{service_path}/configuration"));
    let draft = |token: &str, redirect: &str| {
        form(
            token,
            &[
                ("action", "brouillon"),
                ("environment", "sandbox"),
                ("initiate_login_uri", "https://cantine.example/connexion"),
                ("redirect_uris", redirect),
                ("post_logout_redirect_uris", ""),
            ],
        )
    };
    let refused = pierre.post(configuration.as_str(), &draft(&pierre_token, "https://cantine.example/#x")).await;
    assert_eq!(refused.status(), 400);
    assert!(unescape(&refused.text().await.unwrap()).contains("l'adresse ne doit pas contenir de #"));
    let written = pierre.post(configuration.as_str(), &draft(&pierre_token, "https://cantine.example/v2")).await;
    assert_eq!(written.status(), 303);
    let publish = |token: &str, version: &str| {
        form(token, &[("action", "publier"), ("environment", "sandbox"), ("version", version)])
    };
    let refused = pierre.post(configuration.as_str(), &publish(&pierre_token, "1")).await;
    assert_eq!(refused.status(), 400, "a contributor cannot publish");
    assert!(unescape(&refused.text().await.unwrap()).contains("votre rôle sur ce service ne le permet pas"));
    assert!(
        accepts(&platform, sp, "https://cantine.example/retour").await
            && !accepts(&platform, sp, "https://cantine.example/v2").await
    );

    // The admin publishes it: in effect at once; the version it replaced restored, the old again.
    let page = jeanne.get(platform.url(&service_path).as_str()).await.text().await.unwrap();
    assert!(page.contains("Brouillon") && page.contains("Publier"), "{page}");
    assert_eq!(jeanne.post(configuration.as_str(), &publish(&token, "1")).await.status(), 303);
    assert!(
        accepts(&platform, sp, "https://cantine.example/v2").await
            && !accepts(&platform, sp, "https://cantine.example/retour").await
    );
    let page = jeanne.get(platform.url(&service_path).as_str()).await.text().await.unwrap();
    assert!(page.contains("En vigueur") && page.contains("Archivée") && page.contains("Restaurer"), "{page}");
    assert_eq!(jeanne.post(configuration.as_str(), &publish(&token, "0")).await.status(), 303);
    assert!(
        accepts(&platform, sp, "https://cantine.example/retour").await
            && !accepts(&platform, sp, "https://cantine.example/v2").await
    );
    assert_eq!(jeanne.post(configuration.as_str(), &publish(&token, "9")).await.status(), 400);

    // The contributor writes the request; only the admin sends it; each move is mailed.
    let started = pierre
        .post(
            platform.url(&format!("{service_path}/demandes")).as_str(),
            &form(&pierre_token, &[("modele", "cantine")]),
        )
        .await;
    let request_path = location(&started);
    let send = |token: &str| request_form(token, "envoyer", "12", "");
    assert_eq!(pierre.post(platform.url(&request_path).as_str(), &send(&pierre_token)).await.status(), 403);
    let saved = request_form(&pierre_token, "enregistrer", "12", "");
    assert_eq!(location(&pierre.post(platform.url(&request_path).as_str(), &saved).await), request_path);
    assert_eq!(location(&jeanne.post(platform.url(&request_path).as_str(), &send(&token)).await), request_path);
    let mail = platform.mailbox.wait_for(4).await;
    let sent: Vec<_> = mail[1..].iter().map(|mail| mail.to[0].as_str()).collect();
    assert_eq!(sent, ["jeanne.moreau@demoville.fr", "tech@prestataire.example", "camille.martin@numerique.gouv.fr"]);
    assert!(mail[1].subject.contains("est envoyée") && mail[3].subject.contains("une demande à instruire"), "{mail:?}");
    assert!(mail[3].text.contains(&platform.url(&request_path).to_string()), "{mail:?}");

    // The operator decides it through the admin API, as the identity part's instructor.
    let admin = reqwest::Client::new();
    let api = |path: &str| platform.url(&format!("/api/admin/habilitation-requests{path}"));
    let queue: serde_json::Value =
        admin.get(api("")).bearer_auth(OPERATOR_TOKEN).send().await.unwrap().json().await.unwrap();
    let id = request_path.rsplit('/').next().unwrap();
    assert_eq!(queue[0]["id"], id, "{queue}");
    assert_eq!(queue[0]["service_name"], "Cantine de Démoville");
    assert_eq!(admin.get(api("")).send().await.unwrap().status(), 401);
    assert_eq!(admin.get(api("?state=perdu")).bearer_auth(OPERATOR_TOKEN).send().await.unwrap().status(), 400);
    assert_eq!(admin.get(api("/inconnue")).bearer_auth(OPERATOR_TOKEN).send().await.unwrap().status(), 404);
    let decide = |body: serde_json::Value| {
        admin.post(api(&format!("/{id}/decision"))).bearer_auth(OPERATOR_TOKEN).json(&body).send()
    };
    assert_eq!(decide(serde_json::json!({"decision": "refuse"})).await.unwrap().status(), 400, "why, first");
    assert_eq!(decide(serde_json::json!({"decision": "bless"})).await.unwrap().status(), 400);
    let sent_back = decide(serde_json::json!({"decision": "request_changes", "comment": "Précisez"})).await.unwrap();
    assert_eq!(sent_back.status(), 200);
    let sent_back: serde_json::Value = sent_back.json().await.unwrap();
    assert_eq!(sent_back["state"], "changes_requested");
    assert_eq!(sent_back["history"].as_array().unwrap().last().unwrap()["author"], "operator:ops");
    assert_eq!(decide(serde_json::json!({"decision": "revoke", "comment": "x"})).await.unwrap().status(), 409);
    let validated: serde_json::Value =
        decide(serde_json::json!({"decision": "approve"})).await.unwrap().json().await.unwrap();
    assert_eq!(validated["state"], "validated");
    assert!(validated["production_client_id"].as_str().unwrap().starts_with("svc-"), "{validated}");
    let mail = platform.mailbox.wait_for(8).await;
    assert!(mail[4].subject.ends_with("est à modifier") && mail[4].text.contains("« Précisez »"), "{mail:?}");
    assert!(mail[7].subject.ends_with("est validée"), "{mail:?}");

    // Taken off the team, the colleague sees nothing again; the last admin cannot be.
    let remove = form(&token, &[("action", "retirer"), ("email", "pierre.bernard@demoville.fr")]);
    assert_eq!(jeanne.post(team.as_str(), &remove).await.status(), 303);
    assert_eq!(pierre.get(platform.url(&service_path).as_str()).await.status(), 404);
    assert_eq!(pierre.get(platform.url(&request_path).as_str()).await.status(), 404);
    let last = form(&token, &[("action", "retirer"), ("email", "jeanne.moreau@demoville.fr")]);
    let refused = jeanne.post(team.as_str(), &last).await;
    assert_eq!(refused.status(), 400);
    assert!(unescape(&refused.text().await.unwrap()).contains("le service doit garder au moins un administrateur"));
}
