// The dashboard's page and a catalog search under load, through the API over
// HTTP, beside a bare graphql-yoga server answering the same shapes from memory
// (the floor of yoga itself), in one run. Then, one request at a time, the
// dashboard's nested page against a flat listing of the same 1,000 tools.
// Usage: npx tsx bench/dashboard-load.ts [--backend pglite|postgres] [--duration 10] [--connections 10,50]
//          [--gateways 50] [--tools-per-gateway 20] [--search stripe] [--sequential 30] [--warmup 2] [--wait-idle 0]
//          [--node-flags "<flags>"] [--baseline <dir of another checkout>] [--slices 1]
// Both servers run with the node flags of `npm start` (bench/start-flags.ts)
// unless --node-flags says otherwise ("" for node's defaults).
// --baseline runs a third server, the same dashboard-app.ts from another
// checkout (an earlier commit, with its own start flags), in the same run.
// --slices N cuts each load into N slices that take turns between the servers,
// so that a machine slowing down during the run slows each of them alike.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createPostgresDatabase } from '../test/helpers/db.js';
import { postGraphQL, type Backend } from './catalog-seed.js';
import { runConditions } from './idle.js';
import { startNodeFlags } from './start-flags.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'pglite' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10,50' },
    gateways: { type: 'string', default: '50' },
    'tools-per-gateway': { type: 'string', default: '20' },
    search: { type: 'string', default: 'stripe' },
    sequential: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '2' },
    'wait-idle': { type: 'string', default: '0' },
    'node-flags': { type: 'string' },
    baseline: { type: 'string' },
    slices: { type: 'string', default: '1' },
  },
});
const backend = values.backend as Backend;
const duration = Number(values.duration);
const connectionCounts = values.connections.split(',').map(Number);
const gateways = Number(values.gateways);
const perGateway = Number(values['tools-per-gateway']);
const sequential = Number(values.sequential);
const flagsOf = (dir: string) =>
  values['node-flags'] !== undefined ? values['node-flags'].split(/\s+/).filter(Boolean) : startNodeFlags(resolvePath(dir, 'package.json'));
const nodeFlags = flagsOf('.');
const baselineDir = values.baseline ? resolvePath(values.baseline) : undefined;
const slices = Math.max(1, Number(values.slices));
// --wait-idle S: first wait (at most S seconds) for 9 s of a CPU at least 90% idle.
const conditions = await runConditions(Number(values['wait-idle']));
const log = (message: string) => process.stderr.write(`[dashboard-load] ${message}\n`);

const PAGE = `{ gateways(first: ${gateways}) { totalCount edges { node { id name status tools(first: ${perGateway}) { totalCount edges { node { id name description } } } } } } }`;
const SEARCH = `{ tools(first: 20, filter: { search: ${JSON.stringify(values.search)} }) { totalCount edges { node { id name description } } } }`;
const FLAT = `{ tools(first: ${gateways * perGateway}) { edges { node { id name description } } } }`;

/** A child process, run in `dir` with that checkout's node flags, that prints one JSON line when it is ready; it stops when its stdin ends. */
async function child<T>(dir: string, script: string, ...args: string[]): Promise<{ ready: T; cpuMs: () => number; stop: () => Promise<void> }> {
  const proc: ChildProcess = spawn(process.execPath, [...flagsOf(dir), '--import', 'tsx', script, ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: proc.stdout! }).once('line', resolve)),
    exited.then(() => {
      throw new Error(`${dir}/${script} exited before it was ready`);
    }),
  ]);
  return {
    ready: JSON.parse(line) as T,
    cpuMs: () => processCpuMs(proc.pid!),
    stop: async () => {
      proc.stdin!.end();
      await exited;
    },
  };
}

/** User and system CPU a process has used, from /proc (clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

interface Target {
  name: 'app' | 'bareYoga' | 'baseline';
  url: string;
  /** The admin token of an app; bare yoga asks for none. */
  token?: string;
  /** The CPU its server process has used so far. */
  cpuMs: () => number;
}

interface Slice {
  seconds: number;
  requests: number;
  /** Per-response hrtime durations of the 2xx answers (autocannon's own histogram keeps whole ms). */
  latencies: number[];
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  serverCpuMs: number;
}

/** autocannon against one target for `seconds`, with the CPU its server used meanwhile. */
function load(target: Target, query: string, connections: number, seconds: number) {
  return new Promise<Slice>((resolve, reject) => {
    const latencies: number[] = [];
    const cpuBefore = target.cpuMs();
    const instance = autocannon(
      {
        url: target.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(target.token ? { authorization: `Bearer ${target.token}` } : {}) },
        body: JSON.stringify({ query }),
        connections,
        duration: seconds,
        // A GraphQL error still answers 200: count those as mismatches.
        verifyBody: (body) => body.startsWith('{"data":{') && !body.includes('"errors":'),
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          seconds: result.duration,
          requests: result.requests.total,
          latencies,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          mismatches: result.mismatches,
          serverCpuMs: target.cpuMs() - cpuBefore,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, ms) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
    });
  });
}

