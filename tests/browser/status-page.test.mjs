// The reader status page (/r/{token}) reached from the link given after a successful report.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openDemo, selectSentence, widget, captureReport, assertSubmitted, assertStatusPage, createReportViaApi, screenshot, BASE, TEST_TIMEOUT, note } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('status page: the link from the widget shows the reference and « received » wording', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  const page = await context.newPage();
  const { article, body } = await openDemo(page);
  const w = widget(page);
  await selectSentence(page, body[0].text);
  await page.keyboard.press('Control+Enter');
  await w.dialog.waitFor({ state: 'visible' });
  await w.comment.fill(note('Vérifions la page de suivi.'));
  const sent = await captureReport(page, () => w.submit.click());
  const { token, reference } = await assertSubmitted(page, sent);

  // Follow the link the reader gets (opens in a new tab).
  assert.equal(await w.statusLink.getAttribute('target'), '_blank');
  assert.match(await w.statusLink.getAttribute('rel'), /noopener/);
  const statusPage = await context.newPage();
  await assertStatusPage(statusPage, { token, reference, lang: article.language, status: 'received' });
  const text = await statusPage.locator('main').textContent();
  assert.match(text, /Nous avons bien reçu votre signalement/);
  assert.equal(await statusPage.locator('.steps [aria-current="step"]').textContent(), 'Reçu');
  assert.equal(await statusPage.locator('main a').first().textContent(), article.title);
  await screenshot(statusPage, 'status-received.png');
  await context.close();
});

test('status page: a report filed through the API has its own page; unknown tokens are 404', { timeout: TEST_TIMEOUT }, async () => {
  const report = await createReportViaApi();
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await assertStatusPage(page, { token: report.token, reference: report.reference, lang: report.article.language, status: 'received' });
  await screenshot(page, 'status-received-mobile.png');
  const res = await page.goto(`${BASE}/r/this-token-does-not-exist`);
  assert.equal(res.status(), 404);
  await context.close();
});
