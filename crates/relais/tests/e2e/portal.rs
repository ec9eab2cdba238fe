//! The partner portal (issue 13) over HTTP: an agent signs in through the agent federation by
//! e-mail, declares a service (a wrong form names each field in French and keeps nothing), gets
//! its sandbox client with the secret shown once, the QR code of its sign-in start address
//! (decoded with `rqrr`), and a person signs in through that client with the `openidconnect`
//! crate at the sandbox's identity provider only; an agent of another organisation sees nothing
//! of it.

use openidconnect::AuthType;

use crate::harness::*;

const CAMILLE: (&str, usize) = ("camille.martin@numerique.gouv.fr", 0);
const LEA: (&str, usize) = ("lea.petit@prestataire.example", 1);

/// Signs `email` (identity `index` of the ministry's directory) in to the portal; the portal's
/// home page.
async fn portal_sign_in(platform: &Platform, browser: &Browser, (email, index): (&str, usize)) -> String {
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

fn csrf(html: &str) -> String {
    hidden_inputs(html).into_iter().find(|(name, _)| name == "csrf").map(|(_, value)| value).unwrap()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("{start} not in {html}")) + start.len();
    &html[from..from + html[from..].find(end).unwrap()]
}

/// Text of a page as a person reads it (minijinja escapes `/` and `'` too).
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn canteen(csrf: &str) -> Vec<(String, String)> {
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
