// The registry of peer gateways: register, update, delete, enable/disable,
// refresh. Every change that talks to a peer does so *before* its transaction,
// then writes the gateway, its catalog diff and its event in one transaction,
// so a failure leaves nothing half-written.
import { LOCK_SPACE } from '../db/advisory-locks.js';
import type { EventBus, EventType, GatewayEventMessage } from '../events/event-bus.js';
import { DuplicateGatewayError, NameConflictError, NotFoundError, ValidationError } from '../errors.js';
import { Prisma, type Gateway, type PrismaClient } from '../generated/prisma/client.js';
import type { PeerAuthType, Transport } from '../generated/prisma/enums.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../security/secret-box.js';
import type { UrlPolicyOptions } from '../security/url-policy.js';
import { authFingerprint, openAuth, sealAuth } from './auth-storage.js';
import { changedAnything, emptyReport, hasNul, syncCatalog, type PeerCatalog, type SyncReport } from './catalog-sync.js';
import { validAuth, validDescription, validGatewayInput, validName, validTags, vetAuthUrls, type GatewayInput } from './gateway-input.js';
import { KeyedMutex } from './keyed-mutex.js';
import { namespacedName, type NamingRules } from './naming.js';
import type { PeerAuth } from './peer-auth.js';
import { isUniqueViolation } from './unique-violation.js';
import { checkPeerUrl } from '../security/url-policy.js';

/** What connecting to a peer and listing its catalog yields. */
export interface PeerSnapshot {
  protocolVersion: string;
  serverInfo: Record<string, unknown>;
  instructions: string | null;
  capabilities: Record<string, unknown>;
  catalog: PeerCatalog;
}

export interface PeerTarget {
  /** Keys per-peer state such as cached OAuth tokens; null before the gateway exists. */
  gatewayId: string | null;
  url: string;
  transport: Transport;
  auth: PeerAuth;
}

/** Connects, lists everything, disconnects; throws PeerConnectionError. */
export type PeerProbe = (target: PeerTarget) => Promise<PeerSnapshot>;

export interface GatewayPatch {
  name?: string | null;
  url?: string | null;
  transport?: Transport | null;
  description?: string | null;
  tags?: string[] | null;
  /** Secret fields left out keep their stored values when the type is unchanged. */
  auth?: Partial<PeerAuth> & { type: PeerAuth['type'] };
}

export interface GatewayServiceOptions {
  prisma: PrismaClient;
  events: EventBus;
  box: SecretBox;
  probe: PeerProbe;
  naming: NamingRules;
  urlPolicy: UrlPolicyOptions;
  logger: Logger;
}

type Tx = Prisma.TransactionClient;

const SECRET_FIELD: Partial<Record<PeerAuthType, string>> = {
  BASIC: 'password',
  BEARER: 'token',
  HEADERS: 'headers',
  OAUTH2_CLIENT_CREDENTIALS: 'clientSecret',
};

const openAuthType = (type: PeerAuthType): PeerAuth['type'] =>
  (({ NONE: 'none', BASIC: 'basic', BEARER: 'bearer', HEADERS: 'headers', OAUTH2_CLIENT_CREDENTIALS: 'oauth2ClientCredentials' }) as const)[type];
const TX_OPTIONS = { timeout: 120_000, maxWait: 30_000 };

function snapshotColumns(snapshot: PeerSnapshot, now: Date) {
  for (const field of ['protocolVersion', 'serverInfo', 'instructions', 'capabilities'] as const) {
    if (hasNul(snapshot[field])) throw new ValidationError(field, `the peer's ${field} contains a NUL character, which cannot be stored`);
  }
  return {
    protocolVersion: snapshot.protocolVersion,
    serverInfo: snapshot.serverInfo as Prisma.InputJsonObject,
    instructions: snapshot.instructions,
    capabilities: snapshot.capabilities as Prisma.InputJsonObject,
    reachable: true,
    consecutiveFailures: 0,
    lastError: null,
    lastSeenAt: now,
    lastCheckedAt: now,
  };
}

export class GatewayService {
  private readonly perGateway = new KeyedMutex();

  constructor(private readonly o: GatewayServiceOptions) {}

