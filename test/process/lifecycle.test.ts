// The service as users run it: a first start with `npm start` on an empty data
// directory (the build, the compiled bundle, the database created by a child
// process), a second process refused on the same directory, a graceful SIGTERM
// through npm, a restart.
// The steps share one data directory and run in order; a fresh on-disk PGlite
// costs seconds, so there is exactly one of them.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { readMigrations } from '../../src/db/migrator.js';
import { killAllMain, startMain, type MainProcess } from '../helpers/process.js';
import { subscribeWs, wsClient } from '../helpers/subscriptions.js';

const TOKEN_LINE = /^Admin API token \(shown once, store it now\): (mcpg_\S+)$/m;
const VIEWER = '{ viewer { name scopes } }';
const EVENTS = 'subscription { gatewayEvents { type } }';
// Starting on a new data directory creates the database: slow on a busy machine.
const START_TIMEOUT = 120_000;

async function graphql(url: string, token: string | null, query = VIEWER) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: unknown[] } };
}

/** pino's JSON lines among main's stdout. */
function logLines(stdout: string): { msg?: string; [key: string]: unknown }[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string });
}

/**
 * A POST whose headers have reached the server (it answered 100 Continue) and
 * whose body is only half sent: an in-flight request for as long as we like.
 */
function halfSentRequest(url: string, token: string, body: string) {
  const req = request(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      authorization: `Bearer ${token}`,
      expect: '100-continue',
    },
  });
  const half = Math.floor(body.length / 2);
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      res.on('error', reject);
    });
  });
  const started = new Promise<void>((resolve, reject) => {
    req.once('error', reject);
    req.once('continue', () => {
      req.write(body.slice(0, half));
      resolve();
    });
  });
  response.catch(() => undefined); // a test that fails earlier must not leave an unhandled rejection
  req.flushHeaders();
  return { started, response, finish: () => req.end(body.slice(half)) };
}

/**
 * An SSE subscription over a keep-alive agent of one socket: once the server
 * ends the stream, the next request through `agent` goes to that same socket if
 * the server left it open.
 */
