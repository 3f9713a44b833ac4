// Redis going away under the event bus, through a TCP proxy the test cuts (the
// real Redis keeps running for the other suites). A worker must not die: a
// mutation still commits and answers, the outage is logged once however many
// reconnection attempts it brings, /readyz says why the worker is not ready,
// every event recorded meanwhile is logged with its id and counted, and once
// Redis is back events fan out between workers again, and the subscribers get
// the events of the outage from the event log (once each, in order).
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { EventBus, type GatewayEventMessage } from '../../src/events/event-bus.js';
import { silentLogger, startTestApp, type TestApp } from '../helpers/app.js';
import { ADMIN_TOKEN, deployment, START_TIMEOUT, until, type Deployment, type LogLine, type Worker } from '../helpers/deployment.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { killAllMain } from '../helpers/process.js';
import { redisProxy, type RedisProxy } from '../helpers/redis-proxy.js';
import { uuidOf } from '../helpers/registry.js';
import { requireServices, TEST_REDIS_URL } from '../helpers/services.js';
import { Inbox, subscribeWs, untilLive, wsClient, type Result, type Subscription } from '../helpers/subscriptions.js';

const EVENTS = /* GraphQL */ `
  subscription {
    gatewayEvents {
      sequence
      type
      payload
    }
  }
`;

const RENAME = /* GraphQL */ `
  mutation ($id: ID!, $name: String!) {
    updateGateway(id: $id, input: { name: $name }) {
      __typename
      ... on Error { message }
    }
  }
`;

const OUTAGE_BEGINS = 'event bus: Redis is unreachable; events are recorded but not fanned out until it returns';
const NOT_FANNED_OUT = 'event bus: event not fanned out (Redis unreachable); it is in the event log only';
const OUTAGE_ENDS = 'event bus: Redis is reachable again; events fan out again';

async function readyz(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() };
}

/** Everything in the inbox now, without waiting for more. */
async function drain(inbox: Inbox<Result>): Promise<Result[]> {
  const taken: Result[] = [];
  for (let item = await inbox.poll(0); item; item = await inbox.poll(0)) taken.push(item);
  return taken;
}

const isProbe = (result: Result) => result.data?.gatewayEvents?.payload?.probe !== undefined;

/** The next result that is not a probe. */
async function nextEvent(inbox: Inbox<Result>): Promise<Result> {
  for (;;) {
    const result = await inbox.next();
    if (!isProbe(result)) return result;
  }
}

afterAll(killAllMain);

