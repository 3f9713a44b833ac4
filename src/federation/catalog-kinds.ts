// How each kind of catalog entry maps from the peer's MCP shape to its table.
// One description per kind lets catalog-sync diff and write all four the same way.
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

export type ColumnType = 'text' | 'jsonb' | 'bigint';

export interface CatalogKind<Entry> {
  kind: 'tools' | 'resources' | 'resourceTemplates' | 'prompts';
  table: string;
  /** The column that identifies an entry within its gateway. */
  key: string;
  /** Whether rows carry a namespaced `name` derived from the key. */
  namespaced: boolean;
  columns: Record<string, ColumnType>;
  /**
   * Column values, keyed by column name (without id, gateway_id, name). What
   * the peer left out stays undefined: it is then left out of the JSON that
   * carries the rows, and jsonb_to_recordset reads a missing key as NULL.
   */
  toRow(entry: Entry): Record<string, unknown>;
  /** The entry's key value as the peer sent it (for messages and naming). */
  keyOf(entry: Entry): string;
}

/**
 * Longest value a peer may send for one stored field of an entry, in
 * characters; a JSON field (inputSchema, outputSchema, annotations, icons,
 * _meta, prompt arguments) counts the characters of its JSON text. A longer one
 * fails the whole sync with a PROTOCOL error naming the entry, the field and
 * the limit: nothing is cut, nothing is stored.
 */
export const FIELD_LIMITS = {
  /** Names, URIs, URI templates, MIME types. */
  name: 1_024,
  title: 1_024,
  description: 65_536,
  json: 262_144,
} as const;

/** The MCP spelling of a column, for messages. */
const FIELD_NAMES: Record<string, string> = {
  original_name: 'name',
  uri_template: 'uriTemplate',
  mime_type: 'mimeType',
  input_schema: 'inputSchema',
  output_schema: 'outputSchema',
  meta: '_meta',
};

export interface OversizedField {
  /** As MCP spells it (inputSchema, not input_schema). */
  field: string;
  /** Whether length counts the characters of the field's JSON text. */
  json: boolean;
  length: number;
  limit: number;
}

/** The first stored field of the entry that is over its FIELD_LIMITS, if any. */
export function oversizedField<Entry>(kind: CatalogKind<Entry>, entry: Entry): OversizedField | undefined {
  const row = kind.toRow(entry);
  for (const [column, type] of Object.entries(kind.columns)) {
    const value = row[column];
    if (value === undefined || value === null || type === 'bigint') continue;
    const limit = type === 'jsonb' ? FIELD_LIMITS.json : column === 'title' || column === 'description' ? FIELD_LIMITS[column] : FIELD_LIMITS.name;
    // A text column holds what the peer sent; anything else would be refused by the schema before this.
    const length = type === 'jsonb' ? (JSON.stringify(value)?.length ?? 0) : String(value).length;
    if (length > limit) return { field: FIELD_NAMES[column] ?? column, json: type === 'jsonb', length, limit };
  }
  return undefined;
}

export const TOOLS: CatalogKind<Tool> = {
  kind: 'tools',
  table: 'tool',
  key: 'original_name',
  namespaced: true,
  columns: {
    original_name: 'text',
    title: 'text',
    description: 'text',
    input_schema: 'jsonb',
    output_schema: 'jsonb',
    annotations: 'jsonb',
    icons: 'jsonb',
    meta: 'jsonb',
  },
  keyOf: (t) => t.name,
  toRow: (t) => ({
    original_name: t.name,
    // MCP puts the display title either at the top or in annotations.
    title: t.title ?? t.annotations?.title,
    description: t.description,
    input_schema: t.inputSchema ?? { type: 'object' },
    output_schema: t.outputSchema,
    annotations: t.annotations,
    icons: t.icons,
    meta: t._meta,
  }),
};

/**
 * MCP's size is any JSON number. Whole sizes up to 2^53 - 1 are stored exactly
 * (a bigint column); a fractional or negative size, or one JavaScript could not
 * carry exactly, is advisory data not worth failing the whole sync: left out.
 */
const storableSize = (size: number | undefined) => (Number.isSafeInteger(size) && size! >= 0 ? size : undefined);

export const RESOURCES: CatalogKind<Resource> = {
  kind: 'resources',
  table: 'resource',
  key: 'uri',
  namespaced: false,
  columns: { uri: 'text', name: 'text', title: 'text', description: 'text', mime_type: 'text', size: 'bigint', annotations: 'jsonb', icons: 'jsonb', meta: 'jsonb' },
  keyOf: (r) => r.uri,
  toRow: (r) => ({
    uri: r.uri,
    name: r.name,
    title: r.title,
    description: r.description,
    mime_type: r.mimeType,
    size: storableSize(r.size),
    annotations: r.annotations,
    icons: r.icons,
    meta: r._meta,
  }),
};

export const RESOURCE_TEMPLATES: CatalogKind<ResourceTemplate> = {
  kind: 'resourceTemplates',
  table: 'resource_template',
  key: 'uri_template',
  namespaced: false,
  columns: { uri_template: 'text', name: 'text', title: 'text', description: 'text', mime_type: 'text', annotations: 'jsonb', icons: 'jsonb', meta: 'jsonb' },
  keyOf: (r) => r.uriTemplate,
  toRow: (r) => ({
    uri_template: r.uriTemplate,
    name: r.name,
    title: r.title,
    description: r.description,
    mime_type: r.mimeType,
    annotations: r.annotations,
    icons: r.icons,
    meta: r._meta,
  }),
};

export const PROMPTS: CatalogKind<Prompt> = {
  kind: 'prompts',
  table: 'prompt',
  key: 'original_name',
  namespaced: true,
  columns: { original_name: 'text', title: 'text', description: 'text', arguments: 'jsonb', icons: 'jsonb', meta: 'jsonb' },
  keyOf: (p) => p.name,
  toRow: (p) => ({ original_name: p.name, title: p.title, description: p.description, arguments: p.arguments ?? [], icons: p.icons, meta: p._meta }),
};
