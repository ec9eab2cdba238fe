//! The partner portal's and the catalogue's pages with a large registry (issue 13's limit:
//! each renders in under 50 ms of hub CPU with 1,000 services and 100 data providers): a hub
//! whose configuration declares them, an agent of the ministry signed in to the portal who has
//! declared a few services there, and each page read over and over by virtual users, the hub's
//! CPU per page measured.

use std::sync::Arc;

use anyhow::{bail, Context};
use relais::config::{
    ConfigFile, DataProviderSection, DataScopeSection, InstructorSection, PortalSection, ServiceProviderSection,
};
use serde_json::{json, Value};
use url::Url;

use crate::flows::Boxed;
use crate::hub::{start_hub_with, AGENT_EMAIL, SP_SECRET};
use crate::load::Flow;
use crate::vu::{form_action, hidden_inputs, location, VirtualUser};
use crate::{users, workload, Cli, Settings, System};

/// The registry's size: services, data providers, scopes per provider, providers per service.
const SERVICES: usize = 1_000;
const PROVIDERS: usize = 100;
const SCOPES: usize = 5;
const PROVIDERS_PER_SERVICE: usize = 3;
/// The services the agent declares on the portal (its home lists them).
const DECLARED: usize = 20;

/// Adds the large registry to `file`: 100 providers of 5 scopes each, 1,000 citizen services
/// each allowed two scopes at three providers, and the portal (every provider in its sandbox).
pub fn large_registry(file: &mut ConfigFile) {
    let mut providers: Vec<DataProviderSection> = (0..PROVIDERS)
        .map(|p| {
            let id = format!("dp-{p:03}");
            let mut dp =
                DataProviderSection::new(&id, &format!("Fournisseur de données n° {p}"), crate::hub::DP_SECRET);
            dp.scopes = (0..SCOPES)
                .map(|s| {
                    DataScopeSection::new(
                        &format!("dp{p:03}_donnee_{s}"),
                        &format!("Donnée {s} du fournisseur {p}"),
                        "Une donnée que le fournisseur détient sur la personne, décrite pour le catalogue.",
                    )
                })
                .collect();
            dp
        })
        .collect();
    for s in 0..SERVICES {
        let id = format!("service-{s:04}");
        let sp = ServiceProviderSection::new(
            &id,
            &format!("Service public n° {s}"),
            Some(SP_SECRET),
            &format!("https://service-{s}.example/callback"),
            &["openid", "given_name", "family_name"],
        );
        file.service_providers.push(sp);
        for k in 0..PROVIDERS_PER_SERVICE {
            let p = (s * 7 + k * 31) % PROVIDERS;
            let scopes =
                vec![format!("dp{p:03}_donnee_{}", s % SCOPES), format!("dp{p:03}_donnee_{}", (s + 1) % SCOPES)];
            providers[p].allowed_service_providers.insert(id.clone(), scopes);
        }
    }
    file.data_providers.extend(providers);
    file.portal = Some(PortalSection {
        sandbox_identity_providers: vec!["mock".into()],
        sandbox_data_providers: (0..PROVIDERS).map(|p| format!("dp-{p:03}")).collect(),
        instructors: vec![InstructorSection { email: AGENT_EMAIL.into(), data_providers: vec![], operator: true }],
    });
}

/// Signs `vu` in to the portal as the ministry's agent: the hub's e-mail page, the agent
/// directory, back to the portal.
async fn portal_sign_in(vu: &mut VirtualUser, hub: &Url) -> anyhow::Result<()> {
    let start = hub.join("/partenaires")?;
    let authorize = location(&start, &vu.get(&start).await?)?;
    let page = vu.get(&authorize).await?.text().await?;
    let route = hub.join(&form_action(&page, "/email").context("no e-mail form")?)?;
    let to_idp = location(&route, &vu.post_form(&route, &[("email".into(), AGENT_EMAIL.into())]).await?)?;
    let page = vu.get(&to_idp).await?.text().await?;
    let mut form = hidden_inputs(&page);
    form.push(("identity".into(), "0".into()));
    let login = to_idp.join(&form_action(&page, "/authorize").context("no IdP form")?)?;
    let callback = location(&login, &vu.post_form(&login, &form).await?)?;
    let back = location(&callback, &vu.get(&callback).await?)?;
    let home = location(&back, &vu.get(&back).await?)?;
    if home.path() != "/partenaires" {
        bail!("not back at the portal: {home}");
    }
    Ok(())
}

