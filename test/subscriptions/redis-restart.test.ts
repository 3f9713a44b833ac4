// Redis restarting under a live subscription: two in-process workers on one
// PostgreSQL database, a graphql-ws subscriber on worker B, events written on
// worker A before, during and after the restart. Redis here is a private
// redis-server the suite starts on a port of its own and SIGKILLs (a real crash:
// no QUIT, no persistence, an empty server afterwards); the shared Redis on 6379
// is never touched. Nothing may be silently lost: what B's subscriber gets is
// exactly the event log of the period, same sequences, in order, each once.
// The events of the outage reach no one over Redis (worker A counts them); B's
// subscriber reads them from the log once B's Redis connections are back (or
// when the next event it hears skips ahead of them).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { keptOpen, testDatabase } from '../helpers/db.js';
import { until } from '../helpers/deployment.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { PEER_ENV, registered, updateGateway } from '../helpers/registry.js';
import { requireServices, servicesRequired } from '../helpers/services.js';
import { subscribeWs, untilLive, wsClient, type Inbox, type Result } from '../helpers/subscriptions.js';

const EVENTS = /* GraphQL */ `
  subscription {
    gatewayEvents {
      sequence
      type
    }
  }
`;

/** Like requireServices(): a machine without redis-server skips, saying so, unless CI/REQUIRE_SERVICES makes it a failure. */
function redisServerOnPath(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  const why = `redis-server is not runnable (${probe.error?.message ?? probe.stderr.trim()})`;
  if (servicesRequired) throw new Error(`${why}. CI/REQUIRE_SERVICES is set, so this fails instead of skipping.`);
  console.warn(`[tests] ${why}: the Redis restart suite is SKIPPED. Set CI or REQUIRE_SERVICES to make this an error.`);
  return false;
}

/** A port on 127.0.0.1 that nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A redis-server of this suite's own, that it kills and starts again on the same port. */
async function privateRedis() {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  // Should the test process die before afterAll, the server must not outlive it.
  const orphan = () => child?.kill('SIGKILL');
  process.once('exit', orphan);
  const self = {
    url: `redis://127.0.0.1:${port}`,
    /** Resolves once the server accepts connections; rejects (with its output) if it exits first. */
    async start(): Promise<void> {
      // No RDB, no AOF: a restart comes back empty, as after a crash on a cache node.
      const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = server;
      exited = new Promise((resolve) => server.once('exit', () => resolve()));
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const read = (chunk: Buffer) => {
          output += chunk;
          if (output.includes('Ready to accept connections')) resolve();
        };
        server.stdout!.on('data', read);
        server.stderr!.on('data', read);
        server.once('exit', (code, signal) => reject(new Error(`redis-server on port ${port} exited (${code ?? signal}) before it was ready:\n${output}`)));
        server.once('error', reject);
      });
    },
    /** SIGKILL: the connections drop without a word, as when the host or container dies. */
    async kill(): Promise<void> {
      child?.kill('SIGKILL');
      await exited;
    },
    async close(): Promise<void> {
      await self.kill();
      process.off('exit', orphan);
    },
  };
  await self.start();
  return self;
}

