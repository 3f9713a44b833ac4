import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createHttpAgent } from '../../src/federation/http-agent.js';
import { createAuthHeaders, type PeerAuth } from '../../src/federation/peer-auth.js';
import { connectPeer, fetchCatalog, probePeer } from '../../src/federation/peer-client.js';
import { PeerConnectionError } from '../../src/federation/peer-errors.js';
import { refusedUrl, startPeer, startTokenServer, type PeerOptions, type TestPeer, type TokenServer } from '../helpers/peers.js';

const agent = createHttpAgent({ connectTimeoutMs: 2_000, headersTimeoutMs: 10_000, bodyTimeoutMs: 30_000 });
afterAll(() => agent.close());

const closers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()));
});
async function peer(options: PeerOptions): Promise<TestPeer> {
  const started = await startPeer(options);
  closers.push(started);
  return started;
}
async function tokenServer(expiresIn = 3600): Promise<TokenServer> {
  const started = await startTokenServer({ clientId: 'gateway a', clientSecret: 's3cr3t:&=+', expiresIn });
  closers.push(started);
  return started;
}

const provider = (auth: PeerAuth, now?: () => number) => createAuthHeaders(auth, { fetch: agent.fetch, ...(now ? { now } : {}) });

/** Connects, lists tools, closes; returns the tool count. */
async function sync(url: string, auth: ReturnType<typeof provider>, transport: 'AUTO' | 'SSE' = 'AUTO'): Promise<number> {
  const session = await connectPeer({ url, auth, fetch: agent.fetch, timeoutMs: 2_000, transport });
  try {
    return (await fetchCatalog(session)).tools.length;
  } finally {
    await session.close();
  }
}

async function rejection(promise: Promise<unknown>): Promise<PeerConnectionError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PeerConnectionError);
  return error as PeerConnectionError;
}

const cases: { name: string; expected: PeerOptions['auth']; right: PeerAuth; wrong: PeerAuth; secret: string }[] = [
  {
    name: 'basic',
    expected: { type: 'basic', username: 'alice', password: 'pa55word' },
    right: { type: 'basic', username: 'alice', password: 'pa55word' },
    wrong: { type: 'basic', username: 'alice', password: 'not-it-at-all' },
    secret: 'not-it-at-all',
  },
  {
    name: 'bearer',
    expected: { type: 'bearer', token: 'tok-right' },
    right: { type: 'bearer', token: 'tok-right' },
    wrong: { type: 'bearer', token: 'tok-wrong-value' },
    secret: 'tok-wrong-value',
  },
  {
    name: 'headers',
    expected: { type: 'headers', headers: { 'x-api-key': 'key-1', 'x-tenant': 'acme' } },
    right: { type: 'headers', headers: [{ name: 'X-Api-Key', value: 'key-1' }, { name: 'X-Tenant', value: 'acme' }] },
    wrong: { type: 'headers', headers: [{ name: 'X-Api-Key', value: 'key-wrong' }, { name: 'X-Tenant', value: 'acme' }] },
    secret: 'key-wrong',
  },
];

describe.each(cases)('$name auth', ({ expected, right, wrong, secret }) => {
  for (const transport of ['streamable', 'sse'] as const) {
    it(`is accepted by a peer that demands it (${transport})`, async () => {
      const p = await peer({ transport, tools: 2, auth: expected });
      expect(await sync(p.url, provider(right))).toBe(2);
      expect(p.requests.unauthorized).toBe(0);
    });
  }

  it('wrong credentials give AUTH_REJECTED, once, with no secret in the message', async () => {
    const p = await peer({ tools: 2, auth: expected });
    const error = await rejection(sync(p.url, provider(wrong)));
    expect(error).toMatchObject({ reason: 'AUTH_REJECTED', status: 401, retryable: false });
    expect(error.message).not.toContain(secret);
    expect(p.requests.http).toBe(1);
  });

  it('no credentials at all give AUTH_REJECTED', async () => {
    const p = await peer({ tools: 2, auth: expected });
    expect((await rejection(sync(p.url, provider({ type: 'none' })))).reason).toBe('AUTH_REJECTED');
  });
});

