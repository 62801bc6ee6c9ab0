// A real OpenID Connect provider for the authward tests, built on panva's oidc-provider
// (pinned in scripts/oidc/package.json and package-lock.json). scripts/services.sh installs it into
// <cache>/oidc-provider and runs a copy of this script from there. Loopback only, plain HTTP,
// keys made at start, everything in memory: never use it for anything but tests.
//
// Environment:
//   AUTHWARD_OIDC_PORT          port on 127.0.0.1 (default 9090); the issuer is http://127.0.0.1:<port>
//   AUTHWARD_OIDC_PROVIDER_DIR  folder whose node_modules holds oidc-provider (default: resolved
//                               from this script's folder, then the usual Node lookup)
//
// Clients: none are configured. Each test registers its own with dynamic client registration
// (RFC 7591, open, no initial access token): POST /reg with {"redirect_uris": [...]}; optional
// "token_endpoint_auth_method" is client_secret_basic (default), client_secret_post or none.
// Every authorization code request must carry PKCE (code_challenge_method=S256); nonce is
// supported; scopes openid, email, profile; claims sub, email, email_verified, name, all of which
// are put in the ID token as well as served by userinfo (/me).
//
// Login and consent are automatic. The authorization request names the account in login_hint:
//
//   login_hint = base64url(JSON)   JSON: {"sub": "...", "email": "...", "email_verified": true,
//                                         "name": "...", "error": "access_denied"}
//     every field optional; sub defaults to email; email_verified defaults to true; when "error"
//     is set the user "refuses" and the client is sent back with ?error=<that value>.
//   login_hint = anything else     taken as an email address with email_verified true, sub = it.
//   no login_hint                  the client is sent back with ?error=login_required.
//
// Each authorization request (GET) with a login_hint logs that account in afresh (an earlier
// session in the same cookie jar does not carry over), and every requested scope and claim is
// granted, so GET <authorization URL> followed through its redirects with a cookie jar ends at
// <redirect_uri>?code=...&state=...&iss=... without any form. The claims of a sub are those of
// its latest login: use distinct subs for accounts whose claims differ in tests that run at once.
//
// Test counters: GET /__test/stats?client_id=ID -> {"client_id": ID, "token_requests": N,
// "total_token_requests": T}: requests that reached the token endpoint (any outcome) for that
// client, and for all clients. Without client_id: {"token_requests": T, "by_client": {...}}.
// The client_id is read from HTTP Basic authentication or the form body.

import { createRequire } from 'node:module';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

async function loadOidcProvider() {
  const bases = [process.env.AUTHWARD_OIDC_PROVIDER_DIR, dirname(fileURLToPath(import.meta.url))]
    .filter(Boolean);
  for (const base of bases) {
    try {
      const resolved = createRequire(join(base, 'package.json')).resolve('oidc-provider');
      return await import(pathToFileURL(resolved).href);
    } catch (error) {
      if (error?.code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  return import('oidc-provider');
}

const { default: Provider } = await loadOidcProvider();

const HOST = '127.0.0.1';
const PORT = Number.parseInt(process.env.AUTHWARD_OIDC_PORT || '9090', 10);
const ISSUER = `http://${HOST}:${PORT}`;

// ---- accounts: decoded from login_hint ----------------------------------------------------

const accounts = new Map(); // sub -> claims of its latest login

function accountFromHint(hint) {
  let decoded;
  try {
    const text = Buffer.from(hint, 'base64url').toString('utf8');
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) decoded = value;
  } catch {
    // not base64url JSON: a plain email address
  }
  const fields = decoded ?? { email: hint };
  const sub = String(fields.sub ?? fields.email ?? '');
  if (!sub) return { error: 'invalid_request', description: 'login_hint names no sub or email' };
  const claims = { sub };
  if (fields.email !== undefined) {
    claims.email = String(fields.email);
    claims.email_verified = fields.email_verified === undefined ? true : Boolean(fields.email_verified);
  }
  if (fields.name !== undefined) claims.name = String(fields.name);
  return { sub, claims, error: fields.error ? String(fields.error) : undefined };
}

async function findAccount(_ctx, sub) {
  const claims = accounts.get(sub) ?? { sub };
  return {
    accountId: sub,
    async claims() {
      return { ...claims, sub };
    },
  };
}

// ---- keys: made at start, real signatures ----------------------------------------------------

function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid: `${alg}-${randomUUID()}`, alg, use: 'sig' };
}

