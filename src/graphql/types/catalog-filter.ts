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
    search: t.string({ required: false, description: 'Case-insensitive text in the name or description.' }),
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
