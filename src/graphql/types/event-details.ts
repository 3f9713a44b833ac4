// What each kind of event carries, typed: the untyped JSON of the log read
// defensively (old rows, probes) into one object type per kind, and the actor.
import type { GatewayStatus } from '../../catalog/filters.js';
import type { GatewayEventMessage } from '../../events/event-bus.js';
import { NAMES_SHOWN } from '../../federation/catalog-sync.js';
import { builder } from '../builder.js';
import { encodeGlobalId } from '../global-id.js';
import { GatewayStatusEnum } from './enums.js';

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
    toolId: t.id({ description: 'Global id of the tool.', resolve: (d) => encodeGlobalId('Tool', d.toolId) }),
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

export const GatewayEventDetails = builder.unionType('GatewayEventDetails', {
  description: 'The typed payload of an event, one type per kind of event.',
  types: Object.values(DETAIL_TYPES),
  resolveType: (details) => (details as Details).kind,
});

export const EventActor = builder.objectRef<{ tokenId: string | null; name: string }>('EventActor').implement({
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

