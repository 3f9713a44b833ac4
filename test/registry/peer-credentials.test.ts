// "Authenticating to peers", end to end through the GraphQL API against real MCP
// peers that demand each kind of credentials. OAuth token handling (reuse,
// expiry, 401, updates) is in peer-credentials-oauth.test.ts.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openAuth } from '../../src/federation/auth-storage.js';
import type { PeerAuth } from '../../src/federation/peer-auth.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable, backends } from '../helpers/db.js';
import { startPeer, startTokenServer, type ExpectedAuth, type TestPeer, type TokenServer } from '../helpers/peers.js';
import { dumpDatabase, expectNoSecrets, recordingClient, type RecordingClient } from '../helpers/secret-scan.js';
import { GATEWAY, REFRESH, REGISTER, UPDATE } from './peer-credentials-documents.js';

// Unlikely strings: a hit anywhere is a leak, never a coincidence.
const SECRETS = {
  password: 'pw-right-Q7vK2m',
  wrongPassword: 'pw-wrong-X3nB8c',
  token: 'tok-right-H5tR9w',
  wrongToken: 'tok-wrong-L2pZ6y',
  apiKey: 'hdr-key-N8sD4f',
  tenant: 'hdr-tenant-J6qW1e',
  wrongApiKey: 'hdr-wrong-B9xC3v',
  // Characters that must be form-encoded before the Basic encoding (RFC 6749 §2.3.1).
  clientSecret: 'cs-right-M4kT7u :&=+',
  wrongClientSecret: 'cs-wrong-F1gY5h',
};
const SCOPES = ['tools:read', 'tools:call'];
const AUDIENCE = 'https://peer.example/api';
const NOTHING_SHOWN = { username: null, headerNames: null, tokenUrl: null, clientId: null, scopes: null, audience: null };

interface Case {
  type: string;
  demands: ExpectedAuth;
  /** PeerAuthInput values. */
  right: Record<string, unknown>;
  wrong: Record<string, unknown>;
  shown: Record<string, unknown>;
  /** What the sealed row must open to. */
  stored: PeerAuth;
  /** Who turns the wrong credentials down. */
  rejectedBy: 'peer' | 'token endpoint';
}

