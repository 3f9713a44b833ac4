// The event log as an API: each event is a Relay node with a typed payload
// (`details`) and its actor; `events` pages through the history (keyset pages
// on the id), `gatewayEvents` delivers events as they happen.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import type { GatewayStatus } from '../../catalog/filters.js';
import { eventMessage, type GatewayEventMessage } from '../../events/event-bus.js';
import { resumable, SubscriptionEnd } from '../../events/resumable.js';
import { NAMES_SHOWN } from '../../federation/catalog-sync.js';
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { builder } from '../builder.js';
import { EventTypeEnum, GatewayStatusEnum } from './enums.js';
import { Gateway } from './gateway.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SEQUENCE = /^[0-9]{1,19}$/;
const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;
const SYSTEM = { tokenId: null, name: 'system' };

// ---- Payloads: the untyped JSON of the log, read defensively (old rows, probes).

type Kind = 'tools' | 'resources' | 'resourceTemplates' | 'prompts';
const KINDS: Kind[] = ['tools', 'resources', 'resourceTemplates', 'prompts'];
interface KindChange { added: number; updated: number; removed: number; addedNames: string[]; removedNames: string[] }
type CatalogChange = Record<Kind, KindChange>;
type CatalogCounts = Record<Kind, number>;

const obj = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
const int = (value: unknown): number => (typeof value === 'number' && Number.isSafeInteger(value) ? value : 0);
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const strs = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const STATUSES = new Set<GatewayStatus>(['ACTIVE', 'DISABLED', 'UNREACHABLE']);
const status = (value: unknown): GatewayStatus | null => (STATUSES.has(value as GatewayStatus) ? (value as GatewayStatus) : null);

function catalogChange(value: unknown): CatalogChange {
  const report = obj(value);
  return Object.fromEntries(
    KINDS.map((kind) => {
      const c = obj(report[kind]);
      return [kind, { added: int(c.added), updated: int(c.updated), removed: int(c.removed), addedNames: strs(c.addedNames), removedNames: strs(c.removedNames) }];
    }),
  ) as CatalogChange;
}

function catalogCounts(value: unknown): CatalogCounts {
  const counts = obj(value);
  return Object.fromEntries(KINDS.map((kind) => [kind, int(counts[kind])])) as CatalogCounts;
}

interface FieldChange { field: string; oldValue: unknown; newValue: unknown }

type Details =
  | { kind: 'GatewayAddedDetails'; name: string; catalog: CatalogCounts }
  | { kind: 'GatewayUpdatedDetails'; name: string; changes: FieldChange[]; credentialsChanged: boolean; reconnected: boolean }
  | {
      kind: 'GatewayStatusChangedDetails';
      name: string;
      oldStatus: GatewayStatus | null;
      newStatus: GatewayStatus | null;
      reason: string | null;
      lastError: string | null;
      consecutiveFailures: number | null;
    }
  | { kind: 'GatewayCatalogChangedDetails'; catalog: CatalogChange }
  | { kind: 'GatewayDeletedDetails'; name: string; catalog: CatalogCounts }
  | { kind: 'ToolToggledDetails'; toolId: string; name: string; enabled: boolean };

/** The typed payload of an event, from its type and the JSON it was recorded with. */
export function eventDetails(event: GatewayEventMessage): Details {
  const p = obj(event.payload);
  const name = str(p.name) ?? '';
  switch (event.type) {
    case 'GATEWAY_ADDED': {
      const report = catalogChange(p.catalog);
      return { kind: 'GatewayAddedDetails', name, catalog: Object.fromEntries(KINDS.map((k) => [k, report[k].added])) as CatalogCounts };
    }
    case 'GATEWAY_UPDATED':
      return {
        kind: 'GatewayUpdatedDetails',
        name,
        changes: (Array.isArray(p.changes) ? p.changes : []).map((c) => {
          const change = obj(c);
          return { field: str(change.field) ?? '', oldValue: change.old ?? null, newValue: change.new ?? null };
        }),
        credentialsChanged: p.credentialsChanged === true,
        reconnected: p.reconnected === true,
      };
    case 'GATEWAY_ACTIVATED':
    case 'GATEWAY_DEACTIVATED':
    case 'GATEWAY_HEALTH_CHANGED':
      return {
        kind: 'GatewayStatusChangedDetails',
        name,
        oldStatus: status(p.oldStatus),
        newStatus: status(p.newStatus),
        reason: str(p.reason),
        lastError: str(p.lastError),
        consecutiveFailures: typeof p.consecutiveFailures === 'number' ? p.consecutiveFailures : null,
      };
    case 'GATEWAY_CATALOG_CHANGED':
      return { kind: 'GatewayCatalogChangedDetails', catalog: catalogChange(p.catalog) };
    case 'GATEWAY_DELETED':
      return { kind: 'GatewayDeletedDetails', name, catalog: catalogCounts(p.catalog) };
    case 'TOOL_TOGGLED':
      return { kind: 'ToolToggledDetails', toolId: str(p.toolId) ?? '', name, enabled: p.enabled === true };
  }
}

