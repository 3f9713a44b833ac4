import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createHttpAgent } from '../../src/federation/http-agent.js';
import type { PeerSession } from '../../src/federation/peer-client.js';
import { PeerConnectionError } from '../../src/federation/peer-errors.js';
import { createPeerAccess } from '../../src/federation/peer-probe.js';
import { createLogger } from '../../src/logger.js';
import { PeerPool, type PeerPoolOptions, type PooledGateway } from '../../src/mcp/peer-pool.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { until } from '../helpers/health.js';
import { peerPool, refusedUrl, type PeerOptions, type TestPeer } from '../helpers/peers.js';
import { peerFailure } from '../helpers/peer-failure.js';

const agent = createHttpAgent({ connectTimeoutMs: 2_000, headersTimeoutMs: 10_000, bodyTimeoutMs: 30_000 });
const peers = createPeerAccess({ fetch: agent.fetch, timeoutMs: 2_000, retry: { totalTimeoutMs: 5_000, retries: 0 } });
const box = SecretBox.fromKey(randomBytes(32));
const logger = createLogger('silent', new Writable({ write: (_chunk, _encoding, done) => done() }));

const started = peerPool();
const pools: PeerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  await started.closeAll();
});
afterAll(() => agent.close());

/** A peer whose `add` tool records each run, so a test can tell a call that ran twice. */
function counting(options: PeerOptions = {}) {
  const ran: number[] = [];
  const callTool = async (_name: string, args: Record<string, unknown> | undefined): Promise<CallToolResult> => {
    const n = Number(args?.n);
    if (n < 0) throw new McpError(ErrorCode.InvalidParams, `n must not be negative, got ${n}`);
    ran.push(n);
    return { content: [{ type: 'text', text: String(n + 1) }] };
  };
  return { ran, start: (extra: PeerOptions = {}) => started.start({ ...options, ...extra, callTool }) };
}

function newPool(options: Partial<PeerPoolOptions> = {}): PeerPool {
  const pool = new PeerPool({ peers, box, logger, timeoutMs: 2_000, maxSessions: 10, idleMs: 60_000, ...options });
  pools.push(pool);
  return pool;
}

const gateway = (url: string, extra: Partial<PooledGateway> = {}): PooledGateway => ({
  id: 'gw-1',
  url,
  transport: 'STREAMABLE_HTTP',
  authType: 'NONE',
  authPublic: null,
  authSecret: null,
  authFingerprint: 'fp-1',
  ...extra,
});

const callTool = (session: PeerSession, n: number) => session.run((o) => session.client.callTool({ name: 'add', arguments: { n } }, undefined, o));
/** One forwarded tools/call; the text the peer answered. */
const add = async (pool: PeerPool, gw: PooledGateway, n: number) => {
  const result = (await pool.use(gw, (session) => callTool(session, n))) as CallToolResult;
  return (result.content[0] as { text: string }).text;
};


const port = (peer: TestPeer) => Number(new URL(peer.url).port);

describe('one session per peer', () => {
  it('initializes once for many calls, sequential and concurrent', async () => {
    const tool = counting();
    const p = await tool.start();
    const pool = newPool();
    const gw = gateway(p.url);
    for (let n = 1; n <= 3; n++) expect(await add(pool, gw, n)).toBe(String(n + 1));
    await Promise.all([4, 5, 6].map((n) => add(pool, gw, n)));
    expect(p.requests.methods).toMatchObject({ initialize: 1, 'tools/call': 6 });
    expect(tool.ran.sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(pool.size).toBe(1);
    expect(p.openSessions()).toBe(1);
  });

  it('concurrent first use makes one connection', async () => {
    const tool = counting();
    const p = await tool.start();
    const pool = newPool();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, n) => add(pool, gateway(p.url), n)));
    expect(answers).toEqual(Array.from({ length: 10 }, (_, n) => String(n + 1)));
    expect(p.requests.methods.initialize).toBe(1);
    expect(p.openSessions()).toBe(1);
  });

  it('pools a session over the old HTTP+SSE transport too', async () => {
    const tool = counting({ transport: 'sse' });
    const p = await tool.start();
    const pool = newPool();
    const gw = gateway(p.url, { transport: 'SSE' });
    for (let n = 1; n <= 3; n++) await add(pool, gw, n);
    expect(p.requests.methods).toMatchObject({ initialize: 1, 'tools/call': 3 });
  });

  it('passes server notifications on with the gateway id', async () => {
    const p = await counting().start();
    const received: unknown[] = [];
    const pool = newPool({ onNotification: (id, n) => received.push([id, n.method]) });
    await add(pool, gateway(p.url), 1);
    await until(() => p.openStreams() === 1, 5_000, 'the standing event stream');
    await p.notifyToolsChanged();
    await until(() => received.length === 1, 5_000, 'the notification');
    expect(received).toEqual([['gw-1', 'notifications/tools/list_changed']]);
  });
});

