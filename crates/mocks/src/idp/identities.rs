//! The test people: the same four persons at every provider, spelled differently by
//! providers of odd `variant` so that the hub's normalisation is exercised.

use super::TestIdentity;

/// One person, written the "even" way and the "odd" way.
struct Person {
    slug: &'static str,
    given_name: [&'static str; 2],
    family_name: [&'static str; 2],
    birthdate: &'static str,
    gender: &'static str,
    birthplace: &'static str,
    birthcountry: &'static str,
    email: Option<&'static str>,
    preferred_username: Option<&'static str>,
}

const PEOPLE: [Person; 4] = [
    // Born in France (Paris 7e), compound given name.
    Person {
        slug: "angela-dubois",
        given_name: ["Angela Claire Louise", "angela  claire louise"],
        family_name: ["DUBOIS", "Dubois"],
        birthdate: "1962-08-24",
        gender: "female",
        birthplace: "75107",
        birthcountry: "99100",
        email: Some("angela.dubois@example.fr"),
        preferred_username: None,
    },
    // Born abroad (Japan): no commune of birth.
    Person {
        slug: "kenji-tanaka",
        given_name: ["Kenji", "KENJI"],
        family_name: ["TANAKA", "Tanaka"],
        birthdate: "1985-03-14",
        gender: "male",
        birthplace: "",
        birthcountry: "99217",
        email: Some("kenji.tanaka@example.jp"),
        preferred_username: None,
    },
    // Presumed birth date (day and month unknown), born in Senegal, accented given name.
    Person {
        slug: "aissatou-diallo",
        given_name: ["Aïssatou", "Aissatou"],
        family_name: ["DIALLO", "Diallo"],
        birthdate: "1975-00-00",
        gender: "female",
        birthplace: "",
        birthcountry: "99341",
        email: None,
        preferred_username: None,
    },
    // Ordinary person born in Lyon, with accents and a usage name.
    Person {
        slug: "eloise-lefevre",
        given_name: ["Éloïse Jeanne", "Eloise Jeanne"],
        family_name: ["LEFÈVRE", "LEFEVRE"],
        birthdate: "1990-12-01",
        gender: "female",
        birthplace: "69123",
        birthcountry: "99100",
        email: Some("eloise.lefevre@example.fr"),
        preferred_username: Some("BERNARD"),
    },
];

/// Test identities: the same people at every IdP, with an IdP-specific `sub`
/// (`<idp_id>-<person>`) and, for `variant` odd, names written differently
/// (case, accents, spacing).
pub fn default_identities(idp_id: &str, variant: u8) -> Vec<TestIdentity> {
    let spelling = usize::from(variant % 2);
    PEOPLE
        .iter()
        .map(|person| TestIdentity {
            sub: format!("{idp_id}-{}", person.slug),
            given_name: person.given_name[spelling].to_owned(),
            family_name: person.family_name[spelling].to_owned(),
            birthdate: person.birthdate.to_owned(),
            gender: person.gender.to_owned(),
            birthplace: person.birthplace.to_owned(),
            birthcountry: person.birthcountry.to_owned(),
            email: person.email.map(str::to_owned),
            preferred_username: person.preferred_username.map(str::to_owned),
            extra: Default::default(),
        })
        .collect()
}
