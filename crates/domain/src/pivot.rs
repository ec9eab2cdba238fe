//! The pivot identity: the fixed set of civil-status claims every identity provider's answer is
//! normalised to, whatever the provider. It lives only in a short-lived session.

use unicode_normalization::UnicodeNormalization;

/// Gender as carried by the `gender` claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// `female`
    Female,
    /// `male`
    Male,
}

impl Gender {
    /// The claim value.
    pub fn as_claim(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
        }
    }
}

/// A birth date `YYYY-MM-DD`; a presumed date may carry `00` for an unknown month or day.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct BirthDate(String);

impl BirthDate {
    /// Parses `YYYY-MM-DD` (month `00`..`12`, day `00`..`31`, day `00` when month is `00`).
    pub fn parse(value: &str) -> Option<Self> {
        let bytes = value.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = value.get(range)?;
            part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let valid = year >= 1800 && month <= 12 && day <= 31 && !(month == 0 && day != 0);
        valid.then(|| Self(value.to_owned()))
    }

    /// The date as the claim value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BirthDate(***)")
    }
}

/// The INSEE code of France as a birth country.
pub const FRANCE_INSEE_CODE: &str = "99100";

/// The pivot identity of a person, as normalised by the hub. `Debug` prints none of it: an
/// identity never reaches a log.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PivotIdentity {
    /// Given names, space-separated, as the IdP wrote them.
    pub given_name: String,
    /// Birth family name.
    pub family_name: String,
    /// Birth date.
    pub birthdate: BirthDate,
    /// Gender.
    pub gender: Gender,
    /// INSEE commune code of the birthplace; `None` for a person born abroad.
    pub birthplace: Option<String>,
    /// INSEE code of the birth country (`99100` is France).
    pub birthcountry: String,
    /// E-mail address, when the IdP gives one (not part of the pivot proper).
    pub email: Option<String>,
    /// Usage name, when the IdP gives one (not part of the pivot proper).
    pub preferred_username: Option<String>,
}

impl std::fmt::Debug for PivotIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PivotIdentity(***)")
    }
}

/// Why an IdP's answer is not a pivot identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PivotError {
    /// A mandatory claim is absent or empty.
    #[error("the identity provider did not send the mandatory claim `{0}`")]
    MissingClaim(&'static str),
    /// A claim is present but not in its expected format.
    #[error("the identity provider sent the claim `{0}` in an invalid format")]
    InvalidClaim(&'static str),
}

impl PivotIdentity {
    /// Builds the pivot identity from an IdP's claims, read through `claim` (absent claims are
    /// `None`). Every mandatory claim must be present and well-formed: no half identity.
    pub fn from_claims<'a>(claim: impl Fn(&str) -> Option<&'a str>) -> Result<Self, PivotError> {
        let required = |name: &'static str| -> Result<&'a str, PivotError> {
            claim(name).map(str::trim).filter(|v| !v.is_empty()).ok_or(PivotError::MissingClaim(name))
        };
        let optional = |name: &str| claim(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);

        let given_name = required("given_name")?;
        let family_name = required("family_name")?;
        let birthdate = BirthDate::parse(required("birthdate")?).ok_or(PivotError::InvalidClaim("birthdate"))?;
        let gender = match required("gender")?.to_ascii_lowercase().as_str() {
            "female" | "f" => Gender::Female,
            "male" | "m" => Gender::Male,
            _ => return Err(PivotError::InvalidClaim("gender")),
        };
        let birthcountry = required("birthcountry")?;
        if !is_insee_country(birthcountry) {
            return Err(PivotError::InvalidClaim("birthcountry"));
        }
        let birthplace = match claim("birthplace").map(str::trim).filter(|v| !v.is_empty()) {
            Some(code) if is_insee_commune(code) => Some(code.to_ascii_uppercase()),
            Some(_) => return Err(PivotError::InvalidClaim("birthplace")),
            None if birthcountry == FRANCE_INSEE_CODE => return Err(PivotError::MissingClaim("birthplace")),
            None => None,
        };
        Ok(Self {
            given_name: given_name.to_owned(),
            family_name: family_name.to_owned(),
            birthdate,
            gender,
            birthplace,
            birthcountry: birthcountry.to_owned(),
            email: optional("email"),
            preferred_username: optional("preferred_username"),
        })
    }

    /// The canonical form of the pivot proper (the six civil-status claims), the same however
    /// an IdP wrote accents, case, hyphens or spaces. It is what the pairwise `sub` is
    /// derived from, so it never includes the IdP or its own subject.
    pub fn canonical_form(&self) -> String {
        [
            normalise_name(&self.given_name),
            normalise_name(&self.family_name),
            self.birthdate.as_str().to_owned(),
            self.gender.as_claim().to_owned(),
            self.birthplace.clone().unwrap_or_default(),
            self.birthcountry.clone(),
        ]
        .join("\u{1f}")
    }
}

/// Upper-case, without diacritics, with every run of separators (spaces, hyphens, apostrophes)
/// made one space.
pub fn normalise_name(name: &str) -> String {
    let stripped: String = name
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_uppercase)
        .collect();
    stripped.split(|c: char| !c.is_alphanumeric()).filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" ")
}

fn is_insee_country(code: &str) -> bool {
    code.len() == 5 && code.starts_with("99") && code.bytes().all(|b| b.is_ascii_digit())
}

/// Five characters: digits, or the Corsican departments `2A`/`2B` followed by three digits.
fn is_insee_commune(code: &str) -> bool {
    let upper = code.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    bytes.len() == 5
        && bytes[2..].iter().all(u8::is_ascii_digit)
        && (bytes[..2].iter().all(u8::is_ascii_digit) || upper.starts_with("2A") || upper.starts_with("2B"))
}

#[cfg(test)]
#[path = "pivot_tests.rs"]
mod tests;
