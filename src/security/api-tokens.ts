// API tokens look like `mcpg_<id>_<secret>`: the id finds the row by primary key,
// the secret is checked against its SHA-256 in constant time. Secrets are 256
// random bits, so a fast hash is enough (no password stretching needed).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LOCK_SPACE } from '../db/advisory-locks.js';
import { ValidationError } from '../errors.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { currentActor } from './actor.js';
import { SCOPES, type Principal, type Scope } from './scopes.js';

const PREFIX = 'mcpg';
const TOKEN_PATTERN = /^mcpg_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME_MAX_LENGTH = 100;
// Updating last_used_at on every request would turn every read into a write.
const LAST_USED_RESOLUTION_MS = 60_000;

type Db = PrismaClient | Prisma.TransactionClient;

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/** Compares secrets through equal-length digests: the time taken says nothing of where they differ. */
export function equalInConstantTime(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

function compactId(uuid: string): string {
  return uuid.replaceAll('-', '');
}

function expandId(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface IssuedToken {
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: Date;
  /** The whole bearer token; shown once, never stored. */
  secret: string;
}

export class ApiTokenService {
  private readonly revokedListeners: ((tokenId: string) => void)[] = [];

  constructor(
    private readonly prisma: PrismaClient,
    private readonly adminToken: string | undefined,
    private readonly logger?: Logger,
  ) {}

  /** Told of each token this worker revokes (its open sessions end at once). */
  onRevoked(listener: (tokenId: string) => void): void {
    this.revokedListeners.push(listener);
  }

  /** Throws ValidationError for a blank or over-long name, or no (or an unknown) scope. */
  async create(name: string, scopes: Scope[], db: Db = this.prisma): Promise<IssuedToken> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > NAME_MAX_LENGTH) {
      throw new ValidationError('name', `a token name needs 1 to ${NAME_MAX_LENGTH} characters (surrounding spaces are trimmed)`);
    }
    if (scopes.length === 0) throw new ValidationError('scopes', 'a token needs at least one scope');
    const unknown = scopes.filter((scope) => !SCOPES.includes(scope));
    if (unknown.length > 0) throw new ValidationError('scopes', `unknown scopes: ${unknown.join(', ')}`);
    const secretPart = randomBytes(32).toString('base64url');
    const row = await db.apiToken.create({
      data: { name: trimmed, scopes: [...new Set(scopes)], secretHash: sha256(secretPart).toString('hex') },
    });
    const secret = `${PREFIX}_${compactId(row.id)}_${secretPart}`;
    this.logger?.info({ tokenId: row.id, name: row.name, scopes: row.scopes, actor: currentActor() }, 'created API token');
    return { id: row.id, name: row.name, scopes: row.scopes, createdAt: row.createdAt, secret };
  }

  /** Returns false when there was no such live token. */
  async revoke(id: string): Promise<boolean> {
    // Not a UUID: no such token (the database would reject the comparison as an error).
    if (!UUID_PATTERN.test(id)) return false;
    const { count } = await this.prisma.apiToken.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (count === 1) {
      this.logger?.info({ tokenId: id, actor: currentActor() }, 'revoked API token');
      for (const listener of this.revokedListeners) listener(id);
    }
    return count === 1;
  }

  /** Resolves an `Authorization` header value to a principal, or null. */
  async authenticate(header: string | null | undefined): Promise<Principal | null> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    if (!token) return null;
    if (this.adminToken && equalInConstantTime(token, this.adminToken)) {
      return { tokenId: null, name: 'ADMIN_TOKEN', scopes: new Set(SCOPES) };
    }
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return null;
    const row = await this.prisma.apiToken.findUnique({ where: { id: expandId(match[1]!) } });
    if (!row || row.revokedAt) return null;
    const presented = sha256(match[2]!);
    const stored = Buffer.from(row.secretHash, 'hex');
    if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) return null;
    this.touch(row.id, row.lastUsedAt);
    return { tokenId: row.id, name: row.name, scopes: new Set(row.scopes) };
  }

  private touch(id: string, lastUsedAt: Date | null): void {
    const now = Date.now();
    if (lastUsedAt && now - lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    // Best effort: a failed bookkeeping write must not fail the caller's request.
    this.prisma.apiToken.update({ where: { id }, data: { lastUsedAt: new Date(now) } }).catch(() => undefined);
  }

  /**
   * With no ADMIN_TOKEN and no token at all, nobody could ever call the API:
   * create an admin token and print it once.
   */
  async bootstrap(logger: Logger, announce: (message: string) => void): Promise<IssuedToken | null> {
    if (this.adminToken) return null;
    // Workers starting together on one database would each find no token and
    // each create one: look and create under one lock.
    const issued = await this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1 FROM pg_advisory_xact_lock(${LOCK_SPACE.bootstrapToken}::int, 0)`;
      if ((await tx.apiToken.count()) > 0) return null;
      return this.create('bootstrap admin', ['admin'], tx);
    });
    if (!issued) return null;
    logger.warn({ tokenId: issued.id }, 'no API token existed: created an admin token (printed once on stdout)');
    announce(`Admin API token (shown once, store it now): ${issued.secret}`);
    return issued;
  }
}
