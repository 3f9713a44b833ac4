// 1,000 WebSocket subscribers: time from an event's commit to each subscriber
// receiving it, median and p99, and to the last one. The subscribers run in a
// child process, so the workers' event loops serve them as they would real
// clients. Target: p99 under 100 ms on this 2-core machine.
//
// --workers 1 (default): one worker serves every subscriber; with --redis its
// fan-out goes through Redis too (a control: the Redis hop without the split).
// --workers 2: the subscribers are split evenly over two workers that share one
// PostgreSQL database and fan out through Redis (a channel prefix of this run's
// own); the event is recorded on the first, and reaches both through Redis.
//
// Where the workers run. The first (the one that records the event) is this
// process, as in the one-worker layout: the commit time is read where the
// commit happens, without instrumenting src/, and this process adds nothing
// beside it but one publish every 100 ms. The second is src/main.ts in a child
// process, started the way the tests start workers (test/helpers/process.ts).
// Not a second app in this process: both would share one event loop, so the
// second worker's 500 frames would queue behind the first's (or interleave with
// them) and the figures would describe neither one worker nor two. As processes,
// each worker has its own event loop and may have a core of its own, as in a
// deployment.
//
// Usage: npx tsx bench/subscribers.ts [--subscribers 1000] [--events 20] [--backend pglite|postgres] [--workers 1|2] [--redis]
//   --workers 2 needs PostgreSQL (TEST_DATABASE_URL, default 127.0.0.1:5432/test) and Redis (TEST_REDIS_URL, default 127.0.0.1:6379).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../test/helpers/app.js';
import { createPostgresDatabase, testDatabase } from '../test/helpers/db.js';
import { killAllMain, startMain, type MainProcess } from '../test/helpers/process.js';
import { TEST_REDIS_URL } from '../test/helpers/services.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    events: { type: 'string', default: '20' },
    backend: { type: 'string' },
    workers: { type: 'string', default: '1' },
    redis: { type: 'boolean', default: false },
  },
});
const subscribers = Number(values.subscribers);
const events = Number(values.events);
const workers = Number(values.workers);
if (workers !== 1 && workers !== 2) throw new Error('--workers is 1 or 2');
const backend = values.backend ?? (workers === 2 ? 'postgres' : 'pglite');
if (backend !== 'pglite' && backend !== 'postgres') throw new Error('--backend is pglite or postgres');
if (workers === 2 && backend !== 'postgres') throw new Error('two workers share one database: --backend postgres');
const redis = values.redis || workers === 2;
const now = () => performance.timeOrigin + performance.now();

/** CPU time (user + system, ms) a process has used so far, from Linux's /proc (clock ticks of 10 ms); NaN elsewhere. */
const cpuMsOf = (pid: number) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
};
const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1_000;
};

/** Per worker (in the order of the URLs given to ws-subscribers.ts): event sequence → arrival times. */
type Arrivals = Record<string, number[]>[];

/** Latency from each event's commit to each subscriber of `workersIn` (all by default), and to the last of them. */
function summarize(committed: Map<string, number>, arrivals: Arrivals, expected: number, workersIn = arrivals.map((_, i) => i)) {
  const latencies: number[] = [];
  const toLast: number[] = [];
  for (const [sequence, at] of committed) {
    const received = workersIn.flatMap((w) => arrivals[w]![sequence] ?? []);
    if (received.length !== expected) throw new Error(`event ${sequence} reached ${received.length} of ${expected}`);
    for (const t of received) latencies.push(t - at);
    toLast.push(Math.max(...received) - at);
  }
  const sorted = latencies.sort((a, b) => a - b);
  const pct = (p: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1));
  return { p50Ms: pct(50), p99Ms: pct(99), maxMs: pct(100), medianToLastMs: Number(median(toLast).toFixed(1)) };
}