// ---- Payload types.

const CatalogKindChangeRef = builder.objectRef<KindChange>('EventCatalogKindChange').implement({
  description: 'Entries of one kind added, updated and removed by a catalog sync.',
  fields: (t) => ({
    added: t.exposeInt('added'),
    updated: t.exposeInt('updated'),
    removed: t.exposeInt('removed'),
    addedNames: t.exposeStringList('addedNames', {
      description: `The first ${NAMES_SHOWN} added entries (original names, URIs or URI templates), sorted; \`added\` is the total.`,
    }),
    removedNames: t.exposeStringList('removedNames', { description: `The first ${NAMES_SHOWN} removed entries, sorted; \`removed\` is the total.` }),
  }),
});

const CatalogChangeRef = builder.objectRef<CatalogChange>('EventCatalogChange').implement({
  description: 'What a catalog sync changed, per kind of entry.',
  fields: (t) => ({
    tools: t.field({ type: CatalogKindChangeRef, resolve: (c) => c.tools }),
    resources: t.field({ type: CatalogKindChangeRef, resolve: (c) => c.resources }),
    resourceTemplates: t.field({ type: CatalogKindChangeRef, resolve: (c) => c.resourceTemplates }),
    prompts: t.field({ type: CatalogKindChangeRef, resolve: (c) => c.prompts }),
  }),
});

const CatalogCountsRef = builder.objectRef<CatalogCounts>('EventCatalogCounts').implement({
  description: 'A number of catalog entries per kind.',
  fields: (t) => ({
    tools: t.exposeInt('tools'),
    resources: t.exposeInt('resources'),
    resourceTemplates: t.exposeInt('resourceTemplates'),
    prompts: t.exposeInt('prompts'),
  }),
});

type DetailsOf<K extends Details['kind']> = Extract<Details, { kind: K }>;

const GatewayAddedDetails = builder.objectRef<DetailsOf<'GatewayAddedDetails'>>('GatewayAddedDetails').implement({
  description: 'GATEWAY_ADDED: the gateway registered and the catalog entries it brought.',
  fields: (t) => ({ name: t.exposeString('name'), catalog: t.field({ type: CatalogCountsRef, resolve: (d) => d.catalog }) }),
});

const GatewayFieldChange = builder.objectRef<FieldChange>('GatewayFieldChange').implement({
  description: 'One setting of a gateway an update changed (never its credentials: see credentialsChanged).',
  fields: (t) => ({
    field: t.exposeString('field', { description: 'name, url, transport, description, tags, refreshIntervalMs or authType.' }),
    oldValue: t.expose('oldValue', { type: 'JSON', nullable: true }),
    newValue: t.expose('newValue', { type: 'JSON', nullable: true }),
  }),
});

const GatewayUpdatedDetails = builder.objectRef<DetailsOf<'GatewayUpdatedDetails'>>('GatewayUpdatedDetails').implement({
  description: 'GATEWAY_UPDATED: the settings that changed, with their old and new values.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The name after the update.' }),
    changes: t.field({ type: [GatewayFieldChange], resolve: (d) => d.changes }),
    credentialsChanged: t.exposeBoolean('credentialsChanged', { description: 'Whether the peer credentials changed (never what they are).' }),
    reconnected: t.exposeBoolean('reconnected', { description: 'Whether the update reconnected to the peer and resynced its catalog.' }),
  }),
});

