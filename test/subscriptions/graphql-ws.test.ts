// gatewayEvents over a real port: graphql-ws (auth at connection_init, 4401 when
// it fails) and SSE (Bearer header, 401 without), with the gatewayId and types
// filters, the read scope, and the event log behind every delivery.
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventType } from '../../src/events/event-bus.js';
import { CLOSE_UNAUTHORIZED } from '../../src/graphql/websocket.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  gatewayGlobalId,
  nextNonProbe,
  subscribeSse,
  subscribeWs,
  untilLive,
  wsClient,
  type Subscription,
} from '../helpers/subscriptions.js';

const EVENTS = /* GraphQL */ `
  subscription Events($gatewayId: ID, $types: [EventType!]) {
    gatewayEvents(gatewayId: $gatewayId, types: $types) {
      sequence
      type
      gatewayId
      payload
      createdAt
    }
  }
`;

let t: TestApp;
let url: string;
let readToken: string;
let writeToken: string;
const clients: Client[] = [];
const subscriptions: Subscription[] = [];

beforeAll(async () => {
  t = await startTestApp();
  url = await t.app.listen();
  readToken = (await t.app.services.tokens.create('reader', ['read'])).secret;
  writeToken = (await t.app.services.tokens.create('writer', ['write'])).secret;
});
afterEach(async () => {
  for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
});
afterAll(() => t?.close());

function client(token: string | null, closed?: (event: unknown) => void): Client {
  const c = wsClient(url, token, closed ? { on: { closed } } : {});
  clients.push(c);
  return c;
}

const publish = (type: EventType, gatewayId: string, payload: Record<string, unknown>) =>
  t.app.services.events.publish(t.app.db.prisma, type, gatewayId, payload);

describe('graphql-ws', () => {
  it.each([
    ['no token', null],
    ['a malformed token', 'nope'],
    ['an unknown token', `mcpg_${'0'.repeat(32)}_${'A'.repeat(43)}`],
  ])('closes the connection with 4401 given %s', async (_label, token) => {
    let closeCode: number | undefined;
    const subscription = subscribeWs(client(token, (event) => (closeCode = (event as { code: number }).code)), EVENTS);
    const error = await subscription.ended.then(
      () => new Error('the subscription completed instead of failing'),
      (reason: unknown) => reason,
    );
    expect((error as { code?: number }).code).toBe(CLOSE_UNAUTHORIZED);
    expect(CLOSE_UNAUTHORIZED).toBe(4401);
    expect(closeCode).toBe(4401);
    expect(subscription.results.size).toBe(0);
  });

  it('delivers only the events that match gatewayId and types, as recorded in the event log', async () => {
    const gateway = randomUUID();
    const other = randomUUID();
    const subscription = subscribeWs(client(readToken), EVENTS, {
      gatewayId: gatewayGlobalId(gateway),
      types: ['GATEWAY_ADDED'],
    });
    subscriptions.push(subscription);
    await untilLive(subscription.results, (probe) => publish('GATEWAY_ADDED', gateway, { probe }));

    // Live now: whatever the filters let through arrives in publishing order.
    await publish('GATEWAY_ADDED', other, { wrong: 'gateway' });
    await publish('GATEWAY_UPDATED', gateway, { wrong: 'type' });
    const published = await publish('GATEWAY_ADDED', gateway, { name: 'alpha', tools: 3 });

    const result = await nextNonProbe(subscription.results);
    expect(result.errors).toBeUndefined();
    const event = result.data!.gatewayEvents;
    expect(event).toMatchObject({
      sequence: published.id,
      type: 'GATEWAY_ADDED',
      gatewayId: gatewayGlobalId(gateway),
      payload: { name: 'alpha', tools: 3 },
    });

    const row = await t.app.db.prisma.gatewayEvent.findUniqueOrThrow({ where: { id: BigInt(event.sequence) } });
    expect(row).toMatchObject({ type: 'GATEWAY_ADDED', gatewayId: gateway, payload: { name: 'alpha', tools: 3 } });
    expect(new Date(event.createdAt).getTime()).toBe(row.createdAt.getTime());
    // The filtered-out events were recorded all the same: filters are per subscriber.
    const skipped = await t.app.db.prisma.gatewayEvent.findMany({
      where: { gatewayId: { in: [gateway, other] }, id: { lt: row.id } },
      orderBy: { id: 'desc' },
      take: 2,
    });
    expect(skipped.map((e) => [e.type, e.gatewayId, e.payload])).toEqual([
      ['GATEWAY_UPDATED', gateway, { wrong: 'type' }],
      ['GATEWAY_ADDED', other, { wrong: 'gateway' }],
    ]);
  });

  it('without a types filter delivers every type of the gateway', async () => {
    const gateway = randomUUID();
    const subscription = subscribeWs(client(readToken), EVENTS, { gatewayId: gatewayGlobalId(gateway) });
    subscriptions.push(subscription);
    await untilLive(subscription.results, (probe) => publish('GATEWAY_HEALTH_CHANGED', gateway, { probe }));

    await publish('GATEWAY_DEACTIVATED', randomUUID(), {});
    await publish('GATEWAY_DEACTIVATED', gateway, { step: 1 });
    await publish('GATEWAY_DELETED', gateway, { step: 2 });
    const first = await nextNonProbe(subscription.results);
    const second = await nextNonProbe(subscription.results);
    expect([first.data!.gatewayEvents.type, second.data!.gatewayEvents.type]).toEqual(['GATEWAY_DEACTIVATED', 'GATEWAY_DELETED']);
    expect(second.data!.gatewayEvents.payload).toEqual({ step: 2 });
  });

  it('refuses a token without the read scope with a typed authorization error, not events', async () => {
    const subscription = subscribeWs(client(writeToken), EVENTS, {});
    await subscription.ended;
    const result = await subscription.results.next();
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toMatchObject({
      message: 'this operation needs the read scope',
      extensions: { code: 'FORBIDDEN', requiredScopes: ['read'] },
    });
    expect(subscription.results.size).toBe(0);
  });

  it('keeps the connection open after an operation error (a bad query is that operation\'s failure)', async () => {
    let closeCode: number | undefined;
    let connections = 0;
    // Not lazy: one socket for the whole test, not one per operation.
    const c = wsClient(url, readToken, {
      lazy: false,
      onNonLazyError: () => undefined,
      on: { connected: () => void connections++, closed: (event) => void (closeCode = (event as { code: number }).code) },
    });
    clients.push(c);
    const broken = subscribeWs(c, 'subscription { gatewayEvents { type ');
    const error = await broken.ended.then(() => undefined, (reason: unknown) => reason);
    expect(Array.isArray(error)).toBe(true);
    expect((error as { message: string }[])[0]!.message).toMatch(/^Syntax Error: Expected Name/);

    // Same socket, next operation: still served.
    const gateway = randomUUID();
    const subscription = subscribeWs(c, EVENTS, { gatewayId: gatewayGlobalId(gateway) });
    subscriptions.push(subscription);
    const first = await untilLive(subscription.results, (probe) => publish('GATEWAY_UPDATED', gateway, { probe }));
    expect(first.data!.gatewayEvents.type).toBe('GATEWAY_UPDATED');
    expect(closeCode).toBeUndefined();
    expect(connections).toBe(1);
  });
});

