import { randomBytes } from 'node:crypto';
// API tokens: issued once through the API, stored only as a hash, revocable,
// validated; and the admin token a first start creates when there is none.
import { Writable } from 'node:stream';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { ApiTokenService } from '../../src/security/api-tokens.js';
import { graphql } from '../gql/index.js';
import { silentLogger, startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable, backends, createPostgresDatabase, keptOpen, testDatabase } from '../helpers/db.js';

const CreateToken = graphql(`
  mutation CreateToken($name: String!, $scopes: [ApiScope!]!) {
    createApiToken(name: $name, scopes: $scopes) {
      __typename
      ... on CreateApiTokenSuccess { secret token { id name scopes createdAt lastUsedAt revokedAt } }
      ... on ValidationError { field message }
    }
  }
`);

const Revoke = graphql(`
  mutation Revoke($id: ID!) {
    revokeApiToken(id: $id) {
      __typename
      ... on RevokeApiTokenSuccess { tokenId }
      ... on NotFoundError { id message }
    }
  }
`);

const Tokens = graphql(`
  query Tokens {
    apiTokens { id name scopes revokedAt }
    tokenType: __type(name: "ApiToken") { fields { name } }
  }
`);

const Me = graphql(`
  query Me {
    viewer { name scopes }
  }
`);

const TOKEN_FORMAT = /^mcpg_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/;
/** The random part of a token; base64url may itself hold underscores, so not split('_'). */
const secretPartOf = (token: string) => token.slice('mcpg_'.length + 32 + 1);

describe('createApiToken and revokeApiToken', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  async function create(name: string, scopes: ('read' | 'write' | 'invoke' | 'admin')[]) {
    const { data, errors } = await t.request(CreateToken, { name, scopes });
    expect(errors).toBeUndefined();
    return data!.createApiToken;
  }

  test('returns the secret once; the database and the logs hold only its hash', async () => {
    const created = await create('  ci bot  ', ['read', 'invoke']);
    if (created.__typename !== 'CreateApiTokenSuccess') throw new Error(created.__typename);
    const { secret, token } = created;
    expect(secret).toMatch(TOKEN_FORMAT);
    expect(token).toMatchObject({ name: 'ci bot', scopes: ['read', 'invoke'], lastUsedAt: null, revokedAt: null });

    const rows = await t.app.db.sql.query<{ id: string; secret_hash: string }>('SELECT * FROM api_token');
    // The API gives the token's global id (ApiToken is a node), the table its UUID.
    expect(rows.map((r) => r.id)).toEqual([decodeGlobalID(token.id).id]);
    expect(decodeGlobalID(token.id).typename).toBe('ApiToken');
    expect(rows[0]!.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    const secretPart = secretPartOf(secret);
    for (const text of [JSON.stringify(rows), t.logs.join('\n')]) {
      expect(text).not.toContain(secretPart);
    }
    // Nothing in the API can show it again.
    const listed = await t.request(Tokens);
    expect(listed.data?.tokenType?.fields?.map((f) => f.name)).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'scopes']);
    expect(JSON.stringify(listed)).not.toContain(secretPart);

    expect((await t.request(Me, undefined, secret)).data?.viewer).toEqual({ name: 'ci bot', scopes: ['read', 'invoke'] });
  });

  test('a revoked token fails with 401; revoking it again, an unknown id or a raw UUID is NotFoundError echoing the id', async () => {
    const created = await create('short-lived', ['read']);
    if (created.__typename !== 'CreateApiTokenSuccess') throw new Error(created.__typename);
    const { secret, token } = created;
    expect((await t.request(Me, undefined, secret)).status).toBe(200);

    expect((await t.request(Revoke, { id: token.id })).data?.revokeApiToken).toEqual({
      __typename: 'RevokeApiTokenSuccess',
      tokenId: token.id,
    });
    const refused = await t.request(Me, undefined, secret);
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const listed = (await t.request(Tokens)).data?.apiTokens.find((row) => row.id === token.id);
    expect(listed?.revokedAt).toEqual(expect.any(String));

    for (const id of [token.id, '0190c3a0-0000-7000-8000-000000000000', 'not-a-token-id']) {
      const { data, errors } = await t.request(Revoke, { id });
      expect(errors).toBeUndefined();
      expect(data?.revokeApiToken).toEqual({ __typename: 'NotFoundError', id, message: `no live API token with id ${id}` });
    }
  });

  test('a blank or over-long name, or no scope, is a ValidationError naming the field; nothing is stored', async () => {
    const before = await t.app.db.prisma.apiToken.count();
    const cases = [
      { name: '', scopes: ['read'], field: 'name' },
      { name: '   ', scopes: ['read'], field: 'name' },
      { name: 'x'.repeat(101), scopes: ['read'], field: 'name' },
      { name: 'no scopes', scopes: [], field: 'scopes' },
    ] as const;
    for (const { name, scopes, field } of cases) {
      const result = await create(name, [...scopes]);
      expect(result).toEqual({ __typename: 'ValidationError', field, message: expect.any(String) });
    }
    expect(await t.app.db.prisma.apiToken.count()).toBe(before);
    // The longest name allowed is 100 characters.
    expect((await create('x'.repeat(100), ['read'])).__typename).toBe('CreateApiTokenSuccess');
  });
});

