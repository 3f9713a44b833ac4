import { catalogWhere } from '../../catalog/filters.js';
import { builder } from '../builder.js';
import { CatalogEntry } from './catalog-entry.js';
import { CatalogFilter, catalogFilterArgs } from './catalog-filter.js';

builder.prismaNode('ResourceTemplate', {
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
    totalCount: (_root, args, ctx) =>
      ctx.prisma.resourceTemplate.count({ where: catalogWhere(catalogFilterArgs(args.filter)) }),
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.resourceTemplate.findMany({
        ...query,
        where: catalogWhere(catalogFilterArgs(args.filter)),
        orderBy: [{ uriTemplate: 'asc' }, { id: 'asc' }],
      }),
  }),
);
