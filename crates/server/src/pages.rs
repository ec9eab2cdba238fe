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

const TEMPLATES: [(&str, &str); 5] = [
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
