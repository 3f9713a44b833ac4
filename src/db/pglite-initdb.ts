// Creating a PGlite database (initdb) costs about 0.9 GB: PGlite runs initdb
// against a second, temporary instance, and both WebAssembly heaps grow for
// it. WebAssembly memory never shrinks, and V8 frees the dead instance only at
// some later full GC, so a server that created its database in-process kept
// 0.4–0.9 GB it never used again. A short-lived child process creates the
// database instead, and gives all of it back to the system when it exits; this
// process only ever opens an existing data directory.
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// CommonJS, so that the child needs no loader and resolves nothing itself: it
// is handed the path of the PGlite package this process uses (its CommonJS
// build; the same version and WebAssembly as the ESM one).
const CREATE = `
const { PGlite } = require(process.argv[1]);
PGlite.create({ dataDir: process.argv[2] }).then((db) => db.close()).catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});`;

/** Whether `dataDir` already holds a PostgreSQL cluster (what PGlite itself checks before running initdb). */
export async function hasCluster(dataDir: string): Promise<boolean> {
  return access(join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
}

/** Runs initdb for `dataDir` in a child process; resolves once the cluster is on disk. */
export async function initdbInChild(dataDir: string): Promise<void> {
  const pglite = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ['-e', CREATE, pglite, dataDir], { maxBuffer: 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const detail = stderr.trim().slice(0, 2000) || error.message;
      reject(new Error(`creating the PGlite database in ${dataDir} failed: ${detail}`, { cause: error }));
    });
  });
}
