// The lists /mcp serves, read from the catalog in the database (never from the
// peers): only what clients can see (catalogWhere's default: enabled entries
// of ACTIVE gateways), in keyset pages behind opaque cursors, so that every
// page is the same few SQL statements however deep it is.
import { ErrorCode, type Prompt, type Resource, type ResourceTemplate, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { catalogWhere } from '../catalog/filters.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { exposedUri } from './resource-uris.js';

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

type Kind = 'tools' | 'resources' | 'resourceTemplates' | 'prompts';

const VISIBLE = catalogWhere(null);

/** A cursor names its list and the last key served; a client cannot splice one list's cursor into another. */
function encodeCursor(kind: Kind, after: string): string {
  return Buffer.from(JSON.stringify([kind, after])).toString('base64url');
}

function decodeCursor(kind: Kind, cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  try {
    const [k, after] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (k === kind && typeof after === 'string') return after;
  } catch {
    // falls through to the error below
  }
  // An Error with a code, not an McpError: the SDK sends error.message as is, and an
  // McpError's message already starts with "MCP error -32602: ", which the client's
  // McpError would then repeat (see ForwardError.toRpcError).
  throw Object.assign(new Error('invalid cursor: pass back a nextCursor of this list, unchanged'), { code: ErrorCode.InvalidParams });
}

/** Rows of one more than a page tell whether another page follows. */
function paged<R, T>(kind: Kind, rows: R[], size: number, key: (row: R) => string, shape: (row: R) => T): Page<T> {
  const page = rows.slice(0, size);
  return { items: page.map(shape), ...(rows.length > size ? { nextCursor: encodeCursor(kind, key(page.at(-1)!)) } : {}) };
}

/** Optional fields as MCP writes them: absent, never null. */
function present<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null && value !== undefined)) as { [K in keyof T]?: Exclude<T[K], null> };
}

const asObject = <T = Record<string, unknown>>(value: unknown) => (value ?? undefined) as T | undefined;

export class CatalogPages {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly pageSize: number,
  ) {}

  async tools(cursor?: string): Promise<Page<Tool>> {
    const after = decodeCursor('tools', cursor);
    const rows = await this.prisma.tool.findMany({
      where: { ...VISIBLE, ...(after !== null ? { name: { gt: after } } : {}) },
      orderBy: { name: 'asc' },
      take: this.pageSize + 1,
    });
    return paged('tools', rows, this.pageSize, (row) => row.name, (row) => ({
      name: row.name,
      inputSchema: row.inputSchema as Tool['inputSchema'],
      ...present({
        title: row.title,
        description: row.description,
        outputSchema: row.outputSchema as Tool['outputSchema'],
        annotations: asObject<Tool['annotations']>(row.annotations),
        icons: row.icons as Tool['icons'],
        _meta: asObject(row.meta),
      }),
    }));
  }

  async prompts(cursor?: string): Promise<Page<Prompt>> {
    const after = decodeCursor('prompts', cursor);
    const rows = await this.prisma.prompt.findMany({
      where: { ...VISIBLE, ...(after !== null ? { name: { gt: after } } : {}) },
      orderBy: { name: 'asc' },
      take: this.pageSize + 1,
    });
    return paged('prompts', rows, this.pageSize, (row) => row.name, (row) => ({
      name: row.name,
      ...present({
        title: row.title,
        description: row.description,
        arguments: row.arguments as Prompt['arguments'],
        icons: row.icons as Prompt['icons'],
        _meta: asObject(row.meta),
      }),
    }));
  }

  async resources(cursor?: string): Promise<Page<Resource>> {
    const after = decodeCursor('resources', cursor);
    const rows = await this.prisma.resource.findMany({
      where: { ...VISIBLE, ...(after !== null ? { id: { gt: after } } : {}) },
      orderBy: { id: 'asc' },
      take: this.pageSize + 1,
      include: { gateway: { select: { slug: true } } },
    });
    return paged('resources', rows, this.pageSize, (row) => row.id, (row) => ({
      uri: exposedUri(row.gateway.slug, row.uri),
      name: row.name,
      ...present({
        title: row.title,
        description: row.description,
        mimeType: row.mimeType,
        size: row.size === null ? null : Number(row.size),
        annotations: asObject<Resource['annotations']>(row.annotations),
        icons: row.icons as Resource['icons'],
        _meta: asObject(row.meta),
      }),
    }));
  }

  async resourceTemplates(cursor?: string): Promise<Page<ResourceTemplate>> {
    const after = decodeCursor('resourceTemplates', cursor);
    const rows = await this.prisma.resourceTemplate.findMany({
      where: { ...VISIBLE, ...(after !== null ? { id: { gt: after } } : {}) },
      orderBy: { id: 'asc' },
      take: this.pageSize + 1,
      include: { gateway: { select: { slug: true } } },
    });
    return paged('resourceTemplates', rows, this.pageSize, (row) => row.id, (row) => ({
      uriTemplate: exposedUri(row.gateway.slug, row.uriTemplate),
      name: row.name,
      ...present({
        title: row.title,
        description: row.description,
        mimeType: row.mimeType,
        annotations: asObject<ResourceTemplate['annotations']>(row.annotations),
        icons: row.icons as ResourceTemplate['icons'],
        _meta: asObject(row.meta),
      }),
    }));
  }
}
