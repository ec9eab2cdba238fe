// A person signs in to the demo service through a mock identity provider, in a real browser
// (Debian's Chromium driven by playwright-core), consents, sees the dashboard, signs out. Every
// page on the way is checked with axe-core (zero violations) and must load without a
// Content-Security-Policy violation. Starts `relais demo` itself on free ports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, newPage, expectAccessible } from './lib/demo.mjs';

let demo;
let base;

before(async () => {
  demo = await startDemo();
  base = demo.base;
});

after(async () => {
  await demo?.stop();
});

test('a person signs in to the demo service through a mock IdP and signs out', async () => {
  const page = await newPage(demo.browser);
  await page.goto(`http://localhost:${base + 1}/`);
  await expectAccessible(page, 'demo SP home');
  await page.getByLabel('Niveau de garantie demandé').selectOption('eidas2');
  await page.getByRole('button', { name: "S'identifier avec Relais" }).click();

  // The hub's choice page: only the IdPs reaching eidas2.
  await page.waitForURL(`http://localhost:${base}/**`);
  assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1);
  assert.match(await page.locator('main').innerText(), /Relais vous permet d'accéder à Mairie de Démoville/);
  const offered = await page.getByRole('button', { name: /Se connecter avec/ }).allTextContents();
  assert.deepEqual(offered.map((s) => s.trim()), [
    'Se connecter avec Assurance maladie (démo)',
    'Se connecter avec Identité numérique (démo)',
  ]);
  await expectAccessible(page, 'choice page');
  await page.getByRole('button', { name: 'Se connecter avec Assurance maladie (démo)' }).click();

  // The mock IdP's own sign-in page.
  await page.waitForURL(`http://localhost:${base + 3}/**`);
  await expectAccessible(page, 'mock IdP sign-in page');
  await page.getByRole('button', { name: /Se connecter en tant que .*Dubois/i }).click();

  // Back at the demo service, signed in.
  await page.waitForURL(`http://localhost:${base + 1}/`);
  await page.getByRole('heading', { name: 'Vous êtes identifié' }).waitFor();
  await expectAccessible(page, 'demo SP signed in');
  const body = await page.locator('main').innerText();
  assert.match(body, /eidas2/);
  assert.match(body, /1962-08-24/);
  assert.match(body, /75107/);

  await page.getByRole('button', { name: 'Se déconnecter' }).click();
  await page.waitForURL(`http://localhost:${base + 1}/deconnecte**`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await expectAccessible(page, 'demo SP signed out');

  // The hub session is over: signing in again shows the choice page, the account used last
  // time on this browser first and marked.
  await page.goto(`http://localhost:${base + 1}/`);
  await page.getByRole('button', { name: "S'identifier avec Relais" }).click();
  await page.waitForURL(`http://localhost:${base}/**`);
  const again = await page.getByRole('button', { name: /Se connecter avec/ }).allTextContents();
  assert.deepEqual(again.map((s) => s.trim()), [
    'Se connecter avec Assurance maladie (démo)',
    'Se connecter avec Impôts (démo)',
    'Se connecter avec Identité numérique (démo)',
  ]);
  assert.match(await page.locator('main').innerText(), /Compte utilisé la dernière fois sur cet appareil/i);
  await expectAccessible(page, 'choice page with the last account used');
  const cookies = await page.context().cookies(`http://localhost:${base}`);
  const last = cookies.find((c) => c.name === 'relais_dernier_compte');
  assert.equal(last.value, 'ameli', 'the cookie holds the IdP id, no identity');
  assert.equal(last.httpOnly, true);
  assert.equal(last.sameSite, 'Lax');
  await page.context().close();
});

test('the family quotient procedure: consent clicked through, the price band shown, no document uploaded', async () => {
  const page = await newPage(demo.browser);
  await page.goto(`http://localhost:${base + 1}/`);
  await page.getByRole('button', { name: 'Calculer mon tarif avec Relais' }).click();
  await page.waitForURL(`http://localhost:${base}/**`);
  await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await page.waitForURL(`http://localhost:${base + 2}/**`);
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();

  // The consent page: which data, from whom, to whom, and what refusing means.
  await page.waitForURL(`http://localhost:${base}/consentement/**`);
  const consent = await page.locator('main').innerText();
  assert.match(consent, /Mairie de Démoville/);
  assert.match(consent, /Quotient familial/);
  assert.match(consent, /Caisse d'allocations familiales/);
  assert.match(consent, /Si vous refusez/);
  assert.match(consent, /Rien n'est coché d'avance/);
  // Nothing is ticked until the person ticks it (GDPR art. 4(11): a pre-ticked box is no consent).
  for (const box of await page.getByRole('checkbox').all()) assert.equal(await box.isChecked(), false);
  await expectAccessible(page, 'consent page');
  await page.locator('label', { hasText: 'Quotient familial' }).click();
  assert.equal(await page.getByRole('checkbox', { name: 'Quotient familial' }).isChecked(), true);
  await page.getByRole('button', { name: 'Transmettre les données cochées' }).click();

  await page.waitForURL(`http://localhost:${base + 1}/`);
  await page.getByRole('heading', { name: 'Votre tarif' }).waitFor();
  await expectAccessible(page, 'demo SP with the price band');
  const result = await page.locator('main').innerText();
  assert.match(result, /742/);
  assert.match(result, /Tranche B/);
  assert.match(result, /Aucun justificatif/);
  await page.context().close();
});

test('refusing the transfer still signs the person in, without the data', async () => {
  const page = await newPage(demo.browser);
  await page.goto(`http://localhost:${base + 1}/`);
  await page.getByRole('button', { name: 'Calculer mon tarif avec Relais' }).click();
  await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await page.waitForURL(`http://localhost:${base}/consentement/**`);
  await page.getByRole('button', { name: 'Refuser et continuer sans transmettre' }).click();
  await page.waitForURL(`http://localhost:${base + 1}/`);
  await page.getByRole('heading', { name: 'Vous êtes identifié' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Vous n'avez pas autorisé la transmission/);
  await expectAccessible(page, 'demo SP after a refused consent');
  await page.context().close();
});

test('the person sees their history on their dashboard, then leaves it', async () => {
  const page = await newPage(demo.browser);
  await page.goto(`http://localhost:${base}/tableau-de-bord`);
  await expectAccessible(page, 'choice page of the dashboard');
  await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await page.waitForURL(`http://localhost:${base}/tableau-de-bord`);
  await page.getByRole('heading', { name: 'Mon tableau de bord', level: 1 }).waitFor();
  const history = await page.getByRole('table').first().innerText();
  assert.match(history, /Mairie de Démoville/);
  assert.match(history, /Données transmises/);
  assert.match(history, /Quotient familial/);
  await expectAccessible(page, 'dashboard');
  await page.getByRole('button', { name: 'Quitter mon tableau de bord' }).click();
  await page.getByRole('heading', { name: 'Vous êtes déconnecté' }).waitFor();
  await expectAccessible(page, 'dashboard signed out');
  await page.context().close();
});
