// OAuth 2.0 client credentials to a peer, end to end through the GraphQL API:
// a real token endpoint, a peer that accepts only its live tokens. The token is
// fetched once and shared by registration and later syncs, renewed shortly
// before it expires, fetched again exactly once when the peer answers 401.
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { openAuth } from '../../src/federation/auth-storage.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/health.js';
import { startPeer, startTokenServer, type TestPeer, type TokenServer } from '../helpers/peers.js';
import { dumpDatabase, expectNoSecrets, recordingClient, type RecordingClient } from '../helpers/secret-scan.js';
import { REFRESH, REGISTER, UPDATE } from './peer-credentials-documents.js';

const CLIENT_ID = 'federation client';
const SECRETS = { clientSecret: 'oauth-secret-V3cR8n :&=+%', wrongClientSecret: 'oauth-wrong-T6yU2i' };
const SCOPES = ['mcp:tools', 'mcp:resources'];
const AUDIENCE = 'urn:peer:mcp';
const HOUR = 3_600_000;

let t: TestApp;
let api: RecordingClient;
const closers: { close(): Promise<void> }[] = [];
/** Every access token a peer was shown: secrets too. */
const accessTokens = new Set<string>();

interface OAuthPeer {
  tokens: TokenServer;
  peer: TestPeer;
  credentials: (overrides?: Record<string, unknown>) => { oauth2ClientCredentials: Record<string, unknown> };
}

async function oauthPeer(): Promise<OAuthPeer> {
  const tokens = await startTokenServer({ clientId: CLIENT_ID, clientSecret: SECRETS.clientSecret, expiresIn: HOUR / 1000 });
  const watched = { isValid: (token: string) => (accessTokens.add(token), tokens.isValid(token)) } as TokenServer;
  const peer = await startPeer({ tools: 2, auth: { type: 'oauth', tokens: watched } });
  closers.push(tokens, peer);
  const base = { tokenUrl: tokens.url, clientId: CLIENT_ID, clientSecret: SECRETS.clientSecret, scopes: SCOPES, audience: AUDIENCE };
  const credentials = (overrides: Record<string, unknown> = {}) => ({ oauth2ClientCredentials: { ...base, ...overrides } });
  return { tokens, peer, credentials };
}

async function register(name: string, url: string, auth: Record<string, unknown>) {
  return (await api.gql(REGISTER, { input: { name, url, auth } })).data.registerGateway;
}
async function registered(name: string, p: OAuthPeer): Promise<string> {
  const result = await register(name, p.peer.url, p.credentials());
  expect(result.__typename).toBe('RegisterGatewaySuccess');
  return result.gateway.id;
}
async function refresh(id: string): Promise<void> {
  expect((await api.gql(REFRESH, { id })).data.refreshGateway).toMatchObject({ __typename: 'RefreshGatewaySuccess', gateway: { reachable: true } });
}

beforeAll(async () => {
  t = await startTestApp();
  api = recordingClient(t);
});
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  await t?.close();
  await Promise.all(closers.map((c) => c.close()));
});

