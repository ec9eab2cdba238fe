use super::*;
use crate::engine::dashboard::{AccountChoice, DashboardView, HistoryLine};
use crate::engine::{ConsentItem, ConsentProvider, ConsentView};
use crate::i18n::Lang;

fn locale(lang: Lang) -> Locale {
    Locale { lang, chosen: false, here: "/interaction/abc".into() }
}

#[test]
fn dates_are_civil_dates() {
    assert_eq!(format_date(0, "à"), "01/01/1970 à 01:00");
    assert_eq!(format_date(1_795_338_000, "at"), "22/11/2026 at 10:00");
    assert_eq!(format_date(951_782_400, "à"), "29/02/2000 à 01:00");
    assert_eq!(format_date(1_784_066_400, "à"), "15/07/2026 à 00:00", "summer time: UTC+2");
    assert_eq!(machine_date(1_795_338_000), "2026-11-22T10:00:00+01:00");
}

fn every_page(pages: &Pages, lang: Lang) -> Vec<String> {
    let locale = locale(lang);
    let idps = [
        IdpChoice { id: "a".into(), name: "Impôts".into(), last_used: true, down: false },
        IdpChoice { id: "b".into(), name: "Ameli".into(), last_used: false, down: false },
    ];
    let consent = ConsentView {
        flow: "f".into(),
        service: "Mairie".into(),
        providers: vec![ConsentProvider {
            name: "CAF".into(),
            items: vec![ConsentItem {
                id: "caf:qf".into(),
                label: "Quotient familial".into(),
                description: "d".into(),
            }],
        }],
        ui_locales: None,
    };
    let line = HistoryLine {
        at: 0,
        event: "sign_in",
        service: "Mairie".into(),
        account: "Impôts".into(),
        provider: String::new(),
        data: String::new(),
        organisation: String::new(),
        legal_basis: String::new(),
        legal_basis_url: String::new(),
    };
    let dashboard = DashboardView {
        moving: true,
        deliveries: ["notification_queued", "notification_delivered", "notification_given_up"]
            .into_iter()
            .map(|state| crate::engine::dashboard::DeliveryLine { at: 0, service: "CAF".into(), state, updated_at: 5 })
            .collect(),
        given_name: Some("Angela".into()),
        history: vec![line],
        consents: vec![HistoryLine {
            at: 0,
            event: "consent_given",
            service: "Mairie".into(),
            account: "Impôts".into(),
            provider: "CAF".into(),
            data: "Quotient familial".into(),
            organisation: String::new(),
            legal_basis: String::new(),
            legal_basis_url: String::new(),
        }],
        accesses: vec![HistoryLine {
            at: 0,
            event: "agent_access",
            service: "Commune de Démoville".into(),
            account: String::new(),
            provider: "CAF".into(),
            data: "Quotient familial".into(),
            organisation: "Commune de Démoville".into(),
            legal_basis: "Article L. 114-8 du CRPA".into(),
            legal_basis_url: "https://www.legifrance.gouv.fr/".into(),
        }],
        accounts: vec![
            AccountChoice { id: "a".into(), name: "Impôts".into(), blocked: false, current: true },
            AccountChoice { id: "b".into(), name: "Ameli".into(), blocked: true, current: false },
        ],
        notice: Some(("no_account_left", true)),
        new_accounts_blocked: true,
        csrf: "c".into(),
    };
    let mut out = vec![
        pages.home(&locale).0,
        pages.choice(&locale, "", "f", "Mairie <b>", &idps, Some("Ameli")).0,
        pages.consent(&locale, &consent).0,
        pages.dashboard(&locale, &dashboard).0,
        pages.logout_confirm(&locale, "", std::collections::BTreeMap::from([("state", "s")])).0,
        pages.logged_out(&locale).0,
    ];
    for page in [
        ErrorPage::UnknownService,
        ErrorPage::UnregisteredRedirect,
        ErrorPage::SessionExpired,
        ErrorPage::IdpUnavailable,
        ErrorPage::IdentityRejected,
        ErrorPage::IdentityIncomplete,
        ErrorPage::BadRequest,
        ErrorPage::TemporarilyUnavailable,
        ErrorPage::IdpBlocked,
        ErrorPage::NotFound,
        ErrorPage::AgentDomainRefused,
        ErrorPage::AgentNotPublic,
        ErrorPage::RoleRequired,
    ] {
        out.push(pages.error(&locale, &page, "ref123", None).0);
    }
    out.push(pages.moving(&locale, &moving(None, None)).0);
    out.push(pages.moving(&locale, &moving(Some("not_found"), Some("no_recipient"))).0);
    out.push(pages.moving(&locale, &moving(Some("unavailable"), None)).0);
    out.push(pages.moving(&locale, &moving(Some("bad_query"), None)).0);
    out.push(pages.agent_email(&locale, "/agents", "f", "Back-office", None, None).0);
    out.push(pages.agent_email(&locale, "/agents", "f", "Back-office", Some("x@<b>"), Some("invalid")).0);
    let one = catalogue();
    let api = relais_domain::api_description::ApiDescription::parse(API).unwrap();
    out.push(pages.catalogue_provider(&locale, &one, &one.providers[0], Some(&api)).0);
    out.push(pages.catalogue_provider(&locale, &one, &one.providers[0], None).0);
    out.push(pages.catalogue(&locale, &catalogue()).0);
    out
}

