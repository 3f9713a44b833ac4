// The health checker as the API shows it: who leads and how the last sweep
// went, and a check of one gateway on demand.
import { GatewayDisabledError, NotFoundError } from '../../errors.js';
import type { HealthCheckerStatus, ManualCheck } from '../../health/health-checker.js';
import type { SweepRecord } from '../../health/leadership-store.js';
import { builder } from '../builder.js';
import { withId } from '../global-id.js';
import { GatewayStatusEnum } from './enums.js';
import { ErrorInterface } from './errors.js';
import { PeerFailureReason } from './peer-failure.js';

const ElectionModeEnum = builder.enumType('LeaderElectionMode', {
  description: 'How workers elect the one that runs the health checker.',
  values: {
    REDIS: { value: 'redis', description: 'Redlock over Redis.' },
    POSTGRES: { value: 'postgres', description: 'A PostgreSQL session advisory lock.' },
    FILE: { value: 'file', description: 'A lock file on a disk the workers share.' },
    NONE: { value: 'none', description: 'No election: this process is the only worker.' },
  } as const,
});

const Leader = builder.objectRef<NonNullable<HealthCheckerStatus['leader']>>('HealthCheckerLeader').implement({
  fields: (t) => ({
    instanceId: t.exposeString('instanceId'),
    term: t.field({ type: 'SafeInt', description: 'Leadership term; every write of the checker carries it.', resolve: (l) => Number(l.term) }),
    since: t.expose('since', { type: 'DateTime' }),
  }),
});

const Sweep = builder.objectRef<SweepRecord>('HealthSweep').implement({
  fields: (t) => ({
    startedAt: t.field({ type: 'DateTime', resolve: (s) => new Date(s.startedAt) }),
    finishedAt: t.field({ type: 'DateTime', resolve: (s) => new Date(s.finishedAt) }),
    checked: t.exposeInt('checked'),
    failed: t.exposeInt('failed'),
    durationMs: t.exposeInt('durationMs'),
  }),
});

const HealthCheckerRef = builder.objectRef<HealthCheckerStatus>('HealthChecker').implement({
  fields: (t) => ({
    instanceId: t.exposeString('instanceId', { description: 'This worker.' }),
    leading: t.exposeBoolean('leading', { description: 'Whether this worker runs the health checker now.' }),
    mode: t.field({
      type: ElectionModeEnum,
      nullable: true,
      description: 'This worker\'s election; null when it takes no part (HEALTH_CHECKS=false).',
      resolve: (s) => s.mode as 'redis' | 'postgres' | 'file' | 'none' | null,
    }),
    leader: t.field({ type: Leader, nullable: true, description: 'The leader, or null when none is known to hold a live lease.', resolve: (s) => s.leader }),
    lastSweep: t.field({ type: Sweep, nullable: true, resolve: (s) => s.lastSweep }),
    nextSweepAt: t.expose('nextSweepAt', { type: 'DateTime', nullable: true }),
    listChangedSessions: t.exposeInt('listChangedSessions', { description: 'Standing sessions this worker holds for list_changed notifications.' }),
  }),
});

builder.queryField('healthChecker', (t) => t.field({ type: HealthCheckerRef, resolve: (_root, _args, ctx) => ctx.health.status() }));

builder.objectType(GatewayDisabledError, {
  name: 'GatewayDisabledError',
  description: 'The gateway is disabled; enable it first.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ gatewayId: t.globalID({ resolve: (e) => ({ type: 'Gateway', id: e.gatewayId }) }) }),
});

const CheckGatewayHealthSuccess = builder.objectRef<ManualCheck>('CheckGatewayHealthSuccess').implement({
  fields: (t) => ({
    gateway: t.prismaField({
      type: 'Gateway',
      resolve: (query, check, _args, ctx) => ctx.prisma.gateway.findUniqueOrThrow({ ...query, where: { id: check.gatewayId } }),
    }),
    ok: t.boolean({ description: 'Whether the peer answered initialize and ping.', resolve: (c) => c.outcome.ok }),
    latencyMs: t.int({ nullable: true, resolve: (c) => (c.outcome.ok ? c.outcome.latencyMs : null) }),
    reason: t.field({ type: PeerFailureReason, nullable: true, resolve: (c) => (c.outcome.ok ? null : c.outcome.error.reason) }),
    error: t.string({ nullable: true, resolve: (c) => (c.outcome.ok ? null : c.outcome.error.message) }),
    status: t.field({
      type: GatewayStatusEnum,
      nullable: true,
      description: 'The status after the check; null if the gateway changed meanwhile and the result was not recorded.',
      resolve: (c) => c.recorded.status ?? null,
    }),
  }),
});

builder.mutationField('checkGatewayHealth', (t) =>
  t.field({
    type: CheckGatewayHealthSuccess,
    authScopes: { write: true },
    description: 'Checks one gateway now (initialize and ping), records the result as the health checker would, and resets its back-off.',
    errors: { types: [NotFoundError, GatewayDisabledError], directResult: true, union: { name: 'CheckGatewayHealthResult' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => withId(id, 'Gateway', 'gateway', (uuid) => ctx.health.checkNow(uuid)),
  }),
);
