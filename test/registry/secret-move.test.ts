// Stored peer secrets only go where they were given for: moving a gateway to
// another origin must bring the credentials again.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { registered, updateGateway, uuidOf, PEER_ENV } from '../helpers/registry.js';

const creds = { type: 'basic' as const, username: 'ops', password: 'move-me-not-7731' };
let t: TestApp;
let home: TestPeer;
let elsewhere: TestPeer;
beforeAll(async () => {
  t = await startTestApp({ env: { ...PEER_ENV } });
  home = await startPeer({ tools: 1, auth: creds });
  elsewhere = await startPeer({ tools: 2, auth: creds });
});
afterAll(async () => {
  await t?.close();
  await Promise.all([home?.close(), elsewhere?.close()]);
});

test('a move to another origin without the secret is refused before anything is sent there', async () => {
  const gateway = await registered(t, { name: 'Guarded', url: home.url, auth: { basic: { username: 'ops', password: creds.password } } });
  const seen = elsewhere.requests.http;

  const refused = await updateGateway(t, gateway.id, { url: elsewhere.url });
  expect(refused).toMatchObject({ __typename: 'ValidationError', field: 'auth' });
  expect(refused.message).toMatch(/another origin/);
  expect(elsewhere.requests.http).toBe(seen);
  const row = await t.app.db.prisma.gateway.findUniqueOrThrow({ where: { id: uuidOf(gateway.id) } });
  expect(row.url).toBe(home.url);

  // Keeping the user name but not the password is still not enough.
  const partial = await updateGateway(t, gateway.id, { url: elsewhere.url, auth: { basic: { username: 'ops' } } });
  expect(partial).toMatchObject({ __typename: 'ValidationError', field: 'auth' });
  expect(elsewhere.requests.http).toBe(seen);

  // Same origin: the stored secret is kept (a transport change reconnects with it).
  const sameOrigin = await updateGateway(t, gateway.id, { transport: 'STREAMABLE_HTTP' });
  expect(sameOrigin.__typename).toBe('UpdateGatewaySuccess');

  // Given again, the move goes through.
  const moved = await updateGateway(t, gateway.id, { url: elsewhere.url, auth: { basic: { username: 'ops', password: creds.password } } });
  expect(moved.__typename).toBe('UpdateGatewaySuccess');
  expect(moved.gateway.url).toBe(elsewhere.url);
});