const adminToken = randomBytes(24).toString('hex');
const secretKey = randomBytes(32).toString('base64');
// PostgreSQL: a fresh database on the test server, which the second worker opens by URL.
const postgres = backend === 'postgres' ? await createPostgresDatabase() : undefined;
const shared: Record<string, string> = {
  PORT: '0',
  LOG_LEVEL: 'warn',
  ADMIN_TOKEN: adminToken,
  SECRET_KEY: secretKey,
  HEALTH_CHECKS: 'false',
  ...(postgres ? { DATABASE_URL: postgres.url } : {}),
  ...(redis ? { REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: `bench-subscribers-${randomUUID()}` } : {}),
};
let other: MainProcess | undefined;
let child: ReturnType<typeof spawn> | undefined;
let app: Awaited<ReturnType<typeof createApp>> | undefined;
try {
  app = await createApp(loadConfig(shared), {
    ...(postgres ? {} : { database: await testDatabase('pglite') }),
    logger: silentLogger('warn'),
    announce: () => undefined,
  });
  const publisher = app;
  const urls = [await app.listen()];
  if (workers === 2) {
    other = startMain(shared);
    urls.push(await other.listening(60_000));
  }
  const publish = () => publisher.services.events.publish(publisher.db.prisma, 'GATEWAY_UPDATED', null, { probe: true });

  child = spawn(process.execPath, ['--import', 'tsx', 'bench/ws-subscribers.ts', urls.map((url) => `${url.replace('http', 'ws')}/graphql`).join(','), adminToken, String(subscribers)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const input = child.stdin!;
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const expectLine = async (wanted: string) => {
    const { value } = await lines.next();
    if (value !== wanted) throw new Error(`expected ${wanted}, got ${value}`);
  };
  await expectLine('ready');
  // Live when every client has received a probe (a subscription says nothing when it starts).
  input.write('probe\n');
  await expectLine('probing');
  let live = false;
  const waiting = expectLine('live').then(() => (live = true));
  waiting.catch(() => undefined); // awaited below; a failure meanwhile (say, of a publish) must not end the run unexplained
  while (!live) {
    await publish();
    await Promise.race([waiting, new Promise((resolve) => setTimeout(resolve, 200))]);
  }
  input.write('reset\n');
  await expectLine('ok');

  // CPU of each process over the measured events: which one the cores are busy with.
  const cpu = () => ({ recordingWorker: ownCpuMs(), ...(other ? { otherWorker: cpuMsOf(other.child.pid!) } : {}), subscribers: cpuMsOf(child!.pid!) });
  const cpuBefore = cpu();
  const committed = new Map<string, number>();
  for (let i = 0; i < events; i++) {
    const message = await publish(); // resolves once committed and handed to the fan-out (or to Redis)
    committed.set(message.id, now());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const cpuAfter = cpu();
  input.write('stop\n');
  const arrivals = JSON.parse(String((await lines.next()).value)) as Arrivals;

  // ws-subscribers.ts deals the clients out round-robin: worker w has every urls.length-th one from w.
  const on = (w: number) => Math.ceil((subscribers - w) / urls.length);
  console.log(
    JSON.stringify({
      backend,
      workers,
      redis,
      subscribers,
      events,
      ...summarize(committed, arrivals, subscribers),
      ...(workers === 2
        ? {
            recordingWorker: { subscribers: on(0), ...summarize(committed, arrivals, on(0), [0]) },
            otherWorker: { subscribers: on(1), ...summarize(committed, arrivals, on(1), [1]) },
          }
        : {}),
      // Per event: CPU ms of each process (this process is the recording worker; it also runs this loop, a trifle).
      cpuMsPerEvent: Object.fromEntries(Object.entries(cpuAfter).map(([name, ms]) => [name, Number(((ms - cpuBefore[name as keyof typeof cpuBefore]!) / events).toFixed(1))])),
    }),
  );
} finally {
  child?.kill();
  if (other) {
    other.kill('SIGTERM');
    const killer = setTimeout(() => other?.kill('SIGKILL'), 10_000);
    await other.exited;
    clearTimeout(killer);
  }
  await killAllMain();
  await app?.close();
  await postgres?.drop();
}
