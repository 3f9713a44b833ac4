// Who this deployment is among gateways, so that a loop (A registers B, B
// registers A, or a longer ring) is refused at registration rather than found
// by a call going round for ever. Each deployment (one database) has a random
// federation id. Its /mcp advertises, as an experimental capability, that id
// and every id it reaches: its own and those its peers advertised when they
// were last synced. A peer that reaches us is refused (FederationLoopError).
// Calls also carry a hop count (MCP_MAX_HOPS), for rings formed behind our back.
import { randomUUID } from 'node:crypto';
import { FederationLoopError } from '../errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';

/** The experimental capability (and _meta prefix) of this project's federation facts. */
export const FEDERATION_CAPABILITY = 'io.github.mcp-federation';
/** `_meta` key of a forwarded request: how many gateways it has already passed through. */
export const HOPS_META = `${FEDERATION_CAPABILITY}/hops`;
/** Most ids one gateway advertises or keeps from a peer: enough for any real federation, bounded against a hostile one. */
export const MAX_REACH = 1_000;

const SETTING = 'federation.id';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The federation ids a peer says it reaches (its experimental capability), bounded; [] when it says nothing. */
export function peerReach(capabilities: Record<string, unknown> | null | undefined): string[] {
  const experimental = capabilities?.experimental as Record<string, unknown> | undefined;
  const facts = experimental?.[FEDERATION_CAPABILITY] as { reaches?: unknown } | undefined;
  if (!Array.isArray(facts?.reaches)) return [];
  return facts.reaches.filter((id): id is string => typeof id === 'string' && UUID.test(id)).slice(0, MAX_REACH);
}

export class FederationIdentity {
  private constructor(
    private readonly prisma: PrismaClient,
    readonly id: string,
  ) {}

  /** This deployment's id, created by the first worker that starts on the database. */
  static async load(prisma: PrismaClient): Promise<FederationIdentity> {
    await prisma.setting.createMany({ data: [{ name: SETTING, value: randomUUID() }], skipDuplicates: true });
    const row = await prisma.setting.findUniqueOrThrow({ where: { name: SETTING } });
    return new FederationIdentity(prisma, row.value);
  }

  /** Refuses a peer that reaches this deployment: registering it would close a ring. */
  assertNoLoop(capabilities: Record<string, unknown> | null | undefined): void {
    if (peerReach(capabilities).includes(this.id)) throw new FederationLoopError();
  }

  /** Every federation id reachable from here, this one first (the capability /mcp advertises). */
  async reaches(): Promise<string[]> {
    const gateways = await this.prisma.gateway.findMany({ select: { capabilities: true }, where: { enabled: true } });
    const ids = new Set([this.id]);
    for (const gateway of gateways) {
      for (const id of peerReach(gateway.capabilities as Record<string, unknown> | null)) {
        if (ids.size >= MAX_REACH) break;
        ids.add(id);
      }
    }
    return [...ids];
  }
}
