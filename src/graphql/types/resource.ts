import { catalogWhere } from '../../catalog/filters.js';
import { builder } from '../builder.js';
import { CatalogEntry } from './catalog-entry.js';
import { CatalogFilter, catalogFilterArgs } from './catalog-filter.js';

builder.prismaNode('Resource', {
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
    totalCount: (_root, args, ctx) => ctx.prisma.resource.count({ where: catalogWhere(catalogFilterArgs(args.filter)) }),
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.resource.findMany({
        ...query,
        where: catalogWhere(catalogFilterArgs(args.filter)),
        orderBy: [{ uri: 'asc' }, { id: 'asc' }],
      }),
  }),
);
