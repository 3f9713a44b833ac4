// Creating a PGlite database costs ~5 s and 0.9 GB, loading a dump under 1 s,
// so workers clone two tarballs made here: the empty database (for migrator
// tests) and the same one migrated (for everything else). The tarballs are
// cached under node_modules/.cache, keyed by everything that shapes them, so
// only the first run after a change pays for the creation.
import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/database.js';
import { MIGRATIONS_DIR } from '../src/db/migrator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Tarball of a new, empty PGlite data directory. */
    pgliteEmptyDump: string;
    /** Tarball of a PGlite data directory with every migration applied. */
    pgliteMigratedDump: string;
  }
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CACHE = join(ROOT, 'node_modules/.cache/pglite-test-template');

export default async function setup(project: TestProject): Promise<void> {
  const dir = join(CACHE, await templateKey());
  const empty = join(dir, 'empty.tar');
  const migrated = join(dir, 'migrated.tar');
  if (await exists(migrated)) {
    const now = new Date();
    await utimes(dir, now, now); // marks it in use, see the pruning below
  } else {
    await buildTemplates(dir);
  }
  project.provide('pgliteEmptyDump', empty);
  project.provide('pgliteMigratedDump', migrated);
}

/** Hash of the PGlite version, src/db and every migration: what the dumps depend on. */
async function templateKey(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readFile(join(ROOT, 'node_modules/@electric-sql/pglite/package.json')));
  const dbDir = join(ROOT, 'src/db');
  const sources = (await readdir(dbDir, { withFileTypes: true })).filter((e) => e.isFile());
  for (const file of sources.map((e) => e.name).sort()) hash.update(file).update(await readFile(join(dbDir, file)));
  const migrations = (await readdir(MIGRATIONS_DIR, { withFileTypes: true })).filter((e) => e.isDirectory());
  for (const name of migrations.map((e) => e.name).sort()) {
    hash.update(name).update(await readFile(join(MIGRATIONS_DIR, name, 'migration.sql')));
  }
  return hash.digest('hex').slice(0, 16);
}

async function buildTemplates(dir: string): Promise<void> {
  // Built aside and renamed into place, so a concurrent run never reads half a file.
  const building = `${dir}.${process.pid}.tmp`;
  await mkdir(building, { recursive: true });
  const db = await openDatabase({ kind: 'pglite' });
  try {
    const dump = async (file: string) =>
      writeFile(join(building, file), Buffer.from(await (await db.dumpDataDir!()).arrayBuffer()));
    await dump('empty.tar');
    await db.migrate();
    await dump('migrated.tar');
  } finally {
    await db.close();
  }
  // Other templates are dead weight once anything they hashed has changed, but
  // one used within the hour may belong to a run still going in another shell.
  for (const other of await readdir(CACHE)) {
    const path = join(CACHE, other);
    const info = await stat(path).catch(() => undefined); // a concurrent run may prune it first
    if (path !== building && info && info.mtimeMs < Date.now() - 3_600_000) await rm(path, { recursive: true, force: true });
  }
  await rename(building, dir).catch(async (error: NodeJS.ErrnoException) => {
    // Another run finished the same template first; theirs is as good as ours.
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    await rm(building, { recursive: true, force: true });
  });
}

const exists = (path: string) => access(path).then(() => true, () => false);
