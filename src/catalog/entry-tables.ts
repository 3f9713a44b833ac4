// The four kinds of catalog entry as the read path sees them: their table, the
// key of their catalog_count rows, and the order of their listings. One
// description per kind, so counts, search and per-gateway pages treat all four alike.
import type { Prompt, PrismaClient, Resource, ResourceTemplate, Tool } from '../generated/prisma/client.js';
import { getDatamodel } from '../generated/pothos-types.js';

export type EntryModel = 'Tool' | 'Resource' | 'ResourceTemplate' | 'Prompt';

export interface EntryTable<Row extends { id: string } = { id: string }> {
  model: EntryModel;
  /** The SQL table, also the `kind` of its catalog_count rows. */
  table: 'tool' | 'resource' | 'resource_template' | 'prompt';
  /** The model's scalar fields (Prisma's names), what a row read in SQL holds. */
  fields: readonly string[];
  /** Those of them that are instants (DateTime). */
  dateFields: readonly string[];
  /** Listing order, as columns: unique together, so keyset pages are exact. */
  order: readonly string[];
  /**
   * The same order for Prisma. A unique name alone, not (name, id): Prisma turns
   * a cursor over two columns into subqueries no index serves (a page deep in a
   * million tools went from 7 ms to 450 ms).
   */
  orderBy: Record<string, 'asc'>[];
  delegate(prisma: PrismaClient): EntryDelegate<Row>;
}

/** A model field's column: every @map of the catalog tables is the field's snake_case. */
export const columnOf = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** `e."input_schema" AS "inputSchema", …`: SQL that reads these fields of table `e` under Prisma's names. */
export const selectFields = (fields: readonly string[]) => fields.map((f) => `e."${columnOf(f)}" AS "${f}"`).join(', ');

function scalarFields(model: EntryModel, type?: string): string[] {
  return getDatamodel()
    .datamodel.models[model]!.fields.filter((f) => (f.kind === 'scalar' || f.kind === 'enum') && (!type || f.type === type))
    .map((f) => f.name);
}

/** What the read path needs of a Prisma model delegate; the four share it. */
export interface EntryDelegate<Row> {
  findMany(args: object): Promise<Row[]>;
}

/** One kind's description; its fields are read from the model. */
function entryTable<Row extends { id: string }>(
  model: EntryModel,
  table: EntryTable['table'],
  order: readonly string[],
  orderBy: Record<string, 'asc'>[],
  delegate: (prisma: PrismaClient) => unknown,
): EntryTable<Row> {
  return {
    model,
    fields: scalarFields(model),
    dateFields: scalarFields(model, 'DateTime'),
    table,
    order,
    orderBy,
    delegate: delegate as (prisma: PrismaClient) => EntryDelegate<Row>,
  };
}

export const ENTRY_TABLES = {
  Tool: entryTable<Tool>('Tool', 'tool', ['name', 'id'], [{ name: 'asc' }], (prisma) => prisma.tool),
  Resource: entryTable<Resource>('Resource', 'resource', ['uri', 'id'], [{ uri: 'asc' }, { id: 'asc' }], (prisma) => prisma.resource),
  ResourceTemplate: entryTable<ResourceTemplate>(
    'ResourceTemplate',
    'resource_template',
    ['uri_template', 'id'],
    [{ uriTemplate: 'asc' }, { id: 'asc' }],
    (prisma) => prisma.resourceTemplate,
  ),
  Prompt: entryTable<Prompt>('Prompt', 'prompt', ['name', 'id'], [{ name: 'asc' }], (prisma) => prisma.prompt),
};