describe('OAuth 2.0 client credentials', () => {
  test('one token serves the registration and two refreshes; scopes and audience go to the token endpoint', async () => {
    const p = await oauthPeer();
    const id = await registered('oauth reuse', p);
    await refresh(id);
    await refresh(id);
    expect(p.tokens.issued).toBe(1);
    expect(p.tokens.requests).toEqual([{ clientAuth: 'basic', scope: SCOPES.join(' '), audience: AUDIENCE }]);
    expect(p.peer.requests.unauthorized).toBe(0);
    expect(p.peer.requests.methods.initialize).toBe(3);
  });

  test('the token is renewed shortly before it expires, and after it expired, without a 401', async () => {
    // Only Date is faked (and keeps running): the app's token cache and the token endpoint share this clock.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const p = await oauthPeer();
    const before = Date.now();
    const id = await registered('oauth expiry', p);
    const after = Date.now();
    expect(after - before).toBeLessThan(30_000); // the margin below relies on it
    expect(p.tokens.issued).toBe(1);

    // Well inside its hour: the cached token is used.
    vi.setSystemTime(before + HOUR - 60_000);
    await refresh(id);
    expect(p.tokens.issued).toBe(1);

    // Less than 30 s left (the token endpoint still takes it): renewed before use.
    vi.setSystemTime(after + HOUR - 30_000);
    await refresh(id);
    expect(p.tokens.issued).toBe(2);

    // Long expired: renewed before use, not after a rejection.
    vi.setSystemTime(Date.now() + 5 * HOUR);
    await refresh(id);
    expect(p.tokens.issued).toBe(3);
    expect(p.peer.requests.unauthorized).toBe(0);
  });

  test('a token the peer no longer accepts: one 401, exactly one new token, and the refresh succeeds', async () => {
    const p = await oauthPeer();
    const id = await registered('oauth revoked', p);
    expect(p.tokens.issued).toBe(1);
    p.tokens.revokeAll();
    await refresh(id);
    expect(p.tokens.issued).toBe(2);
    expect(p.peer.requests.unauthorized).toBe(1);
    await refresh(id);
    expect(p.tokens.issued).toBe(2);
    expect(p.peer.requests.unauthorized).toBe(1);
  });

  test('a token endpoint that rejects the client: AUTH_REJECTED, the peer is never called, nothing stored', async () => {
    const p = await oauthPeer();
    const dump = await dumpDatabase(t);
    const result = await register('oauth rejected', p.peer.url, p.credentials({ clientSecret: SECRETS.wrongClientSecret }));
    expect(result).toMatchObject({ __typename: 'PeerConnectionError', reason: 'AUTH_REJECTED', httpStatus: 401 });
    expect(result.message).toMatch(/token endpoint/);
    expectNoSecrets({ message: [result.message] }, SECRETS);
    expect(p.tokens.requests).toHaveLength(1);
    expect(p.tokens.issued).toBe(0);
    expect(p.peer.requests.http).toBe(0);
    expect(await dumpDatabase(t)).toEqual(dump);
  });

  test('a token endpoint whose answer never ends: PROTOCOL after 64 KiB read, the peer is never called, nothing stored', async () => {
    const tokens = await startTokenServer({ clientId: CLIENT_ID, clientSecret: SECRETS.clientSecret, flood: true });
    const peer = await startPeer({ tools: 1 });
    closers.push(tokens, peer);
    const dump = await dumpDatabase(t);
    const result = await register('oauth flood', peer.url, {
      oauth2ClientCredentials: { tokenUrl: tokens.url, clientId: CLIENT_ID, clientSecret: SECRETS.clientSecret },
    });
    expect(result).toMatchObject({ __typename: 'PeerConnectionError', reason: 'PROTOCOL' });
    expect(result.message).toBe('token endpoint answered with more than 65536 bytes');
    // The connection was cut: the endpoint could write little more than socket buffers hold, not its gigabyte.
    await until(() => tokens.flooded > 0, 5_000, 'the flood to start');
    expect(tokens.flooded).toBeLessThan(64 * 1024 ** 2);
    expect(peer.requests.http).toBe(0);
    expect(await dumpDatabase(t)).toEqual(dump);
  });

  test('updateGateway without clientSecret keeps the stored one; other scopes get their own token', async () => {
    const p = await oauthPeer();
    const id = await registered('oauth update', p);
    const { clientSecret: _left, ...withoutSecret } = p.credentials({ scopes: ['mcp:tools'] }).oauth2ClientCredentials;
    const { data } = await api.gql(UPDATE, { id, input: { auth: { oauth2ClientCredentials: withoutSecret } } });
    expect(data.updateGateway).toMatchObject({
      __typename: 'UpdateGatewaySuccess',
      gateway: { auth: { type: 'OAUTH2_CLIENT_CREDENTIALS', scopes: ['mcp:tools'], audience: AUDIENCE } },
    });
    // The token endpoint took the stored secret for the new scopes.
    expect(p.tokens.issued).toBe(2);
    expect(p.tokens.requests.at(-1)).toEqual({ clientAuth: 'basic', scope: 'mcp:tools', audience: AUDIENCE });
    await refresh(id);
    expect(p.tokens.issued).toBe(2);

    const box = await SecretBox.load(t.app.config.SECRET_KEY, t.app.config.DATA_DIR);
    const [row] = await t.app.db.sql.query<any>('SELECT auth_type, auth_public, auth_secret FROM gateway WHERE name = $1', ['oauth update']);
    expect(openAuth({ authType: row.auth_type, authPublic: row.auth_public, authSecret: row.auth_secret }, box)).toMatchObject({
      clientSecret: SECRETS.clientSecret,
      scopes: ['mcp:tools'],
    });
  });

  test('same URL and same client under another name is a duplicate, also after a rename; another client is not', async () => {
    const p = await oauthPeer();
    // No scopes, no audience: stored and read back as [] and nothing, still the same credentials.
    const bare = { tokenUrl: p.tokens.url, clientId: CLIENT_ID, clientSecret: SECRETS.clientSecret };
    const first = await register('oauth dup', p.peer.url, { oauth2ClientCredentials: bare });
    expect(first.__typename).toBe('RegisterGatewaySuccess');
    const renamed = await api.gql(UPDATE, { id: first.gateway.id, input: { name: 'oauth dup renamed' } });
    expect(renamed.data.updateGateway.__typename).toBe('UpdateGatewaySuccess');

    const again = await register('oauth dup again', p.peer.url, { oauth2ClientCredentials: bare });
    expect(again).toMatchObject({ __typename: 'DuplicateGatewayError', existingGatewayId: first.gateway.id });
    const scoped = await register('oauth dup scoped', p.peer.url, { oauth2ClientCredentials: { ...bare, scopes: ['mcp:tools'] } });
    expect(scoped.__typename).toBe('RegisterGatewaySuccess');
  });

  // Runs last: it scans what every test above left behind.
  test('neither the client secret nor any access token shows in the database, the responses or the logs', async () => {
    expect(accessTokens.size).toBeGreaterThanOrEqual(5);
    const secrets = { ...SECRETS, ...Object.fromEntries([...accessTokens].map((token, i) => [`accessToken${i}`, token])) };
    const dump = await dumpDatabase(t);
    expect(dump.some((line) => line.startsWith('public.gateway:') && line.includes(CLIENT_ID))).toBe(true);
    expect(t.logs.some((line) => line.includes('registered gateway'))).toBe(true);
    expectNoSecrets({ database: dump, responses: api.responses, logs: t.logs }, secrets);
  });
});
