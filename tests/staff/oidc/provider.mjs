// A real OpenID Connect provider (oidc-provider, OpenID-certified) on loopback for the staff login tests.
// Usage: node provider.mjs PORT REDIRECT_URI KEY_FILE [ISSUER]
// ISSUER (default http://127.0.0.1:PORT) lets a test put a proxy in front: every URL the provider publishes
// (discovery, authorisation, token, keys) then names the proxy, which forwards to PORT.
// Writes its private signing key (JWK) to KEY_FILE so a test can sign ID tokens it forges (wrong audience,
// issuer, expiry) with the provider's own key. The interaction (the university's login screen) is replaced by
// GET /interaction/<uid>/as/<user>: the test picks which person logs in. One client: edc-bridge / its secret.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const [port, redirectUri, keyFile, issuerArg] = process.argv.slice(2);
const issuer = issuerArg || `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
writeFileSync(keyFile, JSON.stringify(jwk));

const people = {
  viewer: { email: 'vera.viewer@uni.example', name: 'Vera Viewer', roles: ['viewer', 'library-staff'] },
  registrar: { email: 'rasa.registrar@uni.example', name: 'Rasa Registrar', roles: ['registrar'] },
  admin: { email: 'adam.admin@uni.example', name: 'Adam Admin', roles: ['admin'] },
  norole: { email: 'nora.norole@uni.example', name: 'Nora Norole', roles: [] },
  assigned: { email: 'asta.assigned@uni.example', name: 'Asta Assigned' }, // no role claim: roles from the sidecar
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'edc-bridge',
    client_secret: 'edc-bridge-test-client-secret-0123456789',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  conformIdTokenClaims: false, // the scope's claims go into the ID token (the sidecar reads no userinfo)
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'roles'] },
  cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const person = people[id];
    if (!person) return undefined;
    return {
      accountId: id,
      async claims() {
        const claims = { sub: id, email: person.email, email_verified: true, name: person.name };
        if (person.roles) claims.roles = person.roles;
        return claims;
      },
    };
  },
});

const server = http.createServer(async (req, res) => {
  const match = req.url.match(/^\/interaction\/([^/]+)\/as\/([a-z]+)$/);
  if (!match) {
    if (req.url.startsWith('/interaction/')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('login screen: GET /interaction/<uid>/as/<person>');
      return;
    }
    provider.callback()(req, res);
    return;
  }
  try {
    const details = await provider.interactionDetails(req, res);
    const accountId = match[2];
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false });
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(err));
  }
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`ready ${issuer}\n`));
