//! The services of the agent's organisation: declared from a form, each gets at once a sandbox
//! client of the hub (a secret shown once, kept as its digest; "regenerate" makes another),
//! offered only the sandbox's identity providers; then what an integrator pastes: the connect
//! button, the QR code of the sign-in start address, sample configurations.
//!
//! QR codes with `qrcode` (the maintained encoder; its SVG renderer needs nothing else) and
//! PNG with `png` (the image crate's own encoder, without the rest of `image`).

use relais_domain::ids::ActorRef;
use relais_domain::portal::request::ServiceRole;
use relais_domain::portal::team::{Environment, Member};
use relais_domain::portal::{FieldError, PartnerService, ServiceForm};
use relais_domain::step::StepEvent;
use relais_domain::{Secret, SecretDigest, SpId};
use relais_oidc::random::random_token;
use relais_store::{DataGrant, Put, Source};

use super::{enabled, PortalSession};
use crate::error::{ErrorPage, PageError};
use crate::state::AppState;

/// The data providers whose data the sandbox offers.
pub async fn offered(state: &AppState) -> Result<Vec<relais_domain::DataProvider>, PageError> {
    let settings = enabled(state)?;
    let providers = state.registry.data_providers().await?;
    Ok(providers.into_iter().filter(|dp| settings.sandbox_data_providers.contains(&dp.id)).collect())
}

/// The agent's role on `service`, if they are on its team (in its organisation).
pub fn role(session: &PortalSession, service: &PartnerService) -> Option<ServiceRole> {
    service.role_of(&session.agent, &session.email, &session.organisation)
}

/// The services whose team the agent is on, oldest first.
pub async fn list(state: &AppState, session: &PortalSession) -> Result<Vec<PartnerService>, PageError> {
    let services = state.portal.partner_services_of(&session.organisation).await?;
    Ok(services.into_iter().filter(|service| role(session, service).is_some()).collect())
}

/// A service whose team the agent is on, with their role; any other is not found (another
/// organisation's, or one they were not invited to).
pub async fn member_service(
    state: &AppState,
    session: &PortalSession,
    id: &str,
) -> Result<(PartnerService, ServiceRole), PageError> {
    // The portal's ids are letters and digits: anything else is not one (and is never sent to
    // the database).
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(PageError::Page(ErrorPage::NotFound));
    }
    let found = state.portal.partner_service(id).await?;
    found
        .and_then(|service| role(session, &service).map(|role| (service, role)))
        .ok_or(PageError::Page(ErrorPage::NotFound))
}

/// A service whose team the agent is on.
pub async fn service(state: &AppState, session: &PortalSession, id: &str) -> Result<PartnerService, PageError> {
    Ok(member_service(state, session, id).await?.0)
}

/// Declares a service and makes its sandbox client: its portal id and the client's secret (to
/// show once), or every field that is wrong (nothing is kept then).
#[tracing::instrument(skip_all)]
pub async fn declare(
    state: &AppState,
    session: &PortalSession,
    form: &ServiceForm,
) -> Result<Result<(String, String), Vec<FieldError>>, PageError> {
    let settings = enabled(state)?;
    let offered = offered(state).await?;
    let declaration = match form.check(&offered) {
        Ok(declaration) => declaration,
        Err(errors) => return Ok(Err(errors)),
    };
    // 128 random bits, letters and digits: part of the client id and of the pages' addresses.
    let id: String = random_token().chars().filter(char::is_ascii_alphanumeric).take(22).collect();
    let client_id = format!("{}{}", relais_domain::portal::SANDBOX_CLIENT_PREFIX, id.to_ascii_lowercase());
    let secret = random_token();
    let known_idps: Vec<_> = state.registry.identity_providers().await?.into_iter().map(|idp| idp.id).collect();
    let registration =
        declaration.sandbox_client(&client_id, Secret::new(secret.clone()), &settings.sandbox_identity_providers);
    let sp = registration.register(&known_idps).map_err(|error| {
        tracing::error!(%error, "a checked declaration was refused by the registration rules");
        PageError::Page(ErrorPage::BadRequest)
    })?;
    let now = state.clock.now();
    state.registry_writer.put_service_provider(Put { actor: &sp, source: Source::Registered, at: now.0 }).await?;
    for (dp, scopes) in declaration.grants() {
        let grant = DataGrant { sp: sp.id.clone(), dp, scopes };
        state.registry_writer.put_data_grant(&grant, now.0).await?;
    }
    let service = PartnerService {
        id: id.clone(),
        organisation: session.organisation.clone(),
        organisation_label: session.organisation_label.clone(),
        declaration,
        sandbox_client_id: client_id,
        production_client_id: None,
        created_by: session.agent.clone(),
        created_at: now,
        // The declarer, by address too: the admin the request's mail go to.
        members: vec![Member {
            email: session.email.trim().to_lowercase(),
            role: ServiceRole::Admin,
            invited_by: session.author(),
            invited_at: now,
        }],
        versions: Vec::new(),
    };
    state.portal.put_partner_service(&service, now.0).await?;
    let event = StepEvent::registry_change(now, &session.author(), ActorRef::ServiceProvider(&sp.id), "added");
    state.tracer.emit(event).await?;
    Ok(Ok((id, secret)))
}

