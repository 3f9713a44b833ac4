// What the registry asks of a peer (connect, list everything, disconnect) and
// the columns of the gateway row that record the answer.
import { ValidationError } from '../errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Transport } from '../generated/prisma/enums.js';
import type { SecretBox } from '../security/secret-box.js';
import { openAuth } from './auth-storage.js';
import { hasNul, type PeerCatalog } from './catalog-sync.js';
import type { PeerAuth } from './peer-auth.js';

/** What connecting to a peer and listing its catalog yields. */
export interface PeerSnapshot {
  /** The transport the session used: what AUTO resolved to, or the one asked for. */
  transport: Exclude<Transport, 'AUTO'>;
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

/** Connects, lists everything, disconnects; throws PeerConnectionError. The signal ends it early. */
export type PeerProbe = (target: PeerTarget, signal?: AbortSignal) => Promise<PeerSnapshot>;

/** The gateway's columns after a successful probe: what it said, and that it answered. */
export function snapshotColumns(snapshot: PeerSnapshot, now: Date) {
  for (const field of ['protocolVersion', 'serverInfo', 'instructions', 'capabilities'] as const) {
    if (hasNul(snapshot[field])) throw new ValidationError(field, `the peer's ${field} contains a NUL character, which cannot be stored`);
  }
  return {
    negotiatedTransport: snapshot.transport,
    protocolVersion: snapshot.protocolVersion,
    serverInfo: snapshot.serverInfo as Prisma.InputJsonObject,
    instructions: snapshot.instructions,
    capabilities: snapshot.capabilities as Prisma.InputJsonObject,
    reachable: true,
    consecutiveFailures: 0,
    lastError: null,
    lastSeenAt: now,
    lastCheckedAt: now,
    catalogSyncedAt: now,
    // It answered: any back-off of the health checker starts over.
    nextCheckAt: null,
  };
}

/** The gateway columns storedTarget needs (and a pooled session's key, authFingerprint). */
export const TARGET_COLUMNS = {
  id: true,
  url: true,
  transport: true,
  authType: true,
  authPublic: true,
  authSecret: true,
  authFingerprint: true,
} as const;

/** How to reach a stored gateway, with its credentials opened. */
export function storedTarget(gateway: Parameters<typeof openAuth>[0] & { id: string; url: string; transport: Transport }, box: SecretBox): PeerTarget {
  return { gatewayId: gateway.id, url: gateway.url, transport: gateway.transport, auth: openAuth(gateway, box) };
}
