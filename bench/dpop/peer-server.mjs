// The peer (panva's oidc-provider) for the DPoP row: the setup of ../shared/bench/peer/server.js
// for its JWT variant (RFC 9068 access tokens through resourceIndicators, one
// client_secret_basic client, the default in-memory adapter, one process) with DPoP (RFC 9449)
// enabled explicitly. oidc-provider checks a proof's typ, alg (ES256/Ed25519/EdDSA), embedded
// jwk, signature, htm, htu, iat within ±300 s and its jti against a replay cache (in the
// in-memory adapter: an LRU of 1000 entries); it answers token_type DPoP with cnf.jkt.
// Run by bench/dpop/run.sh from the peer's install directory (its node_modules).
//
// Environment: PORT=3000, AT_ALG=ES256, CLIENT_ID, CLIENT_SECRET, SCOPE (as server.js).
import { generateKeyPairSync } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

const PORT = Number(process.env.PORT || 3000);
const HOST = '127.0.0.1';
const AT_ALG = process.env.AT_ALG || 'ES256';
const CLIENT_ID = process.env.CLIENT_ID || 'bench-client';
const CLIENT_SECRET = process.env.CLIENT_SECRET || 'bench-secret-6c1e0f7a2b9d4e3f8a5c1b7d9e2f4a6c';
const SCOPE = process.env.SCOPE || 'api:read api:write';
const RESOURCE = 'urn:bench:api';

function makeJwks() {
  const jwk = (kp, kid, extra = {}) => ({ ...kp.privateKey.export({ format: 'jwk' }), kid, use: 'sig', ...extra });
  return {
    keys: [
      jwk(generateKeyPairSync('rsa', { modulusLength: 2048 }), 'rsa-2048'),
      jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'p256'),
      jwk(generateKeyPairSync('ed25519'), 'ed25519'),
    ],
  };
}

const provider = new Provider(`http://${HOST}:${PORT}`, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: SCOPE,
  }],
  scopes: SCOPE.split(' '),
  jwks: makeJwks(),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // The difference from server.js: sender-constrained tokens, replay detection on, no nonce
    // (Tessera's default too).
    dPoP: { enabled: true, allowReplay: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: SCOPE,
          audience: RESOURCE,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: AT_ALG } },
        };
      },
    },
  },
  ttl: { ClientCredentials: 300 },
  findAccount: async () => undefined,
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.listen(PORT, HOST);
console.log(`oidc-provider ${process.pid} listening on http://${HOST}:${PORT} (JWT ${AT_ALG}, DPoP, node ${process.version})`);
