//! eIDAS assurance levels, as carried in `acr` / `acr_values` (`eidas1`..`eidas3`).

use std::fmt;

/// An eIDAS level of assurance. Ordered: `Low < Substantial < High`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum EidasLevel {
    /// `eidas1`: low.
    #[serde(rename = "eidas1")]
    Low,
    /// `eidas2`: substantial.
    #[serde(rename = "eidas2")]
    Substantial,
    /// `eidas3`: high.
    #[serde(rename = "eidas3")]
    High,
}

impl EidasLevel {
    /// All levels, lowest first.
    pub const ALL: [EidasLevel; 3] = [EidasLevel::Low, EidasLevel::Substantial, EidasLevel::High];

    /// Parses an `acr` value; anything but `eidas1..3` is `None`.
    pub fn from_acr(value: &str) -> Option<Self> {
        match value {
            "eidas1" => Some(Self::Low),
            "eidas2" => Some(Self::Substantial),
            "eidas3" => Some(Self::High),
            _ => None,
        }
    }

    /// The `acr` value of this level.
    pub fn as_acr(self) -> &'static str {
        match self {
            Self::Low => "eidas1",
            Self::Substantial => "eidas2",
            Self::High => "eidas3",
        }
    }

    /// The minimum level asked by a space-separated `acr_values` list: the lowest level named,
    /// since any of the listed values is acceptable to the requester. Unknown values are
    /// ignored; `None` when no known level is named.
    pub fn minimum_of_acr_values(acr_values: &str) -> Option<Self> {
        acr_values.split_ascii_whitespace().filter_map(Self::from_acr).min()
    }
}

impl fmt::Display for EidasLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_acr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_round_trip() {
        assert!(EidasLevel::Low < EidasLevel::Substantial);
        assert!(EidasLevel::Substantial < EidasLevel::High);
        for level in EidasLevel::ALL {
            assert_eq!(EidasLevel::from_acr(level.as_acr()), Some(level));
        }
        assert_eq!(EidasLevel::from_acr("eidas4"), None);
    }

    #[test]
    fn minimum_of_acr_values_takes_the_lowest_known() {
        assert_eq!(EidasLevel::minimum_of_acr_values("eidas3 eidas2"), Some(EidasLevel::Substantial));
        assert_eq!(EidasLevel::minimum_of_acr_values("foo eidas3"), Some(EidasLevel::High));
        assert_eq!(EidasLevel::minimum_of_acr_values("foo bar"), None);
        assert_eq!(EidasLevel::minimum_of_acr_values(""), None);
    }
}
