// The editors' own settings and the admin pages, in a real browser: an admin
// adds an account from the accounts page and edits it; its owner signs in, changes the
// password and makes, uses and revokes an API token from "My account";
// notification settings are saved; the failed-emails page renders. Every
// page under the strict CSP, with no script error. A screenshot of the
// account page for review.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, BASE, EDITOR, TEST_TIMEOUT, launch, instrument, assertCleanPage, screenshot, fetchJson, signIn, tag } from './editor-helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
  const page = await context.newPage();
  const log = await instrument(page);
  return { context, page, log };
}

const me = token => fetchJson(`${BASE}/api/v1/auth/me`, { headers: { Authorization: `Bearer ${token}` } });

test('an admin adds an account; its owner changes the password and makes, uses and revokes a token',
  { timeout: TEST_TIMEOUT }, async () => {
    const email = `${tag('acct')}@erratum.test`;
    const first = `premier mot de passe ${tag('p')}`;
    const second = `second mot de passe ${tag('q')}`;

    // The admin adds the account with the form on the accounts page.
    const admin = await newPage();
    await signIn(admin.page, ADMIN);
    await Promise.all([admin.page.waitForURL(`${BASE}/editor/admin/editors`), admin.page.click('nav a[href="/editor/admin/editors"]')]);
    await admin.page.fill('#f-email', email);
    await admin.page.fill('#f-name', 'Journaliste <i>de garde</i>');
    await admin.page.selectOption('#f-role', 'viewer');
    await admin.page.fill('#f-password', first);
    await Promise.all([admin.page.waitForURL(/done=editor_added/), admin.page.click('form[action="/editor/admin/editors"] button[type="submit"]')]);
    assert.match(await admin.page.locator('p.notice').textContent(), /Le compte a été créé/);
    const row = admin.page.locator('table.accounts tr', { hasText: email });
    assert.equal(await row.locator('td').first().textContent(), 'Journaliste <i>de garde</i>', 'the name is text');
    // …then edits it: its desk.
    await Promise.all([admin.page.waitForURL(/\/editor\/admin\/editors\/[0-9a-f-]+$/), row.locator('a.button').click()]);
    assert.equal(await admin.page.locator('#f-name').inputValue(), 'Journaliste <i>de garde</i>');
    await admin.page.fill('#f-desks', 'international');
    await Promise.all([admin.page.waitForURL(/done=editor_updated/), admin.page.click('form.grid-form button[type="submit"]')]);
    assert.match(await admin.page.locator('table.accounts tr', { hasText: email }).textContent(), /international/);
    // The failed-emails page renders for admins, with its counts.
    await Promise.all([admin.page.waitForURL(`${BASE}/editor/admin/outbox`), admin.page.click('nav a[href="/editor/admin/outbox"]')]);
    assert.equal(await admin.page.locator('h1').textContent(), 'Courriels en échec');
    assert.equal(await admin.page.locator('.outbox-counts li').count(), 4);
    await assertCleanPage(admin.page, admin.log);
    await admin.context.close();

    // Its owner signs in and opens "Mon compte".
    const { context, page, log } = await newPage();
    await signIn(page, { email, password: first });
    await Promise.all([page.waitForURL(`${BASE}/editor/settings/account`), page.click('a[href="/editor/settings/account"]')]);
    assert.equal(await page.locator('h1').textContent(), 'Mon compte');
    assert.equal(await page.locator('a[href="/editor/settings/account"]').getAttribute('aria-current'), 'page');

    // A wrong current password is shown next to its field.
    await page.fill('#p-current_password', 'pas le bon mot de passe');
    await page.fill('#p-new_password', second);
    await page.fill('#p-confirm_password', second);
    await page.click('form[action="/editor/settings/password"] button[type="submit"]');
    await page.waitForSelector('#p-current_password[aria-invalid="true"]');
    assert.match(await page.locator('[role="alert"]').first().textContent(), /Mot de passe actuel: n’est pas correct/);

    // The right one, typed with the keyboard alone, and Enter to send.
    await page.focus('#p-current_password');
    await page.keyboard.type(first);
    await page.keyboard.press('Tab');
    await page.keyboard.type(second);
    await page.keyboard.press('Tab');
    await page.keyboard.type(second);
    await Promise.all([page.waitForURL(/done=password_changed/), page.keyboard.press('Enter')]);
    assert.match(await page.locator('p.notice').textContent(), /Votre mot de passe a été changé/);

    // A token: shown once, works as a Bearer, then revoked from its row.
    await page.fill('#k-name', 'Import CMS');
    await page.fill('#k-expires_in_days', '7');
    await page.click('form[action="/editor/settings/tokens"] button[type="submit"]');
    const secret = await page.locator('#new-token').inputValue();
    assert.match(secret, /^ert_/);
    await screenshot(page, 'editor-account.png', { fullPage: true });
    const used = await me(secret);
    assert.equal(used.status, 200);
    assert.equal(used.body.editor.email, email);
    await page.goto(`${BASE}/editor/settings/account`);
    assert.equal(await page.locator('#new-token').count(), 0, 'shown only once');
    const tokenRow = page.locator('tr[data-token-id]', { hasText: 'Import CMS' });
    assert.match(await tokenRow.textContent(), /actif/);
    await Promise.all([page.waitForURL(/done=token_revoked/), tokenRow.locator('button').click()]);
    assert.match(await page.locator('tr[data-token-id]', { hasText: 'Import CMS' }).textContent(), /révoqué/);
    assert.equal((await me(secret)).status, 401);
    await assertCleanPage(page, log);
    await context.close();

    // The new password signs in; the old one no longer does.
    const login = (password) => fetchJson(`${BASE}/api/v1/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }),
    });
    assert.equal((await login(first)).status, 401);
    assert.equal((await login(second)).status, 200);
  });

test('an editor saves notification settings', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, log } = await newPage();
  await signIn(page, EDITOR);
  await Promise.all([page.waitForURL(`${BASE}/editor/settings/notifications`), page.click('a[href="/editor/settings/notifications"]')]);
  assert.equal(await page.locator('h1').textContent(), 'Réglages des notifications');
  const before = await page.locator('#n-assigned').inputValue();
  const other = before === 'daily' ? 'hourly' : 'daily';
  await page.selectOption('#n-assigned', other);
  await Promise.all([page.waitForURL(/done=prefs_saved/), page.click('form[action="/editor/settings/notifications"] button[type="submit"]')]);
  assert.match(await page.locator('p.notice').textContent(), /enregistrés/);
  assert.equal(await page.locator('#n-assigned').inputValue(), other, 'the choice is kept');
  // Put it back, so other suites see the defaults.
  await page.selectOption('#n-assigned', before);
  await Promise.all([page.waitForURL(/done=prefs_saved/), page.click('form[action="/editor/settings/notifications"] button[type="submit"]')]);
  assert.equal(await page.locator('#n-assigned').inputValue(), before);
  await assertCleanPage(page, log);
  await context.close();
});
