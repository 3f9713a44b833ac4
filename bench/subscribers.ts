// 1,000 WebSocket subscribers on one worker: time from an event's commit to
// each subscriber receiving it, median and p99, and to the last one. The
// subscribers run in a child process, so the worker's event loop serves them
// as it would real clients. Target: p99 under 100 ms on this 2-core machine.
// Usage: npx tsx bench/subscribers.ts [--subscribers 1000] [--events 20] [--backend pglite|postgres]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../test/helpers/app.js';
import { testDatabase } from '../test/helpers/db.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    events: { type: 'string', default: '20' },
    backend: { type: 'string', default: 'pglite' },
  },
});
const subscribers = Number(values.subscribers);
const events = Number(values.events);
const now = () => performance.timeOrigin + performance.now();

const database = await testDatabase(values.backend as 'pglite' | 'postgres');
const adminToken = randomBytes(24).toString('hex');
const config = loadConfig({ PORT: '0', LOG_LEVEL: 'warn', ADMIN_TOKEN: adminToken, SECRET_KEY: randomBytes(32).toString('base64'), HEALTH_CHECKS: 'false' });
const app = await createApp(config, { database, logger: silentLogger('warn'), announce: () => undefined });
const base = await app.listen();
const publish = () => app.services.events.publish(app.db.prisma, 'GATEWAY_UPDATED', null, { probe: true });

const child = spawn(process.execPath, ['--import', 'tsx', 'bench/ws-subscribers.ts', `${base.replace('http', 'ws')}/graphql`, adminToken, String(subscribers)], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
const expectLine = async (wanted: string) => {
  const { value } = await lines.next();
  if (value !== wanted) throw new Error(`expected ${wanted}, got ${value}`);
};
await expectLine('ready');
// Live when every client has received a probe (a subscription says nothing when it starts).
child.stdin!.write('probe\n');
await expectLine('probing');
let live = false;
const waiting = expectLine('live').then(() => (live = true));
while (!live) {
  await publish();
  await Promise.race([waiting, new Promise((resolve) => setTimeout(resolve, 200))]);
}
child.stdin!.write('reset\n');
await expectLine('ok');

const committed = new Map<string, number>();
for (let i = 0; i < events; i++) {
  const message = await publish(); // resolves once committed and handed to the fan-out
  committed.set(message.id, now());
  await new Promise((resolve) => setTimeout(resolve, 100));
}
await new Promise((resolve) => setTimeout(resolve, 1_000));
child.stdin!.write('stop\n');
const arrivals = JSON.parse(String((await lines.next()).value)) as Record<string, number[]>;
await app.close();

const latencies: number[] = [];
const toLast: number[] = [];
for (const [sequence, at] of committed) {
  const received = arrivals[sequence] ?? [];
  if (received.length !== subscribers) throw new Error(`event ${sequence} reached ${received.length} of ${subscribers}`);
  for (const t of received) latencies.push(t - at);
  toLast.push(Math.max(...received) - at);
}
const sorted = latencies.sort((a, b) => a - b);
const pct = (p: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1));
const last = toLast.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    backend: values.backend,
    subscribers,
    events,
    p50Ms: pct(50),
    p99Ms: pct(99),
    maxMs: pct(100),
    medianToLastMs: Number(last[Math.floor(last.length / 2)]!.toFixed(1)),
  }),
);