describe.runIf(requireServices('postgres', 'redis') && redisServerOnPath())('a live subscription while Redis restarts', () => {
  let redis: Awaited<ReturnType<typeof privateRedis>>;
  let database: Database;
  /** The writer. */
  let a: TestApp;
  /** The subscriber's worker. */
  let b: TestApp;
  let bUrl: string;
  let peer: TestPeer;
  let client: Client | undefined;

  beforeAll(async () => {
    redis = await privateRedis();
    database = await testDatabase('postgres');
    peer = await startPeer({ tools: 1 });
    const shared = { ...PEER_ENV, SECRET_KEY: randomBytes(32).toString('base64'), REDIS_CHANNEL_PREFIX: `restart-${randomUUID()}`, REDIS_URL: redis.url };
    a = await startTestApp({ database: keptOpen(database), env: shared });
    b = await startTestApp({ database, env: shared });
    bUrl = await b.app.listen();
  }, 60_000);
  afterAll(async () => {
    await client?.dispose();
    await a?.close();
    await (b ? b.close() : database?.close()); // b owns the database: closing it drops it
    await peer?.close();
    await redis?.close();
  });

  const busesReady = async (ready: boolean) =>
    (await Promise.all([a, b].map(async (t) => (await t.app.services.events.readiness()).ready))).every((r) => r === ready);

  const rename = async (id: string, name: string) => expect((await updateGateway(a, id, { name })).__typename).toBe('UpdateGatewaySuccess');

  /** Sequences received until `last` (bounded), then whatever follows at once: a duplicate or a late one would. */
  async function receivedUntil(results: Inbox<Result>, last: string, timeoutMs = 30_000): Promise<{ sequence: string; type: string }[]> {
    const received: { sequence: string; type: string }[] = [];
    const deadline = Date.now() + timeoutMs;
    while (received.at(-1)?.sequence !== last) {
      const result = await results.next(Math.max(1, deadline - Date.now()));
      expect(result.errors).toBeUndefined();
      received.push(result.data!.gatewayEvents);
      if (BigInt(received.at(-1)!.sequence) > BigInt(last)) break;
    }
    const extra = await results.poll(300);
    if (extra) received.push(extra.data?.gatewayEvents ?? { sequence: JSON.stringify(extra), type: '?' });
    return received;
  }

  it('the subscriber on the other worker gets exactly the event log: before, during and after the restart, in order, once each', async () => {
    await until('both event buses ready', () => busesReady(true), 15_000);
    client = wsClient(bUrl, b.adminToken);
    const subscription = subscribeWs(client, EVENTS);
    // Probes from A until one arrives: from then on B's subscriber is live, and
    // every later event of the log must reach it (later probes included).
    const first = await untilLive(subscription.results, (probe) => a.app.services.events.publish(a.app.db.prisma, 'GATEWAY_UPDATED', null, { probe }));
    const from = BigInt(first.data!.gatewayEvents.sequence);

    const gateway = await registered(a, { name: 'restart', url: peer.url });
    for (let n = 0; n < 3; n++) await rename(gateway.id, `before-${n}`);

    await redis.kill();
    // Both workers have seen it go: what follows is written while Redis is down for everyone.
    await until('both workers lost Redis', () => busesReady(false), 15_000);
    const lostBefore = a.app.services.events.notFannedOut;
    for (let n = 0; n < 3; n++) await rename(gateway.id, `during-${n}`); // mutations still commit and answer
    // A publish fails asynchronously (never in the mutation): the three are counted, not sent.
    await until('the outage events counted as not fanned out', () => a.app.services.events.notFannedOut === lostBefore + 3, 10_000);

    await redis.start();
    // Both reconnect (ioredis retries at most 2 s apart) and B subscribes again;
    // whatever B's subscriber missed, it reads from the log.
    await until('both event buses ready again', () => busesReady(true), 20_000, 100);
    for (let n = 0; n < 3; n++) await rename(gateway.id, `after-${n}`);

    const expected = (
      await a.app.db.prisma.gatewayEvent.findMany({ where: { id: { gt: from } }, orderBy: { id: 'asc' }, select: { id: true, type: true } })
    ).map((row) => ({ sequence: row.id.toString(), type: row.type }));
    // A GATEWAY_ADDED and nine renames at least (later probes of untilLive may be among them).
    expect(expected.filter((event) => event.type === 'GATEWAY_UPDATED').length).toBeGreaterThanOrEqual(9);
    expect(await receivedUntil(subscription.results, expected.at(-1)!.sequence)).toEqual(expected);
    // A fanned out again after the restart: only the outage's three were never sent, so they came from the log.
    expect(a.app.services.events.notFannedOut).toBe(lostBefore + 3);
    subscription.unsubscribe();
  }, 90_000);
});