  async register(input: GatewayInput): Promise<Gateway> {
    const valid = await validGatewayInput(input, this.o.urlPolicy);
    await this.assertNameFree(valid.name, valid.slug, null);
    const fingerprint = authFingerprint(valid.url, valid.auth, this.o.box);
    await this.assertNotDuplicate(this.o.prisma, fingerprint, null);

    const snapshot = await this.o.probe({ gatewayId: null, url: valid.url, transport: valid.transport, auth: valid.auth });
    const { gateway, events } = await this.write(async (tx) => {
      await this.assertNotDuplicate(tx, fingerprint, null, { lock: true });
      const created = await tx.gateway.create({
        data: {
          name: valid.name,
          slug: valid.slug,
          url: valid.url,
          transport: valid.transport,
          description: valid.description,
          tags: valid.tags,
          authFingerprint: fingerprint,
          ...this.sealed(valid.auth),
          ...snapshotColumns(snapshot, new Date()),
        },
      });
      const report = await syncCatalog(tx, created.id, created.slug, this.o.naming, snapshot.catalog);
      const added = await this.o.events.record(tx, 'GATEWAY_ADDED', created.id, { name: created.name, catalog: report });
      return { gateway: created, events: [added] };
    }, valid.name);
    this.o.logger.info({ gatewayId: gateway.id, url: gateway.url }, 'registered gateway');
    this.broadcast(events);
    return gateway;
  }

  async update(id: string, patch: GatewayPatch): Promise<Gateway> {
    return this.perGateway.run(id, async () => {
      const current = await this.find(id);
      const naming = patch.name != null ? validName(patch.name) : { name: current.name, slug: current.slug };
      if (naming.name !== current.name || naming.slug !== current.slug) await this.assertNameFree(naming.name, naming.slug, id);
      const url = patch.url != null ? await checkPeerUrl(patch.url, this.o.urlPolicy) : current.url;
      const transport = patch.transport ?? current.transport;
      this.requireSecretsOnMove(current, url, patch.auth);
      const auth = patch.auth ? await vetAuthUrls(validAuth(this.mergeAuth(current, patch.auth)), this.o.urlPolicy) : null;
      const reconnect = url !== current.url || transport !== current.transport || auth !== null;
      const effectiveAuth = auth ?? openAuth(current, this.o.box);
      const fingerprint = authFingerprint(url, effectiveAuth, this.o.box);
      if (reconnect) await this.assertNotDuplicate(this.o.prisma, fingerprint, id);
      // A failing peer throws here, before anything is written: the old configuration stays.
      const snapshot = reconnect ? await this.o.probe({ gatewayId: id, url, transport, auth: effectiveAuth }) : null;

      const { gateway, events } = await this.write(async (tx) => {
        if (reconnect) await this.assertNotDuplicate(tx, fingerprint, id, { lock: true });
        const updated = await tx.gateway.update({
          where: { id },
          data: {
            ...naming,
            url,
            transport,
            description: patch.description !== undefined ? validDescription(patch.description) : undefined,
            tags: patch.tags != null ? validTags(patch.tags) : undefined,
            authFingerprint: fingerprint,
            ...(auth ? this.sealed(auth) : {}),
            ...(snapshot ? snapshotColumns(snapshot, new Date()) : {}),
          },
        });
        const out: GatewayEventMessage[] = [await this.o.events.record(tx, 'GATEWAY_UPDATED', id, { name: updated.name })];
        if (snapshot) {
          const report = await syncCatalog(tx, id, updated.slug, this.o.naming, snapshot.catalog);
          if (changedAnything(report)) out.push(await this.o.events.record(tx, 'GATEWAY_CATALOG_CHANGED', id, { catalog: report }));
        } else if (updated.slug !== current.slug) {
          await this.renameEntries(tx, id, updated.slug);
        }
        return { gateway: updated, events: out };
      }, naming.name);
      this.broadcast(events);
      return gateway;
    });
  }

  async delete(id: string): Promise<Gateway> {
    return this.perGateway.run(id, async () => {
      const { gateway, events } = await this.write(async (tx) => {
        const deleted = await tx.gateway.delete({ where: { id } }).catch((error: unknown) => {
          if ((error as { code?: string }).code === 'P2025') throw new NotFoundError('gateway', id);
          throw error;
        });
        return { gateway: deleted, events: [await this.o.events.record(tx, 'GATEWAY_DELETED', id, { name: deleted.name })] };
      });
      this.broadcast(events);
      return gateway;
    });
  }

