// An agent signs in to the demo back-office through the agent federation (`/agents`), in a
// real browser: the hub's e-mail page (French and English), a wrong address then theirs, the
// town hall's directory, back at the back-office with their organisation. A private contractor
// is refused by the back-office (public agents only). axe-core on every page.
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

test('an agent signs in to the back-office by e-mail, through their town hall directory', async () => {
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
  await page.getByRole('heading', { name: 'Vous êtes identifié' }).waitFor();
  const body = await page.locator('main').innerText();
  assert.match(body, /MOREAU/);
  assert.match(body, /21750001600019/);
  assert.match(body, /local_authority/);
  assert.match(body, /Commune de Démoville/i);
  await expectAccessible(page, 'back-office signed in');
  await page.context().close();
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
