//! Small HTTP helpers shared by the mocks: randomness, cookies, clock and templates.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh random value (256 bits, base64url), for codes, tokens and cookies.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Seconds since the Unix epoch. The mocks play other actors, with clocks of their own: the
/// system clock, read here only.
#[allow(clippy::disallowed_methods)]
pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Locks a mutex, recovering the data if another task panicked while holding it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The value of the cookie `name` in the request, if any.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
}

/// A `Set-Cookie` value for a session cookie (HttpOnly, SameSite=Lax, Path=/).
pub(crate) fn session_cookie(name: &str, value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/")).ok()
}

/// A `Set-Cookie` value that removes the cookie.
pub(crate) fn expired_cookie(name: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("{name}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")).ok()
}

/// A `303 See Other` to `location`.
pub(crate) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "invalid redirect").into_response(),
    }
}

/// Decodes `%XX` escapes and `+` (application/x-www-form-urlencoded), as RFC 6749 2.3.1
/// asks for the client credentials of HTTP Basic authentication.
pub(crate) fn form_decode(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = input.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Where the mocks serve the vendored State design system (the hub's files, `assets/dsfr/`).
pub(crate) const DSFR_PREFIX: &str = "/static/dsfr-1.15.3";

/// The DSFR files, embedded from the repository's `assets/dsfr/` (the same as the hub's).
const DSFR_FILES: &[(&str, &[u8])] = include!("../../../assets/dsfr/files.rs");

/// `GET /static/dsfr-<version>/{*path}`: a DSFR file, cached for a year.
pub(crate) async fn dsfr_asset(axum::extract::Path(path): axum::extract::Path<String>) -> Response {
    let Some((name, bytes)) = DSFR_FILES.iter().find(|(name, _)| *name == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let content_type = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("woff2") => "font/woff2",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")], *bytes)
        .into_response()
}

/// Adds the DSFR files to a mock's router.
pub(crate) fn with_dsfr<S: Clone + Send + Sync + 'static>(router: axum::Router<S>) -> axum::Router<S> {
    router.route(&format!("{DSFR_PREFIX}/{{*path}}"), axum::routing::get(dsfr_asset))
}

/// The templates of one server, HTML-escaped.
pub(crate) struct Templates {
    env: minijinja::Environment<'static>,
}

impl Templates {
    /// Loads the given templates (name, source) next to the shared layout.
    pub(crate) fn new(templates: &[(&'static str, &'static str)]) -> Result<Self, minijinja::Error> {
        let mut env = minijinja::Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.add_global("dsfr", DSFR_PREFIX);
        env.add_template("layout.html", include_str!("../templates/layout.html"))?;
        for (name, source) in templates {
            env.add_template(name, source)?;
        }
        Ok(Self { env })
    }

    /// Renders a page with `status`; a rendering failure becomes a bare 500.
    pub(crate) fn page<S: serde::Serialize>(&self, status: StatusCode, name: &str, ctx: S) -> Response {
        let rendered = self.env.get_template(name).and_then(|template| template.render(ctx));
        match rendered {
            Ok(html) => (status, Html(html)).into_response(),
            Err(error) => {
                tracing::error!(%error, template = name, "template rendering failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne").into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dsfr_files_are_embedded() {
        assert!(DSFR_FILES.iter().any(|(name, bytes)| *name == "dsfr.min.css" && !bytes.is_empty()));
    }

    #[test]
    fn form_decode_handles_escapes() {
        assert_eq!(form_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(form_decode("bad%2"), None);
    }
}