  /** Enabling reconnects and resyncs first; a peer that fails keeps the gateway disabled. */
  async setEnabled(id: string, enabled: boolean): Promise<Gateway> {
    return this.perGateway.run(id, async () => {
      const current = await this.find(id);
      if (current.enabled === enabled) return current;
      const snapshot = enabled ? await this.probeStored(current) : null;
      const { gateway, events } = await this.write(async (tx) => {
        const updated = await tx.gateway.update({
          where: { id },
          data: { enabled, ...(snapshot ? snapshotColumns(snapshot, new Date()) : {}) },
        });
        const type: EventType = enabled ? 'GATEWAY_ACTIVATED' : 'GATEWAY_DEACTIVATED';
        const out = [await this.o.events.record(tx, type, id, { name: updated.name })];
        if (snapshot) {
          const report = await syncCatalog(tx, id, updated.slug, this.o.naming, snapshot.catalog);
          if (changedAnything(report)) out.push(await this.o.events.record(tx, 'GATEWAY_CATALOG_CHANGED', id, { catalog: report }));
        }
        return { gateway: updated, events: out };
      });
      this.broadcast(events);
      return gateway;
    });
  }

  /** Resyncs now. Refreshes of one gateway queue behind each other. */
  async refresh(id: string): Promise<{ gateway: Gateway; report: SyncReport }> {
    return this.perGateway.run(id, async () => {
      const current = await this.find(id);
      const snapshot = await this.probeStored(current);
      const { gateway, report, events } = await this.write(async (tx) => {
        // Row lock: refreshes from other workers wait here rather than interleave.
        const [locked] = await tx.$queryRaw<{ fingerprint: string | null; transport: string }[]>`
          SELECT auth_fingerprint AS fingerprint, transport::text AS transport FROM gateway WHERE id = ${id}::uuid FOR UPDATE`;
        if (!locked) throw new NotFoundError('gateway', id);
        // Another worker changed the URL, transport or credentials while we probed: what we
        // hold is the old peer's catalog, and that change has already synced the new one.
        if (locked.fingerprint !== current.authFingerprint || locked.transport !== current.transport) {
          return { gateway: await tx.gateway.findUniqueOrThrow({ where: { id } }), report: emptyReport(), events: [] };
        }
        const updated = await tx.gateway.update({ where: { id }, data: snapshotColumns(snapshot, new Date()) });
        const sync = await syncCatalog(tx, id, updated.slug, this.o.naming, snapshot.catalog);
        const out = changedAnything(sync) ? [await this.o.events.record(tx, 'GATEWAY_CATALOG_CHANGED', id, { catalog: sync })] : [];
        return { gateway: updated, report: sync, events: out };
      });
      this.broadcast(events);
      return { gateway, report };
    });
  }

