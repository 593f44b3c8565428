// What readers already know: a corrected sentence is marked and shows its correction by mouse,
// keyboard and tap, and a new report on it first shows the correction; "me too" on an open case
// by keyboard only; the status link is copied; a stale field error clears as soon as the field
// is valid. Screenshots of the marked article and of the status page.
//
// Open-case marks are off by default, so this suite starts its own server with
// reader.mark_open_cases = true (the shared server keeps the defaults the other suites expect).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { launch, instrument, screenshot, norm, TEST_TIMEOUT } from './helpers.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'target/debug/erratum');
const NOTE = 'Correction : la frappe a eu lieu le 4 octobre.';
let browser, server, work, BASE, EXTERNAL, BODY;
const EDITOR = { email: 'known@erratum.test', password: randomBytes(18).toString('base64url') };

const freePort = () => new Promise(r => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
const json = async (url, init = {}) => { const res = await fetch(url, init); return { status: res.status, body: await res.json().catch(() => null), headers: res.headers }; };

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'erratum-known-'));
  const port = await freePort();
  BASE = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    ERRATUM__SERVER__HOST: '127.0.0.1', ERRATUM__SERVER__PORT: String(port), ERRATUM__SERVER__PUBLIC_URL: BASE,
    ERRATUM__DATABASE__URL: `sqlite://${work}/erratum.db`, ERRATUM__DEMO__ENABLED: 'true',
    ERRATUM__READER__MARK_OPEN_CASES: 'true', ERRATUM__LOG__LEVEL: 'warn',
    ERRATUM__INTAKE__RATE_LIMIT__PER_IP_PER_MINUTE: '1000', ERRATUM__INTAKE__RATE_LIMIT__PER_IP_PER_DAY: '10000',
    ERRATUM__EMAIL__TRANSPORT: 'file',
  };
  server = spawn(BIN, ['serve'], { cwd: work, env, stdio: 'ignore' });
  for (let i = 0; i < 120; i++) {
    const ok = await fetch(`${BASE}/health/ready`).then(r => r.ok, () => false);
    if (ok) break;
    await new Promise(r => setTimeout(r, 250));
  }
  execFileSync(BIN, ['editor', 'add', '--email', EDITOR.email, '--name', 'Known', '--role', 'editor', '--language', 'fr'],
    { cwd: work, env: { ...env, ERRATUM__DATABASE__URL: `sqlite://${work}/erratum.db` }, input: `${EDITOR.password}\n` });
  const html = await (await fetch(`${BASE}/demo`)).text();
  EXTERNAL = /data-article="([^"]+)"/.exec(html)[1];
  const { body: article } = await json(`${BASE}/api/v1/articles/${EXTERNAL}`);
  BODY = article.sentences.filter(s => s.paragraph > 0);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function report(sentence, comment) {
  const { status, body } = await json(`${BASE}/api/v1/articles/${EXTERNAL}/reports`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': randomUUID() },
    body: JSON.stringify({ sentence_id: sentence.id, quote: { exact: norm(sentence.text) }, category: 'factual_error', comment }),
  });
  assert.equal(status, 201, JSON.stringify(body));
  return body;
}

