import { ENTRY_TABLES } from '../../catalog/entry-tables.js';
import { builder } from '../builder.js';
import { nodeFields } from '../gateway-entries.js';
import { CatalogEntry } from './catalog-entry.js';
import { asBadInput, CatalogFilter, catalogFilterArgs } from './catalog-filter.js';

export const ResourceTemplate = builder.prismaNode('ResourceTemplate', {
  id: { field: 'id' },
  interfaces: [CatalogEntry],
  nullable: true,
  description: "A peer's parameterised resource (RFC 6570 URI template).",
  fields: (t) => ({
    uriTemplate: t.exposeString('uriTemplate'),
    mimeType: t.exposeString('mimeType', { nullable: true }),
    annotations: t.expose('annotations', { type: 'JSON', nullable: true }),
    gateway: t.relation('gateway'),
  }),
});

builder.queryField('resourceTemplates', (t) =>
  t.prismaConnection({
    type: 'ResourceTemplate',
    cursor: 'id',
    args: { filter: t.arg({ type: CatalogFilter, required: false }) },
    totalCount: (_root, args, ctx) => asBadInput(() => ctx.catalog.total(ENTRY_TABLES.ResourceTemplate, catalogFilterArgs(args.filter), ctx)),
    resolve: (query, _root, args, ctx, info) =>
      asBadInput(() => ctx.catalog.list(ENTRY_TABLES.ResourceTemplate, query, catalogFilterArgs(args.filter), ctx, nodeFields(ENTRY_TABLES.ResourceTemplate, info))),
  }),
);