for (const backend of backends) {
  describe.runIf(backendAvailable(backend))(`bootstrap on ${backend}`, () => {
    test('with no ADMIN_TOKEN, a fresh database gets one admin token, announced once and never again', async () => {
      const database = await testDatabase(backend);
      // The first app must not close the database the second one starts on.
      const kept = keptOpen(database);
      const config = loadConfig({ PORT: '0', LOG_LEVEL: 'debug', SECRET_KEY: randomBytes(32).toString('base64') });
      const announced: string[] = [];
      const logs: string[] = [];
      const logger = createLogger('debug', new Writable({ write: (chunk, _enc, done) => done(void logs.push(String(chunk))) }));
      const start = async (db: typeof database) => {
        const before = announced.length;
        const app = await createApp(config, { database: db, logger, announce: (m) => announced.push(m) });
        // Created and announced once listening, not before.
        expect(announced).toHaveLength(before);
        await app.listen();
        return app;
      };
      const whoAmI = async (app: Awaited<ReturnType<typeof start>>, secret: string) => {
        const response = await app.yoga.fetch('http://localhost/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
          body: JSON.stringify({ query: '{ viewer { name scopes } }' }),
        });
        return response.json();
      };
      try {
        const first = await start(kept);
        expect(announced).toHaveLength(1);
        const secret = /mcpg_\S+/.exec(announced[0]!)?.[0] ?? '';
        expect(secret).toMatch(TOKEN_FORMAT);
        expect(await database.prisma.apiToken.findMany({ select: { name: true, scopes: true } })).toEqual([
          { name: 'bootstrap admin', scopes: ['admin'] },
        ]);
        expect(logs.join('\n')).not.toContain(secretPartOf(secret));
        expect(await whoAmI(first, secret)).toEqual({ data: { viewer: { name: 'bootstrap admin', scopes: ['admin'] } } });
        await first.close();

        const second = await start(database);
        try {
          expect(announced).toHaveLength(1);
          expect(await database.prisma.apiToken.count()).toBe(1);
          expect(await whoAmI(second, secret)).toEqual({ data: { viewer: { name: 'bootstrap admin', scopes: ['admin'] } } });
        } finally {
          await second.close();
        }
      } finally {
        await database.close();
      }
    });
  });
}

describe.runIf(backendAvailable('postgres'))('bootstrap by workers starting together on one PostgreSQL database', () => {
  test('exactly one of them creates and announces the admin token', async () => {
    const { url, drop } = await createPostgresDatabase();
    const dbs = await Promise.all(Array.from({ length: 4 }, () => openDatabase({ kind: 'postgres', url })));
    try {
      await dbs[0]!.migrate();
      const logger = silentLogger();
      const announced: string[] = [];
      const issued = await Promise.all(dbs.map((db) => new ApiTokenService(db.prisma, undefined).bootstrap(logger, (m) => announced.push(m))));
      expect(issued.filter(Boolean)).toHaveLength(1);
      expect(announced).toHaveLength(1);
      expect(await dbs[0]!.prisma.apiToken.count()).toBe(1);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await drop();
    }
  });
});
