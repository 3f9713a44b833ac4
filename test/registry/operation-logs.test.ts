// Every registry and token operation leaves one structured log line with the
// gateway (or token) id and the actor, the API token that asked for it;
// failed peer connections say why. No line carries a secret.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { peerPool, refusedUrl } from '../helpers/peers.js';
import {
  deleteGateway,
  PEER_ENV,
  refreshGateway,
  registered,
  registerGateway,
  setGatewayEnabled,
  setToolEnabled,
  updateGateway,
  uuidOf,
} from '../helpers/registry.js';
import { expectNoSecrets } from '../helpers/secret-scan.js';

const pool = peerPool();
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: PEER_ENV });
});
afterAll(async () => {
  await t?.close();
  await pool.closeAll();
});

interface Line {
  msg: string;
  level: number;
  gatewayId?: string;
  tokenId?: string;
  actor?: { tokenId: string | null; name: string };
  [key: string]: unknown;
}
const lines = (): Line[] => t.logs.map((line) => JSON.parse(line) as Line);
const linesAbout = (msg: string) => lines().filter((line) => line.msg === msg);

test('each operation logs one line naming what it changed and which token asked; nothing secret', async () => {
  const bot = await t.app.services.tokens.create('ops-bot', ['write']);
  const actor = { tokenId: bot.id, name: 'ops-bot' };
  const token = 'peer-bearer-secret-0123456789';
  const peer = await pool.start({ tools: 2, auth: { type: 'bearer', token } });
  const gateway = await registered(t, { name: 'Logged', url: peer.url, auth: { bearer: { token } } }, bot.secret);
  const id = uuidOf(gateway.id);

  expect((await updateGateway(t, gateway.id, { description: 'now described', auth: { bearer: { token } } }, bot.secret)).__typename).toBe('UpdateGatewaySuccess');
  expect((await refreshGateway(t, gateway.id, bot.secret)).__typename).toBe('RefreshGatewaySuccess');
  expect((await setGatewayEnabled(t, gateway.id, false, bot.secret)).__typename).toBe('SetGatewayEnabledSuccess');
  expect((await setGatewayEnabled(t, gateway.id, true, bot.secret)).__typename).toBe('SetGatewayEnabledSuccess');
  const tool = (await t.gql(`query ($id: ID!) { gateway(id: $id) { tools(first: 1) { edges { node { id } } } } }`, { id: gateway.id })).data.gateway.tools
    .edges[0].node.id;
  expect((await setToolEnabled(t, tool, false, bot.secret)).__typename).toBe('SetToolEnabledSuccess');
  expect((await deleteGateway(t, gateway.id, bot.secret)).__typename).toBe('DeleteGatewaySuccess');

  for (const msg of ['registered gateway', 'updated gateway', 'refreshed gateway', 'disabled gateway', 'enabled gateway', 'deleted gateway']) {
    expect(linesAbout(msg), msg).toEqual([expect.objectContaining({ gatewayId: id, actor })]);
  }
  expect(linesAbout('updated gateway')[0]).toMatchObject({ fields: ['auth', 'description'], reconnected: true });
  expect(linesAbout('disabled tool')).toEqual([expect.objectContaining({ gatewayId: id, toolId: uuidOf(tool), actor })]);

  // A peer that refuses: the failure is logged with its reason, for the registration that was refused.
  const refused = await registerGateway(t, { name: 'Gone', url: await refusedUrl() }, bot.secret);
  expect(refused.__typename).toBe('PeerConnectionError');
  expect(linesAbout('peer connection failed')).toEqual([expect.objectContaining({ gatewayId: null, reason: refused.reason, actor })]);

  // Tokens: created and revoked, by whom; the secret never.
  const created = await t.gql(`mutation { createApiToken(name: "temp", scopes: [read]) { ... on CreateApiTokenSuccess { secret token { id } } } }`);
  const temp = created.data.createApiToken;
  await t.gql(`mutation ($id: ID!) { revokeApiToken(id: $id) { __typename } }`, { id: temp.token.id });
  const admin = { tokenId: null, name: 'ADMIN_TOKEN' };
  // Log lines name database ids (as for gateways); the API gives the global id.
  expect(linesAbout('created API token')).toContainEqual(expect.objectContaining({ tokenId: uuidOf(temp.token.id), actor: admin }));
  expect(linesAbout('revoked API token')).toEqual([expect.objectContaining({ tokenId: uuidOf(temp.token.id), actor: admin })]);

  expectNoSecrets({ logs: t.logs }, { token, botSecret: bot.secret.split('_').slice(2).join('_'), temp: temp.secret.split('_').slice(2).join('_') });
});
