// Writes a peer's catalog into the tables as a diff, inside the caller's
// transaction: unchanged rows keep their ids (and the operator's `enabled`
// choice), changed rows are updated in place, vanished rows are deleted.
// Each kind costs one statement whatever its size: the rows travel as one JSON
// parameter expanded by jsonb_to_recordset, and PostgreSQL compares them with
// what is stored (jsonb equality ignores key order), so an unchanged catalog
// is never read back into JavaScript.
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { NameConflictError, quoted, ValidationError } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';
import { PROMPTS, RESOURCE_TEMPLATES, RESOURCES, TOOLS, type CatalogKind } from './catalog-kinds.js';
import { namespacedName, type NamingRules } from './naming.js';
import { uuidv7 } from './uuid.js';

export interface PeerCatalog {
  tools: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
}

export interface SyncCounts {
  added: number;
  updated: number;
  removed: number;
  /** The keys (original names, URIs, URI templates) of the first NAMES_SHOWN added entries, sorted. */
  addedNames: string[];
  /** The same for the removed ones. */
  removedNames: string[];
}

/** How many names a report lists per kind and direction; the counts give the totals. */
export const NAMES_SHOWN = 20;

export type SyncReport = Record<keyof PeerCatalog, SyncCounts>;

type Tx = Prisma.TransactionClient;
type Row = Record<string, unknown> & { id: string };

function recordsetType(kind: CatalogKind<unknown>, withName: boolean): Prisma.Sql {
  const columns = Object.entries(kind.columns).map(([column, type]) => `"${column}" ${type}`);
  if (withName) columns.unshift('"name" text');
  return Prisma.raw(`x("id" uuid, ${columns.join(', ')})`);
}

/** PostgreSQL text and jsonb cannot hold U+0000, in values or in keys. */
export function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\0') || hasNul(v));
  return false;
}

/**
 * Rows the peer sent, with namespaced names where due, each with a new id that
 * is used only if the row turns out to be new.
 */
function incomingRows<Entry>(kind: CatalogKind<Entry>, entries: Entry[], slug: string, rules: NamingRules): Row[] {
  const keys = new Set<string>();
  return entries.map((entry, index) => {
    const key = kind.keyOf(entry);
    const field = `${kind.kind}[${index}]`;
    if (keys.has(key)) throw new ValidationError(field, `the peer lists ${quoted(key)} twice in ${kind.kind}`);
    keys.add(key);
    const row = kind.toRow(entry) as Row;
    if (kind.namespaced) row.name = namespacedName(slug, key, rules, field);
    row.id = uuidv7();
    return row;
  });
}

/**
 * The rows as one JSON parameter, refused if they hold a NUL. JSON.stringify
 * writes U+0000 as the six characters \u0000, so one scan of the text clears
 * thousands of rows at once; only a hit (or a peer's literal "\\u0000") pays
 * for the walk that finds the entry to name.
 */
function storableJson<Entry>(kind: CatalogKind<Entry>, entries: Entry[], rows: Row[]): string {
  const json = JSON.stringify(rows);
  if (!json.includes('\\u0000')) return json;
  const index = rows.findIndex(hasNul); // rows are in the peer's order
  if (index < 0) return json;
  const key = kind.keyOf(entries[index]!);
  throw new ValidationError(`${kind.kind}[${index}]`, `the peer's entry ${quoted(key)} contains a NUL character, which cannot be stored`);
}

