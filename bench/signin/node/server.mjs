// The side-by-side peer for bench/signin/run.sh: node's oidc-provider (npm) configured
// like latchkey's token endpoint:
// - client_credentials with resource indicators -> RS256-signed JWT access tokens
//   (accessTokenFormat 'jwt'), client_secret_post;
// - refresh_token grants that rotate on every use (rotateRefreshToken: true) and return
//   an RS256 JWT access token and an RS256 ID token (scope openid), as latchkey does.
// One worker process per core (node:cluster), in-memory adapter (oidc-provider's
// default), so each worker holds its own tokens: GET /bench/mint gives a fresh refresh
// token from the worker that serves the connection, and the load driver chains each
// connection's tokens on that same connection.
//
// Usage: node server.mjs PORT [WORKERS]
import cluster from 'node:cluster';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 3000);
const workers = Number(process.argv[3] || os.availableParallelism());
export const CLIENT_ID = 'bench-client';
export const CLIENT_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
const RESOURCE = 'https://graph.microsoft.com';

if (cluster.isPrimary) {
  // Every worker signs with the same 2048-bit key, as latchkey's processes would.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' };
  process.env.BENCH_JWK = JSON.stringify(jwk);
  for (let i = 0; i < workers; i += 1) cluster.fork();
  let ready = 0;
  cluster.on('message', (_w, m) => {
    if (m === 'ready' && (ready += 1) === workers) console.log(`oidc-provider: ${workers} workers on http://localhost:${port}`);
  });
  cluster.on('exit', (w, code) => { console.error(`worker ${w.process.pid} exited ${code}`); });
  const stop = () => { for (const w of Object.values(cluster.workers)) w.kill(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const jwk = JSON.parse(process.env.BENCH_JWK);
  const provider = new Provider(`http://localhost:${port}`, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials', 'refresh_token', 'authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://localhost/cb'],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    jwks: { keys: [jwk] },
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'User.Read',
          audience: RESOURCE,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    scopes: ['openid', 'offline_access', 'User.Read'],
    rotateRefreshToken: true,
    ttl: { AccessToken: 3600, IdToken: 3600, ClientCredentials: 3600, RefreshToken: 14 * 24 * 3600, Grant: 14 * 24 * 3600 },
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id, preferred_username: `${id}@contoso.test`, name: id }) }),
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  const client = await provider.Client.find(CLIENT_ID);
  let minted = 0;
  const mint = async () => {
    minted += 1;
    const accountId = `user-${process.pid}-${minted}`;
    const grant = new provider.Grant({ accountId, clientId: CLIENT_ID });
    grant.addOIDCScope('openid offline_access');
    grant.addResourceScope(RESOURCE, 'User.Read');
    const grantId = await grant.save();
    const rt = new provider.RefreshToken({
      client,
      accountId,
      grantId,
      gty: 'authorization_code',
      scope: 'openid offline_access User.Read',
      resource: RESOURCE,
      authTime: Math.floor(Date.now() / 1000),
      expiresWithSession: false,
    });
    return rt.save();
  };
  const callback = provider.callback();
  http.createServer((req, res) => {
    if (req.url === '/bench/mint') {
      mint().then((value) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ refresh_token: value }));
      }, (e) => { res.statusCode = 500; res.end(String(e)); });
      return;
    }
    callback(req, res);
  }).listen(port, '127.0.0.1', () => process.send('ready'));
}
