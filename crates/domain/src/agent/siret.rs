//! The SIRET, which names an agent's establishment, checked by its key.

use super::AgentError;

/// The Luhn check of a digit string: the doubled digits from the right, summed.
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let digit = u32::from(byte - b'0');
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// La Poste's SIREN: its establishments' SIRETs do not follow the Luhn key (INSEE's rule for
/// them: the digits sum to a multiple of 5).
const LA_POSTE_SIREN: &str = "356000000";

/// Whether `value` is a SIREN: 9 digits with a valid Luhn key.
pub fn is_siren(value: &str) -> bool {
    value.len() == 9 && value.bytes().all(|b| b.is_ascii_digit()) && (value == LA_POSTE_SIREN || luhn(value))
}

/// A SIRET: an establishment of an organisation, 14 digits, the first 9 its SIREN.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Siret(String);

impl Siret {
    /// `value`, spaces removed, if it is 14 digits with a valid key.
    pub fn parse(value: &str) -> Result<Self, AgentError> {
        let digits: String = value.chars().filter(|c| *c != ' ').collect();
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AgentError::InvalidSiret);
        }
        let valid = if digits.starts_with(LA_POSTE_SIREN) {
            digits.bytes().map(|b| u32::from(b - b'0')).sum::<u32>().is_multiple_of(5)
        } else {
            luhn(&digits)
        };
        if valid {
            Ok(Self(digits))
        } else {
            Err(AgentError::InvalidSiret)
        }
    }

    /// Its organisation's SIREN.
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
