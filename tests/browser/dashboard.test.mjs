// The editors' dashboard and the public transparency page: open the
// dashboard, switch period and desk, download a CSV, screenshot both pages
// (light and dark), and run axe-core on each: no serious or critical
// violation. The demo article has no desk, so the desk filter is exercised
// with its one option besides "all desks" when reports exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  BASE, EDITOR, TEST_TIMEOUT, launch, instrument, assertCleanPage, screenshot, fileReport, signIn,
} from './editor-helpers.mjs';

const require = createRequire(import.meta.url);
const AXE = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core in the page (injected by the test, not the page: the CSP holds). */
async function axe(page, label) {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) }));
  });
  const serious = result.filter(v => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious, [], `${label}: no serious accessibility violation`);
  return result;
}

test('the dashboard switches period and desk, downloads a CSV and passes axe', { timeout: TEST_TIMEOUT }, async () => {
  // Some reports so the charts have bars.
  for (let i = 0; i < 3; i++) await fileReport(i, `Dashboard check ${Date.now()} ${i}`);
  const browser = await launch();
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const log = await instrument(page);
    await signIn(page, EDITOR);
    await page.click('nav a[href="/editor/dashboard"]');
    await page.waitForURL(`${BASE}/editor/dashboard`);
    assert.equal(await page.locator('h1').textContent(), 'Tableau de bord');
    // Every chart is an image with a title, and has its figures.
    const charts = page.locator('svg.chart[role="img"]');
    assert.ok(await charts.count() >= 4, 'the charts are there');
    for (const svg of await charts.all()) {
      assert.ok((await svg.locator('title').first().textContent()).length > 0, 'each chart has a title');
    }
    assert.ok(Number(await page.locator('[data-figure="total_reports"]').textContent()) >= 3);
    assert.ok(await page.locator('input[name="period"][value="30"]').isChecked(), '30 days by default');

    // Period: 7 days.
    await page.check('input[name="period"][value="7"]');
    await Promise.all([page.waitForURL(/period=7/), page.click('.dashboard-filters button[type="submit"]')]);
    assert.equal(await page.locator('#chart-daily rect.bar.s-a').count(), 7, 'seven days of bars');
    // Desk: every option in turn, then back to all.
    const desks = await page.locator('#d-desk option').evaluateAll(os => os.map(o => o.value));
    for (const desk of desks.filter(Boolean).slice(0, 1)) {
      await page.selectOption('#d-desk', desk);
      await Promise.all([page.waitForURL(/desk=/), page.click('.dashboard-filters button[type="submit"]')]);
      assert.equal(await page.locator('#d-desk').inputValue(), desk);
    }
    await page.selectOption('#d-desk', '');
    await page.check('input[name="period"][value="90"]');
    await Promise.all([page.waitForURL(/period=90/), page.click('.dashboard-filters button[type="submit"]')]);
    assert.equal(await page.locator('#chart-daily rect.bar.s-a').count(), 90);

    // A CSV download: the day table of the 90 days.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('.downloads a[data-table="daily"]'),
    ]);
    assert.match(download.suggestedFilename(), /^erratum-daily-.*\.csv$/);
    const csv = await readFile(await download.path(), 'utf8');
    const rows = csv.trim().split('\r\n');
    assert.equal(rows[0], 'day,reports,cases');
    assert.equal(rows.length, 91, 'a header and 90 days');
    const fromCsv = rows.slice(1).reduce((n, r) => n + Number(r.split(',')[1]), 0);
    assert.equal(String(fromCsv), (await page.locator('[data-figure="total_reports"]').textContent()).trim(),
      'the CSV adds up to the page');

    await screenshot(page, 'dashboard.png', { fullPage: true });
    await axe(page, 'dashboard (light)');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'dashboard-dark.png', { fullPage: true });
    await axe(page, 'dashboard (dark)');
    await assertCleanPage(page, log);
  } finally {
    await browser.close();
  }
});

test('the public transparency page shows figures and passes axe', { timeout: TEST_TIMEOUT }, async () => {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const log = await instrument(page);
    const res = await page.goto(`${BASE}/transparency`);
    assert.equal(res.status(), 200, 'scripts/browser-tests turns the page on');
    assert.ok(await page.locator('svg.chart[role="img"] title').count() >= 1);
    const ld = JSON.parse(await page.locator('script[type="application/ld+json"]').textContent());
    assert.equal(ld['@type'], 'NewsMediaOrganization');
    assert.ok(await page.locator('a[href="/corrections.atom"]').count() >= 1, 'the Atom feed is linked');
    await screenshot(page, 'transparency.png', { fullPage: true });
    await axe(page, 'transparency (light)');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'transparency-dark.png', { fullPage: true });
    await axe(page, 'transparency (dark)');
    await assertCleanPage(page, log);
  } finally {
    await browser.close();
  }
});