/// A provider's OpenAPI description with markup where text goes.
const API: &str = r#"{"openapi": "3.1.0", "info": {"title": "API <b>CAF</b>", "version": "2"},
  "paths": {"/api/qf/{annee}": {"get": {"summary": "Le <script>quotient</script>",
    "parameters": [{"name": "annee", "in": "path", "required": true, "description": "L'année <i>"}],
    "responses": {"200": {"description": "Le quotient"}}}}}}"#;

#[test]
fn a_providers_page_renders_its_api_escaped_and_says_when_it_has_none() {
    let pages = Pages::new(Default::default());
    let fr = every_page(&pages, Lang::Fr);
    let (page, none) = (&fr[fr.len() - 3], &fr[fr.len() - 2]);
    assert!(page.contains("API &lt;b&gt;CAF&lt;&#x2f;b&gt;, version 2 (OpenAPI 3.1.0)"), "{page}");
    assert!(page.contains("<code>GET &#x2f;api&#x2f;qf&#x2f;{annee}</code>"), "{page}");
    assert!(page.contains("Le &lt;script&gt;quotient") && !page.contains("<script>quotient"), "{page}");
    assert!(page.contains("<code>annee</code></th><td>path</td><td>oui</td>"), "{page}");
    assert!(page.contains("Les collectivités territoriales &lt;i&gt;") && page.contains("600 par minute"), "{page}");
    assert!(page.contains("href=\"/catalogue/caf/openapi.json\""), "{page}");
    assert!(none.contains("ne publie pas de description OpenAPI") && !none.contains("openapi.json"), "{none}");
}

/// The partner portal's pages: home, the form with errors, a service with its secrets, a
/// request as a form and as an instructor reads it, the queue.
fn portal_pages(pages: &Pages, locale: &Locale) -> Vec<String> {
    use relais_domain::portal::request::{Actor, HabilitationRequest, RequestEvent, ServiceRole, Template};
    use relais_domain::portal::{FieldError, PartnerService, ServiceForm};
    let session = crate::engine::portal::PortalSession::for_tests();
    let caf = relais_domain::DpId::new("caf");
    let form = ServiceForm {
        name: "Cantine".into(),
        site: "https://cantine.example".into(),
        initiate_login_uri: "https://cantine.example/connexion".into(),
        redirect_uris: "https://cantine.example/retour".into(),
        claims: vec!["given_name".into()],
        eidas_level: "eidas1".into(),
        ..Default::default()
    };
    let mut service = PartnerService {
        id: "s1".into(),
        organisation: "217500016".into(),
        organisation_label: "Commune".into(),
        declaration: form.check(&[]).unwrap(),
        sandbox_client_id: "bac-a-sable-s1".into(),
        production_client_id: Some("svc-s1".into()),
        created_by: "agent-sub".into(),
        created_at: relais_domain::UnixTime(0),
        members: Vec::new(),
        versions: Vec::new(),
    };
    use relais_domain::portal::team::{ClientSettings, Environment};
    let at = relais_domain::UnixTime(2);
    service.invite(ServiceRole::Admin, "paul@demoville.fr", Some(ServiceRole::Contributor), "agent:a", at).unwrap();
    let settings = ClientSettings::check("https://cantine.example/c", "https://cantine.example/v2", "").unwrap();
    service.write_draft(Environment::Sandbox, settings.clone(), "agent:a", at);
    service.publish(ServiceRole::Tech, Environment::Sandbox, 1, "agent:a", at).unwrap();
    service.write_draft(Environment::Sandbox, settings, "agent:a", at);
    let mut request = HabilitationRequest::draft("r1".into(), "s1".into(), Template::Canteen.form(&caf));
    let errors =
        [FieldError { field: "dpo", key: "contact" }, FieldError { field: "commentaire", key: "comment_required" }];
    let page = |request, instructor, role, errors| RequestPage {
        request,
        service: &service,
        providers: &[],
        instructor,
        role,
        errors,
    };
    let drafted = request.clone();
    let draft =
        pages.portal_request(locale, &session, &page(&drafted, false, Some(ServiceRole::Admin), &errors[..1])).0;
    let admin = Actor::Applicant(ServiceRole::Admin);
    request.apply(RequestEvent::Submit, admin, "a", None, &[], relais_domain::UnixTime(1)).unwrap();
    let decided = pages.portal_request(locale, &session, &page(&request, true, None, &errors[1..])).0;
    let samples = [("Python", "oauth.register(…)".to_owned())];
    let service_page = |role, errors| ServicePage {
        service: &service,
        requests: std::slice::from_ref(&request),
        secret: Some("s"),
        production_secret: Some("p"),
        issuer: "https://relais.example",
        samples: &samples,
        role,
        errors,
    };
    let wrong = [FieldError { field: "email", key: "last_admin" }];
    let waiting = [(request.clone(), service.clone())];
    vec![
        pages.portal_home(locale, &session, std::slice::from_ref(&service)).0,
        pages.portal_new_service(locale, &session, &form, &[], &[FieldError { field: "name", key: "required" }]).0,
        pages.portal_service(locale, &session, &service_page(ServiceRole::Admin, &[])).0,
        pages.portal_service(locale, &session, &service_page(ServiceRole::Contributor, &wrong)).0,
        draft,
        decided,
        pages.portal_instruction(locale, &session, &instruction(&waiting, false, None)).0,
        pages.portal_instruction(locale, &session, &instruction(&waiting, true, Some("le-jeton-montre-une-fois"))).0,
    ]
}

