// What every federated catalog entry (tool, resource, template, prompt) has in
// common, as one interface: clients can select it with `... on CatalogEntry`.
import { builder } from '../builder.js';

interface CatalogEntryShape {
  name: string;
  title: string | null;
  description: string | null;
  icons: unknown;
  meta: unknown;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const CatalogEntry = builder.interfaceRef<CatalogEntryShape>('CatalogEntry').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    title: t.exposeString('title', { nullable: true }),
    description: t.exposeString('description', { nullable: true }),
    icons: t.expose('icons', { type: 'JSON', nullable: true }),
    meta: t.expose('meta', { type: 'JSON', nullable: true, description: "The peer's _meta." }),
    enabled: t.exposeBoolean('enabled', { description: "An operator's choice; survives resyncs." }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});
