use super::*;
use crate::portal::{PartnerService, ServiceDeclaration};
use crate::EidasLevel;

const ORG: &str = "217500016";

fn service() -> PartnerService {
    PartnerService {
        id: "svc".into(),
        organisation: ORG.into(),
        organisation_label: "Commune de Démoville".into(),
        declaration: ServiceDeclaration {
            name: "Cantine".into(),
            site: "https://cantine.example".into(),
            initiate_login_uri: "https://cantine.example/connexion".into(),
            redirect_uris: vec!["https://cantine.example/retour".into()],
            post_logout_redirect_uris: Vec::new(),
            claims: Vec::new(),
            data: Vec::new(),
            eidas_level: EidasLevel::Low,
        },
        sandbox_client_id: "bac-a-sable-svc".into(),
        production_client_id: None,
        created_by: "declarer".into(),
        created_at: UnixTime(1),
        members: Vec::new(),
        versions: Vec::new(),
    }
}

fn settings(redirect: &str) -> ClientSettings {
    ClientSettings::check("https://cantine.example/connexion", redirect, "").unwrap()
}

#[test]
fn the_declarer_is_admin_and_invitees_have_their_role_in_their_organisation_only() {
    let mut service = service();
    assert_eq!(service.role_of("declarer", "x@demoville.fr", ORG), Some(ServiceRole::Admin));
    assert_eq!(service.role_of("declarer", "x@demoville.fr", "130025265"), None, "another organisation");
    assert_eq!(service.role_of("colleague", "paul@demoville.fr", ORG), None, "not a member");
    service
        .invite(
            ServiceRole::Admin,
            " Paul@Demoville.fr ",
            Some(ServiceRole::Contributor),
            "agent:declarer",
            UnixTime(2),
        )
        .unwrap();
    assert_eq!(service.role_of("colleague", "paul@demoville.fr", ORG), Some(ServiceRole::Contributor));
    assert_eq!(service.role_of("colleague", "PAUL@demoville.fr", "130025265"), None);
    // Inviting again changes the role.
    service
        .invite(ServiceRole::Admin, "paul@demoville.fr", Some(ServiceRole::Tech), "agent:declarer", UnixTime(3))
        .unwrap();
    assert_eq!(service.members.len(), 1);
    assert_eq!(service.role_of("colleague", "paul@demoville.fr", ORG), Some(ServiceRole::Tech));
}

#[test]
fn only_an_admin_changes_the_team_and_never_leaves_it_without_admin() {
    let mut service = service();
    let refused = |result: Result<(), FieldError>| result.unwrap_err().key;
    let by = ServiceRole::Admin;
    let invite =
        |service: &mut PartnerService, by, email: &str, role| service.invite(by, email, role, "a", UnixTime(2));
    assert_eq!(refused(invite(&mut service, ServiceRole::Tech, "a@b.fr", Some(ServiceRole::Tech))), "not_allowed");
    assert_eq!(refused(invite(&mut service, by, "", Some(ServiceRole::Tech))), "required");
    assert_eq!(refused(invite(&mut service, by, "pas-une-adresse", Some(ServiceRole::Tech))), "email");
    assert_eq!(refused(invite(&mut service, by, "a@b.fr", None)), "role");
    assert!(service.members.is_empty(), "a refusal changes nothing");
    invite(&mut service, by, "admin@demoville.fr", Some(ServiceRole::Admin)).unwrap();
    assert_eq!(refused(invite(&mut service, by, "admin@demoville.fr", Some(ServiceRole::Tech))), "last_admin");
    assert_eq!(refused(service.remove_member(by, "admin@demoville.fr")), "last_admin");
    assert_eq!(refused(service.remove_member(by, "nobody@demoville.fr")), "not_member");
    invite(&mut service, by, "tech@demoville.fr", Some(ServiceRole::Tech)).unwrap();
    assert_eq!(refused(service.remove_member(ServiceRole::Tech, "tech@demoville.fr")), "not_allowed");
    service.remove_member(by, "TECH@demoville.fr").unwrap();
    assert_eq!(service.members.len(), 1);
    for role in ServiceRole::ALL {
        assert_eq!(ServiceRole::of(role.id()), Some(role));
    }
}

#[test]
fn a_draft_takes_effect_when_published_by_a_tech_and_the_previous_version_can_be_restored() {
    let mut service = service();
    let original = service.settings(Environment::Sandbox);
    assert_eq!(original.redirect_uris, ["https://cantine.example/retour"]);
    let number =
        service.write_draft(Environment::Sandbox, settings("https://cantine.example/v2"), "agent:c", UnixTime(5));
    assert_eq!(number, 1);
    assert_eq!(service.settings(Environment::Sandbox), original, "a draft is not in effect");
    // Writing again changes the same draft.
    let again =
        service.write_draft(Environment::Sandbox, settings("https://cantine.example/v2b"), "agent:c", UnixTime(6));
    assert_eq!(again, 1);
    let refused = service.publish(ServiceRole::Contributor, Environment::Sandbox, 1, "agent:c", UnixTime(7));
    assert_eq!(refused.unwrap_err().key, "not_allowed", "a contributor cannot publish");
    assert_eq!(service.draft(Environment::Sandbox).map(|v| v.number), Some(1));
    let published = service.publish(ServiceRole::Tech, Environment::Sandbox, 1, "agent:t", UnixTime(8)).unwrap();
    assert_eq!(published.redirect_uris, ["https://cantine.example/v2b"]);
    assert_eq!(service.settings(Environment::Sandbox), published);
    assert_eq!(service.settings(Environment::Production), original, "one environment at a time");
    let states: Vec<_> = service.versions_of(Environment::Sandbox).iter().map(|v| (v.number, v.state)).collect();
    assert_eq!(states, [(1, VersionState::Published), (0, VersionState::Archived)]);
    assert_eq!(
        service.publish(ServiceRole::Admin, Environment::Sandbox, 1, "a", UnixTime(9)).unwrap_err().key,
        "already_published"
    );
    assert_eq!(
        service.publish(ServiceRole::Admin, Environment::Sandbox, 7, "a", UnixTime(9)).unwrap_err().key,
        "no_version"
    );
    // The declaration's settings, restored: a new version, published.
    let restored = service.publish(ServiceRole::Admin, Environment::Sandbox, 0, "agent:a", UnixTime(10)).unwrap();
    assert_eq!(restored, original);
    let states: Vec<_> = service.versions_of(Environment::Sandbox).iter().map(|v| (v.number, v.state)).collect();
    assert_eq!(states, [(2, VersionState::Published), (1, VersionState::Archived), (0, VersionState::Archived)]);
}

#[test]
fn client_settings_name_each_wrong_address() {
    let wrong = ClientSettings::check("", "https://x.example/#f", "notaurl").unwrap_err();
    let found: Vec<_> = wrong.iter().map(|e| (e.field, e.key)).collect();
    assert_eq!(
        found,
        [
            ("initiate_login_uri", "required"),
            ("redirect_uris", "fragment"),
            ("post_logout_redirect_uris", "not_an_address")
        ]
    );
}