describe('SSE', () => {
  it('answers 401 without a token', async () => {
    const subscription = await subscribeSse(url, null, EVENTS);
    expect(subscription.response.status).toBe(401);
    expect(subscription.response.headers.get('www-authenticate')).toBe('Bearer');
    await subscription.ended;
    const result = await subscription.results.next();
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]).toMatchObject({ message: 'missing or invalid bearer token', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('streams the filtered events with a read token', async () => {
    const gateway = randomUUID();
    const subscription = await subscribeSse(url, readToken, EVENTS, {
      gatewayId: gatewayGlobalId(gateway),
      types: ['GATEWAY_CATALOG_CHANGED'],
    });
    subscriptions.push(subscription);
    expect(subscription.response.status).toBe(200);
    expect(subscription.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await untilLive(subscription.results, (probe) => publish('GATEWAY_CATALOG_CHANGED', gateway, { probe }));

    await publish('GATEWAY_CATALOG_CHANGED', randomUUID(), { wrong: 'gateway' });
    await publish('GATEWAY_ADDED', gateway, { wrong: 'type' });
    const published = await publish('GATEWAY_CATALOG_CHANGED', gateway, { tools: ['a', 'b'] });
    const result = await nextNonProbe(subscription.results);
    expect(result.data!.gatewayEvents).toMatchObject({
      sequence: published.id,
      type: 'GATEWAY_CATALOG_CHANGED',
      gatewayId: gatewayGlobalId(gateway),
      payload: { tools: ['a', 'b'] },
    });
  });

  it('refuses a token without the read scope', async () => {
    const subscription = await subscribeSse(url, writeToken, EVENTS);
    await subscription.ended;
    const result = await subscription.results.next();
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]).toMatchObject({ message: 'this operation needs the read scope', extensions: { code: 'FORBIDDEN' } });
  });
});
