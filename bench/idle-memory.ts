// Idle memory after `npm start`: the resident set of the server process once it
// is ready and has had nothing to do for a while, per backend. Targets: at most
// 400 MB on PGlite, 150 MB on PostgreSQL.
//
// Each run starts the command as a user would (default `npm start`, from the
// repository root) on a free port, waits for /readyz, lets it idle, and reads
// VmRSS of the server process from /proc (the node process under npm and its
// shell; npm's own process and the shell are reported apart, as `wrapperMB`)
// after each of the --idle-s marks (default 10 s and 30 s after ready), and
// VmHWM (its peak since it started) at the last one. Cases:
//   pglite-fresh   a new, empty DATA_DIR: the first start creates the database;
//   pglite-reopen  the same DATA_DIR started again (every later start);
//   postgres       DATABASE_URL on a database of the run's own on the server of
//                  TEST_DATABASE_URL (default 127.0.0.1:5432, trust auth), created
//                  here and dropped afterwards.
// The figures are medians over the runs; one JSON line on stdout.
//
// --breakdown also loads a probe into the server (NODE_OPTIONS) that reports,
// at the first idle mark, process.memoryUsage() and V8's heap spaces as they
// are, then again after a full GC, with the size of every WebAssembly memory
// still alive. The RSS of that mark is read before; later marks come after
// the forced GC, so take them from runs without --breakdown.
//
// Usage: npx tsx bench/idle-memory.ts [--runs 3] [--idle-s 10,30] [--cases pglite-fresh,pglite-reopen,postgres]
//          [--command "npm start"] [--env NAME=value ...] [--breakdown]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { configSchema } from '../src/config.js';
import { ROOT } from '../test/helpers/process.js';
import { TEST_DATABASE_URL } from '../test/helpers/services.js';
import { median } from './stats.js';

const CASES = ['pglite-fresh', 'pglite-reopen', 'postgres'] as const;
type Case = (typeof CASES)[number];

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'idle-s': { type: 'string', default: '10,30' },
    cases: { type: 'string', default: CASES.join(',') },
    command: { type: 'string', default: 'npm start' },
    env: { type: 'string', multiple: true, default: [] },
    breakdown: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const marks = values['idle-s']!.split(',').map((s) => Number(s) * 1000);
if (marks.some((ms, i) => !(ms >= 0) || (i > 0 && ms <= marks[i - 1]!))) throw new Error('--idle-s: ascending seconds, e.g. 10,30');
const cases = values.cases!.split(',') as Case[];
for (const c of cases) if (!CASES.includes(c)) throw new Error(`--cases: ${c} is not one of ${CASES.join(', ')}`);
const [command, ...commandArgs] = values.command!.split(/\s+/).filter(Boolean) as [string, ...string[]];
const extraEnv = Object.fromEntries(values.env!.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));

const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Sample {
  /** Resident set of the server process at each idle mark, and its peak since it started (MB). */
  rss: number[];
  hwm: number;
  /** npm's own process (and the shell between), when the command is npm (MB). */
  wrapper: number;
  /** From spawning the command to /readyz answering 200 (ms). */
  readyMs: number;
  breakdown?: unknown;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `VmRSS`-style fields of /proc/<pid>/status, in MB. */
function status(pid: number): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const match = /^(Vm\w+|Rss\w+):\s+(\d+) kB/.exec(line);
    if (match) fields[match[1]!] = Number(match[2]) / 1024;
  }
  return fields;
}

/** Every process below `pid`, parents before children. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may hold spaces or parentheses: the fields start after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const child of children.get(p) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/** The server: the deepest node process of the tree (npm → sh → node). */
function serverPid(root: ChildProcess): number {
  const tree = [root.pid!, ...descendants(root.pid!)];
  const nodes = tree.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('node');
    } catch {
      return false;
    }
  });
  return nodes.at(-1) ?? root.pid!;
}

// Loaded with --import into every node process of the command; acts only on SIGUSR2.
const PROBE = `
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
const memories = [];
const Memory = WebAssembly.Memory;
WebAssembly.Memory = new Proxy(Memory, { construct(target, args) { const m = new target(...args); memories.push(new WeakRef(m)); return m; } });
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async function (...args) {
  const result = await instantiate.apply(this, args);
  for (const value of Object.values((result.instance ?? result).exports)) if (value instanceof Memory) memories.push(new WeakRef(value));
  return result;
};
const mb = (n) => Math.round(n / 1048576);
const snapshot = () => ({
  usage: Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, mb(v)])),
  spaces: Object.fromEntries(v8.getHeapSpaceStatistics().filter((s) => s.space_size > 0).map((s) => [s.space_name, mb(s.space_size)])),
});
process.on('SIGUSR2', () => {
  const before = snapshot();
  v8.setFlagsFromString('--expose-gc');
  vm.runInNewContext('gc')();
  const wasm = memories.map((ref) => ref.deref()).filter(Boolean).map((m) => mb(m.buffer.byteLength));
  writeFileSync(process.env.IDLE_MEMORY_PROBE_OUT + '.' + process.pid, JSON.stringify({ before, afterGc: snapshot(), wasmMemoriesMB: wasm }));
});
`;