/**
 * Waits (at most 60 s) until a server has stopped working: autocannon leaves the
 * requests in flight at the end of a load unanswered, and the server finishes
 * them anyway, which must not take CPU from the next server's slice.
 */
async function idle(target: Target) {
  for (const start = Date.now(); Date.now() - start < 60_000; ) {
    const before = target.cpuMs();
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (target.cpuMs() - before <= 30) return;
  }
}

/** One target's slices of one load as one result. */
function summarize(parts: Slice[]) {
  const sum = (pick: (s: Slice) => number) => parts.reduce((total, s) => total + pick(s), 0);
  const latencies = parts.flatMap((s) => s.latencies);
  const requests = sum((s) => s.requests);
  return {
    reqPerSec: round(requests / sum((s) => s.seconds), 1),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    requests,
    non2xx: sum((s) => s.non2xx),
    errors: sum((s) => s.errors),
    timeouts: sum((s) => s.timeouts),
    mismatches: sum((s) => s.mismatches),
    // The server's CPU per answer moves less with this machine's noise than req/s does.
    serverCpuMsPerRequest: round(sum((s) => s.serverCpuMs) / Math.max(1, requests)),
  };
}

/** The app against the baseline, slice by slice (each pair ran side by side in time): medians of the ratios, and the ratios of the totals. */
function versusBaseline(app: Slice[], baseline: Slice[]) {
  const rate = (s: Slice) => s.requests / s.seconds;
  const cpu = (s: Slice) => s.serverCpuMs / Math.max(1, s.requests);
  const a = summarize(app);
  const b = summarize(baseline);
  return {
    reqPerSec: round(a.reqPerSec / b.reqPerSec),
    reqPerSecMedianOfSlices: round(median(app.map((s, i) => rate(s) / rate(baseline[i]!)))),
    cpuPerRequest: round(b.serverCpuMsPerRequest / a.serverCpuMsPerRequest),
    cpuPerRequestMedianOfSlices: round(median(app.map((s, i) => cpu(baseline[i]!) / cpu(s)))),
  };
}

