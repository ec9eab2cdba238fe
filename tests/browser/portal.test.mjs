// The partner portal (issue 13), in a real browser, as a town-hall agent with no developer
// would: sign in to /partenaires by e-mail through the agent federation, declare the canteen
// service (an empty form first: every field named), copy the connect button into the town's
// static page (served by this test), scan its QR code (decoded with jsQR), and sign in through
// the sandbox client with that button: the town's page is a relying party played by panva's
// openid-client (npm). Then the production request from the canteen template, validated by the
// operator's instructor in another browser, and a sign-in in production. Another
// organisation's agent sees nothing of it. axe-core on every portal page, French and English;
// the screens and the time of the agent's actions are counted and printed. With
// RELAIS_SCREENSHOTS=1, the portal's five screens are written to docs/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync } from 'node:fs';
import * as client from 'openid-client';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { startDemo, newPage, expectAccessible } from './lib/demo.mjs';

const SHOTS = process.env.RELAIS_SCREENSHOTS === '1';
const OUT = new URL('../../docs/screenshots/', import.meta.url);

let demo;
let town;

/** The town's site: its sign-in page (the button pasted), the start of the sign-in and the return. */
function startTown() {
  const state = { button: '', config: null, pending: new Map() };
  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url, `http://localhost:${server.address().port}`);
    try {
      if (url.pathname === '/') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Cantine de Démoville</title></head>
          <body><main><h1>Cantine de Démoville</h1>${state.button}</main></body></html>`);
      } else if (url.pathname === '/connexion') {
        const verifier = client.randomPKCECodeVerifier();
        const nonce = client.randomNonce();
        const st = client.randomState();
        state.pending.set(st, { verifier, nonce });
        const target = client.buildAuthorizationUrl(state.config, {
          redirect_uri: `${url.origin}/retour`,
          scope: 'openid given_name family_name quotient_familial',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state: st,
          nonce,
        });
        response.writeHead(302, { location: target.href });
        response.end();
      } else if (url.pathname === '/retour') {
        const pending = state.pending.get(url.searchParams.get('state'));
        const tokens = await client.authorizationCodeGrant(state.config, url, {
          pkceCodeVerifier: pending.verifier,
          expectedNonce: pending.nonce,
          expectedState: url.searchParams.get('state'),
        });
        const claims = tokens.claims();
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Connecté</title></head>
          <body><main><h1>Bonjour ${claims.given_name} ${claims.family_name}</h1><p id="scope">${tokens.scope}</p></main></body></html>`);
      } else {
        response.writeHead(404);
        response.end();
      }
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, state, origin: `http://localhost:${server.address().port}` })));
}

before(async () => {
  demo = await startDemo();
  town = await startTown();
  if (SHOTS) mkdirSync(OUT, { recursive: true });
});

after(async () => {
  town?.server.close();
  await demo?.stop();
});

/** Signs `email` in to the portal from its first page (at the directory `directory`, as `who`). */
async function signIn(page, email, directory, who) {
  await page.goto(`${demo.hub}/partenaires`);
  await page.waitForURL(`${demo.hub}/agents/**`);
  await page.getByLabel('Adresse électronique professionnelle').fill(email);
  await page.getByRole('button', { name: 'Continuer' }).click();
  await page.waitForURL(`http://localhost:${demo.base + directory}/**`);
  await page.getByRole('button', { name: new RegExp(`Se connecter en tant que ${who}`) }).click();
  await page.waitForURL(`${demo.hub}/partenaires`);
}

/**
 * A person signs in from the town's page with the pasted button, at the IdP of the tax office,
 * and sends the family quotient; `idps`, when given, is how many IdPs the hub must offer.
 */
async function signInWithButton(person, idps) {
  await person.getByRole('link', { name: /S’identifier avec/ }).click();
  await person.waitForURL(`${demo.hub}/**`);
  if (idps !== undefined) {
    assert.equal(await person.getByRole('button', { name: /^Se connecter avec/ }).count(), idps, 'the IdPs offered');
  }
  await person.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await person.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await person.waitForURL(`${demo.hub}/consentement/**`);
  await person.getByText('Quotient familial').click();
  await person.getByRole('button', { name: 'Transmettre les données cochées' }).click();
  await person.waitForURL(`${town.origin}/retour**`);
  await person.getByRole('heading', { name: /Bonjour .*DUBOIS/i }).waitFor();
}

