// The registry of peer gateways: register, update, delete, enable/disable,
// refresh. Every change that talks to a peer does so *before* its transaction,
// then writes the gateway, its catalog diff and its event in one transaction,
// so a failure leaves nothing half-written.
import type { EventBus, EventType, GatewayEventMessage } from '../events/event-bus.js';
import { CATALOG_COUNTS, statusPayload, updatedPayload } from '../events/event-payloads.js';
import { gatewayStatus } from '../catalog/filters.js';
import { GatewayDisabledError, NameConflictError, NotFoundError } from '../errors.js';
import type { Gateway, Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Transport } from '../generated/prisma/enums.js';
import type { Logger } from '../logger.js';
import { currentActor } from '../security/actor.js';
import type { SecretBox } from '../security/secret-box.js';
import { checkPeerUrl, type UrlPolicyOptions } from '../security/url-policy.js';
import { mergeAuth, requireSecretsOnMove, type AuthPatch } from './auth-changes.js';
import { authFingerprint, openAuth, sealAuth } from './auth-storage.js';
import { changedAnything, emptyReport, syncCatalog, type SyncReport } from './catalog-sync.js';
import {
  validAuth,
  validDescription,
  validGatewayInput,
  validName,
  validRefreshInterval,
  validTags,
  vetAuthUrls,
  type GatewayInput,
} from './gateway-input.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { NamingRules } from './naming.js';
import type { PeerAuth } from './peer-auth.js';
import { PeerConnectionError } from './peer-errors.js';
import { snapshotColumns, storedTarget, type PeerProbe, type PeerSnapshot, type PeerTarget } from './peer-snapshot.js';
import { assertNameFree, assertNotDuplicate, renameEntries } from './registry-guards.js';
import { isUniqueViolation } from './unique-violation.js';

export interface GatewayPatch {
  name?: string | null;
  url?: string | null;
  transport?: Transport | null;
  description?: string | null;
  tags?: string[] | null;
  auth?: AuthPatch;
  /** Undefined keeps it, null returns to the deployment's default. */
  refreshIntervalMs?: number | null;
}

export interface RefreshOptions {
  /**
   * Runs first in the writing transaction, so that nothing is written unless
   * it passes: the health checker's leadership fence.
   */
  fence?: (tx: Tx) => Promise<void>;
  /** Refuse a disabled gateway (background resyncs, and refreshGateway: enabling is what resyncs one). */
  requireEnabled?: boolean;
  /** Ends the probe early (lost leadership, shutdown, a check's deadline). */
  signal?: AbortSignal;
  /** Written with the result: what the health check that led to this resync measured. */
  latencyMs?: number;
}

/**
 * One operation with a peer as it ended (metrics). `probe`: connecting to the
 * peer and reading its capabilities and catalog; `sync`: the transaction that
 * writes a probed catalog; `health_check`: one check of one gateway by the
 * health checker (which reports those).
 */
export interface PeerOperation {
  operation: 'probe' | 'sync' | 'health_check';
  /** Null for a registration that stored no gateway (a registration's probe and sync are reported under the new id once it is stored). */
  gatewayId: string | null;
  ok: boolean;
  /** What it failed with (a PeerConnectionError when the peer failed); undefined when ok. */
  error?: unknown;
  durationMs: number;
}

export interface GatewayServiceOptions {
  prisma: PrismaClient;
  events: EventBus;
  box: SecretBox;
  probe: PeerProbe;
  naming: NamingRules;
  urlPolicy: UrlPolicyOptions;
  logger: Logger;
  /** Told of each probe and catalog sync as it ends (metrics); must not throw. */
  onPeerOperation?: (operation: PeerOperation) => void;
}

/** Options of a write: `name` for its NameConflictError; `sync` marks the write of a probed catalog (timed and reported) and gives its gateway's id. */
interface WriteOptions<T> {
  name?: string;
  /** The gateway's id, or how to read it from the result (a registration's, known once written; reported as null if the write failed). */
  sync?: string | ((result: T) => string);
}

type Tx = Prisma.TransactionClient;

const TX_OPTIONS = { timeout: 120_000, maxWait: 30_000 };

export class GatewayService {
  private readonly perGateway = new KeyedMutex();

  constructor(private readonly o: GatewayServiceOptions) {}

