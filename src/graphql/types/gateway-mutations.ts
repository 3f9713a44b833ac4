// Registry changes. Resolvers translate GraphQL input and hand over to the
// GatewayService; every expected failure comes back as a typed result.
import { DuplicateGatewayError, FederationLoopError, GatewayDisabledError, NameConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { PeerConnectionError } from '../../federation/peer-errors.js';
import { builder } from '../builder.js';
import { TransportEnum } from './enums.js';
import { PeerFailureReason } from './peer-failure.js';
import { ErrorInterface } from './errors.js';
import { withId } from '../global-id.js';
import { PeerAuthInput, peerAuthFromInput } from './peer-auth.js';
import type { PeerAuth } from '../../federation/peer-auth.js';

builder.objectType(NameConflictError, {
  name: 'NameConflictError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ name: t.exposeString('conflictingName') }),
});

builder.objectType(DuplicateGatewayError, {
  name: 'DuplicateGatewayError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ existingGatewayId: t.globalID({ resolve: (e) => ({ type: 'Gateway', id: e.existingGatewayId }) }) }),
});

builder.objectType(PeerConnectionError, {
  name: 'PeerConnectionError',
  description: 'The peer could not be reached, refused our credentials, or did not speak MCP.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    reason: t.field({ type: PeerFailureReason, resolve: (e) => e.reason }),
    httpStatus: t.int({ nullable: true, resolve: (e) => e.status ?? null }),
  }),
});

