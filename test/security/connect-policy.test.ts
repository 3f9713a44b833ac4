// The URL policy at connect time: the outbound agent vets the address each
// connection is made to, whatever was checked when the URL was registered.
// Real MCP peers and a real token endpoint on 127.0.0.1; the registration-time
// check is bypassed by calling the agent, the peer access and the OAuth
// provider directly.
import type { LookupAddress } from 'node:dns';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createHttpAgent, type ConnectLookup, type HttpAgent } from '../../src/federation/http-agent.js';
import { createAuthHeaders } from '../../src/federation/peer-auth.js';
import { classifyError, PeerConnectionError } from '../../src/federation/peer-errors.js';
import { createPeerAccess } from '../../src/federation/peer-probe.js';
import { checkPeerUrl } from '../../src/security/url-policy.js';
import { startPeer, startTokenServer, type TestPeer, type TokenServer } from '../helpers/peers.js';

const agents: HttpAgent[] = [];
function agent(blockPrivateNetworks: boolean, lookup?: ConnectLookup): HttpAgent {
  const made = createHttpAgent({ connectTimeoutMs: 2_000, headersTimeoutMs: 5_000, bodyTimeoutMs: 5_000, blockPrivateNetworks, lookup });
  agents.push(made);
  return made;
}

/** A resolver that answers every name with these addresses, and counts the lookups. */
function fixedLookup(...addresses: string[]): ConnectLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string): Promise<LookupAddress[]> => {
    calls.push(hostname);
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

/** The PeerConnectionError a fetch through the agent fails with. */
async function fetchFailure(http: HttpAgent, url: string): Promise<PeerConnectionError> {
  const error = await http.fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }).then(
    async (response) => {
      await response.body?.cancel();
      return new Error(`expected a refusal, got HTTP ${response.status}`);
    },
    (e: unknown) => e,
  );
  const failure = classifyError(error);
  expect(failure, String(error)).toBeInstanceOf(PeerConnectionError);
  return failure;
}

async function expectBlocked(http: HttpAgent, url: string, pattern: RegExp): Promise<void> {
  const failure = await fetchFailure(http, url);
  expect(failure.reason, failure.message).toBe('BLOCKED');
  expect(failure.retryable).toBe(false);
  expect(failure.message).toMatch(pattern);
}

let peer: TestPeer;
let port: number;
beforeAll(async () => {
  peer = await startPeer({ tools: 2 });
  port = Number(new URL(peer.url).port);
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
});
afterAll(() => peer?.close());

/** Asserts the peer saw no request during `work`. */
async function untouched(work: () => Promise<void>): Promise<void> {
  const before = peer.requests.http;
  await work();
  expect(peer.requests.http).toBe(before);
}

