// A child process of bench/health-sweep.ts: N real MCP peers (the SDK's server,
// Streamable HTTP, one port each), each answering initialize and ping after
// LATENCY/2 ms, so that one health check costs the peer LATENCY ms. Kept out
// of the checker's process so that its CPU time is the checker's alone.
// Prints the URLs as one JSON line, then serves until stdin closes.
import { createInterface } from 'node:readline';
import { startPeer, type TestPeer } from '../test/helpers/peers.js';

const count = Number(process.argv[2] ?? 1000);
const latencyMs = Number(process.argv[3] ?? 50);
const half = () => new Promise<void>((resolve) => setTimeout(resolve, latencyMs / 2));
const peers: TestPeer[] = [];
for (let i = 0; i < count; i++) {
  peers.push(await startPeer({ tools: 1, beforeAnswer: (method) => (method === 'initialize' || method === 'ping' ? half() : Promise.resolve()) }));
}
process.stdout.write(`${JSON.stringify(peers.map((p) => p.url))}\n`);
// Each line on stdin asks for this process's CPU time so far (µs, user + system).
createInterface({ input: process.stdin })
  .on('line', () => {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`${user + system}\n`);
  })
  .on('close', () => void Promise.all(peers.map((p) => p.close())).then(() => process.exit(0)));
