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

// Five consecutive free ports: the hub, the demo SP and three mock IdPs.
async function freePortRange() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    let free = true;
    for (let port = base; port < base + 5 && free; port++) free = await portIsFree(port);
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