/// Makes a new secret for a service's sandbox client, or its production client (the old one
/// stops at once on this node, within the registry cache's lifetime on the others); the
/// secret, to show once.
#[tracing::instrument(skip_all)]
pub async fn renew_secret(
    state: &AppState,
    session: &PortalSession,
    id: &str,
    production: bool,
) -> Result<String, PageError> {
    let (service, role) = member_service(state, session, id).await?;
    if !role.configures() {
        return Err(PageError::Page(ErrorPage::RoleRequired));
    }
    let client_id = match (production, &service.production_client_id) {
        (false, _) => SpId::new(&service.sandbox_client_id),
        (true, Some(client_id)) => SpId::new(client_id),
        (true, None) => return Err(PageError::Page(ErrorPage::NotFound)),
    };
    let mut sp = state.registry.service_provider(&client_id).await?.ok_or(PageError::Page(ErrorPage::NotFound))?;
    let secret = random_token();
    let digest = SecretDigest::of(client_id.as_str(), &Secret::new(secret.clone()));
    sp.authentication = relais_domain::providers::ClientAuthentication::SecretBasic(digest);
    let now = state.clock.now();
    state.registry_writer.put_service_provider(Put { actor: &sp, source: Source::Registered, at: now.0 }).await?;
    let event = StepEvent::registry_change(now, &session.author(), ActorRef::ServiceProvider(&sp.id), "secret_renewed");
    state.tracer.emit(event).await?;
    Ok(secret)
}

/// The QR code of `address`, as an SVG document (dark on light, with its quiet zone).
pub fn qr_svg(address: &str) -> Result<String, PageError> {
    let code = qrcode::QrCode::new(address.as_bytes()).map_err(|_| PageError::Page(ErrorPage::BadRequest))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// The QR code of `address`, as a PNG image (8 pixels a module, 4 modules of quiet zone).
pub fn qr_png(address: &str) -> Result<Vec<u8>, PageError> {
    const SCALE: usize = 8;
    const QUIET: usize = 4;
    let code = qrcode::QrCode::new(address.as_bytes()).map_err(|_| PageError::Page(ErrorPage::BadRequest))?;
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (x, y) = (index % width + QUIET, index / width + QUIET);
        for row in y * SCALE..(y + 1) * SCALE {
            pixels[row * side + x * SCALE..row * side + (x + 1) * SCALE].fill(0);
        }
    }
    let mut out = Vec::new();
    let failed = |_| PageError::Page(ErrorPage::BadRequest);
    {
        let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(failed)?;
        writer.write_image_data(&pixels).map_err(failed)?;
    }
    Ok(out)
}

/// The sample configurations of a sandbox client, for the common stacks: (title, text).
pub fn samples(issuer: &str, service: &PartnerService) -> Vec<(&'static str, String)> {
    let client_id = &service.sandbox_client_id;
    let settings = service.settings(Environment::Sandbox);
    let redirect = settings.redirect_uris.first().map(String::as_str).unwrap_or_default();
    let declaration = &service.declaration;
    let data = declaration.data.iter().map(|transfer| transfer.scope.as_str());
    let scope = std::iter::once("openid")
        .chain(declaration.claims.iter().map(String::as_str))
        .chain(data)
        .collect::<Vec<_>>()
        .join(" ");
    vec![
        (
            "Python (Authlib, Flask)",
            format!(
                "oauth.register(\n    name=\"relais\",\n    server_metadata_url=\"{issuer}/.well-known/openid-configuration\",\n    client_id=\"{client_id}\",\n    client_secret=os.environ[\"RELAIS_CLIENT_SECRET\"],\n    client_kwargs={{\"scope\": \"{scope}\", \"code_challenge_method\": \"S256\"}},\n)\n# redirect_uri: {redirect}"
            ),
        ),
        (
            "Node (openid-client)",
            format!(
                "import * as client from 'openid-client'\nconst config = await client.discovery(\n  new URL('{issuer}'),\n  '{client_id}',\n  undefined,\n  client.ClientSecretBasic(process.env.RELAIS_CLIENT_SECRET),\n)\n// scope: '{scope}', redirect_uri: '{redirect}', with PKCE (client.randomPKCECodeVerifier)"
            ),
        ),
        (
            "PHP (jumbojett/openid-connect-php)",
            format!(
                "$oidc = new Jumbojett\\OpenIDConnectClient('{issuer}', '{client_id}', getenv('RELAIS_CLIENT_SECRET'));\n$oidc->setRedirectURL('{redirect}');\n$oidc->addScope(explode(' ', '{scope}'));\n$oidc->setCodeChallengeMethod('S256');\n$oidc->authenticate();"
            ),
        ),
        (
            "Apache (mod_auth_openidc)",
            format!(
                "OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration\nOIDCClientID {client_id}\nOIDCClientSecret ${{RELAIS_CLIENT_SECRET}}\nOIDCRedirectURI {redirect}\nOIDCScope \"{scope}\"\nOIDCPKCEMethod S256\nOIDCCryptoPassphrase ${{A_LONG_RANDOM_PASSPHRASE}}"
            ),
        ),
    ]
}