// Corrects a sentence through the JSON API as an editor.
async function correct(sentence) {
  const filed = await report(sentence, 'La date est fausse.');
  const login = await fetch(`${BASE}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(EDITOR) });
  assert.equal(login.status, 200);
  const { csrf_token } = await login.json();
  const cookie = login.headers.getSetCookie().map(c => c.split(';')[0]).join('; ');
  const res = await fetch(`${BASE}/api/v1/cases/${filed.case_id}/resolve`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrf_token },
    body: JSON.stringify({ resolution: 'corrected', public_note: NOTE }),
  });
  assert.equal(res.status, 200, await res.text());
}

// No CSP violation, no page error, and every request to this suite's own server.
async function assertCleanPage(page, log) {
  assert.deepEqual(await page.evaluate(() => window.__cspViolations || []), [], 'no securitypolicyviolation events');
  assert.deepEqual(log.errors, [], 'no uncaught page errors');
  const foreign = log.requests.filter(u => !/^(data|blob):/.test(u) && new URL(u).origin !== new URL(BASE).origin);
  assert.deepEqual(foreign, [], `every request goes to ${BASE}`);
}

async function openArticle(context) {
  const page = await context.newPage();
  const log = await instrument(page);
  await page.goto(`${BASE}/demo`);
  await page.locator('erratum-widget[data-state="ready"]').waitFor({ state: 'attached' });
  return { page, log };
}

const marked = (page, s) => page.locator('erratum-mark[tabindex="0"]').filter({ hasText: norm(s.text).slice(0, 30) });
const tip = page => page.locator('erratum-widget .tip');
const dialog = page => page.locator('dialog.dlg');

function focused(page) {
  return page.evaluate(() => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a && { tag: a.localName, name: a.getAttribute('name'), text: a.textContent.trim().slice(0, 80) };
  });
}

test('a corrected sentence is marked; mouse, keyboard and tap show the correction; a new report shows it first', { timeout: TEST_TIMEOUT }, async () => {
  const target = BODY[3];
  await correct(target);
  const { body: known } = await json(`${BASE}/api/v1/articles/${EXTERNAL}/known`);
  assert.ok(known.sentences.some(k => k.sentence_id === target.id && k.correction.text === NOTE));

  // Mouse: hovering the marked sentence shows the correction.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
  const { page, log } = await openArticle(context);
  const mark = marked(page, target);
  await mark.waitFor();
  assert.equal(norm(await page.locator('erratum-mark').evaluateAll(ms => ms.map(m => m.textContent).join(''))).includes(norm(target.text)), true);
  await mark.scrollIntoViewIfNeeded();
  await mark.hover();
  await tip(page).waitFor({ state: 'visible' });
  assert.match(await tip(page).textContent(), /4 octobre/);
  assert.match(await tip(page).textContent(), /Correction du/);
  await screenshot(page, 'reader-known-marked.png');
  await page.mouse.move(5, 5);
  await tip(page).waitFor({ state: 'detached' });

  // Keyboard: focus shows it, Enter moves into it, its button opens the form anyway.
  await mark.focus();
  await tip(page).waitFor({ state: 'visible' });
  assert.equal(await mark.getAttribute('aria-expanded'), 'true');
  await page.keyboard.press('Enter');
  assert.match((await focused(page)).text, /Toujours faux/);
  await page.keyboard.press('Escape');
  await tip(page).waitFor({ state: 'detached' });

  // Selecting the sentence and pressing Ctrl+Enter shows the correction before the form.
  await mark.evaluate(m => { const r = document.createRange(); r.selectNodeContents(m); getSelection().removeAllRanges(); getSelection().addRange(r); });
  await page.keyboard.press('Control+Enter');
  await dialog(page).waitFor({ state: 'visible' });
  assert.match(await page.locator('dialog.dlg .known').textContent(), new RegExp(NOTE));
  assert.equal(await page.locator('dialog.dlg form').isVisible(), false, 'the form waits');
  await page.locator('dialog.dlg .known button', { hasText: 'Toujours faux' }).click();
  assert.equal(await page.locator('dialog.dlg form').isVisible(), true);
  assert.equal((await focused(page)).name, 'category');
  await assertCleanPage(page, log);
  await context.close();

  // Tap: on a touch screen a tap on the sentence shows the correction (instead of selecting it).
  const touch = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'fr-FR' });
  const t = await openArticle(touch);
  const m2 = marked(t.page, target);
  await m2.waitFor();
  await m2.scrollIntoViewIfNeeded();
  await m2.tap();
  await tip(t.page).waitFor({ state: 'visible' });
  assert.match(await tip(t.page).textContent(), new RegExp(NOTE));
  await screenshot(t.page, 'reader-known-tap.png');
  await touch.close();
});

test('me too on an open case, by keyboard only, with its own status link', { timeout: TEST_TIMEOUT }, async () => {
  const target = BODY[1];
  const first = await report(target, 'Le nom est mal écrit.');
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
  const { page, log } = await openArticle(context);
  await marked(page, target).waitFor();
  // Tab through the page until the open-case mark has focus.
  let f = null;
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    f = await focused(page);
    if (f.tag === 'erratum-mark' && norm(target.text).startsWith(norm(f.text).slice(0, 30))) break;
  }
  assert.equal(f.tag, 'erratum-mark', 'the marked sentence is reachable by Tab');
  await tip(page).waitFor({ state: 'visible' });
  assert.match(await tip(page).textContent(), /Déjà signalé/);
  await page.keyboard.press('Enter');            // into the popup, on "Moi aussi"
  assert.equal((await focused(page)).text, 'Moi aussi');
  await page.keyboard.press('Enter');            // the form, in "me too" mode
  await dialog(page).waitFor({ state: 'visible' });
  assert.equal((await focused(page)).name, 'comment', 'straight to the optional comment');
  await page.keyboard.type('Même erreur, vue aussi.');
  const [req] = await Promise.all([
    page.waitForRequest(r => r.method() === 'POST' && /\/reports$/.test(r.url())),
    page.keyboard.press('Control+Enter'),
  ]);
  const sent = JSON.parse(req.postData());
  assert.equal(sent.me_too, true);
  assert.equal(sent.sentence_id, target.id);
  const res = await (await req.response()).json();
  assert.equal(res.case_id, first.case_id, 'joined the open case');
  assert.notEqual(res.reference, first.reference);
  await page.locator('dialog.dlg .ref').waitFor();
  assert.equal(await page.locator('dialog.dlg input.url').inputValue(), res.status_url, 'its own status link, shown');
  await assertCleanPage(page, log);
  await context.close();
});

test('the status link is copied; the status page repeats the report with a timeline', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 900 }, locale: 'fr-FR', permissions: ['clipboard-read', 'clipboard-write'] });
  const { page, log } = await openArticle(context);
  const target = BODY[0];
  await page.evaluate(text => {
    const w = document.createTreeWalker(document.querySelector('article'), NodeFilter.SHOW_TEXT);
    for (let n; (n = w.nextNode());) {
      const i = n.data.indexOf(text.slice(0, 40));
      if (i < 0) continue;
      const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 40);
      getSelection().removeAllRanges(); getSelection().addRange(r); return;
    }
  }, norm(target.text));
  await page.keyboard.press('Control+Enter');
  await dialog(page).waitFor({ state: 'visible' });

  // A stale error clears as soon as the field is valid.
  await page.locator('dialog.dlg button[type="submit"]').click();
  const err = page.locator('dialog.dlg #er-err-comment');
  await err.waitFor({ state: 'visible' });
  assert.equal(await page.locator('dialog.dlg textarea[name="comment"]').getAttribute('aria-invalid'), 'true');
  const comment = `Le début de phrase est inexact ${randomUUID().slice(0, 8)}.`;
  await page.locator('dialog.dlg textarea[name="comment"]').fill(comment);
  await err.waitFor({ state: 'hidden' });
  assert.equal(await page.locator('dialog.dlg textarea[name="comment"]').getAttribute('aria-invalid'), null);

  // The context sent is cut at word boundaries.
  const [req] = await Promise.all([
    page.waitForRequest(r => r.method() === 'POST' && /\/reports$/.test(r.url())),
    page.locator('dialog.dlg button[type="submit"]').click(),
  ]);
  const sent = JSON.parse(req.postData());
  const full = norm(BODY.map(s => s.text).join(' ')), suffix = sent.quote.suffix || '';
  const rest = full.slice(full.indexOf(sent.quote.exact) + sent.quote.exact.length);
  assert.ok(suffix && rest.startsWith(suffix), `the suffix follows the quote: ${suffix}`);
  assert.ok(rest.length === suffix.length || rest[suffix.length] === ' ', `the suffix ends at a word boundary: ${suffix}|${rest.slice(suffix.length, suffix.length + 10)}`);
  const res = await (await req.response()).json();

  await page.locator('dialog.dlg button.copy').click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), res.status_url);

  // "Email me this link", by keyboard: a malformed address is said, a good one is sent.
  const mail = page.locator('dialog.dlg #er-mail-link');
  await mail.fill('pas une adresse');
  await mail.press('Tab');
  await page.keyboard.press('Enter');
  const said = page.locator('dialog.dlg .done p[role="status"]');
  await said.filter({ hasText: 'Adresse e-mail invalide.' }).waitFor({ timeout: 10_000 });
  await mail.fill('lectrice@example.org');
  const [sentMail] = await Promise.all([
    page.waitForResponse(r => r.request().method() === 'POST' && /\/reports\/status\/[^/]+\/email$/.test(r.url()), { timeout: 10_000 }),
    page.locator('dialog.dlg button.mail').click(),
  ]);
  assert.equal(sentMail.status(), 202);
  await said.filter({ hasText: 'E-mail envoyé.' }).waitFor({ timeout: 10_000 });
  await assertCleanPage(page, log);

  const status = await context.newPage();
  await status.goto(res.status_url);
  assert.equal((await status.locator('.yours .comment').textContent()).trim(), comment);
  assert.match(await status.locator('.yours .category').textContent(), /Erreur factuelle/);
  assert.equal(await status.locator('.timeline li').count(), 1);
  // status.js rewrote the UTC time in the reader's zone.
  const shown = await status.locator('.timeline time').textContent();
  assert.doesNotMatch(shown, /UTC/);
  await screenshot(status, 'reader-known-status.png');
  await context.close();
});
