//! The demo SP's errors and the French page each one becomes.

use axum::http::StatusCode;

/// What went wrong while serving a page.
#[derive(Debug, thiserror::Error)]
pub(super) enum SpError {
    #[error("Relais est injoignable ou sa configuration est invalide.")]
    Discovery(String),
    #[error("Le niveau de garantie demandé est inconnu.")]
    UnknownAcr,
    #[error("La démarche demandée est inconnue.")]
    UnknownProcedure,
    #[error("Aucune connexion n'est en cours pour ce navigateur, ou elle a expiré.")]
    NoPendingLogin,
    #[error("La réponse ne correspond pas à la demande envoyée (state).")]
    StateMismatch,
    #[error("La réponse ne provient pas de Relais (iss).")]
    IssuerMismatch,
    #[error("La réponse de Relais ne contient pas de code d'autorisation.")]
    MissingCode,
    #[error("Relais a refusé la connexion.")]
    Authorization { error: String, description: Option<String> },
    #[error("L'échange du code d'autorisation a échoué.")]
    Exchange(String),
    #[error("Le jeton d'identité reçu est invalide.")]
    IdToken(String),
    #[error("Les informations d'identité n'ont pas pu être obtenues.")]
    UserInfo(String),
    #[error("La configuration du service est invalide.")]
    Config(String),
}

impl SpError {
    pub(super) fn status(&self) -> StatusCode {
        match self {
            Self::UnknownAcr
            | Self::UnknownProcedure
            | Self::NoPendingLogin
            | Self::StateMismatch
            | Self::IssuerMismatch
            | Self::MissingCode
            | Self::Authorization { .. } => StatusCode::BAD_REQUEST,
            Self::Discovery(_) | Self::Exchange(_) | Self::IdToken(_) | Self::UserInfo(_) => StatusCode::BAD_GATEWAY,
            Self::Config(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code shown to the person (the hub's OAuth error when there is one).
    pub(super) fn code(&self) -> String {
        match self {
            Self::Authorization { error, .. } => error.clone(),
            Self::Discovery(_) => "discovery_failed".into(),
            Self::UnknownAcr => "unknown_acr".into(),
            Self::UnknownProcedure => "unknown_procedure".into(),
            Self::NoPendingLogin => "no_pending_login".into(),
            Self::StateMismatch => "state_mismatch".into(),
            Self::IssuerMismatch => "issuer_mismatch".into(),
            Self::MissingCode => "missing_code".into(),
            Self::Exchange(_) => "token_exchange_failed".into(),
            Self::IdToken(_) => "invalid_id_token".into(),
            Self::UserInfo(_) => "userinfo_failed".into(),
            Self::Config(_) => "configuration".into(),
        }
    }

    /// Technical detail (a demo may show it).
    pub(super) fn detail(&self) -> Option<String> {
        match self {
            Self::Authorization { description, .. } => description.clone(),
            Self::Discovery(detail)
            | Self::Exchange(detail)
            | Self::IdToken(detail)
            | Self::UserInfo(detail)
            | Self::Config(detail) => Some(detail.clone()),
            _ => None,
        }
    }
}

/// An error and its causes on one line.
pub(super) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