describe('OAuth 2.0 client credentials', () => {
  const oauth = (tokens: TokenServer, overrides: Partial<Extract<PeerAuth, { type: 'oauth2ClientCredentials' }>> = {}): PeerAuth => ({
    type: 'oauth2ClientCredentials',
    tokenUrl: tokens.url,
    clientId: 'gateway a',
    clientSecret: 's3cr3t:&=+',
    scopes: ['mcp:read', 'mcp:list'],
    audience: 'https://peer.example',
    ...overrides,
  });

  for (const transport of ['streamable', 'sse'] as const) {
    it(`gets a token and is accepted (${transport})`, async () => {
      const tokens = await tokenServer();
      const p = await peer({ transport, tools: 3, auth: { type: 'oauth', tokens } });
      expect(await sync(p.url, provider(oauth(tokens)))).toBe(3);
      expect(tokens.issued).toBe(1);
      // Client authenticated with HTTP Basic (RFC 6749 §2.3.1), scopes space separated.
      expect(tokens.requests).toEqual([{ clientAuth: 'basic', scope: 'mcp:read mcp:list', audience: 'https://peer.example' }]);
    });
  }

  it('caches the token across connections', async () => {
    const tokens = await tokenServer();
    const p = await peer({ tools: 1, auth: { type: 'oauth', tokens } });
    const auth = provider(oauth(tokens));
    await sync(p.url, auth);
    await sync(p.url, auth);
    await Promise.all([sync(p.url, auth), sync(p.url, auth)]);
    expect(tokens.issued).toBe(1);
  });

  it('concurrent first uses share one token request', async () => {
    const tokens = await tokenServer();
    const p = await peer({ tools: 1, auth: { type: 'oauth', tokens } });
    const auth = provider(oauth(tokens));
    await Promise.all([sync(p.url, auth), sync(p.url, auth), sync(p.url, auth)]);
    expect(tokens.issued).toBe(1);
  });

  it('fetches a new token shortly before the old one expires', async () => {
    const tokens = await tokenServer(3600);
    const p = await peer({ tools: 1, auth: { type: 'oauth', tokens } });
    let now = 1_000_000;
    const auth = provider(oauth(tokens), () => now);
    await sync(p.url, auth);
    now += 3600_000 - 31_000; // still more than 30 s left: kept
    await sync(p.url, auth);
    expect(tokens.issued).toBe(1);
    now += 2_000; // inside the last 30 s: renewed
    await sync(p.url, auth);
    expect(tokens.issued).toBe(2);
  });

  for (const transport of ['streamable', 'sse'] as const) {
    it(`a token the peer revoked gets one 401, one refresh, and success (${transport})`, async () => {
      const tokens = await tokenServer();
      const p = await peer({ transport, tools: 2, auth: { type: 'oauth', tokens } });
      const auth = provider(oauth(tokens));
      await sync(p.url, auth);
      tokens.revokeAll();
      expect(await sync(p.url, auth)).toBe(2);
      expect(tokens.issued).toBe(2);
      expect(p.requests.unauthorized).toBe(1);
    });
  }

  it('a peer that keeps answering 401 after the refresh gives AUTH_REJECTED, without a loop', async () => {
    const tokens = await tokenServer();
    const p = await peer({ tools: 1, auth: { type: 'bearer', token: 'something else' } });
    const error = await rejection(sync(p.url, provider(oauth(tokens))));
    expect(error).toMatchObject({ reason: 'AUTH_REJECTED', status: 401 });
    expect(tokens.issued).toBe(2);
    expect(p.requests.unauthorized).toBe(2);
  });

  it('a wrong client secret gives AUTH_REJECTED from the token endpoint, without the secret', async () => {
    const tokens = await tokenServer();
    const p = await peer({ tools: 1, auth: { type: 'oauth', tokens } });
    const error = await rejection(sync(p.url, provider(oauth(tokens, { clientSecret: 'wrong-secret' }))));
    expect(error).toMatchObject({ reason: 'AUTH_REJECTED', status: 401 });
    expect(error.message).toContain('token endpoint rejected the client credentials (HTTP 401 invalid_client)');
    expect(error.message).not.toContain('wrong-secret');
    expect(p.requests.http).toBe(0);
  });

  it('an unreachable token endpoint gives REFUSED', async () => {
    const p = await peer({ tools: 1 });
    const auth = provider({ type: 'oauth2ClientCredentials', tokenUrl: await refusedUrl(), clientId: 'a', clientSecret: 'b' });
    const error = await rejection(sync(p.url, auth));
    expect(error).toMatchObject({ reason: 'REFUSED', retryable: true });
    expect(error.message).toContain('token endpoint');
  });

  it('a token endpoint answering 503 gives a retryable HTTP_STATUS, and the retry loop gets through', async () => {
    const tokens = await startTokenServer({ clientId: 'gateway a', clientSecret: 's3cr3t:&=+', failFirst: { status: 503, times: 1 } });
    closers.push(tokens);
    const p = await peer({ tools: 1, auth: { type: 'oauth', tokens } });
    const failed: unknown[] = [];
    const catalog = await probePeer({
      url: p.url,
      auth: provider(oauth(tokens)),
      fetch: agent.fetch,
      timeoutMs: 2_000,
      retry: { totalTimeoutMs: 2_000, retries: 2, minTimeoutMs: 10, onFailedAttempt: ({ error }) => void failed.push(error) },
    });
    expect(catalog.tools).toHaveLength(1);
    expect(failed).toEqual([expect.objectContaining({ reason: 'HTTP_STATUS', status: 503, retryable: true })]);
    expect(tokens.issued).toBe(1);
    // The peer never saw a request without a token.
    expect(p.requests.unauthorized).toBe(0);
  });
});
