// Server-side validation errors, rate limiting, retries and double submission.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openDemo, selectSentence, widget, focused, captureReport, assertSubmitted, assertCleanPage, screenshot, TEST_TIMEOUT, note } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const REPORTS = /\/api\/v1\/articles\/[^/]+\/reports$/;

async function openWithSentence(page, sentence) {
  await selectSentence(page, sentence.text);
  await page.keyboard.press('Control+Enter');
  await widget(page).dialog.waitFor({ state: 'visible' });
}

const liveText = page => page.evaluate(() => document.querySelector('erratum-widget').shadowRoot.querySelector('[aria-live]').textContent);

test('422: the server’s field error is shown next to the offending source and announced', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const { log, body } = await openDemo(page);
  const w = widget(page);
  await openWithSentence(page, body[0]);
  await w.comment.fill(note('La source ci-dessous le prouve.'));
  await w.sources.first().fill('https://www.example.org/ok');
  await w.addSource.click();
  assert.equal((await focused(page)).tag, 'input', 'a new source input gets focus');
  await w.sources.nth(1).fill('javascript:alert(1)');

  const sent = await captureReport(page, () => w.submit.click());
  assert.equal(sent.status, 422);
  assert.deepEqual(sent.body.sources, ['https://www.example.org/ok', 'javascript:alert(1)']);
  const err = sent.response.errors.find(e => e.field === 'sources[1]');
  assert.ok(err, `server reports sources[1]: ${JSON.stringify(sent.response)}`);

  const bad = w.sources.nth(1);
  await page.waitForFunction(() => document.querySelector('erratum-widget').shadowRoot.querySelector('[aria-invalid="true"]'));
  assert.equal(await bad.getAttribute('aria-invalid'), 'true');
  assert.equal(await w.sources.first().getAttribute('aria-invalid'), null, 'the valid source is not flagged');
  const errId = await bad.getAttribute('aria-describedby');
  const errEl = page.locator(`dialog.dlg #${errId}`);
  assert.equal((await errEl.textContent()).trim(), err.message, 'message shown next to the field');
  // Next to it: the error sits in the same list item as the input.
  assert.ok(await bad.evaluate((input, id) => input.closest('li').querySelector(`#${id}`) !== null, errId));
  const f = await focused(page);
  assert.equal(f.tag, 'input');
  assert.equal(await bad.evaluate(el => el === el.getRootNode().activeElement), true, 'focus on the invalid field');
  await page.waitForFunction(m => document.querySelector('erratum-widget').shadowRoot.querySelector('[aria-live]').textContent.includes(m), err.message);
  assert.ok((await liveText(page)).includes(err.message), 'announced in the live region');
  await screenshot(page, 'widget-field-error.png');

  // Fixing it and resubmitting works; a new payload gets a new Idempotency-Key.
  await bad.fill('https://www.example.org/source-2');
  const ok = await captureReport(page, () => w.submit.click());
  assert.notEqual(ok.headers['idempotency-key'], sent.headers['idempotency-key']);
  await assertSubmitted(page, ok);
  await assertCleanPage(page, log);
  await context.close();
});

test('429: rate limiting tells the reader when to try again', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { log, body } = await openDemo(page);
  const w = widget(page);
  // Provoking the real limiter would lock this IP out for the other tests: answer for the server instead.
  await page.route(REPORTS, route => route.fulfill({
    status: 429,
    headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '120', 'Access-Control-Expose-Headers': 'Retry-After' },
    body: JSON.stringify({ type: 'urn:erratum:problem:rate_limited', title: 'Too Many Requests', status: 429, detail: 'Trop de signalements.' }),
  }));
  await openWithSentence(page, body[1]);
  await w.comment.fill(note('Test de limitation.'));
  await w.submit.click();
  await w.general.waitFor({ state: 'visible' });
  assert.match(await w.general.textContent(), /Réessayez dans 2 minutes/);
  await page.waitForFunction(() => document.querySelector('erratum-widget').shadowRoot.querySelector('[aria-live]').textContent.includes('Réessayez'));
  assert.equal(await w.submit.isDisabled(), false, 'the reader can try again later');
  await assertCleanPage(page, log);
  await context.close();
});

