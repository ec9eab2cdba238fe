use super::*;
use crate::{DataScope, DpId, Secret, SecretDigest};

fn caf() -> DataProvider {
    DataProvider {
        id: DpId::new("caf"),
        name: "CAF".into(),
        scopes: vec![DataScope { name: "quotient_familial".into(), label: "QF".into(), description: String::new() }],
        secret: SecretDigest::of("caf", &Secret::new("x".repeat(32))),
        signed_checktoken: false,
        allowed: Default::default(),
        about: Default::default(),
    }
}

fn contact(name: &str) -> Contact {
    Contact { name: name.into(), email: format!("{}@demoville.fr", name.to_lowercase()) }
}

/// The canteen template with the town hall's contacts: all it has to fill.
fn canteen() -> RequestForm {
    let mut form = Template::Canteen.form(&DpId::new("caf"));
    form.controller = contact("Maire");
    form.dpo = contact("Dpo");
    form.technical_contact = contact("Tech");
    form
}

const ADMIN: Actor = Actor::Applicant(ServiceRole::Admin);
const INSTRUCTOR: Actor = Actor::Instructor;

fn request() -> HabilitationRequest {
    HabilitationRequest::draft("r1".into(), "s1".into(), canteen())
}

fn step(
    request: &mut HabilitationRequest,
    event: RequestEvent,
    actor: Actor,
    comment: Option<&str>,
) -> Result<RequestState, MoveRefusal> {
    let errors = request.form.check(&[caf()]);
    request.apply(event, actor, "agent", comment.map(str::to_owned), &errors, UnixTime(10))
}

#[test]
fn a_template_needs_only_the_contacts() {
    let template = Template::Canteen.form(&DpId::new("caf"));
    let fields: Vec<&str> = template.check(&[caf()]).iter().map(|e| e.field).collect();
    assert_eq!(fields, ["controller", "dpo", "technical_contact"]);
    assert!(canteen().check(&[caf()]).is_empty());
    assert_eq!(Template::of("carte-resident"), Some(Template::ResidentCard));
    assert_eq!(Template::of("autre"), None);
}

#[test]
fn each_wrong_field_is_named() {
    let mut form = canteen();
    form.purpose = " ".into();
    form.legal_basis_url = "http://legifrance.example/".into();
    form.retention_months = 48;
    form.data = vec![DataTransfer { dp: DpId::new("caf"), scope: "revenus".into() }];
    form.dpo.email = "pas une adresse".into();
    let found: Vec<(&str, &str)> = form.check(&[caf()]).iter().map(|e| (e.field, e.key)).collect();
    assert_eq!(
        found,
        [
            ("purpose", "required"),
            ("legal_basis_url", "not_https"),
            ("retention_justification", "justification"),
            ("data", "unknown_data"),
            ("dpo", "email")
        ]
    );
    form.retention_justification = "Contentieux possibles sur cinq ans".into();
    form.retention_months = 0;
    assert!(form.check(&[caf()]).iter().any(|e| e.field == "retention_months"));
}

#[test]
fn a_request_goes_from_draft_to_validated_through_changes_requested() {
    let mut request = request();
    assert!(request.editable_by(Actor::Applicant(ServiceRole::Contributor)));
    assert_eq!(step(&mut request, RequestEvent::Submit, ADMIN, None), Ok(RequestState::Submitted));
    assert!(!request.editable_by(ADMIN), "sent: no change until it comes back");
    assert_eq!(step(&mut request, RequestEvent::RequestChanges, INSTRUCTOR, None), Err(MoveRefusal::CommentRequired));
    assert_eq!(
        step(&mut request, RequestEvent::RequestChanges, INSTRUCTOR, Some("Précisez les destinataires")),
        Ok(RequestState::ChangesRequested)
    );
    assert!(request.editable_by(ADMIN));
    assert_eq!(step(&mut request, RequestEvent::Submit, ADMIN, None), Ok(RequestState::Submitted));
    assert_eq!(step(&mut request, RequestEvent::Approve, INSTRUCTOR, None), Ok(RequestState::Validated));
    assert_eq!(request.live.as_ref().map(|live| live.version), Some(1));
    let events: Vec<RequestEvent> = request.history.iter().map(|entry| entry.event).collect();
    assert_eq!(
        events,
        [RequestEvent::Submit, RequestEvent::RequestChanges, RequestEvent::Submit, RequestEvent::Approve]
    );
    assert_eq!(request.history[1].comment.as_deref(), Some("Précisez les destinataires"));
}

#[test]
fn only_an_admin_sends_and_only_an_instructor_decides() {
    let mut request = request();
    for role in [ServiceRole::Contributor, ServiceRole::Tech] {
        assert_eq!(
            step(&mut request, RequestEvent::Submit, Actor::Applicant(role), None),
            Err(MoveRefusal::NotAllowed)
        );
    }
    assert_eq!(step(&mut request, RequestEvent::Submit, INSTRUCTOR, None), Err(MoveRefusal::NotAllowed));
    step(&mut request, RequestEvent::Submit, ADMIN, None).unwrap();
    assert_eq!(step(&mut request, RequestEvent::Approve, ADMIN, None), Err(MoveRefusal::NotAllowed));
    assert_eq!(request.state, RequestState::Submitted, "a refused move changes nothing");
    assert_eq!(request.history.len(), 1);
}

