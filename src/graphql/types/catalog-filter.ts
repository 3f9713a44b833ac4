import { GraphQLError } from 'graphql';
import { ValidationError } from '../../errors.js';
import { builder } from '../builder.js';
import { filterIdOf } from '../global-id.js';
import { GatewayStatusEnum } from './enums.js';

export const CatalogFilter = builder.inputType('CatalogFilter', {
  description:
    'What a catalog listing shows. By default, what MCP clients can see, and what federation.catalog counts: the enabled entries ' +
    '(setToolEnabled and the like) of ACTIVE gateways (enabled and reachable). includeUnavailable: true shows everything; ' +
    'gatewayStatus replaces the gateway rule, enabled replaces the entry rule. Gateway.tools and the other per-gateway ' +
    'listings show all of that gateway\'s entries.',
  fields: (t) => ({
    gatewayId: t.id({ required: false, description: 'Entries of this gateway (an id that names no gateway matches nothing).' }),
    gatewayStatus: t.field({
      type: [GatewayStatusEnum],
      required: false,
      description: "The owning gateway's status is one of these (DISABLED and UNREACHABLE included when asked for).",
    }),
    tag: t.string({ required: false, description: 'The owning gateway carries this tag.' }),
    search: t.string({
      required: false,
      description:
        'Case-insensitive text in the name, title or description (at most SEARCH_MAX_CHARS characters). Matches in the name come ' +
        'first, then those in the title or description only, each group in the listing\'s order; the totalCount of a search ' +
        'counts at most SEARCH_COUNT_LIMIT matches: a totalCount equal to that limit means at least that many.',
    }),
    enabled: t.boolean({
      required: false,
      description: 'Only entries an operator enabled (true) or disabled (false); unset: enabled ones, unless includeUnavailable.',
    }),
    includeUnavailable: t.boolean({
      required: false,
      defaultValue: false,
      description: 'Also show disabled entries, and the entries of disabled and unreachable gateways.',
    }),
  }),
});

/** Turns the GraphQL input into the catalog's filter. */
export function catalogFilterArgs(filter: typeof CatalogFilter.$inferInput | null | undefined) {
  if (!filter) return null;
  return {
    ...filter,
    gatewayId: filter.gatewayId == null ? null : filterIdOf(filter.gatewayId, 'Gateway'),
  };
}

/** A listing's bad filter (a search text too long) is the client's error, said as such, not a masked one. */
export async function asBadInput<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT', field: error.field } });
    }
    throw error;
  }
}
