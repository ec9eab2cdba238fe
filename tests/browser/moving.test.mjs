// "Je déménage" in Chromium: from the dashboard, the person declares a new address once,
// checked against the national address base, ticks two of the four administrations (nothing is
// ticked for them), and follows the deliveries on the dashboard. Keyboard only, then on a
// 320-pixel-wide screen; axe-core on every page. The notifications the two administrations
// received are verified again here with the `standardwebhooks` library of npm, independent of
// the hub's own code; the two others received nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { startDemo, newPage, expectAccessible, tabTo, checked } from './lib/demo.mjs';

let demo;

before(async () => {
  demo = await startDemo();
});

after(async () => {
  await demo?.stop();
  console.log(`axe-core: ${checked.length} page checks, ${checked.reduce((n, c) => n + c.violations, 0)} violations`);
});

// The demo's administrations, their receivers' ports after the hub's, and their secrets
// (public, as every secret of the demo: `demo-{id}` padded to 32 bytes).
const ADMINISTRATIONS = [
  { id: 'caf', name: "Caisse d'allocations familiales (démo)", offset: 15 },
  { id: 'impots', name: 'Centre des finances publiques (démo)', offset: 16 },
  { id: 'ameli', name: 'Assurance maladie (démo)', offset: 17 },
  { id: 'energie', name: "Fournisseur d'électricité (démo)", offset: 18 },
];
const secretOf = (id) => `whsec_${Buffer.from(`demo-demo-${id}`.padEnd(32)).toString('base64')}`;

async function received(offset) {
  const answer = await fetch(`http://127.0.0.1:${demo.base + offset}/webhooks`);
  assert.equal(answer.status, 200);
  return answer.json();
}

async function signInToDashboard(page) {
  await page.goto(`${demo.hub}/tableau-de-bord`);
  await page.getByRole('button', { name: 'Se connecter avec Impôts (démo)' }).click();
  await page.getByRole('button', { name: /Se connecter en tant que .*DUBOIS/i }).click();
  await page.getByRole('heading', { name: 'Mon tableau de bord', level: 1 }).waitFor();
}

test('a change of address to two administrations of four, by keyboard; the two verify it with standardwebhooks', async () => {
  const page = await newPage(demo.browser);
  await signInToDashboard(page);
  await expectAccessible(page, 'dashboard with the change of address');
  await tabTo(page, page.getByRole('link', { name: 'Je déménage' }));
  await page.getByRole('heading', { name: 'Je déménage', level: 1 }).waitFor();
  await expectAccessible(page, 'change of address');

  // A question the base cannot answer: said next to the field.
  await page.getByLabel('Votre nouvelle adresse').focus();
  await page.keyboard.type('Rue qui n existe pas');
  await page.keyboard.press('Enter');
  await page.getByText("Cette adresse n'a pas été trouvée dans la Base Adresse Nationale").waitFor();
  assert.equal(await page.getByLabel('Votre nouvelle adresse').getAttribute('aria-invalid'), 'true');
  await expectAccessible(page, 'change of address, not found');

  await page.getByLabel('Votre nouvelle adresse').fill('');
  await page.getByLabel('Votre nouvelle adresse').focus();
  await page.keyboard.type('8 bd du port cergy');
  await page.keyboard.press('Enter');
  await page.getByRole('group', { name: /Administrations à prévenir/ }).waitFor();
  await expectAccessible(page, 'change of address, candidates');
  for (const { name } of ADMINISTRATIONS) {
    assert.equal(await page.getByRole('checkbox', { name: new RegExp(name.replace(/[()]/g, '\\$&')) }).isChecked(), false,
      `${name}: nothing ticked for the person`);
  }
  // Sending without choosing anyone sends nothing, and says so.
  await page.getByText('8 Boulevard du Port 95000 Cergy', { exact: true }).click();
  await page.getByRole('button', { name: 'Transmettre ma nouvelle adresse' }).click();
  await page.getByText('Rien n\'a été envoyé : cochez au moins une administration à prévenir.').waitFor();
  await expectAccessible(page, 'change of address, no administration ticked');

  // By keyboard: the address, then two administrations, then the button.
  const address = page.getByRole('radio', { name: '8 Boulevard du Port 95000 Cergy' });
  await address.focus();
  await page.keyboard.press('Space');
  assert.equal(await address.isChecked(), true);
  for (const name of [/Caisse d'allocations familiales/, /Fournisseur d'électricité/]) {
    const box = page.getByRole('checkbox', { name });
    await box.focus();
    await page.keyboard.press('Space');
    assert.equal(await box.isChecked(), true);
  }
  await tabTo(page, page.getByRole('button', { name: 'Transmettre ma nouvelle adresse' }));
  await page.waitForURL(`${demo.hub}/tableau-de-bord#demenagements`);
  await page.getByText('Votre nouvelle adresse est transmise aux administrations choisies.').waitFor();

  // The demo's sender runs every second: the dashboard shows both deliveries as received.
  const table = page.getByRole('table', { name: /Les envois de votre nouvelle adresse/ });
  for (let attempt = 0; attempt < 50; attempt++) {
    const text = await table.innerText();
    if ((text.match(/reçu par l'administration/g) ?? []).length === 2) break;
    await page.waitForTimeout(200);
    await page.reload();
  }
  const text = await table.innerText();
  assert.equal((text.match(/reçu par l'administration/g) ?? []).length, 2, text);
  assert.match(text, /Caisse d'allocations familiales/);
  assert.match(text, /Fournisseur d'électricité/);
  await expectAccessible(page, 'dashboard with the deliveries');

  const subs = [];
  for (const { id, offset } of ADMINISTRATIONS) {
    const messages = await received(offset);
    if (id === 'impots' || id === 'ameli') {
      assert.deepEqual(messages, [], `${id} was not chosen`);
      continue;
    }
    assert.equal(messages.length, 1, `${id} received one notification`);
    const { body, ...headers } = messages[0];
    const verified = new Webhook(secretOf(id)).verify(body, headers);
    assert.equal(verified.type, 'address.changed');
    assert.equal(verified.data.address.label, '8 Boulevard du Port 95000 Cergy');
    assert.deepEqual(Object.keys(verified.data).sort(), ['address', 'sub']);
    subs.push(verified.data.sub);
    assert.throws(() => new Webhook(secretOf(id)).verify(body.replace('Cergy', 'Pontoise'), headers),
      'a tampered body does not verify');
    assert.throws(() => new Webhook(secretOf('impots')).verify(body, headers), 'another secret does not verify');
  }
  assert.notEqual(subs[0], subs[1], 'each administration knows the person by its own sub');
  await page.context().close();
});

test('the change of address on a 320-pixel-wide screen fits and passes axe', async () => {
  const page = await newPage(demo.browser, { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
  await signInToDashboard(page);
  await page.goto(`${demo.hub}/tableau-de-bord/demenagement`);
  await page.getByLabel('Votre nouvelle adresse').fill('12 rue de la mairie demoville');
  await page.getByRole('button', { name: "Rechercher l'adresse" }).click();
  await page.getByRole('radio', { name: '12 Rue de la Mairie 75002 Démoville' }).waitFor();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 320, `the change of address is ${width}px wide on a 320px screen`);
  await expectAccessible(page, 'change of address (320 px)');
  await page.context().close();
});
