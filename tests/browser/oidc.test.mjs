// Single sign-on in the browser: its own Erratum server and a real OpenID
// provider (tests/oidc/provider.mjs, oidc-provider; scripts/browser-tests
// installs it). "Sign in with Newsroom ID" on the login page, the
// provider's login form, and back in the queue with an account created on
// the way; the same after the provider rotated its signing key; an address
// of another domain refused with a page that says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import readline from 'node:readline';
import { launch, instrument, screenshot, withDeadline, CSP, TEST_TIMEOUT } from './editor-helpers.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'target/debug/erratum');
const PROVIDER_DIR = path.join(ROOT, 'tests/oidc');
let browser, server, idp, work, BASE, ISSUER;

const freePort = () => new Promise(r => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });

async function control(what, body = {}) {
  const res = await fetch(`${ISSUER}/_test/${what}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  assert.equal(res.status, 200, `provider ${what}`);
}

before(async () => {
  assert.ok(existsSync(path.join(PROVIDER_DIR, 'node_modules/oidc-provider')),
    'tests/oidc needs its packages (scripts/browser-tests runs npm ci there)');
  idp = spawn(process.execPath, ['provider.mjs'], { cwd: PROVIDER_DIR, stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = readline.createInterface({ input: idp.stdout });
  const first = await withDeadline(new Promise(r => lines.once('line', r)), 120_000, 'the OpenID provider starts');
  lines.on('line', () => {});
  ISSUER = JSON.parse(first).issuer;

  work = mkdtempSync(path.join(tmpdir(), 'erratum-oidc-'));
  const port = await freePort();
  BASE = `http://127.0.0.1:${port}`;
  writeFileSync(path.join(work, 'erratum.toml'), `
[auth.oidc]
enabled = true
issuer = "${ISSUER}"
client_id = "erratum"
client_secret = "erratum-test-secret-0123456789abcdef"
scopes = ["openid", "email", "profile", "groups"]
display_name = "Newsroom ID"
allowed_domains = ["news.example"]

[[auth.oidc.groups]]
group = "politics"
role = "editor"
desks = ["politique"]
`);
  const env = {
    ...process.env,
    ERRATUM__SERVER__HOST: '127.0.0.1', ERRATUM__SERVER__PORT: String(port), ERRATUM__SERVER__PUBLIC_URL: BASE,
    ERRATUM__DATABASE__URL: `sqlite://${work}/erratum.db`, ERRATUM__LOG__LEVEL: 'warn',
    ERRATUM__EMAIL__TRANSPORT: 'file',
  };
  server = spawn(BIN, ['--config', path.join(work, 'erratum.toml'), 'serve'], { cwd: work, env, stdio: 'ignore' });
  let ready = false;
  for (let i = 0; i < 240 && !ready; i++) {
    ready = await fetch(`${BASE}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(r => r.ok, () => false);
    if (!ready) await new Promise(r => setTimeout(r, 250));
  }
  assert.ok(ready, 'the Erratum server starts');
  await control('setup', {
    redirect_uris: [`${BASE}/editor/login/oidc/callback`],
    users: {
      ana: { email: 'ana@news.example', name: 'Ana Politique', groups: ['politics'] },
      eve: { email: 'eve@elsewhere.example', name: 'Eve', groups: ['politics'] },
    },
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.kill();
  idp?.kill();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** From the queue's address to the provider's form and back; the page ends where Erratum sent it. */
async function signInThroughProvider(page, login) {
  const res = await page.goto(`${BASE}/editor/`);
  assert.equal(new URL(page.url()).pathname, '/editor/login', 'sent to the login page');
  assert.equal(res.headers()['content-security-policy'], CSP);
  const button = page.locator('#sso-login');
  assert.equal((await button.textContent()).trim(), 'Sign in with Newsroom ID');
  await Promise.all([page.waitForURL(u => u.origin === new URL(ISSUER).origin), button.click()]);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password');
  await Promise.all([
    page.waitForURL(u => u.origin === new URL(BASE).origin),
    page.click('button[type="submit"]'),
  ]);
}

test('an editor signs in through the provider and lands in the queue', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const log = await instrument(page);
  await signInThroughProvider(page, 'ana');
  assert.equal(new URL(page.url()).pathname, '/editor/');
  await page.locator('h1').first().waitFor();
  const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).json());
  assert.equal(me.editor.email, 'ana@news.example');
  assert.equal(me.editor.role, 'editor');
  assert.deepEqual(me.editor.desks, ['politique']);
  await screenshot(page, 'oidc-queue.png');
  assert.deepEqual(log.errors, [], 'no uncaught page errors');
  await context.close();
});

test('after the provider rotates its signing key, sign-in still works', { timeout: TEST_TIMEOUT }, async () => {
  await control('rotate');
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await instrument(page);
  await signInThroughProvider(page, 'ana');
  assert.equal(new URL(page.url()).pathname, '/editor/');
  const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).json());
  assert.equal(me.editor.email, 'ana@news.example');
  await context.close();
});

test('an address of another domain is refused with a page that says why', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const log = await instrument(page);
  await signInThroughProvider(page, 'eve');
  const refused = page.locator('#sso-refused');
  assert.equal(await refused.getAttribute('data-reason'), 'domain_not_allowed');
  assert.match(await refused.textContent(), /email domain may not sign in/);
  assert.equal(await page.locator('#back-to-login').getAttribute('href'), '/editor/login?lang=en');
  const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).status);
  assert.equal(me, 401, 'no session');
  await screenshot(page, 'oidc-refused.png');
  assert.deepEqual(log.errors, [], 'no uncaught page errors');
  await context.close();
});

test('the French login page offers the provider too', { timeout: TEST_TIMEOUT }, async () => {
  const context = await browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  await instrument(page);
  await page.goto(`${BASE}/editor/login?lang=fr`);
  assert.equal((await page.locator('#sso-login').textContent()).trim(), 'Se connecter avec Newsroom ID');
  assert.equal(await page.locator('#password').count(), 1, 'local passwords stay available');
  await context.close();
});
