// Subscriptions that never lose an event: two in-process workers on one
// PostgreSQL database and one Redis channel. `after` replays the log, then hands
// over to live events with no gap and no duplicate while both keep writing; a
// Redis outage under a live subscription is filled from the log once Redis is
// back; an event that commits late is not skipped; a subscriber that stops reading is ended (saying where to resume) while
// another keeps getting events promptly.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_LOG_LOCK } from '../../src/db/advisory-locks.js';
import type { Database } from '../../src/db/database.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { keptOpen, testDatabase } from '../helpers/db.js';
import { until } from '../helpers/deployment.js';
import { redisProxy, type RedisProxy } from '../helpers/redis-proxy.js';
import { requireServices, TEST_REDIS_URL } from '../helpers/services.js';
import { gatewayGlobalId, Inbox, subscribeSse, subscribeWs, untilLive, wsClient, wsUrl, type Result } from '../helpers/subscriptions.js';

const EVENTS = /* GraphQL */ `
  subscription Events($gatewayId: ID, $after: String) {
    gatewayEvents(gatewayId: $gatewayId, after: $after) {
      sequence
      payload
    }
  }
`;

const BUFFER = 20;
const cursorOf = (sequence: string) => Buffer.from(`GatewayEvent:${sequence}`).toString('base64');