function sseOverKeepAlive(url: string, token: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const body = JSON.stringify({ query: EVENTS });
  return new Promise<{ status: number; ended: Promise<void>; agent: Agent }>((resolve, reject) => {
    const req = request(`${url}/graphql`, {
      method: 'POST',
      agent,
      headers: {
        accept: 'text/event-stream',
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        authorization: `Bearer ${token}`,
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const ended = new Promise<void>((done, failed) => {
        res.on('end', done);
        res.on('error', failed);
      });
      res.resume();
      resolve({ status: res.statusCode!, ended, agent });
    });
    req.end(body);
  });
}

/** GET through `agent`; resolves with the status, rejects if no server answers. */
function getWith(agent: Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('src/main.ts lifecycle', () => {
  let dataDir: string;
  let first: MainProcess;
  let url: string;
  let token: string;
  const clients: Client[] = [];

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await killAllMain();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts with no configuration but a data directory: PGlite there, migrations, one admin token, GraphiQL', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mcpg-lifecycle-'));
    first = startMain({ DATA_DIR: dataDir, PORT: '0', SHUTDOWN_TIMEOUT_MS: '30000' }, { npmStart: true });
    url = await first.listening(START_TIMEOUT);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const graphiqlUrl = (await first.waitForStdout(/^GraphiQL: (\S+)/m))[1];
    expect(graphiqlUrl).toBe(`${url}/graphql`);
    // The last line main prints once it is up.
    expect((await first.waitForStdout(/^MCP endpoint: (\S+)/m))[1]).toBe(`${url}/mcp`);

    const stdout = first.stdout();
    const tokens = [...stdout.matchAll(new RegExp(TOKEN_LINE, 'gm'))].map((m) => m[1]!);
    expect(tokens).toHaveLength(1);
    token = tokens[0]!;
    // Printed once: nowhere else on stdout, and not on stderr.
    expect(stdout.split(token)).toHaveLength(2);
    expect(first.stderr()).not.toContain(token);

    const migrations = (await readMigrations()).map((m) => m.name);
    const applied = logLines(stdout).find((line) => line.msg === 'applied database migrations');
    expect(applied?.applied).toEqual(migrations);
    expect(existsSync(join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    const graphiql = await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });
    expect(graphiql.status).toBe(200);
    expect(await graphiql.text()).toMatch(/<title>MCP federation control plane<\/title>/);

    const viewer = await graphql(url, token);
    expect(viewer.status).toBe(200);
    expect(viewer.body.data.viewer).toEqual({ name: 'bootstrap admin', scopes: ['admin'] });
    expect((await graphql(url, null)).status).toBe(401);
  }, START_TIMEOUT);

  it('refuses a second process on the same data directory at once, and the first keeps serving', async () => {
    const second = startMain({ DATA_DIR: dataDir, PORT: '0' });
    const { code } = await second.exited;
    expect(code).toBe(1);
    expect(second.stderr()).toMatch(/^cannot start: data directory \S+ is in use by another process/m);
    expect(second.stderr()).toContain(join(dataDir, 'pglite'));
    expect(second.stdout()).not.toMatch(/listening on|Admin API token/);

    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await graphql(url, token)).body.data.viewer.scopes).toEqual(['admin']);
  }, START_TIMEOUT);

  it('on SIGTERM stops accepting, closes WebSockets with 1001, ends SSE streams, finishes the in-flight request, exits 0', async () => {
    // A WebSocket subscriber.
    let wsClose: (code: number) => void;
    const wsClosed = new Promise<number>((resolve) => (wsClose = resolve));
    let connected: () => void;
    const wsConnected = new Promise<void>((resolve) => (connected = resolve));
    const client = wsClient(url, token, {
      on: { connected: () => connected(), closed: (event) => wsClose((event as { code: number }).code) },
    });
    clients.push(client);
    subscribeWs(client, EVENTS);
    await wsConnected;

    // An SSE subscriber: a response that never ends by itself.
    const sse = await sseOverKeepAlive(url, token);
    expect(sse.status).toBe(200);

    // A plain query, caught in the middle of its body.
    const inFlight = halfSentRequest(url, token, JSON.stringify({ query: VIEWER }));
    await inFlight.started;

    first.kill('SIGTERM');
    expect(await wsClosed).toBe(1001);
    await sse.ended; // resolves only when the server ends the stream
    // Nobody new gets in while the rest drains: not through a new connection
    // (the listener is closed), nor through the SSE stream's kept-alive one.
    await expect(getWith(new Agent(), `${url}/healthz`)).rejects.toThrow();
    await expect(getWith(sse.agent, `${url}/healthz`)).rejects.toThrow();

    // Shutdown is now waiting on this request alone; it still gets its answer.
    inFlight.finish();
    const response = await inFlight.response;
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).data.viewer.scopes).toEqual(['admin']);

    expect(await first.exited).toEqual({ code: 0, signal: null });
    const messages = logLines(first.stdout()).map((line) => line.msg);
    expect(messages).toContain('stopped');
    expect(messages).not.toContain('shutdown timeout: closing the remaining connections');
  }, START_TIMEOUT);

  it('restarts on the same data directory: no migration re-applied, no new token, the old token still works; SIGINT stops it', async () => {
    expect(first.child.exitCode, 'the first process should have stopped in the previous step').toBe(0);
    const again = startMain({ DATA_DIR: dataDir, PORT: '0' });
    const againUrl = await again.listening(START_TIMEOUT);
    const stdout = again.stdout();
    expect(stdout).not.toMatch(TOKEN_LINE);
    expect(logLines(stdout).map((line) => line.msg)).not.toContain('applied database migrations');

    expect((await fetch(`${againUrl}/readyz`)).status).toBe(200);
    expect((await graphql(againUrl, token)).body.data.viewer).toEqual({ name: 'bootstrap admin', scopes: ['admin'] });

    // Ctrl-C in a terminal: SIGINT stops it as cleanly as SIGTERM.
    again.kill('SIGINT');
    expect(await again.exited).toEqual({ code: 0, signal: null });
    const lines = logLines(again.stdout());
    expect(lines.find((line) => line.msg === 'shutting down')?.signal).toBe('SIGINT');
    expect(lines.map((line) => line.msg)).toContain('stopped');

    // The directory itself, now that its lock is released: each migration
    // recorded once, and still the single token of the first start.
    const db = await openDatabase({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
    try {
      const rows = await db.sql.query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name');
      expect(rows.map((r) => r.migration_name)).toEqual((await readMigrations()).map((m) => m.name));
      expect(await db.prisma.apiToken.count()).toBe(1);
    } finally {
      await db.close();
    }
  }, START_TIMEOUT);

  it('refuses to start with a SECRET_KEY other than the generated key the directory was first used with', async () => {
    const other = startMain({ DATA_DIR: dataDir, PORT: '0', SECRET_KEY: randomBytes(32).toString('base64') });
    const { code } = await other.exited;
    expect(code).toBe(1);
    expect(other.stderr()).toMatch(/^cannot start: the secret key differs from the one this database's peer credentials are sealed with/m);
    expect(other.stderr()).toContain('DATA_DIR/secret.key');
    expect(other.stdout()).not.toMatch(/listening on/);
  }, START_TIMEOUT);
});
