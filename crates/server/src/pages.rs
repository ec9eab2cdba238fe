//! The person's pages, rendered from templates (minijinja, auto-escaped) kept apart from the
//! handlers, in the State design system (DSFR, served from [`crate::assets`]), in French or
//! English: every text comes from the message catalogues of [`crate::i18n`].

use axum::response::Html;
use minijinja::{context, Environment, Value};
use relais_domain::civil_time::ParisTime;
use relais_domain::UnixTime;
use serde::Serialize;

use crate::assets::DSFR_PREFIX;
use crate::error::ErrorPage;
use crate::i18n::{Catalogues, Locale};
use crate::settings::Brand;

/// One IdP on the choice page.
#[derive(Serialize)]
pub struct IdpChoice {
    /// Its registry id (the form value).
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Whether it is the one last used in this browser (shown first).
    pub last_used: bool,
    /// Whether it failed to answer several times lately: shown last, not offered for now.
    pub down: bool,
}

/// What a portal service's page shows.
#[derive(Clone, Copy)]
pub struct ServicePage<'a> {
    /// The service.
    pub service: &'a relais_domain::portal::PartnerService,
    /// Its habilitation requests.
    pub requests: &'a [relais_domain::portal::request::HabilitationRequest],
    /// Its sandbox client's secret, when it is shown once.
    pub secret: Option<&'a str>,
    /// Its production client's secret, when it is shown once.
    pub production_secret: Option<&'a str>,
    /// The hub's issuer.
    pub issuer: &'a str,
    /// The sample configurations: (title, text).
    pub samples: &'a [(&'a str, String)],
    /// The agent's role on its team.
    pub role: relais_domain::portal::request::ServiceRole,
    /// What is wrong in the team's or the configuration's form sent, if anything.
    pub errors: &'a [relais_domain::portal::FieldError],
}

/// What a habilitation request's page shows, and to whom.
#[derive(Clone, Copy)]
pub struct RequestPage<'a> {
    /// The request.
    pub request: &'a relais_domain::portal::request::HabilitationRequest,
    /// Its service.
    pub service: &'a relais_domain::portal::PartnerService,
    /// The data providers whose data may be asked.
    pub providers: &'a [relais_domain::DataProvider],
    /// Whether the agent instructs it.
    pub instructor: bool,
    /// The agent's role on its service's team (none: an instructor only).
    pub role: Option<relais_domain::portal::request::ServiceRole>,
    /// What is wrong in what was sent.
    pub errors: &'a [relais_domain::portal::FieldError],
}

/// The instructors' page: the requests waiting, and for an agent with the operator role, the
/// admin API's token (one just made, shown once).
pub struct InstructionPage<'a> {
    /// The requests they decide, with their services.
    pub waiting: &'a [(relais_domain::portal::request::HabilitationRequest, relais_domain::portal::PartnerService)],
    /// Whether they have the operator role.
    pub operator: bool,
    /// The admin token they just made.
    pub admin_token: Option<&'a str>,
}

/// The templates, the catalogues and the brand block.
pub struct Pages {
    env: Environment<'static>,
    catalogues: Catalogues,
    brand: Brand,
}

