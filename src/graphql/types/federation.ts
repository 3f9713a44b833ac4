import { federationView, type FederationView } from '../../federation/federation-view.js';
import { builder } from '../builder.js';

const Provenance = builder.objectRef<FederationView['provenance'][number]>('CapabilityProvenance').implement({
  fields: (t) => ({
    gatewayId: t.globalID({ resolve: (p) => ({ type: 'Gateway', id: p.gatewayId }) }),
    name: t.exposeString('name'),
    capabilities: t.expose('capabilities', { type: 'JSON' }),
  }),
});

const GatewayCounts = builder.objectRef<FederationView['gateways']>('GatewayCountsByStatus').implement({
  fields: (t) => ({ active: t.exposeInt('ACTIVE'), disabled: t.exposeInt('DISABLED'), unreachable: t.exposeInt('UNREACHABLE') }),
});

const CatalogCounts = builder.objectRef<FederationView['catalog']>('CatalogCounts').implement({
  description: 'Entries clients can see: the enabled entries of enabled, reachable gateways.',
  fields: (t) => ({
    tools: t.exposeInt('tools'),
    resources: t.exposeInt('resources'),
    resourceTemplates: t.exposeInt('resourceTemplates'),
    prompts: t.exposeInt('prompts'),
  }),
});

const Federation = builder.objectRef<FederationView>('Federation').implement({
  fields: (t) => ({
    capabilities: t.expose('capabilities', { type: 'JSON', description: 'Merged capabilities of every enabled, reachable gateway.' }),
    provenance: t.field({ type: [Provenance], resolve: (f) => f.provenance }),
    gateways: t.field({ type: GatewayCounts, resolve: (f) => f.gateways }),
    catalog: t.field({ type: CatalogCounts, resolve: (f) => f.catalog }),
  }),
});

builder.queryField('federation', (t) => t.field({ type: Federation, resolve: (_root, _args, ctx) => federationView(ctx.prisma) }));
