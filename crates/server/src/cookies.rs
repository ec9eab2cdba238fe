//! The hub's cookies, from one builder: `HttpOnly`, `SameSite=Lax` (the sign-in comes back from
//! the IdP as a top-level navigation), `Path=/`, and `Secure` with the `__Host-` prefix when the
//! hub is served over HTTPS.

use axum::http::{header, HeaderMap, HeaderValue};

/// The cookie binding flows to one browser.
pub const BROWSER: &str = "relais_browser";
/// The cookie holding the hub session id.
pub const SESSION: &str = "relais_session";
/// The cookie holding the hub session id of the agent federation: an agent session and a
/// citizen session in one browser are two sessions, never one serving the other.
pub const AGENT_SESSION: &str = "relais_session_agent";

/// The session cookie of `federation`.
pub fn session(federation: relais_domain::Profile) -> &'static str {
    match federation {
        relais_domain::Profile::Citizen => SESSION,
        relais_domain::Profile::Agent => AGENT_SESSION,
    }
}
/// The cookie holding the person's dashboard session id.
pub const DASHBOARD: &str = "relais_dashboard";
/// The cookie holding an agent's partner portal session id.
pub const PORTAL: &str = "relais_partenaires";

/// The cookie remembering the IdP last chosen in this browser: its id only, no identity.
pub const LAST_IDP: &str = "relais_dernier_compte";
/// A year, seconds: how long the preference cookies (language, last IdP) live.
pub const YEAR: u64 = 31_536_000;

/// Whether `value` may be a cookie value as is (letters, digits, `-`, `_`, `.`).
pub fn is_token(value: &str) -> bool {
    !value.is_empty() && value.len() <= 100 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// The name a cookie is sent under.
pub fn name(base: &str, https: bool) -> String {
    if https {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// The value of cookie `base` in a request.
pub fn read(headers: &HeaderMap, base: &str, https: bool) -> Option<String> {
    let wanted = name(base, https);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == wanted)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value; `max_age` `None` makes a browser-session cookie, `Some(0)` deletes it.
pub fn set(base: &str, value: &str, max_age: Option<u64>, https: bool) -> HeaderValue {
    let mut cookie = format!("{}={value}; Path=/; HttpOnly; SameSite=Lax", name(base, https));
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if https {
        cookie.push_str("; Secure");
    }
    // Values are base64url tokens: always a valid header value.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}
