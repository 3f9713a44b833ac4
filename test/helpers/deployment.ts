// Workers of one deployment as child processes (src/main.ts) on a fresh
// PostgreSQL database, for the health checker's leader-election suites: their
// GraphQL, their pino lines, and the database read directly.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { expect } from 'vitest';
import { createPostgresDatabase } from './db.js';
import { until as untilTruthy } from './health.js';
import { startPeer, type TestPeer } from './peers.js';
import { startMain, type MainProcess } from './process.js';
import { PEER_ENV } from './registry.js';

export const ADMIN_TOKEN = `health-workers-${randomBytes(16).toString('hex')}`;

/** Starting a worker loads Prisma and Pothos: seconds on a busy machine, more for several at once. */
export const START_TIMEOUT = 60_000;

export interface LogLine {
  msg: string;
  level: number;
  time: number;
  [key: string]: unknown;
}

/** pino's JSON lines among a worker's stdout. */
export function logLines(stdout: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of stdout.split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      // a line still being written
    }
  }
  return lines;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** until() of helpers/health.ts with the description first, as these suites read best. */
export function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 15_000, everyMs = 50) {
  return untilTruthy(probe, timeoutMs, what, everyMs);
}

export interface HealthStatus {
  instanceId: string;
  leading: boolean;
  mode: string | null;
  leader: { instanceId: string; term: number; since: string } | null;
  lastSweep: { checked: number; failed: number; startedAt: string; finishedAt: string } | null;
}

const STATUS = /* GraphQL */ `{
  healthChecker { instanceId leading mode leader { instanceId term since } lastSweep { checked failed startedAt finishedAt } }
}`;

export class Worker {
  constructor(
    readonly main: MainProcess,
    readonly url: string,
    readonly instanceId: string,
  ) {}

  get pid(): number {
    return this.main.child.pid!;
  }

  async gql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data;
  }

  async status(): Promise<HealthStatus> {
    return (await this.gql(STATUS)).healthChecker as HealthStatus;
  }

  lines(from = 0): LogLine[] {
    return logLines(this.main.stdout().slice(from));
  }

  /** Where stdout ends now: lines after this mark are the ones printed from now on. */
  mark(): number {
    return this.main.stdout().length;
  }

  /** The first log line after `from` that matches; rejects when the process ends first or after `timeoutMs`. */
  async waitForLog(match: (line: LogLine) => boolean, { from = 0, timeoutMs = 15_000 } = {}): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines(from).find(match);
      if (line) return line;
      if (this.main.child.exitCode !== null || this.main.child.signalCode !== null || Date.now() > deadline) {
        throw new Error(
          `no matching log line on worker ${this.instanceId} after ${timeoutMs} ms\n--- stdout\n${this.main.stdout().slice(from)}--- stderr\n${this.main.stderr()}`,
        );
      }
      await sleep(25);
    }
  }

  async register(name: string, url: string): Promise<string> {
    const data = await this.gql(
      /* GraphQL */ `mutation ($input: RegisterGatewayInput!) {
        registerGateway(input: $input) { __typename ... on Error { message } ... on RegisterGatewaySuccess { gateway { id } } }
      }`,
      { input: { name, url } },
    );
    expect(data.registerGateway.__typename, JSON.stringify(data.registerGateway)).toBe('RegisterGatewaySuccess');
    return data.registerGateway.gateway.id as string;
  }
}

export interface GatewayRow {
  id: string;
  consecutive_failures: number;
  reachable: boolean;
  last_checked_at: Date | null;
  last_latency_ms: number | null;
  last_error: string | null;
}

export interface LeadershipDbRow {
  term: string;
  holder: string | null;
  expires_at: Date | null;
}

export interface Deployment {
  url: string;
  prefix: string;
  /** The SECRET_KEY of every worker (an in-process app on this database needs it too). */
  secretKey: string;
  sql: pg.Client;
  workers: Worker[];
  /** Starts `count` workers at once, with `env` on top of the deployment's. */
  start(count: number, env?: Record<string, string>): Promise<Worker[]>;
  gateway(name: string): Promise<GatewayRow>;
  leadership(): Promise<LeadershipDbRow>;
  /** The only worker that says it leads, once every live one agrees who leads. */
  leader(timeoutMs?: number): Promise<Worker>;
  close(): Promise<void>;
}