const TEMPLATES: [(&str, &str); 19] = [
    ("portal_instruction.html", include_str!("../templates/portal_instruction.html")),
    ("portal_request.html", include_str!("../templates/portal_request.html")),
    ("portal_button.html", include_str!("../templates/portal_button.html")),
    ("portal_home.html", include_str!("../templates/portal_home.html")),
    ("portal_new_service.html", include_str!("../templates/portal_new_service.html")),
    ("portal_service.html", include_str!("../templates/portal_service.html")),
    ("agent_email.html", include_str!("../templates/agent_email.html")),
    ("catalogue.html", include_str!("../templates/catalogue.html")),
    ("catalogue_provider.html", include_str!("../templates/catalogue_provider.html")),
    ("catalogue_provider_details.html", include_str!("../templates/catalogue_provider_details.html")),
    ("consent.html", include_str!("../templates/consent.html")),
    ("dashboard.html", include_str!("../templates/dashboard.html")),
    ("moving.html", include_str!("../templates/moving.html")),
    ("base.html", include_str!("../templates/base.html")),
    ("choice.html", include_str!("../templates/choice.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("logout_confirm.html", include_str!("../templates/logout_confirm.html")),
    ("logged_out.html", include_str!("../templates/logged_out.html")),
];

/// `{{ text|fill(name=value, …) }}`: replaces each `{name}` of a catalogue text.
fn fill(text: String, values: minijinja::value::Kwargs) -> Result<String, minijinja::Error> {
    let mut out = text;
    for name in values.args() {
        let value: Value = values.get(name)?;
        out = out.replace(&format!("{{{name}}}"), &value.to_string());
    }
    Ok(out)
}

/// `{{ value|attr }}`: a value inside a quoted attribute or text of HTML written as a person
/// would (only `&`, `<`, `>`, `"` and `'` escaped).
fn attribute(value: String) -> String {
    value.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// `{{ availability|percent(separator) }}`: its share answered, to the hundredth, floored, with
/// `separator` before the decimals (`99,95`, `100`).
fn percent(availability: Value, separator: String) -> String {
    let number = |name: &str| availability.get_attr(name).ok().and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
    let checked = relais_domain::catalogue::Availability { checks: number("checks"), answered: number("answered") };
    let text = format!("{:.2}", checked.percent());
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.replace('.', &separator)
}

/// `{{ seconds|date(at) }}`: a date for people, `23/11/2026 à 10:40` (French local time).
fn date_filter(seconds: u64, at: String) -> String {
    format_date(seconds, &at)
}

impl Pages {
    /// Loads the embedded templates and catalogues.
    pub fn new(brand: Brand) -> Self {
        let mut env = Environment::new();
        env.add_filter("fill", fill);
        env.add_filter("date", date_filter);
        env.add_filter("percent", percent);
        env.add_filter("datetime", machine_date);
        env.add_filter("attr", attribute);
        // The connect button is a snippet to copy: written as an integrator would (its values
        // escaped by `attr`), then shown escaped once on the page.
        env.set_auto_escape_callback(|name| match name {
            "portal_button.html" => minijinja::AutoEscape::None,
            _ => minijinja::AutoEscape::Html,
        });
        for (name, source) in TEMPLATES {
            if let Err(error) = env.add_template(name, source) {
                tracing::error!(template = name, %error, "template does not compile");
            }
        }
        Self { env, catalogues: Catalogues::load(), brand }
    }

    fn render<S: Serialize>(&self, name: &str, locale: &Locale, ctx: S) -> Html<String> {
        let switch_to = if locale.lang == crate::i18n::Lang::Fr { "en" } else { "fr" };
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("lang", switch_to)
            .append_pair("retour", &locale.here)
            .finish();
        let ctx = context! {
            lang => locale.lang.code(),
            t => self.catalogues.of(locale.lang),
            brand => &self.brand,
            operator => &self.brand.operator_name,
            dsfr => DSFR_PREFIX,
            switch_href => format!("/langue?{query}"),
            ..Value::from_serialize(&ctx)
        };
        match self.env.get_template(name).and_then(|template| template.render(ctx)) {
            Ok(html) => Html(html),
            Err(error) => {
                tracing::error!(template = name, %error, "template rendering failed");
                Html("<!doctype html><html lang=\"fr\"><title>Erreur</title><h1>Erreur</h1><p>Une erreur est survenue.</p></html>".into())
            }
        }
    }

    /// The hub's home page: what it is, and the way to the dashboard.
    pub fn home(&self, locale: &Locale) -> Html<String> {
        self.render("home.html", locale, context! {})
    }

    /// The choice page: the eligible IdPs for one pending authorization; `base` is the path
    /// of the federation's issuer (its pages' links start with it; written unescaped: a
    /// parsed URL's path has `"`, `<`, `>` and spaces percent-encoded).
    pub fn choice(
        &self,
        locale: &Locale,
        base: &str,
        flow: &str,
        service: &str,
        idps: &[IdpChoice],
        failed: Option<&str>,
    ) -> Html<String> {
        self.render("choice.html", locale, context! { base, flow, service, idps, failed })
    }

    /// The agents' e-mail page, with the `problem` of the e-mail typed (a catalogue key).
    pub fn agent_email(
        &self,
        locale: &Locale,
        base: &str,
        flow: &str,
        service: &str,
        email: Option<&str>,
        problem: Option<&str>,
    ) -> Html<String> {
        self.render("agent_email.html", locale, context! { base, flow, service, email, problem })
    }

    /// An error page with the request id to quote.
    pub fn error(&self, locale: &Locale, page: &ErrorPage, request_id: &str, back: Option<&str>) -> Html<String> {
        self.render("error.html", locale, context! { request_id, key => page.key(), back })
    }

    /// The logout confirmation page (a logout request without a valid `id_token_hint`).
    pub fn logout_confirm<S: Serialize>(&self, locale: &Locale, base: &str, fields: S) -> Html<String> {
        self.render("logout_confirm.html", locale, context! { base, fields })
    }

    /// The consent page.
    pub fn consent(&self, locale: &Locale, view: &crate::engine::ConsentView) -> Html<String> {
        self.render("consent.html", locale, context! { view })
    }

    /// The person's dashboard.
    pub fn dashboard(&self, locale: &Locale, view: &crate::engine::dashboard::DashboardView) -> Html<String> {
        self.render("dashboard.html", locale, context! { view })
    }

    /// The change of address.
    pub fn moving(&self, locale: &Locale, view: &crate::engine::dashboard::moving::MovingView) -> Html<String> {
        self.render("moving.html", locale, context! { view })
    }

    /// The public catalogue of data.
    pub fn catalogue(&self, locale: &Locale, catalogue: &relais_domain::catalogue::Catalogue) -> Html<String> {
        self.render("catalogue.html", locale, context! { catalogue })
    }

    /// A provider's page in the catalogue (`catalogue` holds it alone), with its API's
    /// operations.
    pub fn catalogue_provider(
        &self,
        locale: &Locale,
        catalogue: &relais_domain::catalogue::Catalogue,
        provider: &relais_domain::catalogue::ProviderEntry,
        api: Option<&relais_domain::api_description::ApiDescription>,
    ) -> Html<String> {
        // The document itself is not the page's.
        let api = api.map(|api| context! { title => api.title, version => api.version, openapi => api.openapi, operations => api.operations });
        self.render("catalogue_provider.html", locale, context! { catalogue, provider, api })
    }

    /// The partner portal's home: the organisation's services.
    pub fn portal_home(
        &self,
        locale: &Locale,
        session: &crate::engine::portal::PortalSession,
        services: &[relais_domain::portal::PartnerService],
    ) -> Html<String> {
        self.render("portal_home.html", locale, context! { session, services })
    }

    /// The form that declares a service, with what is wrong in it.
    pub fn portal_new_service(
        &self,
        locale: &Locale,
        session: &crate::engine::portal::PortalSession,
        form: &relais_domain::portal::ServiceForm,
        offered: &[relais_domain::DataProvider],
        errors: &[relais_domain::portal::FieldError],
    ) -> Html<String> {
        let claims: Vec<&str> = relais_domain::Claim::ALL.iter().map(|claim| claim.name()).collect();
        let providers = data_choices(offered);
        let ctx = context! { session, form, errors, claims, providers };
        self.render("portal_new_service.html", locale, ctx)
    }

    /// A service's page: its sandbox client, its secret when it is shown once, the connect
    /// button in both languages, its QR code and sample configurations.
    pub fn portal_service(
        &self,
        locale: &Locale,
        session: &crate::engine::portal::PortalSession,
        page: &ServicePage<'_>,
    ) -> Html<String> {
        use relais_domain::portal::team::Environment as Env;
        let ServicePage { service, requests, secret, production_secret, issuer, samples, role, errors } = *page;
        let sandbox = service.settings(Env::Sandbox);
        let href = &sandbox.initiate_login_uri;
        let about = format!("{}/", issuer.trim_end_matches('/'));
        let button = |lang: crate::i18n::Lang| -> String {
            let b = self.catalogues.of(lang).get_attr("portal_button").unwrap_or_default();
            let ctx = context! { b, href, about, operator => &self.brand.operator_name };
            self.env
                .get_template("portal_button.html")
                .and_then(|template| template.render(ctx))
                .map(|text| text.trim().to_owned())
                .unwrap_or_default()
        };
        let (button_fr, button_en) = (button(crate::i18n::Lang::Fr), button(crate::i18n::Lang::En));
        self.render(
            "portal_service.html",
            locale,
            context! {
                session, service, requests, secret, production_secret, issuer, samples, button_fr, button_en, errors,
                role => role.id(),
                configures => role.configures(),
                administers => role.administers(),
                roles => relais_domain::portal::request::ServiceRole::ALL.map(|role| role.id()),
                environments => [
                    context! { id => "sandbox", settings => sandbox, versions => service.versions_of(Env::Sandbox) },
                    context! {
                        id => "production",
                        live => service.production_client_id.is_some(),
                        settings => service.settings(Env::Production),
                        versions => service.versions_of(Env::Production),
                    },
                ],
            },
        )
    }

    /// A habilitation request: its fields (a form while the applicant may change them), its
    /// history, and the instructor's decision.
    pub fn portal_request(
        &self,
        locale: &Locale,
        session: &crate::engine::portal::PortalSession,
        page: &RequestPage<'_>,
    ) -> Html<String> {
        use relais_domain::portal::request::{Actor, RequestState, ServiceRole};
        let RequestPage { request, service, providers, instructor, role, errors } = *page;
        let applicant = role.is_some();
        let admin = role.is_some_and(ServiceRole::administers);
        let editable = role.is_some_and(|role| request.editable_by(Actor::Applicant(role)));
        let data: Vec<String> = request.form.data.iter().map(|transfer| transfer.form_value()).collect();
        let ctx = context! {
            session, request, service, instructor, admin, applicant, editable, errors, data,
            providers => data_choices(providers),
            reopened => request.is_reopened(),
            decidable => instructor && request.state == RequestState::Submitted,
            revocable => instructor && request.live.is_some(),
            kinds => ["law", "decree", "order", "deliberation", "other"],
        };
        self.render("portal_request.html", locale, ctx)
    }

    /// The requests waiting for the instructor's decision.
    pub fn portal_instruction(
        &self,
        locale: &Locale,
        session: &crate::engine::portal::PortalSession,
        page: &InstructionPage<'_>,
    ) -> Html<String> {
        let waiting: Vec<Value> = page.waiting.iter().map(|(request, service)| context! { request, service }).collect();
        // `operator` is the hub's name in every page: the role goes by another.
        let (is_operator, admin_token) = (page.operator, page.admin_token);
        self.render("portal_instruction.html", locale, context! { session, waiting, is_operator, admin_token })
    }

    /// The page after a logout with nowhere to return.
    pub fn logged_out(&self, locale: &Locale) -> Html<String> {
        self.render("logged_out.html", locale, context! {})
    }
}

/// The data of `providers` as checkboxes: each scope's form value, name, label and description.
fn data_choices(providers: &[relais_domain::DataProvider]) -> Vec<Value> {
    providers
        .iter()
        .map(|dp| {
            let scopes: Vec<Value> = dp
                .scopes
                .iter()
                .map(|scope| {
                    let value = format!("{}:{}", dp.id, scope.name);
                    context! { value, name => &scope.name, label => &scope.label, description => &scope.description }
                })
                .collect();
            context! { id => dp.id.as_str(), name => &dp.name, scopes }
        })
        .collect()
}

/// A date for people, in French local time: `23/11/2026 à 10:40`, `at` being the catalogue's
/// word for "at".
pub fn format_date(seconds: u64, at: &str) -> String {
    let local = ParisTime::of(UnixTime(seconds));
    format!("{:02}/{:02}/{} {at} {:02}:{:02}", local.day, local.month, local.year, local.hour, local.minute)
}

/// The same instant for machines: RFC 3339 with the offset of Europe/Paris.
pub fn machine_date(seconds: u64) -> String {
    ParisTime::of(UnixTime(seconds)).rfc3339()
}

#[cfg(test)]
#[path = "pages_tests.rs"]
mod tests;
