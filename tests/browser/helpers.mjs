// Shared helpers for the Erratum browser tests. Everything talks to ERRATUM_BASE_URL only,
// so the same suite runs against the development mock and against the real Rust server.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const BASE = (process.env.ERRATUM_BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const ORIGIN = new URL(BASE).origin;
export const SCREENSHOT_DIR = process.env.ERRATUM_SCREENSHOT_DIR || 'target/screenshots';
export const REFERENCE_RE = /^ERR-[A-Z0-9]{4}-[A-Z0-9]{2}$/;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const TEST_TIMEOUT = 90_000;

// Comments carry a per-run tag so reruns against a persistent server are never merged as
// duplicates of older (possibly already resolved) reports.
const RUN = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
export const note = text => `${text} [essai ${RUN}]`;

export const norm = s => s.normalize('NFC').replace(/[\u00AD\u200B\u2060\uFEFF]/g, '').replace(/\s+/g, ' ').trim();

// The system Chromium only: this suite must never download a browser.
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, name);
  await page.screenshot({ path: file, timeout: 15_000 });
  return file;
}

// Records every request, CSP violation and CSP console error of a page, from before the first byte.
export async function instrument(page) {
  const log = { requests: [], console: [], errors: [] };
  page.setDefaultTimeout(15_000);
  page.on('request', r => log.requests.push(r.url()));
  page.on('console', m => { if (m.type() === 'error' || m.type() === 'warning') log.console.push(m.text()); });
  page.on('pageerror', e => log.errors.push(String(e)));
  await page.addInitScript(() => {
    window.__cspViolations = [];
    const rec = e => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    window.addEventListener('securitypolicyviolation', rec, true);
    document.addEventListener('securitypolicyviolation', rec, true);
  });
  return log;
}

export async function assertCleanPage(page, log) {
  const violations = await page.evaluate(() => window.__cspViolations || []);
  assert.deepEqual(violations, [], 'no securitypolicyviolation events');
  const cspConsole = log.console.filter(t => /Content Security Policy|Refused to (load|apply|execute|connect)/i.test(t));
  assert.deepEqual(cspConsole, [], 'no CSP errors in the console');
  assert.deepEqual(log.errors, [], 'no uncaught page errors');
  assertSameOrigin(log);
}

export function assertSameOrigin(log) {
  const foreign = log.requests.filter(u => !/^(data|blob):/.test(u) && new URL(u).origin !== ORIGIN);
  assert.deepEqual(foreign, [], `every request goes to ${ORIGIN}`);
}

export async function fetchJson(url, init) {
  const res = await fetch(url, init);
  const body = await res.json().catch(() => null);
  return { status: res.status, headers: res.headers, body };
}

/** Opens the demo page (optionally hostile) and waits until the widget has loaded its article. */
export async function openDemo(page, { hostile = false } = {}) {
  const log = await instrument(page);
  const res = await page.goto(`${BASE}/demo${hostile ? '?hostile=1' : ''}`);
  assert.equal(res.status(), 200);
  const csp = res.headers()['content-security-policy'] || '';
  assert.match(csp, /style-src 'self'/, 'demo page is served with the strict CSP');
  assert.match(csp, /script-src 'self'/);
  await page.locator('erratum-widget[data-state="ready"]').waitFor({ state: 'attached' });
  const externalId = await page.locator('script[data-article]').getAttribute('data-article');
  const { status, body: article } = await fetchJson(`${BASE}/api/v1/articles/${encodeURIComponent(externalId)}`);
  assert.equal(status, 200);
  const body = article.sentences.filter(s => s.paragraph > 0);
  assert.ok(body.length >= 3, 'the demo article needs at least three body sentences');
  return { log, article, body };
}

