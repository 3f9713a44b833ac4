// Migrations are hand-written SQL (the schema engine cannot be had here), so
// this is what stands between a forgotten column and a runtime Prisma error:
// the migrated database must be exactly what the generated client expects.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { backendAvailable, backends, testDatabase } from '../helpers/db.js';

interface Field {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'enum' | 'object' | 'unsupported';
  type: string;
  isList: boolean;
  isRequired: boolean;
  nativeType?: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}
interface Model { name: string; dbName: string | null; fields: Field[] }
interface Enum { name: string; dbName?: string | null; values: { name: string; dbName?: string | null }[] }
interface Index { model: string; type: 'id' | 'unique' | 'normal' | 'fulltext'; fields: { name: string }[] }
interface Datamodel { models: Model[]; enums: Enum[]; indexes: Index[] }

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Prisma 7's client no longer exports its DMMF, and the pothos datamodel lacks
// native types, column names and referential actions. Prisma hands the full
// DMMF to generators, so run `prisma generate` with a generator that saves it.
const DUMP_GENERATOR = `
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, method, params } = JSON.parse(line);
  if (method === 'generate') writeFileSync(params.generator.output.value, JSON.stringify(params.dmmf.datamodel));
  const result = method === 'getManifest' ? { manifest: { prettyName: 'DMMF dump', requiresGenerators: [] } } : null;
  process.stderr.write(JSON.stringify({ jsonrpc: '2.0', id, result }) + '\\n');
});`;

/** The schema text the client was generated from: private, but its only copy. */
function generatedSchema(prisma: PrismaClient): string {
  const inline = (prisma as unknown as { _engineConfig?: { inlineSchema?: string } })._engineConfig?.inlineSchema;
  if (!inline) throw new Error('this Prisma version keeps the generated schema elsewhere: update generatedSchema()');
  return inline;
}

let datamodel: Promise<Datamodel> | undefined;

function clientDatamodel(prisma: PrismaClient): Promise<Datamodel> {
  return (datamodel ??= (async () => {
    const schema = generatedSchema(prisma);
    const dir = await mkdtemp(join(tmpdir(), 'dmmf-'));
    try {
      await writeFile(join(dir, 'dump.mjs'), DUMP_GENERATOR);
      const generator = `generator dump {\n  provider = ${JSON.stringify(`node ${join(dir, 'dump.mjs')}`)}\n  output = ${JSON.stringify(join(dir, 'dmmf.json'))}\n}\n`;
      await writeFile(join(dir, 'schema.prisma'), generator + schema.replace(/^generator\s+\w+\s*\{[^}]*\}/gm, ''));
      await promisify(execFile)(join(ROOT, 'node_modules/.bin/prisma'), ['generate', '--schema', join(dir, 'schema.prisma')], {
        cwd: ROOT,
        // Any existing file satisfies the schema engine check; generate never runs it.
        env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: join(ROOT, 'package.json'), CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      });
      return JSON.parse(await readFile(join(dir, 'dmmf.json'), 'utf8')) as Datamodel;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })());
}

// [information_schema data_type, udt_name] per @db.* native type; fields without
// one get Prisma's default native type for their scalar.
const NATIVE: Record<string, [string, string]> = {
  Text: ['text', 'text'],
  VarChar: ['character varying', 'varchar'],
  Uuid: ['uuid', 'uuid'],
  SmallInt: ['smallint', 'int2'],
  Integer: ['integer', 'int4'],
  BigInt: ['bigint', 'int8'],
  Boolean: ['boolean', 'bool'],
  DoublePrecision: ['double precision', 'float8'],
  Decimal: ['numeric', 'numeric'],
  Timestamp: ['timestamp without time zone', 'timestamp'],
  Timestamptz: ['timestamp with time zone', 'timestamptz'],
  Json: ['json', 'json'],
  JsonB: ['jsonb', 'jsonb'],
  ByteA: ['bytea', 'bytea'],
};
const DEFAULT_NATIVE: Record<string, string> = {
  String: 'Text', Int: 'Integer', BigInt: 'BigInt', Boolean: 'Boolean', Float: 'DoublePrecision',
  Decimal: 'Decimal', DateTime: 'Timestamp', Json: 'JsonB', Bytes: 'ByteA',
};

