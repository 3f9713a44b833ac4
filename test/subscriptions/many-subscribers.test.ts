// Many concurrent subscriptions on one worker: each gets every event, and Node
// prints no MaxListenersExceededWarning. yoga's createPubSub attached one
// listener per subscription to one EventTarget, which warns past ten; the bus
// now hangs all its subscribers off one listener, whatever their number.
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { requireServices, TEST_REDIS_URL } from '../helpers/services.js';
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
  subscription Events($gatewayId: ID) {
    gatewayEvents(gatewayId: $gatewayId) {
      sequence
      type
      payload
    }
  }
`;

const WS_SUBSCRIPTIONS = 20;
const SSE_SUBSCRIPTIONS = 10;

const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);
beforeAll(() => void process.on('warning', onWarning));
afterAll(() => void process.off('warning', onWarning));

const modes = [
  { name: 'in one process', redis: false, run: true },
  { name: 'over Redis', redis: true, run: requireServices('redis') },
];

describe.each(modes)('$name: many subscriptions at once', ({ redis, run }) => {
  let t: TestApp;
  let url: string;
  let client: Client | undefined;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    if (!run) return;
    t = await startTestApp({ env: redis ? { REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: `many-${randomUUID()}` } : {} });
    url = await t.app.listen();
  });
  afterEach(async () => {
    for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
    await client?.dispose();
  });
  afterAll(() => t?.close());

  it.runIf(run)(`delivers one event to each of ${WS_SUBSCRIPTIONS} graphql-ws and ${SSE_SUBSCRIPTIONS} SSE subscribers, with no MaxListenersExceededWarning`, async () => {
    warnings.length = 0;
    const gateway = randomUUID();
    const variables = { gatewayId: gatewayGlobalId(gateway) };
    // One socket for all the graphql-ws operations, as a dashboard would have.
    client = wsClient(url, t.adminToken, { lazy: false, onNonLazyError: () => undefined });
    for (let i = 0; i < WS_SUBSCRIPTIONS; i++) subscriptions.push(subscribeWs(client, EVENTS, variables));
    for (let i = 0; i < SSE_SUBSCRIPTIONS; i++) {
      const sse = await subscribeSse(url, t.adminToken, EVENTS, variables);
      expect(sse.response.status).toBe(200);
      subscriptions.push(sse);
    }
    const publish = (payload: Record<string, unknown>) => t.app.services.events.publish(t.app.db.prisma, 'GATEWAY_UPDATED', gateway, payload);

    // Every one of them listening at the same time.
    for (const subscription of subscriptions) await untilLive(subscription.results, (probe) => publish({ probe }));
    const published = await publish({ to: 'everyone' });
    const received = await Promise.all(subscriptions.map((subscription) => nextNonProbe(subscription.results)));
    expect(received).toHaveLength(WS_SUBSCRIPTIONS + SSE_SUBSCRIPTIONS);
    for (const result of received) {
      expect(result.errors).toBeUndefined();
      expect(result.data!.gatewayEvents).toEqual({ sequence: published.id, type: 'GATEWAY_UPDATED', payload: { to: 'everyone' } });
    }

    // process.emitWarning() emits on the next tick: let any such warning arrive before looking.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning').map((warning) => warning.message)).toEqual([]);
  });
});