// Finds a sentence in the article's text nodes, tolerating whitespace differences with the API
// text, then either selects it or measures it. (One function: the page's CSP forbids eval,
// so no helper can be shipped into the page as source.)
function sentenceRange(page, text, mode) {
  return page.evaluate(([text, mode]) => {
    const pattern = text.normalize('NFC').replace(/\s+/g, ' ').trim()
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+');
    const re = new RegExp(pattern);
    const w = document.createTreeWalker(document.querySelector('article'), NodeFilter.SHOW_TEXT);
    for (let n; (n = w.nextNode());) {
      const m = re.exec(n.data.normalize('NFC'));
      if (!m) continue;
      const r = document.createRange();
      r.setStart(n, m.index);
      r.setEnd(n, m.index + m[0].length);
      if (mode === 'select') {
        const s = getSelection();
        s.removeAllRanges();
        s.addRange(r);
        return s.toString();
      }
      n.parentElement.scrollIntoView({ block: 'center' });
      const at = i => { const c = document.createRange(); c.setStart(n, i); c.setEnd(n, i + 1); return c.getBoundingClientRect(); };
      const first = at(r.startOffset), last = at(r.endOffset - 1), mid = at(r.startOffset + Math.floor(m[0].length / 2));
      return {
        start: { x: first.left + 1, y: first.top + first.height / 2 },
        end: { x: last.right - 1, y: last.top + last.height / 2 },
        middle: { x: mid.left + mid.width / 2, y: mid.top + mid.height / 2 },
      };
    }
    throw new Error(`sentence not found in page: ${text}`);
  }, [text, mode]);
}

export const selectSentence = (page, text) => sentenceRange(page, text, 'select');

/** Viewport points just inside the first and last characters of a sentence, and its middle. */
export const sentencePoints = (page, text) => sentenceRange(page, text, 'points');

/** Describes the focused element, looking through open shadow roots. */
export function focused(page) {
  return page.evaluate(() => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    const host = a && a.getRootNode() instanceof ShadowRoot ? a.getRootNode().host.localName : null;
    return a && { tag: a.localName, name: a.getAttribute('name'), cls: a.className, type: a.getAttribute('type'), host, text: a.textContent.trim().slice(0, 80) };
  });
}

export async function tabUntil(page, predicate, max = 60, key = 'Tab') {
  for (let i = 0; i < max; i++) {
    const f = await focused(page);
    if (f && predicate(f)) return f;
    await page.keyboard.press(key);
  }
  throw new Error(`focus never reached the wanted element after ${max} ${key} presses`);
}

export const widget = page => ({
  dialog: page.locator('dialog.dlg'),
  quote: page.locator('dialog.dlg .quote mark'),
  picker: page.locator('dialog.dlg select[name="sentence_id"]'),
  category: page.locator('dialog.dlg select[name="category"]'),
  comment: page.locator('dialog.dlg textarea[name="comment"]'),
  correction: page.locator('dialog.dlg textarea[name="suggested_correction"]'),
  sources: page.locator('dialog.dlg input[type="url"]'),
  addSource: page.locator('dialog.dlg .fs button.lnk'),
  notify: page.locator('dialog.dlg input[name="notify"]'),
  email: page.locator('dialog.dlg input[name="email"]'),
  honeypot: page.locator('dialog.dlg input[name="website"]'),
  submit: page.locator('dialog.dlg button[type="submit"]'),
  live: page.locator('dialog.dlg [aria-live]'),
  general: page.locator('dialog.dlg .err.general'),
  reference: page.locator('dialog.dlg .ref'),
  statusLink: page.locator('dialog.dlg .done a'),
  fab: page.locator('erratum-widget button.fab'),
  entry: page.locator('erratum-entry button'),
});

/** Waits for the next report POST and returns its parsed request body, headers and response. */
export async function captureReport(page, action) {
  const [req] = await Promise.all([
    page.waitForRequest(r => r.method() === 'POST' && /\/api\/v1\/articles\/[^/]+\/reports$/.test(r.url())),
    action(),
  ]);
  const res = await req.response();
  return { body: JSON.parse(req.postData()), headers: await req.allHeaders(), status: res && res.status(), response: res && await res.json() };
}

/** Checks the success panel and the server-side record; returns the report's status token. */
export async function assertSubmitted(page, sent) {
  const w = widget(page);
  assert.ok([200, 201].includes(sent.status), `report accepted, got ${sent.status}: ${JSON.stringify(sent.response)}`);
  await w.reference.waitFor();
  const ref = (await w.reference.textContent()).trim();
  assert.match(ref, REFERENCE_RE);
  const href = await w.statusLink.getAttribute('href');
  assert.equal(href, sent.response.status_url);
  const token = new URL(href).pathname.split('/').filter(Boolean).pop();
  const { status, body } = await fetchJson(`${BASE}/api/v1/reports/status/${token}`);
  assert.equal(status, 200);
  assert.equal(body.status, 'received');
  if (body.reference) assert.equal(body.reference, ref);
  return { token, reference: ref };
}

