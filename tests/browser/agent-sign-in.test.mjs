// An agent signs in to the demo back-office through the agent federation (`/agents`), in a
// real browser: the hub's e-mail page (French and English), a wrong address then theirs, the
// town hall's directory, back at the back-office with their organisation. A person files a
// canteen-price request at the town's site (no document), the agent instructs it (the family
// quotient from the CAF under the town's habilitation), and the person's dashboard names the
// town, the data and the legal basis. A private contractor is refused by the back-office
// (public agents only). axe-core on every page.
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

test('an agent signs in to the back-office by e-mail and instructs a request; the person sees the town looked', async () => {
  // A person files a canteen-price request at the town's site: no document asked.
  const citizen = await newPage(demo.browser);
  await citizen.goto(`http://localhost:${base + 1}/`);
  await citizen.getByRole('button', { name: 'Déposer ma demande avec Relais' }).click();
  await citizen.waitForURL(`http://localhost:${base}/**`);
  await citizen.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await citizen.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await citizen.waitForURL(`http://localhost:${base + 1}/`);
  await citizen.getByRole('heading', { name: /Votre demande n° CANT-\d{4} est déposée/ }).waitFor();
  const filed = await citizen.locator('main').innerText();
  const numero = filed.match(/CANT-\d{4}/)[0];
  assert.match(filed, /aucun justificatif/);
  assert.doesNotMatch(filed, /sealed:v1:/, 'the sealed reference is not shown');
  await expectAccessible(citizen, 'demo SP request filed');

  const page = await newPage(demo.browser);
  await page.goto(`http://localhost:${base + 8}/`);
  await page.getByRole('button', { name: "S'identifier avec Relais" }).click();

  // The hub's e-mail page, under the agent issuer.
  await page.waitForURL(`http://localhost:${base}/agents/**`);
  assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1);
  assert.match(await page.locator('main').innerText(), /Back-office de la mairie de Démoville/);
  await expectAccessible(page, 'agent e-mail page');

  // In English too.
  await page.getByRole('link', { name: /English/i }).click();
  await page.getByRole('heading', { name: 'I sign in with my professional address' }).waitFor();
  await expectAccessible(page, 'agent e-mail page, English');
  await page.getByRole('link', { name: /Français/i }).click();
  await page.getByRole('heading', { name: 'Je me connecte avec mon adresse professionnelle' }).waitFor();

  // A wrong address: the page says so, the field is marked.
  await page.getByLabel('Adresse électronique professionnelle').fill('jeanne.moreau');
  await page.getByRole('button', { name: 'Continuer' }).click();
  await page.getByText("Cette adresse électronique n'est pas valide").waitFor();
  assert.equal(await page.getByLabel('Adresse électronique professionnelle').getAttribute('aria-invalid'), 'true');
  await expectAccessible(page, 'agent e-mail page with an error');

  await page.getByLabel('Adresse électronique professionnelle').fill('jeanne.moreau@demoville.fr');
  await page.getByRole('button', { name: 'Continuer' }).click();

  // The town hall's directory (its own domain).
  await page.waitForURL(`http://localhost:${base + 10}/**`);
  await page.getByRole('button', { name: /Se connecter en tant que Jeanne MOREAU/ }).click();

  // Back at the back-office, with the agent's organisation from the registry.
  await page.waitForURL(`http://localhost:${base + 8}/`);
  await page.getByRole('heading', { name: 'Demandes de tarif de cantine' }).waitFor();
  const body = await page.locator('main').innerText();
  assert.match(body, /MOREAU/);
  assert.match(body, /21750001600019/);
  assert.match(body, /local_authority/);
  assert.match(body, /Commune de Démoville/i);
  const row = page.getByRole('row', { name: new RegExp(numero) });
  assert.match(await row.innerText(), /DUBOIS/);
  assert.match(await row.innerText(), /À instruire/);
  await expectAccessible(page, 'back-office signed in');

  // The agent instructs it: the family quotient comes from the CAF, the price band follows.
  await page.getByRole('button', { name: `Instruire la demande ${numero}` }).click();
  await page.waitForURL(`http://localhost:${base + 8}/`);
  const instructed = await page.getByRole('row', { name: new RegExp(numero) }).innerText();
  assert.match(instructed, /Instruite par Jeanne MOREAU : quotient familial \d+ €, Tranche [A-D]/);
  await expectAccessible(page, 'back-office request instructed');
  await page.context().close();

  // The person's dashboard: the town looked at her family quotient, under which text; no agent.
  await citizen.goto(`http://localhost:${base}/tableau-de-bord`);
  await citizen.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await citizen.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await citizen.waitForURL(`http://localhost:${base}/tableau-de-bord`);
  const accesses = citizen.getByRole('table', { name: /Données consultées par une administration/ });
  const seen = await accesses.innerText();
  assert.match(seen, /Commune de Démoville/);
  assert.match(seen, /Quotient familial/);
  assert.match(seen, /Caisse d'allocations familiales/);
  assert.match(seen, /Article L\. 114-8/);
  assert.doesNotMatch(await citizen.locator('main').innerText(), /MOREAU|Jeanne/, 'no agent named');
  await expectAccessible(citizen, 'dashboard with an administration access');
  await citizen.getByRole('link', { name: /English/i }).click();
  await citizen.getByRole('heading', { name: 'Administrations that looked at my data' }).waitFor();
  await expectAccessible(citizen, 'dashboard with an administration access, English');
  await citizen.context().close();
});

test('a private contractor is refused by the back-office for public agents, with a way back', async () => {
  const page = await newPage(demo.browser);
  await page.goto(`http://localhost:${base + 8}/`);
  await page.getByRole('button', { name: "S'identifier avec Relais" }).click();
  await page.waitForURL(`http://localhost:${base}/agents/**`);
  await page.getByLabel('Adresse électronique professionnelle').fill('lea.petit@prestataire.example');
  await page.getByRole('button', { name: 'Continuer' }).click();
  // No directory claims the domain: the State's, the default one.
  await page.waitForURL(`http://localhost:${base + 9}/**`);
  await page.getByRole('button', { name: /Se connecter en tant que Léa PETIT/ }).click();
  await page.getByRole('heading', { name: 'Service réservé aux agents publics' }).waitFor();
  await expectAccessible(page, 'agent not public page');
  await page.context().close();
});