test('500: other errors show a generic message with the problem detail', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { log, body } = await openDemo(page);
  const w = widget(page);
  await page.route(REPORTS, route => route.fulfill({
    status: 503, headers: { 'Content-Type': 'application/problem+json' },
    body: JSON.stringify({ type: 'urn:erratum:problem:unavailable', title: 'Service Unavailable', status: 503, detail: 'Maintenance en cours.' }),
  }));
  await openWithSentence(page, body[1]);
  await w.comment.fill(note('Test erreur serveur.'));
  await w.submit.click();
  await w.general.waitFor({ state: 'visible' });
  assert.match(await w.general.textContent(), /n’a pas pu être envoyé.*Maintenance en cours\./);
  await assertCleanPage(page, log);
  await context.close();
});

test('retry after a network failure reuses the Idempotency-Key; a double click sends once', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { log, body } = await openDemo(page);
  const w = widget(page);
  const keys = [];
  let attempt = 0;
  await page.route(REPORTS, async route => {
    keys.push(route.request().headers()['idempotency-key']);
    attempt++;
    if (attempt === 1) return route.abort('connectionreset');
    await new Promise(r => setTimeout(r, 600)); // slow server: leaves room for a second click
    return route.continue();
  });
  await openWithSentence(page, body[2]);
  await w.comment.fill(note('Le montant est erroné.'));
  await w.submit.click();
  await w.general.waitFor({ state: 'visible' });
  assert.match(await w.general.textContent(), /Connexion impossible/);

  const response = page.waitForResponse(r => REPORTS.test(r.url()) && r.request().method() === 'POST');
  await w.submit.dblclick();
  assert.equal(await w.submit.isDisabled(), true, 'submit is disabled while sending');
  assert.equal(await page.locator('dialog.dlg form').getAttribute('aria-busy'), 'true');
  const resp = await response;
  await w.reference.waitFor();
  await page.waitForTimeout(300);
  assert.equal(keys.length, 2, `one retry request despite the double click (got ${keys.length} attempts)`);
  assert.equal(keys[0], keys[1], 'the retry reuses the same Idempotency-Key');
  assert.ok([200, 201].includes(resp.status()));
  await assertCleanPage(page, log);
  await context.close();
});

test('consent: the email is sent only with « Me prévenir du résultat »; the honeypot stays empty and hidden', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { log, body } = await openDemo(page);
  const w = widget(page);
  await openWithSentence(page, body[0]);

  const hp = w.honeypot;
  assert.equal(await hp.getAttribute('tabindex'), '-1');
  assert.equal(await hp.getAttribute('autocomplete'), 'off');
  assert.equal(await hp.evaluate(el => el.closest('[aria-hidden="true"]') !== null), true);
  assert.equal(await hp.evaluate(el => {
    const box = el.closest('[aria-hidden="true"]'), r = box.getBoundingClientRect();
    return r.width <= 1 && r.height <= 1 && getComputedStyle(box).overflow === 'hidden';
  }), true, 'visually hidden');

  await w.comment.fill(note('Sans consentement.'));
  await w.email.fill('lectrice@example.org');
  let sent = await captureReport(page, () => w.submit.click());
  assert.equal(sent.body.reporter, undefined, 'email without consent is not sent');
  assert.equal(sent.body.website, '');
  await assertSubmitted(page, sent);
  await page.keyboard.press('Escape');
  await w.dialog.waitFor({ state: 'detached' });

  await openWithSentence(page, body[1]);
  await w.comment.fill(note('Avec consentement.'));
  await w.notify.check();
  await w.submit.click();
  // Consent without an address is a client-side error on the email field.
  await page.locator('dialog.dlg #er-err-reporter\\.email').waitFor({ state: 'visible' });
  assert.equal(await w.email.getAttribute('aria-invalid'), 'true');
  await w.email.fill('lectrice@example.org');
  sent = await captureReport(page, () => w.submit.click());
  assert.deepEqual(sent.body.reporter, { email: 'lectrice@example.org', notify: true });
  await assertSubmitted(page, sent);
  await assertCleanPage(page, log);
  await context.close();
});
