// Pointing at a sentence with a mouse (drag + floating button) and with a finger (tap).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openDemo, sentencePoints, widget, captureReport, assertSubmitted, assertCleanPage, screenshot, norm, TEST_TIMEOUT, note } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('mouse: dragging over a sentence shows the floating button, which opens the form', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const { log, body } = await openDemo(page);
  const w = widget(page);
  const target = body[0];

  const pts = await sentencePoints(page, target.text);
  await page.mouse.move(pts.start.x, pts.start.y);
  await page.mouse.down();
  await page.mouse.move(pts.end.x, pts.end.y, { steps: 12 });
  await page.mouse.up();
  await w.fab.waitFor({ state: 'visible' });
  assert.match(await w.fab.textContent(), /Signaler une erreur/);
  // The button sits next to the selection, inside the viewport.
  const box = await w.fab.boundingBox();
  assert.ok(box.y > pts.end.y - 60 && box.y < pts.end.y + 80, `button near the selection (${box.y} vs ${pts.end.y})`);
  assert.ok(box.x >= 0 && box.x + box.width <= 1280);
  await screenshot(page, 'widget-floating-button.png');

  await w.fab.click();
  await w.dialog.waitFor({ state: 'visible' });
  assert.equal(await w.fab.isVisible(), false, 'the floating button hides while the dialog is open');
  assert.equal(norm(await w.quote.textContent()), norm(target.text));
  await w.category.selectOption('outdated');
  await w.comment.fill(note('Les travaux ont duré vingt mois, pas dix-huit.'));
  const sent = await captureReport(page, () => w.submit.click());
  assert.equal(sent.body.sentence_id, target.id);
  assert.equal(sent.body.category, 'outdated');
  await assertSubmitted(page, sent);

  // Clicking elsewhere collapses the selection and the button goes away.
  await page.keyboard.press('Escape');
  await w.dialog.waitFor({ state: 'detached' });
  await page.mouse.click(5, 5);
  await w.fab.waitFor({ state: 'hidden' });
  await assertCleanPage(page, log);
  await context.close();
});

test('mouse: a partial selection is sent as a substring of the sentence with its sentence id', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const { log, body } = await openDemo(page);
  const w = widget(page);
  const target = body[1];
  const pts = await sentencePoints(page, target.text);
  await page.mouse.move(pts.middle.x, pts.middle.y);
  await page.mouse.down();
  await page.mouse.move(pts.end.x, pts.end.y, { steps: 8 });
  await page.mouse.up();
  await w.fab.waitFor({ state: 'visible' });
  await w.fab.click();
  await w.dialog.waitFor({ state: 'visible' });
  const quote = await w.quote.textContent();
  assert.ok(quote.length > 3 && quote.length < norm(target.text).length, 'partial quote');
  assert.ok(norm(target.text).endsWith(quote), 'quote is the tail of the sentence');
  await w.comment.fill(note('Fin de phrase inexacte.'));
  const sent = await captureReport(page, () => w.submit.click());
  assert.equal(sent.body.sentence_id, target.id);
  assert.equal(sent.body.quote.exact, quote);
  const head = norm(target.text).slice(0, norm(target.text).length - quote.length);
  const prefix = sent.body.quote.prefix;
  assert.ok(head.endsWith(prefix) || prefix.endsWith(head), `prefix ${JSON.stringify(prefix)} is the text just before the quote`);
  await assertSubmitted(page, sent);
  await assertCleanPage(page, log);
  await context.close();
});

test('touch: tapping a sentence selects it, the button opens the form, and it submits', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ hasTouch: true, isMobile: true, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  const page = await context.newPage();
  const { log, body } = await openDemo(page);
  const w = widget(page);
  const target = body[2];
  const pts = await sentencePoints(page, target.text);
  await page.touchscreen.tap(pts.middle.x, pts.middle.y);
  await w.fab.waitFor({ state: 'visible' });
  const selected = await page.evaluate(() => getSelection().toString());
  assert.equal(norm(selected), norm(target.text), 'the whole tapped sentence is selected');
  const box = await w.fab.boundingBox();
  assert.ok(box.height >= 44, 'touch target is at least 44px high');
  assert.ok(box.x >= 0 && box.x + box.width <= 390, 'button stays inside the narrow viewport');
  await screenshot(page, 'widget-touch-button.png');

  await w.fab.tap();
  await w.dialog.waitFor({ state: 'visible' });
  assert.equal(norm(await w.quote.textContent()), norm(target.text));
  const dbox = await w.dialog.boundingBox();
  assert.ok(dbox.width <= 390 && dbox.width >= 380, 'dialog takes the full width on a phone');
  await w.comment.tap();
  await w.comment.fill(note('Le montant a été réévalué à 52 millions.'));
  await screenshot(page, 'widget-dialog-mobile.png');
  const sent = await captureReport(page, () => w.submit.tap());
  assert.equal(sent.body.sentence_id, target.id);
  assert.equal(sent.body.quote.exact, norm(target.text));
  await assertSubmitted(page, sent);
  await assertCleanPage(page, log);
  await context.close();
});
