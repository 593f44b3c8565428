// The queue's live arrivals: with the queue page open, a case filed through
// the API appears at the top of the table without a reload, is announced in
// the live region and counted in the tab's title, while the keyboard cursor
// and the selection stay where they were. Screenshot `live-arrival.png`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TEST_TIMEOUT, launch, instrument, assertCleanPage, screenshot, fileReport, demoArticle, signIn, tag, withDeadline } from './editor-helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a new case arrives while the queue is open', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'fr-FR' });
  const page = await context.newPage();
  const log = await instrument(page);
  await signIn(page);

  // Two sentences of the demo article without an open case: one for a case
  // already on the page, one for the case that arrives.
  const { externalId, sentences } = await demoArticle();
  const queue = await withDeadline(
    page.request.get(`${BASE}/api/v1/queue?article=${encodeURIComponent(externalId)}&limit=100`), 15_000, 'queue');
  assert.equal(queue.status(), 200);
  const taken = new Set((await queue.json()).items.map(i => i.sentence_id));
  const free = sentences.map((s, i) => [s, i]).filter(([s]) => !taken.has(s.id)).map(([, i]) => i);
  assert.ok(free.length >= 2, 'two free sentences');
  const mark = tag('live');
  const present = await fileReport(free[0], `Déjà là. ${mark}`);

  // The queue page, and its stream answered (so nothing filed after is missed).
  const streamOpen = page.waitForResponse(r => r.url().startsWith(`${BASE}/editor/queue/live`), { timeout: 15_000 });
  await page.goto(`${BASE}/editor/?sort=newest`);
  const stream = await streamOpen;
  assert.equal(stream.status(), 200);
  const title = await page.title();

  // The cursor on the case already there, and the case selected.
  await page.locator(`tr#c-${present.case_id} td`).nth(2).click();
  await page.keyboard.press('x');
  const box = page.locator(`tr#c-${present.case_id} input[name="ids"]`);
  assert.ok(await box.isChecked(), 'selected');
  const cursorBefore = await page.locator('tr.case.cursor').getAttribute('id');
  assert.equal(cursorBefore, `c-${present.case_id}`);

  // A reader files a report on another sentence: a new case.
  const arrived = await fileReport(free[1], `Nouvelle erreur. ${mark}`);
  assert.notEqual(arrived.case_id, present.case_id);
  const row = page.locator(`tr#c-${arrived.case_id}`);
  await row.waitFor({ state: 'attached', timeout: 20_000 });

  // Inserted above, announced, counted in the title.
  assert.equal(await page.locator('table.queue tbody tr.case').first().getAttribute('id'), `c-${arrived.case_id}`);
  assert.ok(await row.evaluate(r => r.classList.contains('arrived')));
  assert.equal(await page.locator('#live [data-live-status]').getAttribute('aria-live'), 'polite');
  assert.match(await page.locator('#live [data-live-status]').textContent(), /1 nouveau dossier/);
  assert.equal(await page.title(), `(1) ${title}`);
  // The cursor and the selection did not move.
  assert.equal(await page.locator('tr.case.cursor').getAttribute('id'), cursorBefore);
  assert.ok(await box.isChecked(), 'still selected');
  // j moves down from the same row, k reaches the new one.
  await page.keyboard.press('k');
  assert.equal(await page.locator('tr.case.cursor').getAttribute('id'), `c-${arrived.case_id}`);

  await screenshot(page, 'live-arrival.png');
  await assertCleanPage(page, log);
  await context.close();
});