fn instruction<'a>(
    waiting: &'a [(relais_domain::portal::request::HabilitationRequest, relais_domain::portal::PartnerService)],
    operator: bool,
    admin_token: Option<&'a str>,
) -> crate::pages::InstructionPage<'a> {
    crate::pages::InstructionPage { waiting, operator, admin_token }
}

#[test]
fn only_an_agent_with_the_operator_role_is_offered_an_admin_token_shown_once() {
    let pages = Pages::new(Brand::default());
    let fr = portal_pages(&pages, &locale(Lang::Fr));
    assert!(!fr[6].contains("API d&#x27;administration"), "{}", fr[6]);
    assert!(!fr[6].contains("instruction&#x2f;jeton"), "{}", fr[6]);
    assert!(fr[7].contains("action=\"/partenaires/instruction/jeton\""), "{}", fr[7]);
    assert!(fr[7].contains("API d&#x27;administration"), "{}", fr[7]);
    assert!(fr[7].contains("<code id=\"admin-token\">le-jeton-montre-une-fois</code>"), "{}", fr[7]);
    assert!(fr[7].contains("il ne sera plus affiché"), "{}", fr[7]);
}

#[test]
fn every_page_renders_in_both_languages_with_its_texts() {
    let pages = Pages::new(Brand::default());
    for lang in [Lang::Fr, Lang::En] {
        for html in every_page(&pages, lang).into_iter().chain(portal_pages(&pages, &locale(lang))) {
            assert!(html.contains(&format!("<html lang=\"{}\">", lang.code())), "{html}");
            assert!(!html.contains("Une erreur est survenue"), "{html}");
            assert_eq!(html.matches("<h1").count(), 1, "{html}");
            assert!(!html.contains("{operator}") && !html.contains("{service}") && !html.contains("{name}"), "{html}");
            assert!(!html.contains("<script>") && !html.contains("style="), "{html}");
            assert!(html.contains("dsfr-1.15.3"));
            assert!(html.contains("langue?lang="), "{html}");
        }
    }
    let fr = every_page(&pages, Lang::Fr);
    assert!(fr[1].contains("Se connecter avec Impôts") && fr[1].contains("Mairie &lt;b&gt;"));
    assert!(fr[6].contains("Service inconnu") && fr[6].contains("id=\"reference\">ref123<"));
    let en = every_page(&pages, Lang::En);
    assert!(en[1].contains("Sign in with Impôts"));
    let dated = en[3].split("<td>").find(|cell| cell.contains("<time")).unwrap_or_default().to_owned();
    assert!(dated.contains("1970 at 01:00") && dated.contains("datetime=\"1970-01-01T01:00:00+01:00\""), "{dated}");
    assert!(en[3].contains("Sign-in"));
    assert!(!fr[0].contains("fr-logo"), "no Marianne block unless configured");
    let state = Pages::new(Brand { operator_name: "FranceConnect".into(), state_brand: true, ..Brand::default() });
    assert!(state.home(&locale(Lang::Fr)).0.contains("fr-logo"));
}