const database = backend === 'postgres' ? await createPostgresDatabase() : undefined;
const baselineDatabase = baselineDir && backend === 'postgres' ? await createPostgresDatabase() : undefined;
type AppChild = Awaited<ReturnType<typeof child<{ url: string; token: string }>>>;
let appChild: AppChild | undefined;
let baselineChild: AppChild | undefined;
let bareChild: Awaited<ReturnType<typeof child<string>>> | undefined;
try {
  const startApp = (dir: string, db?: { url: string }) =>
    child<{ url: string; token: string }>(dir, 'bench/dashboard-app.ts', backend, String(gateways), String(perGateway), ...(db ? [db.url] : []));
  appChild = await startApp('.', database);
  if (baselineDir) baselineChild = await startApp(baselineDir, baselineDatabase);
  bareChild = await child<string>('.', 'bench/bare-yoga.ts', String(gateways), String(perGateway));
  const appTarget = (name: Target['name'], c: AppChild): Target => ({
    name,
    url: c.ready.url,
    token: c.ready.token,
    cpuMs: c.cpuMs,
  });
  const targets: Target[] = [
    { name: 'bareYoga', url: bareChild.ready, cpuMs: bareChild.cpuMs },
    appTarget('app', appChild),
    ...(baselineChild ? [appTarget('baseline', baselineChild)] : []),
  ];
  const token = appChild.ready.token;
  const ask = <T = any>(url: string, query: string, auth = token) => postGraphQL<T>(fetch, url, auth, query);

  // All answer the same data (but for ids): compare the sizes of their answers.
  const bytes: Record<string, Record<string, number>> = {};
  for (const t of targets) {
    const page = await ask(t.url, PAGE, t.token);
    const search = await ask(t.url, SEARCH, t.token);
    if (page.gateways.totalCount !== gateways || page.gateways.edges[0].node.tools.totalCount !== perGateway) {
      throw new Error(`${t.name}: unexpected page ${JSON.stringify(page).slice(0, 300)}`);
    }
    bytes[t.name] = { page: JSON.stringify(page).length, search: JSON.stringify(search).length, searchTotalCount: search.tools.totalCount };
  }
  log(`answers (bytes of data): ${JSON.stringify(bytes)}`);
  // The bare server's substring match is the reference; a search that ranks by
  // similarity may legitimately match more, so this is reported, not fatal.
  const warnings: string[] = [];
  if (bytes.app!.searchTotalCount !== bytes.bareYoga!.searchTotalCount) {
    warnings.push(`search ${JSON.stringify(values.search)}: the app counts ${bytes.app!.searchTotalCount} matches, a substring match ${bytes.bareYoga!.searchTotalCount}`);
    log(`WARNING ${warnings.at(-1)}`);
  }

  const workloads = { page: PAGE, search: SEARCH } as const;
  for (const t of targets) for (const query of Object.values(workloads)) await load(t, query, 10, Number(values.warmup));
  const runs: Record<string, unknown>[] = [];
  const comparisons: Record<string, unknown>[] = [];
  for (const connections of connectionCounts) {
    for (const [workload, query] of Object.entries(workloads)) {
      const parts = new Map<Target['name'], Slice[]>(targets.map((t) => [t.name, []]));
      for (let i = 0; i < slices; i++) {
        // Every other slice in the reverse order, so that no server always follows the same one.
        for (const t of i % 2 ? [...targets].reverse() : targets) {
          parts.get(t.name)!.push(await load(t, query, connections, duration / slices));
          await idle(t);
        }
      }
      for (const t of targets) {
        const result = summarize(parts.get(t.name)!);
        runs.push({ connections, workload, target: t.name, ...result });
        log(`c=${connections} ${workload} ${t.name}: ${result.reqPerSec} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, server CPU ${result.serverCpuMsPerRequest} ms a request`);
        if (result.non2xx || result.errors || result.mismatches) log(`  non2xx ${result.non2xx}, errors ${result.errors} (timeouts ${result.timeouts}, at 10 s), mismatches ${result.mismatches}`);
      }
      if (baselineChild) {
        const ratios = versusBaseline(parts.get('app')!, parts.get('baseline')!);
        comparisons.push({ connections, workload, slices, ...ratios });
        log(`c=${connections} ${workload} app / baseline: ${JSON.stringify(ratios)}`);
      }
    }
  }

  // One request at a time: the nested page against the same 1,000 tools listed flat.
  // The API caps a page (Pothos' default maximum is 100): if the flat listing comes
  // back short, the flat side is also timed as one request of aliased pages of that size.
  const app = appChild.ready.url;
  const flatAnswer = await ask<{ tools: { edges: unknown[] } }>(app, FLAT);
  const flatNodes = flatAnswer.tools.edges.length;
  const all = gateways * perGateway;
  let paged: string | undefined;
  if (flatNodes < all) {
    const aliases: string[] = [];
    let after: string | null = null;
    for (let i = 0; i * flatNodes < all; i++) {
      aliases.push(`p${i}: tools(first: ${flatNodes}${after ? `, after: ${JSON.stringify(after)}` : ''}) { edges { node { id name description } } }`);
      const page: { tools: { pageInfo: { endCursor: string | null } } } = await ask(
        app,
        `{ tools(first: ${flatNodes}${after ? `, after: ${JSON.stringify(after)}` : ''}) { pageInfo { endCursor } } }`,
      );
      after = page.tools.pageInfo.endCursor;
    }
    paged = `{ ${aliases.join(' ')} }`;
    const answer = await ask<Record<string, { edges: unknown[] }>>(app, paged);
    const n = Object.values(answer).reduce((sum, c) => sum + c.edges.length, 0);
    if (n !== all) throw new Error(`the aliased pages hold ${n} tools, expected ${all}`);
  }
  const time = async (query: string) => {
    const start = performance.now();
    await ask(app, query);
    return performance.now() - start;
  };
  const nestedMs: number[] = [];
  const flatMs: number[] = [];
  const pagedMs: number[] = [];
  await time(PAGE);
  await time(FLAT);
  if (paged) await time(paged);
  for (let i = 0; i < sequential; i++) {
    nestedMs.push(await time(PAGE));
    flatMs.push(await time(FLAT));
    if (paged) pagedMs.push(await time(paged));
  }
  const sequentialResult = {
    requests: sequential,
    nestedMs: round(median(nestedMs)),
    flatMs: round(median(flatMs)),
    flatNodes,
    ratioNestedToFlat: round(median(nestedMs) / median(flatMs)),
    ...(paged
      ? { flatPagedMs: round(median(pagedMs)), flatPagedPages: Math.ceil(all / flatNodes), ratioNestedToFlatPaged: round(median(nestedMs) / median(pagedMs)) }
      : {}),
  };
  log(`sequential: ${JSON.stringify(sequentialResult)}`);

  console.log(
    JSON.stringify({
      backend,
      ...conditions.report(),
      gateways,
      toolsPerGateway: perGateway,
      search: values.search,
      durationS: duration,
      nodeEnv: process.env.NODE_ENV ?? 'development',
      nodeFlags,
      ...(baselineDir ? { baseline: { dir: baselineDir, nodeFlags: flagsOf(baselineDir) }, slices } : slices > 1 ? { slices } : {}),
      answerBytes: bytes,
      load: runs,
      ...(comparisons.length ? { versusBaseline: comparisons } : {}),
      sequential: sequentialResult,
      ...(warnings.length ? { warnings } : {}),
    }),
  );
} finally {
  await bareChild?.stop();
  await baselineChild?.stop();
  await appChild?.stop();
  await database?.drop();
  await baselineDatabase?.drop();
}
