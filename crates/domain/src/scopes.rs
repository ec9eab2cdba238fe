//! Scopes and the claims of the pivot identity they release.

use std::collections::BTreeSet;

use crate::pivot::PivotIdentity;

/// A claim the hub can release about a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Claim {
    /// `given_name`
    GivenName,
    /// `family_name`
    FamilyName,
    /// `birthdate`
    Birthdate,
    /// `gender`
    Gender,
    /// `birthplace`
    Birthplace,
    /// `birthcountry`
    Birthcountry,
    /// `email`
    Email,
    /// `preferred_username`
    PreferredUsername,
}

impl Claim {
    /// Every claim, in the order they are listed in discovery.
    pub const ALL: [Claim; 8] = [
        Claim::GivenName,
        Claim::FamilyName,
        Claim::Birthdate,
        Claim::Gender,
        Claim::Birthplace,
        Claim::Birthcountry,
        Claim::Email,
        Claim::PreferredUsername,
    ];

    /// The claim's name in tokens and at userinfo.
    pub fn name(self) -> &'static str {
        match self {
            Claim::GivenName => "given_name",
            Claim::FamilyName => "family_name",
            Claim::Birthdate => "birthdate",
            Claim::Gender => "gender",
            Claim::Birthplace => "birthplace",
            Claim::Birthcountry => "birthcountry",
            Claim::Email => "email",
            Claim::PreferredUsername => "preferred_username",
        }
    }

    /// The claim's value for a person; `None` when the person has none (e-mail not given).
    /// A person born abroad has an empty `birthplace`, which is a value.
    pub fn value_of(self, pivot: &PivotIdentity) -> Option<String> {
        match self {
            Claim::GivenName => Some(pivot.given_name.clone()),
            Claim::FamilyName => Some(pivot.family_name.clone()),
            Claim::Birthdate => Some(pivot.birthdate.as_str().to_owned()),
            Claim::Gender => Some(pivot.gender.as_claim().to_owned()),
            Claim::Birthplace => Some(pivot.birthplace.clone().unwrap_or_default()),
            Claim::Birthcountry => Some(pivot.birthcountry.clone()),
            Claim::Email => pivot.email.clone(),
            Claim::PreferredUsername => pivot.preferred_username.clone(),
        }
    }
}

/// An identity scope the hub knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `openid`: the `sub` only.
    OpenId,
    /// A scope named after one claim.
    Single(Claim),
    /// `profile`: given and family names, birth date, gender, usage name.
    Profile,
    /// `birth`: birthplace and birth country.
    Birth,
    /// `identite_pivot`: the six claims of the pivot identity.
    IdentitePivot,
    /// `person_reference`: a sealed reference to the person, for the agents who will instruct
    /// the file they file at a citizen service ([`crate::agent::reference`]).
    PersonReference,
}

impl Scope {
    /// Every scope the hub knows, as listed in discovery.
    pub fn all() -> Vec<Scope> {
        let mut all = vec![Scope::OpenId, Scope::Profile, Scope::Birth, Scope::IdentitePivot, Scope::PersonReference];
        all.extend(Claim::ALL.map(Scope::Single));
        all
    }

    /// Parses a scope name; `None` for a scope the hub does not know.
    pub fn parse(name: &str) -> Option<Scope> {
        match name {
            "openid" => Some(Scope::OpenId),
            "profile" => Some(Scope::Profile),
            "birth" => Some(Scope::Birth),
            "identite_pivot" => Some(Scope::IdentitePivot),
            crate::agent::reference::PERSON_REFERENCE => Some(Scope::PersonReference),
            other => Claim::ALL.into_iter().find(|c| c.name() == other).map(Scope::Single),
        }
    }

    /// The scope's name.
    pub fn name(self) -> &'static str {
        match self {
            Scope::OpenId => "openid",
            Scope::Profile => "profile",
            Scope::Birth => "birth",
            Scope::IdentitePivot => "identite_pivot",
            Scope::PersonReference => crate::agent::reference::PERSON_REFERENCE,
            Scope::Single(claim) => claim.name(),
        }
    }

    /// The claims this scope releases.
    pub fn claims(self) -> Vec<Claim> {
        use Claim::*;
        match self {
            Scope::OpenId | Scope::PersonReference => vec![],
            Scope::Single(claim) => vec![claim],
            Scope::Profile => vec![GivenName, FamilyName, Birthdate, Gender, PreferredUsername],
            Scope::Birth => vec![Birthplace, Birthcountry],
            Scope::IdentitePivot => vec![GivenName, FamilyName, Birthdate, Gender, Birthplace, Birthcountry],
        }
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Scope::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown scope `{name}`")))
    }
}

/// A set of known scopes.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ScopeSet(BTreeSet<Scope>);

/// The outcome of reading a requested `scope` parameter against what an SP is registered for.
#[derive(Debug, PartialEq, Eq)]
pub enum ScopeRequestError {
    /// `openid` is absent: not an OpenID Connect request.
    MissingOpenId,
    /// A scope the hub knows but this SP is not registered for.
    NotRegistered(String),
}

impl ScopeSet {
    /// Builds a set from scopes.
    pub fn from_scopes(scopes: impl IntoIterator<Item = Scope>) -> Self {
        Self(scopes.into_iter().collect())
    }

    /// Reads a space-separated `scope` request parameter for an SP registered for
    /// `registered`. Unknown scopes are ignored (OpenID Connect Core 1.0, section 5.4); a known
    /// scope the SP is not registered for is refused, so an SP only gets what it was granted.
    pub fn from_request(requested: &str, registered: &ScopeSet) -> Result<Self, ScopeRequestError> {
        let mut granted = BTreeSet::new();
        for name in requested.split_ascii_whitespace() {
            if let Some(scope) = Scope::parse(name) {
                if !registered.contains(scope) {
                    return Err(ScopeRequestError::NotRegistered(name.to_owned()));
                }
                granted.insert(scope);
            }
        }
        if !granted.contains(&Scope::OpenId) {
            return Err(ScopeRequestError::MissingOpenId);
        }
        Ok(Self(granted))
    }

    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// The claims released by the set, each once, in a stable order.
    pub fn claims(&self) -> BTreeSet<Claim> {
        self.0.iter().flat_map(|scope| scope.claims()).collect()
    }

    /// The scopes, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// The set as a space-separated `scope` value.
    pub fn to_request_value(&self) -> String {
        self.0.iter().map(|s| s.name()).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered() -> ScopeSet {
        ScopeSet::from_scopes([Scope::OpenId, Scope::IdentitePivot, Scope::Single(Claim::Email)])
    }

    #[test]
    fn shorthands_expand_to_their_claims() {
        let set = ScopeSet::from_request("openid identite_pivot", &registered()).unwrap();
        let names: Vec<_> = set.claims().into_iter().map(Claim::name).collect();
        assert_eq!(names, ["given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry"]);
    }

    #[test]
    fn unknown_scopes_are_ignored_and_unregistered_ones_refused() {
        let set = ScopeSet::from_request("openid email phone", &registered()).unwrap();
        assert_eq!(set.to_request_value(), "openid email");
        assert_eq!(
            ScopeSet::from_request("openid profile", &registered()),
            Err(ScopeRequestError::NotRegistered("profile".into()))
        );
        assert_eq!(ScopeSet::from_request("email", &registered()), Err(ScopeRequestError::MissingOpenId));
    }

    #[test]
    fn every_scope_name_round_trips() {
        for scope in Scope::all() {
            assert_eq!(Scope::parse(scope.name()), Some(scope));
        }
    }
}