interface Column { type: string; udt: string; nullable: boolean | 'list'; precision: number | null }

function expectedColumn(field: Field, enums: Enum[]): Column {
  let type: string;
  let udt: string;
  let precision: number | null = null;
  if (field.kind === 'enum') {
    const e = enums.find((candidate) => candidate.name === field.type)!;
    [type, udt] = ['USER-DEFINED', e.dbName ?? e.name];
  } else {
    const [native, args] = field.nativeType ?? [DEFAULT_NATIVE[field.type], []];
    const mapped = native ? NATIVE[native] : undefined;
    if (!mapped) throw new Error(`no PostgreSQL mapping for ${field.type} @db.${native}: extend NATIVE in this test`);
    [type, udt] = mapped;
    if (native?.startsWith('Timestamp')) precision = Number(args[0] ?? 3);
  }
  if (field.isList) return { type: 'ARRAY', udt: `_${udt}`, nullable: 'list', precision: null };
  return { type, udt, nullable: !field.isRequired, precision };
}

const columnName = (field: Field) => field.dbName ?? field.name;
const tableName = (model: Model) => model.dbName ?? model.name;

describe('generated client', () => {
  it('was generated from the current prisma/schema.prisma (else run `npm run db:generate`)', async () => {
    // The client keeps a formatted copy; whitespace is all that `prisma format` changes.
    const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: 'postgres://never-connected.invalid/none' }) });
    const current = await readFile(join(ROOT, 'prisma/schema.prisma'), 'utf8');
    expect(normalise(generatedSchema(prisma))).toBe(normalise(current));
  });
});

