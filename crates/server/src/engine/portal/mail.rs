//! The portal's mail: an invitation to a service's team, and each move of a habilitation
//! request told to the service's admins and the request's technical contact (a request sent,
//! to its instructors too). In French, then in English; plain text with the page's address, and
//! nothing of any person's data (the recipients are agents, at their professional addresses).

use relais_domain::portal::request::{HabilitationRequest, RequestState, ServiceRole};
use relais_domain::portal::team::Member;
use relais_domain::portal::PartnerService;
use relais_mail::Mail;

use super::PortalSession;

fn state_names(state: RequestState) -> (&'static str, &'static str) {
    match state {
        RequestState::Draft => ("rouverte (brouillon)", "reopened (draft)"),
        RequestState::Submitted => ("envoyée", "submitted"),
        RequestState::ChangesRequested => ("à modifier", "changes requested"),
        RequestState::Validated => ("validée", "validated"),
        RequestState::Refused => ("refusée", "refused"),
        RequestState::Revoked => ("révoquée", "revoked"),
        RequestState::Archived => ("archivée", "archived"),
    }
}

fn role_names(role: ServiceRole) -> (&'static str, &'static str) {
    match role {
        ServiceRole::Admin => ("administrateur", "admin"),
        ServiceRole::Tech => ("technique", "tech"),
        ServiceRole::Contributor => ("contributeur", "contributor"),
    }
}

/// The addresses, lowercase, each once, in order.
fn recipients<'a>(addresses: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for address in addresses {
        let address = address.trim().to_lowercase();
        if !address.is_empty() && !out.contains(&address) {
            out.push(address);
        }
    }
    out
}

/// The mail of a request that just moved to where it stands, to the service's admins and the
/// request's technical contact, and to `instructors`.
pub fn request_moved(
    issuer: &str,
    request: &HabilitationRequest,
    service: &PartnerService,
    instructors: &[String],
) -> Vec<Mail> {
    let name = &service.declaration.name;
    let (fr, en) = state_names(request.state);
    let address = format!("{issuer}/partenaires/demandes/{}", request.id);
    let comment = request.history.last().and_then(|entry| entry.comment.clone());
    let said = comment.map(|comment| format!("\n« {comment} »\n")).unwrap_or_default();
    let subject = format!("Relais : la demande de mise en production de « {name} » est {fr}");
    let text = format!(
        "Bonjour,\n\nLa demande de mise en production du service « {name} » ({}) est {fr}.\n{said}\nVoir la demande : {address}\n\n\
         ---\n\nHello,\n\nThe production request of the service \"{name}\" is {en}.\n{said}\nSee the request: {address}\n",
        service.organisation_label
    );
    let admins = service.members.iter().filter(|m| m.role == ServiceRole::Admin).map(|m| m.email.as_str());
    let applicants = recipients(admins.chain([request.form.technical_contact.email.as_str()]));
    let mut mails: Vec<Mail> =
        applicants.iter().map(|to| Mail { to: to.clone(), subject: subject.clone(), text: text.clone() }).collect();
    let subject = format!("Relais : une demande à instruire pour « {name} »");
    let text = format!(
        "Bonjour,\n\n{} demande la mise en production du service « {name} ». Elle attend votre décision.\n\n\
         Instruire la demande : {address}\n\n---\n\nHello,\n\nA production request of the service \"{name}\" waits for your decision: {address}\n",
        service.organisation_label
    );
    for to in recipients(instructors.iter().map(String::as_str)) {
        if !applicants.contains(&to) {
            mails.push(Mail { to, subject: subject.clone(), text: text.clone() });
        }
    }
    mails
}

/// The invitation of `member` to the team of `service`, by the agent of `session`.
pub fn invitation(issuer: &str, service: &PartnerService, session: &PortalSession, member: &Member) -> Mail {
    let name = &service.declaration.name;
    let (fr, en) = role_names(member.role);
    let by = if session.given_name.is_empty() { session.email.clone() } else { session.given_name.clone() };
    let address = format!("{issuer}/partenaires/services/{}", service.id);
    Mail {
        to: member.email.clone(),
        subject: format!("Relais : vous êtes invité sur le service « {name} »"),
        text: format!(
            "Bonjour,\n\n{by} ({}) vous invite à rejoindre l'équipe du service « {name} » sur l'espace partenaires de Relais, \
             avec le rôle {fr}.\n\nConnectez-vous avec votre identité professionnelle, à cette adresse électronique : {address}\n\n\
             ---\n\nHello,\n\n{by} invites you to the team of the service \"{name}\" on Relais's partner portal, as {en}. \
             Sign in with your professional identity, at this e-mail address: {address}\n",
            session.organisation_label
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_told_once_each() {
        assert_eq!(recipients(["A@x.fr", " a@x.fr", "", "b@x.fr"]), ["a@x.fr", "b@x.fr"]);
    }
}
