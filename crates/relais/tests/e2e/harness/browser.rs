//! The person: a browser that keeps cookies and follows no redirect by itself, and what it reads
//! off the pages (forms, hidden inputs, the accounts offered).

use reqwest::header::LOCATION;
use url::Url;

use super::Platform;

/// A person's browser: keeps cookies, follows no redirect by itself.
pub struct Browser {
    pub http: reqwest::Client,
}

impl Browser {
    pub fn new() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    pub async fn post(&self, url: &str, form: &[(String, String)]) -> reqwest::Response {
        self.http.post(url).form(form).send().await.unwrap()
    }
}

pub fn location(response: &reqwest::Response) -> String {
    assert!(response.status().is_redirection(), "expected a redirect, got {}", response.status());
    response.headers().get(LOCATION).unwrap().to_str().unwrap().to_owned()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url).unwrap().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn unescape(value: &str) -> String {
    value
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in each tag of `html` that contains `marker`.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The hidden inputs of the first form of `html`.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split('<')
        .filter(|tag| tag.starts_with("input") && tag.contains("type=\"hidden\""))
        .filter_map(|tag| Some((attribute(tag, "name")?, attribute(tag, "value")?)))
        .collect()
}

/// The action of the first form of `html`.
pub fn form_action(html: &str) -> String {
    html.split('<').find(|tag| tag.starts_with("form")).and_then(|tag| attribute(tag, "action")).unwrap()
}

/// The IdP ids offered on a choice page.
pub fn offered_idps(html: &str) -> Vec<String> {
    html.split('<')
        .filter(|tag| tag.starts_with("button") && tag.contains("name=\"idp\""))
        .filter_map(|tag| attribute(tag, "value"))
        .collect()
}

/// From the choice page to the SP's redirect: picks `idp`, signs in there as test identity
/// `identity`, and returns the hub's final redirect (to the SP).
pub async fn through_choice(
    browser: &Browser,
    platform: &Platform,
    choice_page: &str,
    idp: &str,
    identity: usize,
) -> String {
    let action = platform.url(&form_action(choice_page));
    let to_idp = browser.post(action.as_str(), &[("idp".into(), idp.into())]).await;
    let idp_url = location(&to_idp);
    at_idp(browser, &idp_url, identity).await
}

/// At the IdP's sign-in page: picks test identity `identity`, follows back to the hub, and
/// returns the hub's redirect to the SP.
pub async fn at_idp(browser: &Browser, idp_url: &str, identity: usize) -> String {
    let page = browser.get(idp_url).await;
    assert_eq!(page.status(), 200, "IdP sign-in page");
    let idp_base = Url::parse(idp_url).unwrap();
    let html = page.text().await.unwrap();
    let mut form = hidden_inputs(&html);
    form.push(("identity".into(), identity.to_string()));
    let back = browser.post(idp_base.join(&form_action(&html)).unwrap().as_str(), &form).await;
    let callback = location(&back);
    let answer = browser.get(&callback).await;
    if answer.status().is_redirection() {
        location(&answer)
    } else {
        format!("status:{}:{}", answer.status().as_u16(), answer.text().await.unwrap())
    }
}

/// Signs in to the dashboard in `browser` as test identity `identity` of `idp`; its HTML.
pub async fn dashboard(platform: &Platform, browser: &Browser, idp: &str, identity: usize) -> String {
    let to_hub = location(&browser.get(platform.url("/tableau-de-bord").as_str()).await);
    let choice = browser.get(platform.url(&to_hub).as_str()).await;
    assert_eq!(choice.status(), 200, "a fresh sign-in for the dashboard");
    let html = choice.text().await.unwrap();
    let back = through_choice(browser, platform, &html, idp, identity).await;
    let page = location(&browser.get(&back).await);
    assert_eq!(page, "/tableau-de-bord");
    let response = browser.get(platform.url(&page).as_str()).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// Polls `url` until it answers `status` or `deadline` passes; whether it did. For a change
/// made on one node reaching another, whose registry cache lives a few seconds of real time.
pub async fn answers_before(browser: &Browser, url: &str, status: u16, deadline: std::time::Instant) -> bool {
    loop {
        if browser.get(url).await.status() == status {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
