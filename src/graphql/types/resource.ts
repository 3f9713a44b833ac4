import { ENTRY_TABLES } from '../../catalog/entry-tables.js';
import { builder } from '../builder.js';
import { nodeFields } from '../gateway-entries.js';
import { CatalogEntry } from './catalog-entry.js';
import { asBadInput, CatalogFilter, catalogFilterArgs } from './catalog-filter.js';

export const Resource = builder.prismaNode('Resource', {
  id: { field: 'id' },
  interfaces: [CatalogEntry],
  nullable: true,
  description: "A peer's resource; its URI is what goes back to the peer.",
  fields: (t) => ({
    uri: t.exposeString('uri'),
    mimeType: t.exposeString('mimeType', { nullable: true }),
    size: t.expose('size', { type: 'SafeInt', nullable: true, description: 'In bytes, as the peer gave it.' }),
    annotations: t.expose('annotations', { type: 'JSON', nullable: true }),
    gateway: t.relation('gateway'),
  }),
});

builder.queryField('resources', (t) =>
  t.prismaConnection({
    type: 'Resource',
    cursor: 'id',
    args: { filter: t.arg({ type: CatalogFilter, required: false }) },
    totalCount: (_root, args, ctx) => asBadInput(() => ctx.catalog.total(ENTRY_TABLES.Resource, catalogFilterArgs(args.filter), ctx)),
    resolve: (query, _root, args, ctx, info) =>
      asBadInput(() => ctx.catalog.list(ENTRY_TABLES.Resource, query, catalogFilterArgs(args.filter), ctx, nodeFields(ENTRY_TABLES.Resource, info))),
  }),
);