describe.runIf(requireServices('postgres', 'redis'))('a worker (src/main.ts) whose Redis goes away', () => {
  let proxy: RedisProxy;
  let d: Deployment;
  let worker: Worker;
  /** Another worker, in-process, on the same database and the real Redis: it keeps Redis throughout. */
  let other: TestApp;
  let otherUrl: string;
  let peer: TestPeer;
  const clients: Client[] = [];
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    proxy = await redisProxy();
    peer = await startPeer({ tools: 1 });
    d = await deployment({ REDIS_URL: proxy.url, HEALTH_CHECKS: 'false' });
    [[worker]] = await Promise.all([
      d.start(1) as Promise<[Worker]>,
      (async () => {
        other = await startTestApp({
          database: await openDatabase({ kind: 'postgres', url: d.url }),
          env: { REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: d.prefix, SECRET_KEY: d.secretKey },
        });
        otherUrl = await other.app.listen();
      })(),
    ]);
  }, START_TIMEOUT);
  afterAll(async () => {
    for (const subscription of subscriptions) subscription.unsubscribe();
    await Promise.all(clients.map((client) => client.dispose()));
    await other?.close();
    await d?.close();
    await proxy?.cut();
    await peer?.close();
  });

  it('keeps serving, logs the outage once and each event it could not fan out, is not ready until Redis is back, then fans out again', async () => {
    // A subscriber on each worker; the deployment's own channel prefix keeps other runs' events out.
    const subscribe = (url: string, token: string) => {
      const client = wsClient(url, token);
      clients.push(client);
      const subscription = subscribeWs(client, EVENTS);
      subscriptions.push(subscription);
      return subscription;
    };
    const onOther = subscribe(otherUrl, other.adminToken);
    const onWorker = subscribe(worker.url, ADMIN_TOKEN);
    let probes = 0;
    const probeFromOther = () => other.app.services.events.publish(other.app.db.prisma, 'GATEWAY_UPDATED', null, { probe: ++probes });
    await untilLive(onOther.results, probeFromOther);
    await untilLive(onWorker.results, probeFromOther);

    // Before the outage: the worker's event reaches both.
    const id = await worker.register('outage', peer.url);
    for (const subscription of [onOther, onWorker]) {
      expect((await nextEvent(subscription.results)).data!.gatewayEvents).toMatchObject({ type: 'GATEWAY_ADDED' });
    }
    expect(await readyz(worker.url)).toEqual({ status: 200, body: { status: 'ready' } });

    const mark = worker.mark();
    // Connections are accepted and reset at once: each reconnection attempt is an error, and is counted.
    await proxy.cut({ reset: true });
    await until('/readyz says the event bus is unreachable', async () => (await readyz(worker.url)).status === 503, 10_000, 100);
    expect(await readyz(worker.url)).toEqual({ status: 503, body: { status: 'not ready', reason: 'event bus unreachable' } });

    // A change that publishes an event: committed and answered.
    expect((await worker.gql(RENAME, { id, name: 'outage-renamed' })).updateGateway).toEqual({ __typename: 'UpdateGatewaySuccess' });
    const lost = await worker.waitForLog((line) => line.msg === NOT_FANNED_OUT, { from: mark });
    const { rows } = await d.sql.query<{ id: string }>(
      `SELECT id::text AS id FROM gateway_event WHERE gateway_id = $1 AND type = 'GATEWAY_UPDATED'`,
      [uuidOf(id)],
    );
    expect(rows).toHaveLength(1);
    expect(lost).toMatchObject({ eventId: rows[0]!.id, type: 'GATEWAY_UPDATED', gatewayId: uuidOf(id) });

    // Both Redis connections keep trying (an 'error' each time, formerly an
    // "Unhandled error event" line each), and the worker serves on.
    await until('ten reconnection attempts refused', () => proxy.resets >= 10, 30_000, 100);
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    expect((await worker.gql('query ($id: ID!) { gateway(id: $id) { name } }', { id })).gateway).toEqual({ name: 'outage-renamed' });
    expect(worker.main.child.exitCode).toBeNull();
    expect(worker.main.child.signalCode).toBeNull();
    const during = worker.lines(mark);
    expect(during.filter((line) => line.msg === OUTAGE_BEGINS)).toHaveLength(1);
    expect(during.filter((line) => line.msg === NOT_FANNED_OUT)).toHaveLength(1);
    expect(worker.main.stderr()).not.toMatch(/Unhandled error event|MaxRetriesPerRequestError|Unhandled/);
    expect(await readyz(worker.url)).toEqual({ status: 503, body: { status: 'not ready', reason: 'event bus unreachable' } });
    // Nobody heard the event of the outage: only probes reached the subscribers.
    for (const subscription of [onOther, onWorker]) expect((await drain(subscription.results)).filter((r) => !isProbe(r))).toEqual([]);

    await proxy.restore();
    await until('/readyz says ready again', async () => (await readyz(worker.url)).status === 200, 20_000, 100);
    const back = await worker.waitForLog((line: LogLine) => line.msg === OUTAGE_ENDS, { from: mark });
    expect(back).toMatchObject({ notFannedOut: 1, notFannedOutTotal: 1 });
    expect(worker.lines(mark).filter((line) => line.msg === OUTAGE_BEGINS)).toHaveLength(1);

    // The event of the outage is not re-published, but each subscriber gets it
    // from the event log, once, before what follows: the worker's when Redis is
    // back, the other's (which never lost Redis) when the worker's resync
    // message reaches it, with no later event needed.
    const fromOther = await nextEvent(onOther.results);
    expect(fromOther.data!.gatewayEvents.payload.name).toBe('outage-renamed');
    // The worker hears the others again (its SUBSCRIBE renewed), and they hear it.
    // (untilLive() may return the event of the outage itself, already filled on the worker.)
    const liveOnWorker = await untilLive(onWorker.results, probeFromOther);
    expect((await worker.gql(RENAME, { id, name: 'outage-over' })).updateGateway).toEqual({ __typename: 'UpdateGatewaySuccess' });
    for (const [subscription, taken] of [[onOther, [fromOther]], [onWorker, [liveOnWorker]]] as const) {
      const names: unknown[] = taken.filter((r) => !isProbe(r)).map((r) => r.data!.gatewayEvents.payload.name);
      while (names.at(-1) !== 'outage-over') names.push((await nextEvent(subscription.results)).data!.gatewayEvents.payload.name);
      expect(names).toEqual(['outage-renamed', 'outage-over']);
    }
    for (const subscription of [onOther, onWorker]) expect((await drain(subscription.results)).filter((r) => !isProbe(r))).toEqual([]);
    expect(worker.lines(mark).filter((line) => line.msg === NOT_FANNED_OUT)).toHaveLength(1);
  }, 120_000);
});

