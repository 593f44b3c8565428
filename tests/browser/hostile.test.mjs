// A hostile host page (global resets, hidden buttons and dialogs, z-index wars, fixed divs)
// under the strict CSP: the widget must still open, be usable and submit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openDemo, selectSentence, widget, focused, captureReport, assertSubmitted, assertCleanPage, screenshot, norm, TEST_TIMEOUT, note } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('hostile CSS + strict CSP: the widget still opens, renders and submits', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const { log, body } = await openDemo(page, { hostile: true });
  const w = widget(page);

  // Make sure the nasty stylesheet really applies, otherwise this test proves nothing.
  assert.ok(log.requests.some(u => u.endsWith('/static/hostile.css')), 'hostile.css is linked');
  const hostile = await page.evaluate(() => ({
    bodyFont: getComputedStyle(document.body).fontSize,
    divPos: getComputedStyle(document.querySelector('div')).position,
  }));
  assert.equal(hostile.bodyFont, '48px');
  assert.equal(hostile.divPos, 'fixed');

  // The entry point survives `button { display: none !important }` and `* { all: unset !important }`.
  assert.equal(await w.entry.isVisible(), true, 'footer entry point still visible');
  const entryStyle = await w.entry.evaluate(el => getComputedStyle(el).fontSize);
  assert.notEqual(entryStyle, '48px', 'host font size does not leak into the widget');

  const target = body[1];
  await selectSentence(page, target.text);
  await page.keyboard.press('Control+Enter');
  await w.dialog.waitFor({ state: 'visible' });
  const box = await w.dialog.boundingBox();
  assert.ok(box.width > 300 && box.width <= 1280 && box.height > 200, `dialog has a sane size: ${JSON.stringify(box)}`);
  assert.ok(box.x >= 0 && box.y >= 0, 'dialog is on screen');
  const looks = await w.dialog.evaluate(d => {
    const cs = getComputedStyle(d), c = getComputedStyle(d.querySelector('textarea'));
    return { display: cs.display, bg: cs.backgroundColor, font: cs.fontSize, color: cs.color, taVisible: c.visibility, taWidth: c.width };
  });
  assert.equal(looks.display, 'block');
  assert.notEqual(looks.bg, 'rgba(0, 0, 0, 0)');
  assert.notEqual(looks.color, 'rgb(0, 255, 0)', 'host colour does not leak in');
  assert.notEqual(looks.font, '48px');
  assert.equal(looks.taVisible, 'visible');
  assert.equal(norm(await w.quote.textContent()), norm(target.text));
  // The dialog is really on top: the element at its centre belongs to the widget.
  const onTop = await page.evaluate(([x, y]) => document.elementFromPoint(x, y)?.localName, [box.x + box.width / 2, box.y + 40]);
  assert.equal(onTop, 'erratum-widget', 'nothing from the host page covers the dialog');
  await screenshot(page, 'widget-dialog-hostile.png');

  await w.category.selectOption('misleading');
  await w.comment.fill(note('Même sur une page hostile, le signalement part.'));
  const sent = await captureReport(page, () => w.submit.click());
  assert.equal(sent.body.sentence_id, target.id);
  await assertSubmitted(page, sent);
  await page.keyboard.press('Escape');
  await w.dialog.waitFor({ state: 'detached' });

  // Keyboard path through the footer entry also works here.
  await w.entry.focus();
  await page.keyboard.press('Enter');
  await w.dialog.waitFor({ state: 'visible' });
  assert.equal((await focused(page)).name, 'sentence_id');
  await page.keyboard.press('Escape');
  await w.dialog.waitFor({ state: 'detached' });
  assert.equal((await focused(page)).host, 'erratum-entry');

  await assertCleanPage(page, log);
  await context.close();
});
