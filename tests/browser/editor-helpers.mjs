// Helpers for the editors' pages suite (editor.test.mjs). The generic ones
// (launch, instrument, assertCleanPage, screenshot) repeat those of the
// reader suite's helpers.mjs so this file stands on its own.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const BASE = (process.env.ERRATUM_BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const ORIGIN = new URL(BASE).origin;
export const SCREENSHOT_DIR = process.env.ERRATUM_SCREENSHOT_DIR || 'target/screenshots';
export const TEST_TIMEOUT = 90_000;
// scripts/browser-tests creates this account with `erratum editor add`.
export const EDITOR = {
  email: process.env.ERRATUM_TEST_EDITOR_EMAIL || '',
  password: process.env.ERRATUM_TEST_EDITOR_PASSWORD || '',
};
export const ADMIN = {
  email: process.env.ERRATUM_TEST_ADMIN_EMAIL || '',
  password: process.env.ERRATUM_TEST_ADMIN_PASSWORD || '',
};
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
/** A tag unique to this run, so searches find only this run's reports. */
export const tag = name => `ed${RUN}${name}`;

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

export async function screenshot(page, name, opts = {}) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, name);
  const { fullPage, ...rest } = opts;
  // Chromium's full-page capture (device-metrics override) can stall past any
  // timeout on a loaded machine (playwright#28995, robotframework-browser#4757).
  // A viewport as tall as the page, captured plainly, gives the same picture.
  const viewport = page.viewportSize();
  if (fullPage && viewport) {
    const height = await page.evaluate(() => Math.min(document.documentElement.scrollHeight, 6000));
    await withDeadline(page.setViewportSize({ width: viewport.width, height: Math.max(height, viewport.height) }), 20_000, `resize for ${name}`);
  }
  try {
    await withDeadline(page.screenshot({ path: file, timeout: 15_000, ...rest }), 20_000, `screenshot ${name}`);
  } finally {
    if (fullPage && viewport) await withDeadline(page.setViewportSize(viewport), 20_000, `resize back after ${name}`);
  }
  return file;
}

/** Fails with a named error when a browser call outlives its own timeout. */
export function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Records requests, console errors, page errors, dialogs and CSP violations. */
export async function instrument(page) {
  const log = { requests: [], console: [], errors: [], dialogs: [] };
  page.setDefaultTimeout(15_000);
  page.on('request', r => log.requests.push(r.url()));
  page.on('console', m => { if (m.type() === 'error') log.console.push(m.text()); });
  page.on('pageerror', e => log.errors.push(String(e)));
  page.on('dialog', d => { log.dialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation',
      e => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`), true);
  });
  return log;
}

export async function assertCleanPage(page, log) {
  assert.deepEqual(await page.evaluate(() => window.__cspViolations || []), [], 'no CSP violations');
  assert.deepEqual(log.console.filter(t => /Content Security Policy|Refused to/i.test(t)), [], 'no CSP errors');
  assert.deepEqual(log.errors, [], 'no uncaught page errors');
  assert.deepEqual(log.dialogs, [], 'no alert, confirm or prompt');
  const foreign = log.requests.filter(u => !/^(data|blob):/.test(u) && new URL(u).origin !== ORIGIN);
  assert.deepEqual(foreign, [], 'every request stays on the server');
}

// Every request to the server has a deadline, so a stall fails the step that
// made it instead of the whole test at its timeout.
export async function fetchJson(url, init = {}) {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000), ...init });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** The demo article and its body sentences. */
export async function demoArticle() {
  const html = await (await fetch(`${BASE}/demo`, { signal: AbortSignal.timeout(15_000) })).text().catch(() => '');
  const m = /data-article="([^"]+)"/.exec(html);
  const externalId = m ? m[1] : 'demo-coree-du-nord';
  const { status, body } = await fetchJson(`${BASE}/api/v1/articles/${encodeURIComponent(externalId)}`);
  assert.equal(status, 200, 'the demo article is there');
  return { externalId, article: body, sentences: body.sentences.filter(s => s.paragraph > 0) };
}

/** Files a report on the demo article's n-th body sentence through the API. */
export async function fileReport(n, comment, extra = {}) {
  const { externalId, sentences } = await demoArticle();
  const s = sentences[n % sentences.length];
  const { status, body } = await fetchJson(`${BASE}/api/v1/articles/${encodeURIComponent(externalId)}/reports`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
    body: JSON.stringify({ sentence_id: s.id, quote: { exact: s.text }, category: 'factual_error', comment, ...extra }),
  });
  assert.ok([200, 201].includes(status), `report filed: ${JSON.stringify(body)}`);
  const token = new URL(body.status_url).pathname.split('/').filter(Boolean).pop();
  return { ...body, token, sentence: s };
}

/** Signs in through the login page (with the mouse and the form). */
export async function signIn(page, who = EDITOR) {
  assert.ok(who.email && who.password,
    'ERRATUM_TEST_EDITOR_* and ERRATUM_TEST_ADMIN_* (EMAIL, PASSWORD) name accounts (scripts/browser-tests makes them)');
  const res = await page.goto(`${BASE}/editor/`);
  assert.equal(new URL(page.url()).pathname, '/editor/login', 'sent to the login page');
  assert.equal(res.headers()['content-security-policy'], CSP);
  await page.fill('#email', who.email);
  await page.fill('#password', who.password);
  await Promise.all([page.waitForURL(`${BASE}/editor/`), page.click('button[type="submit"]')]);
}
