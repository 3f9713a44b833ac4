// Query admission at the door (src/http/query-door.ts), through the router over
// real HTTP, with a stand-in for yoga that records what reaches it and answers
// only when the test says: a query that needs a permit reaches yoga only with
// one, and with its body intact; what needs none, or cannot be read, passes.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Admission } from '../../src/graphql/query-admission.js';
import type { GraphQLServer } from '../../src/graphql/yoga.js';
import { admitAtTheDoor } from '../../src/http/query-door.js';
import { createRouter } from '../../src/http/router.js';
import { until } from '../helpers/health.js';
import { closeServer, listenLocal } from '../helpers/peers.js';

interface Arrival {
  method: string;
  body: string;
  answer: () => void;
}

describe('query admission at the door', () => {
  let admission: Admission;
  let arrivals: Arrival[];
  let http: Server;
  let url: string;

  beforeAll(async () => {
    // Stands in for yoga: takes the body as yoga's node adapter does (req.body
    // when the door read it, else the stream), and answers when told to.
    const yoga = (async (req: IncomingMessage, res: ServerResponse) => {
      const read = (req as IncomingMessage & { body?: Buffer }).body;
      let body = read?.toString('utf8');
      if (body === undefined) {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        body = Buffer.concat(chunks).toString('utf8');
      }
      await new Promise<void>((answer) => arrivals.push({ method: req.method!, body: body!, answer }));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{}}');
    }) as unknown as GraphQLServer;
    const config = loadConfig({ MAX_QUERY_TOKENS: '100' });
    // A router per request: each test starts with an Admission of its own.
    const server = await listenLocal(async (req, res) => createRouter(config, undefined as never, yoga, { admission })(req, res));
    http = server.http;
    url = `http://127.0.0.1:${server.port}/graphql`;
  });
  afterAll(async () => {
    await closeServer(http);
  });
  afterEach(() => {
    for (const arrival of arrivals) arrival.answer();
  });

  const post = (body: string, init: RequestInit = {}, contentType = 'application/json') =>
    fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body, ...init });
  const operation = (query: string, operationName?: string) => JSON.stringify({ query, operationName, variables: { secret: 'x' } });
  const answered = (response: Promise<Response>) => response.then((r) => r.status);

  function fresh(permits: number) {
    admission = new Admission(permits);
    arrivals = [];
  }

  test('a query waits at the door for a permit; yoga sees it only then, with its body as sent, and the permit returns when its answer is done', async () => {
    fresh(1);
    const first = answered(post(operation('{ tools { totalCount } }')));
    await until(() => arrivals.length === 1, 5_000, 'the first query to reach yoga');
    const body = operation('query Second { gateways { totalCount } }', 'Second');
    const second = answered(post(body));
    await until(() => admission.waiting === 1, 5_000, 'the second query to wait');
    expect(arrivals).toHaveLength(1);
    expect(admission.executing).toBe(1);

    arrivals[0]!.answer();
    expect(await first).toBe(200);
    await until(() => arrivals.length === 2, 5_000, 'the second query to reach yoga');
    expect(arrivals[1]!.body).toBe(body);
    expect(admission).toMatchObject({ executing: 1, waiting: 0 });
    arrivals[1]!.answer();
    expect(await second).toBe(200);
    await until(() => admission.executing === 0, 5_000, 'the permit to return');
  });

  test('a query sent by GET waits like one sent by POST; a GET without a query (GraphiQL) does not', async () => {
    fresh(1);
    const first = answered(post(operation('{ tools { totalCount } }')));
    await until(() => arrivals.length === 1, 5_000, 'the first query to reach yoga');
    const byGet = answered(fetch(`${url}?query=${encodeURIComponent('{ gateways { totalCount } }')}`));
    await until(() => admission.waiting === 1, 5_000, 'the GET query to wait');
    const page = answered(fetch(url, { headers: { accept: 'text/html' } }));
    await until(() => arrivals.length === 2, 5_000, 'the page request to reach yoga');
    expect(arrivals[1]!.method).toBe('GET');
    arrivals[1]!.answer();
    expect(await page).toBe(200);
    expect(admission.waiting).toBe(1);
    arrivals[0]!.answer();
    await until(() => arrivals.length === 3, 5_000, 'the GET query to reach yoga');
    arrivals[2]!.answer();
    expect([await first, await byGet]).toEqual([200, 200]);
  });

  test('mutations, subscriptions and queries a peer answers pass while every permit is held, and take none', async () => {
    fresh(1);
    void post(operation('{ tools { totalCount } }'));
    await until(() => arrivals.length === 1, 5_000, 'the first query to reach yoga');
    const passing = [
      operation('mutation { createApiToken(name: "t", scopes: [read]) { __typename } }'),
      operation('subscription { gatewayEvents { type } }'),
      operation('{ readResource(uri: "mcp-federation://a/file:///x") { __typename } }'),
      operation('query Read { ...P } fragment P on Query { getPrompt(name: "a__p") { __typename } }', 'Read'),
      // The operation named decides: here the mutation, not the query beside it.
      operation('query Q { tools { totalCount } } mutation M { deleteApiToken(id: "x") { __typename } }', 'M'),
    ];
    for (const body of passing) void post(body);
    await until(() => arrivals.length === 1 + passing.length, 5_000, 'all of them to reach yoga');
    expect(arrivals.slice(1).map((a) => a.body).sort()).toEqual([...passing].sort());
    expect(admission).toMatchObject({ executing: 1, waiting: 0 });
  });

  test('what the door cannot read as one operation goes on to yoga as it came, without a permit', async () => {
    fresh(1);
    void post(operation('{ tools { totalCount } }'));
    await until(() => arrivals.length === 1, 5_000, 'the first query to reach yoga');
    const unread: [string, string][] = [
      ['{"query": "{ tools {', 'application/json'], // not JSON
      [operation('{ tools { totalCount '), 'application/json'], // a syntax error
      [operation(`{ ${'a '.repeat(200)} }`), 'application/json'], // more tokens than MAX_QUERY_TOKENS
      [JSON.stringify([{ query: '{ a }' }]), 'application/json'], // a batch
      [JSON.stringify({ query: '{ a }', operationName: 7 }), 'application/json'],
      ['{ tools { totalCount } }', 'application/graphql'], // yoga's plugin admits it when it executes
    ];
    for (const [body, type] of unread) void post(body, {}, type);
    await until(() => arrivals.length === 1 + unread.length, 5_000, 'all of them to reach yoga');
    expect(arrivals.slice(1).map((a) => a.body).sort()).toEqual(unread.map(([body]) => body).sort());
    expect(admission).toMatchObject({ executing: 1, waiting: 0 });
  });

  test('a client that leaves while it waits leaves the line and never reaches yoga; one that leaves mid-answer returns its permit', async () => {
    fresh(1);
    const leaving = new AbortController();
    const held = post(operation('{ tools { totalCount } }'), { signal: leaving.signal }).catch((error: unknown) => error);
    await until(() => arrivals.length === 1, 5_000, 'the first query to reach yoga');
    const gone = new AbortController();
    const waiting = post(operation('{ gateways { totalCount } }'), { signal: gone.signal }).catch((error: unknown) => error);
    await until(() => admission.waiting === 1, 5_000, 'the second query to wait');
    gone.abort();
    await waiting;
    await until(() => admission.waiting === 0, 5_000, 'the second query to leave the line');
    expect(admission.executing).toBe(1);

    // The admitted client goes away before its answer: its permit comes back.
    leaving.abort();
    await held;
    await until(() => admission.executing === 0, 5_000, 'the permit of the client that left');
    expect(arrivals).toHaveLength(1);
  });

  test('a client that leaves in the same turn as its permit comes does not keep the permit', async () => {
    // Node may emit one response's 'close' and, from another's, the release
    // that admits this one, before the waiting door resumes: simulated here in
    // one synchronous step, with a stand-in for the request and the response.
    fresh(1);
    expect(admission.tryAcquire()).toBe(true);
    const req = { method: 'GET', url: '/graphql?query=%7B%20tools%20%7B%20totalCount%20%7D%20%7D' } as IncomingMessage;
    const res = Object.assign(new EventEmitter(), { closed: false });
    const admitted = admitAtTheDoor(req, res as unknown as ServerResponse, admission, 100);
    await until(() => admission.waiting === 1, 5_000, 'the query to wait');
    admission.release();
    res.closed = true;
    res.emit('close');
    expect(await admitted).toBe(false);
    expect(admission).toMatchObject({ executing: 0, waiting: 0 });
  });
});