  async register(input: GatewayInput): Promise<Gateway> {
    const valid = await validGatewayInput(input, this.o.urlPolicy);
    await assertNameFree(this.o.prisma, valid.name, valid.slug, null);
    const fingerprint = authFingerprint(valid.url, valid.auth, this.o.box);
    await assertNotDuplicate(this.o.prisma, fingerprint, null);

    const { snapshot, probed } = await this.timedProbe({ gatewayId: null, url: valid.url, transport: valid.transport, auth: valid.auth });
    let written: { gateway: Gateway; events: GatewayEventMessage[] };
    try {
      written = await this.write(async (tx) => {
        await assertNotDuplicate(tx, fingerprint, null, { lock: true });
        const created = await tx.gateway.create({
          data: {
            name: valid.name,
            slug: valid.slug,
            url: valid.url,
            transport: valid.transport,
            description: valid.description,
            tags: valid.tags,
            refreshIntervalMs: valid.refreshIntervalMs,
            authFingerprint: fingerprint,
            ...this.sealed(valid.auth),
            ...snapshotColumns(snapshot, new Date()),
          },
        });
        const report = await syncCatalog(tx, created.id, created.slug, this.o.naming, snapshot.catalog);
        const added = await this.o.events.record(tx, 'GATEWAY_ADDED', created.id, { name: created.name, catalog: report });
        return { gateway: created, events: [added] };
      }, { name: valid.name, sync: (result) => result.gateway.id });
    } catch (error) {
      probed(null); // nothing stored: the probe counts under no gateway
      throw error;
    }
    // Only now has the gateway an id: its probe counts under it.
    probed(written.gateway.id);
    const { gateway, events } = written;
    this.o.logger.info({ gatewayId: gateway.id, url: gateway.url, actor: currentActor() }, 'registered gateway');
    this.broadcast(events);
    return gateway;
  }

  async update(id: string, patch: GatewayPatch): Promise<Gateway> {
    return this.perGateway.run(id, async () => {
      const current = await this.find(id);
      const naming = patch.name != null ? validName(patch.name) : { name: current.name, slug: current.slug };
      if (naming.name !== current.name || naming.slug !== current.slug) await assertNameFree(this.o.prisma, naming.name, naming.slug, id);
      const url = patch.url != null ? await checkPeerUrl(patch.url, this.o.urlPolicy) : current.url;
      const transport = patch.transport ?? current.transport;
      const refreshIntervalMs = patch.refreshIntervalMs === undefined ? undefined : validRefreshInterval(patch.refreshIntervalMs);
      requireSecretsOnMove(current, url, patch.auth);
      const auth = patch.auth ? await vetAuthUrls(validAuth(mergeAuth(current, patch.auth, this.o.box)), this.o.urlPolicy) : null;
      const reconnect = url !== current.url || transport !== current.transport || auth !== null;
      const effectiveAuth = auth ?? openAuth(current, this.o.box);
      const fingerprint = authFingerprint(url, effectiveAuth, this.o.box);
      if (reconnect) await assertNotDuplicate(this.o.prisma, fingerprint, id);
      // A failing peer throws here, before anything is written: the old configuration stays.
      const snapshot = reconnect ? await this.probe({ gatewayId: id, url, transport, auth: effectiveAuth }) : null;

      const { gateway, events } = await this.write(async (tx) => {
        if (reconnect) await assertNotDuplicate(tx, fingerprint, id, { lock: true });
        const updated = await tx.gateway.update({
          where: { id },
          data: {
            ...naming,
            url,
            transport,
            description: patch.description !== undefined ? validDescription(patch.description) : undefined,
            tags: patch.tags != null ? validTags(patch.tags) : undefined,
            refreshIntervalMs,
            authFingerprint: fingerprint,
            ...(auth ? this.sealed(auth) : {}),
            ...(snapshot ? snapshotColumns(snapshot, new Date()) : {}),
          },
        });
        const report = snapshot ? await syncCatalog(tx, id, updated.slug, this.o.naming, snapshot.catalog) : null;
        if (!snapshot && updated.slug !== current.slug) await renameEntries(tx, id, updated.slug, this.o.naming);
        // Events last (see EventBus.record).
        const out: GatewayEventMessage[] = [
          await this.o.events.record(
            tx,
            'GATEWAY_UPDATED',
            id,
            // Credentials: only whether they changed (same URL, other fingerprint; or sent anew with a new URL).
            updatedPayload(current, updated, { reconnected: reconnect, credentialsChanged: auth !== null && (url !== current.url || fingerprint !== current.authFingerprint) }),
          ),
        ];
        if (report && changedAnything(report)) out.push(await this.o.events.record(tx, 'GATEWAY_CATALOG_CHANGED', id, { catalog: report }));
        return { gateway: updated, events: out };
      }, { name: naming.name, sync: snapshot ? id : undefined });
      // The names of the fields asked for, never their values: auth holds secrets.
      const fields = Object.keys(patch).filter((key) => patch[key as keyof GatewayPatch] !== undefined).sort();
      this.o.logger.info({ gatewayId: id, fields, reconnected: reconnect, actor: currentActor() }, 'updated gateway');
      this.broadcast(events);
      return gateway;
    });
  }

