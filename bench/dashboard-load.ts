// The dashboard's page and a catalog search under load, through the API over
// HTTP, beside a bare graphql-yoga server answering the same shapes from memory
// (the floor of yoga itself), in one run. Then, one request at a time, the
// dashboard's nested page against a flat listing of the same 1,000 tools.
// Usage: npx tsx bench/dashboard-load.ts [--backend pglite|postgres] [--duration 10] [--connections 10,50]
//          [--gateways 50] [--tools-per-gateway 20] [--search stripe] [--sequential 30] [--warmup 2] [--wait-idle 0]
//          [--node-flags "<flags>"]
// Both servers run with the node flags of `npm start` (bench/start-flags.ts)
// unless --node-flags says otherwise ("" for node's defaults).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  },
});
const backend = values.backend as Backend;
const duration = Number(values.duration);
const connectionCounts = values.connections.split(',').map(Number);
const gateways = Number(values.gateways);
const perGateway = Number(values['tools-per-gateway']);
const sequential = Number(values.sequential);
const nodeFlags = values['node-flags'] !== undefined ? values['node-flags'].split(/\s+/).filter(Boolean) : startNodeFlags();
// --wait-idle S: first wait (at most S seconds) for 9 s of a CPU at least 90% idle.
const conditions = await runConditions(Number(values['wait-idle']));
const log = (message: string) => process.stderr.write(`[dashboard-load] ${message}\n`);

const PAGE = `{ gateways(first: ${gateways}) { totalCount edges { node { id name status tools(first: ${perGateway}) { totalCount edges { node { id name description } } } } } } }`;
const SEARCH = `{ tools(first: 20, filter: { search: ${JSON.stringify(values.search)} }) { totalCount edges { node { id name description } } } }`;
const FLAT = `{ tools(first: ${gateways * perGateway}) { edges { node { id name description } } } }`;

/** A child process that prints one JSON line when it is ready; it stops when its stdin ends. */
async function child<T>(script: string, ...args: string[]): Promise<{ ready: T; cpuMs: () => number; stop: () => Promise<void> }> {
  const proc: ChildProcess = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: proc.stdout! }).once('line', resolve)),
    exited.then(() => {
      throw new Error(`${script} exited before it was ready`);
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
  name: 'app' | 'bareYoga';
  url: string;
  headers: Record<string, string>;
  /** The CPU its server process has used so far. */
  cpuMs: () => number;
}

/** autocannon for `seconds`; latencies from its per-response hrtime durations (its own histogram keeps whole ms). */
function load(target: Target, query: string, connections: number, seconds: number) {
  return new Promise<{ reqPerSec: number; p50Ms: number; p99Ms: number; requests: number; non2xx: number; errors: number; timeouts: number; mismatches: number }>(
    (resolve, reject) => {
      const latencies: number[] = [];
      const instance = autocannon(
        {
          url: target.url,
          method: 'POST',
          headers: { 'content-type': 'application/json', ...target.headers },
          body: JSON.stringify({ query }),
          connections,
          duration: seconds,
          // A GraphQL error still answers 200: count those as mismatches.
          verifyBody: (body) => body.startsWith('{"data":{') && !body.includes('"errors":'),
        },
        (error, result) => {
          if (error) return reject(error);
          resolve({
            reqPerSec: round(result.requests.total / result.duration, 1),
            p50Ms: round(percentile(latencies, 50)),
            p99Ms: round(percentile(latencies, 99)),
            requests: result.requests.total,
            non2xx: result.non2xx,
            errors: result.errors,
            timeouts: result.timeouts,
            mismatches: result.mismatches,
          });
        },
      );
      instance.on('response', (_client, statusCode, _bytes, ms) => {
        if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
      });
    },
  );
}

const database = backend === 'postgres' ? await createPostgresDatabase() : undefined;
let appChild: Awaited<ReturnType<typeof child<{ url: string; token: string }>>> | undefined;
let bareChild: Awaited<ReturnType<typeof child<string>>> | undefined;
try {
  appChild = await child<{ url: string; token: string }>('bench/dashboard-app.ts', backend, String(gateways), String(perGateway), ...(database ? [database.url] : []));
  bareChild = await child<string>('bench/bare-yoga.ts', String(gateways), String(perGateway));
  const targets: Target[] = [
    { name: 'bareYoga', url: bareChild.ready, headers: {}, cpuMs: bareChild.cpuMs },
    { name: 'app', url: appChild.ready.url, headers: { authorization: `Bearer ${appChild.ready.token}` }, cpuMs: appChild.cpuMs },
  ];
  const token = appChild.ready.token;
  const ask = <T = any>(url: string, query: string, auth = token) => postGraphQL<T>(fetch, url, auth, query);

  // Both answer the same data (but for ids): compare the sizes of their answers.
  const bytes: Record<string, Record<string, number>> = {};
  for (const t of targets) {
    const page = await ask(t.url, PAGE);
    const search = await ask(t.url, SEARCH);
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
  for (const connections of connectionCounts) {
    for (const [workload, query] of Object.entries(workloads)) {
      for (const t of targets) {
        // The server's CPU per answer moves less with this machine's noise than req/s does.
        const cpuBefore = t.cpuMs();
        const result = await load(t, query, connections, duration);
        const serverCpuMsPerRequest = round((t.cpuMs() - cpuBefore) / Math.max(1, result.requests));
        runs.push({ connections, workload, target: t.name, ...result, serverCpuMsPerRequest });
        log(`c=${connections} ${workload} ${t.name}: ${result.reqPerSec} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, server CPU ${serverCpuMsPerRequest} ms a request`);
        if (result.non2xx || result.errors || result.mismatches) log(`  non2xx ${result.non2xx}, errors ${result.errors} (timeouts ${result.timeouts}, at 10 s), mismatches ${result.mismatches}`);
      }
    }
  }

  // One request at a time: the nested page against the same 1,000 tools listed flat.
  // The API caps a page (Pothos' default maximum is 100): if the flat listing comes
  // back short, the flat side is also timed as one request of aliased pages of that size.
  const app = targets[1]!.url;
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
      answerBytes: bytes,
      load: runs,
      sequential: sequentialResult,
      ...(warnings.length ? { warnings } : {}),
    }),
  );
} finally {
  await bareChild?.stop();
  await appChild?.stop();
  await database?.drop();
}
