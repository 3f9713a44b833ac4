// One health sweep over many peers that each take LATENCY ms to answer a check,
// at a given concurrency, against the ideal peers / concurrency x latency; and
// the checker's CPU time per check. The peers run in a child process.
// Usage: npx tsx bench/health-sweep.ts [--peers 1000] [--latency 50] [--concurrency 100] [--sweeps 6] [--backend pglite|postgres]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { EventBus } from '../src/events/event-bus.js';
import { createGatewayService } from '../src/federation/create-gateway-service.js';
import { HealthChecker } from '../src/health/health-checker.js';
import { beginTerm, HEALTH_CHECKER_ROLE, type SweepRecord } from '../src/health/leadership-store.js';
import { availableParallelism } from 'node:os';
import { SecretBox } from '../src/security/secret-box.js';
import { silentLogger } from '../test/helpers/app.js';
import { testDatabase } from '../test/helpers/db.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '1000' },
    latency: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '100' },
    sweeps: { type: 'string', default: '6' },
    backend: { type: 'string', default: 'pglite' },
  },
});
const peers = Number(values.peers);
const latencyMs = Number(values.latency);
const concurrency = Number(values.concurrency);
const sweeps = Number(values.sweeps);
const ideal = (peers / concurrency) * latencyMs;

const child = spawn(process.execPath, ['--import', 'tsx', 'bench/slow-peers.ts', String(peers), String(latencyMs)], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
const nextLine = async () => String((await lines.next()).value);
const urls: string[] = JSON.parse(await nextLine());
/** The peers' CPU time so far, in ms. */
const peersCpuMs = async () => {
  child.stdin!.write('cpu\n');
  return Number(await nextLine()) / 1000;
};

const db = await testDatabase(values.backend as 'pglite' | 'postgres');
await db.prisma.gateway.createMany({
  data: urls.map((url, i) => ({ name: `peer-${i}`, slug: `peer-${i}`, url, transport: 'STREAMABLE_HTTP' as const, catalogSyncedAt: new Date() })),
});
// Interval well above a sweep, so that sweeps neither overlap nor wait on each other.
const intervalMs = Math.max(2_000, Math.ceil(ideal * 4));
const config = loadConfig({
  HEALTH_CHECK_INTERVAL_MS: String(intervalMs),
  HEALTH_CHECK_CONCURRENCY: String(concurrency),
  HEALTH_CHECK_SPREAD_PERCENT: '0',
  HEALTH_CHECK_TIMEOUT_MS: '10000',
  PEER_TIMEOUT_MS: '10000',
});
const events = EventBus.inProcess();
const box = await SecretBox.load(randomBytes(32).toString('base64'), './data');
const logger = silentLogger();
const federation = createGatewayService(config, db.prisma, events, box, logger);
const checker = new HealthChecker({
  prisma: db.prisma,
  events,
  gateways: federation.gateways,
  peers: federation.peers,
  standingFetch: federation.http.fetch,
  box,
  logger,
  instanceId: 'bench',
  onSweep: (sweep) => finished.push({ sweep, cpu: process.cpuUsage() }),
  settings: {
    intervalMs,
    concurrency,
    timeoutMs: 10_000,
    spreadPercent: 0,
    maxBackoffMs: 600_000,
    threshold: 3,
    refreshIntervalMs: 3_600_000,
    debounceMs: 1_000,
  },
});

const finished: { sweep: SweepRecord; cpu: NodeJS.CpuUsage }[] = [];
const end = new AbortController();
const term = { number: await beginTerm(db.prisma, HEALTH_CHECKER_ROLE, 'bench', 3_600_000), since: new Date(), signal: end.signal };
const durations: number[] = [];
const cpuPerCheck: number[] = [];
const peerCpuPerCheck: number[] = [];
let lastCpu = process.cpuUsage();
let lastPeersCpu = await peersCpuMs();
checker.lead(term);
while (durations.length < sweeps) {
  // Between sweeps nothing runs but timers: a sweep's CPU is measured from the end of the previous one.
  const done = finished.shift();
  if (!done) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    continue;
  }
  const { sweep, cpu } = done;
  if (sweep.failed > 0) throw new Error(`${sweep.failed} checks failed: the machine is too loaded for this run`);
  const used = process.cpuUsage(lastCpu);
  lastCpu = cpu;
  const peersCpu = await peersCpuMs();
  durations.push(sweep.durationMs);
  if (durations.length > 1) {
    cpuPerCheck.push((used.user + used.system) / 1000 / sweep.checked);
    peerCpuPerCheck.push((peersCpu - lastPeersCpu) / sweep.checked);
  }
  lastPeersCpu = peersCpu;
}
end.abort();
await checker.termEnded(term);
await federation.close();
await events.close();
await db.close();
child.stdin!.end();

// The first sweep warms up (JIT, connection pools): it is reported, not counted.
const steady = durations.slice(1);
console.log(
  JSON.stringify({
    peers,
    latencyMs,
    concurrency,
    backend: values.backend,
    idealMs: ideal,
    firstSweepMs: durations[0],
    sweepsMs: steady,
    medianSweepMs: median(steady),
    ratio: Number((median(steady) / ideal).toFixed(2)),
    checkerCpuMsPerCheck: Number(median(cpuPerCheck).toFixed(2)),
    peersCpuMsPerCheck: Number(median(peerCpuPerCheck).toFixed(2)),
    // What the CPU alone allows on this machine: both processes' CPU for one sweep, spread over every core.
    cpuFloorMs: Math.round(((median(cpuPerCheck) + median(peerCpuPerCheck)) * peers) / availableParallelism()),
  }),
);