  async delete(id: string): Promise<Gateway> {
    return this.perGateway.run(id, async () => {
      const { gateway, events } = await this.write(async (tx) => {
        const counted = await tx.gateway.findUnique({ where: { id }, select: CATALOG_COUNTS });
        const deleted = await tx.gateway.delete({ where: { id } }).catch((error: unknown) => {
          if ((error as { code?: string }).code === 'P2025') throw new NotFoundError('gateway', id);
          throw error;
        });
        return { gateway: deleted, events: [await this.o.events.record(tx, 'GATEWAY_DELETED', id, { name: deleted.name, catalog: counted?._count ?? null })] };
      });
      this.o.logger.info({ gatewayId: id, actor: currentActor() }, 'deleted gateway');
      this.broadcast(events);
      return gateway;
    });
  }

  /**
   * Enabling reconnects and resyncs first; a peer that fails keeps the gateway disabled.
   * Asking for the state it is already in does nothing (changed: false, no event).
   */
  async setEnabled(id: string, enabled: boolean): Promise<{ gateway: Gateway; changed: boolean }> {
    return this.perGateway.run(id, async () => {
      const current = await this.find(id);
      if (current.enabled === enabled) return { gateway: current, changed: false };
      const snapshot = enabled ? await this.probeStored(current) : null;
      const { gateway, events } = await this.write(async (tx) => {
        const updated = await tx.gateway.update({
          where: { id },
          data: { enabled, ...(snapshot ? snapshotColumns(snapshot, new Date()) : {}) },
        });
        const report = snapshot ? await syncCatalog(tx, id, updated.slug, this.o.naming, snapshot.catalog) : null;
        // Events last (see EventBus.record).
        const type: EventType = enabled ? 'GATEWAY_ACTIVATED' : 'GATEWAY_DEACTIVATED';
        const out = [await this.o.events.record(tx, type, id, statusPayload(current, updated, enabled ? 'enabled' : 'disabled'))];
        if (report && changedAnything(report)) out.push(await this.o.events.record(tx, 'GATEWAY_CATALOG_CHANGED', id, { catalog: report }));
        return { gateway: updated, events: out };
      }, { sync: snapshot ? id : undefined });
      this.o.logger.info({ gatewayId: id, actor: currentActor() }, enabled ? 'enabled gateway' : 'disabled gateway');
      this.broadcast(events);
      return { gateway, changed: true };
    });
  }

  /**
   * Resyncs now. Refreshes of one gateway queue behind each other. A gateway
   * that was unreachable is reachable again once this succeeds, and says so
   * with GATEWAY_HEALTH_CHANGED.
   */
  async refresh(id: string, options: RefreshOptions = {}): Promise<{ gateway: Gateway; report: SyncReport }> {
    return this.perGateway.run(id, async () => {
      const current = await this.find(id);
      if (options.requireEnabled && !current.enabled) throw new GatewayDisabledError(id);
      const snapshot = await this.probeStored(current, options.signal);
      const { gateway, report, events } = await this.write(async (tx) => {
        await options.fence?.(tx);
        // Row lock: refreshes from other workers wait here rather than interleave.
        const [locked] = await tx.$queryRaw<{ fingerprint: string | null; transport: string; enabled: boolean; reachable: boolean }[]>`
          SELECT auth_fingerprint AS fingerprint, transport::text AS transport, enabled, reachable FROM gateway WHERE id = ${id}::uuid FOR UPDATE`;
        if (!locked) throw new NotFoundError('gateway', id);
        if (options.requireEnabled && !locked.enabled) throw new GatewayDisabledError(id);
        // Another worker changed the URL, transport or credentials while we probed: what we
        // hold is the old peer's catalog, and that change has already synced the new one.
        if (locked.fingerprint !== current.authFingerprint || locked.transport !== current.transport) {
          return { gateway: await tx.gateway.findUniqueOrThrow({ where: { id } }), report: emptyReport(), events: [] };
        }
        const updated = await tx.gateway.update({
          where: { id },
          data: { ...snapshotColumns(snapshot, new Date()), ...(options.latencyMs !== undefined ? { lastLatencyMs: options.latencyMs } : {}) },
        });
        const sync = await syncCatalog(tx, id, updated.slug, this.o.naming, snapshot.catalog);
        const out: GatewayEventMessage[] = [];
        if (!locked.reachable) {
          const change = { name: updated.name, oldStatus: gatewayStatus(locked), newStatus: gatewayStatus(updated), reason: 'resynced', lastError: null };
          out.push(await this.o.events.record(tx, 'GATEWAY_HEALTH_CHANGED', id, change));
        }
        if (changedAnything(sync)) out.push(await this.o.events.record(tx, 'GATEWAY_CATALOG_CHANGED', id, { catalog: sync }));
        return { gateway: updated, report: sync, events: out };
      }, { sync: id });
      this.o.logger.info({ gatewayId: id, report, actor: currentActor() }, 'refreshed gateway');
      this.broadcast(events);
      return { gateway, report };
    });
  }

