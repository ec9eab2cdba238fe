use super::*;
use std::collections::HashMap;

fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn angela() -> HashMap<String, String> {
    claims(&[
        ("given_name", "Angela Claire Louise"),
        ("family_name", "DUBOIS"),
        ("birthdate", "1962-08-24"),
        ("gender", "female"),
        ("birthplace", "75107"),
        ("birthcountry", "99100"),
        ("email", "angela@example.fr"),
    ])
}

fn parse(map: &HashMap<String, String>) -> Result<PivotIdentity, PivotError> {
    PivotIdentity::from_claims(|name| map.get(name).map(String::as_str))
}

#[test]
fn a_complete_answer_is_a_pivot_identity() {
    let pivot = parse(&angela()).unwrap();
    assert_eq!(pivot.birthplace.as_deref(), Some("75107"));
    assert_eq!(pivot.gender, Gender::Female);
    assert_eq!(pivot.email.as_deref(), Some("angela@example.fr"));
}

#[test]
fn each_missing_mandatory_claim_is_named() {
    for name in ["given_name", "family_name", "birthdate", "gender", "birthcountry", "birthplace"] {
        let mut map = angela();
        map.remove(name);
        assert_eq!(
            parse(&map),
            Err(PivotError::MissingClaim(match name {
                "given_name" => "given_name",
                "family_name" => "family_name",
                "birthdate" => "birthdate",
                "gender" => "gender",
                "birthcountry" => "birthcountry",
                _ => "birthplace",
            }))
        );
    }
}

#[test]
fn born_abroad_has_an_empty_birthplace_which_is_valid() {
    let mut map = angela();
    map.insert("birthplace".into(), String::new());
    map.insert("birthcountry".into(), "99217".into());
    assert_eq!(parse(&map).unwrap().birthplace, None);
}

#[test]
fn presumed_birth_dates_are_accepted_and_nonsense_refused() {
    for ok in ["1962-00-00", "1962-08-00", "2001-12-31"] {
        assert!(BirthDate::parse(ok).is_some(), "{ok}");
    }
    for bad in ["1962-13-01", "1962-00-05", "62-08-24", "1962/08/24", "1962-08-2a", "1962-08-244"] {
        assert!(BirthDate::parse(bad).is_none(), "{bad}");
    }
}

#[test]
fn invalid_formats_are_named() {
    let mut map = angela();
    map.insert("birthcountry".into(), "France".into());
    assert_eq!(parse(&map), Err(PivotError::InvalidClaim("birthcountry")));
    let mut map = angela();
    map.insert("birthplace".into(), "Paris".into());
    assert_eq!(parse(&map), Err(PivotError::InvalidClaim("birthplace")));
    let mut map = angela();
    map.insert("gender".into(), "x".into());
    assert_eq!(parse(&map), Err(PivotError::InvalidClaim("gender")));
}

#[test]
fn corsican_birthplaces_are_valid() {
    let mut map = angela();
    map.insert("birthplace".into(), "2a004".into());
    assert_eq!(parse(&map).unwrap().birthplace.as_deref(), Some("2A004"));
}

#[test]
fn canonical_form_ignores_case_accents_and_separators() {
    let a = parse(&angela()).unwrap();
    let mut other = angela();
    other.insert("given_name".into(), "  angéla  claire-louise".into());
    other.insert("family_name".into(), "Dubois".into());
    other.remove("email");
    let b = parse(&other).unwrap();
    assert_eq!(a.canonical_form(), b.canonical_form());
    let mut twin = angela();
    twin.insert("birthdate".into(), "1962-08-25".into());
    assert_ne!(a.canonical_form(), parse(&twin).unwrap().canonical_form());
}

#[test]
fn normalise_name_examples() {
    assert_eq!(normalise_name("Jean-Édouard  d'Ormesson"), "JEAN EDOUARD D ORMESSON");
    assert_eq!(normalise_name("Œdipe"), "ŒDIPE");
}

#[test]
fn debug_prints_no_identity() {
    let claims = [
        ("given_name", "Angela"),
        ("family_name", "DUBOIS"),
        ("birthdate", "1962-08-24"),
        ("gender", "female"),
        ("birthplace", "75107"),
        ("birthcountry", "99100"),
    ];
    let pivot = PivotIdentity::from_claims(|n| claims.iter().find(|(k, _)| *k == n).map(|(_, v)| *v)).unwrap();
    let printed = format!("{pivot:?} {:?}", pivot.birthdate);
    assert!(!printed.contains("DUBOIS") && !printed.contains("1962"), "{printed}");
}
