// The URL policy through the API: IPv6 spellings of refused addresses, ports
// fetch refuses, one peer under several spellings, and gateways stored under
// an older policy, judged again at every connection once the block is on.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { keptOpen, testDatabase } from '../helpers/db.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { checkHealth } from '../helpers/health.js';
import { startPeer, startTokenServer, type TestPeer, type TokenServer } from '../helpers/peers.js';
import { PEER_ENV, refreshGateway, registered, registerGateway, rowCounts, setGatewayEnabled, uuidOf, type RegisterInput } from '../helpers/registry.js';

const TOKEN_FIELD = 'auth.oauth2ClientCredentials.tokenUrl';
const oauth = (tokenUrl: string) => ({ oauth2ClientCredentials: { tokenUrl, clientId: 'c', clientSecret: 's' } });

let peer: TestPeer;
let tokens: TokenServer;
let port: number;
beforeAll(async () => {
  [peer, tokens] = await Promise.all([startPeer({ tools: 2 }), startTokenServer({ clientId: 'c', clientSecret: 's' })]);
  port = Number(new URL(peer.url).port);
});
afterAll(async () => {
  await Promise.all([peer?.close(), tokens?.close()]);
});

/** Expects a ValidationError on `field`, with no row written and neither the peer nor the token endpoint called. */
async function refused(t: TestApp, input: RegisterInput, field: string): Promise<string> {
  const before = await rowCounts(t);
  const [peerBefore, tokensBefore] = [peer.requests.http, tokens.requests.length];
  const result = await registerGateway(t, input);
  expect(result, JSON.stringify(result)).toMatchObject({ __typename: 'ValidationError', field });
  expect(await rowCounts(t)).toEqual(before);
  expect(peer.requests.http).toBe(peerBefore);
  expect(tokens.requests.length).toBe(tokensBefore);
  return result.message;
}

describe('with PEER_BLOCK_PRIVATE_NETWORKS=true', () => {
  let strict: TestApp;
  beforeAll(async () => {
    strict = await startTestApp({ env: { ...PEER_ENV, PEER_BLOCK_PRIVATE_NETWORKS: 'true' } });
  });
  afterAll(() => strict?.close());

  test.each(['[::]', '[0::]', '[::0.0.0.0]'])('http://%s:PORT is refused as the unspecified address, on the URL and the token URL', async (host) => {
    expect(await refused(strict, { name: 'Unspecified', url: `http://${host}:${port}/mcp` }, 'url')).toMatch(/0\.0\.0\.0 \(carried by ::\).*never allowed/);
    const tokenUrl = `http://${host}:${new URL(tokens.url).port}/oauth/token`;
    expect(await refused(strict, { name: 'Unspecified', url: peer.url.replace('127.0.0.1', '93.184.216.34'), auth: oauth(tokenUrl) }, TOKEN_FIELD)).toMatch(
      /never allowed/,
    );
  });

  test.each(['[::ffff:127.0.0.1]', '[::127.0.0.1]', '[64:ff9b::127.0.0.1]'])('http://%s:PORT is refused as loopback, on the URL and the token URL', async (host) => {
    expect(await refused(strict, { name: 'Mapped', url: `http://${host}:${port}/mcp` }, 'url')).toMatch(/127\.0\.0\.1 \(carried by .*private or loopback/);
    const tokenUrl = `http://${host}:${new URL(tokens.url).port}/oauth/token`;
    expect(await refused(strict, { name: 'Mapped', url: 'https://93.184.216.34/mcp', auth: oauth(tokenUrl) }, TOKEN_FIELD)).toMatch(/private or loopback/);
  });
});

describe('with private networks allowed', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: PEER_ENV });
  });
  afterAll(() => t?.close());

  test('the unspecified address and carried link-local addresses are still refused', async () => {
    for (const url of [`http://[::]:${port}/mcp`, `http://[::ffff:169.254.169.254]/`, `http://[::169.254.169.254]/`, `http://[64:ff9b::a9fe:a9fe]/`]) {
      expect(await refused(t, { name: 'Never', url }, 'url')).toMatch(/never allowed/);
    }
  });

  test.each([9, 6000, 6666])('port %i, which fetch refuses, is a ValidationError on url that names it', async (bad) => {
    expect(await refused(t, { name: 'Bad port', url: `http://127.0.0.1:${bad}/mcp` }, 'url')).toMatch(new RegExp(`\\bport ${bad}\\b`));
    expect(await refused(t, { name: 'Bad port', url: peer.url, auth: oauth(`http://127.0.0.1:${bad}/oauth/token`) }, TOKEN_FIELD)).toMatch(
      new RegExp(`\\bport ${bad}\\b`),
    );
  });

  test('one peer under other spellings is a DuplicateGatewayError; the first is stored in the normal spelling', async () => {
    const other = await startPeer({ tools: 1 });
    try {
      const base = `127.0.0.1:${new URL(other.url).port}`;
      const first = await registered(t, { name: 'Spelt oddly', url: `HTTP://${base}/%6Dcp?&` });
      expect(first.url).toBe(other.url);
      const before = await rowCounts(t);
      const requests = other.requests.http;
      for (const url of [
        other.url,
        `${other.url}?`,
        `${other.url}?&`,
        `${other.url}?&&`,
        `http://${base}/%6dcp`,
        `http://${base}/%6D%63%70`,
        `http://${base}/./x/../mcp`,
        `HTTP://${base}/mcp#fragment`,
      ]) {
        expect(await registerGateway(t, { name: `Again ${url}`, url }), url).toMatchObject({
          __typename: 'DuplicateGatewayError',
          existingGatewayId: first.id,
        });
      }
      expect(await rowCounts(t)).toEqual(before);
      expect(other.requests.http).toBe(requests);
      // Host case: the same for a name.
      const named = await registered(t, { name: 'Named', url: `http://LocalHost:${new URL(other.url).port}/mcp` });
      expect(named.url).toBe(`http://localhost:${new URL(other.url).port}/mcp`);
      expect(await registerGateway(t, { name: 'Named again', url: `http://LOCALHOST:${new URL(other.url).port}/%6Dcp?` })).toMatchObject({
        __typename: 'DuplicateGatewayError',
        existingGatewayId: named.id,
      });
    } finally {
      await other.close();
    }
  });
});

