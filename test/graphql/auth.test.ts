// Authentication of the API itself: bearer tokens, scopes, the routes that need
// none, and masked unexpected errors.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { graphql } from '../gql/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const Viewer = graphql(`
  query Viewer {
    viewer { name scopes }
  }
`);

const GatewayCount = graphql(`
  query GatewayCount {
    gateways { totalCount }
  }
`);

const IssueToken = graphql(`
  mutation IssueToken($name: String!, $scopes: [ApiScope!]!) {
    createApiToken(name: $name, scopes: $scopes) {
      __typename
      ... on CreateApiTokenSuccess { secret token { id } }
      ... on AuthorizationError { message requiredScopes }
    }
  }
`);

const RevokeToken = graphql(`
  mutation RevokeToken($id: ID!) {
    revokeApiToken(id: $id) { __typename }
  }
`);

let t: TestApp;
let tokensAtStart: number;
beforeAll(async () => {
  t = await startTestApp();
  tokensAtStart = await t.app.db.prisma.apiToken.count();
});
afterAll(() => t?.close());

/** Issues a token through the API (as the admin) and returns its secret and id. */
async function issue(scopes: ('read' | 'write' | 'invoke' | 'admin')[]) {
  const { data } = await t.request(IssueToken, { name: `${scopes.join('+')} token`, scopes });
  if (data?.createApiToken.__typename !== 'CreateApiTokenSuccess') throw new Error(`not issued: ${JSON.stringify(data)}`);
  return { secret: data.createApiToken.secret, id: data.createApiToken.token.id };
}

async function postViewer(authorization?: string) {
  const response = await t.app.yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
    body: JSON.stringify({ query: '{ viewer { name } }' }),
  });
  return { response, body: (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] } };
}

describe('bearer tokens', () => {
  test('no token, or a malformed, unknown, tampered or revoked one: 401 UNAUTHENTICATED with WWW-Authenticate', async () => {
    const revoked = await issue(['read']);
    expect((await t.request(RevokeToken, { id: revoked.id })).data?.revokeApiToken.__typename).toBe('RevokeApiTokenSuccess');
    const live = await issue(['read']);
    const tampered = live.secret.slice(0, -1) + (live.secret.endsWith('A') ? 'B' : 'A');
    const unknown = `mcpg_${'0'.repeat(32)}_${'A'.repeat(43)}`;
    const cases = [
      undefined,
      '',
      'Bearer',
      'Bearer not-a-token',
      `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      `Bearer ${unknown}`,
      `Bearer ${tampered}`,
      `Bearer ${revoked.secret}`,
      `Bearer ${t.adminToken}x`,
    ];
    for (const authorization of cases) {
      const { response, body } = await postViewer(authorization);
      expect({ authorization, status: response.status }).toEqual({ authorization, status: 401 });
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(body.data).toBeUndefined();
    }
    // The same request with a good token passes, so the 401s above are about the token.
    expect((await postViewer(`Bearer ${live.secret}`)).response.status).toBe(200);
  });

  test('ADMIN_TOKEN from the environment is accepted with every scope', async () => {
    const { data, errors } = await t.request(Viewer, undefined, t.adminToken);
    expect(errors).toBeUndefined();
    expect(data?.viewer).toEqual({ name: 'ADMIN_TOKEN', scopes: ['read', 'write', 'invoke', 'admin'] });
  });

  test('with ADMIN_TOKEN set, the start created no token', () => {
    expect(tokensAtStart).toBe(0);
  });
});

