import { ENTRY_TABLES } from '../../catalog/entry-tables.js';
import { gatewayStatus, gatewayWhere } from '../../catalog/filters.js';
import { builder } from '../builder.js';
import { gatewayEntries } from '../gateway-entries.js';
import { filterIdOf } from '../global-id.js';
import { GatewayStatusEnum, TransportEnum } from './enums.js';
import { PeerAuthInfoRef, peerAuthInfo } from './peer-auth.js';
import { Prompt } from './prompt.js';
import { ResourceTemplate } from './resource-template.js';
import { Resource } from './resource.js';
import { Tool } from './tool.js';


export const Gateway = builder.prismaNode('Gateway', {
  id: { field: 'id' },
  // node(id:) of a deleted entry answers null, as Relay expects, instead of failing.
  nullable: true,
  // Select mode: only the columns a query asks for are read, so listings never
  // load the sealed peer credentials (auth_secret) into memory.
  select: { id: true },
  description: 'A peer MCP server or gateway whose catalog this gateway federates.',
  fields: (t) => ({
    name: t.exposeString('name'),
    slug: t.exposeString('slug', { description: 'Prefix of the names of its tools and prompts.' }),
    url: t.exposeString('url'),
    transport: t.expose('transport', { type: TransportEnum, description: 'The transport the operator asked for; AUTO stays AUTO.' }),
    negotiatedTransport: t.expose('negotiatedTransport', {
      type: TransportEnum,
      nullable: true,
      description: 'The transport the last successful connection used (STREAMABLE_HTTP or SSE: what AUTO resolved to); null before the first contact.',
    }),
    description: t.exposeString('description', { nullable: true }),
    tags: t.exposeStringList('tags'),
    enabled: t.exposeBoolean('enabled'),
    reachable: t.exposeBoolean('reachable'),
    status: t.field({
      type: GatewayStatusEnum,
      select: { enabled: true, reachable: true },
      resolve: (gateway) => gatewayStatus(gateway),
    }),
    auth: t.field({
      type: PeerAuthInfoRef,
      select: { authType: true, authPublic: true },
      resolve: (gateway) => peerAuthInfo(gateway),
    }),
    capabilities: t.expose('capabilities', { type: 'JSON' }),
    protocolVersion: t.exposeString('protocolVersion', { nullable: true }),
    serverInfo: t.expose('serverInfo', { type: 'JSON', nullable: true }),
    instructions: t.exposeString('instructions', { nullable: true }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime', nullable: true }),
    lastCheckedAt: t.expose('lastCheckedAt', { type: 'DateTime', nullable: true }),
    consecutiveFailures: t.exposeInt('consecutiveFailures'),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastLatencyMs: t.exposeInt('lastLatencyMs', { nullable: true, description: 'Duration of the last successful health check.' }),
    nextCheckAt: t.expose('nextCheckAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the health checker checks it next; null: at its next sweep.',
    }),
    refreshIntervalMs: t.exposeInt('refreshIntervalMs', {
      nullable: true,
      description: 'Its own catalog refresh interval; null: the deployment\'s CATALOG_REFRESH_INTERVAL_MS.',
    }),
    catalogSyncedAt: t.expose('catalogSyncedAt', { type: 'DateTime', nullable: true, description: 'When its catalog was last synced.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    // All of the gateway's entries, enabled or not, in the listing's order. A page
    // of gateways reads these for all its gateways in one statement (gateway-entries.ts).
    tools: t.connection(
      { type: Tool, resolve: (gateway, args, ctx, info) => gatewayEntries(ENTRY_TABLES.Tool, gateway.id, args, ctx, info) },
      { fields: (c) => ({ totalCount: c.exposeInt('totalCount', { description: "All of the gateway's entries of this kind, enabled or not." }) }) },
    ),
    resources: t.connection(
      { type: Resource, resolve: (gateway, args, ctx, info) => gatewayEntries(ENTRY_TABLES.Resource, gateway.id, args, ctx, info) },
      { fields: (c) => ({ totalCount: c.exposeInt('totalCount', { description: "All of the gateway's entries of this kind, enabled or not." }) }) },
    ),
    resourceTemplates: t.connection(
      {
        type: ResourceTemplate,
        resolve: (gateway, args, ctx, info) => gatewayEntries(ENTRY_TABLES.ResourceTemplate, gateway.id, args, ctx, info),
      },
      { fields: (c) => ({ totalCount: c.exposeInt('totalCount', { description: "All of the gateway's entries of this kind, enabled or not." }) }) },
    ),
    prompts: t.connection(
      { type: Prompt, resolve: (gateway, args, ctx, info) => gatewayEntries(ENTRY_TABLES.Prompt, gateway.id, args, ctx, info) },
      { fields: (c) => ({ totalCount: c.exposeInt('totalCount', { description: "All of the gateway's entries of this kind, enabled or not." }) }) },
    ),
  }),
});

const GatewayFilter = builder.inputType('GatewayFilter', {
  fields: (t) => ({
    status: t.field({ type: [GatewayStatusEnum], required: false, description: 'Any of these statuses.' }),
    tag: t.string({ required: false, description: 'Gateways carrying this tag.' }),
    search: t.string({ required: false, description: 'Case-insensitive text in the name or description.' }),
  }),
});

builder.queryFields((t) => ({
  gateway: t.prismaField({
    type: 'Gateway',
    nullable: true,
    description: 'The gateway with this id; null if none has it (a malformed id or one of another type included).',
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => ctx.prisma.gateway.findUnique({ ...query, where: { id: filterIdOf(args.id, 'Gateway') } }),
  }),
  gateways: t.prismaConnection({
    type: 'Gateway',
    cursor: 'id',
    description: 'Every registered gateway, whatever its status.',
    args: { filter: t.arg({ type: GatewayFilter, required: false }) },
    totalCount: (_root, args, ctx) => ctx.prisma.gateway.count({ where: gatewayWhere(args.filter) }),
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.gateway.findMany({ ...query, where: gatewayWhere(args.filter), orderBy: { name: 'asc' } }),
  }),
}));
