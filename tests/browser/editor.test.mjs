// The editors' pages: sign in, filter the queue, open the demo article's case,
// claim it, resolve it as corrected with a note, see the correction published
// and the reader's status change; the same with the keyboard alone; reader
// text that looks like markup shown as text; a form without its CSRF token
// refused. Screenshots of the queue and the case page for review.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, CSP, TEST_TIMEOUT, launch, instrument, assertCleanPage, screenshot, fileReport, fetchJson, signIn, tag } from './editor-helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function newPage(viewport = { width: 1280, height: 860 }) {
  const context = await browser.newContext({ viewport, locale: 'fr-FR' });
  const page = await context.newPage();
  const log = await instrument(page);
  return { context, page, log };
}

const readerStatus = async token => (await fetchJson(`${BASE}/api/v1/reports/status/${token}`)).body;

test('sign in, filter, open the case, claim, resolve as corrected; the correction is published and the reader sees it',
  { timeout: TEST_TIMEOUT }, async () => {
    const mark = tag('flow');
    const filed = await fileReport(3, `La date est fausse : c’était le 4 octobre. ${mark}`,
      { suggested_correction: 'le 4 octobre', sources: ['https://example.org/communique'] });
    const { context, page, log } = await newPage();
    await signIn(page);
    assert.equal(await page.locator('h1').textContent(), 'File d’attente');

    // Filter: the search box and the sort, as a GET form.
    await page.fill('#q', mark);
    await page.selectOption('#f-sort', 'oldest');
    await Promise.all([page.waitForURL(/q=/), page.click('form.filters button[type="submit"]')]);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('q'), mark);
    assert.equal(url.searchParams.get('sort'), 'oldest');
    const rows = page.locator('tr.case');
    assert.equal(await rows.count(), 1, 'only this run’s case');
    assert.equal(await rows.first().getAttribute('data-id'), filed.case_id);
    assert.ok(await page.locator('.counts a[data-status="new"] b').count() === 1);
    await screenshot(page, 'editor-queue.png', { fullPage: true });

    // Open the case: the sentence is marked in its paragraph.
    await Promise.all([page.waitForURL(`${BASE}/editor/cases/${filed.case_id}`), rows.first().locator('td.sentence a').click()]);
    const marked = (await page.locator('.context mark').textContent()).replace(/\s+/g, ' ').trim();
    assert.equal(marked, filed.sentence.text.replace(/\s+/g, ' ').trim());
    assert.ok(await page.locator('.context .other').count() >= 0);
    assert.ok((await page.locator('.report .comment').allTextContents()).some(t => t.includes(mark)));
    assert.equal(await page.locator('.report .sources a').first().getAttribute('rel'), 'noopener noreferrer nofollow');

    // Claim.
    await Promise.all([page.waitForURL(/done=claimed/), page.click('form[data-action="claim"] button')]);
    assert.equal((await page.locator('[data-field="status"]').textContent()).trim(), 'En cours d’examen');
    assert.equal((await readerStatus(filed.token)).status, 'in_review');

    // Resolve as corrected: the template starts the note in the article's language.
    await page.selectOption('#resolution', 'corrected');
    const start = await page.inputValue('#public_note');
    assert.match(start, /^Une version précédente de cet article indiquait/);
    const note = `Une version précédente de cet article indiquait que la frappe avait eu lieu le 3 octobre ; elle a eu lieu le 4 octobre. ${mark}`;
    await page.fill('#public_note', note);
    await screenshot(page, 'editor-case.png', { fullPage: true });
    await Promise.all([page.waitForURL(/done=resolved/), page.click('#resolve button[type="submit"]')]);
    assert.equal((await page.locator('[data-field="status"]').textContent()).trim(), 'Clos');
    assert.equal((await page.locator('[data-field="resolution"]').textContent()).trim(), 'Corrigé');
    await assertCleanPage(page, log);

    // Published…
    await page.goto(`${BASE}/editor/corrections`);
    assert.ok((await page.locator('table.corrections').textContent()).includes(note));
    // …and the reader's status page changed.
    const status = await readerStatus(filed.token);
    assert.equal(status.status, 'resolved');
    assert.equal(status.resolution, 'corrected');
    const reader = await context.newPage();
    const res = await reader.goto(`${BASE}/r/${filed.token}`);
    assert.equal(res.status(), 200, 'the reader’s status page');
    assert.equal(await reader.locator('main').getAttribute('data-status'), 'resolved');
    assert.ok((await reader.locator('main').textContent()).includes(note), 'the note is shown to the reader');
    await context.close();
  });

