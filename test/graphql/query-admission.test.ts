// MAX_CONCURRENT_QUERIES: at most that many query operations execute at once,
// the rest wait in order; a waiter whose client leaves is dropped; queries a
// peer answers, mutations and subscriptions are not held back. Over HTTP a
// query waits at the door (test/http/query-door.test.ts); over graphql-ws and
// yoga.fetch, in yoga's plugin: both share the permits, and a query that the
// door admitted takes no second permit in yoga.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Admission } from '../../src/graphql/query-admission.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable } from '../helpers/db.js';
import { until } from '../helpers/health.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { registered, PEER_ENV } from '../helpers/registry.js';
import { subscribeWs, wsClient } from '../helpers/subscriptions.js';

describe('Admission', () => {
  test('gives out its permits, then admits waiters first come first served, each on a release', async () => {
    const admission = new Admission(2);
    await admission.acquire();
    await admission.acquire();
    expect(admission.executing).toBe(2);
    expect(admission.tryAcquire()).toBe(false);
    const admitted: number[] = [];
    const waiters = [1, 2, 3].map((n) => admission.acquire().then(() => admitted.push(n)));
    expect(admission.waiting).toBe(3);
    admission.release();
    await waiters[0];
    expect(admitted).toEqual([1]);
    expect(admission.executing).toBe(2);
    admission.release();
    admission.release();
    await Promise.all(waiters.slice(1));
    expect(admitted).toEqual([1, 2, 3]);
    expect(admission.waiting).toBe(0);
    // A permit freed with nobody waiting is there for the next caller at once.
    admission.release();
    admission.release();
    expect(admission.executing).toBe(0);
    expect(admission.tryAcquire()).toBe(true);
    expect(admission.executing).toBe(1);
  });

  test('a waiter whose signal aborts leaves the line without taking a permit', async () => {
    const admission = new Admission(1);
    await admission.acquire();
    const gone = new AbortController();
    const leaving = admission.acquire(gone.signal);
    const staying = admission.acquire();
    gone.abort(new Error('client went away'));
    await expect(leaving).rejects.toThrow('client went away');
    expect(admission.waiting).toBe(1);
    admission.release();
    await staying;
    expect(admission.executing).toBe(1);
    expect(admission.waiting).toBe(0);
    // Already aborted: refused at once, nothing queued.
    await expect(admission.acquire(AbortSignal.abort(new Error('gone before')))).rejects.toThrow('gone before');
    expect(admission.waiting).toBe(0);
  });
});

const gauge = (text: string, name: string) => Number(new RegExp(`^mcp_federation_${name} (\\S+)$`, 'm').exec(text)?.[1]);

describe.runIf(backendAvailable('postgres'))('query admission in the API (PostgreSQL)', () => {
  let t: TestApp;
  let peer: TestPeer;
  let url: string;
  beforeAll(async () => {
    peer = await startPeer({ tools: 2, resources: [{ uri: 'file:///notes', name: 'notes' }] });
    t = await startTestApp({ backend: 'postgres', env: { ...PEER_ENV, MAX_CONCURRENT_QUERIES: '2' } });
    url = await t.app.listen();
    await registered(t, { name: 'admitted', url: peer.url });
  });

  /** An operation over HTTP, through the router and its door. */
  const overHttp = async (query: string) => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminToken}` },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data?: any; errors?: unknown[] };
  };
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  /** Scrapes until the two gauges read as expected (state, not time: the scrape reads the admission). */
  async function untilGauges(executing: number, waiting: number) {
    for (;;) {
      const text = await t.app.metrics.scrape();
      if (gauge(text, 'graphql_queries_executing') === executing && gauge(text, 'graphql_queries_waiting') === waiting) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  test('two queries execute, the third waits its turn, over HTTP and graphql-ws alike; a peer-answered query, a mutation and a leaving client are not held up', async () => {
    let unlock!: () => void;
    const locked = new Promise<void>((resolve) => (unlock = resolve));
    let lockHeld!: () => void;
    const held = new Promise<void>((resolve) => (lockHeld = resolve));
    // Another session holds the tool table: each query that reads it blocks inside the database, holding its permit.
    const lock = t.app.db.sql.transaction(async (tx) => {
      await tx.exec('LOCK TABLE tool IN ACCESS EXCLUSIVE MODE');
      lockHeld();
      await locked;
    });
    await held;
    try {
      const queries = [1, 2, 3].map(() => overHttp('{ tools(first: 5) { totalCount edges { node { name } } } }'));
      await untilGauges(2, 1);
      // Only the two admitted queries reached the database (had the door's
      // queries taken a second permit in yoga, none would have). A permit is taken
      // before its query's statement is sent: wait for both statements to arrive.
      const blocked = await until(
        async () => {
          const [row] = await t.app.db.sql.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%tool%'`,
          );
          return (row?.n ?? 0) >= 2 ? row!.n : 0;
        },
        15_000,
        'the admitted queries to block in the database',
      );
      expect(blocked).toBe(2);

      // Answered by a peer: not held back, not counted. (This peer lists a resource
      // but serves no resources/read: its refusal is the answer that came back.)
      for (const ask of [overHttp, t.gql]) {
        const read = await ask(`{ readResource(uri: "mcp-federation://admitted/file:///notes") { __typename } }`);
        expect(read.errors).toBeUndefined();
        expect(read.data.readResource.__typename).toBe('PeerRefusedError');
        // A mutation is not limited either.
        const created = await ask(`mutation { createApiToken(name: "while busy", scopes: [read]) { __typename } }`);
        expect(created.data.createApiToken.__typename).toBe('CreateApiTokenSuccess');
      }

      // A query over graphql-ws waits its turn in yoga's plugin.
      const ws = wsClient(url, t.adminToken);
      const overWs = subscribeWs(ws, '{ tools(first: 1) { totalCount } }');
      await untilGauges(2, 2);

      // A fourth query whose client goes away while it waits leaves the line.
      const leaving = new AbortController();
      const abandoned = Promise.resolve(
        t.app.yoga.fetch('http://localhost/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminToken}` },
          body: JSON.stringify({ query: '{ tools(first: 1) { totalCount } }' }),
          signal: leaving.signal,
        }),
      ).then(
        (response) => response.text(),
        (error: unknown) => error,
      );
      await untilGauges(2, 3);
      leaving.abort();
      await untilGauges(2, 2);
      await abandoned;

      unlock();
      await lock;
      for (const answer of await Promise.all(queries)) {
        expect(answer.errors).toBeUndefined();
        expect(answer.data.tools.totalCount).toBe(2);
      }
      expect(await overWs.results.next()).toEqual({ data: { tools: { totalCount: 2 } } });
      await overWs.ended;
      await ws.dispose();
      await untilGauges(0, 0);
    } finally {
      unlock();
      await lock.catch(() => undefined);
    }
  });
});

test('the queries admission lets by are the fields of Query that a peer answers', async () => {
  const { schema } = await import('../../src/graphql/schema.js');
  const { PEER_QUERY_FIELDS } = await import('../../src/graphql/types/calls.js');
  const fields = schema.getQueryType()!.getFields();
  for (const name of PEER_QUERY_FIELDS) expect(fields[name]?.description).toMatch(/federated/);
  expect([...PEER_QUERY_FIELDS].sort()).toEqual(['getPrompt', 'readResource']);
});
