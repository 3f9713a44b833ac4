// PGlite owns its data directory for one process only; a second writer would
// corrupt it. The lock is a directory created atomically and refreshed while we
// live, so a crashed owner's lock goes stale and can be taken over.
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { ensureDirectory } from '../data-dir.js';

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

const STALE_MS = 10_000;

export async function lockDataDir(dataDir: string, onLost: (error: Error) => void): Promise<() => Promise<void>> {
  await ensureDirectory(dataDir);
  try {
    return await lockfile.lock(dataDir, {
      lockfilePath: join(dataDir, 'pglite.lock'),
      stale: STALE_MS,
      retries: 0,
      realpath: false,
      onCompromised: onLost,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new DataDirLockedError(
        `data directory ${dataDir} is in use by another process; stop it, or set DATA_DIR to another directory ` +
          `(a lock left by a crashed process expires after ${STALE_MS / 1000} s)`,
      );
    }
    throw error;
  }
}