test('the keyboard alone: search, move, open, claim, resolve; spam from the queue with undo',
  { timeout: TEST_TIMEOUT }, async () => {
    const mark = tag('keys');
    const one = await fileReport(4, `Le chiffre est faux. ${mark}`);
    const two = await fileReport(5, `Publicité sans rapport. ${mark}`);
    const { context, page, log } = await newPage();
    // Sign in with the keyboard: the address field has the focus.
    await page.goto(`${BASE}/editor/login`);
    // Chromium applies autofocus after the load event, on a later frame: wait
    // for it rather than type into nothing on a busy machine.
    await page.waitForFunction(() => document.activeElement?.id === 'email');
    await page.keyboard.type(process.env.ERRATUM_TEST_EDITOR_EMAIL);
    await page.keyboard.press('Tab');
    await page.keyboard.type(process.env.ERRATUM_TEST_EDITOR_PASSWORD);
    await Promise.all([page.waitForURL(`${BASE}/editor/`), page.keyboard.press('Enter')]);

    // ? shows the shortcuts; Escape closes them.
    await page.keyboard.press('?');
    await page.locator('#help[open]').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('#help[open]').waitFor({ state: 'detached' });

    // / searches.
    await page.keyboard.press('/');
    await page.keyboard.type(mark);
    await Promise.all([page.waitForURL(/q=/), page.keyboard.press('Enter')]);
    assert.equal(await page.locator('tr.case').count(), 2);
    const ids = await page.locator('tr.case').evaluateAll(rows => rows.map(r => r.dataset.id));
    assert.deepEqual([...ids].sort(), [one.case_id, two.case_id].sort());
    const cursor = () => page.locator('tr.case.cursor').getAttribute('data-id');
    assert.equal(await cursor(), ids[0]);
    await page.keyboard.press('j');
    assert.equal(await cursor(), ids[1]);
    await page.keyboard.press('k');
    assert.equal(await cursor(), ids[0]);

    // s on the spam: marked, with an undo, and the cursor stays on the row.
    const spamIndex = ids.indexOf(two.case_id);
    if (spamIndex === 1) await page.keyboard.press('j');
    await Promise.all([page.waitForURL(/done=spam/), page.keyboard.press('s')]);
    assert.match(await page.locator('div.notice').textContent(), /indésirable/);
    assert.equal(await page.locator('div.notice form button').count(), 1, 'an undo button');
    assert.equal(await page.locator(`tr.case[data-id="${two.case_id}"]`).count(), 0, 'spam leaves the open queue');
    assert.equal((await readerStatus(two.token)).status, 'resolved');

    // o opens the remaining case, c claims it, r goes to the resolution.
    assert.equal(await cursor(), one.case_id);
    await Promise.all([page.waitForURL(`${BASE}/editor/cases/${one.case_id}`), page.keyboard.press('o')]);
    await Promise.all([page.waitForURL(/done=claimed/), page.keyboard.press('c')]);
    assert.equal((await page.locator('[data-field="status"]').textContent()).trim(), 'En cours d’examen');
    await page.keyboard.press('r');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'resolution');
    await page.keyboard.type('Exact');              // typeahead: « Exact, sans changement »
    assert.equal(await page.inputValue('#resolution'), 'no_change');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'public_note');
    await page.keyboard.press('End');
    await page.keyboard.type('le chiffre vient du ministère.');
    await page.keyboard.press('Tab');               // the duplicate field is hidden: the button
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Clore');
    await Promise.all([page.waitForURL(/done=resolved/), page.keyboard.press('Enter')]);
    assert.equal((await page.locator('[data-field="resolution"]').textContent()).trim(), 'Exact, sans changement');
    const status = await readerStatus(one.token);
    assert.equal(status.resolution, 'no_change');
    assert.match(status.public_note, /le chiffre vient du ministère\.$/);
    // u goes back to the queue.
    await Promise.all([page.waitForURL(`${BASE}/editor/`), page.keyboard.press('u')]);
    await assertCleanPage(page, log);
    await context.close();
  });