describe('scopes', () => {
  test('read can query, but createApiToken answers AuthorizationError requiring admin, with no data', async () => {
    const { secret } = await issue(['read']);
    expect((await t.request(Viewer, undefined, secret)).data?.viewer.scopes).toEqual(['read']);
    expect((await t.request(GatewayCount, undefined, secret)).data).toEqual({ gateways: { totalCount: 0 } });
    const before = await t.app.db.prisma.apiToken.count();
    const denied = await t.request(IssueToken, { name: 'sneaky', scopes: ['admin'] }, secret);
    expect(denied.errors).toBeUndefined();
    expect(denied.data?.createApiToken).toEqual({
      __typename: 'AuthorizationError',
      message: 'this operation needs the admin scope',
      requiredScopes: ['admin'],
    });
    expect(await t.app.db.prisma.apiToken.count()).toBe(before);
  });

  test('write alone cannot read: queries get FORBIDDEN and no data', async () => {
    const { secret } = await issue(['write']);
    const responses = [await t.request(Viewer, undefined, secret), await t.request(GatewayCount, undefined, secret)];
    for (const { status, data, errors } of responses) {
      expect(status).toBe(200);
      expect(data).toBeNull();
      expect(errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(errors?.[0]?.extensions?.requiredScopes).toEqual(['read']);
    }
  });

  test('admin implies every other scope', async () => {
    const { secret } = await issue(['admin']);
    expect((await t.request(Viewer, undefined, secret)).data?.viewer).toEqual({ name: 'admin token', scopes: ['admin'] });
    expect((await t.request(GatewayCount, undefined, secret)).data?.gateways.totalCount).toBe(0);
    const issued = await t.request(IssueToken, { name: 'by an admin token', scopes: ['invoke'] }, secret);
    expect(issued.data?.createApiToken.__typename).toBe('CreateApiTokenSuccess');
  });
});

describe('routes without a token', () => {
  let base: string;
  beforeAll(async () => {
    base = await t.app.listen();
  });

  test('GraphiQL is served from /graphql to a browser, prefilled with an Authorization header', async () => {
    const response = await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    const headers = /"headers":("(?:[^"\\]|\\.)*")/.exec(html)?.[1];
    expect(JSON.parse(JSON.parse(headers!))).toEqual({ Authorization: 'Bearer <paste an API token>' });
    // Every asset comes from us: nothing from a CDN.
    expect(html).not.toMatch(/https?:\/\//);
    const assets = [...new Set(html.match(/\/graphiql\/[\w./-]+/g))];
    expect(assets).toContain('/graphiql/yoga-graphiql.umd.js');
    expect(assets).toContain('/graphiql/graphiql.css');
    for (const asset of assets) {
      const served = await fetch(`${base}${asset}`);
      expect({ asset, status: served.status }).toEqual({ asset, status: 200 });
      expect((await served.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
  });

  test('the GraphiQL page names itself while loading and brings its own icon', async () => {
    const html = await (await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('<div id=root>Loading MCP federation control plane…</div>');
    expect(html).not.toContain('__TITLE__');
    expect(html).toMatch(/<link rel=icon href="data:image\/svg\+xml,/);
  });

  test('reading the schema needs no token where GraphiQL is served, so its docs load before a token is pasted', async () => {
    const ask = (query: string) =>
      fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const schema = await ask('query IntrospectionQuery { __schema { queryType { name } types { name } } }');
    expect(schema.status).toBe(200);
    const body = (await schema.json()) as { data: { __schema: { queryType: { name: string }; types: { name: string }[] } } };
    expect(body.data.__schema.queryType.name).toBe('Query');
    expect(body.data.__schema.types.map((type) => type.name)).toContain('Gateway');
    // Anything beyond the schema, even beside it or through a fragment, still needs a token.
    for (const query of ['{ __typename gateways { totalCount } }', '{ ...F } fragment F on Query { viewer { name } }', 'mutation { __typename }']) {
      expect((await ask(query)).status, query).toBe(401);
    }
  });

  test('without GraphiQL, reading the schema needs a token too', async () => {
    const closed = await startTestApp({ env: { GRAPHIQL: 'false' } });
    try {
      const response = await closed.gql('{ __schema { queryType { name } } }', undefined, null);
      expect(response.status).toBe(401);
    } finally {
      await closed.close();
    }
  });

  test('an operation over GET still needs a token', async () => {
    const response = await fetch(`${base}/graphql?query=${encodeURIComponent('{ viewer { name } }')}`, {
      headers: { accept: 'application/json' },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });

  test('/healthz and /readyz answer without a token', async () => {
    const healthz = await fetch(`${base}/healthz`);
    expect([healthz.status, await healthz.json()]).toEqual([200, { status: 'ok' }]);
    const readyz = await fetch(`${base}/readyz`);
    expect([readyz.status, await readyz.json()]).toEqual([200, { status: 'ready' }]);
  });
});

describe('unexpected errors are masked', () => {
  const LEAKS = /prisma|invalid|uuid|select|syntax|pglite|\bat\s|\.ts:|\.js:/i;

  test('a database error reaches the client as "Unexpected error." only', async () => {
    const badId = Buffer.from('Gateway:not-a-uuid').toString('base64');
    const response = await t.gql('query ($id: ID!) { node(id: $id) { id } }', { id: badId });
    expect(response.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
    expect(JSON.stringify(response)).not.toMatch(LEAKS);
  });

  test('a closed database: every resolver fails, masked', async () => {
    const broken = await startTestApp();
    try {
      await broken.app.db.close();
      const response = await broken.request(GatewayCount);
      expect(response.data).toBeNull();
      expect(response.errors?.map((e) => e.message)).toEqual(['Unexpected error.']);
      expect(JSON.stringify(response)).not.toMatch(LEAKS);
      // The operator still gets the cause, in the logs.
      expect(broken.logs.some((line) => line.includes('"level":50'))).toBe(true);
    } finally {
      await broken.close();
    }
  });
});
