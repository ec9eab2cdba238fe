// Shared by the browser tests: starts `relais demo` on free ports, launches Debian's Chromium
// through playwright-core (no test tool downloads a browser), and checks pages with axe-core.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const RELAIS_BIN = process.env.RELAIS_BIN ?? '../../target/debug/relais';
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// Nineteen consecutive free ports: the hub, the demo SP, three mock IdPs, three mock data
// providers, the agents' back-office, two agent directories, the organisation registry, the
// mock mail relay and its mailbox's page, the address base and four administrations.
async function freePortRange() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    let free = true;
    for (let port = base; port < base + 19 && free; port++) free = await portIsFree(port);
    if (free) return base;
  }
  throw new Error('no free port range');
}

/** Starts the demo and Chromium; returns { base, browser, stop }. */
export async function startDemo() {
  const base = await freePortRange();
  const demo = spawn(RELAIS_BIN, ['demo', '--port', String(base)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let output = '';
    demo.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Relais demo is running.')) resolve();
    });
    demo.once('exit', (code) => reject(new Error(`relais demo exited with ${code}: ${output}`)));
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    base,
    browser,
    hub: `http://localhost:${base}`,
    sp: `http://localhost:${base + 1}`,
    async stop() {
      await browser.close();
      demo.kill();
    },
  };
}

/**
 * A new page that records what must never happen: a Content-Security-Policy violation, a
 * script error, a failed request for one of our own files. `page.problems` lists them.
 */
export async function newPage(browser, options = {}) {
  // Chromium's own default is en-US: the people of these tests read French unless told.
  const context = await browser.newContext({ locale: 'fr-FR', ...options });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (message) => {
    // An error page's own status is reported as a failed load: the responses are checked below.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      page.problems.push(`console: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => page.problems.push(`script error: ${error.message}`));
  page.on('response', (response) => {
    if (response.url().includes('/static/') && response.status() !== 200) {
      page.problems.push(`${response.status()} ${response.url()}`);
    }
  });
  return page;
}

/** Every page checked with axe, for the report. */
export const checked = [];

/** Runs axe-core in the page (WCAG 2.x A and AA, best practices): zero violations allowed. */
export async function expectAccessible(page, label) {
  await page.waitForLoadState('load');
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  );
  const violations = results.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).join('\n    ')}`);
  checked.push({ label, url: page.url(), violations: violations.length });
  assert.deepEqual(violations, [], `axe-core violations on ${label} (${page.url()})`);
  assert.deepEqual(page.problems ?? [], [], `problems on ${label} (${page.url()})`);
}

/** Presses Tab until `locator` has the focus (as a keyboard user would), then Enter. */
export async function tabTo(page, locator, maxTabs = 60) {
  const target = await locator.elementHandle();
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((element) => element === document.activeElement)) {
      await page.keyboard.press('Enter');
      return i + 1;
    }
  }
  throw new Error(`could not reach ${locator} with Tab`);
}