for (const backend of backends) {
  describe.runIf(backendAvailable(backend))(`peer credentials on ${backend}`, () => {
    let t: TestApp;
    let api: RecordingClient;
    let tokens: TokenServer;
    let box: SecretBox;
    const closers: { close(): Promise<void> }[] = [];

    function cases(): Case[] {
      const oauth = { tokenUrl: tokens.url, clientId: 'federation-client', scopes: SCOPES, audience: AUDIENCE };
      const headers = [{ name: 'X-Api-Key', value: SECRETS.apiKey }, { name: 'X-Tenant', value: SECRETS.tenant }];
      return [
        {
          type: 'BASIC',
          demands: { type: 'basic', username: 'alice', password: SECRETS.password },
          right: { basic: { username: 'alice', password: SECRETS.password } },
          wrong: { basic: { username: 'alice', password: SECRETS.wrongPassword } },
          shown: { ...NOTHING_SHOWN, type: 'BASIC', username: 'alice' },
          stored: { type: 'basic', username: 'alice', password: SECRETS.password },
          rejectedBy: 'peer',
        },
        {
          type: 'BEARER',
          demands: { type: 'bearer', token: SECRETS.token },
          right: { bearer: { token: SECRETS.token } },
          wrong: { bearer: { token: SECRETS.wrongToken } },
          shown: { ...NOTHING_SHOWN, type: 'BEARER' },
          stored: { type: 'bearer', token: SECRETS.token },
          rejectedBy: 'peer',
        },
        {
          type: 'HEADERS',
          demands: { type: 'headers', headers: { 'x-api-key': SECRETS.apiKey, 'x-tenant': SECRETS.tenant } },
          right: { headers },
          wrong: { headers: [{ name: 'X-Api-Key', value: SECRETS.wrongApiKey }, { name: 'X-Tenant', value: SECRETS.tenant }] },
          shown: { ...NOTHING_SHOWN, type: 'HEADERS', headerNames: ['X-Api-Key', 'X-Tenant'] },
          stored: { type: 'headers', headers },
          rejectedBy: 'peer',
        },
        {
          type: 'OAUTH2_CLIENT_CREDENTIALS',
          demands: { type: 'oauth', tokens },
          right: { oauth2ClientCredentials: { ...oauth, clientSecret: SECRETS.clientSecret } },
          wrong: { oauth2ClientCredentials: { ...oauth, clientSecret: SECRETS.wrongClientSecret } },
          shown: { ...NOTHING_SHOWN, type: 'OAUTH2_CLIENT_CREDENTIALS', tokenUrl: tokens.url, clientId: oauth.clientId, scopes: SCOPES, audience: AUDIENCE },
          stored: { type: 'oauth2ClientCredentials', ...oauth, clientSecret: SECRETS.clientSecret },
          rejectedBy: 'token endpoint',
        },
      ];
    }

    async function peer(auth?: ExpectedAuth): Promise<TestPeer> {
      const started = await startPeer({ tools: 2, ...(auth ? { auth } : {}) });
      closers.push(started);
      return started;
    }

    async function storedRow(id: string) {
      const [row] = await t.app.db.sql.query<{ auth_type: any; auth_public: unknown; auth_secret: string | null }>(
        'SELECT auth_type, auth_public, auth_secret FROM gateway WHERE id = $1',
        [id],
      );
      return row!;
    }

    const localId = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':').slice(1).join(':');

    beforeAll(async () => {
      t = await startTestApp({ backend });
      api = recordingClient(t);
      tokens = await startTokenServer({ clientId: 'federation-client', clientSecret: SECRETS.clientSecret });
      closers.push(tokens);
      box = await SecretBox.load(t.app.config.SECRET_KEY, t.app.config.DATA_DIR);
    });
    afterAll(async () => {
      await t?.close();
      await Promise.all(closers.map((c) => c.close()));
    });

    describe.each(['BASIC', 'BEARER', 'HEADERS', 'OAUTH2_CLIENT_CREDENTIALS'])('%s credentials', (type) => {
      let c: Case;
      let demanding: TestPeer;
      beforeAll(async () => {
        c = cases().find((x) => x.type === type)!;
        demanding = await peer(c.demands);
      });

      test('wrong ones: PeerConnectionError AUTH_REJECTED, nothing stored, no secret in the message', async () => {
        const { unauthorized, http } = demanding.requests;
        const before = { dump: await dumpDatabase(t), unauthorized, http, tokens: tokens.requests.length };
        const { data } = await api.gql(REGISTER, { input: { name: `${type} wrong`, url: demanding.url, auth: c.wrong } });
        expect(data.registerGateway).toMatchObject({ __typename: 'PeerConnectionError', reason: 'AUTH_REJECTED', httpStatus: 401 });
        expect(await dumpDatabase(t)).toEqual(before.dump);
        if (c.rejectedBy === 'peer') {
          // Refused once and not retried: a 401 cannot pass by trying again.
          expect(demanding.requests.unauthorized).toBe(before.unauthorized + 1);
        } else {
          expect(tokens.requests.length).toBe(before.tokens + 1);
          expect(demanding.requests.http).toBe(before.http);
        }
        expectNoSecrets({ message: [data.registerGateway.message] }, SECRETS);
      });

      test('right ones: registered; Gateway.auth shows the type and non-secret parts only; sealed at rest', async () => {
        const before = demanding.requests.unauthorized;
        const { data } = await api.gql(REGISTER, { input: { name: `${type} peer`, url: demanding.url, auth: c.right } });
        expect(data.registerGateway.__typename).toBe('RegisterGatewaySuccess');
        const { id, auth, tools } = data.registerGateway.gateway;
        expect(auth).toEqual(c.shown);
        expect(tools.totalCount).toBe(2);
        expect(demanding.requests.unauthorized).toBe(before);
        expect((await api.gql(GATEWAY, { id })).data.gateway.auth).toEqual(c.shown);
        if (c.rejectedBy === 'token endpoint') {
          expect(tokens.requests.at(-1)).toEqual({ clientAuth: 'basic', scope: SCOPES.join(' '), audience: AUDIENCE });
        }

        const row = await storedRow(localId(id));
        expect(row.auth_type).toBe(type);
        expect(row.auth_secret).toMatch(/^v1\./);
        expectNoSecrets({ auth_secret: [row.auth_secret!], auth_public: [JSON.stringify(row.auth_public)] }, SECRETS);
        expect(openAuth({ authType: row.auth_type, authPublic: row.auth_public, authSecret: row.auth_secret }, box)).toEqual(c.stored);
        // Sealed under the app's key: any other key cannot open it.
        expect(() => SecretBox.fromKey(randomBytes(32)).open(row.auth_secret!)).toThrow();
      });
    });

    describe('updateGateway credentials', () => {
      let demanding: TestPeer;
      let id: string;
      beforeAll(async () => {
        demanding = await peer({ type: 'basic', username: 'bob', password: SECRETS.password });
        const auth = { basic: { username: 'bob', password: SECRETS.password } };
        const { data } = await api.gql(REGISTER, { input: { name: 'updatable', url: demanding.url, auth } });
        id = data.registerGateway.gateway.id;
      });

      test('basic with only the user name keeps the stored password: the reconnect and later refreshes authenticate', async () => {
        const before = { initialize: demanding.requests.methods.initialize ?? 0, unauthorized: demanding.requests.unauthorized };
        const { data } = await api.gql(UPDATE, { id, input: { auth: { basic: { username: 'bob' } } } });
        expect(data.updateGateway.__typename).toBe('UpdateGatewaySuccess');
        expect(data.updateGateway.gateway.auth).toMatchObject({ type: 'BASIC', username: 'bob' });
        // The auth change reconnected, with the stored password.
        expect(demanding.requests.methods.initialize).toBe(before.initialize + 1);
        expect((await api.gql(REFRESH, { id })).data.refreshGateway.__typename).toBe('RefreshGatewaySuccess');
        expect(demanding.requests.unauthorized).toBe(before.unauthorized);
        const row = await storedRow(localId(id));
        expect(openAuth({ authType: row.auth_type, authPublic: row.auth_public, authSecret: row.auth_secret }, box)).toEqual({
          type: 'basic',
          username: 'bob',
          password: SECRETS.password,
        });
      });

      test('another type with wrong credentials: AUTH_REJECTED, and the old credentials stay in force', async () => {
        const dump = await dumpDatabase(t);
        const { data } = await api.gql(UPDATE, { id, input: { auth: { bearer: { token: SECRETS.wrongToken } } } });
        expect(data.updateGateway).toMatchObject({ __typename: 'PeerConnectionError', reason: 'AUTH_REJECTED' });
        expectNoSecrets({ message: [data.updateGateway.message] }, SECRETS);
        expect(await dumpDatabase(t)).toEqual(dump);
        expect((await api.gql(GATEWAY, { id })).data.gateway.auth).toEqual({ ...NOTHING_SHOWN, type: 'BASIC', username: 'bob' });
        const unauthorized = demanding.requests.unauthorized;
        expect((await api.gql(REFRESH, { id })).data.refreshGateway.__typename).toBe('RefreshGatewaySuccess');
        expect(demanding.requests.unauthorized).toBe(unauthorized);
      });

      test('switching to none leaves neither the old non-secret parts nor the sealed secret', async () => {
        const open = await peer();
        const auth = { basic: { username: 'carol', password: SECRETS.password } };
        const { data } = await api.gql(REGISTER, { input: { name: 'to none', url: open.url, auth } });
        const { id } = data.registerGateway.gateway;
        const updated = (await api.gql(UPDATE, { id, input: { auth: { none: true } } })).data.updateGateway;
        expect(updated).toMatchObject({ __typename: 'UpdateGatewaySuccess', gateway: { auth: { ...NOTHING_SHOWN, type: 'NONE' } } });
        const row = await storedRow(localId(id));
        expect(row.auth_type).toBe('NONE');
        expect(row.auth_secret).toBeNull();
        expect(JSON.stringify(row.auth_public ?? null)).not.toContain('carol');
      });
    });

    describe('DuplicateGatewayError', () => {
      test('same URL and same credentials under another name is a duplicate; other credentials for the same URL are not', async () => {
        // A peer that checks one header and ignores the rest, so several credentials pass.
        const open = await peer({ type: 'headers', headers: { 'x-api-key': SECRETS.apiKey } });
        const register = async (name: string, auth: Record<string, unknown>) =>
          (await api.gql(REGISTER, { input: { name, url: open.url, auth } })).data.registerGateway;
        const first = await register('dup first', { headers: [{ name: 'X-Api-Key', value: SECRETS.apiKey }] });
        expect(first.__typename).toBe('RegisterGatewaySuccess');

        const dump = await dumpDatabase(t);
        const again = await register('dup again', { headers: [{ name: 'X-Api-Key', value: SECRETS.apiKey }] });
        expect(again).toMatchObject({ __typename: 'DuplicateGatewayError', existingGatewayId: first.gateway.id });
        // Header names are case-insensitive: the same credentials, spelt otherwise.
        const spelt = await register('dup spelt', { headers: [{ name: 'x-api-key', value: SECRETS.apiKey }] });
        expect(spelt).toMatchObject({ __typename: 'DuplicateGatewayError', existingGatewayId: first.gateway.id });
        expect(await dumpDatabase(t)).toEqual(dump);

        const other = await register('dup other', {
          headers: [{ name: 'X-Api-Key', value: SECRETS.apiKey }, { name: 'X-Tenant', value: SECRETS.tenant }],
        });
        expect(other.__typename).toBe('RegisterGatewaySuccess');
        expect(other.gateway.id).not.toBe(first.gateway.id);
      });
    });

    describe('no secret shows anywhere', () => {
      test('a malformed auth input is refused without repeating it, and says what is wrong', async () => {
        const malformed: [Record<string, unknown>, RegExp][] = [
          [{ basic: { username: 'alice', password: SECRETS.password }, bearer: { token: SECRETS.token } }, /at "input\.auth"; Exactly one key/],
          [{ basic: { password: SECRETS.password } }, /at "input\.auth\.basic"; Field "username" of required type "String!" was not provided/],
          [{ headers: [{ name: 'X-Api-Key', value: SECRETS.apiKey, extra: 1 }] }, /at "input\.auth\.headers\[0\]"; Field "extra" is not defined/],
          [{ bearer: { token: 73_915_226 } }, /at "input\.auth\.bearer\.token"; String cannot represent a non string value$/],
        ];
        for (const [auth, reason] of malformed) {
          const response = await api.gql(REGISTER, { input: { name: 'malformed', url: 'http://127.0.0.1:1/mcp', auth } });
          expect(response.errors).toHaveLength(1);
          expect(response.errors![0]!.message).toMatch(/^Variable "\$input" got invalid value at /);
          expect(response.errors![0]!.message).toMatch(reason);
          expectNoSecrets({ response: [JSON.stringify(response)] }, { ...SECRETS, number: '73915226' });
        }
      });

      // Runs last: it scans what every test above left behind.
      test('not in any column of any row, any GraphQL response, any log line', async () => {
        const dump = await dumpDatabase(t);
        // The scan sees what is stored: the non-secret parts are there in the clear.
        expect(dump.some((line) => line.startsWith('public.gateway:') && line.includes('alice'))).toBe(true);
        expect(dump.some((line) => line.includes('X-Tenant'))).toBe(true);
        expect(api.responses.length).toBeGreaterThan(10);
        expect(t.logs.some((line) => line.includes('registered gateway'))).toBe(true);
        expectNoSecrets({ database: dump, responses: api.responses, logs: t.logs }, SECRETS);
      });
    });
  });
}
