// Answers are serialized piece by piece into bytes (src/graphql/json-bytes.ts):
// the bytes must be exactly JSON.stringify's, whatever the answer holds, and
// they must reach the socket as a buffer, not as one large string.
import { ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { jsonBytes, jsonPieces, PIECE_CHARS } from '../../src/graphql/json-bytes.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { seedGateway } from '../helpers/seed.js';

/** Records as the executor makes them: without a prototype. */
function record(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, entries);
}

/** A dashboard-shaped answer: `gateways` pages of `tools` nodes each, larger than many pieces. */
function dashboardAnswer(gateways: number, tools: number) {
  const edges = Array.from({ length: gateways }, (_, g) =>
    record({
      node: record({
        id: `R2F0ZXdheT${g}`,
        name: `Gateway ${g}`,
        tools: record({
          totalCount: tools,
          edges: Array.from({ length: tools }, (_, i) =>
            record({ node: record({ id: `VG9vbD${g}-${i}`, name: `g${g}__tool_${i}`, description: `Tool ${i} of gateway ${g}: ${'x'.repeat(120)}` }) }),
          ),
        }),
      }),
    }),
  );
  return { data: record({ gateways: record({ totalCount: gateways, edges }) }) };
}

const same = (value: unknown) => expect(jsonBytes(value).toString('utf8')).toBe(JSON.stringify(value));

describe('jsonBytes', () => {
  test('a dashboard page many pieces long: the bytes of JSON.stringify, in pieces no longer than a piece', () => {
    const answer = dashboardAnswer(50, 40);
    expect(JSON.stringify(answer).length).toBeGreaterThan(10 * PIECE_CHARS);
    same(answer);
    const pieces = jsonPieces(answer);
    expect(pieces.length).toBeGreaterThan(10);
    // A run's own brackets and separator may pass the limit by a character or two.
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(PIECE_CHARS + 2);
  });

  test('one item larger than a piece is walked into, and a list of one huge page too', () => {
    same(dashboardAnswer(1, 2_000));
    same({ data: record({ tools: record({ edges: dashboardAnswer(1, 3_000).data.gateways }) }) });
    const pieces = jsonPieces(dashboardAnswer(1, 2_000));
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(PIECE_CHARS + 2);
  });

  test('what JSON.stringify leaves out or turns into null, and what it asks toJSON for', () => {
    const big = 'y'.repeat(PIECE_CHARS);
    same({
      data: record({ a: undefined, b: () => 1, c: Symbol('s'), d: null, e: [undefined, () => 1, Symbol('t'), null, NaN, Infinity, -0] }),
      extensions: { when: new Date(0), error: new GraphQLError('boom', { extensions: { code: 'X' } }), big: [big, big, { big }] },
    });
    same([]);
    same({});
    same(record({}));
    same([[[]], [{}], [record({ x: [] })]]);
    same({ empty: Array.from({ length: 3 * PIECE_CHARS }, () => record({})) });
    // A sparse array's holes are nulls.
    same({ holes: Object.assign(new Array(5), { 2: 'two' }) });
  });

  test('text in every encoding width, escapes and lone surrogates, across pieces', () => {
    const words = ['plain', 'quote " and \\ backslash', 'tab\tnew\nline\u0000', 'é ü ß', 'ελληνικά', '中文字符', 'emoji 🚀🧪', 'lone \ud800 surrogate \udfff', '\u2028\u2029'];
    const items = Array.from({ length: 4_000 }, (_, i) => record({ [words[i % words.length]!]: words[(i * 7) % words.length]!.repeat(1 + (i % 5)) }));
    same({ data: record({ items }) });
    const bytes = jsonBytes({ data: record({ items }) });
    expect(bytes.length).toBe(Buffer.byteLength(JSON.stringify({ data: record({ items }) }), 'utf8'));
  });

  test('random answers, small and large, serialize as JSON.stringify does', () => {
    let seed = 0x2f6e2b1;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    const scalar = (): unknown => {
      const r = random();
      if (r < 0.2) return Math.floor(random() * 1e6) - 5e5;
      if (r < 0.3) return random() * 10;
      if (r < 0.4) return random() < 0.5;
      if (r < 0.5) return null;
      if (r < 0.55) return undefined;
      return String.fromCodePoint(...Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * (random() < 0.8 ? 128 : 0x1_0000))));
    };
    // At most `budget` values per answer: a few large lists, not a combinatorial explosion.
    let budget = 0;
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 5 || r < 0.4 || budget <= 0) return scalar();
      const size = Math.min(budget, Math.floor(random() * (random() < 0.1 ? 400 : 8)));
      budget -= size;
      if (r < 0.7) return Array.from({ length: size }, () => value(depth + 1));
      const entries: Record<string, unknown> = {};
      for (let i = 0; i < size; i++) entries[`${String.fromCharCode(97 + (i % 26))}${i}`] = value(depth + 1);
      return random() < 0.5 ? record(entries) : entries;
    };
    let large = 0;
    for (let i = 0; i < 300; i++) {
      budget = 5_000;
      const answer = { data: value(0) };
      if (JSON.stringify(answer).length > PIECE_CHARS) large++;
      same(answer);
    }
    // The generator does reach answers of several pieces, where the cutting happens.
    expect(large).toBeGreaterThan(10);
  });

  test('deeper than it walks, a value is serialized whole; a cycle fails as JSON.stringify fails', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 200; i++) deep = [record({ level: i, next: deep, pad: 'p'.repeat(400) })];
    same({ data: deep });
    const cycle: Record<string, unknown> = { pad: 'q'.repeat(PIECE_CHARS) };
    cycle.self = [cycle];
    expect(() => jsonBytes({ data: cycle })).toThrow(TypeError);
  });
});

