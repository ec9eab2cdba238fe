//! The static assets of the pages: the vendored State design system (DSFR, `assets/dsfr/`),
//! embedded in the binary and served under a versioned path with a year-long immutable cache.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Where the files of the DSFR version vendored in `assets/dsfr/` (see `assets/dsfr/VERSION`
/// and `scripts/refresh-dsfr.sh`) are served; a new version gets a new path, so that caches
/// never serve stale files.
pub const DSFR_PREFIX: &str = "/static/dsfr-1.15.3";

/// The files, by path under the prefix.
const FILES: &[(&str, &[u8])] = include!("../../../assets/dsfr/files.rs");

/// The content type of a file, from its extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("woff2") => "font/woff2",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// `GET /static/dsfr-<version>/{*path}`.
pub async fn dsfr(Path(path): Path<String>) -> Response {
    match FILES.iter().find(|(name, _)| *name == path) {
        Some((name, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type(name))),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_files_are_embedded() {
        let vendored = include_str!("../../../assets/dsfr/VERSION").trim();
        assert_eq!(DSFR_PREFIX, format!("/static/dsfr-{vendored}"));
        for needed in ["dsfr.min.css", "dsfr.module.min.js", "dsfr.nomodule.min.js", "fonts/Marianne-Regular.woff2"] {
            assert!(FILES.iter().any(|(name, bytes)| *name == needed && !bytes.is_empty()), "{needed}");
        }
        assert_eq!(content_type("icons/system/close-line.svg"), "image/svg+xml");
    }
}
