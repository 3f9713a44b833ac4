// Suites that need the real PostgreSQL or Redis skip, saying why, on a machine
// without them; under CI or REQUIRE_SERVICES a missing service fails the run
// instead, so a broken CI machine cannot pass by skipping everything.
import { Redis } from 'ioredis';
import pg from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type Service = 'postgres' | 'redis';

const PROBE_TIMEOUT_MS = 2_000;

async function probePostgres(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeRedis(): Promise<string | undefined> {
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // connect() only says "Connection is closed."; the cause arrives as an event.
  let cause: Error | undefined;
  redis.on('error', (error: Error) => (cause ??= error));
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return (cause ?? (error as Error)).message || String(error);
  } finally {
    redis.disconnect();
  }
}

// Probed once per worker, at import, so that describe.runIf() can decide synchronously.
const [postgresError, redisError] = await Promise.all([probePostgres(), probeRedis()]);
const problems: Record<Service, string | undefined> = { postgres: postgresError, redis: redisError };
const where: Record<Service, string> = { postgres: redact(TEST_DATABASE_URL), redis: redact(TEST_REDIS_URL) };

// The URLs may carry passwords; messages must not.
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable URL>';
  }
}

export async function postgresAvailable(): Promise<boolean> {
  return problems.postgres === undefined;
}

export async function redisAvailable(): Promise<boolean> {
  return problems.redis === undefined;
}

export const servicesRequired = Boolean(process.env.CI || process.env.REQUIRE_SERVICES);

const warned = new Set<Service>();

/**
 * For `describe.runIf(requireServices('postgres'))(...)`: true when every named
 * service answers. Otherwise it throws under CI / REQUIRE_SERVICES (the file
 * fails), or warns once and returns false (the suite is skipped).
 */
export function requireServices(...services: Service[]): boolean {
  const missing = services.filter((s) => problems[s] !== undefined);
  if (missing.length === 0) return true;
  const detail = missing.map((s) => `${s} at ${where[s]} (${problems[s]})`).join('; ');
  if (servicesRequired) {
    throw new Error(`required test services are unreachable: ${detail}. CI/REQUIRE_SERVICES is set, so this fails instead of skipping.`);
  }
  for (const s of missing) {
    if (warned.has(s)) continue;
    warned.add(s);
    console.warn(`[tests] ${s} at ${where[s]} is unreachable (${problems[s]}): suites that need it are SKIPPED. Set CI or REQUIRE_SERVICES to make this an error.`);
  }
  return false;
}