  async setToolEnabled(id: string, enabled: boolean) {
    return this.o.prisma.tool.update({ where: { id }, data: { enabled } }).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'P2025') throw new NotFoundError('tool', id);
      throw error;
    });
  }

  private async find(id: string): Promise<Gateway> {
    const gateway = await this.o.prisma.gateway.findUnique({ where: { id } });
    if (!gateway) throw new NotFoundError('gateway', id);
    return gateway;
  }

  private probeStored(gateway: Gateway): Promise<PeerSnapshot> {
    return this.o.probe({ gatewayId: gateway.id, url: gateway.url, transport: gateway.transport, auth: openAuth(gateway, this.o.box) });
  }

  private sealed(auth: PeerAuth) {
    const stored = sealAuth(auth, this.o.box);
    return { authType: stored.authType, authPublic: (stored.authPublic ?? undefined) as Prisma.InputJsonObject | undefined, authSecret: stored.authSecret };
  }

  /**
   * Stored secrets only ever go where they were given for: a move of the peer
   * (or of the OAuth token endpoint) to another origin must bring its secrets
   * again, or anyone with `write` could point a gateway at their own server
   * and collect the stored password.
   */
  private requireSecretsOnMove(current: Gateway, url: string, patch: GatewayPatch['auth']): void {
    const secretField = SECRET_FIELD[current.authType];
    if (!secretField) return;
    if (patch && patch.type !== openAuthType(current.authType)) return; // a new type brings its own secrets
    const origin = (value: string) => new URL(value).origin;
    const storedTokenUrl = (current.authPublic as { tokenUrl?: string } | null)?.tokenUrl;
    const patchTokenUrl = (patch as { tokenUrl?: string } | undefined)?.tokenUrl;
    const moved =
      origin(url) !== origin(current.url) || (!!storedTokenUrl && !!patchTokenUrl && origin(patchTokenUrl) !== origin(storedTokenUrl));
    const given = (patch as Record<string, unknown> | undefined)?.[secretField];
    if (moved && (given === undefined || given === null)) {
      throw new ValidationError('auth', 'the credentials would be sent to another origin: give them again (stored secrets only go where they were given for)');
    }
  }

  private mergeAuth(current: Gateway, patch: NonNullable<GatewayPatch['auth']>): PeerAuth {
    const stored = openAuth(current, this.o.box);
    if (stored.type !== patch.type) return patch as PeerAuth;
    const merged: Record<string, unknown> = { ...stored };
    for (const [key, value] of Object.entries(patch)) if (value !== undefined && value !== null) merged[key] = value;
    return merged as PeerAuth;
  }

  private async assertNameFree(name: string, slug: string, exceptId: string | null): Promise<void> {
    const taken = await this.o.prisma.gateway.findFirst({
      where: { OR: [{ name }, { slug }], ...(exceptId ? { NOT: { id: exceptId } } : {}) },
      select: { name: true },
    });
    if (taken) throw new NameConflictError(taken.name === name ? name : slug);
  }

  /**
   * Checked once before talking to the peer (fail fast) and again inside the
   * writing transaction under a lock on the fingerprint: two registrations of
   * one peer racing through the probe would otherwise both be stored, since
   * nothing in the schema makes the fingerprint unique.
   */
  private async assertNotDuplicate(db: Tx | PrismaClient, fingerprint: string, exceptId: string | null, { lock = false } = {}): Promise<void> {
    if (lock) await db.$queryRaw`SELECT 1 FROM pg_advisory_xact_lock(${LOCK_SPACE.peerFingerprint}::int, hashtext(${fingerprint}))`;
    const duplicate = await db.gateway.findFirst({
      where: { authFingerprint: fingerprint, ...(exceptId ? { NOT: { id: exceptId } } : {}) },
      select: { id: true },
    });
    if (duplicate) throw new DuplicateGatewayError(duplicate.id);
  }

  /** A rename is refused (never truncated) when an entry's new name would be too long or another gateway's. */
  private async renameEntries(tx: Tx, gatewayId: string, slug: string): Promise<void> {
    const { separator } = this.o.naming;
    const where = { gatewayId };
    const select = { originalName: true };
    const entries = [...(await tx.tool.findMany({ where, select })), ...(await tx.prompt.findMany({ where, select }))];
    for (const { originalName } of entries) namespacedName(slug, originalName, this.o.naming, 'name');
    for (const table of ['tool', 'prompt']) {
      const t = Prisma.raw(`"${table}"`);
      const taken = await tx.$queryRaw<{ name: string }[]>`
        SELECT other.name FROM ${t} AS mine JOIN ${t} AS other ON other.name = ${slug} || ${separator} || mine.original_name
        WHERE mine.gateway_id = ${gatewayId}::uuid AND other.gateway_id <> ${gatewayId}::uuid ORDER BY other.name LIMIT 1`;
      if (taken[0]) throw new NameConflictError(taken[0].name);
    }
    await tx.$executeRaw`UPDATE tool SET name = ${slug} || ${separator} || original_name, updated_at = now() WHERE gateway_id = ${gatewayId}::uuid`;
    await tx.$executeRaw`UPDATE prompt SET name = ${slug} || ${separator} || original_name, updated_at = now() WHERE gateway_id = ${gatewayId}::uuid`;
  }

  /** One transaction; a unique violation anywhere in it is a name conflict. */
  private async write<T>(work: (tx: Tx) => Promise<T>, name?: string): Promise<T> {
    try {
      return await this.o.prisma.$transaction(work, TX_OPTIONS);
    } catch (error) {
      if (isUniqueViolation(error)) throw new NameConflictError(name ?? 'an entry name');
      throw error;
    }
  }

  private broadcast(events: GatewayEventMessage[]): void {
    for (const event of events) this.o.events.broadcast(event);
  }
}
