//! Languages of the pages: French by default, English available. The language of a page is,
//! in order: the one the person chose with the switch on every page (a cookie), the SP's
//! `ui_locales` for the pages of its sign-in, the browser's `Accept-Language`, French. Every
//! text is in the message catalogues `locales/<lang>.toml`, compiled into the binary.

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};

use crate::cookies;

/// A language of the pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// French, the default.
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// Its code, as in `lang="…"`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    /// The language of a BCP 47 tag (`fr`, `fr-FR`, `en-GB`…), if the pages speak it.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("fr") {
            Some(Self::Fr)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Self::En)
        } else {
            None
        }
    }

    /// The first language of a `ui_locales` value (space-separated tags) the pages speak.
    pub fn from_ui_locales(value: &str) -> Option<Self> {
        value.split_ascii_whitespace().find_map(Self::from_tag)
    }

    /// The preferred language of an `Accept-Language` header the pages speak (by `q`, then by
    /// order).
    pub fn from_accept_language(value: &str) -> Option<Self> {
        let mut best: Option<(u16, Self)> = None;
        for item in value.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Self::from_tag) else { continue };
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16);
            if quality > 0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }
}

/// The cookie keeping the language the person chose with the switch.
pub const LANG_COOKIE: &str = "relais_lang";

/// The language of one request's pages, and where the language switch brings the person back.
#[derive(Clone, Debug)]
pub struct Locale {
    /// The language.
    pub lang: Lang,
    /// Whether the person chose it with the switch (then an SP's `ui_locales` does not change it).
    pub chosen: bool,
    /// The page to come back to after switching (path and query of a GET, else `/`).
    pub here: String,
}

impl Locale {
    /// The locale of a request.
    pub fn of(request: &Request, https: bool) -> Self {
        Self::from_parts(request.headers(), request.method(), request.uri(), https)
    }

    fn from_parts(headers: &HeaderMap, method: &Method, uri: &axum::http::Uri, https: bool) -> Self {
        let chosen = cookies::read(headers, LANG_COOKIE, https).as_deref().and_then(Lang::from_tag);
        let accepted =
            headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language);
        let here = if method == Method::GET {
            uri.path_and_query().map_or("/", |p| p.as_str()).to_owned()
        } else {
            "/".to_owned()
        };
        Self { lang: chosen.or(accepted).unwrap_or_default(), chosen: chosen.is_some(), here }
    }

    /// The locale for the pages of a sign-in whose SP sent `ui_locales`.
    pub fn with_ui_locales(mut self, ui_locales: Option<&str>) -> Self {
        if !self.chosen {
            if let Some(lang) = ui_locales.and_then(Lang::from_ui_locales) {
                self.lang = lang;
            }
        }
        self
    }
}

/// `target` as a normalised path (and query) of the hub, or `None` when a browser could read it
/// as another site: it is parsed as a browser would (which drops tabs and newlines, reads `\`
/// as `/`), must stay on the hub's origin, and must not normalise to a scheme-relative `//…`.
/// Control characters are refused outright.
pub fn local_path(target: &str) -> Option<String> {
    if !target.starts_with('/') || target.chars().any(char::is_control) {
        return None;
    }
    let base = url::Url::parse("https://relais.invalid/").ok()?;
    let parsed = base.join(target).ok()?;
    if parsed.origin() != base.origin() {
        return None;
    }
    let mut local = parsed.path().to_owned();
    if local.starts_with("//") || local.starts_with("/\\") {
        return None;
    }
    if let Some(query) = parsed.query() {
        local.push('?');
        local.push_str(query);
    }
    Some(local)
}

/// The message catalogues, parsed once.
pub struct Catalogues {
    fr: minijinja::Value,
    en: minijinja::Value,
}

const FR: &str = include_str!("../locales/fr.toml");
const EN: &str = include_str!("../locales/en.toml");

fn parse(name: &str, source: &str) -> minijinja::Value {
    match toml::from_str::<toml::Table>(source) {
        Ok(table) => minijinja::Value::from_serialize(&table),
        Err(error) => {
            tracing::error!(catalogue = name, %error, "message catalogue does not parse");
            minijinja::Value::from(())
        }
    }
}

impl Catalogues {
    /// Parses the embedded catalogues.
    pub fn load() -> Self {
        Self { fr: parse("fr", FR), en: parse("en", EN) }
    }

    /// The catalogue of `lang`.
    pub fn of(&self, lang: Lang) -> &minijinja::Value {
        match lang {
            Lang::Fr => &self.fr,
            Lang::En => &self.en,
        }
    }
}

#[cfg(test)]
#[path = "i18n_tests.rs"]
mod tests;