describe('sessions the peer lost', () => {
  it('a peer that restarted (404 for the session) is reconnected and the call runs once', async () => {
    const tool = counting();
    const first = await tool.start();
    const pool = newPool();
    await add(pool, gateway(first.url), 1);
    await first.close();
    // As in a real restart, the old process's connections are gone (and seen
    // gone) before the new one listens. A request sent on a connection the peer
    // was closing just then fails REFUSED, and is not retried: it may have been processed.
    await until(() => !agent.agent.stats[new URL(first.url).origin]?.connected, 5_000, 'the client to see the old connections close');
    const second = await tool.start({ port: port(first) });
    expect(await add(pool, gateway(first.url), 2)).toBe('3');
    expect(tool.ran).toEqual([1, 2]);
    // The call that got 404 and the one that ran, on a new session.
    expect(second.requests.methods).toMatchObject({ initialize: 1, 'tools/call': 2 });
    expect(pool.size).toBe(1);
  });

  it('a session the peer expired is replaced and the call runs once', async () => {
    const tool = counting();
    const p = await tool.start();
    const pool = newPool();
    await add(pool, gateway(p.url), 1);
    await p.expireSessions();
    expect(await add(pool, gateway(p.url), 2)).toBe('3');
    expect(tool.ran).toEqual([1, 2]);
    expect(p.requests.methods).toMatchObject({ initialize: 2, 'tools/call': 3 });
    expect(p.openSessions()).toBe(1);
  });

  it('a session expired in the middle of a work is not retried: its first request was processed', async () => {
    const tool = counting();
    const p = await tool.start();
    const pool = newPool();
    const error = await peerFailure(
      pool.use(gateway(p.url), async (session) => {
        await callTool(session, 1);
        await p.expireSessions();
        return callTool(session, 2);
      }),
    );
    expect(error).toMatchObject({ reason: 'HTTP_STATUS', status: 404 });
    expect(tool.ran).toEqual([1]);
    expect(p.requests.methods.initialize).toBe(1);
    // The dead session is gone: the next call opens another.
    await add(pool, gateway(p.url), 3);
    expect(p.requests.methods.initialize).toBe(2);
  });
});

describe('failures that are not retried', () => {
  it('a tool that fails on the peer with a JSON-RPC error runs once, and the session stays', async () => {
    const tool = counting();
    const p = await tool.start();
    const pool = newPool();
    const error = await peerFailure(add(pool, gateway(p.url), -1));
    expect(error.reason).toBe('PROTOCOL');
    expect(error.message).toContain('n must not be negative');
    expect(p.requests.methods['tools/call']).toBe(1);
    await add(pool, gateway(p.url), 1);
    expect(p.requests.methods).toMatchObject({ initialize: 1, 'tools/call': 2 });
  });

  it('an HTTP 500 to the call is not retried; the next call gets a new session', async () => {
    let fail = true;
    const p = await counting().start({ echo: { method: 'tools/call', as: 'body', text: () => (fail ? 'boom' : undefined) } });
    const pool = newPool();
    const error = await peerFailure(add(pool, gateway(p.url), 1));
    expect(error).toMatchObject({ reason: 'HTTP_STATUS', status: 500 });
    expect(p.requests.methods['tools/call']).toBe(1);
    fail = false;
    await add(pool, gateway(p.url), 2);
    expect(p.requests.methods.initialize).toBe(2);
  });

  it('a call the peer never answers times out once', async () => {
    const p = await counting().start({ hang: 'tools/call' });
    const pool = newPool({ timeoutMs: 300 });
    const error = await peerFailure(add(pool, gateway(p.url), 1));
    expect(error.reason).toBe('TIMEOUT');
    expect(p.requests.methods['tools/call']).toBe(1);
  });

  it('an unreachable peer is REFUSED and nothing is pooled', async () => {
    const pool = newPool();
    const error = await peerFailure(add(pool, gateway(await refusedUrl(), { transport: 'AUTO' }), 1));
    expect(error.reason).toBe('REFUSED');
    expect(pool.size).toBe(0);
  });

  it('credentials a peer echoes in its error are redacted', async () => {
    const token = `secret-${randomBytes(12).toString('hex')}`;
    const p = await counting().start({
      auth: { type: 'bearer', token },
      echo: { method: 'tools/call', as: 'jsonrpc', text: (headers) => `you sent ${headers.authorization}` },
    });
    const pool = newPool();
    const gw = gateway(p.url, { authType: 'BEARER', authPublic: {}, authSecret: box.seal(JSON.stringify({ token })) });
    const error = await peerFailure(add(pool, gw, 1));
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain(token);
  });
});