describe('answers over HTTP', () => {
  let t: TestApp;
  let url: string;
  const writes: unknown[] = [];
  const write = ServerResponse.prototype.write;
  beforeAll(async () => {
    t = await startTestApp();
    url = await t.app.listen();
    const prisma = t.app.db.prisma;
    for (const name of ['alpha', 'beta', 'gamma', 'delta']) {
      const g = await seedGateway(prisma, { name });
      await prisma.tool.createMany({
        data: Array.from({ length: 100 }, (_, i) => ({ gatewayId: g.id, name: `${name}__t${i}`, originalName: `t${i}`, description: `Tool ${i} — ${'d'.repeat(200)}`, inputSchema: {} })),
      });
    }
    ServerResponse.prototype.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      writes.push(chunk);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof write;
  });
  afterEach(() => {
    writes.length = 0;
  });
  afterAll(async () => {
    ServerResponse.prototype.write = write;
    await t?.close();
  });

  const PAGE = "{ gateways(first: 10) { totalCount edges { node { name tools(first: 100) { totalCount edges { node { id name description } } } } } } }";
  const post = (query: string, accept: string, token: string | null = t.adminToken) =>
    fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { accept, 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });

  test.each(['application/graphql-response+json', 'application/json'])('a page asked as %s leaves as one buffer with its exact length', async (accept) => {
    const response = await post(PAGE, accept);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(`${accept}; charset=utf-8`);
    const body = Buffer.from(await response.arrayBuffer());
    expect(Number(response.headers.get('content-length'))).toBe(body.length);
    expect(body.length).toBeGreaterThan(3 * PIECE_CHARS);
    const answer = JSON.parse(body.toString('utf8'));
    expect(answer.errors).toBeUndefined();
    expect(answer.data.gateways.edges.map((e: any) => e.node.tools.edges.length)).toEqual([100, 100, 100, 100]);
    expect(answer.data.gateways.edges[0].node.tools.edges[0].node.description).toBe(`Tool 0 — ${'d'.repeat(200)}`);
    // What the page went out as: bytes, never the answer as a string.
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((chunk) => Buffer.isBuffer(chunk))).toBe(true);
    expect(writes.some((chunk) => (chunk as Buffer).length === body.length)).toBe(true);
  });

  test('errors keep their status and their JSON', async () => {
    const invalid = await post('{ noSuchField }', 'application/graphql-response+json');
    expect(invalid.status).toBe(400);
    expect((await invalid.json()).errors[0].message).toMatch(/noSuchField/);
    const unauthenticated = await post(PAGE, 'application/json', null);
    expect(unauthenticated.status).toBe(401);
    expect((await unauthenticated.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  test('a query answered as server-sent events carries the same JSON text', async () => {
    const json = await (await post(PAGE, 'application/json')).text();
    const events = await (await post(PAGE, 'text/event-stream')).text();
    const data = /^event: next\ndata: (.*)$/m.exec(events)?.[1];
    expect(data).toBe(json);
  });
});
