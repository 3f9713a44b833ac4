// Failover: two workers (src/main.ts) on PostgreSQL and Redis with the default
// lock settings; SIGKILL the leader and time until the new leader's first check
// reaches a peer, against LEADER_LOCK_TTL_MS. Target: at most TTL + one retry step.
// Usage: npx tsx bench/failover.ts [--rounds 3] [--ttl 15000] [--extend 5000] [--retry 3000]
import { parseArgs } from 'node:util';
import { deployment } from '../test/helpers/deployment.js';
import { until } from '../test/helpers/health.js';
import { startPeer } from '../test/helpers/peers.js';
import { killAllMain } from '../test/helpers/process.js';
import { TEST_REDIS_URL } from '../test/helpers/services.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    ttl: { type: 'string', default: '15000' },
    extend: { type: 'string', default: '5000' },
    retry: { type: 'string', default: '3000' },
  },
});
const ttlMs = Number(values.ttl);
const retryMs = Number(values.retry);
const rounds = Number(values.rounds);

const peer = await startPeer({ tools: 1 });
const d = await deployment({
  REDIS_URL: TEST_REDIS_URL,
  LOG_LEVEL: 'info',
  LEADER_LOCK_TTL_MS: String(ttlMs),
  LEADER_LOCK_EXTEND_MS: values.extend!,
  LEADER_RETRY_MS: String(retryMs),
  // Checks every second, so that the first check after the takeover is the new leader's first sweep.
  HEALTH_CHECK_INTERVAL_MS: '1000',
});
const failovers: number[] = [];
try {
  await d.start(2);
  await d.workers[0]!.register('peer', peer.url);
  for (let round = 0; round < rounds; round++) {
    const leader = await d.leader(ttlMs * 3);
    // The killed leader is replaced by a new worker, so that every round has a follower waiting.
    if (round > 0) await d.start(1);
    await until(() => peer.requests.methods.ping, 10_000, 'a first check');
    const killedAt = performance.now();
    leader.main.kill('SIGKILL');
    await leader.main.exited;
    const seen = peer.requests.times.length;
    await until(() => peer.requests.times.length > seen, ttlMs * 3, 'a check by the new leader');
    failovers.push(Math.round(peer.requests.times[seen]! - killedAt));
  }
} finally {
  await d.close();
  await killAllMain();
  await peer.close();
}
console.log(
  JSON.stringify({
    ttlMs,
    retryMs,
    failoversMs: failovers,
    medianMs: median(failovers),
    maxMs: Math.max(...failovers),
    targetMs: ttlMs + retryMs,
    withinTarget: failovers.every((ms) => ms <= ttlMs + retryMs),
  }),
);
