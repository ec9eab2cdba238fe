//! The partner portal (issue 13) over HTTP: an agent signs in through the agent federation by
//! e-mail, declares a service (a wrong form names each field in French and keeps nothing), gets
//! its sandbox client with the secret shown once, the QR code of its sign-in start address
//! (decoded with `rqrr`), and a person signs in through that client with the `openidconnect`
//! crate at the sandbox's identity provider only; an agent of another organisation sees nothing
//! of it.

use openidconnect::AuthType;

use crate::harness::*;

pub(crate) const CAMILLE: (&str, usize) = ("camille.martin@numerique.gouv.fr", 0);
pub(crate) const LEA: (&str, usize) = ("lea.petit@prestataire.example", 1);

/// Signs `email` (identity `index` of the ministry's directory) in to the portal; the portal's
/// home page.
pub(crate) async fn portal_sign_in(platform: &Platform, browser: &Browser, (email, index): (&str, usize)) -> String {
    let to_hub = browser.get(platform.url("/partenaires").as_str()).await;
    assert_eq!(to_hub.status(), 303);
    let authorize = location(&to_hub);
    assert!(authorize.starts_with(&format!("{}/authorize?", platform.agents_issuer())), "{authorize}");
    let back = by_email(platform, browser, &authorize, email, index).await;
    assert!(back.contains("/partenaires/retour?"), "{back}");
    let home = browser.get(&back).await;
    assert_eq!(location(&home), "/partenaires");
    let page = browser.get(platform.url("/partenaires").as_str()).await;
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

pub(crate) fn csrf(html: &str) -> String {
    hidden_inputs(html).into_iter().find(|(name, _)| name == "csrf").map(|(_, value)| value).unwrap()
}

pub(crate) fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("{start} not in {html}")) + start.len();
    &html[from..from + html[from..].find(end).unwrap()]
}