test('reader text that looks like markup is shown as text, and no script runs', { timeout: TEST_TIMEOUT }, async () => {
  const mark = tag('xss');
  const payload = '<img src=x onerror=alert(1)>';
  const filed = await fileReport(6, `${payload} ${mark}`,
    { suggested_correction: '<script>alert(2)</script>', sources: ['https://example.org/"><script>alert(3)</script>'] });
  const { context, page, log } = await newPage();
  await signIn(page);
  await page.goto(`${BASE}/editor/?q=${encodeURIComponent(mark)}`);
  assert.equal(await page.locator('tr.case').count(), 1);
  const res = await page.goto(`${BASE}/editor/cases/${filed.case_id}`);
  assert.equal(res.headers()['content-security-policy'], CSP);
  assert.equal(res.headers()['x-frame-options'], 'DENY');
  const comments = await page.locator('.report .comment').allTextContents();
  assert.ok(comments.some(t => t.includes(`${payload} ${mark}`)), 'the comment reads as typed');
  assert.equal(await page.locator('.report img').count(), 0, 'no image element was made');
  assert.equal(await page.locator('.report script').count(), 0, 'no script element was made');
  assert.ok((await page.locator('.report .suggestion').textContent()).includes('<script>alert(2)</script>'));
  await page.waitForTimeout(300);                   // let a would-be onerror fire
  await assertCleanPage(page, log);
  await context.close();
});

test('a form posted without its CSRF token is refused with a readable page', { timeout: TEST_TIMEOUT }, async () => {
  const filed = await fileReport(7, `Vérification du jeton. ${tag('csrf')}`);
  const { context, page } = await newPage({ width: 768, height: 1024 });
  await signIn(page);
  await page.goto(`${BASE}/editor/cases/${filed.case_id}`);
  // The tablet view as the editor sees it, without the full-page resize: this
  // page at this width has stalled Chromium's resize past the test's timeout
  // (once in CI last session, once here).
  await screenshot(page, 'editor-case-tablet.png');
  // The claim form, stripped of its token, as a forged form would be.
  await page.locator('form[data-action="claim"] input[name="csrf_token"]').evaluate(el => el.remove());
  const [response] = await Promise.all([
    page.waitForResponse(r => r.request().method() === 'POST'),
    page.click('form[data-action="claim"] button'),
  ]);
  assert.equal(response.status(), 403);
  assert.equal(await page.locator('h1').textContent(), 'Formulaire refusé');
  assert.equal((await readerStatus(filed.token)).status, 'received', 'nothing changed');
  // A wrong token is refused too.
  await page.goto(`${BASE}/editor/cases/${filed.case_id}`);
  await page.locator('form[data-action="claim"] input[name="csrf_token"]').evaluate(el => { el.value = 'forged'; });
  const [again] = await Promise.all([
    page.waitForResponse(r => r.request().method() === 'POST'),
    page.click('form[data-action="claim"] button'),
  ]);
  assert.equal(again.status(), 403);
  // The refusal page is read to its end before the window closes: a context
  // closed while that page was still committing has hung Chromium's close
  // (seen here one run in two, the test then failing at its timeout).
  await page.waitForLoadState('load');
  assert.equal(await page.locator('h1').textContent(), 'Formulaire refusé');
  assert.equal((await readerStatus(filed.token)).status, 'received', 'nothing changed');
  await context.close();
});

test('a case someone acts on meanwhile is marked where it stands, not moved', { timeout: TEST_TIMEOUT }, async () => {
  const mark = tag('live');
  const a = await fileReport(8, `Premier dossier. ${mark}`);
  const b = await fileReport(9, `Second dossier. ${mark}`);
  const { context, page, log } = await newPage();
  await signIn(page);
  await page.goto(`${BASE}/editor/?q=${encodeURIComponent(mark)}`);
  const order = () => page.locator('tr.case').evaluateAll(rows => rows.map(r => r.dataset.id));
  const before = await order();
  assert.deepEqual([...before].sort(), [a.case_id, b.case_id].sort());
  await page.keyboard.press('j');
  const cursorBefore = await page.locator('tr.case.cursor').getAttribute('data-id');

  // Meanwhile, in another window, the case under the cursor is claimed.
  const other = await browser.newContext({ locale: 'fr-FR' });
  const second = await other.newPage();
  await signIn(second);
  await second.goto(`${BASE}/editor/cases/${cursorBefore}`);
  await Promise.all([second.waitForURL(/done=claimed/), second.click('form[data-action="claim"] button')]);
  await other.close();

  // The page checks again when it becomes visible (and every 20 s).
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await page.locator(`tr.case.changed[data-id="${cursorBefore}"] .changed-badge`).waitFor();
  assert.equal(await page.locator('.changed-badge').textContent(), 'Modifié entre-temps');
  assert.deepEqual(await order(), before, 'no row moved');
  assert.equal(await page.locator('tr.case.cursor').getAttribute('data-id'), cursorBefore, 'the cursor stayed');
  assert.equal(await page.locator('tr.case.changed').count(), 1, 'only the changed case is marked');
  await assertCleanPage(page, log);
  await context.close();
});
