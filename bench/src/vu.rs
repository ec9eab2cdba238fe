//! A virtual user: one keep-alive HTTP client with a cookie jar of its own (per host), that
//! follows no redirect by itself, as a browser seen from the server.

use std::collections::HashMap;

use anyhow::{bail, Context};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use url::Url;

/// A person's browser (or an SP's back end) as the load generator plays it.
pub struct VirtualUser {
    pub http: reqwest::Client,
    jar: HashMap<String, HashMap<String, String>>,
}

impl VirtualUser {
    pub fn new(http: reqwest::Client) -> Self {
        Self { http, jar: HashMap::new() }
    }

    /// Forgets every cookie (a new person on the same connections).
    pub fn clear_cookies(&mut self) {
        self.jar.clear();
    }

    fn cookie_header(&self, url: &Url) -> Option<String> {
        let cookies = self.jar.get(url.host_str()?)?;
        (!cookies.is_empty()).then(|| cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }

    fn keep_cookies(&mut self, url: &Url, response: &reqwest::Response) {
        let host = url.host_str().unwrap_or_default().to_owned();
        for value in response.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()) {
            let Some((name, rest)) = value.split_once('=') else { continue };
            let cookie_value = rest.split(';').next().unwrap_or_default().to_owned();
            let expired = value.to_ascii_lowercase().contains("max-age=0");
            let jar = self.jar.entry(host.clone()).or_default();
            if expired || cookie_value.is_empty() {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), cookie_value);
            }
        }
    }

    async fn send(&mut self, url: &Url, request: reqwest::RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let request = match self.cookie_header(url) {
            Some(cookies) => request.header(COOKIE, cookies),
            None => request,
        };
        let response = request.send().await.with_context(|| format!("{url}"))?;
        self.keep_cookies(url, &response);
        Ok(response)
    }

    pub async fn get(&mut self, url: &Url) -> anyhow::Result<reqwest::Response> {
        let request = self.http.get(url.clone());
        self.send(url, request).await
    }

    pub async fn post_form(&mut self, url: &Url, form: &[(String, String)]) -> anyhow::Result<reqwest::Response> {
        let request = self.http.post(url.clone()).form(form);
        self.send(url, request).await
    }
}

/// The redirect target of `response`, resolved against `base`.
pub fn location(base: &Url, response: &reqwest::Response) -> anyhow::Result<Url> {
    if !response.status().is_redirection() {
        bail!("expected a redirect from {base}, got {}", response.status());
    }
    let value = response.headers().get(LOCATION).context("no Location")?.to_str()?;
    Ok(base.join(value)?)
}

pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn unescape(value: &str) -> String {
    value.replace("&#x2f;", "/").replace("&#x27;", "'").replace("&quot;", "\"").replace("&amp;", "&")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The action of the first form whose action contains `marker`.
pub fn form_action(html: &str, marker: &str) -> Option<String> {
    html.split('<')
        .filter(|tag| tag.starts_with("form"))
        .filter_map(|tag| attribute(tag, "action"))
        .find(|action| action.contains(marker))
}

/// The hidden inputs of a page.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split('<')
        .filter(|tag| tag.starts_with("input") && tag.contains("type=\"hidden\""))
        .filter_map(|tag| Some((attribute(tag, "name")?, attribute(tag, "value")?)))
        .collect()
}
