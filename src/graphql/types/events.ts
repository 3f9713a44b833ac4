// `gatewayEvents`: events as they happen, optionally after a replay of the
// log from a cursor, with no gap and no duplicate (events/resumable.ts).
import { GraphQLError } from 'graphql';
import { prunedThrough } from '../../events/event-retention.js';
import { EventsPruned, resumable, SubscriptionEnd } from '../../events/resumable.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { builder } from '../builder.js';
import { EventTypeEnum } from './enums.js';
import { eventPage, sequenceOf } from './event-history.js';
import { GatewayEvent, SEQUENCE } from './event-node.js';
import { filterIdOf } from '../global-id.js';

// ---- Live events.

/** `after` of gatewayEvents: a cursor of the events query, or a sequence. */
function resumeFrom(after: string | null | undefined): bigint | null {
  if (after == null) return null;
  return SEQUENCE.test(after) ? BigInt(after) : sequenceOf(after);
}

builder.subscriptionField('gatewayEvents', (t) =>
  t.field({
    type: GatewayEvent,
    description:
      'Lifecycle events as they happen, from every worker, in sequence order, each once. With `after` (a cursor of `events`, or a sequence), ' +
      'first every logged event after it that matches, then live ones, with no gap. A subscriber that falls too far behind ' +
      '(SUBSCRIPTION_BUFFER) is ended with an error (code SUBSCRIBER_TOO_SLOW) saying where to resume with `after`; one whose next events were ' +
      'pruned from the log (EVENT_RETENTION_*) is ended with an error (code EVENTS_PRUNED) saying up to where.',
    authScopes: { read: true },
    args: {
      gatewayId: t.arg.id({ required: false, description: 'Events of this gateway (an id that names no gateway matches nothing).' }),
      types: t.arg({ type: [EventTypeEnum], required: false }),
      after: t.arg.string({ required: false, description: 'Replay the log after this cursor or sequence first.' }),
    },
    subscribe: (_root, args, ctx) => {
      const after = resumeFrom(args.after);
      const gatewayId = args.gatewayId == null ? null : filterIdOf(args.gatewayId, 'Gateway');
      const types = args.types?.length ? args.types : null;
      const where: Prisma.GatewayEventWhereInput = { ...(gatewayId ? { gatewayId } : {}), ...(types ? { type: { in: types } } : {}) };
      // Listening starts here, before the log is read: nothing falls between the two.
      const feed = ctx.events.feed();
      return resumable(
        feed,
        {
          page: async (from, before, filtered, size) => {
            const { page, more } = await eventPage(ctx.prisma, { where: filtered ? where : {}, after: from, before, size, backward: false });
            return { events: page, more };
          },
          head: async () => {
            const [newest] = await ctx.prisma.gatewayEvent.findMany({ select: { id: true }, orderBy: { id: 'desc' }, take: 1 });
            return newest?.id ?? 0n;
          },
          prunedThrough: () => prunedThrough(ctx.prisma),
        },
        { after, matches: (event) => (!gatewayId || event.gatewayId === gatewayId) && (!types || types.includes(event.type)) },
      );
    },
    resolve: (event) => {
      if (event instanceof SubscriptionEnd) {
        throw new GraphQLError(
          `gatewayEvents: this subscriber fell too far behind (more than ${event.limit} events waiting) and was ended; resume with after: "${event.after}"`,
          { extensions: { code: 'SUBSCRIBER_TOO_SLOW', after: event.after } },
        );
      }
      if (event instanceof EventsPruned) {
        throw new GraphQLError(
          `gatewayEvents: the events after ${event.after} up to ${event.prunedThrough} were pruned from the log (EVENT_RETENTION_DAYS, EVENT_RETENTION_MAX); ` +
            `read the current state again, then resume with after: "${event.prunedThrough}"`,
          { extensions: { code: 'EVENTS_PRUNED', after: event.after, prunedThrough: event.prunedThrough } },
        );
      }
      return event;
    },
  }),
);

