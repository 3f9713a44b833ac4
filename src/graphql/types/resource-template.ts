import { catalogWhere } from '../../catalog/filters.js';
import { builder } from '../builder.js';
import { CatalogFilter, catalogFilterArgs } from './catalog-filter.js';

builder.prismaNode('ResourceTemplate', {
  id: { field: 'id' },
  nullable: true,
  description: "A peer's parameterised resource (RFC 6570 URI template).",
  fields: (t) => ({
    uriTemplate: t.exposeString('uriTemplate'),
    name: t.exposeString('name'),
    title: t.exposeString('title', { nullable: true }),
    description: t.exposeString('description', { nullable: true }),
    mimeType: t.exposeString('mimeType', { nullable: true }),
    annotations: t.expose('annotations', { type: 'JSON', nullable: true }),
    icons: t.expose('icons', { type: 'JSON', nullable: true }),
    meta: t.expose('meta', { type: 'JSON', nullable: true }),
    enabled: t.exposeBoolean('enabled'),
    gateway: t.relation('gateway'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
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
