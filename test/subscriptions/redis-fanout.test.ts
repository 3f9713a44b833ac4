// Workers share events through Redis: what one app publishes reaches the
// graphql-ws subscribers of another. Each app has its own PGlite database; only
// the Redis channel joins them, as between the workers of one deployment.
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { requireServices, TEST_REDIS_URL } from '../helpers/services.js';
import { gatewayGlobalId, nextNonProbe, subscribeWs, untilLive, wsClient } from '../helpers/subscriptions.js';

const EVENTS = /* GraphQL */ `
  subscription Events($gatewayId: ID) {
    gatewayEvents(gatewayId: $gatewayId) {
      sequence
      type
      gatewayId
      payload
    }
  }
`;

describe.runIf(requireServices('redis'))('event fan-out over Redis', () => {
  let a: TestApp;
  let b: TestApp;
  /** Another deployment on the same Redis. */
  let other: TestApp;
  const otherPrefix = `other-${randomUUID()}`;
  let client: Client;
  let bUrl: string;

  beforeAll(async () => {
    [a, b, other] = await Promise.all([
      startTestApp({ env: { REDIS_URL: TEST_REDIS_URL } }),
      startTestApp({ env: { REDIS_URL: TEST_REDIS_URL } }),
      startTestApp({ env: { REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: otherPrefix } }),
    ]);
    bUrl = await b.app.listen();
  });
  afterAll(async () => {
    await client?.dispose();
    await Promise.all([a?.close(), b?.close(), other?.close()]);
  });

  it('delivers an event published on app A to a graphql-ws subscriber of app B', async () => {
    // Other test runs may share this Redis: a fresh gateway id keeps their events out.
    const gateway = randomUUID();
    client = wsClient(bUrl, b.adminToken);
    const subscription = subscribeWs(client, EVENTS, { gatewayId: gatewayGlobalId(gateway) });
    const publishOnA = (payload: Record<string, unknown>) =>
      a.app.services.events.publish(a.app.db.prisma, 'GATEWAY_ADDED', gateway, payload);

    // B's SUBSCRIBE reaches Redis some time after the operation starts.
    await untilLive(subscription.results, (probe) => publishOnA({ probe }));
    const published = await publishOnA({ from: 'A' });
    const result = await nextNonProbe(subscription.results);
    expect(result.data!.gatewayEvents).toMatchObject({
      sequence: published.id,
      type: 'GATEWAY_ADDED',
      gatewayId: gatewayGlobalId(gateway),
      payload: { from: 'A' },
    });

    // Recorded once, by the publisher; B only relays it.
    expect(await a.app.db.prisma.gatewayEvent.count({ where: { gatewayId: gateway, payload: { equals: { from: 'A' } } } })).toBe(1);
    expect(await b.app.db.prisma.gatewayEvent.count({ where: { gatewayId: gateway } })).toBe(0);
    subscription.unsubscribe();
  });

  it('keeps deployments with another REDIS_CHANNEL_PREFIX apart', async () => {
    const gateway = randomUUID();
    const wsB = wsClient(bUrl, b.adminToken);
    // A plain Redis subscriber on the other deployment's channel: proof its event went out.
    const listener = new Redis(TEST_REDIS_URL);
    try {
      const subscription = subscribeWs(wsB, EVENTS, { gatewayId: gatewayGlobalId(gateway) });
      const publish = (app: TestApp, payload: Record<string, unknown>) => app.app.services.events.publish(app.app.db.prisma, 'GATEWAY_ADDED', gateway, payload);
      await untilLive(subscription.results, (probe) => publish(a, { probe }));

      await listener.subscribe(`${otherPrefix}:gateway-events`);
      const heard = new Promise<string>((resolve) => listener.once('message', (_channel, message: string) => resolve(message)));
      await publish(other, { from: 'other deployment' });
      expect(JSON.parse(await heard)).toMatchObject({ gatewayId: gateway, payload: { from: 'other deployment' } });

      // Redis delivers in order: had B been on that channel, the other event would come first.
      await publish(a, { from: 'A' });
      const result = await nextNonProbe(subscription.results);
      expect(result.data!.gatewayEvents.payload).toEqual({ from: 'A' });
      subscription.unsubscribe();
    } finally {
      listener.disconnect();
      await wsB.dispose();
    }
  });
});