#[test]
fn an_incomplete_request_is_not_sent() {
    let mut request = HabilitationRequest::draft("r".into(), "s".into(), Template::Canteen.form(&DpId::new("caf")));
    assert_eq!(step(&mut request, RequestEvent::Submit, ADMIN, None), Err(MoveRefusal::Incomplete));
    assert_eq!(request.state, RequestState::Draft);
}

#[test]
fn a_reopened_request_keeps_its_habilitation_until_the_new_version_is_decided() {
    let mut request = request();
    step(&mut request, RequestEvent::Submit, ADMIN, None).unwrap();
    step(&mut request, RequestEvent::Approve, INSTRUCTOR, None).unwrap();
    assert_eq!(step(&mut request, RequestEvent::Reopen, ADMIN, None), Ok(RequestState::Draft));
    assert!(request.is_reopened());
    request.form.retention_months = 24;
    step(&mut request, RequestEvent::Submit, ADMIN, None).unwrap();
    assert_eq!(request.live.as_ref().unwrap().form.retention_months, 12, "the validated version stays live");
    // Refused: back to the version validated before, as it was.
    assert_eq!(
        step(&mut request, RequestEvent::Refuse, INSTRUCTOR, Some("Durée non justifiée")),
        Ok(RequestState::Validated)
    );
    assert_eq!(request.form.retention_months, 12);
    assert_eq!(request.live.as_ref().unwrap().version, 1);
    // Reopened again and validated: version 2 replaces it.
    step(&mut request, RequestEvent::Reopen, ADMIN, None).unwrap();
    request.form.recipients = "Le service enfance".into();
    step(&mut request, RequestEvent::Submit, ADMIN, None).unwrap();
    step(&mut request, RequestEvent::Approve, INSTRUCTOR, None).unwrap();
    let live = request.live.as_ref().unwrap();
    assert_eq!((live.version, live.form.recipients.as_str()), (2, "Le service enfance"));
    // Reopened, then the changes given up.
    step(&mut request, RequestEvent::Reopen, ADMIN, None).unwrap();
    request.form.purpose = "Autre chose".into();
    assert_eq!(step(&mut request, RequestEvent::CancelReopening, ADMIN, None), Ok(RequestState::Validated));
    assert_eq!(request.form.recipients, "Le service enfance");
    assert_ne!(request.form.purpose, "Autre chose");
}

#[test]
fn a_refusal_and_a_revocation_end_with_no_live_habilitation() {
    let mut refused = request();
    step(&mut refused, RequestEvent::Submit, ADMIN, None).unwrap();
    assert_eq!(step(&mut refused, RequestEvent::Refuse, INSTRUCTOR, Some("Hors cadre")), Ok(RequestState::Refused));
    assert!(refused.live.is_none());
    assert_eq!(step(&mut refused, RequestEvent::Archive, ADMIN, None), Ok(RequestState::Archived));

    let mut revoked = request();
    step(&mut revoked, RequestEvent::Submit, ADMIN, None).unwrap();
    step(&mut revoked, RequestEvent::Approve, INSTRUCTOR, None).unwrap();
    assert_eq!(step(&mut revoked, RequestEvent::Archive, ADMIN, None), Err(MoveRefusal::NotFromHere));
    assert_eq!(step(&mut revoked, RequestEvent::Revoke, INSTRUCTOR, None), Err(MoveRefusal::CommentRequired));
    assert_eq!(
        step(&mut revoked, RequestEvent::Revoke, INSTRUCTOR, Some("Fin de convention")),
        Ok(RequestState::Revoked)
    );
    assert!(revoked.live.is_none());
    assert_eq!(step(&mut revoked, RequestEvent::Approve, INSTRUCTOR, None), Err(MoveRefusal::NotFromHere));
    // A reopened request's live habilitation can be revoked too.
    let mut reopened = request();
    step(&mut reopened, RequestEvent::Submit, ADMIN, None).unwrap();
    step(&mut reopened, RequestEvent::Approve, INSTRUCTOR, None).unwrap();
    step(&mut reopened, RequestEvent::Reopen, ADMIN, None).unwrap();
    assert_eq!(step(&mut reopened, RequestEvent::Revoke, INSTRUCTOR, Some("Abus")), Ok(RequestState::Revoked));
    assert!(reopened.live.is_none());
}

#[test]
fn names_are_the_serialised_ones() {
    for state in RequestState::ALL {
        assert_eq!(serde_json::to_value(state).unwrap(), state.name());
        assert_eq!(RequestState::named(state.name()), Some(state));
    }
    assert_eq!(RequestState::named("validée"), None);
    for event in [
        RequestEvent::Submit,
        RequestEvent::RequestChanges,
        RequestEvent::Approve,
        RequestEvent::Refuse,
        RequestEvent::Reopen,
        RequestEvent::CancelReopening,
        RequestEvent::Revoke,
        RequestEvent::Archive,
    ] {
        assert_eq!(serde_json::to_value(event).unwrap(), event.name());
    }
}