describe('a gateway stored while private networks were allowed, once they are blocked', () => {
  let strict: TestApp | undefined;
  let loopback: any;
  let named: any;
  let peerAtName: TestPeer;

  beforeAll(async () => {
    peerAtName = await startPeer({ tools: 1 });
    const database = await testDatabase('pglite');
    // One deployment: the same key opens the stored credentials and checks the fingerprints.
    const env = { ...PEER_ENV, SECRET_KEY: randomBytes(32).toString('base64') };
    const before = await startTestApp({ env, database: keptOpen(database) });
    try {
      loopback = await registered(before, { name: 'Loopback', url: peer.url });
      named = await registered(before, { name: 'By name', url: peerAtName.url.replace('127.0.0.1', 'localhost') });
    } finally {
      await before.close();
    }
    strict = await startTestApp({ env: { ...env, PEER_BLOCK_PRIVATE_NETWORKS: 'true' }, database });
  });
  afterAll(async () => {
    await strict?.close();
    await peerAtName?.close();
  });

  const unreached = () => [peer.requests.http, peerAtName.requests.http];

  test('refreshGateway is a PeerConnectionError BLOCKED saying why, and nothing reaches the peer', async () => {
    const t = strict!;
    const before = unreached();
    const ip = await refreshGateway(t, loopback.id);
    expect(ip).toMatchObject({ __typename: 'PeerConnectionError', reason: 'BLOCKED', httpStatus: null });
    expect(ip.message).toMatch(/127\.0\.0\.1 is in a private or loopback range \(PEER_BLOCK_PRIVATE_NETWORKS=true\)/);
    // A name is judged by what it resolves to at connect time.
    const name = await refreshGateway(t, named.id);
    expect(name).toMatchObject({ __typename: 'PeerConnectionError', reason: 'BLOCKED' });
    expect(name.message).toMatch(/private or loopback/);
    expect(unreached()).toEqual(before);
  });

  test('checkGatewayHealth reports BLOCKED and records the failure', async () => {
    const t = strict!;
    const before = unreached();
    for (const gateway of [loopback, named]) {
      const check = await checkHealth(t, gateway.id);
      expect(check).toMatchObject({ __typename: 'CheckGatewayHealthSuccess', ok: false, reason: 'BLOCKED' });
      expect(check.error).toMatch(/private or loopback/);
      expect(check.gateway.lastError).toMatch(/private or loopback/);
      expect(check.gateway.consecutiveFailures).toBeGreaterThanOrEqual(1);
    }
    expect(unreached()).toEqual(before);
  });

  test('setGatewayEnabled(true) is refused with BLOCKED and the gateway stays disabled', async () => {
    const t = strict!;
    const before = unreached();
    for (const gateway of [loopback, named]) {
      expect(await setGatewayEnabled(t, gateway.id, false)).toMatchObject({ __typename: 'SetGatewayEnabledSuccess', gateway: { enabled: false } });
      const enabled = await setGatewayEnabled(t, gateway.id, true);
      expect(enabled).toMatchObject({ __typename: 'PeerConnectionError', reason: 'BLOCKED' });
      expect(enabled.message).toMatch(/private or loopback/);
      expect(await t.app.db.prisma.gateway.findUniqueOrThrow({ where: { id: uuidOf(gateway.id) } })).toMatchObject({ enabled: false });
    }
    expect(unreached()).toEqual(before);
  });
});
