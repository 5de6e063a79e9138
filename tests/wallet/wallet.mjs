// An independent wallet for the tests: takes a credential offer into an SD-JWT VC over OpenID4VCI 1.0.
//
//   node wallet.mjs '<openid-credential-offer://...>' <transaction code> <CA PEM file> [alter]
//
// The client side of the flow is @openid4vc/openid4vci (resolve the offer and the issuer's metadata, the
// pre-authorised code token request with the transaction code, the nonce endpoint, the `jwt` key proof,
// the credential request); the credential is verified with @sd-jwt/sd-jwt-vc, its issuer key taken from
// the x5c certificate, which must be issued by the CA in the PEM file and valid now. The holder's key is
// made here (as a phone's wallet makes its own). Prints one JSON object; exits 1 with {"error"} otherwise.
// With "alter", it also tells what the same library makes of the credential once a disclosure is changed
// (0.19.0 drops the altered disclosure and verifies the rest, like PyPI's sd-jwt: see the test).
import { createHash, generateKeyPairSync, randomBytes, sign, verify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { clientAuthenticationAnonymous, setGlobalConfig } from '@openid4vc/oauth2';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';

const [offer, txCode, caFile, mode] = process.argv.slice(2);
setGlobalConfig({ allowInsecureUrls: offer.includes('http%3A%2F%2F127.0.0.1') }); // loopback in the tests only

const b64url = (data) => Buffer.from(data).toString('base64url');
const sha = (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest();

const holder = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const holderJwk = holder.publicKey.export({ format: 'jwk' });

async function signJwt(signer, { header, payload }) {
  if (signer.method !== 'jwk' || signer.alg !== 'ES256') throw new Error(`cannot sign with ${signer.method}`);
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(input), { key: holder.privateKey, dsaEncoding: 'ieee-p1363' });
  return { jwt: `${input}.${b64url(signature)}`, signerJwk: holderJwk };
}

const client = new Openid4vciClient({
  callbacks: {
    fetch: globalThis.fetch,
    hash: sha,
    generateRandom: (n) => randomBytes(n),
    signJwt,
    clientAuthentication: clientAuthenticationAnonymous(),
  },
});

function issuerKey(credential, ca) {
  const header = JSON.parse(Buffer.from(credential.split('.')[0], 'base64url').toString('utf8'));
  if (!Array.isArray(header.x5c) || header.x5c.length === 0) throw new Error('the credential carries no x5c');
  const leaf = new X509Certificate(Buffer.from(header.x5c[0], 'base64'));
  const now = new Date();
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) throw new Error('the seal certificate is not issued by our CA');
  if (new Date(leaf.validFrom) > now || new Date(leaf.validTo) < now) throw new Error('the seal certificate is not valid now');
  return { alg: header.alg, typ: header.typ, key: leaf.publicKey, subject: leaf.subject };
}

function verifierFor(issuer) {
  return async (data, signature) => {
    const options = issuer.alg.startsWith('ES') ? { key: issuer.key, dsaEncoding: 'ieee-p1363' } : issuer.key;
    return verify('sha256', Buffer.from(data), options, Buffer.from(signature, 'base64url'));
  };
}

function altered(credential) {
  const parts = credential.split('~');
  const disclosure = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  disclosure[disclosure.length - 1] = 'Mallory';
  parts[1] = b64url(JSON.stringify(disclosure));
  return parts.join('~');
}

async function main() {
  const ca = new X509Certificate(readFileSync(caFile));
  const credentialOffer = await client.resolveCredentialOffer(offer);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const configurationId = credentialOffer.credential_configuration_ids[0];
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, txCode,
  });
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: configurationId, nonce,
    signer: { method: 'jwk', alg: 'ES256', publicJwk: holderJwk },
  });
  const response = await client.retrieveCredentials({
    issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configurationId,
    proofs: { jwt: [jwt] },
  });
  const credential = response.credentialResponse.credentials[0].credential;
  const issuer = issuerKey(credential, ca);
  const sdjwt = new SDJwtVcInstance({ hasher: sha, verifier: verifierFor(issuer) });
  const verified = await sdjwt.verify(credential, { currentDate: Math.floor(Date.now() / 1000) });
  const claims = await sdjwt.getClaims(credential);
  const result = {
    configuration: configurationId,
    format: issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId].format,
    typ: issuer.typ, alg: issuer.alg, signer: issuer.subject,
    vct: verified.payload.vct, iss: verified.payload.iss,
    holder_bound: ['kty', 'crv', 'x', 'y'].every((name) => verified.payload.cnf?.jwk?.[name] === holderJwk[name]),
    claims,
    credential,
  };
  if (mode === 'alter') {
    try {
      await sdjwt.verify(altered(credential), { currentDate: Math.floor(Date.now() / 1000) });
      const alteredClaims = await sdjwt.getClaims(altered(credential));
      result.altered = { refused: false, claims: alteredClaims, credential: altered(credential) };
    } catch (error) {
      result.altered = { refused: true, error: String(error.message || error) };
    }
  }
  process.stdout.write(JSON.stringify(result));
}

main().catch((error) => {
  const detail = error.errorResponse ?? error.response?.body ?? undefined;
  process.stdout.write(JSON.stringify({ error: String(error.message || error), detail }));
  process.exit(1);
});