describe.runIf(requireServices('redis'))('the event bus while Redis is away (in-process)', () => {
  let proxy: RedisProxy;
  let t: TestApp;
  const parsed = () => t.logs.map((line) => JSON.parse(line) as LogLine);

  beforeAll(async () => {
    proxy = await redisProxy();
    t = await startTestApp({ env: { REDIS_URL: proxy.url, REDIS_CHANNEL_PREFIX: `outage-${randomUUID()}` } });
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.cut();
  });

  it('logs every event it could not fan out with its id, type and gateway, counts them, and says how many when Redis is back', async () => {
    const events = t.app.services.events;
    await until('the event bus is ready', async () => (await events.readiness()).ready, 10_000, 50);
    const from = t.logs.length;

    await proxy.cut();
    await until('the event bus is not ready', async () => !(await events.readiness()).ready, 10_000, 50);
    expect(await events.readiness()).toEqual({ ready: false, reason: 'event bus unreachable' });

    const gateways = [randomUUID(), randomUUID(), null];
    const published: GatewayEventMessage[] = [];
    published.push(await events.publish(t.app.db.prisma, 'GATEWAY_ADDED', gateways[0]!, { n: 1 }));
    published.push(await events.publish(t.app.db.prisma, 'GATEWAY_DELETED', gateways[1]!, { n: 2 }));
    published.push(await events.publish(t.app.db.prisma, 'GATEWAY_UPDATED', gateways[2]!, { n: 3 }));
    await until('three events counted as not fanned out', () => events.notFannedOut === 3, 10_000);
    // Each still in the event log.
    expect(await t.app.db.prisma.gatewayEvent.count({ where: { id: { in: published.map((m) => BigInt(m.id)) } } })).toBe(3);

    const lines = parsed().slice(from);
    expect(lines.filter((line) => line.msg === NOT_FANNED_OUT).map(({ eventId, type, gatewayId }) => ({ eventId, type, gatewayId }))).toEqual(
      published.map((m) => ({ eventId: m.id, type: m.type, gatewayId: m.gatewayId })),
    );
    expect(lines.filter((line) => line.msg === OUTAGE_BEGINS)).toHaveLength(1);

    // Back: the count of this outage in one line; events flow again and are not counted.
    await proxy.restore();
    await until('the event bus is ready again', async () => (await events.readiness()).ready, 15_000, 50);
    const back = await until('the line saying Redis is back', () => parsed().slice(from).find((line) => line.msg === OUTAGE_ENDS), 10_000);
    expect(back).toMatchObject({ notFannedOut: 3, notFannedOutTotal: 3 });

    const iterator = events.subscribe();
    const gateway = randomUUID();
    const received = new Inbox<GatewayEventMessage>();
    void (async () => {
      for await (const message of iterator) received.push(message);
    })();
    // The iterator listens from its first pull: publish until one arrives.
    let first: GatewayEventMessage | undefined;
    for (let attempt = 0; attempt < 40 && !first; attempt++) {
      await events.publish(t.app.db.prisma, 'GATEWAY_UPDATED', gateway, { after: attempt });
      first = await received.poll(250);
    }
    await iterator.return?.();
    expect(first).toMatchObject({ type: 'GATEWAY_UPDATED', gatewayId: gateway });
    expect(events.notFannedOut).toBe(3);
    expect(parsed().slice(from).filter((line) => line.msg === OUTAGE_BEGINS)).toHaveLength(1);
  }, 60_000);

  it('a bus started while Redis is away is not ready, does not fail, and subscribes once Redis comes', async () => {
    const channelPrefix = `late-${randomUUID()}`;
    await proxy.cut();
    const late = EventBus.overRedis(proxy.url, channelPrefix, silentLogger());
    const direct = EventBus.overRedis(TEST_REDIS_URL, channelPrefix, silentLogger());
    try {
      expect(await late.readiness()).toEqual({ ready: false, reason: 'event bus unreachable' });
      const iterator = late.subscribe();
      const received = new Inbox<GatewayEventMessage>();
      void (async () => {
        for await (const message of iterator) received.push(message);
      })();

      await proxy.restore();
      await until('the late bus is ready', async () => (await late.readiness()).ready, 15_000, 50);
      const message = (n: number): GatewayEventMessage => ({
        id: String(n),
        type: 'GATEWAY_ADDED',
        gatewayId: null,
        payload: { n },
        createdAt: new Date().toISOString(),
      });
      let first: GatewayEventMessage | undefined;
      for (let n = 1; n <= 40 && !first; n++) {
        direct.broadcast(message(n));
        first = await received.poll(250);
      }
      await iterator.return?.();
      expect(first).toMatchObject({ type: 'GATEWAY_ADDED', payload: { n: expect.any(Number) } });
    } finally {
      await Promise.all([late.close(), direct.close()]);
    }
  }, 60_000);
});