async function measure(env: Record<string, string>, probeFile: string | undefined): Promise<Sample> {
  const port = await freePort();
  // The app's own variables come from here only, as in test/helpers/process.ts.
  const inherited = { ...process.env };
  for (const key of Object.keys(configSchema.shape)) delete inherited[key];
  const probeOut = probeFile ? join(tmpdir(), `idle-memory-probe-${randomBytes(4).toString('hex')}`) : '';
  const started = performance.now();
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    env: {
      ...inherited,
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
      ...extraEnv,
      ...(probeFile ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${probeFile}`, IDLE_MEMORY_PROBE_OUT: probeOut } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => void (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => void (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let ended = false;
  void exited.then(() => (ended = true));
  try {
    let readyMs = Number.NaN;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline && !ended; await sleep(50)) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((res) => res.ok, () => false);
      if (ok) {
        readyMs = performance.now() - started;
        break;
      }
    }
    if (Number.isNaN(readyMs)) throw new Error(`not ready: ${command} ${commandArgs.join(' ')}\n${output}`);
    const readyAt = performance.now();
    const server = serverPid(child);
    const rss: number[] = [];
    let hwm = 0;
    let breakdown: unknown;
    for (const mark of marks) {
      await sleep(readyAt + mark - performance.now());
      const { VmRSS, VmHWM } = status(server);
      rss.push(VmRSS!);
      hwm = VmHWM!;
      if (probeFile && breakdown === undefined) {
        process.kill(server, 'SIGUSR2');
        for (let i = 0; i < 100 && breakdown === undefined; i++) {
          await sleep(100);
          breakdown = await readFile(`${probeOut}.${server}`, 'utf8').then(JSON.parse, () => undefined);
        }
        await rm(`${probeOut}.${server}`, { force: true });
      }
    }
    const wrapper = [child.pid!, ...descendants(child.pid!)]
      .filter((pid) => pid !== server)
      .reduce((sum, pid) => sum + (status(pid).VmRSS ?? 0), 0);
    return { rss, hwm, wrapper, readyMs, breakdown };
  } finally {
    // The server; the shell and npm above it exit with it.
    try {
      process.kill(serverPid(child), 'SIGTERM');
    } catch {
      // gone already
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

async function postgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `idle_memory_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const probeFile = values.breakdown ? join(tmpdir(), `idle-memory-probe-${process.pid}.mjs`) : undefined;
if (probeFile) await writeFile(probeFile, PROBE);
const samples: Record<Case, Sample[]> = { 'pglite-fresh': [], 'pglite-reopen': [], postgres: [] };
try {
  for (let run = 0; run < runs; run++) {
    if (cases.includes('pglite-fresh') || cases.includes('pglite-reopen')) {
      const dataDir = await mkdtemp(join(tmpdir(), 'idle-memory-'));
      try {
        // The reopen case needs the database the fresh start created, so it always comes first.
        const fresh = await measure({ DATA_DIR: dataDir }, probeFile);
        if (cases.includes('pglite-fresh')) samples['pglite-fresh'].push(fresh);
        if (cases.includes('pglite-reopen')) samples['pglite-reopen'].push(await measure({ DATA_DIR: dataDir }, probeFile));
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    }
    if (cases.includes('postgres')) {
      const dataDir = await mkdtemp(join(tmpdir(), 'idle-memory-'));
      const { url, drop } = await postgresDatabase();
      try {
        samples.postgres.push(await measure({ DATA_DIR: dataDir, DATABASE_URL: url }, probeFile));
      } finally {
        await drop();
        await rm(dataDir, { recursive: true, force: true });
      }
    }
  }
} finally {
  if (probeFile) await rm(probeFile, { force: true });
}

const round = (n: number) => Math.round(n);
const summary = Object.fromEntries(
  cases.map((c) => {
    const s = samples[c];
    return [
      c,
      {
        // Keyed by the idle mark: { "10s": median MB, "30s": … }.
        rssMB: Object.fromEntries(marks.map((ms, i) => [`${ms / 1000}s`, round(median(s.map((x) => x.rss[i]!)))])),
        hwmMB: round(median(s.map((x) => x.hwm))),
        wrapperMB: round(median(s.map((x) => x.wrapper))),
        readyMs: round(median(s.map((x) => x.readyMs))),
        rssRunsMB: s.map((x) => x.rss.map(round)),
        ...(values.breakdown ? { breakdown: s.map((x) => x.breakdown) } : {}),
      },
    ];
  }),
);
console.log(JSON.stringify({ command: values.command, env: extraEnv, runs, idleS: marks.map((ms) => ms / 1000), ...summary }));