/** Files a report straight through the API (no browser), for tests that only need one to exist. */
export async function createReportViaApi({ comment = 'Le chiffre cité semble erroné.', category = 'factual_error' } = {}) {
  const html = await (await fetch(`${BASE}/demo`)).text();
  const externalId = /data-article="([^"]+)"/.exec(html)[1];
  const { body: article } = await fetchJson(`${BASE}/api/v1/articles/${encodeURIComponent(externalId)}`);
  const s = article.sentences.find(x => x.paragraph > 0);
  const res = await fetchJson(`${BASE}/api/v1/articles/${encodeURIComponent(externalId)}/reports`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
    body: JSON.stringify({ sentence_id: s.id, quote: { exact: norm(s.text) }, category, comment: note(comment), website: '' }),
  });
  assert.ok([200, 201].includes(res.status), `report created via API: ${JSON.stringify(res.body)}`);
  const token = new URL(res.body.status_url).pathname.split('/').filter(Boolean).pop();
  return { ...res.body, token, article };
}

// Wording the status page must show, per language. Kept here so the editor-side tests
// (which move a report to in_review / resolved) assert exactly the same text.
export const STATUS_WORDING = {
  fr: {
    status: { received: 'Signalement reçu', in_review: 'En cours d’examen', resolved: 'Signalement traité' },
    resolution: {
      corrected: 'L’article a été corrigé', clarified: 'L’article a été précisé', updated: 'L’article a été mis à jour',
      no_change: 'l’article n’a pas été modifié', rejected: 'le signalement n’a pas été retenu',
      duplicate: 'Cette erreur avait déjà été signalée',
    },
    note: 'Note de la rédaction', correction: 'Correction publiée',
  },
  en: {
    status: { received: 'Report received', in_review: 'Under review', resolved: 'Report resolved' },
    resolution: {
      corrected: 'The article has been corrected', clarified: 'The article has been clarified', updated: 'The article has been updated',
      no_change: 'the article was not changed', rejected: 'the report was not upheld',
      duplicate: 'This error had already been reported',
    },
    note: 'Note from the newsroom', correction: 'Published correction',
  },
};

/**
 * Opens /r/{token} and asserts what a reader must see for a report in a given state.
 * Used for "received" here; the editor-side suite calls it after resolving a report, e.g.
 *   await assertStatusPage(page, { token, reference, lang: 'fr', status: 'resolved', resolution: 'corrected',
 *                                  publicNote: '…', correctionText: '…' });
 */
export async function assertStatusPage(page, { token, reference, lang = 'fr', status = 'received', resolution = null, publicNote = null, correctionText = null }) {
  const log = await instrument(page);
  const res = await page.goto(`${BASE}/r/${token}`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'] || '', /style-src 'self'/);
  const words = STATUS_WORDING[lang];
  assert.equal(await page.locator('html').getAttribute('lang'), lang);
  assert.equal((await page.locator('.reference').textContent()).trim(), reference);
  assert.equal(await page.locator('main').getAttribute('data-status'), status);
  assert.equal((await page.locator('.status-title').textContent()).trim(), words.status[status]);
  assert.equal(await page.locator('.steps [aria-current="step"]').count(), 1);
  if (resolution) assert.ok((await page.locator('.resolution').textContent()).includes(words.resolution[resolution]), `wording for ${resolution}`);
  else assert.equal(await page.locator('.resolution').count(), 0);
  if (publicNote) {
    assert.ok((await page.locator('.note').textContent()).includes(publicNote));
    assert.ok((await page.locator('.note h2').textContent()).includes(words.note));
  }
  if (correctionText) assert.ok((await page.locator('.correction').textContent()).includes(correctionText));
  assert.equal(await page.locator('meta[name="robots"]').getAttribute('content'), 'noindex, nofollow');
  // The stylesheet must actually apply (a CSP or routing mistake would leave the page unstyled).
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'status.css is applied');
  await assertCleanPage(page, log);
  return log;
}
