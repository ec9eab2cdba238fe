// The benchmark's peer: the Node.js `oidc-provider` package configured like Relais for the
// measured path (ES256 ID tokens, opaque access tokens, in-memory storage,
// client_secret_basic, one relying party, sessions established once without a UI).
//
// Environment:
//   PORT          port on 127.0.0.1 (0 = any free port; the line below gives the real one)
//   ISSUER        issuer identifier (default http://localhost:<port>)
//   PEER_STORE    "map" (default: unbounded in-memory store, see store.mjs) or "library"
//                 (oidc-provider's own development adapter: at most ~1000 entries)
//   ACCESS_TOKEN_TTL  seconds (default 3600)
//   PEER_VERBOSE  "1" to let oidc-provider print its notices and log every request to stderr
//
// On ready it prints exactly one line to stdout: `peer listening on 127.0.0.1:<port>`.
import * as crypto from 'node:crypto';
import * as http from 'node:http';

import { createMapStore } from './store.mjs';

const verbose = process.env.PEER_VERBOSE === '1';

// oidc-provider prints notices with console.info (stdout) and console.warn, some at import
// time (it warns that Node 20 is not its preferred LTS): keep stdout to the ready line.
// Errors still go to stderr.
{
  const toStderr = (...args) => process.stderr.write(`${args.join(' ')}\n`);
  console.info = verbose ? toStderr : () => {};
  console.warn = verbose ? toStderr : () => {};
  console.log = toStderr;
}

const { default: Provider } = await import('oidc-provider');

const CLIENT_SP = {
  client_id: 'bench-sp',
  client_secret: 'bench-sp-secret-0123456789abcdef0123',
  token_endpoint_auth_method: 'client_secret_basic',
  redirect_uris: ['https://sp.example/callback'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  id_token_signed_response_alg: 'ES256',
};

// The same service with the default algorithm of OpenID Connect, RS256.
const CLIENT_SP_RS256 = { ...CLIENT_SP, client_id: 'bench-sp-rs256', id_token_signed_response_alg: 'RS256' };

// The data-provider client: only calls the introspection endpoint (oidc-provider 9 has no
// introspection_endpoint_auth_method; every endpoint authenticates a client with its
// token_endpoint_auth_method).
const CLIENT_DP = {
  client_id: 'bench-dp',
  client_secret: 'bench-dp-secret-0123456789abcdef0123',
  token_endpoint_auth_method: 'client_secret_basic',
  redirect_uris: [],
  grant_types: [],
  response_types: [],
};

const ACCOUNT_CLAIMS = {
  given_name: 'Angela Claire Louise',
  family_name: 'DUBOIS',
  birthdate: '1962-08-24',
  gender: 'female',
};

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = crypto
    .createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest('base64url');
  return { ...jwk, kid, alg: 'ES256', use: 'sig' };
}

// RSA-2048, as the hub's.
function rsaSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = crypto
    .createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url');
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}

const DAY = 24 * 60 * 60;
const accessTokenTtl = Number.parseInt(process.env.ACCESS_TOKEN_TTL ?? '3600', 10);
if (!(accessTokenTtl > 0)) throw new Error('ACCESS_TOKEN_TTL must be a positive integer');

function configuration() {
  const storeKind = process.env.PEER_STORE ?? 'map';
  if (storeKind !== 'map' && storeKind !== 'library') {
    throw new Error('PEER_STORE must be "map" or "library"');
  }
  return {
    adapter: storeKind === 'map' ? createMapStore({ clockTolerance: 15 }).Adapter : undefined,
    clients: [CLIENT_SP, CLIENT_SP_RS256, CLIENT_DP],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
    clientAuthMethods: ['client_secret_basic'],
    responseTypes: ['code'],
    jwks: { keys: [signingKey(), rsaSigningKey()] },
    cookies: {
      keys: ['relais-bench-peer-cookie-key-0', 'relais-bench-peer-cookie-key-1'],
    },
    scopes: ['openid', 'profile'],
    claims: {
      openid: ['sub'],
      profile: ['given_name', 'family_name', 'birthdate', 'gender'],
    },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true, allowedPolicy: async () => true },
      userinfo: { enabled: true },
      // No resource indicators: access tokens are for the userinfo endpoint, hence opaque.
      resourceIndicators: { enabled: false },
      revocation: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
    },
    pkce: { required: () => false },
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: DAY,
      Grant: DAY,
    },
    interactions: {
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, ...ACCOUNT_CLAIMS };
        },
      };
    },
    clientBasedCORS: () => false,
    async renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  };
}

// Completes the interaction at once, without a page: the login prompt with a new account,
// the consent prompt with a grant of what was asked. oidc-provider then redirects (303) back
// to its resume URL, which either asks for the next prompt or answers the client.
let loginCounter = 0;
async function completeInteraction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  switch (prompt.name) {
    case 'login': {
      const hint = typeof params.login_hint === 'string' ? params.login_hint : '';
      const accountId = /^[A-Za-z0-9._-]{1,64}$/.test(hint)
        ? `bench-user-${hint}`
        : `bench-user-${++loginCounter}`;
      await provider.interactionFinished(req, res, { login: { accountId } }, {
        mergeWithLastSubmission: false,
      });
      return;
    }
    case 'consent': {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
      grant.addOIDCScope(missingOIDCScope ? missingOIDCScope.join(' ') : 'openid profile');
      if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      const consent = details.grantId ? {} : { grantId };
      await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
      return;
    }
    default:
      throw new Error(`unexpected prompt ${prompt.name}`);
  }
}

const INTERACTION_PATH = /^\/interaction\/[A-Za-z0-9_-]+$/;

let handler = (req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = http.createServer((req, res) => handler(req, res));
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

server.listen(Number.parseInt(process.env.PORT ?? '0', 10) || 0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = process.env.ISSUER || `http://localhost:${port}`;
  const provider = new Provider(issuer, configuration());
  provider.proxy = false;
  provider.on('server_error', (ctx, error) => {
    process.stderr.write(`peer: server_error on ${ctx.method} ${ctx.path}: ${error.stack}\n`);
  });
  const oidc = provider.callback();
  handler = (req, res) => {
    if (verbose) {
      res.on('finish', () => process.stderr.write(`${req.method} ${req.url} ${res.statusCode}\n`));
    }
    const path = req.url.split('?', 1)[0];
    if (req.method === 'GET' && INTERACTION_PATH.test(path)) {
      completeInteraction(provider, req, res).catch((error) => {
        if (verbose) process.stderr.write(`peer: interaction failed: ${error.stack}\n`);
        if (!res.headersSent) {
          res.statusCode = error.statusCode ?? 500;
          res.setHeader('Content-Type', 'text/plain');
        }
        res.end(`interaction failed: ${error.message}\n`);
      });
      return;
    }
    oidc(req, res);
  };
  process.stdout.write(`peer listening on 127.0.0.1:${port}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
