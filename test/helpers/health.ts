// The health checker as tests see it: waiting on conditions (never on the
// clock), the checker's status, one gateway's stored health, manual checks,
// and an HTTP server that holds each request until the test lets it go.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startTestApp, type TestApp } from './app.js';
import { closeServer, peerPool, type TestPeer } from './peers.js';
import { deleteGateway, PEER_ENV, registered, uuidOf, type RegisterInput } from './registry.js';

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls `probe` until it returns something truthy, and returns that; fails after `timeoutMs`. */
export async function until<T>(probe: () => T | Promise<T>, timeoutMs = 15_000, what = 'a condition', everyMs = 20): Promise<Truthy<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Truthy<T>;
    if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const STATUS = /* GraphQL */ `
  {
    healthChecker {
      instanceId leading mode listChangedSessions nextSweepAt
      leader { instanceId term since }
      lastSweep { startedAt finishedAt checked failed durationMs }
    }
  }
`;

export async function checkerStatus(t: TestApp): Promise<any> {
  const { data, errors } = await t.gql(STATUS);
  expect(errors).toBeUndefined();
  return data.healthChecker;
}

/** Waits until `count` more sweeps have been recorded (at least; polling may merge two). */
export async function sweepsPass(t: TestApp, count: number, timeoutMs = 15_000): Promise<void> {
  let last = (await checkerStatus(t)).lastSweep?.startedAt;
  let seen = 0;
  await until(
    async () => {
      const now = (await checkerStatus(t)).lastSweep?.startedAt;
      if (now !== last) [last, seen] = [now, seen + 1];
      return seen >= count;
    },
    timeoutMs,
    `${count} more sweeps`,
  );
}

/** Waits until a sweep that started after `instant` (ms since the epoch) has been recorded; returns it. */
export function sweepStartedAfter(t: TestApp, instant: number, timeoutMs = 15_000): Promise<any> {
  return until(
    async () => {
      const sweep = (await checkerStatus(t)).lastSweep;
      return sweep && Date.parse(sweep.startedAt) > instant ? sweep : undefined;
    },
    timeoutMs,
    'a sweep that started after the change',
  );
}

/** The stored row of a gateway (by global id); null once deleted. */
export const gatewayRow = (t: TestApp, globalId: string) => t.app.db.prisma.gateway.findUnique({ where: { id: uuidOf(globalId) } });

/** Stored events of a gateway, oldest first. */
export const eventsOf = (t: TestApp, globalId: string) =>
  t.app.db.prisma.gatewayEvent.findMany({ where: { gatewayId: uuidOf(globalId) }, orderBy: { id: 'asc' } });

const CHECK = /* GraphQL */ `
  mutation Check($id: ID!) {
    checkGatewayHealth(id: $id) {
      __typename
      ... on Error { message }
      ... on NotFoundError { id }
      ... on GatewayDisabledError { gatewayId }
      ... on AuthorizationError { requiredScopes }
      ... on CheckGatewayHealthSuccess {
        ok latencyMs reason error status
        gateway { id status reachable consecutiveFailures lastError lastCheckedAt lastLatencyMs nextCheckAt }
      }
    }
  }
`;

/** checkGatewayHealth; fails the test on GraphQL-level errors. */
export async function checkHealth(t: TestApp, id: string, token?: string): Promise<any> {
  const response = await t.gql(CHECK, { id }, token);
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  return response.data.checkGatewayHealth;
}

export interface HoldingServer {
  url: string;
  /** Requests that arrived and have not been answered, oldest first. */
  held: ServerResponse[];
  /** Answers a held request (default: all of them) with the server's status. */
  release(response?: ServerResponse): void;
  close(): Promise<void>;
}

/** Not an MCP server: every request waits until released, then gets `status` with a text body. */
export async function holdingServer(port: number, status = 503): Promise<HoldingServer> {
  const held: ServerResponse[] = [];
  const http = createServer((req, res) => {
    req.resume();
    held.push(res);
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const answer = (res: ServerResponse) => {
    if (!res.writableEnded) res.writeHead(status, { 'content-type': 'text/plain' }).end('not now');
  };
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    held,
    release(response) {
      for (const res of response ? [response] : held.slice()) {
        const at = held.indexOf(res);
        if (at >= 0) held.splice(at, 1);
        answer(res);
      }
    },
    close: () => closeServer(http),
  };
}

/** Holds every `ping` a peer receives while on; give its `beforeAnswer` to startPeer. */
export function pingHold() {
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  let held = 0;
  return {
    beforeAnswer: async (method: string) => {
      if (method !== 'ping' || !gate) return;
      held++;
      await gate;
    },
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open();
    },
    /** Pings held since the test began. */
    held: () => held,
  };
}

/**
 * For a describe block: one app with the health checker on (intervals from
 * `env`, checks all at the start of a sweep), peers started per test, and the
 * gateways registered through `register` deleted after each test, so that
 * later sweeps do not go on checking them.
 */
export function healthSuite(env: Record<string, string>) {
  const gateways: string[] = [];
  const suite = {
    t: undefined as unknown as TestApp,
    pool: peerPool(),
    async register(name: string, peer: TestPeer, extra: Partial<RegisterInput> = {}) {
      const gateway = await registered(suite.t, { name, url: peer.url, ...extra });
      gateways.push(gateway.id);
      return gateway;
    },
  };
  beforeAll(async () => {
    suite.t = await startTestApp({ env: { ...PEER_ENV, HEALTH_CHECKS: 'true', HEALTH_CHECK_SPREAD_PERCENT: '0', ...env } });
  });
  afterEach(async () => {
    for (const id of gateways.splice(0)) if (await gatewayRow(suite.t, id)) await deleteGateway(suite.t, id);
    await suite.pool.closeAll();
  });
  afterAll(() => suite.t?.close());
  return suite;
}
