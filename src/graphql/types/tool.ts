import { ENTRY_TABLES } from '../../catalog/entry-tables.js';
import { builder } from '../builder.js';
import { nodeFields } from '../gateway-entries.js';
import { CatalogEntry } from './catalog-entry.js';
import { asBadInput, CatalogFilter, catalogFilterArgs } from './catalog-filter.js';

export const Tool = builder.prismaNode('Tool', {
  id: { field: 'id' },
  interfaces: [CatalogEntry],
  nullable: true,
  description: "A peer's tool, exposed under its namespaced name.",
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The name clients call: <gateway slug><separator><originalName>.' }),
    originalName: t.exposeString('originalName', { description: 'The name the peer knows it by.' }),
    inputSchema: t.expose('inputSchema', { type: 'JSON' }),
    outputSchema: t.expose('outputSchema', { type: 'JSON', nullable: true }),
    annotations: t.expose('annotations', { type: 'JSON', nullable: true }),
    gateway: t.relation('gateway'),
  }),
});

builder.queryField('tools', (t) =>
  t.prismaConnection({
    type: 'Tool',
    cursor: 'id',
    args: { filter: t.arg({ type: CatalogFilter, required: false }) },
    totalCount: (_root, args, ctx) => asBadInput(() => ctx.catalog.total(ENTRY_TABLES.Tool, catalogFilterArgs(args.filter), ctx)),
    resolve: (query, _root, args, ctx, info) =>
      asBadInput(() => ctx.catalog.list(ENTRY_TABLES.Tool, query, catalogFilterArgs(args.filter), ctx, nodeFields(ENTRY_TABLES.Tool, info))),
  }),
);
