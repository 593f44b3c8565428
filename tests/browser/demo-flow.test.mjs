// The main reader journey on /demo: select a sentence, Ctrl+Enter, fill the form, submit,
// then check the report really exists on the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openDemo, selectSentence, widget, captureReport, assertSubmitted, assertCleanPage, screenshot, norm, UUID_RE, TEST_TIMEOUT, note } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('demo: Ctrl+Enter on a selected sentence opens the form, submits, and the report exists', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
  const page = await context.newPage();
  const { log, body } = await openDemo(page);
  const w = widget(page);
  const target = body[1];

  // The footer line became the entry point.
  assert.match(await w.entry.textContent(), /Avez-vous trouvé une erreur ou une inexactitude/);

  assert.equal(norm(await selectSentence(page, target.text)), norm(target.text));
  await page.keyboard.press('Control+Enter');
  await w.dialog.waitFor({ state: 'visible' });
  assert.equal(await w.dialog.getAttribute('aria-modal'), 'true');
  const labelledBy = await w.dialog.getAttribute('aria-labelledby');
  assert.match(await page.locator(`dialog.dlg #${labelledBy}`).textContent(), /Signaler une erreur/);
  assert.equal(norm(await w.quote.textContent()), norm(target.text), 'the quoted sentence is shown');

  await w.category.selectOption('factual_error');
  await w.comment.fill(note('Le chiffre de fréquentation date de 2019 ; le département annonce 31 000 véhicules par jour.'));
  await w.correction.fill('Près de 31 000 véhicules l’empruntent chaque jour.');
  await w.sources.first().fill('https://www.example.org/trafic-2024');
  assert.match(await page.locator('dialog.dlg #er-count-comment').textContent(), /\/ 2000/);
  await page.waitForTimeout(250); // let the opening animation settle for the screenshot
  await screenshot(page, 'widget-dialog.png');

  const sent = await captureReport(page, () => w.submit.click());
  assert.equal(sent.body.sentence_id, target.id);
  assert.equal(sent.body.quote.exact, norm(target.text));
  assert.ok(!sent.body.quote.prefix || [...sent.body.quote.prefix].length <= 32);
  assert.ok(sent.body.quote.suffix && [...sent.body.quote.suffix].length <= 32, 'suffix taken from the following page text');
  assert.equal(sent.body.category, 'factual_error');
  assert.deepEqual(sent.body.sources, ['https://www.example.org/trafic-2024']);
  assert.equal(sent.body.website, '');
  assert.equal(sent.body.reporter, undefined);
  assert.match(sent.headers['idempotency-key'], UUID_RE);
  assert.match(sent.headers['content-type'], /^application\/json/);

  await assertSubmitted(page, sent);
  assert.ok((await page.locator('dialog.dlg .done .msg').textContent()).includes(sent.response.message));
  await screenshot(page, 'widget-success.png');
  await assertCleanPage(page, log);
  await context.close();
});

test('demo: selection mapping survives inline markup and messy whitespace in the page', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { log, body } = await openDemo(page);
  const w = widget(page);
  const target = body[2];
  // Rewrite the paragraph the way CMSes do: line breaks, double spaces, inline tags, soft hyphens.
  const words = norm(target.text).split(' ');
  const pick = words.reduce((best, x, i) => (i > 0 && x.length > words[best].length ? i : best), 1);
  await page.evaluate(([text, pick]) => {
    const words = text.split(' ');
    const p = [...document.querySelectorAll('article p')].find(x => x.textContent.replace(/\s+/g, ' ').includes(text));
    const before = p.textContent.replace(/\s+/g, ' ').split(text);
    p.replaceChildren(before[0], document.createElement('span'), before[1]);
    const span = p.children[0];
    span.append(words.slice(0, pick).join('\n   '), ' ');
    const em = document.createElement('em');
    const w = words[pick];
    em.append(w.length > 3 ? `${w.slice(0, 2)}\u00AD${w.slice(2)}` : w);
    span.append(em, '  ', words.slice(pick + 1).join('  '));
  }, [norm(target.text), pick]);
  const range = await page.evaluate(text => {
    const p = [...document.querySelectorAll('article p')].find(x => x.querySelector('em') && x.textContent.length);
    const span = p.querySelector('span');
    const r = document.createRange();
    r.selectNodeContents(span);
    getSelection().removeAllRanges();
    getSelection().addRange(r);
    return span.textContent;
  }, norm(target.text));
  assert.notEqual(range, target.text, 'the page text really differs from the API text');
  assert.match(range, /\u00AD/);
  await page.keyboard.press('Control+Enter');
  await w.dialog.waitFor({ state: 'visible' });
  assert.equal(await w.quote.textContent(), norm(target.text));
  await w.comment.fill(note('Test de robustesse du balisage.'));
  const sent = await captureReport(page, () => w.submit.click());
  assert.equal(sent.body.sentence_id, target.id);
  assert.equal(sent.body.quote.exact, norm(target.text));
  await assertSubmitted(page, sent);
  await assertCleanPage(page, log);
  await context.close();
});
