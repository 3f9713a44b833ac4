// Creating DATA_DIR (and the folders in it) with a clear error instead of a
// stack trace or a hang: Node's recursive mkdir spins forever under /proc,
// where mkdir answers ENOENT for a parent that exists.
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export class DataDirError extends Error {
  override name = 'DataDirError';
}

const REASONS: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'a part of the path is a file, not a directory',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'the file system is read-only',
  ENOENT: 'it cannot be created there',
  ENOSPC: 'no space left on the device',
};

/** Makes `dir` and its missing parents, one level at a time; throws DataDirError naming the directory. */
export async function ensureDirectory(dir: string, what = 'DATA_DIR'): Promise<void> {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let path = target; ; path = dirname(path)) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw fail(target, what, error);
    });
    if (info) {
      if (!info.isDirectory()) throw new DataDirError(`${what} ${target} cannot be used: ${path} is a file, not a directory`);
      break;
    }
    missing.unshift(path);
    if (dirname(path) === path) break;
  }
  for (const path of missing) {
    await mkdir(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw fail(target, what, error);
    });
  }
}

function fail(target: string, what: string, error: NodeJS.ErrnoException): DataDirError {
  const reason = REASONS[error.code ?? ''] ?? error.code ?? error.message;
  return new DataDirError(`${what} ${target} cannot be used: ${reason}`);
}