describe('connect-time vetting by the outbound agent', () => {
  test('a host name that resolves to 127.0.0.1 (localhost) is refused at connect when private networks are blocked', async () => {
    const url = `http://localhost:${port}/mcp`;
    await untouched(() => expectBlocked(agent(true), url, /private or loopback/));
    // The same request through an agent that allows private networks reaches the peer.
    const before = peer.requests.http;
    const response = await agent(false).fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    await response.body?.cancel();
    expect(peer.requests.http).toBe(before + 1);
  });

  test('IP literals are judged at connect: loopback and its IPv6 spellings when blocked, the unspecified address always', async () => {
    const strict = agent(true);
    const open = agent(false);
    await untouched(async () => {
      await expectBlocked(strict, peer.url, /peer address 127\.0\.0\.1 is in a private or loopback range/);
      await expectBlocked(strict, `http://[::ffff:127.0.0.1]:${port}/mcp`, /127\.0\.0\.1 \(carried by ::ffff:7f00:1\)/);
      await expectBlocked(strict, `http://[64:ff9b::7f00:1]:${port}/mcp`, /127\.0\.0\.1 \(carried by 64:ff9b::7f00:1\)/);
      for (const spelling of ['[::]', '[0::]', '[::0.0.0.0]']) {
        await expectBlocked(strict, `http://${spelling}:${port}/mcp`, /never allowed/);
        await expectBlocked(open, `http://${spelling}:${port}/mcp`, /never allowed/);
      }
      await expectBlocked(open, `http://[::169.254.169.254]:${port}/`, /169\.254\.169\.254 .*never allowed/);
    });
  });

  test('the socket goes to the address the vetting lookup approved, and a name whose DNS changed after its check is refused', async () => {
    // It passed the registration check while it resolved to a public address...
    const url = `http://peer.rebinding.test:${port}/mcp`;
    await expect(checkPeerUrl(url, { blockPrivateNetworks: true, resolve: async () => ['93.184.216.34'] })).resolves.toBe(url);
    // ...and now resolves to loopback.
    const rebound = fixedLookup('127.0.0.1');
    await untouched(() => expectBlocked(agent(true, rebound), url, /127\.0\.0\.1/));
    expect(rebound.calls).toEqual(['peer.rebinding.test']);
    // One blocked address among several is enough to refuse.
    await untouched(() => expectBlocked(agent(true, fixedLookup('93.184.216.34', '::ffff:10.0.0.1')), url, /10\.0\.0\.1/));
    // With private networks allowed, the same lookup's answer is where the request goes.
    const before = peer.requests.http;
    const response = await agent(false, fixedLookup('127.0.0.1')).fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    await response.body?.cancel();
    expect(peer.requests.http).toBe(before + 1);
  });

  test('an MCP probe through the agent fails with BLOCKED and is not retried', async () => {
    const lookup = fixedLookup('127.0.0.1');
    const access = createPeerAccess({ fetch: agent(true, lookup).fetch, timeoutMs: 2_000, retry: { totalTimeoutMs: 10_000, retries: 3 } });
    await untouched(async () => {
      const error = await access.probe({ gatewayId: null, url: `http://peer.test:${port}/mcp`, transport: 'AUTO', auth: { type: 'none' } }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PeerConnectionError);
      expect(error).toMatchObject({ reason: 'BLOCKED', retryable: false });
    });
    // One connection attempt, not one per retry.
    expect(lookup.calls).toEqual(['peer.test']);
  });

  test('over the SSE transport too: BLOCKED when refused, a full probe when allowed', async () => {
    const sse = await startPeer({ transport: 'sse', tools: 3 });
    try {
      const target = { gatewayId: null, url: sse.url.replace('127.0.0.1', 'localhost'), transport: 'SSE' as const, auth: { type: 'none' as const } };
      const retry = { totalTimeoutMs: 10_000, retries: 0 };
      const strict = createPeerAccess({ fetch: agent(true).fetch, timeoutMs: 2_000, retry });
      const error = await strict.probe(target).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ reason: 'BLOCKED', retryable: false });
      expect(sse.requests.http).toBe(0);
      const open = createPeerAccess({ fetch: agent(false).fetch, timeoutMs: 2_000, retry });
      expect((await open.probe(target)).catalog.tools).toHaveLength(3);
    } finally {
      await sse.close();
    }
  });

  test('an OAuth token endpoint on a blocked address is refused at connect, and gets no request', async () => {
    const tokens: TokenServer = await startTokenServer({ clientId: 'c', clientSecret: 's' });
    try {
      const tokenUrl = tokens.url.replace('127.0.0.1', 'localhost');
      const provider = createAuthHeaders({ type: 'oauth2ClientCredentials', tokenUrl, clientId: 'c', clientSecret: 's' }, { fetch: agent(true).fetch });
      const error = await provider.headers().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PeerConnectionError);
      expect(error).toMatchObject({ reason: 'BLOCKED', retryable: false });
      expect((error as Error).message).toMatch(/token endpoint address 127\.0\.0\.1/);
      expect(tokens.requests).toHaveLength(0);
      // Allowed, the same endpoint issues a token.
      const allowed = createAuthHeaders({ type: 'oauth2ClientCredentials', tokenUrl, clientId: 'c', clientSecret: 's' }, { fetch: agent(false).fetch });
      expect((await allowed.headers()).authorization).toMatch(/^Bearer /);
      expect(tokens.requests).toHaveLength(1);
    } finally {
      await tokens.close();
    }
  });
});