  async setToolEnabled(id: string, enabled: boolean) {
    // The change and its TOOL_TOGGLED event in one transaction.
    const { tool, event } = await this.write(async (tx) => {
      const tool = await tx.tool.update({ where: { id }, data: { enabled } }).catch((error: unknown) => {
        if ((error as { code?: string }).code === 'P2025') throw new NotFoundError('tool', id);
        throw error;
      });
      return { tool, event: await this.o.events.record(tx, 'TOOL_TOGGLED', tool.gatewayId, { toolId: tool.id, name: tool.name, enabled }) };
    });
    this.broadcast([event]);
    this.o.logger.info({ toolId: id, gatewayId: tool.gatewayId, enabled, actor: currentActor() }, enabled ? 'enabled tool' : 'disabled tool');
    return tool;
  }

  private async find(id: string): Promise<Gateway> {
    const gateway = await this.o.prisma.gateway.findUnique({ where: { id } });
    if (!gateway) throw new NotFoundError('gateway', id);
    return gateway;
  }

  private probeStored(gateway: Gateway, signal?: AbortSignal): Promise<PeerSnapshot> {
    return this.probe(storedTarget(gateway, this.o.box), signal);
  }

  /** The probe of a gateway that exists, reported under its id. */
  private async probe(target: PeerTarget, signal?: AbortSignal): Promise<PeerSnapshot> {
    const { snapshot, probed } = await this.timedProbe(target, signal);
    probed(target.gatewayId);
    return snapshot;
  }

  /**
   * The probe, timed, with a line for each failure: reason and status, never the
   * credentials. A failure is reported at once, under the target's gateway id; a
   * success when the caller calls `probed` with the id (a registration's is known
   * only once it is stored).
   */
  private async timedProbe(target: PeerTarget, signal?: AbortSignal): Promise<{ snapshot: PeerSnapshot; probed: (gatewayId: string | null) => void }> {
    const started = performance.now();
    try {
      const snapshot = await this.o.probe(target, signal);
      const durationMs = performance.now() - started;
      return { snapshot, probed: (gatewayId) => this.o.onPeerOperation?.({ operation: 'probe', gatewayId, ok: true, durationMs }) };
    } catch (error) {
      this.o.onPeerOperation?.({ operation: 'probe', gatewayId: target.gatewayId, ok: false, error, durationMs: performance.now() - started });
      if (error instanceof PeerConnectionError) {
        const { reason, status, message } = error;
        this.o.logger.warn({ gatewayId: target.gatewayId, url: target.url, reason, status, message, actor: currentActor() }, 'peer connection failed');
      }
      throw error;
    }
  }

  private sealed(auth: PeerAuth) {
    const stored = sealAuth(auth, this.o.box);
    return { authType: stored.authType, authPublic: (stored.authPublic ?? undefined) as Prisma.InputJsonObject | undefined, authSecret: stored.authSecret };
  }

  /** One transaction; a unique violation anywhere in it is a name conflict. A sync is timed and reported. */
  private async write<T>(work: (tx: Tx) => Promise<T>, { name, sync }: WriteOptions<T> = {}): Promise<T> {
    const started = performance.now();
    try {
      const result = await this.o.prisma.$transaction(work, TX_OPTIONS);
      if (sync !== undefined) {
        const gatewayId = typeof sync === 'string' ? sync : sync(result);
        this.o.onPeerOperation?.({ operation: 'sync', gatewayId, ok: true, durationMs: performance.now() - started });
      }
      return result;
    } catch (error) {
      if (sync !== undefined) {
        const gatewayId = typeof sync === 'string' ? sync : null;
        this.o.onPeerOperation?.({ operation: 'sync', gatewayId, ok: false, error, durationMs: performance.now() - started });
      }
      if (isUniqueViolation(error)) throw new NameConflictError(name ?? 'an entry name');
      throw error;
    }
  }

  private broadcast(events: GatewayEventMessage[]): void {
    for (const event of events) this.o.events.broadcast(event);
  }
}
