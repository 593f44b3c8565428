// Keyboard-only journey: Tab to the footer entry point, pick a sentence, fill, submit with Enter;
// focus is trapped in the dialog, Esc closes it and focus returns to the entry point.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openDemo, widget, focused, tabUntil, captureReport, assertSubmitted, assertCleanPage, screenshot, norm, TEST_TIMEOUT, note } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const isEntry = f => f.host === 'erratum-entry' && f.tag === 'button';

test('keyboard: entry point → sentence picker → submit, with focus trap and Esc', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const { log, article, body } = await openDemo(page);
  const w = widget(page);

  // Tab from the top of the page to the footer line, which is now a real button.
  const entry = await tabUntil(page, isEntry, 80);
  assert.match(entry.text, /Avez-vous trouvé une erreur/);
  await page.keyboard.press('Enter');
  await w.dialog.waitFor({ state: 'visible' });
  let f = await focused(page);
  assert.equal(f.name, 'sentence_id', 'focus moves into the dialog, on the sentence picker');

  // Esc closes and hands focus back to the entry point.
  await page.keyboard.press('Escape');
  await w.dialog.waitFor({ state: 'detached' });
  assert.ok(isEntry(await focused(page)), 'focus returned to the entry point');

  // Space opens it too (it is a button).
  await page.keyboard.press(' ');
  await w.dialog.waitFor({ state: 'visible' });

  // Picker: arrow keys on a closed <select> move through the options (placeholder first).
  const target = body[1];
  const steps = article.sentences.indexOf(article.sentences.find(s => s.id === target.id)) + 1;
  for (let i = 0; i < steps; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await w.picker.inputValue(), target.id);

  await page.keyboard.press('Tab');
  f = await focused(page);
  assert.equal(f.name, 'category');
  await page.keyboard.press('ArrowDown'); // factual_error → typo
  assert.equal(await w.category.inputValue(), 'typo');
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).name, 'comment');
  await page.keyboard.type(note('Il manque une espace insécable avant le point-virgule.'));
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).name, 'suggested_correction');

  // Focus trap: Tab past the last control wraps to the first, Shift+Tab wraps back.
  await tabUntil(page, x => x.type === 'submit', 20);
  await page.keyboard.press('Tab');
  f = await focused(page);
  assert.equal(f.host, 'erratum-widget', 'focus stays inside the dialog');
  assert.equal(f.cls, 'x', 'wraps to the close button');
  await page.keyboard.press('Shift+Tab');
  assert.equal((await focused(page)).type, 'submit');

  // Submitting with a client-side error focuses the field and announces it; nothing is sent.
  let posts = 0;
  page.on('request', r => { if (r.method() === 'POST') posts++; });
  await tabUntil(page, x => x.name === 'comment', 20, 'Shift+Tab');
  await page.keyboard.press('Control+a');
  await page.keyboard.press('Delete');
  await tabUntil(page, x => x.type === 'submit', 20);
  await page.keyboard.press('Enter');
  await page.locator('dialog.dlg #er-err-comment').waitFor({ state: 'visible' });
  assert.equal((await focused(page)).name, 'comment', 'first invalid field is focused');
  assert.equal(await w.comment.getAttribute('aria-invalid'), 'true');
  await page.waitForFunction(() => document.querySelector('erratum-widget').shadowRoot.querySelector('[aria-live]').textContent.length > 0);
  assert.match(await w.live.textContent(), /erreur/);
  assert.equal(posts, 0, 'client-side validation sends nothing');

  await page.keyboard.type(note('Il manque une espace insécable avant le point-virgule.'));
  await tabUntil(page, x => x.type === 'submit', 20);
  const sent = await captureReport(page, () => page.keyboard.press('Enter'));
  assert.equal(sent.body.sentence_id, target.id);
  assert.equal(sent.body.quote.exact, norm(target.text));
  assert.equal(sent.body.category, 'typo');
  await assertSubmitted(page, sent);
  assert.equal((await focused(page)).tag, 'h3', 'focus moves to the confirmation');
  await screenshot(page, 'widget-keyboard-success.png');

  await page.keyboard.press('Escape');
  await w.dialog.waitFor({ state: 'detached' });
  assert.ok(isEntry(await focused(page)), 'focus returned to the entry point after success');
  await assertCleanPage(page, log);
  await context.close();
});