const GatewayStatusChangedDetails = builder.objectRef<DetailsOf<'GatewayStatusChangedDetails'>>('GatewayStatusChangedDetails').implement({
  description: 'GATEWAY_ACTIVATED, GATEWAY_DEACTIVATED and GATEWAY_HEALTH_CHANGED: the status before and after, and why.',
  fields: (t) => ({
    name: t.exposeString('name'),
    oldStatus: t.field({ type: GatewayStatusEnum, nullable: true, resolve: (d) => d.oldStatus }),
    newStatus: t.field({ type: GatewayStatusEnum, nullable: true, resolve: (d) => d.newStatus }),
    reason: t.exposeString('reason', {
      nullable: true,
      description: 'enabled, disabled, health check failed, or resynced (a successful sync made it reachable again).',
    }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'The error of the last failed health check, if any.' }),
    consecutiveFailures: t.exposeInt('consecutiveFailures', { nullable: true }),
  }),
});

const GatewayCatalogChangedDetails = builder.objectRef<DetailsOf<'GatewayCatalogChangedDetails'>>('GatewayCatalogChangedDetails').implement({
  description: 'GATEWAY_CATALOG_CHANGED: what a sync added, updated and removed.',
  // Not `catalog`: a selection of the union may ask for both, and the other details' catalog holds counts.
  fields: (t) => ({ catalogChange: t.field({ type: CatalogChangeRef, resolve: (d) => d.catalog }) }),
});

const GatewayDeletedDetails = builder.objectRef<DetailsOf<'GatewayDeletedDetails'>>('GatewayDeletedDetails').implement({
  description: 'GATEWAY_DELETED: the gateway\'s name and the catalog entries removed with it.',
  fields: (t) => ({ name: t.exposeString('name'), catalog: t.field({ type: CatalogCountsRef, resolve: (d) => d.catalog }) }),
});

const ToolToggledDetails = builder.objectRef<DetailsOf<'ToolToggledDetails'>>('ToolToggledDetails').implement({
  description: 'TOOL_TOGGLED: a tool enabled or disabled (its gateway is the event\'s).',
  fields: (t) => ({
    toolId: t.id({ description: 'Global id of the tool.', resolve: (d) => encodeGlobalID('Tool', d.toolId) }),
    name: t.exposeString('name', { description: 'The tool\'s namespaced name.' }),
    enabled: t.exposeBoolean('enabled'),
  }),
});

const DETAIL_TYPES = {
  GatewayAddedDetails,
  GatewayUpdatedDetails,
  GatewayStatusChangedDetails,
  GatewayCatalogChangedDetails,
  GatewayDeletedDetails,
  ToolToggledDetails,
};

const GatewayEventDetails = builder.unionType('GatewayEventDetails', {
  description: 'The typed payload of an event, one type per kind of event.',
  types: Object.values(DETAIL_TYPES),
  resolveType: (details) => (details as Details).kind,
});

const EventActor = builder.objectRef<{ tokenId: string | null; name: string }>('EventActor').implement({
  description: 'Who caused an event.',
  fields: (t) => ({
    tokenId: t.globalID({
      nullable: true,
      description: 'Global id of the API token; null for ADMIN_TOKEN and for the system.',
      resolve: (actor) => (actor.tokenId ? { type: 'ApiToken', id: actor.tokenId } : null),
    }),
    name: t.exposeString('name', { description: 'The API token\'s name, "ADMIN_TOKEN" for the admin token, "system" for the health checker and background syncs.' }),
  }),
});

// ---- The event.

export const GatewayEvent = builder.objectRef<GatewayEventMessage>('GatewayEvent');

builder.node(GatewayEvent, {
  description: 'A lifecycle event of a gateway, as recorded in the event log.',
  id: { resolve: (event) => event.id },
  loadMany: async (ids, ctx) => {
    const valid = ids.filter((id) => SEQUENCE.test(id)).map((id) => BigInt(id));
    const rows = valid.length ? await ctx.prisma.gatewayEvent.findMany({ where: { id: { in: valid } } }) : [];
    const byId = new Map(rows.map((row) => [row.id.toString(), eventMessage(row)]));
    return ids.map((id) => byId.get(SEQUENCE.test(id) ? BigInt(id).toString() : '') ?? null);
  },
  fields: (t) => ({
    sequence: t.exposeString('id', { description: 'Position in the event log (a decimal integer as a string); increases over time.' }),
    type: t.expose('type', { type: EventTypeEnum }),
    gatewayId: t.globalID({
      nullable: true,
      description: 'Global id of the gateway concerned (it may no longer exist).',
      resolve: (event) => (event.gatewayId ? { type: 'Gateway', id: event.gatewayId } : null),
    }),
    gateway: t.prismaField({
      type: 'Gateway',
      nullable: true,
      description: 'The gateway concerned; null once it is deleted.',
      // findUnique calls of one tick are batched by Prisma: one statement for a page.
      resolve: (query, event, _args, ctx) =>
        event.gatewayId ? ctx.prisma.gateway.findUnique({ ...query, where: { id: event.gatewayId } }) : null,
    }),
    actor: t.field({ type: EventActor, resolve: (event) => event.actor ?? SYSTEM }),
    details: t.field({
      type: GatewayEventDetails,
      description: 'The typed payload.',
      resolve: (event) => eventDetails(event),
    }),
    payload: t.expose('payload', { type: 'JSON', description: 'The payload as recorded, untyped (prefer details).' }),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => new Date(event.createdAt) }),
    createdAt: t.field({ type: 'DateTime', deprecationReason: 'Use occurredAt.', resolve: (event) => new Date(event.createdAt) }),
  }),
});

