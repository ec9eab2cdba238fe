//! The test agents of the two mock agent directories (ProConnect's claims): a ministry's
//! directory (the State's domains, and the default IdP: it also knows a private contractor)
//! and a town hall's.

use super::TestIdentity;

/// An agent at a directory: `sub` is `{idp}-{uid}`; the pivot fields a citizen IdP gives are
/// the agent's names only (`family_name` is their name of use).
#[allow(clippy::too_many_arguments)]
pub fn agent(
    idp_id: &str,
    uid: &str,
    given_name: &str,
    usual_name: &str,
    email: &str,
    siret: &str,
    organizational_unit: &str,
    belonging_population: &str,
) -> TestIdentity {
    let extra = [
        ("usual_name", usual_name),
        ("uid", uid),
        ("siret", siret),
        ("organizational_unit", organizational_unit),
        ("belonging_population", belonging_population),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    TestIdentity {
        sub: format!("{idp_id}-{uid}"),
        given_name: given_name.into(),
        family_name: usual_name.into(),
        birthdate: String::new(),
        gender: String::new(),
        birthplace: String::new(),
        birthcountry: String::new(),
        email: Some(email.into()),
        preferred_username: None,
        extra,
    }
}

/// The ministry directory's agents: one at the DINUM (a State administration), one private
/// contractor (a private company's SIRET).
pub fn ministry_agents(idp_id: &str) -> Vec<TestIdentity> {
    vec![
        agent(
            idp_id,
            "cmartin",
            "Camille",
            "MARTIN",
            "camille.martin@numerique.gouv.fr",
            "13002526500013",
            "DINUM / Opérateur de produits",
            "agent",
        ),
        agent(idp_id, "lpetit", "Léa", "PETIT", "lea.petit@prestataire.example", "55210055400013", "", "prestataire"),
    ]
}

/// The town hall directory's agents: the canteen service's instructor.
pub fn town_hall_agents(idp_id: &str) -> Vec<TestIdentity> {
    vec![agent(
        idp_id,
        "jmoreau",
        "Jeanne",
        "MOREAU",
        "jeanne.moreau@demoville.fr",
        "21750001600019",
        "Service enfance et restauration scolaire",
        "agent",
    )]
}
