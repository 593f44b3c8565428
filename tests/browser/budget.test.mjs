// Size budget, no third-party traffic, and respect for the reader's system preferences.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { launch, openDemo, selectSentence, widget, assertCleanPage, screenshot, BASE, TEST_TIMEOUT, note } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('size: widget.js + widget.css + its words stay under 20 KB gzipped', async () => {
  let total = 0;
  // The words come from the server, one file per language (here the demo's, French).
  for (const [file, type] of [['/widget.js', /javascript/], ['/widget.css', /text\/css/], ['/widget/strings/fr.json', /application\/json/]]) {
    const res = await fetch(`${BASE}${file}`);
    assert.equal(res.status, 200, `${file} is served`);
    assert.match(res.headers.get('content-type') || '', type, `${file} has the right Content-Type (nosniff pages need it)`);
    const buf = Buffer.from(await res.arrayBuffer());
    total += gzipSync(buf, { level: 9 }).length;
  }
  assert.ok(total < 20480, `gzipped total ${total} bytes must be < 20480`);
});

test('safety: widget.js has no eval, no Function constructor, no inline handlers and no foreign URLs', async () => {
  const src = await (await fetch(`${BASE}/widget.js`)).text();
  assert.doesNotMatch(src, /\beval\s*\(|new\s+Function\b|\bsetAttribute\(\s*['"]on|\.innerHTML\s*=|setAttribute\(\s*['"]style/);
  assert.doesNotMatch(src, /https?:\/\/[a-z0-9]/i, 'no hard-coded third-party URL');
});

test('network: a full report touches only the Erratum origin', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { log, body } = await openDemo(page);
  const w = widget(page);
  await selectSentence(page, body[0].text);
  await page.keyboard.press('Control+Enter');
  await w.dialog.waitFor({ state: 'visible' });
  await w.comment.fill(note('Vérification du trafic réseau.'));
  await w.submit.click();
  await w.reference.waitFor();
  assert.ok(log.requests.some(u => u.endsWith('/widget.css')), 'stylesheet loaded from the widget origin');
  assert.ok(log.requests.some(u => /\/api\/v1\/articles\//.test(u)));
  await assertCleanPage(page, log); // includes: every request is same-origin
  await context.close();
});

test('preferences: dark colour scheme and reduced motion are honoured', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ colorScheme: 'dark', reducedMotion: 'reduce', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const { log, body } = await openDemo(page);
  const w = widget(page);
  await selectSentence(page, body[0].text);
  await page.keyboard.press('Control+Enter');
  await w.dialog.waitFor({ state: 'visible' });
  const s = await w.dialog.evaluate(d => ({ bg: getComputedStyle(d).backgroundColor, anim: getComputedStyle(d).animationName }));
  const [r, g, b] = s.bg.match(/\d+/g).map(Number);
  assert.ok(r + g + b < 200, `dark dialog background, got ${s.bg}`);
  assert.equal(s.anim, 'none', 'no animation with reduced motion');
  await screenshot(page, 'widget-dialog-dark.png');
  await page.keyboard.press('Escape');

  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'no-preference' });
  await page.keyboard.press('Control+Enter');
  await w.dialog.waitFor({ state: 'visible' });
  const l = await w.dialog.evaluate(d => ({ bg: getComputedStyle(d).backgroundColor, anim: getComputedStyle(d).animationName }));
  assert.equal(l.bg, 'rgb(255, 255, 255)');
  assert.notEqual(l.anim, 'none', 'animated when motion is fine');
  await assertCleanPage(page, log);
  await context.close();
});
