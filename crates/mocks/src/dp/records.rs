//! The records each mock data provider holds about the test people of
//! [`crate::idp::default_identities`], and how a record is found from a pivot identity.

use super::DpKind;
use serde_json::{json, Map, Value};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization as _;

/// A child, as the family allowance office knows them.
struct Child {
    prenom: &'static str,
    date_naissance: &'static str,
}

/// Everything the three providers know about one person.
struct Record {
    /// Key: normalised family name, birthdate, normalised first given name.
    family_name: &'static str,
    birthdate: &'static str,
    first_given_name: &'static str,
    revenu_fiscal_reference: i64,
    nombre_parts: f64,
    personnes: u32,
    quotient_familial: i64,
    enfants: &'static [Child],
    numero_voie: &'static str,
    code_postal: &'static str,
    commune: &'static str,
}

const RECORDS: [Record; 4] = [
    // Couple with two children: tranche B of the canteen.
    Record {
        family_name: "DUBOIS",
        birthdate: "1962-08-24",
        first_given_name: "ANGELA",
        revenu_fiscal_reference: 31_420,
        nombre_parts: 3.0,
        personnes: 4,
        quotient_familial: 742,
        enfants: &[
            Child { prenom: "Hugo", date_naissance: "2008-04-11" },
            Child { prenom: "Léa", date_naissance: "2011-09-30" },
        ],
        numero_voie: "12 rue des Lilas",
        code_postal: "75007",
        commune: "Paris",
    },
    // Single, no children: tranche D.
    Record {
        family_name: "TANAKA",
        birthdate: "1985-03-14",
        first_given_name: "KENJI",
        revenu_fiscal_reference: 58_900,
        nombre_parts: 1.0,
        personnes: 1,
        quotient_familial: 1450,
        enfants: &[],
        numero_voie: "3 avenue Jean Jaurès",
        code_postal: "69007",
        commune: "Lyon",
    },
    // Lone parent with three children: tranche A.
    Record {
        family_name: "DIALLO",
        birthdate: "1975-00-00",
        first_given_name: "AISSATOU",
        revenu_fiscal_reference: 14_250,
        nombre_parts: 3.5,
        personnes: 4,
        quotient_familial: 412,
        enfants: &[
            Child { prenom: "Moussa", date_naissance: "2008-02-03" },
            Child { prenom: "Fatou", date_naissance: "2011-06-21" },
            Child { prenom: "Ibrahima", date_naissance: "2015-11-09" },
        ],
        numero_voie: "45 boulevard de la Libération",
        code_postal: "13004",
        commune: "Marseille",
    },
    // Lone parent with one child: tranche C.
    Record {
        family_name: "LEFEVRE",
        birthdate: "1990-12-01",
        first_given_name: "ELOISE",
        revenu_fiscal_reference: 24_800,
        nombre_parts: 2.0,
        personnes: 2,
        quotient_familial: 980,
        enfants: &[Child { prenom: "Jules", date_naissance: "2019-07-14" }],
        numero_voie: "8 place de l'Église",
        code_postal: "59000",
        commune: "Lille",
    },
];

/// Upper case without accents, every run of separators (spaces, hyphens, apostrophes, …)
/// made one space, trimmed: `"  Lefèvre-d'Arc "` → `"LEFEVRE D ARC"`.
pub(crate) fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        let expanded: &[char] = match c {
            'œ' | 'Œ' => &['O', 'E'],
            'æ' | 'Æ' => &['A', 'E'],
            'ß' => &['S', 'S'],
            _ => &[],
        };
        if !expanded.is_empty() || c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            if expanded.is_empty() {
                out.extend(c.to_uppercase());
            } else {
                out.extend(expanded);
            }
        } else {
            pending_space = true;
        }
    }
    out
}

/// The first given name, normalised: given names are separated by spaces, so a compound
/// name (`Jean-Pierre`) stays whole (`JEAN PIERRE`).
fn first_given_name(given_name: &str) -> String {
    normalise(given_name.split_whitespace().next().unwrap_or_default())
}

/// The record of the person with this pivot identity, if the provider has one.
fn find(family_name: &str, birthdate: &str, given_name: &str) -> Option<&'static Record> {
    let family_name = normalise(family_name);
    let given_name = first_given_name(given_name);
    let birthdate = birthdate.trim();
    RECORDS.iter().find(|record| {
        record.family_name == family_name && record.birthdate == birthdate && record.first_given_name == given_name
    })
}

/// The value of one scope in a record, or `None` when the scope is not this provider's.
fn scope_value(kind: DpKind, record: &Record, scope: &str) -> Option<Value> {
    match (kind, scope) {
        (DpKind::Impots, "revenu_fiscal_reference") => Some(json!(record.revenu_fiscal_reference)),
        (DpKind::Impots, "composition_foyer") => {
            Some(json!({ "nombre_parts": record.nombre_parts, "personnes": record.personnes }))
        }
        (DpKind::Caf, "quotient_familial") => Some(json!(record.quotient_familial)),
        (DpKind::Caf, "enfants") => Some(Value::Array(
            record
                .enfants
                .iter()
                .map(|child| json!({ "prenom": child.prenom, "date_naissance": child.date_naissance }))
                .collect(),
        )),
        (DpKind::Adresse, "adresse_postale") => Some(json!({
            "numero_voie": record.numero_voie,
            "code_postal": record.code_postal,
            "commune": record.commune,
        })),
        _ => None,
    }
}

/// The data of the granted `scopes` (of this provider) for the person, keyed by scope, or
/// `None` when the person is unknown.
pub(crate) fn data_for(
    kind: DpKind,
    family_name: &str,
    birthdate: &str,
    given_name: &str,
    scopes: &[&str],
) -> Option<Map<String, Value>> {
    let record = find(family_name, birthdate, given_name)?;
    Some(
        scopes
            .iter()
            .filter_map(|scope| scope_value(kind, record, scope).map(|value| ((*scope).to_owned(), value)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_strips_accents_and_collapses_separators() {
        assert_eq!(normalise("  Lefèvre-d'Arc "), "LEFEVRE D ARC");
        assert_eq!(normalise("Éloïse"), "ELOISE");
        assert_eq!(normalise("Cœur  Lætitia"), "COEUR LAETITIA");
        assert_eq!(first_given_name("angela  claire louise"), "ANGELA");
        assert_eq!(first_given_name("Jean-Pierre Paul"), "JEAN PIERRE");
        assert_eq!(first_given_name(""), "");
    }

    #[test]
    fn every_test_person_has_a_record_in_both_spellings() {
        for variant in 0..2 {
            for person in crate::idp::default_identities("x", variant) {
                assert!(
                    find(&person.family_name, &person.birthdate, &person.given_name).is_some(),
                    "{person:?} has no record"
                );
            }
        }
    }

    #[test]
    fn scopes_of_another_provider_give_nothing() {
        let data = data_for(DpKind::Impots, "DUBOIS", "1962-08-24", "Angela", &["quotient_familial"]);
        assert_eq!(data.map(|d| d.len()), Some(0));
    }
}
