// src/main.ts as a child process, with its output captured for assertions.
// By default `node --import tsx src/main.ts`: no npm, no build, one Node
// process, signals straight to main.ts. With { npmStart: true }, `npm start`
// itself, exactly what a user types: the build of scripts/build.mjs, then the
// compiled bundle, signals passed on by npm.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../src/config.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface MainProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits first or after `timeoutMs`. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the base URL main.ts prints once it listens. */
  listening(timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<ChildProcess>();

/**
 * Starts src/main.ts with `env` on top of this process's environment minus every
 * variable the app reads (a CI machine's DATABASE_URL or REDIS_URL must not leak
 * into a test that means the embedded defaults).
 */
export function startMain(env: Record<string, string>, options: { npmStart?: boolean } = {}): MainProcess {
  const inherited = { ...process.env };
  for (const key of Object.keys(configSchema.shape)) delete inherited[key];
  const [command, args] = options.npmStart ? ['npm', ['start', '--silent']] : [process.execPath, ['--import', 'tsx', 'src/main.ts']];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const watch of watchers) watch();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': by then stdout and stderr have been read to the end.
    child.once('close', (code, signal) => {
      running.delete(child);
      for (const watch of watchers) watch();
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => (done = true));

  const waitForStdout = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no ${pattern} on stdout after ${timeoutMs} ms\n${describe()}`)), timeoutMs);
      const finish = (error?: Error, match?: RegExpMatchArray) => {
        clearTimeout(timer);
        watchers.delete(check);
        if (error) reject(error);
        else resolve(match!);
      };
      const check = () => {
        const match = pattern.exec(out);
        if (match) return finish(undefined, match);
        if (done || child.exitCode !== null || child.signalCode !== null) {
          finish(new Error(`the process ended before printing ${pattern}\n${describe()}`));
        }
      };
      watchers.add(check);
      check();
    });

  const describe = () => `--- stdout\n${out}--- stderr\n${err}`;

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStdout,
    listening: async (timeoutMs) => (await waitForStdout(/listening on (http:\/\/\S+)/, timeoutMs))[1]!,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  };
}

/** For afterAll: whatever a failed test left running is killed, not leaked. */
export async function killAllMain(): Promise<void> {
  const left = [...running];
  await Promise.all(
    left.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