// ---- The history.

const EventFilter = builder.inputType('EventFilter', {
  fields: (t) => ({
    gatewayIds: t.idList({ required: false, description: 'Events of any of these gateways (global ids; deleted ones too).' }),
    types: t.field({ type: [EventTypeEnum], required: false, description: 'Events of any of these types.' }),
    since: t.field({ type: 'DateTime', required: false, description: 'Events that occurred at or after this time.' }),
    until: t.field({ type: 'DateTime', required: false, description: 'Events that occurred before this time.' }),
  }),
});

interface EventFilterInput {
  gatewayIds?: (string | number)[] | null;
  types?: GatewayEventMessage['type'][] | null;
  since?: Date | null;
  until?: Date | null;
}

function gatewayUuid(globalId: string | number): string | null {
  try {
    const decoded = Buffer.from(String(globalId), 'base64').toString('utf8');
    const [typename, id] = [decoded.slice(0, decoded.indexOf(':')), decoded.slice(decoded.indexOf(':') + 1)];
    return typename === 'Gateway' && UUID.test(id) ? id : null;
  } catch {
    return null;
  }
}

function eventWhere(filter: EventFilterInput | null | undefined): Prisma.GatewayEventWhereInput {
  const where: Prisma.GatewayEventWhereInput = {};
  if (filter?.gatewayIds) where.gatewayId = { in: filter.gatewayIds.map(gatewayUuid).filter((id): id is string => id !== null) };
  if (filter?.types?.length) where.type = { in: filter.types };
  if (filter?.since || filter?.until) where.createdAt = { ...(filter.since ? { gte: filter.since } : {}), ...(filter.until ? { lt: filter.until } : {}) };
  return where;
}

const CURSOR_PREFIX = 'GatewayEvent:';

function cursorOf(event: GatewayEventMessage): string {
  return Buffer.from(`${CURSOR_PREFIX}${event.id}`).toString('base64');
}

function sequenceOf(cursor: string | null | undefined): bigint | null {
  if (cursor == null) return null;
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  const id = decoded.startsWith(CURSOR_PREFIX) ? decoded.slice(CURSOR_PREFIX.length) : '';
  if (!SEQUENCE.test(id)) throw new GraphQLError(`invalid cursor: ${cursor}`, { extensions: { code: 'BAD_USER_INPUT' } });
  return BigInt(id);
}

export interface EventPageArgs {
  where: Prisma.GatewayEventWhereInput;
  /** Exclusive bounds on the sequence. */
  after: bigint | null;
  before: bigint | null;
  size: number;
  /** From `before` (or the end) backwards; the page is still oldest first. */
  backward: boolean;
}

/** One keyset page of the log: the history query's and the subscriptions' only way to read it. */
export async function eventPage(
  prisma: PrismaClient,
  { where, after, before, size, backward }: EventPageArgs,
): Promise<{ page: GatewayEventMessage[]; more: boolean }> {
  const id: Prisma.BigIntFilter = { ...(after !== null ? { gt: after } : {}), ...(before !== null ? { lt: before } : {}) };
  // Keyset page: one statement, an index range on the id whatever the position.
  const rows = await prisma.gatewayEvent.findMany({
    where: { ...where, ...(after !== null || before !== null ? { id } : {}) },
    orderBy: { id: backward ? 'desc' : 'asc' },
    take: size + 1,
  });
  const more = rows.length > size;
  const page = rows.slice(0, size).map(eventMessage);
  if (backward) page.reverse();
  return { page, more };
}