const jwks = {
  keys: [
    signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
    signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
  ],
};

// ---- the provider -----------------------------------------------------------------------------

const provider = new Provider(ISSUER, {
  jwks,
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  findAccount,
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // Scope-requested claims go into the ID token too, not only to userinfo.
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
  clientDefaults: {
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true, initialAccessToken: false },
    userinfo: { enabled: true },
  },
  interactions: {
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  // No refresh tokens: the tests need the code exchange only.
  issueRefreshToken: async () => false,
});

// ---- token endpoint counter -----------------------------------------------------------------

const tokenRequests = new Map();
let totalTokenRequests = 0;

function basicClientId(header) {
  const match = /^Basic\s+(\S+)/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const raw = colon === -1 ? decoded : decoded.slice(0, colon);
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

const tokenPath = new URL(provider.urlFor('token')).pathname;

provider.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || ctx.path !== tokenPath) return next();
  try {
    await next();
  } finally {
    const clientId = basicClientId(ctx.get('authorization'))
      ?? ctx.oidc?.body?.client_id
      ?? ctx.oidc?.client?.clientId
      ?? '';
    tokenRequests.set(clientId, (tokenRequests.get(clientId) ?? 0) + 1);
    totalTokenRequests += 1;
  }
});

provider.use(async (ctx, next) => {
  if (ctx.path !== '/__test/stats') return next();
  if (ctx.method !== 'GET') {
    ctx.status = 405;
    return undefined;
  }
  const clientId = ctx.query.client_id;
  ctx.set('cache-control', 'no-store');
  ctx.body = typeof clientId === 'string'
    ? { client_id: clientId, token_requests: tokenRequests.get(clientId) ?? 0, total_token_requests: totalTokenRequests }
    : { token_requests: totalTokenRequests, by_client: Object.fromEntries(tokenRequests) };
  return undefined;
});

// ---- a login_hint starts from a fresh session --------------------------------------------
// oidc-provider keeps the End-User's session in a cookie and, when another account logs in over
// it, answers with an auto-submitting logout form. A test provider should not: an authorization
// request that names an account with login_hint drops the session its cookie points at, so the
// hinted account always logs in afresh and its claims are the ones in the hint.

const authorizationPath = new URL(provider.urlFor('authorization')).pathname;

provider.use(async (ctx, next) => {
  if (ctx.path === authorizationPath && ctx.method === 'GET' && ctx.query.login_hint !== undefined) {
    const sessionId = ctx.cookies.get(provider.cookieName('session'), { signed: false });
    if (sessionId) {
      const session = await provider.Session.find(sessionId);
      if (session) await session.destroy();
    }
  }
  return next();
});

// ---- automatic login and consent ----------------------------------------------------------

async function finishInteraction(ctx) {
  const interaction = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params } = interaction;
  let result;
  if (prompt.name === 'login') {
    if (params.login_hint === undefined) {
      result = { error: 'login_required', error_description: 'the test provider needs a login_hint' };
    } else {
      const account = accountFromHint(String(params.login_hint));
      if (account.error) {
        result = { error: account.error, error_description: account.description ?? 'refused by login_hint' };
      } else {
        accounts.set(account.sub, account.claims);
        result = { login: { accountId: account.sub } };
      }
    }
  } else if (prompt.name === 'consent') {
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: interaction.session.accountId, clientId: params.client_id });
    const { details } = prompt;
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    result = { consent: { grantId: await grant.save() } };
  } else {
    result = { error: 'interaction_required', error_description: `unsupported prompt ${prompt.name}` };
  }
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

provider.use(async (ctx, next) => {
  if (ctx.method !== 'GET' || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
  try {
    await finishInteraction(ctx);
  } catch (error) {
    ctx.status = error.statusCode ?? 400;
    ctx.set('cache-control', 'no-store');
    ctx.body = { error: error.error ?? 'server_error', error_description: error.error_description ?? error.message };
  }
  return undefined;
});

provider.on('server_error', (_ctx, error) => console.error('server_error', error));

const server = provider.listen(PORT, HOST, () => {
  console.log(`authward test OIDC provider: issuer ${ISSUER}`);
});

// Everything is in memory: nothing to flush on the way out.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.closeAllConnections();
    process.exit(0);
  });
}
