// Revoking a token ends what was opened with it: graphql-ws sockets close with
// 4403 and SSE subscriptions end, at once on the worker that revoked it and
// within about a second on any other worker of the deployment. Oversized
// WebSocket messages are refused before they are buffered whole.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { randomBytes } from 'node:crypto';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { CLOSE_REVOKED } from '../../src/graphql/websocket.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable, createPostgresDatabase } from '../helpers/db.js';
import { until } from '../helpers/health.js';
import { subscribeSse, subscribeWs, wsClient, wsUrl, type Subscription } from '../helpers/subscriptions.js';

const EVENTS = /* GraphQL */ `subscription { gatewayEvents { type } }`;
const REVOKE = /* GraphQL */ `mutation ($id: ID!) { revokeApiToken(id: $id) { __typename } }`;

const apps: TestApp[] = [];
const clients: Client[] = [];
const subscriptions: Subscription[] = [];
afterEach(async () => {
  for (const s of subscriptions.splice(0)) s.unsubscribe();
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

/** A graphql-ws client whose close code is kept, with an operation running on it. */
function openSocket(url: string, token: string) {
  const state: { code?: number; reason?: string } = {};
  const client = wsClient(url, token, {
    on: { closed: (event) => Object.assign(state, { code: (event as CloseEvent).code, reason: (event as CloseEvent).reason }) },
  });
  clients.push(client);
  const subscription = subscribeWs(client, EVENTS);
  subscriptions.push(subscription);
  return { state, client, subscription };
}

/** Proves the socket is connected and authorised: an operation on it answers. */
async function connected(client: Client): Promise<void> {
  const result = await new Promise<unknown>((resolve, reject) =>
    client.subscribe({ query: '{ viewer { name } }' }, { next: resolve, error: reject, complete: () => undefined }),
  );
  expect(result).toMatchObject({ data: { viewer: { name: 'dashboard' } } });
}

async function sseEnded(sse: Awaited<ReturnType<typeof subscribeSse>>): Promise<boolean> {
  return Promise.race([sse.ended.then(() => true, () => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50))]);
}

describe('revokeApiToken on the same worker', () => {
  test('closes the token\'s graphql-ws sockets with 4403 and ends its SSE subscriptions; other tokens\' stay open', async () => {
    const t = await startTestApp();
    apps.push(t);
    const url = await t.app.listen();
    const doomed = await t.app.services.tokens.create('dashboard', ['read']);
    const other = await t.app.services.tokens.create('dashboard', ['read']);
    const socket = openSocket(url, doomed.secret);
    const survivor = openSocket(url, other.secret);
    await connected(socket.client);
    await connected(survivor.client);
    const sse = await subscribeSse(url, doomed.secret, EVENTS);
    expect(sse.response.status).toBe(200);

    const revoked = await t.gql(REVOKE, { id: encodeGlobalID('ApiToken', doomed.id) });
    expect(revoked.data.revokeApiToken.__typename).toBe('RevokeApiTokenSuccess');
    await until(() => socket.state.code, 5_000, 'the socket to close');
    expect(socket.state).toMatchObject({ code: CLOSE_REVOKED, reason: 'API token revoked' });
    await until(() => sseEnded(sse), 5_000, 'the SSE stream to end');
    // The other token's socket still works.
    await connected(survivor.client);
    expect(survivor.state.code).toBeUndefined();
  });

  test('a WebSocket message larger than MAX_BODY_BYTES is refused (1009) before authentication', async () => {
    const t = await startTestApp({ env: { MAX_BODY_BYTES: '4096' } });
    apps.push(t);
    const url = await t.app.listen();
    const ws = new WebSocket(wsUrl(url), 'graphql-transport-ws');
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(10_000) } }));
    expect(await closed).toBe(1009);
  });
});

describe.runIf(backendAvailable('postgres'))('revokeApiToken on another worker', () => {
  test('a revocation on worker A ends the socket and the SSE stream opened on worker B, without Redis', async () => {
    const { url: databaseUrl, drop } = await createPostgresDatabase();
    try {
      const env = { SECRET_KEY: randomBytes(32).toString('base64') }; // one deployment, one key
      const a = await startTestApp({ env, database: await openDatabase({ kind: 'postgres', url: databaseUrl }) });
      const b = await startTestApp({ env, database: await openDatabase({ kind: 'postgres', url: databaseUrl }) });
      apps.push(a, b);
      const urlB = await b.app.listen();
      const token = await a.app.services.tokens.create('dashboard', ['read']);
      const socket = openSocket(urlB, token.secret);
      await connected(socket.client);
      const sse = await subscribeSse(urlB, token.secret, EVENTS);
      expect(sse.response.status).toBe(200);

      expect((await a.gql(REVOKE, { id: encodeGlobalID('ApiToken', token.id) })).data.revokeApiToken.__typename).toBe('RevokeApiTokenSuccess');
      await until(() => socket.state.code, 5_000, 'the socket on worker B to close');
      expect(socket.state.code).toBe(CLOSE_REVOKED);
      await until(() => sseEnded(sse), 5_000, 'the SSE stream on worker B to end');
      await Promise.all([a.close(), b.close()]);
    } finally {
      await drop();
    }
  });
});