function pageSize(value: number | null | undefined, name: string): number {
  if (value == null) return DEFAULT_PAGE;
  if (value < 0 || value > MAX_PAGE) throw new GraphQLError(`${name} must be between 0 and ${MAX_PAGE}`, { extensions: { code: 'BAD_USER_INPUT' } });
  return value;
}

builder.queryField('events', (t) =>
  t.connection(
    {
      type: GatewayEvent,
      description:
        'The event log, oldest first (first/after), or newest first from the end with last/before (each page still oldest first). ' +
        `Pages of at most ${MAX_PAGE}; ${DEFAULT_PAGE} by default.`,
      authScopes: { read: true },
      args: { filter: t.arg({ type: EventFilter, required: false }) },
      resolve: async (_root, args, ctx) => {
        if (args.first != null && args.last != null) {
          throw new GraphQLError('pass first or last, not both', { extensions: { code: 'BAD_USER_INPUT' } });
        }
        const backward = args.last != null;
        const size = backward ? pageSize(args.last, 'last') : pageSize(args.first, 'first');
        const after = sequenceOf(args.after);
        const before = sequenceOf(args.before);
        const where = eventWhere(args.filter);
        const { page, more } = await eventPage(ctx.prisma, { where, after, before, size, backward });
        return {
          // Counted only when asked for (see totalCount).
          where,
          edges: page.map((node) => ({ cursor: cursorOf(node), node })),
          pageInfo: {
            hasNextPage: backward ? before !== null : more,
            hasPreviousPage: backward ? more : after !== null,
            startCursor: page.length ? cursorOf(page[0]!) : null,
            endCursor: page.length ? cursorOf(page[page.length - 1]!) : null,
          },
        };
      },
    },
    {
      name: 'GatewayEventConnection',
      fields: (c) => ({
        totalCount: c.int({
          description: 'Events that match the filter, on every page.',
          resolve: (connection, _args, ctx) => ctx.prisma.gatewayEvent.count({ where: (connection as unknown as { where: Prisma.GatewayEventWhereInput }).where }),
        }),
      }),
    },
    { name: 'GatewayEventEdge' },
  ),
);

// ---- Live events.

/** `after` of gatewayEvents: a cursor of the events query, or a sequence. */
function resumeFrom(after: string | null | undefined): bigint | null {
  if (after == null) return null;
  return SEQUENCE.test(after) ? BigInt(after) : sequenceOf(after);
}

builder.subscriptionField('gatewayEvents', (t) =>
  t.field({
    type: GatewayEvent,
    description:
      'Lifecycle events as they happen, from every worker, in sequence order, each once. With `after` (a cursor of `events`, or a sequence), ' +
      'first every logged event after it that matches, then live ones, with no gap. A subscriber that falls too far behind ' +
      '(SUBSCRIPTION_BUFFER) is ended with an error (code SUBSCRIBER_TOO_SLOW) saying where to resume with `after`.',
    authScopes: { read: true },
    args: {
      gatewayId: t.arg.globalID({ required: false, for: Gateway }),
      types: t.arg({ type: [EventTypeEnum], required: false }),
      after: t.arg.string({ required: false, description: 'Replay the log after this cursor or sequence first.' }),
    },
    subscribe: (_root, args, ctx) => {
      const after = resumeFrom(args.after);
      const gatewayId = args.gatewayId?.id;
      const types = args.types?.length ? args.types : null;
      const where: Prisma.GatewayEventWhereInput = { ...(gatewayId ? { gatewayId } : {}), ...(types ? { type: { in: types } } : {}) };
      // Listening starts here, before the log is read: nothing falls between the two.
      const feed = ctx.events.feed();
      return resumable(
        feed,
        {
          page: async (from, before, filtered, size) => {
            const { page, more } = await eventPage(ctx.prisma, { where: filtered ? where : {}, after: from, before, size, backward: false });
            return { events: page, more };
          },
          newest: async (size) => (await eventPage(ctx.prisma, { where: {}, after: null, before: null, size, backward: true })).page,
        },
        { after, matches: (event) => (!gatewayId || event.gatewayId === gatewayId) && (!types || types.includes(event.type)) },
      );
    },
    resolve: (event) => {
      if (event instanceof SubscriptionEnd) {
        throw new GraphQLError(
          `gatewayEvents: this subscriber fell too far behind (more than ${event.limit} events waiting) and was ended; resume with after: "${event.after}"`,
          { extensions: { code: 'SUBSCRIBER_TOO_SLOW', after: event.after } },
        );
      }
      return event;
    },
  }),
);
