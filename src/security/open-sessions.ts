// Connections that outlive the request that authenticated them (graphql-ws
// sockets, SSE subscriptions), by the API token they were opened with. A
// revoked (or deleted) token ends them: at once on the worker that revoked it,
// and within REVALIDATE_MS on every other worker, which learn it from the
// database rather than from Redis, so that revocation holds even while Redis
// is away.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';

/** How often open sessions' tokens are checked again: "within a second or two". */
export const REVALIDATE_MS = 1_000;

type End = () => void;

export class OpenSessions {
  private readonly byToken = new Map<string, Set<End>>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private checking = false;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
    private readonly intervalMs = REVALIDATE_MS,
  ) {}

  /** Remembers a session of `tokenId` (null: ADMIN_TOKEN, never revoked); returns what forgets it. */
  add(tokenId: string | null, end: End): () => void {
    if (tokenId === null) return () => undefined;
    let ends = this.byToken.get(tokenId);
    if (!ends) this.byToken.set(tokenId, (ends = new Set()));
    ends.add(end);
    this.timer ??= setInterval(() => void this.revalidate(), this.intervalMs);
    return () => {
      ends.delete(end);
      if (ends.size === 0 && this.byToken.get(tokenId) === ends) this.byToken.delete(tokenId);
      if (this.byToken.size === 0) this.pause();
    };
  }

  /** Ends every open session of this token now (the worker that revoked it). */
  revoked(tokenId: string): void {
    const ends = this.byToken.get(tokenId);
    if (!ends) return;
    this.byToken.delete(tokenId);
    this.logger.info({ tokenId, sessions: ends.size }, 'ended the open sessions of a revoked API token');
    for (const end of ends) end();
    if (this.byToken.size === 0) this.pause();
  }

  get size(): number {
    let n = 0;
    for (const ends of this.byToken.values()) n += ends.size;
    return n;
  }

  close(): void {
    this.pause();
    this.byToken.clear();
  }

  private pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One query for every token with an open session: those no longer live are ended. */
  private async revalidate(): Promise<void> {
    if (this.checking || this.byToken.size === 0) return;
    this.checking = true;
    try {
      const ids = [...this.byToken.keys()];
      const live = await this.prisma.apiToken.findMany({ where: { id: { in: ids }, revokedAt: null }, select: { id: true } });
      const alive = new Set(live.map((row) => row.id));
      for (const id of ids) if (!alive.has(id)) this.revoked(id);
    } catch (error) {
      // The database is away: nothing can be learnt now; the next tick tries again.
      this.logger.warn({ err: error }, 'could not check the tokens of open sessions');
    } finally {
      this.checking = false;
    }
  }
}
