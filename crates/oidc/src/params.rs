//! Strict reading of form-encoded parameters (a query string or a form body), before anything
//! is built from them: every name and value must be valid UTF-8 once percent-decoded (never
//! rewritten to U+FFFD, so a `state` is echoed exactly or refused), values carry no control
//! characters, each parameter is bounded, and none appears twice (RFC 6749 section 3.1).

/// The longest value of one parameter (a `state`, a `nonce`, an `id_token_hint`).
pub const MAX_VALUE_LENGTH: usize = 4096;
/// The longest query string or form body.
pub const MAX_TOTAL_LENGTH: usize = 16 * 1024;

/// Why parameters are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// Longer than [`MAX_TOTAL_LENGTH`].
    #[error("the parameters are too long")]
    TooLong,
    /// A value longer than [`MAX_VALUE_LENGTH`].
    #[error("`{0}` is too long")]
    ValueTooLong(String),
    /// Not UTF-8 once decoded.
    #[error("a parameter is not valid UTF-8")]
    NotUtf8,
    /// A control character in a value.
    #[error("`{0}` holds a control character")]
    ControlCharacter(String),
    /// The same parameter twice.
    #[error("`{0}` is given more than once")]
    Repeated(String),
}

fn decode(part: &[u8]) -> Result<String, ParamError> {
    let spaced: Vec<u8> = part.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(bytes).map_err(|_| ParamError::NotUtf8)
}

/// The parameters of `raw` (`a=1&b=2`), in order, checked.
pub fn strict_pairs(raw: &[u8]) -> Result<Vec<(String, String)>, ParamError> {
    if raw.len() > MAX_TOTAL_LENGTH {
        return Err(ParamError::TooLong);
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in raw.split(|&b| b == b'&').filter(|part| !part.is_empty()) {
        let (name, value) = match part.iter().position(|&b| b == b'=') {
            Some(at) => (&part[..at], &part[at + 1..]),
            None => (part, &[][..]),
        };
        let (name, value) = (decode(name)?, decode(value)?);
        if value.len() > MAX_VALUE_LENGTH {
            return Err(ParamError::ValueTooLong(name));
        }
        if value.chars().chain(name.chars()).any(char::is_control) {
            return Err(ParamError::ControlCharacter(name));
        }
        if pairs.iter().any(|(known, _)| known == &name) {
            return Err(ParamError::Repeated(name));
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values_are_decoded_exactly() {
        let pairs = strict_pairs(b"state=a%2Bb+c&nonce=%C3%A9t%C3%A9&empty=").unwrap();
        assert_eq!(pairs[0], ("state".into(), "a+b c".into()));
        assert_eq!(pairs[1], ("nonce".into(), "été".into()));
        assert_eq!(pairs[2], ("empty".into(), String::new()));
    }

    #[test]
    fn what_cannot_be_echoed_exactly_is_refused() {
        assert_eq!(strict_pairs(b"state=%FF%FE"), Err(ParamError::NotUtf8));
        for control in ["%00", "%01", "%0D", "%0A", "%7F", "%09"] {
            let raw = format!("state=a{control}b");
            assert_eq!(strict_pairs(raw.as_bytes()), Err(ParamError::ControlCharacter("state".into())), "{control}");
        }
        assert_eq!(strict_pairs(b"state=a\rb"), Err(ParamError::ControlCharacter("state".into())));
        assert_eq!(strict_pairs(b"state=1&state=2"), Err(ParamError::Repeated("state".into())));
        let long = format!("state={}", "a".repeat(MAX_VALUE_LENGTH + 1));
        assert_eq!(strict_pairs(long.as_bytes()), Err(ParamError::ValueTooLong("state".into())));
        assert_eq!(strict_pairs(&vec![b'a'; MAX_TOTAL_LENGTH + 1]), Err(ParamError::TooLong));
    }
}