#[test]
fn the_agents_page_asks_the_e_mail_under_the_agent_issuer_and_says_what_is_wrong() {
    let pages = Pages::new(Default::default());
    let fr = every_page(&pages, Lang::Fr);
    // The two agent pages come before the catalogue's three.
    let (blank, wrong) = (&fr[fr.len() - 5], &fr[fr.len() - 4]);
    assert!(blank.contains("action=\"/agents/interaction/f/email\"") && blank.contains("autocomplete=\"email\""));
    assert!(!blank.contains("aria-invalid"));
    assert!(wrong.contains("aria-invalid=\"true\"") && wrong.contains("n&#x27;est pas valide"), "{wrong}");
    assert!(wrong.contains("value=\"x@&lt;b&gt;\""), "escaped: {wrong}");
}

#[test]
fn nothing_is_ticked_in_advance_on_the_consent_page_and_it_says_so() {
    let pages = Pages::new(Brand::default());
    for (lang, says) in [(Lang::Fr, "Rien n'est coché d'avance"), (Lang::En, "Nothing is ticked in advance")] {
        let consent = &every_page(&pages, lang)[2];
        assert!(consent.contains("type=\"checkbox\""), "{consent}");
        assert!(!consent.contains(" checked"), "a pre-ticked box is not consent: {consent}");
        assert!(consent.contains(&says.replace('\'', "&#x27;")), "{consent}");
    }
}

#[test]
fn the_dashboard_says_which_account_cannot_be_blocked_and_confirms_each_change() {
    let pages = Pages::new(Brand::default());
    let dashboard = &every_page(&pages, Lang::Fr)[3];
    assert!(dashboard.contains("id=\"bloquer-a\" name=\"bloquer\" value=\"a\" disabled"), "{dashboard}");
    assert!(dashboard.contains("il ne peut pas être bloqué d&#x27;ici"), "{dashboard}");
    assert!(dashboard.contains("fr-alert--error") && dashboard.contains("au moins un compte doit rester autorisé"));
    assert!(dashboard.contains("value=\"bloquer\" checked"), "accounts added later: blocked, as chosen");
    assert!(dashboard.contains("adressez-vous à ce service (droit à l&#x27;effacement"), "how to have the data erased");
}

#[test]
fn the_choice_says_which_account_failed_and_errors_give_the_support_contact() {
    let pages = Pages::new(Brand::default());
    assert!(every_page(&pages, Lang::Fr)[1].contains("Le compte Ameli ne répond pas pour le moment"));
    assert!(!every_page(&pages, Lang::Fr)[6].contains("Assistance :"), "no contact unless configured");
    let supported = Pages::new(Brand {
        support_email: Some("assistance@relais.example".into()),
        support_url: Some("https://relais.example/aide".into()),
        ..Brand::default()
    });
    let error = &every_page(&supported, Lang::Fr)[6];
    assert!(error.contains("mailto:assistance@relais.example") && error.contains("page d&#x27;aide"), "{error}");
}

#[test]
fn an_error_page_offers_the_way_back_to_the_service_when_there_is_one() {
    let pages = Pages::new(Brand::default());
    let page = pages
        .error(
            &locale(Lang::Fr),
            &ErrorPage::IdentityIncomplete,
            "r",
            Some("https://sp.example/cb?error=access_denied"),
        )
        .0;
    assert!(
        page.contains("Retourner sur le site du service")
            && page.contains("https:&#x2f;&#x2f;sp.example&#x2f;cb?error=access_denied"),
        "{page}"
    );
    assert!(!page.contains("Retour à l&#x27;accueil"));
}

#[test]
fn the_catalogue_lists_each_provider_its_data_services_and_habilitations_escaped() {
    let pages = Pages::new(Default::default());
    let fr = every_page(&pages, Lang::Fr);
    let page = fr.last().unwrap();
    assert!(
        page.contains("CAF &lt;b&gt;") && page.contains("Quotient familial") && page.contains("Le quotient du foyer")
    );
    assert!(page.contains("<code>quotient_familial</code>") && page.contains("Mairie"), "{page}");
    assert!(page.contains("avec la connexion de la personne et son accord"), "{page}");
    assert!(page.contains("Cantine") && page.contains("217500016") && page.contains("CRPA L. 114-8"), "{page}");
    assert!(page.contains("href=\"/catalogue.json\""), "{page}");
    assert!(page.contains("Disponibilité : 66,66 % des 3 vérifications"), "{page}");
    let en = every_page(&pages, Lang::En);
    assert!(en.last().unwrap().contains("Data catalogue"));
}

