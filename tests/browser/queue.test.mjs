// Deciding from the queue (issue 13): each row shows what readers said (the
// newest comment, clipped and expandable in place, and a suggestion as a word
// diff of the sentence); a case is decided without opening it (read the
// comment preview, mark spam). Screenshot `queue-previews.png` for review.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TEST_TIMEOUT, launch, instrument, assertCleanPage, screenshot, fileReport, demoArticle, fetchJson, signIn, tag } from './editor-helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the queue shows the readers\' words and a suggestion as a diff; spam is decided from the preview',
  { timeout: TEST_TIMEOUT }, async () => {
    const mark = tag('words');
    const { sentences } = await demoArticle();
    // A suggestion on one word of sentence 6, and a long spam on sentence 7.
    const s6 = sentences[6 % sentences.length];
    const word = s6.text.split(/\s+/).find(w => /^[\p{L}]{4,}$/u.test(w));
    assert.ok(word, `a plain word in « ${s6.text} »`);
    const fixed = await fileReport(6, `Ce mot est mal orthographié. ${mark}`, {
      quote: { exact: word }, suggested_correction: `${word}x <i>corrigé</i>`,
    });
    const pitch = 'Achetez nos montres <b>pas chères</b> ! '.repeat(6);
    const spam = await fileReport(7, `${pitch}${mark}`);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
    const page = await context.newPage();
    const log = await instrument(page);
    await signIn(page);
    await page.goto(`${BASE}/editor/?q=${encodeURIComponent(mark)}&sort=oldest`);
    assert.equal(await page.locator('tr.case').count(), 2);
    const row = id => page.locator(`tr.case[data-id="${id}"]`);

    // The suggestion as a diff: the word struck out, the suggestion added,
    // reader markup as text.
    const diff = row(fixed.case_id).locator('.diff');
    assert.equal(await diff.locator('del').first().textContent(), word);
    assert.match(await diff.locator('ins').first().textContent(), /<i>corrigé<\/i>/);
    assert.equal(await diff.locator('i').count(), 0, 'no element from reader text');

    // The spam's comment, clipped in the row; opened in place with e.
    const words = row(spam.case_id).locator('details[data-words]');
    const clipped = await words.locator('summary').textContent();
    assert.ok(clipped.includes('…'), 'a long comment is clipped');
    assert.equal(await words.locator('summary b, .comment b').count(), 0, 'reader markup stays text');
    assert.equal(await words.evaluate(d => d.open), false);
    const spamIndex = await page.locator('tr.case').evaluateAll((rows, id) => rows.findIndex(r => r.dataset.id === id), spam.case_id);
    if (spamIndex === 1) await page.keyboard.press('j');
    assert.equal(await page.locator('tr.case.cursor').getAttribute('data-id'), spam.case_id);
    await page.keyboard.press('e');
    assert.equal(await words.evaluate(d => d.open), true, 'e opens the readers\' words');
    assert.match(await words.locator('.comment').textContent(), new RegExp(mark));
    await screenshot(page, 'queue-previews.png', { fullPage: true });

    // Decided from the preview: s marks it spam without opening the case.
    await Promise.all([page.waitForURL(/done=spam/), page.keyboard.press('s')]);
    assert.equal(new URL(page.url()).pathname, '/editor/', 'still on the queue');
    assert.equal(await row(spam.case_id).count(), 0, 'spam leaves the open queue');
    assert.equal(await row(fixed.case_id).count(), 1);
    const status = (await fetchJson(`${BASE}/api/v1/reports/status/${spam.token}`)).body;
    assert.equal(status.status, 'resolved');
    await assertCleanPage(page, log);
    await context.close();
  });
