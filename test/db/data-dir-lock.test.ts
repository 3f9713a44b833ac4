// PGlite's data directory must have one owner: a second writer corrupts it.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError } from '../../src/db/data-dir-lock.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { pgliteDump } from '../helpers/db.js';

const DATABASE_MODULE = new URL('../../src/db/database.ts', import.meta.url).href;

describe('PGlite data directory lock', () => {
  const opened: Database[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()));
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** An on-disk database, seeded from the template dump to skip the ~3 s initdb. */
  async function onDisk(): Promise<{ dataDir: string; db: Database }> {
    const dir = await mkdtemp(join(tmpdir(), 'pglite-lock-'));
    dirs.push(dir);
    const dataDir = join(dir, 'pglite');
    const dump = await pgliteDump('empty');
    const db = await openDatabase({ kind: 'pglite', dataDir, ...(dump ? { loadDataDir: dump } : {}) });
    opened.push(db);
    return { dataDir, db };
  }

  it('refuses a second open in this process, naming the directory, and allows it after close()', async () => {
    const { dataDir, db } = await onDisk();
    const second = await openDatabase({ kind: 'pglite', dataDir }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(DataDirLockedError);
    expect((second as Error).message).toContain(dataDir);

    // The refused attempt must not have taken the lock away from the owner.
    await expect(openDatabase({ kind: 'pglite', dataDir })).rejects.toBeInstanceOf(DataDirLockedError);
    await db.sql.query('CREATE TABLE still_mine (id int)');

    await db.close();
    const reopened = await openDatabase({ kind: 'pglite', dataDir });
    opened.push(reopened);
    expect(await reopened.sql.query('SELECT count(*)::int AS n FROM still_mine')).toEqual([{ n: 0 }]);
  });

  it('refuses another process', async () => {
    const { dataDir } = await onDisk();
    const script = `
      const { openDatabase } = await import(${JSON.stringify(DATABASE_MODULE)});
      try { await openDatabase({ kind: 'pglite', dataDir: process.argv[1] }); }
      catch (error) { console.error(error.name + ': ' + error.message); process.exit(3); }
      process.exit(0);`;
    const child = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dataDir])
      .then(() => ({ code: 0, stderr: '' }))
      .catch((error: { code: number; stderr: string }) => error);
    expect(child.code).toBe(3);
    expect(child.stderr).toContain(`DataDirLockedError: data directory ${dataDir} is in use`);
  });
});