/**
 * A fresh database and the environment every worker of this deployment shares:
 * one admin token, one secret key, debug logs ('health check' lines), checks
 * all at the start of each sweep, peers that answer or fail at once.
 */
export async function deployment(env: Record<string, string>): Promise<Deployment> {
  const database = await createPostgresDatabase();
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  const prefix = `health-${randomUUID()}`;
  const shared: Record<string, string> = {
    DATABASE_URL: database.url,
    PORT: '0',
    ADMIN_TOKEN,
    SECRET_KEY: randomBytes(32).toString('base64'),
    REDIS_CHANNEL_PREFIX: prefix,
    LOG_LEVEL: 'debug',
    HEALTH_CHECK_SPREAD_PERCENT: '0',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...PEER_ENV,
    ...env,
  };
  const workers: Worker[] = [];
  const alive = () => workers.filter((w) => w.main.child.exitCode === null && w.main.child.signalCode === null);
  const self: Deployment = {
    url: database.url,
    prefix,
    secretKey: shared.SECRET_KEY!,
    sql,
    workers,
    async start(count, extra = {}) {
      const mains = Array.from({ length: count }, () => startMain({ ...shared, ...extra }));
      const started = await Promise.all(
        mains.map(async (main) => {
          const url = await main.listening(START_TIMEOUT);
          const response = await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
            body: JSON.stringify({ query: '{ healthChecker { instanceId } }' }),
          });
          const { data } = (await response.json()) as { data: { healthChecker: { instanceId: string } } };
          return new Worker(main, url, data.healthChecker.instanceId);
        }),
      );
      workers.push(...started);
      return started;
    },
    async gateway(name) {
      const { rows } = await sql.query<GatewayRow>(
        `SELECT id, consecutive_failures, reachable, last_checked_at, last_latency_ms, last_error FROM gateway WHERE name = $1`,
        [name],
      );
      return rows[0]!;
    },
    async leadership() {
      const { rows } = await sql.query<LeadershipDbRow>(`SELECT term::text AS term, holder, expires_at FROM leadership WHERE name = 'health-checker'`);
      return rows[0]!;
    },
    async leader(timeoutMs = 20_000) {
      return until(
        'exactly one leader that every worker names',
        async () => {
          const live = alive();
          const statuses = await Promise.all(live.map((w) => w.status()));
          const leading = live.filter((_, i) => statuses[i]!.leading);
          if (leading.length !== 1) return undefined;
          const named = new Set(statuses.map((s) => s.leader?.instanceId ?? null));
          return named.size === 1 && named.has(leading[0]!.instanceId) ? leading[0] : undefined;
        },
        timeoutMs,
        100,
      );
    },
    async close() {
      await Promise.all(
        workers.map(async (w) => {
          if (w.main.child.exitCode !== null || w.main.child.signalCode !== null) return;
          w.main.kill('SIGCONT'); // a stopped process cannot die until it runs again
          w.main.kill('SIGKILL');
          await w.main.exited;
        }),
      );
      await sql.end().catch(() => undefined);
      await database.drop();
    },
  };
  return self;
}

/** The 'health check' lines of one gateway in a worker's stdout. */
export function checksOf(worker: Worker, gatewayId: string, from = 0): LogLine[] {
  return worker.lines(from).filter((line) => line.msg === 'health check' && line.gatewayId === gatewayId);
}

export interface HeldPeer extends TestPeer {
  /** Resolves when the first ping has arrived: it waits, unanswered, until release(). */
  held: Promise<void>;
  /** Lets the held ping be answered; resolves once the answer has had time to be sent. */
  release(): Promise<void>;
}

/** A peer that holds the first ping it gets (the leader's check of it); later ones are answered at once. */
export async function heldPeer(): Promise<HeldPeer> {
  let reached!: () => void;
  let open!: () => void;
  const held = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (open = resolve));
  let answering: Promise<void> | undefined;
  let first = true;
  const peer = await startPeer({
    tools: 1,
    beforeAnswer: async (method) => {
      if (method !== 'ping' || !first) return;
      first = false;
      reached();
      answering = released;
      await released;
    },
  });
  return {
    ...peer,
    held,
    release: async () => {
      open();
      await answering;
      // The SDK server answers right after the hook returns: a few ms, even on a loaded machine.
      await sleep(200);
    },
  };
}
