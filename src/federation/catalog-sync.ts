// Writes a peer's catalog into the tables as a diff, inside the caller's
// transaction: unchanged rows keep their ids (and the operator's `enabled`
// choice), changed rows are updated in place, vanished rows are deleted.
// Each kind costs at most four statements whatever its size: rows travel as
// one JSON parameter expanded by jsonb_to_recordset.
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { NameConflictError, ValidationError } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';
import { PROMPTS, RESOURCE_TEMPLATES, RESOURCES, TOOLS, type CatalogKind, type ColumnType } from './catalog-kinds.js';
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
}

export type SyncReport = Record<keyof PeerCatalog, SyncCounts>;

type Tx = Prisma.TransactionClient;
type Row = Record<string, unknown> & { id: string };

/** JSON with sorted keys: jsonb does not keep key order, so compare canonically. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

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
 * Raw queries return bigint as BigInt, which the JSON comparison cannot take;
 * stored sizes are safe integers (catalog-kinds), so float8 holds them exactly.
 */
function selectForDiff(column: string, type: ColumnType | undefined): string {
  return type === 'bigint' ? `"${column}"::float8 AS "${column}"` : `"${column}"`;
}

/** Rows the peer sent, keyed by the kind's key, with namespaced names where due. */
function incomingRows<Entry>(kind: CatalogKind<Entry>, entries: Entry[], slug: string, rules: NamingRules): Map<string, Record<string, unknown>> {
  const rows = new Map<string, Record<string, unknown>>();
  entries.forEach((entry, index) => {
    const key = kind.keyOf(entry);
    const field = `${kind.kind}[${index}]`;
    if (rows.has(key)) throw new ValidationError(field, `the peer lists ${JSON.stringify(key)} twice in ${kind.kind}`);
    const row = kind.toRow(entry);
    if (kind.namespaced) row.name = namespacedName(slug, key, rules, field);
    rows.set(key, row);
  });
  return rows;
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
  const bad = rows.find(hasNul);
  if (!bad) return json;
  const key = String(bad[kind.key]);
  const index = entries.findIndex((entry) => kind.keyOf(entry) === key);
  throw new ValidationError(`${kind.kind}[${index}]`, `the peer's entry ${JSON.stringify(key)} contains a NUL character, which cannot be stored`);
}

async function syncKind<Entry>(tx: Tx, kind: CatalogKind<Entry>, gatewayId: string, slug: string, rules: NamingRules, entries: Entry[]): Promise<SyncCounts> {
  const incoming = incomingRows(kind, entries, slug, rules);
  const columns = [...Object.keys(kind.columns), ...(kind.namespaced ? ['name'] : [])];
  const existing = await tx.$queryRaw<Row[]>`
    SELECT id::text AS id, ${Prisma.raw(columns.map((c) => selectForDiff(c, kind.columns[c])).join(', '))}
    FROM ${Prisma.raw(`"${kind.table}"`)} WHERE gateway_id = ${gatewayId}::uuid`;

  const added: Row[] = [];
  const changed: Row[] = [];
  const removed: string[] = [];
  const seen = new Set<string>();
  for (const row of existing) {
    const key = String(row[kind.key]);
    const next = incoming.get(key);
    if (!next) {
      removed.push(row.id);
      continue;
    }
    seen.add(key);
    if (columns.some((c) => canonical(row[c] ?? null) !== canonical(next[c] ?? null))) changed.push(Object.assign(next, { id: row.id }));
  }
  for (const [key, row] of incoming) if (!seen.has(key)) added.push(Object.assign(row, { id: uuidv7() }));
  const changedJson = changed.length > 0 ? storableJson(kind, entries, changed) : '';
  const addedJson = added.length > 0 ? storableJson(kind, entries, added) : '';

  const table = Prisma.raw(`"${kind.table}"`);
  const list = Prisma.raw(columns.map((c) => `"${c}"`).join(', '));
  const type = recordsetType(kind as CatalogKind<unknown>, kind.namespaced);
  if (removed.length > 0) {
    await tx.$executeRaw`DELETE FROM ${table} WHERE id = ANY(${removed}::uuid[])`;
  }
  if (kind.namespaced && separatorCanCollide(rules.separator)) {
    await assertNamesFree(tx, table, gatewayId, [...added, ...changed].map((row) => String(row.name)));
  }
  if (changed.length > 0) {
    const assignments = Prisma.raw(columns.map((c) => `"${c}" = x."${c}"`).join(', '));
    await tx.$executeRaw`
      UPDATE ${table} AS t SET ${assignments}, updated_at = now()
      FROM jsonb_to_recordset(${changedJson}::jsonb) AS ${type}
      WHERE t.id = x.id`;
  }
  if (added.length > 0) {
    const selected = Prisma.raw(columns.map((c) => `x."${c}"`).join(', '));
    await tx.$executeRaw`
      INSERT INTO ${table} (id, gateway_id, ${list}, created_at, updated_at)
      SELECT x.id, ${gatewayId}::uuid, ${selected}, now(), now()
      FROM jsonb_to_recordset(${addedJson}::jsonb) AS ${type}`;
  }
  return { added: added.length, updated: changed.length, removed: removed.length };
}

/**
 * A separator with a character slugs never hold (the default `__`) cannot
 * collide: two gateways' names could only be equal if one slug contained the
 * separator. Only separators made of slug characters need the check below,
 * which costs a query over every new name.
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
  const none = () => ({ added: 0, updated: 0, removed: 0 });
  return { tools: none(), resources: none(), resourceTemplates: none(), prompts: none() };
}

export function changedAnything(report: SyncReport): boolean {
  return Object.values(report).some((c) => c.added + c.updated + c.removed > 0);
}
