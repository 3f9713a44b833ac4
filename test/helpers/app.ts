// An app on a throw-away database, with an admin token, for API tests.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { Database } from '../../src/db/database.js';
import { testDatabase, type Backend } from './db.js';

/** A logger that writes nowhere: for apps and services whose logs a test does not read. */
export function silentLogger(level: Config['LOG_LEVEL'] = 'fatal') {
  return createLogger(level, new Writable({ write: (_chunk, _encoding, done) => done() }));
}

export interface TestApp {
  app: App;
  adminToken: string;
  /** Everything the app logged, one JSON line each (tests scan it for secrets). */
  logs: string[];
  /** Runs an operation in-process through yoga.fetch (no port needed). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResponse<T>>;
  /** gql() for a typed document from test/gql (codegen): result and variables are typed. */
  request<T, V>(document: TypedDocumentNode<T, V>, variables?: V, token?: string | null): Promise<GqlResponse<T>>;
  close(): Promise<void>;
}

export interface GqlResponse<T> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: Record<string, any> }[];
}

export interface TestAppOptions {
  backend?: Backend;
  env?: Record<string, string>;
  onQuery?: (sql: string) => void;
  /** Run on this database instead of a new one (several workers on one database); the app closes it. */
  database?: Database;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const adminToken = `test-admin-${randomBytes(24).toString('hex')}`;
  const config: Config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'debug',
    ADMIN_TOKEN: adminToken,
    SECRET_KEY: randomBytes(32).toString('base64'),
    // Background checks would add requests that suites counting a peer's requests do not expect;
    // the health suites turn them on.
    HEALTH_CHECKS: 'false',
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const database = options.database ?? (await testDatabase(options.backend ?? 'pglite', { onQuery: options.onQuery }));
  const app = await createApp(config, { database, logger: createLogger(config.LOG_LEVEL, sink), announce: () => undefined });
  const gql: TestApp['gql'] = async (query, variables, token = adminToken) => {
    const response = await app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, ...((await response.json()) as object) };
  };
  return {
    app,
    adminToken,
    logs,
    gql,
    request: (document, variables, token) => gql(print(document), variables as Record<string, unknown> | undefined, token),
    close: () => app.close(),
  };
}
