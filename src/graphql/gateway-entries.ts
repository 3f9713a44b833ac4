// Gateway.tools and its siblings: the connections of a page of gateways are
// gathered in the tick they are asked for and read in one statement
// (src/catalog/gateway-pages.ts), with only the node fields the query selects.
import { formatPrismaCursor, parsePrismaCursor } from '@pothos/plugin-prisma';
import { parseCursorConnectionArgs, type DefaultConnectionArguments, type PageInfoShape } from '@pothos/plugin-relay';
import { GraphQLError, Kind, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import type { EntryTable } from '../catalog/entry-tables.js';
import { gatewayPages, type GatewayPage, type GatewayPageSpec } from '../catalog/gateway-pages.js';
import type { GraphQLContext } from './context.js';

interface Batch {
  gatewayIds: string[];
  pages: Promise<Map<string, GatewayPage>>;
}

/** Batches waiting for their tick, per request (the context) and per kind of page. */
const pending = new WeakMap<GraphQLContext, Map<string, Batch>>();

function load(ctx: GraphQLContext, spec: GatewayPageSpec, gatewayId: string): Promise<GatewayPage> {
  const key = JSON.stringify([spec.table.table, spec.fields, spec.limit, spec.inverted, spec.after, spec.before]);
  let batches = pending.get(ctx);
  if (!batches) pending.set(ctx, (batches = new Map()));
  let batch = batches.get(key);
  if (!batch) {
    const gatewayIds: string[] = [];
    const own = batches;
    // Every gateway of a list asks in the same tick: read them all after it.
    const pages = new Promise<void>((resolve) => process.nextTick(resolve)).then(() => {
      own.delete(key);
      return gatewayPages(ctx.prisma, spec, gatewayIds);
    });
    batches.set(key, (batch = { gatewayIds, pages }));
  }
  batch.gatewayIds.push(gatewayId);
  return batch.pages.then((pages) => pages.get(gatewayId) ?? { rows: [], total: 0 });
}

/**
 * The columns already worked out: every gateway of a list shares one fieldNodes
 * array (the executor collects a list item's fields once), and those nodes are
 * one field of one kind of entry, so a page of 50 gateways works them out once,
 * not 50 times.
 */
const selectedColumns = new WeakMap<GraphQLResolveInfo['fieldNodes'], readonly string[]>();

/** The fields of `table` selected under edges { node { … } }, through fragments (a connection of `table` is the field resolved). */
export function nodeFields(table: EntryTable, info: GraphQLResolveInfo): readonly string[] {
  const known = selectedColumns.get(info.fieldNodes);
  if (known) return known;
  const names = new Set<string>();
  const fragments = info.fragments;
  const visit = (set: SelectionSetNode | undefined, path: readonly string[]) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        if (path.length === 0) names.add(selection.name.value);
        else if (selection.name.value === path[0]) visit(selection.selectionSet, path.slice(1));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, path);
      } else {
        visit((fragments[selection.name.value] as FragmentDefinitionNode | undefined)?.selectionSet, path);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet, ['edges', 'node']);
  const fields = table.fields.filter((name) => names.has(name));
  selectedColumns.set(info.fieldNodes, fields);
  return fields;
}

function cursorId(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const id = parsePrismaCursor(cursor);
    if (typeof id === 'string') return id;
  } catch {
    // said below
  }
  throw new GraphQLError(`invalid cursor: ${cursor}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

export interface EntriesConnection<Row> {
  edges: { readonly cursor: string; readonly node: Row }[];
  pageInfo: PageInfoShape;
  totalCount: number;
}

const cursorOf = (row: { id: string }) => formatPrismaCursor(row, 'id');

/**
 * An edge whose cursor is encoded when the query reads it, not before: a
 * dashboard page lists a thousand entries and asks for none of their cursors.
 */
class Edge<Row extends { id: string }> {
  constructor(readonly node: Row) {}
  get cursor(): string {
    return cursorOf(this.node);
  }
}

/**
 * One gateway's connection of entries of one kind, with its totalCount. The
 * nodes hold the selected columns only: every field of an entry type reads a
 * column of its own (fields that need more, like gateway, load it themselves).
 * Paging follows Pothos' resolveCursorConnection (its argument rules, sizes and
 * page info), with the cursors made lazily.
 */
export async function gatewayEntries<Row extends { id: string }>(
  table: EntryTable<Row>,
  gatewayId: string,
  args: DefaultConnectionArguments,
  ctx: GraphQLContext,
  info: GraphQLResolveInfo,
): Promise<EntriesConnection<Row>> {
  const fields = nodeFields(table, info);
  const page = parseCursorConnectionArgs({ args });
  const spec: GatewayPageSpec = { table, fields, limit: page.limit, inverted: page.inverted, after: cursorId(page.after), before: cursorId(page.before) };
  const loaded = await load(ctx, spec, gatewayId);
  const rows = loaded.rows.slice(0, page.expectedSize) as Row[];
  if (page.inverted) rows.reverse();
  // An empty page's cursors are the one it was asked from, as Pothos answers.
  const asked = args.after ?? args.before ?? '';
  const first = rows[0];
  const last = rows[rows.length - 1];
  return {
    edges: rows.map((row) => new Edge(row)),
    pageInfo: {
      get startCursor() {
        return first ? cursorOf(first) : asked;
      },
      get endCursor() {
        return last ? cursorOf(last) : asked;
      },
      hasPreviousPage: page.hasPreviousPage(loaded.rows.length),
      hasNextPage: page.hasNextPage(loaded.rows.length),
    },
    totalCount: loaded.total,
  };
}