/// Declares a service on the portal (its sandbox client made); its page's address.
async fn declare(vu: &mut VirtualUser, hub: &Url, n: usize) -> anyhow::Result<Url> {
    let form_url = hub.join("/partenaires/services/nouveau")?;
    let page = vu.get(&form_url).await?.text().await?;
    let csrf = hidden_inputs(&page).into_iter().find(|(name, _)| name == "csrf").context("no csrf")?.1;
    let p = (n * 13) % PROVIDERS;
    let form: Vec<(String, String)> = [
        ("csrf", csrf.as_str()),
        ("name", &format!("Démarche n° {n}")),
        ("site", "https://demarche.example"),
        ("initiate_login_uri", "https://demarche.example/connexion"),
        ("redirect_uris", "https://demarche.example/retour"),
        ("post_logout_redirect_uris", ""),
        ("claims", "given_name"),
        ("claims", "family_name"),
        ("data", &format!("dp-{p:03}:dp{p:03}_donnee_0")),
        ("eidas_level", "eidas1"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    let services = hub.join("/partenaires/services")?;
    let response = vu.post_form(&services, &form).await?;
    location(&services, &response).with_context(|| format!("declaring service {n}"))
}

/// One page read: `200`, its body read whole.
struct PageFlow {
    url: Url,
}

impl Flow for PageFlow {
    fn run<'a>(&'a self, vu: &'a mut VirtualUser) -> Boxed<'a> {
        Box::pin(async move {
            let response = vu.get(&self.url).await?;
            if response.status() != 200 {
                bail!("{}: {}", self.url, response.status());
            }
            response.bytes().await?;
            Ok(())
        })
    }
}

/// The pages workload: each page measured alone (hub CPU per page).
pub async fn pages_workload(cli: &Cli, settings: &Settings) -> anyhow::Result<Value> {
    let (hub, issuer, _idps, _dir) = start_hub_with(cli, None, true).await?;
    let hub_url = Url::parse(&issuer)?;
    let mut agent = VirtualUser::new(crate::http()?);
    portal_sign_in(&mut agent, &hub_url).await.context("portal sign-in")?;
    let mut service = None;
    for n in 0..DECLARED {
        service = Some(declare(&mut agent, &hub_url, n).await?);
    }
    let service = service.context("no service declared")?;
    let pages = [
        ("catalogue", hub_url.join("/catalogue")?),
        ("catalogue_json", hub_url.join("/catalogue.json")?),
        ("portal_home", hub_url.join("/partenaires")?),
        ("portal_new_service", hub_url.join("/partenaires/services/nouveau")?),
        ("portal_service", service),
    ];
    let mut results = serde_json::Map::new();
    for (name, url) in pages {
        let mut readers = users(settings.users)?;
        for vu in readers.iter_mut() {
            portal_sign_in(vu, &hub_url).await.context("readers' portal sign-in")?;
        }
        let mut systems =
            vec![System { name: "relais", pid: hub.pid, flow: Arc::new(PageFlow { url }), users: readers }];
        let result = workload(&mut systems, settings, true, false).await?;
        eprintln!("page {name}: {result}");
        results.insert(name.into(), result);
    }
    results.insert(
        "registry".into(),
        json!({ "services": SERVICES + DECLARED, "data_providers": PROVIDERS, "scopes_per_provider": SCOPES, "portal_services": DECLARED }),
    );
    Ok(Value::Object(results))
}