builder.objectType(FederationLoopError, {
  name: 'FederationLoopError',
  description: 'The peer already reaches this gateway, directly or through other gateways (its /mcp says so): registering it would make a loop.',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

const GatewayFields = (required: boolean) =>
  builder.inputType(required ? 'RegisterGatewayInput' : 'UpdateGatewayInput', {
    fields: (t) => ({
      name: t.string({ required }),
      url: t.string({ required }),
      transport: t.field({ type: TransportEnum, required: false }),
      description: t.string({ required: false }),
      tags: t.stringList({ required: false }),
      auth: t.field({ type: PeerAuthInput, required: false }),
      refreshIntervalMs: t.int({
        required: false,
        description: 'Resync this gateway\'s catalog this often (10000 to 604800000 ms); null: CATALOG_REFRESH_INTERVAL_MS.',
      }),
    }),
  });
const RegisterGatewayInput = GatewayFields(true);
const UpdateGatewayInput = GatewayFields(false);

const GatewayPayload = (name: string) =>
  builder.objectRef<{ gatewayId: string }>(name).implement({
    fields: (t) => ({
      gateway: t.prismaField({
        type: 'Gateway',
        resolve: (query, payload, _args, ctx) => ctx.prisma.gateway.findUniqueOrThrow({ ...query, where: { id: payload.gatewayId } }),
      }),
    }),
  });

const SyncCounts = builder.objectRef<{ added: number; updated: number; removed: number }>('SyncCounts').implement({
  fields: (t) => ({ added: t.exposeInt('added'), updated: t.exposeInt('updated'), removed: t.exposeInt('removed') }),
});

const RefreshGatewaySuccess = builder
  .objectRef<{ gatewayId: string; report: Record<'tools' | 'resources' | 'resourceTemplates' | 'prompts', { added: number; updated: number; removed: number }> }>('RefreshGatewaySuccess')
  .implement({
    fields: (t) => ({
      gateway: t.prismaField({
        type: 'Gateway',
        resolve: (query, payload, _args, ctx) => ctx.prisma.gateway.findUniqueOrThrow({ ...query, where: { id: payload.gatewayId } }),
      }),
      tools: t.field({ type: SyncCounts, resolve: (p) => p.report.tools }),
      resources: t.field({ type: SyncCounts, resolve: (p) => p.report.resources }),
      resourceTemplates: t.field({ type: SyncCounts, resolve: (p) => p.report.resourceTemplates }),
      prompts: t.field({ type: SyncCounts, resolve: (p) => p.report.prompts }),
    }),
  });

const DeleteGatewaySuccess = builder.objectRef<{ gatewayId: string }>('DeleteGatewaySuccess').implement({
  fields: (t) => ({ deletedGatewayId: t.globalID({ resolve: (p) => ({ type: 'Gateway', id: p.gatewayId }) }) }),
});

const SetToolEnabledSuccess = builder.objectRef<{ toolId: string }>('SetToolEnabledSuccess').implement({
  fields: (t) => ({
    tool: t.prismaField({ type: 'Tool', resolve: (query, p, _a, ctx) => ctx.prisma.tool.findUniqueOrThrow({ ...query, where: { id: p.toolId } }) }),
  }),
});

/**
 * What each mutation can fail with, besides AuthorizationError (every result
 * union has it). An id argument that is not a global id of the right type is a
 * NotFoundError (src/graphql/global-id.ts). Syncing a catalog can refuse a
 * peer's entry (ValidationError: a name too long, a NUL character) or find its
 * name taken (NameConflictError), so every mutation that syncs lists both;
 * and every mutation that talks to the peer can find it reaches us (FederationLoopError).
 */
const ERRORS = {
  RegisterGateway: [ValidationError, NameConflictError, DuplicateGatewayError, PeerConnectionError, FederationLoopError],
  UpdateGateway: [NotFoundError, ValidationError, NameConflictError, DuplicateGatewayError, PeerConnectionError, FederationLoopError],
  DeleteGateway: [NotFoundError],
  SetGatewayEnabled: [NotFoundError, ValidationError, NameConflictError, PeerConnectionError, FederationLoopError],
  RefreshGateway: [NotFoundError, GatewayDisabledError, ValidationError, NameConflictError, PeerConnectionError, FederationLoopError],
  SetToolEnabled: [NotFoundError],
} as const;
const result = (name: keyof typeof ERRORS) => ({ types: [...ERRORS[name]], directResult: true as const, union: { name: `${name}Result` } });

const SetGatewayEnabledSuccess = builder.objectRef<{ gatewayId: string; changed: boolean }>('SetGatewayEnabledSuccess').implement({
  fields: (t) => ({
    gateway: t.prismaField({
      type: 'Gateway',
      resolve: (query, payload, _args, ctx) => ctx.prisma.gateway.findUniqueOrThrow({ ...query, where: { id: payload.gatewayId } }),
    }),
    changed: t.exposeBoolean('changed', {
      description: 'False when the gateway already was as asked: nothing was done and no event published.',
    }),
  }),
});

const GATEWAY = ['Gateway', 'gateway'] as const;

builder.mutationFields((t) => ({
  registerGateway: t.field({
    type: GatewayPayload('RegisterGatewaySuccess'),
    authScopes: { write: true },
    errors: result('RegisterGateway'),
    args: { input: t.arg({ type: RegisterGatewayInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const auth = peerAuthFromInput(input.auth) as PeerAuth | null;
      const gateway = await ctx.gateways.register({ ...input, name: input.name!, url: input.url!, auth });
      return { gatewayId: gateway.id };
    },
  }),
  updateGateway: t.field({
    type: GatewayPayload('UpdateGatewaySuccess'),
    authScopes: { write: true },
    errors: result('UpdateGateway'),
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateGatewayInput, required: true }) },
    resolve: (_root, { id, input }, ctx) =>
      withId(id, ...GATEWAY, async (uuid) => {
        const gateway = await ctx.gateways.update(uuid, { ...input, auth: peerAuthFromInput(input.auth) ?? undefined });
        return { gatewayId: gateway.id };
      }),
  }),
  deleteGateway: t.field({
    type: DeleteGatewaySuccess,
    authScopes: { write: true },
    errors: result('DeleteGateway'),
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => withId(id, ...GATEWAY, async (uuid) => ({ gatewayId: (await ctx.gateways.delete(uuid)).id })),
  }),
  setGatewayEnabled: t.field({
    type: SetGatewayEnabledSuccess,
    authScopes: { write: true },
    description: 'Enabling reconnects and resyncs first. Asking for the state the gateway is already in changes nothing (changed: false).',
    errors: result('SetGatewayEnabled'),
    args: { id: t.arg.id({ required: true }), enabled: t.arg.boolean({ required: true }) },
    resolve: (_root, { id, enabled }, ctx) =>
      withId(id, ...GATEWAY, async (uuid) => {
        const { gateway, changed } = await ctx.gateways.setEnabled(uuid, enabled);
        return { gatewayId: gateway.id, changed };
      }),
  }),
  refreshGateway: t.field({
    type: RefreshGatewaySuccess,
    authScopes: { write: true },
    description: 'Resyncs the catalog now. A disabled gateway is refused with GatewayDisabledError: enable it (which resyncs) instead.',
    errors: result('RefreshGateway'),
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) =>
      withId(id, ...GATEWAY, async (uuid) => {
        const { gateway, report } = await ctx.gateways.refresh(uuid, { requireEnabled: true });
        return { gatewayId: gateway.id, report };
      }),
  }),
  setToolEnabled: t.field({
    type: SetToolEnabledSuccess,
    authScopes: { write: true },
    errors: result('SetToolEnabled'),
    args: { id: t.arg.id({ required: true }), enabled: t.arg.boolean({ required: true }) },
    resolve: (_root, { id, enabled }, ctx) =>
      withId(id, 'Tool', 'tool', async (uuid) => ({ toolId: (await ctx.gateways.setToolEnabled(uuid, enabled)).id })),
  }),
}));