describe('closing sessions', () => {
  it('a changed fingerprint replaces the session', async () => {
    const p = await counting().start();
    const pool = newPool();
    await add(pool, gateway(p.url, { authFingerprint: 'fp-1' }), 1);
    await add(pool, gateway(p.url, { authFingerprint: 'fp-2' }), 2);
    expect(p.requests.methods.initialize).toBe(2);
    await until(() => p.openSessions() === 1, 5_000, 'the old session to end');
    expect(pool.size).toBe(1);
  });

  it('evict closes the session (the peer sees it end)', async () => {
    const p = await counting().start();
    const pool = newPool();
    await add(pool, gateway(p.url), 1);
    expect(p.openSessions()).toBe(1);
    await pool.evict('gw-1');
    expect(p.openSessions()).toBe(0);
    expect(pool.size).toBe(0);
  });

  it('evict lets a call in progress finish, then closes', async () => {
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (letGo = resolve));
    const p = await counting().start({ beforeAnswer: (method) => (method === 'tools/call' ? held : Promise.resolve()) });
    const pool = newPool();
    const call = add(pool, gateway(p.url), 1);
    await until(() => p.requests.methods['tools/call'] === 1, 5_000, 'the call to reach the peer');
    const evicted = pool.evict('gw-1');
    expect(pool.size).toBe(0);
    letGo();
    expect(await call).toBe('2');
    await evicted;
    expect(p.openSessions()).toBe(0);
  });

  it('keeps at most maxSessions, closing the least recently used', async () => {
    const ps = await Promise.all([1, 2, 3].map(() => counting().start()));
    const gws = ps.map((p, i) => gateway(p.url, { id: `gw-${i}` }));
    const pool = newPool({ maxSessions: 2 });
    await add(pool, gws[0]!, 1);
    await add(pool, gws[1]!, 1);
    await add(pool, gws[0]!, 2); // gw-1 is now the least recently used
    await add(pool, gws[2]!, 1);
    expect(pool.size).toBe(2);
    await until(() => ps[1]!.openSessions() === 0, 5_000, 'the least recently used session to end');
    expect(ps.map((p) => p.openSessions())).toEqual([1, 0, 1]);
    await add(pool, gws[1]!, 2);
    expect(ps[1]!.requests.methods.initialize).toBe(2);
  });

  it('closes a session left idle', async () => {
    const p = await counting().start();
    const pool = newPool({ idleMs: 30 });
    await add(pool, gateway(p.url), 1);
    await until(() => pool.size === 0 && p.openSessions() === 0, 5_000, 'the idle session to end');
    await add(pool, gateway(p.url), 2);
    expect(p.requests.methods.initialize).toBe(2);
  });

  it('close() closes every session; later use rejects', async () => {
    const ps = await Promise.all([1, 2].map(() => counting().start()));
    const pool = newPool();
    await Promise.all(ps.map((p, i) => add(pool, gateway(p.url, { id: `gw-${i}` }), 1)));
    expect(pool.size).toBe(2);
    await pool.close();
    expect(pool.size).toBe(0);
    expect(ps.map((p) => p.openSessions())).toEqual([0, 0]);
    const error = await peerFailure(add(pool, gateway(ps[0]!.url), 1));
    expect(error).toMatchObject({ reason: 'REFUSED', retryable: false });
  });
});
