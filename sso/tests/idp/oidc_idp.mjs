// A real OpenID Connect provider for the SSO tests: node's oidc-provider (pinned in
// package.json) on a loopback port, with a login page of its own and no consent step.
//
//   node oidc_idp.mjs <config.json>
//
// config.json: {"port", "clients": [{"client_id", "client_secret", "redirect_uris"}],
// "users_file"}. The users file is read again at every login and every claims lookup, so a
// test changes what the provider says of a person (groups, amr) by rewriting it:
// {"<email>": {"sub", "name", "groups": [...], "amr": [...], "acr"}}.
//
// Two kinds of client misbehave on purpose, to test what the portal refuses: a client whose
// id starts with "wrongaud" gets ID tokens for another audience, one starting with "expired"
// gets ID tokens that expired ten minutes ago. Both are signed with the provider's own key.
// The server prints "listening <port>" when it accepts connections.
import fs from 'node:fs';
import http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const users = () => JSON.parse(fs.readFileSync(config.users_file, 'utf8'));
const bySub = (sub) => Object.entries(users()).find(([, u]) => u.sub === sub);

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await jose.exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: config.clients.map((c) => ({
    ...c,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  })),
  jwks: { keys: [jwk] },
  cookies: { keys: ['test-cookie-key-not-secret'] },
  // acr and amr with sub, so that every ID token states them, as Keycloak's and Entra ID's do
  // (oidc-provider's default is to include them only when the claims parameter asks).
  claims: {
    auth_time: null, iss: null, sid: null,
    openid: ['sub', 'acr', 'amr'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'],
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // No consent step: every client of this test provider is first-party.
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  findAccount: async (ctx, id) => {
    const found = bySub(id);
    if (!found) return undefined;
    const [email, user] = found;
    return {
      accountId: id,
      claims: async () => ({
        sub: id, email, email_verified: true, name: user.name || email, groups: user.groups || [],
      }),
    };
  },
  ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
});

// The misbehaving clients' ID tokens, re-signed with the provider's key after the fact.
provider.use(async (ctx, next) => {
  await next();
  const clientId = ctx.oidc?.client?.clientId || '';
  if (ctx.path !== '/token' || !ctx.body?.id_token) return;
  if (!clientId.startsWith('wrongaud') && !clientId.startsWith('expired')) return;
  const claims = jose.decodeJwt(ctx.body.id_token);
  const now = Math.floor(Date.now() / 1000);
  if (clientId.startsWith('wrongaud')) claims.aud = 'someone-else';
  if (clientId.startsWith('expired')) Object.assign(claims, { iat: now - 1200, exp: now - 600 });
  ctx.body = {
    ...ctx.body,
    id_token: await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).sign(privateKey),
  };
});

// The portal's callback on any loopback port (the live server's is chosen at random), beside
// the registered URIs.
const redirectUriAllowed = provider.Client.prototype.redirectUriAllowed;
provider.Client.prototype.redirectUriAllowed = function allowed(uri) {
  const url = URL.canParse(uri) ? new URL(uri) : null;
  const loopback = url !== null && url.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(url.hostname)
    && /^\/accounts\/oidc\/sso-[a-z0-9]+\/login\/callback\/$/.test(url.pathname);
  return loopback || redirectUriAllowed.call(this, uri);
};

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html lang="en"><title>${escape(title)}</title><h1>${escape(title)}</h1>${body}</html>`);
}

async function formBody(req) {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return new URLSearchParams(raw);
}

// The login page: an e-mail from the users file signs in; "Deny" ends the request with
// access_denied, as a person refusing (or a provider refusing them) would.
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    return page(res, 200, 'Test identity provider', `
      <form method="post" action="/interaction/${escape(uid)}/login">
        <label>E-mail <input name="email" type="email" autocomplete="off"></label>
        <button type="submit">Sign in</button>
      </form>
      <form method="post" action="/interaction/${escape(uid)}/deny"><button type="submit">Deny</button></form>`);
  }
  const form = await formBody(req);
  if (action === 'deny') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'The person refused the request.',
    }, { mergeWithLastSubmission: false });
  }
  const user = users()[form.get('email') || ''];
  if (!user) return page(res, 400, 'Unknown user', '<p>No such person here.</p>');
  const login = { accountId: user.sub, amr: user.amr || ['pwd'] };
  if (user.acr) login.acr = user.acr;
  return provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = req.url.match(/^\/interaction\/([^/?]+)(?:\/(login|deny))?/);
  if (!match) return callback(req, res);
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (err) {
    page(res, 400, 'Interaction failed', `<p>${escape(err.message)}</p>`);
  }
});
server.listen(config.port, '127.0.0.1', () => console.log(`listening ${config.port}`));
