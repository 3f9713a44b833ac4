// Looks for secrets everywhere a test can see them: every column of every row
// of every table, every GraphQL response (headers and body as sent), every log
// line the app wrote.
import { expect } from 'vitest';
import type { GqlResponse, TestApp } from './app.js';

export interface RecordingClient {
  /** Like TestApp.gql, and keeps the raw response (headers and body text). */
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>>;
  responses: string[];
}

export function recordingClient(t: TestApp): RecordingClient {
  const responses: string[] = [];
  return {
    responses,
    async gql(query, variables) {
      const response = await t.app.yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminToken}` },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      responses.push(`${JSON.stringify([...response.headers])}\n${text}`);
      return { status: response.status, ...(JSON.parse(text) as object) };
    },
  };
}

/** Every row of every table, each as PostgreSQL's text form of the whole row (all columns). */
export async function dumpDatabase(t: TestApp): Promise<string[]> {
  const tables = await t.app.db.sql.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
      ORDER BY 1, 2`,
  );
  expect(tables.map((table) => table.name)).toContain('gateway');
  const lines: string[] = [];
  for (const { schema, name } of tables) {
    const rows = await t.app.db.sql.query<{ row: string }>(`SELECT r::text AS row FROM "${schema}"."${name}" r ORDER BY 1`);
    for (const { row } of rows) lines.push(`${schema}.${name}: ${row}`);
  }
  return lines;
}

/** The forms a secret could leak in: as is, and base64-encoded (as in a Basic header). */
export function leakForms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url')];
}

/** Fails with every (place, secret, line) where one of the secrets shows. */
export function expectNoSecrets(places: Record<string, string[]>, secrets: Record<string, string>): void {
  const hits: string[] = [];
  for (const [place, lines] of Object.entries(places)) {
    for (const [label, secret] of Object.entries(secrets)) {
      for (const form of leakForms(secret)) {
        for (const line of lines) if (line.includes(form)) hits.push(`${label} in ${place}: ${line.slice(0, 300)}`);
      }
    }
  }
  expect(hits).toEqual([]);
}
