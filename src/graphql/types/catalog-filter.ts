import { builder } from '../builder.js';
import { GatewayStatusEnum } from './enums.js';
import { Gateway } from './gateway.js';

export const CatalogFilter = builder.inputType('CatalogFilter', {
  description: 'By default a catalog listing shows only entries of enabled, reachable gateways.',
  fields: (t) => ({
    gatewayId: t.globalID({ required: false, for: Gateway }),
    gatewayStatus: t.field({
      type: [GatewayStatusEnum],
      required: false,
      description: "The owning gateway's status is one of these (DISABLED and UNREACHABLE included when asked for).",
    }),
    tag: t.string({ required: false, description: 'The owning gateway carries this tag.' }),
    search: t.string({ required: false, description: 'Case-insensitive text in the name or description.' }),
    includeUnavailable: t.boolean({
      required: false,
      defaultValue: false,
      description: 'Also show entries of disabled and unreachable gateways.',
    }),
  }),
});

/** Turns the GraphQL input (with a decoded global id) into the catalog's filter. */
export function catalogFilterArgs(filter: typeof CatalogFilter.$inferInput | null | undefined) {
  if (!filter) return null;
  return {
    ...filter,
    gatewayId: filter.gatewayId?.id ?? null,
    // Asking for DISABLED or UNREACHABLE gateways by name is asking to see them:
    // the default "active only" would otherwise turn such a filter into an empty list.
    includeUnavailable: filter.includeUnavailable || !!filter.gatewayStatus?.length,
  };
}
