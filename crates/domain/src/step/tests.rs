use super::*;

fn transfer(scope: &str) -> DataTransfer {
    DataTransfer { dp: DpId::new("caf"), scope: scope.into() }
}

#[test]
fn consent_records_each_transfer_asked_as_given_or_refused() {
    let person = PersonKey::from_stored("p");
    let sub = PairwiseSub::from_token("s");
    let (sp, idp) = (SpId::new("mairie"), IdpId::new("impots"));
    let who = Subject { person: &person, sub: &sub, sp: &sp, idp: &idp };
    let asked = [transfer("quotient_familial"), transfer("enfants")];
    let event = StepEvent::consent(UnixTime(10), &who, &asked, &asked[..1]);
    let kinds: Vec<_> = event.records.iter().map(|r| (r.kind, r.outcome.as_str())).collect();
    assert_eq!(kinds, [(TraceKind::ConsentGiven, "given"), (TraceKind::ConsentRefused, "refused")]);
    assert!(event.records.iter().all(|r| r.person.as_deref() == Some("p") && r.sub.as_deref() == Some("s")));
}

#[test]
fn a_change_of_address_records_the_declaration_and_each_notification_with_its_sub() {
    let person = PersonKey::from_stored("p");
    let (caf, impots) = (SpId::new("caf"), SpId::new("impots"));
    let (a, b) = (PairwiseSub::from_token("a"), PairwiseSub::from_token("b"));
    let recipients =
        [Recipient { sp: &caf, sub: &a, message: "msg_1" }, Recipient { sp: &impots, sub: &b, message: "msg_2" }];
    let event = StepEvent::address_changed(UnixTime(7), &person, &recipients);
    let seen: Vec<_> = event
        .records
        .iter()
        .map(|r| (r.kind, r.outcome.as_str(), r.sp.as_deref(), r.sub.as_deref(), r.reference.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (TraceKind::AddressChange, "declared", None, None, None),
            (TraceKind::Notification, "queued", Some("caf"), Some("a"), Some("msg_1")),
            (TraceKind::Notification, "queued", Some("impots"), Some("b"), Some("msg_2")),
        ]
    );
    assert!(event.records.iter().all(|r| r.person.as_deref() == Some("p")));
    let anonymous = StepEvent::notification(UnixTime(8), None, &caf, "msg_3", "delivered");
    assert!(anonymous.records.is_empty() && anonymous.is_ok());
    assert!(!StepEvent::notification(UnixTime(8), Some("p"), &caf, "msg_3", "given_up").is_ok());
}

#[test]
fn logout_is_a_record_of_the_person() {
    let event = StepEvent::logout(UnixTime(5), &PersonKey::from_stored("p"), &IdpId::new("ameli"), None, 2);
    assert_eq!(event.records.len(), 1);
    assert_eq!(event.records[0].kind, TraceKind::Logout);
    assert_eq!(event.records[0].person.as_deref(), Some("p"));
    assert_eq!(event.step.as_str(), "logout");
}

#[test]
fn an_inactive_checktoken_of_an_unknown_token_names_nobody() {
    let event = StepEvent::checktoken(UnixTime(1), &DpId::new("caf"), None, vec![], false);
    assert_eq!(event.records[0].person, None);
    assert_eq!(event.outcome, "inactive");
    assert!(event.is_ok());
    assert!(!StepEvent::token_refused(None, "invalid_grant").is_ok());
}

#[test]
fn a_registry_change_names_its_author_and_its_actor_not_a_person() {
    let sp = SpId::new("mairie");
    let event = StepEvent::registry_change(UnixTime(3), "ops", ActorRef::ServiceProvider(&sp), "added");
    let record = &event.records[0];
    assert_eq!((record.kind, record.outcome.as_str()), (TraceKind::RegistryChange, "added"));
    assert_eq!(
        (record.author.as_deref(), record.sp.as_deref(), record.person.as_deref()),
        (Some("ops"), Some("mairie"), None)
    );
    assert_eq!((record.idp.as_deref(), record.dp.as_deref(), record.habilitation.as_deref()), (None, None, None));
    let habilitation = StepEvent::registry_change(UnixTime(3), "ops", ActorRef::Habilitation("h-1"), "removed");
    assert_eq!(habilitation.records[0].habilitation.as_deref(), Some("h-1"));
    assert_eq!(event.detail.as_deref(), Some("service_provider=added"));
}