async function syncKind<Entry>(tx: Tx, kind: CatalogKind<Entry>, gatewayId: string, slug: string, rules: NamingRules, entries: Entry[]): Promise<SyncCounts> {
  const rows = incomingRows(kind, entries, slug, rules);
  const json = storableJson(kind, entries, rows);
  const table = Prisma.raw(`"${kind.table}"`);
  if (kind.namespaced && separatorCanCollide(rules.separator)) {
    await assertNamesFree(tx, table, gatewayId, rows.map((row) => String(row.name)));
  }

  const columns = [...Object.keys(kind.columns), ...(kind.namespaced ? ['name'] : [])];
  const list = Prisma.raw(columns.map((c) => `"${c}"`).join(', '));
  const incoming = Prisma.raw(columns.map((c) => `x."${c}"`).join(', '));
  const recordset = Prisma.sql`jsonb_to_recordset(${json}::jsonb) AS ${recordsetType(kind as CatalogKind<unknown>, kind.namespaced)}`;
  const key = Prisma.raw(`"${kind.key}"`);
  const stored = Prisma.raw(columns.map((c) => `t."${c}"`).join(', '));
  const assignments = Prisma.raw(columns.map((c) => `"${c}" = x."${c}"`).join(', '));
  // Every part sees the table as it was before the statement: the insert's
  // NOT EXISTS finds no row the update touched, and the delete only rows the
  // peer no longer lists.
  const [counts] = await tx.$queryRaw<SyncCounts[]>`
    WITH x AS MATERIALIZED (SELECT * FROM ${recordset}),
    gone AS (
      DELETE FROM ${table} AS t WHERE t.gateway_id = ${gatewayId}::uuid
        AND NOT EXISTS (SELECT 1 FROM x WHERE x.${key} = t.${key})
      RETURNING t.${key} AS k),
    changed AS (
      UPDATE ${table} AS t SET ${assignments}, updated_at = now() FROM x
      WHERE t.gateway_id = ${gatewayId}::uuid AND t.${key} = x.${key} AND (${stored}) IS DISTINCT FROM (${incoming})
      RETURNING 1),
    new AS (
      INSERT INTO ${table} (id, gateway_id, ${list}, created_at, updated_at)
      SELECT x.id, ${gatewayId}::uuid, ${incoming}, now(), now() FROM x
      WHERE NOT EXISTS (SELECT 1 FROM ${table} AS t WHERE t.gateway_id = ${gatewayId}::uuid AND t.${key} = x.${key})
      RETURNING ${key} AS k)
    SELECT (SELECT count(*) FROM new)::int AS added, (SELECT count(*) FROM changed)::int AS updated, (SELECT count(*) FROM gone)::int AS removed,
      ARRAY(SELECT k FROM new ORDER BY k LIMIT ${NAMES_SHOWN}) AS "addedNames",
      ARRAY(SELECT k FROM gone ORDER BY k LIMIT ${NAMES_SHOWN}) AS "removedNames"`;
  return counts!;
}

/**
 * A separator with a character slugs never hold (the default `__`) cannot
 * collide: two gateways' names could only be equal if one slug contained the
 * separator. Only separators made of slug characters need the check below,
 * which costs a query over every name the peer lists.
 */
function separatorCanCollide(separator: string): boolean {
  return /^[a-z0-9-]+$/.test(separator);
}

/**
 * Namespaced names are unique across gateways. With the default separator they
 * cannot collide, but a separator made of slug characters can ("a" + "-" + "b-c"
 * is "a-b" + "-" + "c"): say which name, rather than let the unique index fail.
 */
async function assertNamesFree(tx: Tx, table: Prisma.Sql, gatewayId: string, names: string[]): Promise<void> {
  if (names.length === 0) return;
  const taken = await tx.$queryRaw<{ name: string }[]>`
    SELECT name FROM ${table} WHERE name = ANY(${names}::text[]) AND gateway_id <> ${gatewayId}::uuid ORDER BY name LIMIT 1`;
  if (taken[0]) throw new NameConflictError(taken[0].name);
}

export async function syncCatalog(tx: Tx, gatewayId: string, slug: string, rules: NamingRules, catalog: PeerCatalog): Promise<SyncReport> {
  // Sequential: one transaction runs one statement at a time anyway.
  const tools = await syncKind(tx, TOOLS, gatewayId, slug, rules, catalog.tools);
  const resources = await syncKind(tx, RESOURCES, gatewayId, slug, rules, catalog.resources);
  const resourceTemplates = await syncKind(tx, RESOURCE_TEMPLATES, gatewayId, slug, rules, catalog.resourceTemplates);
  const prompts = await syncKind(tx, PROMPTS, gatewayId, slug, rules, catalog.prompts);
  return { tools, resources, resourceTemplates, prompts };
}

export function emptyReport(): SyncReport {
  const none = (): SyncCounts => ({ added: 0, updated: 0, removed: 0, addedNames: [], removedNames: [] });
  return { tools: none(), resources: none(), resourceTemplates: none(), prompts: none() };
}

export function changedAnything(report: SyncReport): boolean {
  return Object.values(report).some((c) => c.added + c.updated + c.removed > 0);
}
