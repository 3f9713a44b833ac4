import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { ValidationError } from '../../src/errors.js';
import { NAMES_SHOWN, syncCatalog, type PeerCatalog } from '../../src/federation/catalog-sync.js';
import { backendAvailable, backends, testDatabase } from '../helpers/db.js';

const rules = { separator: '__', maxLength: 64 };
const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({ name, inputSchema: { type: 'object' }, ...extra });
const catalog = (parts: Partial<PeerCatalog>): PeerCatalog => ({ tools: [], resources: [], resourceTemplates: [], prompts: [], ...parts });

describe.each(backends)('catalog sync on %s', (backend) => {
  let db: Database;
  const statements: string[] = [];
  beforeAll(async () => {
    if (backendAvailable(backend)) db = await testDatabase(backend, { onQuery: (sql) => statements.push(sql) });
  });
  afterAll(() => db?.close());

  const sync = (gatewayId: string, slug: string, c: PeerCatalog) =>
    db.prisma.$transaction((tx) => syncCatalog(tx, gatewayId, slug, rules, c));

  test.runIf(backendAvailable(backend))('stores every field, then diffs: stable ids, exact counts, operator choices kept', async () => {
    const gateway = await db.prisma.gateway.create({ data: { name: `g-${backend}`, slug: `g-${backend}`, url: 'http://127.0.0.1:1/' } });
    const first = await sync(gateway.id, gateway.slug, catalog({
      tools: [
        tool('keep', { title: 'Keep', description: 'unchanged', annotations: { readOnlyHint: true }, icons: [{ src: 'https://x/i.png' }], _meta: { 'x/y': 1 } }),
        tool('change', { description: 'v1', outputSchema: { type: 'object', properties: { a: { type: 'string' } } } }),
        tool('vanish'),
      ],
      resources: [{ uri: 'file:///a', name: 'a', mimeType: 'text/plain', size: 12 }],
      resourceTemplates: [{ uriTemplate: 'file:///{p}', name: 'files' }],
      prompts: [{ name: 'greet', arguments: [{ name: 'who', required: true }] }],
    }));
    expect(first.tools).toEqual({ added: 3, updated: 0, removed: 0, addedNames: ['change', 'keep', 'vanish'], removedNames: [] });
    const keep = await db.prisma.tool.findFirstOrThrow({ where: { gatewayId: gateway.id, originalName: 'keep' } });
    expect(keep).toMatchObject({
      name: `${gateway.slug}__keep`,
      title: 'Keep',
      description: 'unchanged',
      annotations: { readOnlyHint: true },
      icons: [{ src: 'https://x/i.png' }],
      meta: { 'x/y': 1 },
    });
    expect(await db.prisma.resource.findFirstOrThrow({ where: { gatewayId: gateway.id } })).toMatchObject({ mimeType: 'text/plain', size: 12n });
    expect((await db.prisma.prompt.findFirstOrThrow({ where: { gatewayId: gateway.id } })).arguments).toEqual([{ name: 'who', required: true }]);

    await db.prisma.tool.update({ where: { id: keep.id }, data: { enabled: false } });
    const changeBefore = await db.prisma.tool.findFirstOrThrow({ where: { gatewayId: gateway.id, originalName: 'change' } });

    statements.length = 0;
    const second = await sync(gateway.id, gateway.slug, catalog({
      tools: [
        // Same content, keys in another order: jsonb reorders keys, so this is no change.
        tool('keep', { _meta: { 'x/y': 1 }, icons: [{ src: 'https://x/i.png' }], annotations: { readOnlyHint: true }, description: 'unchanged', title: 'Keep' }),
        tool('change', { description: 'v2', annotations: { destructiveHint: true }, outputSchema: { type: 'object', properties: { b: { type: 'number' } } } }),
        tool('new'),
      ],
      resources: [{ uri: 'file:///a', name: 'a', mimeType: 'text/plain', size: 13 }],
      resourceTemplates: [{ uriTemplate: 'file:///{p}', name: 'files' }],
      prompts: [],
    }));
    // What the sync sent, without the transaction's own COMMIT (which the two adapters log differently).
    const synced = statements.filter((sql) => !/^(--|BEGIN|COMMIT)/.test(sql.trim()));
    const none = { addedNames: [], removedNames: [] };
    expect(second).toEqual({
      tools: { added: 1, updated: 1, removed: 1, addedNames: ['new'], removedNames: ['vanish'] },
      resources: { added: 0, updated: 1, removed: 0, ...none },
      resourceTemplates: { added: 0, updated: 0, removed: 0, ...none },
      prompts: { added: 0, updated: 0, removed: 1, addedNames: [], removedNames: ['greet'] },
    });
    const after = await db.prisma.tool.findMany({ where: { gatewayId: gateway.id } });
    const byName = Object.fromEntries(after.map((t) => [t.originalName, t]));
    expect(Object.keys(byName).sort()).toEqual(['change', 'keep', 'new']);
    expect(byName.keep!.id).toBe(keep.id);
    expect(byName.keep!.enabled).toBe(false);
    expect(byName.change!.id).toBe(changeBefore.id);
    expect(byName.change).toMatchObject({ description: 'v2', annotations: { destructiveHint: true }, outputSchema: { properties: { b: { type: 'number' } } } });
    // Batched: one statement per kind whatever its size, and the stored rows are never read back.
    expect(synced.map((sql) => sql.trim().split(/\s+/, 1)[0])).toEqual(['WITH', 'WITH', 'WITH', 'WITH']);
  });

  test.runIf(backendAvailable(backend))('a report names at most NAMES_SHOWN entries each way, sorted; the counts are the totals', async () => {
    const gateway = await db.prisma.gateway.create({ data: { name: `n-${backend}`, slug: `n-${backend}`, url: 'http://127.0.0.1:1/' } });
    const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);
    const first = await sync(gateway.id, gateway.slug, catalog({ tools: names('old', 30).reverse().map((n) => tool(n)) }));
    expect(first.tools).toMatchObject({ added: 30, addedNames: names('old', NAMES_SHOWN) });
    const second = await sync(gateway.id, gateway.slug, catalog({ tools: names('new', 25).map((n) => tool(n)) }));
    expect(second.tools).toEqual({ added: 25, updated: 0, removed: 30, addedNames: names('new', NAMES_SHOWN), removedNames: names('old', NAMES_SHOWN) });
  });

  test.runIf(backendAvailable(backend))('a peer listing one name twice, or a name that does not fit, writes nothing', async () => {
    const gateway = await db.prisma.gateway.create({ data: { name: `h-${backend}`, slug: `h-${backend}`, url: 'http://127.0.0.1:1/' } });
    await expect(sync(gateway.id, gateway.slug, catalog({ tools: [tool('a'), tool('b'), tool('a')] }))).rejects.toThrow(/lists "a" twice/);
    const tooLong = sync(gateway.id, gateway.slug, catalog({ tools: [tool('fine'), tool('x'.repeat(80))] }));
    await expect(tooLong).rejects.toBeInstanceOf(ValidationError);
    await expect(tooLong).rejects.toMatchObject({ field: 'tools[1]' });
    expect(await db.prisma.tool.count({ where: { gatewayId: gateway.id } })).toBe(0);
  });
});
