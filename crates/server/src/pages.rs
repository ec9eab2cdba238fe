//! The person's pages, rendered from templates (minijinja, auto-escaped) kept apart from the
//! handlers. French only for now; the design system and English come with the pages issue.

use axum::response::Html;
use minijinja::{context, Environment};
use serde::Serialize;

use crate::error::ErrorPage;

/// One IdP on the choice page.
#[derive(Serialize)]
pub struct IdpChoice {
    /// Its registry id (the form value).
    pub id: String,
    /// Its display name.
    pub name: String,
}

/// The templates.
pub struct Pages {
    env: Environment<'static>,
}

const TEMPLATES: [(&str, &str); 7] = [
    ("consent.html", include_str!("../templates/consent.html")),
    ("dashboard.html", include_str!("../templates/dashboard.html")),
    ("base.html", include_str!("../templates/base.html")),
    ("choice.html", include_str!("../templates/choice.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("logout_confirm.html", include_str!("../templates/logout_confirm.html")),
    ("logged_out.html", include_str!("../templates/logged_out.html")),
];

/// Title and advice of each error page.
fn error_text(page: ErrorPage) -> (&'static str, &'static str) {
    match page {
        ErrorPage::UnknownService => (
            "Service inconnu",
            "Le site qui vous a envoyé ici n'est pas reconnu par Relais. Retournez sur le site du service et réessayez ; si le problème persiste, contactez ce service.",
        ),
        ErrorPage::UnregisteredRedirect => (
            "Adresse de retour non reconnue",
            "Le site qui vous a envoyé ici a demandé à vous renvoyer vers une adresse qu'il n'a pas déclarée. Par sécurité, la connexion est arrêtée. Contactez ce service.",
        ),
        ErrorPage::SessionExpired => (
            "Votre session a expiré",
            "La connexion a pris trop de temps ou a été commencée dans un autre navigateur. Retournez sur le site du service et cliquez à nouveau sur le bouton de connexion.",
        ),
        ErrorPage::IdpUnavailable => (
            "Compte indisponible pour le moment",
            "Le compte que vous avez choisi ne répond pas. Réessayez dans quelques minutes ou choisissez un autre compte.",
        ),
        ErrorPage::IdentityRejected => (
            "La connexion n'a pas pu être vérifiée",
            "La réponse du compte que vous avez choisi n'a pas pu être vérifiée. Par sécurité, vous n'êtes pas connecté. Réessayez ou choisissez un autre compte.",
        ),
        ErrorPage::IdentityIncomplete => (
            "Identité incomplète",
            "Le compte que vous avez choisi n'a pas transmis toutes les informations d'identité nécessaires. Choisissez un autre compte ou contactez le fournisseur de ce compte.",
        ),
        ErrorPage::BadRequest => (
            "Demande incorrecte",
            "La demande reçue est incomplète ou incorrecte. Retournez sur le site du service et réessayez.",
        ),
        ErrorPage::IdpBlocked => (
            "Compte bloqué par vous",
            "Vous avez bloqué ce compte pour vos connexions depuis votre tableau de bord Relais. Choisissez un autre compte, ou débloquez celui-ci depuis votre tableau de bord.",
        ),
        ErrorPage::TemporarilyUnavailable => (
            "Service temporairement indisponible",
            "Relais rencontre une difficulté technique. Aucune information n'a été transmise. Réessayez dans quelques minutes.",
        ),
    }
}

impl Pages {
    /// Loads the embedded templates.
    pub fn new() -> Self {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            if let Err(error) = env.add_template(name, source) {
                tracing::error!(template = name, %error, "template does not compile");
            }
        }
        Self { env }
    }

    fn render<S: Serialize>(&self, name: &str, ctx: S) -> Html<String> {
        match self.env.get_template(name).and_then(|template| template.render(ctx)) {
            Ok(html) => Html(html),
            Err(error) => {
                tracing::error!(template = name, %error, "template rendering failed");
                Html("<!doctype html><html lang=\"fr\"><title>Erreur</title><h1>Erreur</h1><p>Une erreur est survenue.</p></html>".into())
            }
        }
    }

    /// The choice page: the eligible IdPs for one pending authorization.
    pub fn choice(&self, flow: &str, service: &str, idps: &[IdpChoice]) -> Html<String> {
        self.render("choice.html", context! { flow, service, idps })
    }

    /// An error page with the request id to quote.
    pub fn error(&self, page: &ErrorPage, request_id: &str) -> Html<String> {
        let (title, advice) = error_text(*page);
        self.render("error.html", context! { title, advice, request_id, key => page.key() })
    }

    /// The logout confirmation page (a logout request without a valid `id_token_hint`).
    pub fn logout_confirm<S: Serialize>(&self, fields: S) -> Html<String> {
        self.render("logout_confirm.html", context! { fields })
    }

    /// The consent page.
    pub fn consent(&self, view: &crate::engine::ConsentView) -> Html<String> {
        self.render("consent.html", context! { view })
    }

    /// The person's dashboard.
    pub fn dashboard(&self, view: &crate::engine::dashboard::DashboardView) -> Html<String> {
        self.render("dashboard.html", context! { view })
    }

    /// The page after a logout with nowhere to return.
    pub fn logged_out(&self) -> Html<String> {
        self.render("logged_out.html", context! {})
    }
}

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

/// A date for people: `23/11/2026 à 09:40 (UTC)`.
pub fn format_date(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let minutes_of_day = (seconds % 86_400) / 60;
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{day:02}/{month:02}/{year} à {:02}:{:02} (UTC)", minutes_of_day / 60, minutes_of_day % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_dates() {
        assert_eq!(format_date(0), "01/01/1970 à 00:00 (UTC)");
        assert_eq!(format_date(1_795_338_000), "22/11/2026 à 09:00 (UTC)");
        assert_eq!(format_date(951_782_400), "29/02/2000 à 00:00 (UTC)");
    }
}
