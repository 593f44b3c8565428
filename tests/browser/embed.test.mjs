// Embedding on a newsroom's own site: a page on another origin (served by the test itself),
// with its own strict CSP, looking the article up by URL, in English, with no footer line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, instrument, widget, focused, tabUntil, captureReport, fetchJson, screenshot, norm, BASE, ORIGIN, UUID_RE, TEST_TIMEOUT, note } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// Chromium blocks a public, non-secure page from calling a loopback server (Private Network
// Access), so when the server under test is local the host page gets the other loopback name.
const base = new URL(BASE);
const HOST = base.hostname === '127.0.0.1' ? `http://localhost:${base.port}`
  : base.hostname === 'localhost' ? `http://127.0.0.1:${base.port}` : 'http://newsroom.test';
const esc = s => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

test('cross-origin embed: data-url lookup, English UI, appended entry point, CORS submit', { timeout: TEST_TIMEOUT }, async () => {
  const demo = await (await fetch(`${BASE}/demo`)).text();
  const externalId = /data-article="([^"]+)"/.exec(demo)[1];
  const { body: article } = await fetchJson(`${BASE}/api/v1/articles/${encodeURIComponent(externalId)}`);
  const byPar = new Map();
  for (const s of article.sentences) byPar.set(s.paragraph, [...(byPar.get(s.paragraph) || []), s.text]);
  const paragraphs = [...byPar.entries()].filter(([p]) => p > 0).map(([, t]) => `<p>${esc(t.join(' '))}</p>`).join('\n');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Newsroom</title></head><body>
    <nav><a href="/">Home</a></nav>
    <main id="story"><h1>${esc(article.title)}</h1>${paragraphs}</main>
    <article><p>Unrelated teaser that is not the story.</p></article>
    <script src="${BASE}/widget.js" data-url="${esc(article.url)}" data-selector="#story" data-lang="en" async></script>
    </body></html>`;
  // The newsroom allows the Erratum origin, and nothing else, in its own CSP.
  const csp = `default-src 'none'; script-src ${ORIGIN}; style-src ${ORIGIN}; connect-src ${ORIGIN}; img-src 'self'`;

  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  // What a reader would grant at Chromium's prompt; irrelevant when the server under test is public.
  await context.grantPermissions(['local-network-access'], { origin: HOST }).catch(() => {});
  await context.route(`${HOST}/__embed-test/**`, route => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', headers: { 'Content-Security-Policy': csp }, body: html }));
  const page = await context.newPage();
  const log = await instrument(page);
  await page.goto(`${HOST}/__embed-test/2024/pont.html`);
  await page.locator('erratum-widget[data-state="ready"]').waitFor({ state: 'attached' });
  const w = widget(page);

  // No footer line on this page: the widget appended its own entry at the end of #story.
  assert.equal((await w.entry.textContent()).trim(), 'Report an error');
  assert.equal(await page.locator('#story > erratum-entry').count(), 1);

  await tabUntil(page, f => f.host === 'erratum-entry', 20);
  await page.keyboard.press('Enter');
  await w.dialog.waitFor({ state: 'visible' });
  assert.equal(await w.dialog.getAttribute('lang'), 'en');
  assert.match(await w.dialog.textContent(), /What is wrong\?/);
  const target = article.sentences.filter(s => s.paragraph > 0)[2];
  await w.picker.selectOption(target.id);
  await w.category.selectOption('translation');
  await w.comment.fill(note('Checking the cross-origin embed.'));
  const sent = await captureReport(page, () => w.submit.click());
  assert.ok([200, 201].includes(sent.status), `CORS POST accepted: ${JSON.stringify(sent.response)}`);
  assert.ok(sent.headers['idempotency-key'] && UUID_RE.test(sent.headers['idempotency-key']), 'Idempotency-Key is a UUID');
  assert.equal(sent.body.sentence_id, target.id);
  assert.equal(sent.body.quote.exact, norm(target.text));
  await w.reference.waitFor();
  assert.match(await page.locator('dialog.dlg .done').textContent(), /Report sent.*Reference: ERR-/s);
  await screenshot(page, 'widget-embed-en.png');

  const foreign = log.requests.filter(u => ![HOST, ORIGIN].includes(new URL(u).origin));
  assert.deepEqual(foreign, [], 'only the newsroom page and the Erratum origin are contacted');
  const violations = await page.evaluate(() => window.__cspViolations);
  assert.deepEqual(violations, [], 'no CSP violation under the newsroom CSP');
  assert.deepEqual(log.errors, []);
  await context.close();
});