fn catalogue() -> relais_domain::catalogue::Catalogue {
    use relais_domain::catalogue::*;
    Catalogue {
        figures_since: 1_700_000_000,
        providers: vec![ProviderEntry {
            id: "caf".into(),
            name: "CAF <b>".into(),
            scopes: vec![ScopeEntry {
                scope: "quotient_familial".into(),
                label: "Quotient familial".into(),
                description: "Le quotient du foyer".into(),
            }],
            with_person_sign_in: true,
            services: vec![
                ServiceEntry {
                    name: "Cantine".into(),
                    organisation: Some(OrganisationEntry {
                        name: "Commune de Démoville".into(),
                        siret: "21750001600019".into(),
                    }),
                    scopes: vec!["quotient_familial".into()],
                },
                ServiceEntry { name: "Mairie".into(), organisation: None, scopes: vec!["quotient_familial".into()] },
            ],
            habilitations: vec![HabilitationEntry {
                id: "hab".into(),
                organisation: "217500016".into(),
                procedure: "Cantine".into(),
                legal_basis: "CRPA L. 114-8".into(),
                legal_basis_url: "https://www.legifrance.gouv.fr/".into(),
                scopes: vec!["quotient_familial".into()],
                expires_at: 1_900_000_000,
            }],
            figures: Figures { transfers: 1234, documents_avoided: 567 },
            eligibility: "Les collectivités territoriales <i>".into(),
            rate_limit_per_minute: Some(600),
            openapi_url: Some("/catalogue/caf/openapi.json".into()),
            availability: Some(Availability { checks: 3, answered: 2 }),
        }],
    }
}

#[test]
fn every_template_compiles() {
    let pages = Pages::new(Brand::default());
    for (name, _) in TEMPLATES {
        assert!(pages.env.get_template(name).is_ok(), "{name} does not compile");
    }
}

#[test]
fn the_portal_pages_say_what_is_wrong_and_offer_the_instructor_the_decision() {
    let pages = Pages::new(Brand::default());
    let fr = portal_pages(&pages, &locale(Lang::Fr));
    assert!(fr[1].contains("aria-invalid=\"true\"") && fr[1].contains("ce champ est obligatoire"), "{}", fr[1]);
    assert!(fr[2].contains("id=\"secret\">s<") && fr[2].contains("id=\"secret-production\">p<"), "{}", fr[2]);
    assert!(fr[2].contains("&lt;a class=&quot;relais-connect&quot;"), "the snippet shown as text: {}", fr[2]);
    // The admin publishes and restores versions, manages the team; the contributor does neither.
    assert!(fr[2].contains(">Publier <") && fr[2].contains(">Restaurer <") && fr[2].contains("Inviter"), "{}", fr[2]);
    assert!(fr[2].contains("paul@demoville.fr") && fr[2].contains("cantine.example&#x2f;v2"), "{}", fr[2]);
    assert!(!fr[3].contains("Générer un nouveau secret") && !fr[3].contains(">Publier <"), "{}", fr[3]);
    assert!(!fr[3].contains("Inviter") && fr[3].contains("À publier par un membre technique"), "{}", fr[3]);
    assert!(fr[3].contains("le service doit garder au moins un administrateur"), "{}", fr[3]);
    assert!(
        fr[4].contains("name=\"action\" value=\"envoyer\"") && fr[4].contains("le nom et l&#x27;adresse"),
        "{}",
        fr[4]
    );
    assert!(fr[5].contains("value=\"valider\"") && !fr[5].contains("value=\"envoyer\""), "{}", fr[5]);
    assert!(fr[5].contains("un commentaire est obligatoire"), "{}", fr[5]);
    assert!(fr[6].contains("/partenaires/demandes/r1"), "{}", fr[6]);
}

fn moving(problem: Option<&'static str>, notice: Option<&'static str>) -> crate::engine::dashboard::moving::MovingView {
    use crate::engine::dashboard::moving::{Administration, MovingView};
    use crate::engine::notifications::address::Address;
    let address = Address {
        id: "95127_0420_00008".into(),
        label: "8 Boulevard du Port 95000 Cergy".into(),
        housenumber: Some("8".into()),
        street: Some("Boulevard du Port".into()),
        postcode: "95000".into(),
        citycode: "95127".into(),
        city: "Cergy".into(),
    };
    MovingView {
        query: "8 bd du port <b>".into(),
        candidates: if problem.is_some() { vec![] } else { vec![address] },
        problem,
        recipients: vec![Administration { id: "caf".into(), name: "CAF".into(), description: "Allocations".into() }],
        csrf: "c".into(),
        notice,
    }
}
