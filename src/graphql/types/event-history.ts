// `events`: the history, in keyset pages on the id, oldest or newest first;
// `eventPage` is the one paging query, shared with the live subscription.
import { GraphQLError } from 'graphql';
import { eventMessage, type GatewayEventMessage } from '../../events/event-bus.js';
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { builder } from '../builder.js';
import { filterIdOf } from '../global-id.js';
import { EventTypeEnum } from './enums.js';
import { GatewayEvent, SEQUENCE } from './event-node.js';

const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;

// ---- The history.

const EventFilter = builder.inputType('EventFilter', {
  fields: (t) => ({
    gatewayIds: t.idList({ required: false, description: 'Events of any of these gateways (global ids; deleted ones too).' }),
    types: t.field({ type: [EventTypeEnum], required: false, description: 'Events of any of these types.' }),
    since: t.field({ type: 'DateTime', required: false, description: 'Events that occurred at or after this time.' }),
    until: t.field({ type: 'DateTime', required: false, description: 'Events that occurred before this time.' }),
  }),
});

interface EventFilterInput {
  gatewayIds?: (string | number)[] | null;
  types?: GatewayEventMessage['type'][] | null;
  since?: Date | null;
  until?: Date | null;
}

function eventWhere(filter: EventFilterInput | null | undefined): Prisma.GatewayEventWhereInput {
  const where: Prisma.GatewayEventWhereInput = {};
  if (filter?.gatewayIds) where.gatewayId = { in: filter.gatewayIds.map((id) => filterIdOf(id, 'Gateway')) };
  if (filter?.types?.length) where.type = { in: filter.types };
  if (filter?.since || filter?.until) where.createdAt = { ...(filter.since ? { gte: filter.since } : {}), ...(filter.until ? { lt: filter.until } : {}) };
  return where;
}

const CURSOR_PREFIX = 'GatewayEvent:';

function cursorOf(event: GatewayEventMessage): string {
  return Buffer.from(`${CURSOR_PREFIX}${event.id}`).toString('base64');
}

export function sequenceOf(cursor: string | null | undefined): bigint | null {
  if (cursor == null) return null;
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  const id = decoded.startsWith(CURSOR_PREFIX) ? decoded.slice(CURSOR_PREFIX.length) : '';
  if (!SEQUENCE.test(id)) throw new GraphQLError(`invalid cursor: ${cursor}`, { extensions: { code: 'BAD_USER_INPUT' } });
  return BigInt(id);
}

export interface EventPageArgs {
  where: Prisma.GatewayEventWhereInput;
  /** Exclusive bounds on the sequence. */
  after: bigint | null;
  before: bigint | null;
  size: number;
  /** From `before` (or the end) backwards; the page is still oldest first. */
  backward: boolean;
}

/** One keyset page of the log: the history query's and the subscriptions' only way to read it. */
export async function eventPage(
  prisma: PrismaClient,
  { where, after, before, size, backward }: EventPageArgs,
): Promise<{ page: GatewayEventMessage[]; more: boolean }> {
  const id: Prisma.BigIntFilter = { ...(after !== null ? { gt: after } : {}), ...(before !== null ? { lt: before } : {}) };
  // Keyset page: one statement, an index range on the id whatever the position.
  const rows = await prisma.gatewayEvent.findMany({
    where: { ...where, ...(after !== null || before !== null ? { id } : {}) },
    orderBy: { id: backward ? 'desc' : 'asc' },
    take: size + 1,
  });
  const more = rows.length > size;
  const page = rows.slice(0, size).map(eventMessage);
  if (backward) page.reverse();
  return { page, more };
}

function pageSize(value: number | null | undefined, name: string): number {
  if (value == null) return DEFAULT_PAGE;
  if (value < 0 || value > MAX_PAGE) throw new GraphQLError(`${name} must be between 0 and ${MAX_PAGE}`, { extensions: { code: 'BAD_USER_INPUT' } });
  return value;
}

builder.queryField('events', (t) =>
  t.connection(
    {
      type: GatewayEvent,
      description:
        'The event log, oldest first (first/after), or newest first from the end with last/before (each page still oldest first). ' +
        `Pages of at most ${MAX_PAGE}; ${DEFAULT_PAGE} by default.`,
      authScopes: { read: true },
      args: { filter: t.arg({ type: EventFilter, required: false }) },
      resolve: async (_root, args, ctx) => {
        if (args.first != null && args.last != null) {
          throw new GraphQLError('pass first or last, not both', { extensions: { code: 'BAD_USER_INPUT' } });
        }
        const backward = args.last != null;
        const size = backward ? pageSize(args.last, 'last') : pageSize(args.first, 'first');
        const after = sequenceOf(args.after);
        const before = sequenceOf(args.before);
        const where = eventWhere(args.filter);
        const { page, more } = await eventPage(ctx.prisma, { where, after, before, size, backward });
        return {
          // Counted only when asked for (see totalCount).
          where,
          edges: page.map((node) => ({ cursor: cursorOf(node), node })),
          pageInfo: {
            hasNextPage: backward ? before !== null : more,
            hasPreviousPage: backward ? more : after !== null,
            startCursor: page.length ? cursorOf(page[0]!) : null,
            endCursor: page.length ? cursorOf(page[page.length - 1]!) : null,
          },
        };
      },
    },
    {
      name: 'GatewayEventConnection',
      fields: (c) => ({
        totalCount: c.int({
          description: 'Events that match the filter, on every page.',
          resolve: (connection, _args, ctx) => ctx.prisma.gatewayEvent.count({ where: (connection as unknown as { where: Prisma.GatewayEventWhereInput }).where }),
        }),
      }),
    },
    { name: 'GatewayEventEdge' },
  ),
);

