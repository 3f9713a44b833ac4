// What the read API asks of the catalog: listings (text searches ranked by the
// trigram index) and their counts (from the maintained catalog_count).
import type { PrismaClient } from '../generated/prisma/client.js';
import { CatalogSearch, searchText, type SearchLimits } from './catalog-search.js';
import { countCatalog } from './counts.js';
import type { EntryTable } from './entry-tables.js';
import { catalogWhere, type CatalogFilter } from './filters.js';

/** The page of a listing as Pothos' prismaConnection hands it over: Prisma's cursor pagination and the selection. */
export interface ListingQuery {
  take?: number;
  skip?: number;
  cursor?: { id?: string };
  [selection: string]: unknown;
}

export class CatalogReader {
  private readonly search: CatalogSearch;

  constructor(
    private readonly prisma: PrismaClient,
    limits: SearchLimits,
  ) {
    this.search = new CatalogSearch(prisma, limits);
  }

  /**
   * A listing's totalCount: exact from catalog_count, or for a search at most
   * SEARCH_COUNT_LIMIT matches. `scope` is the request: what a page and its count
   * both need is asked once per scope.
   */
  total(table: EntryTable, filter: CatalogFilter | null | undefined, scope: object): Promise<number> {
    const text = searchText(filter, this.search.limits);
    return text ? this.search.count(table, filter, text, scope) : countCatalog(this.prisma, table, filter);
  }

  /**
   * One page of a listing: in the listing's order, or for a search best match first.
   * `fields`: the model fields the query reads of each row; a search reads only
   * those (and the id), a listing every scalar field, as Pothos asks of Prisma.
   */
  async list<Row extends { id: string }>(
    table: EntryTable<Row>,
    query: ListingQuery,
    filter: CatalogFilter | null | undefined,
    scope: object,
    fields: readonly string[] = table.fields,
  ): Promise<Row[]> {
    const delegate = table.delegate(this.prisma);
    const text = searchText(filter, this.search.limits);
    if (!text) return delegate.findMany({ ...query, where: catalogWhere(filter), orderBy: table.orderBy });
    // A relation the query selects (gateway) is loaded by its own field, batched.
    // Pothos' selection is consumed all the same (it checks that every query it
    // hands over is used).
    const { take = 0, skip: _skip, cursor, ..._selection } = query;
    return this.search.page(table, filter, text, { take, ...(cursor?.id ? { cursorId: cursor.id } : {}) }, scope, fields);
  }
}
