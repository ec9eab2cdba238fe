// The pages people see, beyond the happy path in French: English (by the browser's language,
// by the SP's ui_locales, by the switch on the page), keyboard only, a 320-pixel-wide screen,
// no JavaScript, the error and logout pages. axe-core checks every page: zero violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, newPage, expectAccessible, tabTo, checked } from './lib/demo.mjs';

let demo;

before(async () => {
  demo = await startDemo();
});

after(async () => {
  await demo?.stop();
  console.log(`axe-core: ${checked.length} page checks, ${checked.reduce((n, c) => n + c.violations, 0)} violations`);
});

test('the whole sign-in with consent in English, by the browser language', async () => {
  const page = await newPage(demo.browser, { locale: 'en-GB' });
  await page.goto(`${demo.sp}/`);
  await page.getByRole('button', { name: 'Calculer mon tarif avec Relais' }).click();
  await page.waitForURL(`${demo.hub}/**`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.getByRole('heading', { name: 'I choose an account to sign in with', level: 1 }).waitFor();
  assert.match(await page.locator('main').innerText(), /Relais lets you access Mairie de Démoville/);
  await expectAccessible(page, 'choice page (en)');
  await page.getByRole('button', { name: 'Sign in with Impôts (démo)' }).click();
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();

  await page.waitForURL(`${demo.hub}/consentement/**`);
  await page.getByRole('heading', { name: 'Mairie de Démoville asks for data about you' }).waitFor();
  assert.match(await page.locator('main').innerText(), /If you refuse, you will still be signed in/);
  await expectAccessible(page, 'consent page (en)');
  await page.locator('label', { hasText: 'Quotient familial' }).click();
  await page.getByRole('button', { name: 'Share the ticked data' }).click();
  await page.waitForURL(`${demo.sp}/`);
  await page.getByRole('heading', { name: 'Votre tarif' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Tranche B/);

  // The dashboard in English too.
  await page.goto(`${demo.hub}/tableau-de-bord`);
  await page.getByRole('button', { name: 'Sign in with Impôts (démo)' }).click();
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await page.getByRole('heading', { name: 'My dashboard', level: 1 }).waitFor();
  assert.match(await page.getByRole('table').first().innerText(), /Data sent/);
  await expectAccessible(page, 'dashboard (en)');
  await page.context().close();
});

test("the SP's ui_locales picks English; the switch on the page goes back to French and stays", async () => {
  const page = await newPage(demo.browser, { locale: 'fr-FR' });
  await page.goto(`${demo.sp}/connexion?procedure=quotient&ui_locales=en`);
  await page.getByRole('heading', { name: 'I choose an account to sign in with' }).waitFor();

  await page.getByRole('link', { name: 'Français' }).click();
  await page.getByRole('heading', { name: 'Je choisis un compte pour me connecter' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
  await expectAccessible(page, 'choice page after the switch');
  const cookie = (await page.context().cookies(demo.hub)).find((c) => c.name === 'relais_lang');
  assert.equal(cookie.value, 'fr');
  assert.equal(cookie.httpOnly, true);

  // The person's choice wins over the SP's ui_locales from now on.
  await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await page.getByRole('heading', { name: 'Mairie de Démoville demande des données vous concernant' }).waitFor();
  await page.getByRole('link', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Mairie de Démoville asks for data about you' }).waitFor();
  await page.context().close();
});

test('keyboard only: Tab and Enter through the choice and consent pages', async () => {
  const page = await newPage(demo.browser);
  await page.goto(`${demo.sp}/`);
  await tabTo(page, page.getByRole('button', { name: 'Calculer mon tarif avec Relais' }).first());
  await page.waitForURL(`${demo.hub}/**`);

  // The first Tab reaches the skip link, which leads to the content.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Contenu');
  await tabTo(page, page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }));
  await page.waitForURL(`http://localhost:${demo.base + 2}/**`);
  await tabTo(page, page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }));

  await page.waitForURL(`${demo.hub}/consentement/**`);
  // Tick the family quotient with the space bar, leave the children unticked.
  const quotient = page.getByRole('checkbox', { name: /Quotient familial/ });
  const quotientHandle = await quotient.elementHandle();
  for (let i = 0; i < 40 && !(await quotientHandle.evaluate((e) => e === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await page.keyboard.press('Space');
  assert.equal(await quotient.isChecked(), true);
  assert.equal(await page.getByRole('checkbox', { name: /Enfants/ }).isChecked(), false);
  // Visible focus: the focused element has an outline.
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none');
  await tabTo(page, page.getByRole('button', { name: 'Transmettre les données cochées' }));
  await page.waitForURL(`${demo.sp}/`);
  await page.getByRole('heading', { name: 'Votre tarif' }).waitFor();
  const result = await page.locator('main').innerText();
  assert.match(result, /Tranche B/);
  assert.doesNotMatch(result, /Enfants à charge/);
  await page.context().close();
});

async function noHorizontalScroll(page, label) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 320, `${label} is ${width}px wide on a 320px screen`);
}

test('on a 320-pixel-wide screen: every page fits, and passes axe', async () => {
  const page = await newPage(demo.browser, { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
  await page.goto(`${demo.sp}/`);
  await noHorizontalScroll(page, 'demo SP home');
  await page.getByRole('button', { name: 'Calculer mon tarif avec Relais' }).first().click();
  await page.waitForURL(`${demo.hub}/**`);
  await noHorizontalScroll(page, 'choice page');
  await expectAccessible(page, 'choice page (320 px)');
  const button = await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).boundingBox();
  assert.ok(button.height >= 44 && button.width >= 250, `a large button: ${JSON.stringify(button)}`);
  await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await page.waitForURL(`${demo.hub}/consentement/**`);
  await noHorizontalScroll(page, 'consent page');
  await expectAccessible(page, 'consent page (320 px)');
  await page.getByRole('button', { name: 'Transmettre les données cochées' }).click();
  await page.waitForURL(`${demo.sp}/`);
  await page.goto(`${demo.hub}/tableau-de-bord`);
  await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await page.getByRole('heading', { name: 'Mon tableau de bord', level: 1 }).waitFor();
  await noHorizontalScroll(page, 'dashboard');
  // Every history entry is readable whole on the screen: no column cut off in a scrolled table.
  const entries = page.locator('ol.relais-historique > li');
  assert.ok((await entries.count()) >= 2, 'the sign-in and the refused transfers');
  for (const entry of await entries.all()) {
    assert.ok(await entry.isVisible());
    const box = await entry.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 320, `an entry within the screen: ${JSON.stringify(box)}`);
  }
  const all = await page.locator('ol.relais-historique').innerText();
  for (const text of ['Mairie de Démoville', 'Impôts (démo)', "Caisse d'allocations familiales (démo)", 'Quotient familial']) {
    assert.ok(all.includes(text), `${text} visible at 320 px`);
  }
  assert.equal(await page.locator('table').first().isVisible(), false, 'the table is for wider screens');
  await expectAccessible(page, 'dashboard (320 px)');
  await page.goto(`${demo.hub}/interaction/inconnu`);
  await noHorizontalScroll(page, 'error page');
  await expectAccessible(page, 'error page (320 px)');
  await page.context().close();
});

test('without JavaScript, the sign-in path works (forms and links only)', async () => {
  const page = await newPage(demo.browser, { javaScriptEnabled: false });
  await page.goto(`${demo.sp}/`);
  await page.getByRole('button', { name: 'Calculer mon tarif avec Relais' }).click();
  await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await page.waitForURL(`${demo.hub}/consentement/**`);
  await page.getByRole('link', { name: 'English' }).click();
  await page.locator('label', { hasText: 'Quotient familial' }).click();
  await page.getByRole('button', { name: 'Share the ticked data' }).click();
  await page.waitForURL(`${demo.sp}/`);
  await page.getByRole('heading', { name: 'Votre tarif' }).waitFor();
  await page.context().close();
});

test('the error pages: what to do next and a reference, no technical message', async () => {
  const page = await newPage(demo.browser);
  const cases = [
    [`${demo.hub}/authorize?client_id=inconnu&response_type=code`, 'Service inconnu', 400],
    [`${demo.hub}/interaction/expire`, 'Votre session a expiré', 400],
    [`${demo.hub}/consentement/expire`, 'Votre session a expiré', 400],
    [`${demo.hub}/nulle-part`, 'Page introuvable', 404],
  ];
  for (const [url, title, status] of cases) {
    const response = await page.goto(url);
    assert.equal(response.status(), status, url);
    await page.getByRole('heading', { name: title, level: 1 }).waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /Si vous contactez l'assistance, indiquez cette référence/);
    assert.match(await page.locator('#reference').innerText(), /^[0-9a-f]{32}$/);
    assert.doesNotMatch(text, /error|panic|stack|invalid_request/i);
    await expectAccessible(page, `error page: ${title}`);
  }
  // In English.
  await page.context().close();
  const en = await newPage(demo.browser, { locale: 'en' });
  await en.goto(`${demo.hub}/interaction/expire`);
  await en.getByRole('heading', { name: 'Your session has expired', level: 1 }).waitFor();
  assert.match(await en.locator('main').innerText(), /If you contact support, quote this reference/);
  await expectAccessible(en, 'error page (en)');
  await en.context().close();
});

test('the logout pages and the home page', async () => {
  const page = await newPage(demo.browser);
  await page.goto(`${demo.hub}/`);
  await expectAccessible(page, 'hub home');
  // The demo service's own error page (a mock page).
  await page.goto(`${demo.sp}/connexion?acr=inconnu`);
  await expectAccessible(page, 'demo SP error page');
  await page.goto(`${demo.sp}/`);
  await page.getByRole('button', { name: "S'identifier avec Relais" }).click();
  await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await page.getByRole('heading', { name: 'Vous êtes identifié' }).waitFor();
  // A logout request without an ID token hint: the hub asks before ending the session.
  await page.goto(`${demo.hub}/logout`);
  await page.getByRole('heading', { name: 'Voulez-vous vous déconnecter ?' }).waitFor();
  await expectAccessible(page, 'logout confirmation');
  await page.getByRole('button', { name: 'Me déconnecter' }).click();
  await page.getByRole('heading', { name: 'Vous êtes déconnecté', level: 1 }).waitFor();
  await expectAccessible(page, 'logged out');
  await page.context().close();
});

test('the data catalogue, from the hub home page, French and English, and on a phone', async () => {
  const page = await newPage(demo.browser);
  await page.goto(`${demo.hub}/`);
  await page.getByRole('link', { name: 'Catalogue des données' }).click();
  await page.getByRole('heading', { name: 'Catalogue des données', level: 1 }).waitFor();
  const text = await page.locator('main').innerText();
  assert.match(text, /Caisse d'allocations familiales/);
  assert.match(text, /Quotient familial/);
  assert.match(text, /Mairie de Démoville/);
  assert.match(text, /Tarification de la cantine scolaire/);
  await expectAccessible(page, 'catalogue');
  await page.getByRole('link', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Data catalogue', level: 1 }).waitFor();
  await expectAccessible(page, 'catalogue (en)');
  // A provider's page: who may ask, its limit, its API's operation from its OpenAPI description.
  await page.getByRole('link', { name: /Caisse d'allocations familiales \(démo\)'s page/ }).click();
  await page.getByRole('heading', { name: "Caisse d'allocations familiales (démo)", level: 1 }).waitFor();
  const provider = await page.locator('main').innerText();
  assert.match(provider, /Rate limit: 600 per minute/);
  assert.match(provider, /GET \/api\/quotient-familial/);
  await expectAccessible(page, 'catalogue provider (en)');
  await page.context().close();
  const phone = await newPage(demo.browser, { viewport: { width: 320, height: 640 } });
  await phone.goto(`${demo.hub}/catalogue`);
  await noHorizontalScroll(phone, 'catalogue');
  await expectAccessible(phone, 'catalogue (320 px)');
  await phone.goto(`${demo.hub}/catalogue/caf`);
  await noHorizontalScroll(phone, 'catalogue provider');
  await expectAccessible(phone, 'catalogue provider (320 px)');
  await phone.context().close();
});