describe.runIf(requireServices('postgres', 'redis'))('gatewayEvents that never lose an event', () => {
  let database: Database;
  let proxy: RedisProxy;
  /** The writer: on the real Redis. */
  let a: TestApp;
  /** The subscribers' worker: on Redis through the proxy. */
  let b: TestApp;
  let bUrl: string;
  /** A worker with a small SUBSCRIPTION_BUFFER, for the slow subscriber. */
  let c: TestApp;
  let cUrl: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    database = await testDatabase('postgres');
    proxy = await redisProxy();
    const shared = { SECRET_KEY: randomBytes(32).toString('base64'), REDIS_CHANNEL_PREFIX: `resume-${randomUUID()}` };
    a = await startTestApp({ database: keptOpen(database), env: { ...shared, REDIS_URL: TEST_REDIS_URL } });
    c = await startTestApp({ database: keptOpen(database), env: { ...shared, REDIS_URL: TEST_REDIS_URL, SUBSCRIPTION_BUFFER: String(BUFFER) } });
    cUrl = await c.app.listen();
    b = await startTestApp({ database, env: { ...shared, REDIS_URL: proxy.url } });
    bUrl = await b.app.listen();
    await until('both event buses ready', async () => (await a.app.services.events.readiness()).ready && (await b.app.services.events.readiness()).ready, 15_000);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await a?.close();
    await c?.close();
    await b?.close();
    await proxy?.cut();
  });

  const publish = (app: TestApp, gateway: string, payload: Record<string, unknown>) =>
    app.app.services.events.publish(app.app.db.prisma, 'GATEWAY_UPDATED', gateway, payload);

  /** The log's sequences of `gateway` after `after`, oldest first. */
  const logged = async (gateway: string, after = 0n) =>
    (await a.app.db.prisma.gatewayEvent.findMany({ where: { gatewayId: gateway, id: { gt: after } }, orderBy: { id: 'asc' }, select: { id: true } })).map((row) =>
      row.id.toString(),
    );

  /** Writers on both workers at once (their commits interleave), until stop() is called. */
  function writers(gateway: string) {
    let stopped = false;
    let written = 0;
    const loop = async (app: TestApp, name: string) => {
      for (let n = 0; !stopped; n++) {
        await publish(app, gateway, { writer: name, n });
        written++;
      }
    };
    const running = Promise.all([loop(a, 'a'), loop(b, 'b'), loop(a, 'a2')]);
    return {
      get written() {
        return written;
      },
      stop: async () => {
        stopped = true;
        await running;
      },
    };
  }

  /** Results until the sequence `last` arrives (bounded), as sequences. */
  async function receivedUntil(results: Inbox<Result>, last: string, timeoutMs = 20_000): Promise<string[]> {
    const sequences: string[] = [];
    const deadline = Date.now() + timeoutMs;
    while (sequences.at(-1) !== last) {
      const result = await results.next(Math.max(1, deadline - Date.now()));
      expect(result.errors).toBeUndefined();
      sequences.push(result.data!.gatewayEvents.sequence);
      if (BigInt(sequences.at(-1)!) > BigInt(last)) break;
    }
    // A duplicate or a late one would follow at once.
    const extra = await results.poll(300);
    if (extra) sequences.push(extra.data?.gatewayEvents?.sequence ?? JSON.stringify(extra));
    return sequences;
  }

  async function replayWhileWriting(subscribe: (gateway: string, after: string) => Promise<{ results: Inbox<Result>; unsubscribe(): void }>) {
    const gateway = randomUUID();
    for (let n = 0; n < 30; n++) await publish(a, gateway, { before: n });
    const after = (await logged(gateway))[9]!;
    const writing = writers(gateway);
    await until('some events written meanwhile', () => writing.written >= 10, 10_000, 5);
    const subscription = await subscribe(gateway, after);
    await until('more events written after the subscription started', () => writing.written >= 80, 20_000, 5);
    await writing.stop();
    const expected = await logged(gateway, BigInt(after));
    expect(expected.length).toBeGreaterThan(90);
    const received = await receivedUntil(subscription.results, expected.at(-1)!);
    subscription.unsubscribe();
    expect(received).toEqual(expected);
  }

  it('graphql-ws: after replays the log then hands over to live events, no gap, no duplicate, in order, while two workers write', async () => {
    await replayWhileWriting(async (gateway, after) => {
      const client = wsClient(bUrl, b.adminToken);
      clients.push(client);
      return subscribeWs(client, EVENTS, { gatewayId: gatewayGlobalId(gateway), after });
    });
  }, 60_000);

  it('SSE: the same, with a cursor of the events query as after', async () => {
    await replayWhileWriting((gateway, after) => subscribeSse(bUrl, b.adminToken, EVENTS, { gatewayId: gatewayGlobalId(gateway), after: cursorOf(after) }));
  }, 60_000);

  it('after a Redis outage, a live subscriber gets every event written meanwhile, once, without any event after the outage', async () => {
    const gateway = randomUUID();
    const client = wsClient(bUrl, b.adminToken);
    clients.push(client);
    const subscription = subscribeWs(client, EVENTS, { gatewayId: gatewayGlobalId(gateway) });
    const first = await untilLive(subscription.results, (probe) => publish(a, gateway, { probe }));
    const from = BigInt(first.data!.gatewayEvents.sequence);

    await proxy.cut();
    await until('worker B has lost Redis', async () => !(await b.app.services.events.readiness()).ready, 10_000);
    for (let n = 0; n < 5; n++) await publish(a, gateway, { during: n });
    expect(await subscription.results.poll(200)).toBeUndefined();

    await proxy.restore();
    const expected = await logged(gateway, from);
    expect(await receivedUntil(subscription.results, expected.at(-1)!)).toEqual(expected);
    subscription.unsubscribe();
  }, 60_000);

  it('an event whose transaction commits late is delivered, and before the events written after it on another worker', async () => {
    const gateway = randomUUID();
    const client = wsClient(bUrl, b.adminToken);
    clients.push(client);
    const subscription = subscribeWs(client, EVENTS, { gatewayId: gatewayGlobalId(gateway) });
    const first = await untilLive(subscription.results, (probe) => publish(a, gateway, { probe }));

    // A transaction on worker A records its event and stays open.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let recorded!: () => void;
    const isRecorded = new Promise<void>((resolve) => (recorded = resolve));
    const late = a.app.db.prisma.$transaction(
      async (tx) => {
        const message = await a.app.services.events.record(tx, 'GATEWAY_UPDATED', gateway, { late: true });
        recorded();
        await held;
        return message;
      },
      { timeout: 60_000 },
    );
    await isRecorded;
    // A writer on worker C cannot take the next sequence while it is open: it
    // waits for the event log's lock, so the log can never show it a hole that
    // is still to be filled (which a subscriber would have to give up on).
    const next = publish(c, gateway, { next: true });
    await until(
      "worker C's event waits for the open transaction",
      async () =>
        (await a.app.db.prisma.$queryRaw<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = ${EVENT_LOG_LOCK}::oid`)[0]!.n === 1,
      10_000,
    );
    release();
    a.app.services.events.broadcast(await late);
    await next;

    const expected = await logged(gateway, BigInt(first.data!.gatewayEvents.sequence));
    expect(expected).toHaveLength(2);
    const received = await receivedUntil(subscription.results, expected.at(-1)!);
    expect(received).toEqual(expected);
    subscription.unsubscribe();
  }, 60_000);

  it('ends a subscriber that stops reading, saying where to resume, while another still gets events promptly', async () => {
    const gateway = randomUUID();
    const fastClient = wsClient(cUrl, c.adminToken);
    clients.push(fastClient);
    const fast = subscribeWs(fastClient, EVENTS, { gatewayId: gatewayGlobalId(gateway) });
    const slow = await rawSubscriber(wsUrl(cUrl), c.adminToken, EVENTS, { gatewayId: gatewayGlobalId(gateway) });
    try {
      await untilLive(slow.messages, (probe) => publish(a, gateway, { probe }));
      await untilLive(fast.results, (probe) => publish(a, gateway, { probe: `fast-${probe}` }));
      slow.socket.pause();

      // Big events fill the socket's buffers, then the subscriber's queue of BUFFER.
      const big = 'x'.repeat(256 * 1024);
      for (let n = 0; n < 80; n++) await publish(a, gateway, { big, n });
      // The other subscriber is not held back: an event reaches it at once.
      const marker = await publish(a, gateway, { marker: true });
      const started = Date.now();
      for (;;) {
        const result = await fast.results.next(5_000);
        if (result.data!.gatewayEvents.sequence === marker.id) break;
      }
      expect(Date.now() - started).toBeLessThan(5_000);

      // The slow one, read again: its events, then the error that ended it, then complete.
      slow.socket.resume();
      let error: Result['errors'] | undefined;
      let lastDelivered = '';
      for (;;) {
        const message = await slow.messages.next(20_000);
        if (message.type === 'complete') break;
        if (message.payload.errors) error = message.payload.errors;
        else lastDelivered = message.payload.data.gatewayEvents.sequence;
      }
      expect(error).toHaveLength(1);
      expect(error![0]).toMatchObject({ extensions: { code: 'SUBSCRIBER_TOO_SLOW', after: lastDelivered } });
      expect(error![0]!.message).toContain(`resume with after: "${lastDelivered}"`);

      // Resuming there gives the rest of the log, once each.
      const rest = await logged(gateway, BigInt(lastDelivered));
      const resumed = subscribeWs(fastClient, EVENTS, { gatewayId: gatewayGlobalId(gateway), after: lastDelivered });
      expect(await receivedUntil(resumed.results, rest.at(-1)!)).toEqual(rest);
      resumed.unsubscribe();
      fast.unsubscribe();
    } finally {
      slow.socket.terminate();
    }
  }, 90_000);
});

interface RawMessage {
  type: string;
  payload?: any;
  data?: any;
}

/** A bare graphql-transport-ws client whose socket a test pauses: the server sees a subscriber that stops reading. */
async function rawSubscriber(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const raw = new Inbox<RawMessage>();
  socket.on('message', (data) => raw.push(JSON.parse(String(data)) as RawMessage));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  expect((await raw.next(5_000)).type).toBe('connection_ack');
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
  // Results in the shape untilLive() reads (data), with type and payload kept.
  const messages = new Inbox<any>();
  void (async () => {
    for (;;) {
      const message = await raw.poll(60_000);
      if (!message) continue;
      messages.push({ ...message, data: message.payload?.data });
      if (message.type === 'complete') return;
    }
  })();
  return { socket, messages };
}