for (const backend of backends) {
  describe.runIf(backendAvailable(backend))(`migrated ${backend} database matches the generated client`, () => {
    let db: Database;
    let dm: Datamodel;
    const modelTables = () => dm.models.map(tableName).sort();
    beforeAll(async () => {
      db = await testDatabase(backend);
      dm = await clientDatamodel(db.prisma);
    });
    afterAll(() => db?.close());

    it('has a table for every model', async () => {
      const rows = await db.sql.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
      );
      expect(dm.models.length).toBeGreaterThan(0);
      expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(modelTables()));
    });

    it('has exactly the columns of every model, with compatible types and nullability', async () => {
      const rows = await db.sql.query<{
        table_name: string; column_name: string; data_type: string; udt_name: string; is_nullable: 'YES' | 'NO'; datetime_precision: number | null;
      }>('SELECT * FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1)', [modelTables()]);
      const actual = Object.fromEntries(
        rows.map((r) => [`${r.table_name}.${r.column_name}`, {
          type: r.data_type,
          udt: r.udt_name,
          // Prisma leaves list columns nullable whatever the field says.
          nullable: r.data_type === 'ARRAY' ? 'list' : r.is_nullable === 'YES',
          precision: r.data_type === 'ARRAY' ? null : r.datetime_precision,
        }]),
      );
      const expected = Object.fromEntries(
        dm.models.flatMap((model) =>
          model.fields
            .filter((field) => field.kind === 'scalar' || field.kind === 'enum')
            .map((field) => [`${tableName(model)}.${columnName(field)}`, expectedColumn(field, dm.enums)]),
        ),
      );
      expect(actual).toEqual(expected);
    });

    it('has exactly the primary keys, unique constraints and indexes of the schema', async () => {
      const rows = await db.sql.query<{ table: string; unique: boolean; primary: boolean; columns: string[] }>(
        `SELECT t.relname AS table, i.indisunique AS unique, i.indisprimary AS primary,
                array_agg(a.attname::text ORDER BY k.ord) AS columns
           FROM pg_index i
           JOIN pg_class t ON t.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
          WHERE n.nspname = current_schema() AND t.relname = ANY($1)
            AND i.indpred IS NULL AND i.indexprs IS NULL
          GROUP BY t.relname, i.indexrelid, i.indisunique, i.indisprimary`,
        [modelTables()],
      );
      const describeIndex = (kind: string, table: string, columns: string[]) => `${kind} ${table}(${columns.join(', ')})`;
      const actual = rows.map((r) => describeIndex(r.primary ? 'id' : r.unique ? 'unique' : 'normal', r.table, r.columns));
      const expected = dm.indexes.map((index) => {
        const model = dm.models.find((m) => m.name === index.model)!;
        const columns = index.fields.map(({ name }) => columnName(model.fields.find((f) => f.name === name)!));
        return describeIndex(index.type, tableName(model), columns);
      });
      expect(expected.some((e) => e.startsWith('unique'))).toBe(true);
      expect(actual.sort()).toEqual(expected.sort());
    });

    it('has exactly the foreign keys of the relations, with their ON DELETE actions', async () => {
      const rows = await db.sql.query<{ table: string; columns: string[]; target: string; target_columns: string[]; on_delete: string }>(
        `SELECT t.relname AS table, r.relname AS target, c.confdeltype AS on_delete,
                (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
                (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS target_columns
           FROM pg_constraint c
           JOIN pg_class t ON t.oid = c.conrelid
           JOIN pg_class r ON r.oid = c.confrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE c.contype = 'f' AND n.nspname = current_schema()`,
      );
      const ON_DELETE: Record<string, string> = { c: 'Cascade', r: 'Restrict', a: 'NoAction', n: 'SetNull', d: 'SetDefault' };
      const fk = (table: string, columns: string[], target: string, targetColumns: string[], onDelete: string) =>
        `${table}(${columns.join(', ')}) -> ${target}(${targetColumns.join(', ')}) ON DELETE ${onDelete}`;
      const actual = rows.map((r) => fk(r.table, r.columns, r.target, r.target_columns, ON_DELETE[r.on_delete] ?? r.on_delete));
      const expected = dm.models.flatMap((model) =>
        model.fields
          .filter((field) => field.kind === 'object' && field.relationFromFields?.length)
          .map((field) => {
            const target = dm.models.find((m) => m.name === field.type)!;
            const column = (m: Model, name: string) => columnName(m.fields.find((f) => f.name === name)!);
            // Prisma's default when the schema names no action.
            const onDelete = field.relationOnDelete ?? (field.isRequired ? 'Restrict' : 'SetNull');
            return fk(tableName(model), field.relationFromFields!.map((n) => column(model, n)), tableName(target),
              field.relationToFields!.map((n) => column(target, n)), onDelete);
          }),
      );
      expect(expected.some((e) => e.endsWith('ON DELETE Cascade'))).toBe(true);
      expect(actual.sort()).toEqual(expected.sort());
    });

    it('has exactly the enum types and values of the schema', async () => {
      const rows = await db.sql.query<{ name: string; values: string[] }>(
        `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
           FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname = current_schema() GROUP BY t.typname`,
      );
      const actual = Object.fromEntries(rows.map((r) => [r.name, r.values]));
      const expected = Object.fromEntries(dm.enums.map((e) => [e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name)]));
      expect(Object.keys(expected).length).toBeGreaterThan(0);
      expect(actual).toEqual(expected);
    });

    it('round-trips a gateway and its tools through the client, and cascades the delete', async () => {
      const gateway = await db.prisma.gateway.create({
        data: {
          name: 'Round trip', slug: 'round-trip', url: 'http://127.0.0.1:1/mcp', tags: ['a', 'b'],
          tools: { create: [{ name: 'round-trip__echo', originalName: 'echo', inputSchema: { type: 'object' } }] },
        },
      });
      const read = await db.prisma.gateway.findUniqueOrThrow({ where: { id: gateway.id }, include: { tools: true } });
      expect(read).toMatchObject({ slug: 'round-trip', tags: ['a', 'b'], transport: 'AUTO', authType: 'NONE', capabilities: {} });
      expect(read.tools).toHaveLength(1);
      expect(read.tools[0]).toMatchObject({ gatewayId: gateway.id, originalName: 'echo', inputSchema: { type: 'object' }, enabled: true });

      await db.prisma.gateway.delete({ where: { id: gateway.id } });
      expect(await db.prisma.tool.findUnique({ where: { id: read.tools[0]!.id } })).toBeNull();
    });
  });
}