test('a town-hall agent declares the canteen, signs in through its sandbox client with the button pasted, and goes to production', async () => {
  const page = await newPage(demo.browser, { viewport: { width: 1280, height: 800 } });
  const screens = new Set();
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) screens.add(new URL(frame.url()).pathname);
  });
  const shot = async (name, on = page) =>
    SHOTS && on.screenshot({ path: new URL(`portal-${name}.png`, OUT).pathname, fullPage: true });
  const started = Date.now();

  await signIn(page, 'jeanne.moreau@demoville.fr', 10, 'Jeanne MOREAU');
  await page.getByRole('heading', { name: 'Espace partenaires', level: 1 }).waitFor();
  assert.match(await page.locator('main').innerText(), /Commune de Démoville|217500016/);
  await expectAccessible(page, 'portal home');
  await shot('1-home');

  await page.getByRole('link', { name: 'Déclarer un service' }).click();
  await page.getByRole('heading', { name: 'Déclarer un service', level: 1 }).waitFor();
  await expectAccessible(page, 'portal new service');
  await shot('2-form');
  // Sent empty: each field is named, the page says so first.
  await page.getByRole('button', { name: /Déclarer le service/ }).click();
  await page.getByRole('heading', { name: 'Le formulaire contient des erreurs' }).waitFor();
  assert.equal(await page.getByLabel(/Nom du service/).getAttribute('aria-invalid'), 'true');
  await expectAccessible(page, 'portal new service with errors');
  await shot('3-errors');

  await page.getByLabel(/Nom du service/).fill('Cantine de Démoville');
  await page.getByLabel(/Adresse du site/).fill(town.origin);
  await page.getByLabel(/Adresse de début de connexion/).fill(`${town.origin}/connexion`);
  await page.getByLabel(/Adresses de retour après connexion/).fill(`${town.origin}/retour`);
  // DSFR's checkboxes are drawn by their labels: a person clicks those.
  for (const name of ['claim-given_name', 'claim-family_name', 'data-caf-quotient_familial']) {
    await page.locator(`label[for="${name}"]`).click();
    assert.ok(await page.locator(`#${name}`).isChecked(), name);
  }
  await page.getByRole('button', { name: /Déclarer le service/ }).click();
  await page.getByRole('heading', { name: 'Cantine de Démoville', level: 1 }).waitFor();
  await expectAccessible(page, 'portal service with its secret');
  await shot('4-service');
  const secret = await page.locator('#secret').innerText();
  const clientId = await page.locator('#client-id').innerText();
  const issuer = await page.locator('#issuer').innerText();
  assert.match(clientId, /^bac-a-sable-/);
  assert.ok(secret.length >= 32);
  town.state.button = await page.locator('#bouton-fr').inputValue();
  assert.match(town.state.button, /S’identifier avec/);
  const qr = await page.evaluate(async (src) => (await fetch(src)).headers.get('content-type'), await page.getByRole('img', { name: /QR code/ }).getAttribute('src'));
  assert.equal(qr, 'image/svg+xml');
  await page.getByRole('link', { name: /English/i }).click();
  await page.getByRole('heading', { name: 'The sign-in button' }).waitFor();
  await expectAccessible(page, 'portal service, English');
  assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(secret), 'the secret is shown once');
  await page.getByRole('link', { name: /Français/i }).click();
  const agentTime = Date.now() - started;

  // The town's page, the button pasted as is: a person signs in with it at the sandbox.
  // As the portal's sample says: the sandbox client authenticates with client_secret_basic.
  town.state.config = await client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(secret), {
    execute: [client.allowInsecureRequests],
  });
  const person = await newPage(demo.browser);
  await person.goto(`${town.origin}/`);
  await shot('5-town-button', person);
  await signInWithButton(person);
  assert.match(await person.locator('#scope').innerText(), /quotient_familial/);
  await person.context().close();

  // The QR code, scanned: it leads to the town's sign-in start address.
  const qrSrc = await page.getByRole('img', { name: /QR code/ }).getAttribute('src');
  const png = await page.evaluate(async (src) => {
    const bytes = new Uint8Array(await (await fetch(src.replace('.svg', '.png'))).arrayBuffer());
    return btoa(String.fromCharCode(...bytes));
  }, qrSrc);
  const image = PNG.sync.read(Buffer.from(png, 'base64'));
  const scanned = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  assert.equal(scanned?.data, `${town.origin}/connexion`);

  // Production: the request from the canteen template, only the contacts to fill.
  const production = Date.now();
  await page.getByLabel(/Modèle de demande/).selectOption('cantine');
  await page.getByRole('button', { name: 'Demander la mise en production' }).click();
  await page.getByRole('heading', { name: /Demande de mise en production/, level: 1 }).waitFor();
  await expectAccessible(page, 'portal request, draft');
  for (const [contact, name, email] of [
    ['controller', 'Jeanne Moreau', 'jeanne.moreau@demoville.fr'],
    ['dpo', 'Délégué de Démoville', 'dpo@demoville.fr'],
    ['technical', 'Service informatique', 'informatique@demoville.fr'],
  ]) {
    await page.locator(`#${contact}_name`).fill(name);
    await page.locator(`#${contact}_email`).fill(email);
  }
  await page.getByRole('button', { name: 'Envoyer la demande' }).click();
  await page.getByText('Envoyée').first().waitFor();
  const requestUrl = page.url();
  const agentProduction = Date.now() - production;

  // The operator's instructor, in another browser, validates it from their queue.
  const instructor = await newPage(demo.browser, { viewport: { width: 1280, height: 800 } });
  await signIn(instructor, 'camille.martin@numerique.gouv.fr', 9, 'Camille MARTIN');
  await instructor.getByRole('link', { name: "Les demandes que j'instruis" }).click();
  await instructor.getByRole('heading', { name: 'Demandes à instruire', level: 1 }).waitFor();
  await expectAccessible(instructor, 'portal instruction queue');
  await instructor.getByRole('link', { name: 'Cantine de Démoville' }).click();
  assert.equal(instructor.url(), requestUrl);
  await expectAccessible(instructor, 'portal request, to decide');
  await instructor.getByRole('button', { name: 'Valider' }).click();
  await instructor.getByText('Validée').first().waitFor();
  await instructor.context().close();

  // The agent makes the production secret, and the town's page signs in in production.
  const live = Date.now();
  await page.reload();
  await page.getByText('Validée').first().waitFor();
  await page.getByRole('link', { name: 'Retour au service' }).click();
  await page.getByRole('button', { name: 'Générer le secret de production' }).click();
  const productionSecret = await page.locator('#secret-production').innerText();
  const productionId = await page.locator('#client-id-production').innerText();
  assert.match(productionId, /^svc-/);
  await expectAccessible(page, 'portal service in production');
  const agentLive = Date.now() - live;
  town.state.config = await client.discovery(new URL(issuer), productionId, undefined, client.ClientSecretBasic(productionSecret), {
    execute: [client.allowInsecureRequests],
  });
  const citizen = await newPage(demo.browser);
  await citizen.goto(`${town.origin}/`);
  await signInWithButton(citizen, 3);
  await citizen.context().close();

  const total = Math.round((agentTime + agentProduction + agentLive) / 1000);
  console.log(`# portal: ${screens.size} screens, ${total} s of the agent's actions, ${Math.round(agentTime / 1000)} s to the sandbox (${[...screens].join(' ')})`);
  await page.context().close();
});

test("an agent of another organisation sees nothing of the town's services", async () => {
  const page = await newPage(demo.browser);
  await signIn(page, 'camille.martin@numerique.gouv.fr', 9, 'Camille MARTIN');
  const main = await page.locator('main').innerText();
  assert.match(main, /Aucun service déclaré/);
  assert.doesNotMatch(main, /Cantine de Démoville/);
  await expectAccessible(page, 'portal home, another organisation');
  await page.getByRole('link', { name: /English/i }).click();
  await page.getByRole('heading', { name: 'Partner space', level: 1 }).waitFor();
  await expectAccessible(page, 'portal home, English');
  await page.context().close();
});
