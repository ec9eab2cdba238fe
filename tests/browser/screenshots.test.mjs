// Screenshots of the main pages (choice, consent, dashboard, an error) at desktop and mobile
// width, for the README: `RELAIS_SCREENSHOTS=1 node --test screenshots.test.mjs` writes them
// to docs/screenshots/. Skipped otherwise.
import { test, before, after } from 'node:test';
import { mkdirSync } from 'node:fs';
import { startDemo, newPage } from './lib/demo.mjs';

const ENABLED = process.env.RELAIS_SCREENSHOTS === '1';
const OUT = new URL('../../docs/screenshots/', import.meta.url);
const SIZES = { desktop: { width: 1280, height: 800 }, mobile: { width: 375, height: 740 } };

let demo;

before(async () => {
  if (ENABLED) demo = await startDemo();
});

after(async () => {
  await demo?.stop();
});

test('screenshots of the main pages', { skip: !ENABLED && 'set RELAIS_SCREENSHOTS=1' }, async () => {
  mkdirSync(OUT, { recursive: true });
  for (const [size, viewport] of Object.entries(SIZES)) {
    const page = await newPage(demo.browser, { viewport, deviceScaleFactor: 1 });
    const shot = (name) => page.screenshot({ path: new URL(`${name}-${size}.png`, OUT).pathname, fullPage: true });
    await page.goto(`${demo.sp}/`);
    await page.getByRole('button', { name: 'Calculer mon tarif avec Relais' }).click();
    await page.waitForURL(`${demo.hub}/**`);
    await shot('choice');
    await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
    await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
    await page.waitForURL(`${demo.hub}/consentement/**`);
    await shot('consent');
    await page.locator('label', { hasText: 'Quotient familial' }).click();
    await page.getByRole('button', { name: 'Transmettre les données cochées' }).click();
    await page.waitForURL(`${demo.sp}/`);
    await page.goto(`${demo.hub}/tableau-de-bord`);
    await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
    await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
    await page.getByRole('heading', { name: 'Mon tableau de bord', level: 1 }).waitFor();
    await shot('dashboard');
    await page.goto(`${demo.hub}/interaction/expire`);
    await shot('error');
    await page.context().close();
  }
});
