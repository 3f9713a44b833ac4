// Starts that cannot succeed end at once with one line on stderr and exit 1:
// a port in use (and then no admin token was created, so the next start
// prints it), a DATA_DIR that is a file or cannot be created.
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { createPostgresDatabase } from '../helpers/db.js';
import { killAllMain, startMain } from '../helpers/process.js';
import { requireServices } from '../helpers/services.js';

const TOKEN_LINE = /^Admin API token \(shown once, store it now\): mcpg_\S+$/m;
const dirs: string[] = [];
afterAll(async () => {
  await killAllMain();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The one line main.ts prints for a start it refuses; nothing like a stack trace. */
function refusal(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describe.runIf(requireServices('postgres'))('a port already in use', () => {
  test('exits 1 with one line, creates no admin token, and the next start prints it', async () => {
    const { url, drop } = await createPostgresDatabase();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const sql = new pg.Client({ connectionString: url });
    try {
      const env = { DATABASE_URL: url, HEALTH_CHECKS: 'false' };
      const refused = startMain({ ...env, PORT: String(port) });
      expect((await refused.exited).code).toBe(1);
      expect(refusal(refused.stderr())).toBe(`cannot start: cannot listen on 127.0.0.1:${port}: the address is already in use (another process listens on this port)`);
      expect(refused.stdout()).not.toMatch(TOKEN_LINE);
      await sql.connect();
      expect((await sql.query('SELECT count(*)::int AS n FROM api_token')).rows[0].n).toBe(0);

      const next = startMain({ ...env, PORT: '0' });
      await next.listening();
      expect(next.stdout()).toMatch(TOKEN_LINE);
      next.kill('SIGTERM');
      expect((await next.exited).code).toBe(0);
    } finally {
      await sql.end();
      await new Promise((resolve) => taken.close(resolve));
      await drop();
    }
  });
});

describe('a DATA_DIR that cannot be used', () => {
  test.each([
    ['under /proc, where nothing can be created', async () => '/proc/mcp-federation-nope', /cannot be used: it cannot be created there$/],
    [
      'a file',
      async () => {
        const dir = await mkdtemp(join(tmpdir(), 'data-'));
        dirs.push(dir);
        await writeFile(join(dir, 'file'), '');
        return join(dir, 'file');
      },
      /is a file, not a directory$/,
    ],
  ])('%s: exits 1 at once with one line naming it', async (_label, dataDir, reason) => {
    const path = await dataDir();
    const main = startMain({ DATA_DIR: path, PORT: '0' });
    expect((await main.exited).code).toBe(1);
    const line = refusal(main.stderr());
    expect(line).toContain(`cannot start: DATA_DIR ${path}`);
    expect(line).toMatch(reason);
  });
});