/// Text of a page as a person reads it (minijinja escapes `/` and `'` too).
pub(crate) fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub(crate) fn canteen(csrf: &str) -> Vec<(String, String)> {
    [
        ("csrf", csrf),
        ("name", "Cantine de Démoville"),
        ("site", "https://cantine.example"),
        ("initiate_login_uri", "https://cantine.example/connexion"),
        ("redirect_uris", "https://cantine.example/retour"),
        ("post_logout_redirect_uris", ""),
        ("claims", "given_name"),
        ("claims", "family_name"),
        ("data", "caf:quotient_familial"),
        ("eidas_level", "eidas1"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

/// Decodes the QR code of a PNG image.
fn decode_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (width, height) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

#[tokio::test]
async fn an_agent_declares_a_service_and_a_person_signs_in_through_its_sandbox_client() {
    let platform = Platform::start().await;
    let camille = Browser::new();
    let home = portal_sign_in(&platform, &camille, CAMILLE).await;
    assert!(home.contains("Camille") && home.contains("Aucun service déclaré"), "{home}");

    let form_page = camille.get(platform.url("/partenaires/services/nouveau").as_str()).await.text().await.unwrap();
    let token = csrf(&form_page);
    // A wrong form: every field named, in French, and nothing kept.
    let mut wrong = canteen(&token);
    wrong[1].1 = String::new();
    wrong[4].1 = "http://cantine.example/retour".into();
    let refused = camille.post(platform.url("/partenaires/services").as_str(), &wrong).await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(html.contains("Le formulaire contient des erreurs"), "{html}");
    assert!(html.contains("ce champ est obligatoire") && html.contains("doit commencer par https:"), "{html}");
    assert!(html.contains("aria-invalid=\"true\""), "{html}");
    let home = camille.get(platform.url("/partenaires").as_str()).await.text().await.unwrap();
    assert!(home.contains("Aucun service déclaré"), "{home}");
    // Without the form's token, nothing either.
    let mut forged = canteen("not-the-token");
    forged.remove(0);
    assert_ne!(camille.post(platform.url("/partenaires/services").as_str(), &forged).await.status(), 303);

    let created = camille.post(platform.url("/partenaires/services").as_str(), &canteen(&token)).await;
    assert_eq!(created.status(), 303);
    let service_path = location(&created);
    let page = camille.get(platform.url(&service_path).as_str()).await.text().await.unwrap();
    let secret = between(&page, "<code id=\"secret\">", "</code>").to_owned();
    let client_id = between(&page, "<code id=\"client-id\">", "</code>").to_owned();
    assert!(secret.len() >= 32 && client_id.starts_with("bac-a-sable-"), "{page}");
    assert_eq!(unescape(between(&page, "<code id=\"issuer\">", "</code>")), platform.issuer);
    assert!(
        page.contains("relais-connect") && page.contains("S’identifier avec") && page.contains("Sign in with"),
        "{page}"
    );
    let again = camille.get(platform.url(&service_path).as_str()).await.text().await.unwrap();
    assert!(!again.contains(&secret), "the secret is shown once");

    // The QR code leads to the sign-in start address.
    let png = camille.get(platform.url(&format!("{service_path}/qr.png")).as_str()).await;
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(decode_qr(&png.bytes().await.unwrap()), "https://cantine.example/connexion");
    let svg = camille.get(platform.url(&format!("{service_path}/qr.svg")).as_str()).await;
    assert!(svg.text().await.unwrap().starts_with("<?xml"));

    // A person signs in through the sandbox client, offered the sandbox's IdP only, and the
    // canteen gets the family quotient from the CAF with their consent.
    let mut sp = Sp::discover(&platform, &client_id, Some(&secret), AuthType::BasicAuth).await;
    sp.redirect_uri = "https://cantine.example/retour".into();
    let person = Browser::new();
    let probe = sp.request(&["openid"], None, &[]);
    let choice = person.get(&probe.url).await.text().await.unwrap();
    assert_eq!(offered_idps(&choice), ["impots"]);
    let scopes = ["openid", "given_name", "family_name", "quotient_familial"];
    let (request, consent_url, consent) = up_to_consent(&platform, &person, &sp, &scopes, 0).await;
    assert!(consent.contains("Cantine de Démoville"), "{consent}");
    let accepted = [("decision", "accepter"), ("transfert", "caf:quotient_familial")];
    let signed_in = answer(&sp, &person, request, &consent_url, &accepted).await;
    assert!(signed_in.id_token_claims["given_name"].is_string(), "{}", signed_in.id_token_claims);
    assert!(signed_in.id_token_claims["aud"].to_string().contains(&client_id));
    let (status, data) = call_dp(&platform, relais_mocks::dp::DpKind::Caf, &signed_in.access_token).await;
    assert_eq!(status, 200, "{data}");
    assert!(data["quotient_familial"].is_number(), "{data}");
    let catalogue = reqwest::get(platform.url("/catalogue.json")).await.unwrap().text().await.unwrap();
    assert!(!catalogue.contains(&client_id), "a sandbox client is not a service of the catalogue");

    // A new secret: the old one no longer works.
    let renewed =
        camille.post(platform.url(&format!("{service_path}/secret")).as_str(), &[("csrf".into(), token.clone())]).await;
    assert_eq!(location(&renewed), service_path);
    let page = camille.get(platform.url(&service_path).as_str()).await.text().await.unwrap();
    let new_secret = between(&page, "<code id=\"secret\">", "</code>").to_owned();
    assert_ne!(new_secret, secret);
    let mut stale = Sp::discover(&platform, &client_id, Some(&secret), AuthType::BasicAuth).await;
    stale.redirect_uri = sp.redirect_uri.clone();
    let request = stale.request(&["openid"], None, &[]);
    let another = Browser::new();
    let choice = another.get(&request.url).await.text().await.unwrap();
    let redirect = through_choice(&another, &platform, &choice, "impots", 0).await;
    assert!(stale.finish(request, &redirect).await.is_err(), "the old secret is refused");

    // The changes are traced with the agent as author.
    let authors: Vec<_> = platform
        .state_traces()
        .await
        .into_iter()
        .filter(|record| record.event.kind == relais_domain::trace::TraceKind::RegistryChange)
        .map(|record| (record.event.outcome, record.event.author.unwrap_or_default()))
        .collect();
    assert_eq!(authors.len(), 2, "{authors:?}");
    assert!(authors.iter().all(|(_, author)| author.starts_with("agent:")), "{authors:?}");

    // An agent of another organisation sees nothing of it.
    let lea = Browser::new();
    let home = portal_sign_in(&platform, &lea, LEA).await;
    assert!(home.contains("Aucun service déclaré") && !home.contains("Cantine"), "{home}");
    assert_eq!(lea.get(platform.url(&service_path).as_str()).await.status(), 404);
    assert_eq!(lea.get(platform.url(&format!("{service_path}/qr.png")).as_str()).await.status(), 404);
    let lea_form = lea.get(platform.url("/partenaires/services/nouveau").as_str()).await.text().await.unwrap();
    let stolen =
        lea.post(platform.url(&format!("{service_path}/secret")).as_str(), &[("csrf".into(), csrf(&lea_form))]).await;
    assert_eq!(stolen.status(), 404);
}

/// Whether the hub knows `sp`: its authorization request gets the choice page.
async fn is_live(sp: &Sp) -> bool {
    Browser::new().get(&sp.request(&["openid"], None, &[]).url).await.status() == 200
}

/// The request's fields of the canteen template, as the form sends them, with the contacts.
pub(crate) fn request_form(csrf: &str, action: &str, retention: &str, justification: &str) -> Vec<(String, String)> {
    [
        ("csrf", csrf),
        ("action", action),
        ("purpose", "Calculer le tarif de la cantine selon le quotient familial."),
        ("recipients", "Le service enfance"),
        ("legal_basis_kind", "law"),
        ("legal_basis", "Article L. 114-8 du code des relations entre le public et l'administration"),
        ("legal_basis_url", "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000043346953"),
        ("retention_months", retention),
        ("retention_justification", justification),
        ("data", "caf:quotient_familial"),
        ("controller_name", "Léa Petit"),
        ("controller_email", "lea.petit@prestataire.example"),
        ("dpo_name", "Délégué"),
        ("dpo_email", "dpo@prestataire.example"),
        ("technical_name", "Équipe technique"),
        ("technical_email", "tech@prestataire.example"),
        ("eidas_level", "eidas1"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

#[tokio::test]
async fn a_request_is_sent_back_validated_reopened_refused_and_revoked_and_production_follows() {
    let platform = Platform::start().await;
    let lea = Browser::new();
    portal_sign_in(&platform, &lea, LEA).await;
    let form_page = lea.get(platform.url("/partenaires/services/nouveau").as_str()).await.text().await.unwrap();
    let token = csrf(&form_page);
    let service_path = location(&lea.post(platform.url("/partenaires/services").as_str(), &canteen(&token)).await);

    // From the canteen template: the request is filled but for the contacts.
    let started = lea
        .post(
            platform.url(&format!("{service_path}/demandes")).as_str(),
            &[("csrf".into(), token.clone()), ("modele".into(), "cantine".into())],
        )
        .await;
    let request_path = location(&started);
    let draft = lea.get(platform.url(&request_path).as_str()).await.text().await.unwrap();
    assert!(draft.contains("Brouillon") && draft.contains("quotient familial"), "{draft}");
    let mut no_contacts = request_form(&token, "envoyer", "12", "");
    no_contacts.retain(|(k, _)| !k.starts_with("dpo_"));
    let refused = lea.post(platform.url(&request_path).as_str(), &no_contacts).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("le nom et l&#x27;adresse électronique sont obligatoires"));
    let sent = lea.post(platform.url(&request_path).as_str(), &request_form(&token, "envoyer", "12", "")).await;
    assert_eq!(location(&sent), request_path);

    // The operator's instructor sees it in their queue; a refusal needs a comment.
    let camille = Browser::new();
    portal_sign_in(&platform, &camille, CAMILLE).await;
    let queue = camille.get(platform.url("/partenaires/instruction").as_str()).await.text().await.unwrap();
    assert!(queue.contains(&request_path), "{queue}");
    let page = camille.get(platform.url(&request_path).as_str()).await.text().await.unwrap();
    let instructor_token = csrf(&page);
    let decide = |decision: &str, comment: &str| {
        vec![
            ("csrf".to_owned(), instructor_token.clone()),
            ("decision".to_owned(), decision.to_owned()),
            ("commentaire".to_owned(), comment.to_owned()),
        ]
    };
    let decision_url = platform.url(&format!("{request_path}/decision"));
    let no_comment = camille.post(decision_url.as_str(), &decide("refuser", "")).await;
    assert_eq!(no_comment.status(), 400);
    assert!(no_comment.text().await.unwrap().contains("un commentaire est obligatoire"));
    let back = camille.post(decision_url.as_str(), &decide("modifications", "Précisez les destinataires")).await;
    assert_eq!(location(&back), request_path);
    let page = lea.get(platform.url(&request_path).as_str()).await.text().await.unwrap();
    assert!(page.contains("Modifications demandées") && page.contains("Précisez les destinataires"), "{page}");
    lea.post(platform.url(&request_path).as_str(), &request_form(&token, "envoyer", "12", "")).await;
    assert_eq!(camille.post(decision_url.as_str(), &decide("valider", "")).await.status(), 303);

    // Validated: the production client, every IdP, the data granted; its secret made by the applicant.
    let service_page = lea.get(platform.url(&service_path).as_str()).await.text().await.unwrap();
    let production_id = between(&service_page, "<code id=\"client-id-production\">", "</code>").to_owned();
    let renewed = lea
        .post(
            platform.url(&format!("{service_path}/secret")).as_str(),
            &[("csrf".into(), token.clone()), ("client".into(), "production".into())],
        )
        .await;
    assert_eq!(location(&renewed), service_path);
    let service_page = lea.get(platform.url(&service_path).as_str()).await.text().await.unwrap();
    let production_secret = between(&service_page, "<code id=\"secret-production\">", "</code>").to_owned();
    let mut sp = Sp::discover(&platform, &production_id, Some(&production_secret), AuthType::BasicAuth).await;
    sp.redirect_uri = "https://cantine.example/retour".into();
    let person = Browser::new();
    let probe = sp.request(&["openid"], None, &[]);
    let choice = person.get(&probe.url).await.text().await.unwrap();
    assert_eq!(offered_idps(&choice).len(), 3, "production: every citizen IdP");
    let (request, consent_url, _) = up_to_consent(&platform, &person, &sp, &["openid", "quotient_familial"], 0).await;
    let accepted = [("decision", "accepter"), ("transfert", "caf:quotient_familial")];
    let signed_in = answer(&sp, &person, request, &consent_url, &accepted).await;
    let (status, _) = call_dp(&platform, relais_mocks::dp::DpKind::Caf, &signed_in.access_token).await;
    assert_eq!(status, 200);
    // The catalogue lists the service in production with its organisation (not its sandbox).
    let catalogue: serde_json::Value =
        reqwest::get(platform.url("/catalogue.json")).await.unwrap().json().await.unwrap();
    let caf = catalogue["providers"].as_array().unwrap().iter().find(|p| p["id"] == "caf").unwrap();
    let listed: Vec<&serde_json::Value> =
        caf["services"].as_array().unwrap().iter().filter(|s| s["name"] == "Cantine de Démoville").collect();
    assert_eq!(listed.len(), 1, "{caf}");
    let organisation = &listed[0]["organisation"];
    assert!(organisation["siret"].as_str().is_some_and(|siret| [9, 14].contains(&siret.len())), "{caf}");
    assert!(!organisation["name"].as_str().unwrap().is_empty(), "{caf}");

    // Reopened: the validated version stays live while the new one is decided; refused, it stays.
    let reopen = vec![("csrf".to_owned(), token.clone()), ("action".to_owned(), "rouvrir".to_owned())];
    assert_eq!(location(&lea.post(platform.url(&request_path).as_str(), &reopen).await), request_path);
    let longer = lea.post(platform.url(&request_path).as_str(), &request_form(&token, "envoyer", "48", "")).await;
    assert_eq!(longer.status(), 400, "beyond 36 months a justification is needed");
    let justified = request_form(&token, "envoyer", "48", "Contentieux sur quatre ans");
    assert_eq!(location(&lea.post(platform.url(&request_path).as_str(), &justified).await), request_path);
    assert!(is_live(&sp).await, "still live while decided");
    camille.post(decision_url.as_str(), &decide("refuser", "Durée non justifiée")).await;
    let page = lea.get(platform.url(&request_path).as_str()).await.text().await.unwrap();
    assert!(page.contains("Validée") && page.contains("Durée non justifiée"), "{page}");
    assert!(is_live(&sp).await);

    // Revoked: the production client is gone, at once on this node and within 5 s on another;
    // the token it holds fetches no more data and gets no more claims.
    let other_node = platform.add_node().await;
    let mut on_other_node = probe.url.clone();
    on_other_node
        .replace_range(..platform.hub.as_str().trim_end_matches('/').len(), other_node.as_str().trim_end_matches('/'));
    assert_eq!(Browser::new().get(&on_other_node).await.status(), 200, "served by the other node: {on_other_node}");
    assert_eq!(camille.post(decision_url.as_str(), &decide("revoquer", "Fin de la convention")).await.status(), 303);
    let revoked = std::time::Instant::now();
    assert!(!is_live(&sp).await, "the client no longer exists");
    let (status, _) = call_dp(&platform, relais_mocks::dp::DpKind::Caf, &signed_in.access_token).await;
    assert_eq!(status, 401, "the habilitation revoked, the data is no longer fetched");
    let userinfo = reqwest::Client::new()
        .get(platform.url("/userinfo"))
        .bearer_auth(&signed_in.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401);
    let deadline = revoked + std::time::Duration::from_secs(5);
    assert!(answers_before(&Browser::new(), &on_other_node, 400, deadline).await, "still served after 5 s");

    // Every move traced with its author, under no person's key.
    let moves: Vec<String> = platform
        .state_traces()
        .await
        .into_iter()
        .filter(|record| record.event.habilitation.is_some() && record.event.author.is_some())
        .map(|record| record.event.outcome)
        .collect();
    for expected in
        ["request_submitted", "request_changes_requested", "request_validated", "request_draft", "request_revoked"]
    {
        assert!(moves.iter().any(|outcome| outcome == expected), "{expected} in {moves:?}");
    }
}
