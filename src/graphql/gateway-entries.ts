// Gateway.tools and its siblings: the connections of a page of gateways are
// gathered in the tick they are asked for and read in one statement
// (src/catalog/gateway-pages.ts), with only the node fields the query selects.
import { formatPrismaCursor, parsePrismaCursor } from '@pothos/plugin-prisma';
import { resolveCursorConnection, type DefaultConnectionArguments, type PageInfoShape } from '@pothos/plugin-relay';
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

/** The field names selected under edges { node { … } }, through fragments. */
function nodeFields(info: GraphQLResolveInfo): Set<string> {
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
  return names;
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
  edges: { cursor: string; node: Row }[];
  pageInfo: PageInfoShape;
  totalCount: number;
}

/**
 * One gateway's connection of entries of one kind, with its totalCount. The
 * nodes hold the selected columns only: every field of an entry type reads a
 * column of its own (fields that need more, like gateway, load it themselves).
 */
export async function gatewayEntries<Row extends { id: string }>(
  table: EntryTable<Row>,
  gatewayId: string,
  args: DefaultConnectionArguments,
  ctx: GraphQLContext,
  info: GraphQLResolveInfo,
): Promise<EntriesConnection<Row>> {
  const selected = nodeFields(info);
  const fields = table.fields.filter((name) => selected.has(name));
  let total = 0;
  const connection = await resolveCursorConnection(
    { args, toCursor: (row) => formatPrismaCursor(row as Record<string, unknown>, 'id') },
    async (page): Promise<Record<string, unknown>[]> => {
      const spec: GatewayPageSpec = { table, fields, limit: page.limit, inverted: page.inverted, after: cursorId(page.after), before: cursorId(page.before) };
      const loaded = await load(ctx, spec, gatewayId);
      total = loaded.total;
      return loaded.rows;
    },
  );
  return { ...(connection as unknown as Omit<EntriesConnection<Row>, 'totalCount'>), totalCount: total };
}
