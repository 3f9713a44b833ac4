// Ranked text search over the catalog, served by the trigram indexes of the
// migration catalog_counts_and_search: a case-insensitive substring match over
// name, title and description, matches in the name first.
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { ValidationError } from '../errors.js';
import { selectFields, type EntryTable } from './entry-tables.js';
import { catalogEnabledRule, catalogGatewayWhere, type CatalogFilter } from './filters.js';

/** The indexed expression, over a table aliased `e`: it must stay the same as in the migration, or the index is not used. */
export const SEARCH_TEXT_SQL = `(e.name || ' ' || coalesce(e.title, '') || ' ' || coalesce(e.description, ''))`;
const SEARCH_TEXT = Prisma.raw(SEARCH_TEXT_SQL);

export interface SearchLimits {
  /** Longest search text accepted (SEARCH_MAX_CHARS). */
  maxChars: number;
  /** A search's totalCount counts at most this many matches (SEARCH_COUNT_LIMIT). */
  countLimit: number;
}

/**
 * A page as Prisma's cursor pagination spells it (what Pothos hands a
 * connection's resolver): take > 0 reads forward, take < 0 backward; the
 * cursor row itself is never part of the page.
 */
export interface SearchPage {
  take: number;
  cursorId?: string;
}

/** The search text, trimmed; undefined when there is none. Refuses one longer than the limit. */
export function searchText(filter: CatalogFilter | null | undefined, limits: SearchLimits): string | undefined {
  const text = filter?.search?.trim();
  if (!text) return undefined;
  if (text.length > limits.maxChars) {
    throw new ValidationError('filter.search', `search text is ${text.length} characters long; at most ${limits.maxChars} (SEARCH_MAX_CHARS)`);
  }
  return text;
}

/** LIKE's own characters in the user's text match themselves. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class CatalogSearch {
  constructor(
    private readonly prisma: PrismaClient,
    readonly limits: SearchLimits,
  ) {}

  /**
   * One page of matches (rows with their id and `fields`), best first: entries whose name holds the
   * text, then those that hold it only in their title or description, each group
   * in the listing's order. Each group is read in that order with its own LIMIT,
   * so a word in most of a million entries costs a page, not a million scores
   * (ranking by trigram similarity scored every match: 12 s for 900,000).
   */
  async page<Row>(
    table: EntryTable<Row & { id: string }>,
    filter: CatalogFilter | null | undefined,
    text: string,
    page: SearchPage,
    scope: object,
    fields: readonly string[] = table.fields,
  ): Promise<Row[]> {
    const matches = await this.matching(table, filter, text, scope);
    const pattern = likePattern(text);
    const from = Prisma.raw(`"${table.table}"`);
    const columns = table.order.map((c) => `e."${c}"`).join(', ');
    const key = Prisma.raw(`(${columns})`);
    const forward = page.take >= 0;
    const limit = Math.abs(page.take);
    const inName = Prisma.sql`e.name ILIKE ${pattern}`;

    // Which group the cursor row is in, and its place in the listing's order.
    const id = page.cursorId;
    const cursorGroup = id ? Prisma.sql`(SELECT CASE WHEN e.name ILIKE ${pattern} THEN 1 ELSE 2 END FROM ${from} e WHERE e.id = ${id}::uuid)` : Prisma.empty;
    const cursorKey = id ? Prisma.sql`(SELECT ${Prisma.raw(columns)} FROM ${from} e WHERE e.id = ${id}::uuid)` : Prisma.empty;
    const beyond = Prisma.sql`${key} ${Prisma.raw(forward ? '>' : '<')} ${cursorKey}`;
    // Forward from a cursor in group 1: the rest of group 1, then all of group 2; from
    // group 2: the rest of group 2. Backward mirrors it.
    const groupOne = !id ? Prisma.empty : forward ? Prisma.sql`AND ${cursorGroup} = 1 AND ${beyond}` : Prisma.sql`AND (${cursorGroup} = 2 OR (${cursorGroup} = 1 AND ${beyond}))`;
    const groupTwo = !id ? Prisma.empty : forward ? Prisma.sql`AND (${cursorGroup} = 1 OR (${cursorGroup} = 2 AND ${beyond}))` : Prisma.sql`AND ${cursorGroup} = 2 AND ${beyond}`;
    const within = Prisma.raw(table.order.map((c) => `e."${c}" ${forward ? 'ASC' : 'DESC'}`).join(', '));
    // n numbers each group's rows in the order they were read (already reversed when backward).
    const overall = Prisma.raw(`r.g ${forward ? 'ASC' : 'DESC'}, r.n ASC`);
    // The page's ids in order, then their rows (the fields asked for, as Prisma reads them), in one statement.
    const wanted = new Set(['id', ...fields]);
    const rows = await this.prisma.$queryRaw<Row[]>`
      SELECT ${Prisma.raw(selectFields(table.fields.filter((f) => wanted.has(f))))} FROM (
        (SELECT e.id, 1 AS g, row_number() OVER () AS n FROM (
          SELECT e.id FROM ${from} e WHERE ${matches} AND ${inName} ${groupOne} ORDER BY ${within} LIMIT ${limit}) AS e)
        UNION ALL
        (SELECT e.id, 2 AS g, row_number() OVER () AS n FROM (
          SELECT e.id FROM ${from} e WHERE ${matches} AND NOT (${inName}) ${groupTwo} ORDER BY ${within} LIMIT ${limit}) AS e)
      ) AS r JOIN ${from} e ON e.id = r.id
      ORDER BY ${overall} LIMIT ${limit}`;
    return forward ? rows : rows.reverse();
  }

  /** How many entries match, counting at most limits.countLimit of them. */
  async count(table: EntryTable, filter: CatalogFilter | null | undefined, text: string, scope: object): Promise<number> {
    const matches = await this.matching(table, filter, text, scope);
    const [row] = await this.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM (SELECT 1 FROM ${Prisma.raw(table.table)} e WHERE ${matches} LIMIT ${this.limits.countLimit}) AS m`;
    return row?.n ?? 0;
  }

  /**
   * The listing's filter as SQL. Which gateways qualify is asked of Prisma with
   * the listing's own rule (few rows, however large the catalog), so the rule
   * has one definition: src/catalog/filters.ts. A request (the scope) that asks
   * for a page and its totalCount asks once.
   */
  private async matching(table: EntryTable, filter: CatalogFilter | null | undefined, text: string, scope: object): Promise<Prisma.Sql> {
    const gatewayIds = await this.qualifyingGateways(filter, scope);
    const enabled = catalogEnabledRule(filter);
    return Prisma.sql`e.gateway_id = ANY(${gatewayIds}::uuid[])
      ${enabled === null ? Prisma.empty : Prisma.sql`AND e.enabled = ${enabled}`}
      AND ${SEARCH_TEXT} ILIKE ${likePattern(text)}`;
  }

  private readonly gatewaysOf = new WeakMap<object, Map<string, Promise<string[]>>>();

  private qualifyingGateways(filter: CatalogFilter | null | undefined, scope: object): Promise<string[]> {
    const where = { AND: [catalogGatewayWhere(filter), ...(filter?.gatewayId ? [{ id: filter.gatewayId }] : [])] };
    let asked = this.gatewaysOf.get(scope);
    if (!asked) this.gatewaysOf.set(scope, (asked = new Map()));
    const key = JSON.stringify(where);
    let ids = asked.get(key);
    if (!ids) {
      ids = this.prisma.gateway.findMany({ where, select: { id: true } }).then((rows) => rows.map((g) => g.id));
      asked.set(key, ids);
    }
    return ids;
  }
}
