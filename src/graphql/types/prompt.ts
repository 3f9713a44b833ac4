import { ENTRY_TABLES } from '../../catalog/entry-tables.js';
import { builder } from '../builder.js';
import { nodeFields } from '../gateway-entries.js';
import { CatalogEntry } from './catalog-entry.js';
import { asBadInput, CatalogFilter, catalogFilterArgs } from './catalog-filter.js';

interface PromptArgumentShape {
  name: string;
  title?: string;
  description?: string;
  required?: boolean;
}

const PromptArgument = builder.objectRef<PromptArgumentShape>('PromptArgument').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    title: t.exposeString('title', { nullable: true }),
    description: t.exposeString('description', { nullable: true }),
    required: t.boolean({ resolve: (a) => a.required ?? false }),
  }),
});

export const Prompt = builder.prismaNode('Prompt', {
  id: { field: 'id' },
  interfaces: [CatalogEntry],
  nullable: true,
  description: "A peer's prompt, exposed under its namespaced name.",
  fields: (t) => ({
    originalName: t.exposeString('originalName'),
    arguments: t.field({
      type: [PromptArgument],
      select: { arguments: true },
      resolve: (prompt) => (Array.isArray(prompt.arguments) ? (prompt.arguments as unknown as PromptArgumentShape[]) : []),
    }),
    gateway: t.relation('gateway'),
  }),
});

builder.queryField('prompts', (t) =>
  t.prismaConnection({
    type: 'Prompt',
    cursor: 'id',
    args: { filter: t.arg({ type: CatalogFilter, required: false }) },
    totalCount: (_root, args, ctx) => asBadInput(() => ctx.catalog.total(ENTRY_TABLES.Prompt, catalogFilterArgs(args.filter), ctx)),
    resolve: (query, _root, args, ctx, info) =>
      asBadInput(() => ctx.catalog.list(ENTRY_TABLES.Prompt, query, catalogFilterArgs(args.filter), ctx, nodeFields(ENTRY_TABLES.Prompt, info))),
  }),
);
