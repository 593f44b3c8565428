// A reader language added by a catalog (Spanish, locales/es.toml): an article ingested with
// "language": "es" gets the widget in Spanish on a page that does not say its language to the
// widget (no data-lang, and a French <html lang>): the article's language wins. Then the report
// is filed and the status page reads in Spanish.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, instrument, widget, captureReport, assertCleanPage, screenshot, BASE, TEST_TIMEOUT, note } from './helpers.mjs';

const TOKEN = process.env.ERRATUM_TEST_INGEST_TOKEN;
const ID = `es-browser-${Date.now().toString(36)}`;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the widget opens in the article\'s language (Spanish)', { timeout: TEST_TIMEOUT, skip: !TOKEN && 'needs ERRATUM_TEST_INGEST_TOKEN (scripts/browser-tests sets it)' }, async () => {
  const put = await fetch(`${BASE}/api/v1/articles/${ID}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      url: `${BASE}/__lang-test/${ID}`,
      title: 'El puente de la ciudad',
      language: 'es',
      body_text: 'El puente costó cinco millones. Se inauguró en 1999.\n\nEl tráfico se duplicó desde entonces.',
    }),
  });
  assert.equal(put.status, 201, await put.text());

  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  // A same-origin newsroom page: French page language, no data-lang on the script.
  await context.route(`${BASE}/__lang-test/**`, route => route.fulfill({
    status: 200,
    contentType: 'text/html; charset=utf-8',
    headers: { 'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'" },
    body: `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Diario</title></head><body>
      <article><h1>El puente de la ciudad</h1><p>El puente costó cinco millones. Se inauguró en 1999.</p>
      <p>El tráfico se duplicó desde entonces.</p></article>
      <script src="/widget.js" data-article="${ID}" async></script></body></html>`,
  }));
  const page = await context.newPage();
  const log = await instrument(page);
  await page.goto(`${BASE}/__lang-test/${ID}`);
  await page.locator('erratum-widget[data-state="ready"]').waitFor({ state: 'attached' });
  assert.ok(log.requests.some(u => u.endsWith('/widget/strings/es.json')), 'Spanish strings fetched');
  const w = widget(page);
  assert.equal((await w.entry.textContent()).trim(), 'Informar de un error');

  await w.entry.click();
  await w.dialog.waitFor({ state: 'visible' });
  assert.equal(await w.dialog.getAttribute('lang'), 'es');
  const text = await w.dialog.textContent();
  assert.match(text, /¿Qué es incorrecto\?/);
  assert.match(text, /Error factual/);
  // Client-side checks speak Spanish too.
  await w.submit.click();
  assert.match(await w.dialog.textContent(), /Este campo es obligatorio\.|Elija la frase afectada\./);
  await screenshot(page, 'widget-es.png');

  await w.picker.selectOption({ index: 2 });
  await w.comment.fill(note('Costó seis millones.'));
  const sent = await captureReport(page, () => w.submit.click());
  assert.equal(sent.status, 201, JSON.stringify(sent.response));
  await w.reference.waitFor();
  assert.match(await page.locator('dialog.dlg .done').textContent(), /Aviso enviado.*Referencia: ERR-/s);

  const status = await page.goto(sent.response.status_url);
  assert.equal(status.status(), 200);
  assert.equal(await page.locator('html').getAttribute('lang'), 'es');
  assert.equal((await page.locator('h1').textContent()).trim(), 'Seguimiento de su aviso');
  await assertCleanPage(page, log);
  await context.close();
});
