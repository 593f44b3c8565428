// A real OpenID provider for the single sign-on tests: `oidc-provider`
// (MIT) with its development login form (any password), one confidential
// client, and a control API under /_test/ that the tests use to register
// the client's redirect URI and users, rotate the signing key, and make the
// token endpoint misbehave the ways a hostile or broken provider would.
//
//   node provider.mjs            listens on 127.0.0.1, a free port
//   PORT=4000 node provider.mjs
//
// Prints one JSON line {"issuer": "..."} once it listens.
//
// Control API (JSON bodies):
//   POST /_test/setup   {redirect_uris: [...], users: {id: {email, email_verified, name, groups}}}
//        (both added to what is registered already)
//   POST /_test/rotate  sign with a new key from now on (the old one stays published)
//   POST /_test/mode    {mode: null | "expired" | "wrong_nonce" | "unknown_key"}
//        the ID tokens of the next code exchanges are re-signed: already
//        expired, with another nonce, or with a key the JWKS never lists.
import http from 'node:http';
import { randomUUID } from 'node:crypto';

import Provider from 'oidc-provider';
import * as jose from 'jose';

const CLIENT_ID = 'erratum';
const CLIENT_SECRET = 'erratum-test-secret-0123456789abcdef';

async function newKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

const state = {
  redirectUris: ['http://127.0.0.1/editor/login/oidc/callback'],
  users: {},
  keys: [await newKey()],
  rogue: await newKey(),
  mode: null,
};

let issuer = '';
let provider = null;

function build() {
  const p = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: state.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys: state.keys },
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    // Scope claims in the ID token itself (Erratum reads the ID token only).
    conformIdTokenClaims: false,
    cookies: { keys: ['erratum-oidc-test-cookie-key'] },
    features: { devInteractions: { enabled: true } },
    async findAccount(ctx, id) {
      const u = state.users[id];
      if (!u) return undefined;
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            email: u.email,
            email_verified: u.email_verified ?? true,
            name: u.name ?? id,
            groups: u.groups ?? [],
          };
        },
      };
    },
    // No consent screen: the test client is first-party.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile groups');
      grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
      await grant.save();
      return grant;
    },
  });
  // The misbehaviours: the token endpoint's answer is rewritten after the
  // provider made it, so everything else (the flow, PKCE) stays real.
  p.use(async (ctx, next) => {
    await next();
    if (ctx.path !== '/token' || !state.mode || !ctx.body?.id_token) return;
    const claims = jose.decodeJwt(ctx.body.id_token);
    let key = state.keys[0];
    const now = Math.floor(Date.now() / 1000);
    if (state.mode === 'expired') {
      claims.iat = now - 7200;
      claims.exp = now - 3600;
    } else if (state.mode === 'wrong_nonce') {
      claims.nonce = 'not-the-nonce-erratum-sent';
    } else if (state.mode === 'unknown_key') {
      key = state.rogue;
    }
    const signing = await jose.importJWK(key, 'RS256');
    ctx.body = {
      ...ctx.body,
      id_token: await new jose.SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .sign(signing),
    };
  });
  return p;
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      try { resolve(body ? JSON.parse(body) : {}); } catch (e) { reject(e); }
    });
  });
}

async function control(req, res) {
  const body = await readJson(req);
  if (req.url === '/_test/setup') {
    // Added to those already registered (several apps may share one provider).
    if (body.redirect_uris) state.redirectUris = [...new Set([...state.redirectUris, ...body.redirect_uris])];
    if (body.users) state.users = { ...state.users, ...body.users };
  } else if (req.url === '/_test/rotate') {
    state.keys = [await newKey(), ...state.keys];
  } else if (req.url === '/_test/mode') {
    state.mode = body.mode ?? null;
  } else {
    res.writeHead(404).end();
    return;
  }
  provider = build();
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: true, kids: state.keys.map((k) => k.kid) }));
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/_test/')) {
    control(req, res).catch((e) => { res.writeHead(500).end(String(e)); });
    return;
  }
  provider.callback()(req, res);
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  provider = build();
  console.log(JSON.stringify({ issuer, client_id: CLIENT_ID, client_secret: CLIENT_SECRET }));
});

// Whoever started us may stop reading our output: never die of that.
process.stdout.on('error', () => {});
// Stop with the test that started it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
