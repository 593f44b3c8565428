// Similar cases and the duplicate picker (issue 13): two readers report the
// same complaint on two sentences of the demo article; the second case is
// linked to the first on arrival, its page lists the first among similar
// cases (screenshot `case-similar.png`), and the editor marks it a
// duplicate with the keyboard alone: `d`, then Enter on the proposal; a
// third one by typing the number.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TEST_TIMEOUT, launch, instrument, assertCleanPage, screenshot, fileReport, signIn, tag, withDeadline } from './editor-helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a near-duplicate is linked on arrival, listed as similar, and marked a duplicate by keyboard only',
  { timeout: TEST_TIMEOUT }, async () => {
    const mark = tag('dup');
    const first = await fileReport(7, `Le nombre de conteneurs est faux : il y en avait 5000 et non 3000. ${mark}`);
    const second = await fileReport(8, `Nombre de conteneurs faux, il y en avait 5000 et pas 3000 ! ${mark}`);
    const third = await fileReport(9, `Le nombre de conteneurs est faux, 5000 et non 3000 conteneurs. ${mark}`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
    const page = await context.newPage();
    const log = await instrument(page);
    await signIn(page);

    // The case page shows its number, the possible duplicate and the
    // similar cases, the first one proposed in the picker.
    await page.goto(`${BASE}/editor/cases/${second.case_id}`);
    const firstNumber = await page.locator(`.similar-list li`).first().getAttribute('data-similar');
    assert.match(firstNumber, /^[0-9]+$/);
    const linked = await page.locator('[data-field="possible-duplicate"] a').textContent();
    assert.equal(linked.trim(), `#${firstNumber}`, 'linked to the first case on arrival');
    assert.match(await page.locator('h1 [data-field="number"]').textContent(), /^#[0-9]+$/);
    const similarIds = await page.locator('.similar-list li a').evaluateAll(as => as.map(a => a.getAttribute('href')));
    assert.ok(similarIds.includes(`/editor/cases/${firstNumber}`), similarIds.join(' '));
    await screenshot(page, 'case-similar.png', { fullPage: true });

    // Keyboard only: d focuses the picker's proposal, Enter marks the duplicate.
    await page.keyboard.press('d');
    const focused = await page.evaluate(() => ({ type: document.activeElement.type, value: document.activeElement.value,
      form: document.activeElement.form && document.activeElement.form.id }));
    assert.deepEqual(focused, { type: 'radio', value: firstNumber, form: 'duplicate-picker' });
    await Promise.all([page.waitForURL(/done=resolved/), page.keyboard.press('Enter')]);
    assert.equal((await page.locator('[data-field="status"]').textContent()).trim(), 'Clos');
    assert.equal((await page.locator('[data-field="duplicate-of"] a').textContent()).trim(), `#${firstNumber}`);

    // The third by typing a number: d, Tab to the field, the number, Enter.
    await page.goto(`${BASE}/editor/cases/${third.case_id}`);
    await page.keyboard.press('d');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'duplicate-number');
    await page.keyboard.type(`#${firstNumber}`);
    await Promise.all([page.waitForURL(/done=resolved/), page.keyboard.press('Enter')]);
    assert.equal((await page.locator('[data-field="duplicate-of"] a').textContent()).trim(), `#${firstNumber}`);

    // The first case lists neither as open any more, and its own page opens by number.
    await withDeadline(page.goto(`${BASE}/editor/cases/${firstNumber}`), 20_000, 'case by number');
    assert.equal(await page.locator('[data-case-id]').getAttribute('data-case-id'), first.case_id);
    await assertCleanPage(page, log);
    await context.close();
  });
