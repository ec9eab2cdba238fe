//! What an organisation is, and the habilitations that let it receive data.

use super::Siret;
use crate::clock::UnixTime;
use crate::ids::{DpId, SpId};

/// What an organisation is, as the organisation registry tells from its SIRET.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    /// A State administration (ministries, their services, prefectures).
    StateAdministration,
    /// A local authority (communes, départements, régions and their groupings).
    LocalAuthority,
    /// Another public body (hospitals, public establishments).
    OtherPublic,
    /// A private organisation.
    Private,
}

impl OrganisationKind {
    /// The kind of an organisation of INSEE's legal category `code` (4 digits, "catégorie
    /// juridique"): 71xx the State's administrations, 72xx local authorities, 73xx and 74xx
    /// other public bodies under administrative law (public establishments, EPCIs, hospitals,
    /// public interest groupings), 4xxx public bodies under commercial law; every other code is
    /// private.
    pub fn from_legal_category(code: &str) -> Self {
        if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Self::Private;
        }
        match &code[..2] {
            "71" => Self::StateAdministration,
            "72" => Self::LocalAuthority,
            "73" | "74" => Self::OtherPublic,
            _ if code.starts_with('4') => Self::OtherPublic,
            _ => Self::Private,
        }
    }

    /// Its name in claims and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StateAdministration => "state_administration",
            Self::LocalAuthority => "local_authority",
            Self::OtherPublic => "other_public",
            Self::Private => "private",
        }
    }

    /// Whether its agents are public agents (an SP may accept only those).
    pub fn is_public(self) -> bool {
        !matches!(self, Self::Private)
    }

    /// ProConnect's role names for it (`agent_public`, `agent_public_etat`,
    /// `agent_public_territorial`).
    pub fn roles(self) -> &'static [&'static str] {
        match self {
            Self::StateAdministration => &["agent_public", "agent_public_etat"],
            Self::LocalAuthority => &["agent_public", "agent_public_territorial"],
            Self::OtherPublic => &["agent_public"],
            Self::Private => &[],
        }
    }
}

/// The legal basis of a habilitation: a text's reference and where to read it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LegalBasis {
    /// "Article L. 114-8 du code des relations entre le public et l'administration", say.
    pub reference: String,
    /// Its address (Légifrance).
    pub url: String,
}

/// A habilitation: this organisation, for this procedure, under this legal basis, may receive
/// these scopes from this data provider, until this date (DataPass's validated request).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Habilitation {
    /// Its id, quoted in the traces and to the data provider.
    pub id: String,
    /// The organisation's SIREN (every establishment of it) or one SIRET.
    pub organisation: String,
    /// The procedure it serves.
    pub procedure: String,
    /// Why the law allows it.
    pub legal_basis: LegalBasis,
    /// The data provider.
    pub dp: DpId,
    /// Its scopes covered.
    pub scopes: Vec<String>,
    /// Until when (exclusive).
    pub expires_at: UnixTime,
    /// The citizen services where the files it instructs are filed: a person reference one of
    /// them received may be used under it (none: it serves no request naming a person).
    #[serde(default)]
    pub citizen_services: Vec<SpId>,
}

impl Habilitation {
    /// Whether the files filed at the citizen service `service` are instructed under it.
    pub fn instructs_files_of(&self, service: &SpId) -> bool {
        self.citizen_services.contains(service)
    }

    /// Whether it lets the agent of establishment `siret` receive `scope` of `dp` at `now`.
    pub fn covers(&self, siret: &Siret, dp: &DpId, scope: &str, now: UnixTime) -> bool {
        let organisation = self.organisation == siret.as_str() || self.organisation == siret.siren();
        organisation && &self.dp == dp && self.scopes.iter().any(|s| s == scope) && now.is_before(self.expires_at)
    }
}

/// The live habilitation of `habilitations` that covers `scope` of `dp` for `siret`, if any.
pub fn covering<'a>(
    habilitations: &'a [Habilitation],
    siret: &Siret,
    dp: &DpId,
    scope: &str,
    now: UnixTime,
) -> Option<&'a Habilitation> {
    habilitations.iter().find(|habilitation| habilitation.covers(siret, dp, scope, now))
}
