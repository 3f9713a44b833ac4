// One abusive request of each kind, against small limits set through the
// environment: each is refused with a message naming the limit, over HTTP and
// over graphql-ws, while an ordinary query still passes.
import { request } from 'node:http';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { subscribeWs, wsClient } from '../helpers/subscriptions.js';

const LIMITS = {
  MAX_QUERY_DEPTH: '5',
  MAX_QUERY_COST: '100',
  MAX_QUERY_ALIASES: '2',
  MAX_QUERY_TOKENS: '100',
  MAX_QUERY_DIRECTIVES: '2',
  MAX_BODY_BYTES: '2048',
};

let t: TestApp;
let url: string;
beforeAll(async () => {
  t = await startTestApp({ env: LIMITS });
  url = await t.app.listen();
});
afterAll(() => t?.close());

const NORMAL = '{ viewer { name scopes } }';

// Each one breaks exactly one limit and stays inside all the others.
const ABUSIVE = [
  {
    limit: 'depth',
    query: '{ gateways { edges { node { tools { edges { node { name } } } } } } }',
    message: 'Query depth limit of 5 exceeded, found 7. (MAX_QUERY_DEPTH)',
    code: 'MAX_QUERY_DEPTH',
  },
  {
    // Cheap to write, expensive to run: the page size multiplies the cost.
    limit: 'cost',
    query: '{ gateways(first: 100) { totalCount } }',
    message: 'Query Cost limit of 100 exceeded, found 300. (MAX_QUERY_COST)',
    code: 'MAX_QUERY_COST',
  },
  {
    limit: 'aliases',
    query: '{ a: viewer { name } b: viewer { name } c: viewer { name } }',
    message: 'Aliases limit of 2 exceeded, found 3. (MAX_QUERY_ALIASES)',
    code: 'MAX_QUERY_ALIASES',
  },
  {
    limit: 'tokens',
    query: `{ viewer { ${'name '.repeat(100)}} }`,
    message: 'Token limit of 100 exceeded. (MAX_QUERY_TOKENS)',
    code: 'MAX_QUERY_TOKENS',
  },
  {
    limit: 'directives',
    query: '{ viewer { name @include(if: true) scopes @include(if: true) __typename @include(if: true) } }',
    message: 'Directives limit of 2 exceeded, found 3. (MAX_QUERY_DIRECTIVES)',
    code: 'MAX_QUERY_DIRECTIVES',
  },
];

describe('operation limits over HTTP', () => {
  it('serves an ordinary query', async () => {
    const response = await t.gql(NORMAL);
    expect(response.errors).toBeUndefined();
    expect(response.data.viewer.scopes).toContain('admin');
  });

  it.each(ABUSIVE)('refuses a query over the $limit limit, naming the setting in the message and extensions.code', async ({ query, message, code }) => {
    const response = await t.gql(query);
    expect(response.data).toBeUndefined();
    expect(response.errors?.map((e) => e.message)).toEqual([message]);
    expect(response.errors?.map((e) => e.extensions?.code)).toEqual([code]);
  });

  it('takes the limits from the environment (defaults accept what the small ones refuse)', async () => {
    const relaxed = await startTestApp();
    try {
      for (const { query } of ABUSIVE) {
        const response = await relaxed.gql(query);
        expect(response.errors, query).toBeUndefined();
      }
    } finally {
      await relaxed.close();
    }
  });

  it('hides field suggestions', async () => {
    const response = await t.gql('{ viewr { name } viewer { nam } }');
    const messages = response.errors?.map((e) => e.message) ?? [];
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/^Cannot query field "viewr" on type "Query"\./);
    expect(messages[1]).toMatch(/^Cannot query field "nam" on type "Viewer"\./);
    for (const message of messages) expect(message).not.toMatch(/Did you mean|"viewer"|"name"/);
  });
});

describe('operation limits over graphql-ws', () => {
  let client: Client;
  beforeAll(() => {
    client = wsClient(url, t.adminToken);
  });
  afterAll(() => client?.dispose());

  it.each([
    {
      limit: 'aliases',
      query: 'subscription { gatewayEvents { a: type b: type c: type } }',
      message: 'Aliases limit of 2 exceeded, found 3. (MAX_QUERY_ALIASES)',
    code: 'MAX_QUERY_ALIASES',
    },
    {
      limit: 'tokens',
      query: `subscription { gatewayEvents { ${'type '.repeat(100)}} }`,
      message: 'Token limit of 100 exceeded. (MAX_QUERY_TOKENS)',
    code: 'MAX_QUERY_TOKENS',
    },
    {
      limit: 'depth',
      query: '{ gateways { edges { node { tools { edges { node { name } } } } } } }',
      message: 'Query depth limit of 5 exceeded, found 7. (MAX_QUERY_DEPTH)',
    code: 'MAX_QUERY_DEPTH',
    },
  ])('refuses an operation over the $limit limit as that operation\'s error', async ({ query, message, code }) => {
    const operation = subscribeWs(client, query);
    const error = await operation.ended.then(() => 'completed', (reason: unknown) => reason);
    // graphql-ws reports operation errors as an array; a CloseEvent would mean the socket died.
    expect(Array.isArray(error), String(error)).toBe(true);
    expect((error as { message: string }[]).map((e) => e.message)).toEqual([message]);
    expect((error as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code)).toEqual([code]);
    expect(operation.results.size).toBe(0);
  });
});

describe('request body size', () => {
  /** A real HTTP POST to /graphql; `chunked` leaves out Content-Length. */
  function post(body: string, { chunked = false } = {}): Promise<{ status: number; type: string; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${t.adminToken}`,
          ...(chunked ? {} : { 'content-length': Buffer.byteLength(body) }),
        },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body: text }));
      });
      if (chunked) {
        // write() before end(): Node then sends Transfer-Encoding: chunked.
        req.write(body);
        req.end();
      } else {
        req.end(body);
      }
    });
  }

  /** NORMAL padded with blanks (no tokens, no cost) to exactly `bytes` bytes of JSON. */
  function normalQueryOf(bytes: number): string {
    const bare = JSON.stringify({ query: NORMAL });
    const body = JSON.stringify({ query: NORMAL + ' '.repeat(bytes - bare.length) });
    expect(Buffer.byteLength(body)).toBe(bytes);
    return body;
  }

  it('accepts a body of exactly MAX_BODY_BYTES', async () => {
    const response = await post(normalQueryOf(2048));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).data.viewer.scopes).toContain('admin');
  });

  it('answers 413 with a JSON error to a body one byte over MAX_BODY_BYTES', async () => {
    const response = await post(normalQueryOf(2049));
    expect(response.status).toBe(413);
    expect(response.type).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toEqual({ errors: [{ message: 'request body exceeds 2048 bytes (MAX_BODY_BYTES)' }] });
  });

  it('answers 411 to a body without Content-Length (its size cannot be checked up front)', async () => {
    const response = await post(JSON.stringify({ query: NORMAL }), { chunked: true });
    expect(response.status).toBe(411);
    expect(JSON.parse(response.body).errors[0].message).toMatch(/Content-Length/);
  });

  it('still serves the next request after refusing one', async () => {
    const big = await post(normalQueryOf(64 * 1024));
    expect(big.status).toBe(413);
    const response = await post(normalQueryOf(500));
    expect(response.status).toBe(200);
  });
});
