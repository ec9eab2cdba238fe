// A person signs in to the demo service through a mock identity provider, in a real browser
// (Debian's Chromium driven by playwright-core), then signs out. Starts `relais demo` itself
// on free ports and waits for its "running" line: no fixed ports, no sleeps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { chromium } from 'playwright-core';

const RELAIS_BIN = process.env.RELAIS_BIN ?? '../../target/debug/relais';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// Eight consecutive free ports: the hub, the demo SP, three mock IdPs, three mock data providers.
async function freePortRange() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    let free = true;
    for (let port = base; port < base + 8 && free; port++) free = await portIsFree(port);
    if (free) return base;
  }
  throw new Error('no free port range');
}

let demo;
let browser;
let base;

before(async () => {
  base = await freePortRange();
  demo = spawn(RELAIS_BIN, ['demo', '--port', String(base)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let output = '';
    demo.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Relais demo is running.')) resolve();
    });
    demo.once('exit', (code) => reject(new Error(`relais demo exited with ${code}: ${output}`)));
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  demo?.kill();
});

test('a person signs in to the demo service through a mock IdP and signs out', async () => {
  const page = await browser.newPage();
  await page.goto(`http://localhost:${base + 1}/`);
  await page.getByLabel('Niveau de garantie demandé').selectOption('eidas2');
  await page.getByRole('button', { name: "S'identifier avec Relais" }).click();

  // The hub's choice page: only the IdPs reaching eidas2.
  await page.waitForURL(`http://localhost:${base}/**`);
  assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1);
  const offered = await page.getByRole('button', { name: /Se connecter avec/ }).allTextContents();
  assert.deepEqual(offered.map((s) => s.trim()), [
    'Se connecter avec Assurance maladie (démo)',
    'Se connecter avec Identité numérique (démo)',
  ]);
  await page.getByRole('button', { name: 'Se connecter avec Assurance maladie (démo)' }).click();

  // The mock IdP's own sign-in page.
  await page.waitForURL(`http://localhost:${base + 3}/**`);
  await page.getByRole('button', { name: /Se connecter en tant que .*Dubois/i }).click();

  // Back at the demo service, signed in.
  await page.waitForURL(`http://localhost:${base + 1}/`);
  await page.getByRole('heading', { name: 'Vous êtes identifié' }).waitFor();
  const body = await page.locator('main').innerText();
  assert.match(body, /eidas2/);
  assert.match(body, /1962-08-24/);
  assert.match(body, /75107/);

  await page.getByRole('button', { name: 'Se déconnecter' }).click();
  await page.waitForURL(`http://localhost:${base + 1}/deconnecte**`);
  await page.getByRole('heading', { level: 1 }).waitFor();

  // The hub session is over: signing in again shows the choice page.
  await page.goto(`http://localhost:${base + 1}/`);
  await page.getByRole('button', { name: "S'identifier avec Relais" }).click();
  await page.waitForURL(`http://localhost:${base}/**`);
  assert.equal(await page.getByRole('button', { name: /Se connecter avec/ }).count(), 3);
});

test('the family quotient procedure: consent clicked through, the price band shown, no document uploaded', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`http://localhost:${base + 1}/`);
  await page.getByRole('button', { name: 'Calculer mon tarif avec Relais' }).click();
  await page.waitForURL(`http://localhost:${base}/**`);
  await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await page.waitForURL(`http://localhost:${base + 2}/**`);
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();

  // The consent page: which data, from whom, to whom.
  await page.waitForURL(`http://localhost:${base}/consentement/**`);
  const consent = await page.locator('main').innerText();
  assert.match(consent, /Mairie de Démoville/);
  assert.match(consent, /Quotient familial/);
  assert.match(consent, /Caisse d'allocations familiales/);
  assert.equal(await page.getByRole('checkbox', { name: 'Quotient familial' }).isChecked(), true);
  await page.getByRole('button', { name: 'Transmettre les données cochées' }).click();

  await page.waitForURL(`http://localhost:${base + 1}/`);
  await page.getByRole('heading', { name: 'Votre tarif' }).waitFor();
  const result = await page.locator('main').innerText();
  assert.match(result, /742/);
  assert.match(result, /Tranche B/);
  assert.match(result, /Aucun justificatif/);
  await context.close();
});

test('refusing the transfer still signs the person in, without the data', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`http://localhost:${base + 1}/`);
  await page.getByRole('button', { name: 'Calculer mon tarif avec Relais' }).click();
  await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await page.waitForURL(`http://localhost:${base}/consentement/**`);
  await page.getByRole('button', { name: 'Refuser et continuer sans transmettre' }).click();
  await page.waitForURL(`http://localhost:${base + 1}/`);
  await page.getByRole('heading', { name: 'Vous êtes identifié' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Vous n'avez pas autorisé la transmission/);
  await context.close();
});

test('the person sees their history on their dashboard', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`http://localhost:${base}/tableau-de-bord`);
  await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await page.waitForURL(`http://localhost:${base}/tableau-de-bord`);
  await page.getByRole('heading', { name: 'Mon tableau de bord', level: 1 }).waitFor();
  const history = await page.getByRole('table').innerText();
  assert.match(history, /Mairie de Démoville/);
  assert.match(history, /Données transmises/);
  assert.match(history, /Quotient familial/);
  await context.close();
});
